package sqlite_test

import (
	"fmt"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

func TestImportOrders(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		var orders []*simulator.Order
		for i := range 3 {
			orders = append(orders, fullOrder("m1", fmt.Sprintf("IMP-%d", i)))
		}
		if err := db.ImportOrders(t.Context(), orders); err != nil {
			t.Fatal(err)
		}
		for _, want := range orders {
			got, err := db.FindOrder(t.Context(), "m1", simulator.OrderKey{OutOrderNo: want.OutOrderNo})
			if err != nil {
				t.Fatal(err)
			}
			assertSameOrder(t, got, want)
		}
		// One order already there fails the whole import, which then stores nothing.
		again := []*simulator.Order{fullOrder("m1", "IMP-NEW"), fullOrder("m1", "IMP-0")}
		again[1].OrderID, again[1].Sim.Package = "other-id", "other-package"
		if err := db.ImportOrders(t.Context(), again); err == nil {
			t.Fatal("import of an existing out_order_no succeeded")
		}
		if _, err := db.FindOrder(t.Context(), "m1", simulator.OrderKey{OutOrderNo: "IMP-NEW"}); simulator.ErrorCode(err) != simulator.CodeOrderNotExist {
			t.Fatalf("order of the failed import: err = %v, want ORDER_NOT_EXIST", err)
		}
	})
}
