package sqlite_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// TestListOrdersBefore pages through orders of which several share a created_at: each page
// starts after the previous one's last order, by created_at then rowid, so every order comes
// once, newest first, whatever the ties; an order_id that names no order lists nothing.
func TestListOrdersBefore(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		var orders []*simulator.Order
		for i := range 7 {
			o := fullOrder("m1", fmt.Sprintf("PAGE-%d", i))
			o.OrderID, o.Sim.Package = fmt.Sprintf("order-%d", i), fmt.Sprintf("package-%d", i)
			o.Sim.CreatedAt = start.Add(time.Duration(i/3) * time.Second) // three, three, one
			orders = append(orders, o)
		}
		if err := db.ImportOrders(t.Context(), orders); err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for i := len(orders) - 1; i >= 0; i-- {
			want = append(want, orders[i].OrderID)
		}
		before := ""
		for range len(orders) + 1 {
			page, err := db.ListOrders(t.Context(), simulator.OrderFilter{MchID: "m1", Before: before, Limit: 2})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			for _, o := range page {
				got = append(got, o.OrderID)
			}
			before = page[len(page)-1].OrderID
		}
		if !slices.Equal(got, want) {
			t.Errorf("pages list %v, want %v", got, want)
		}
		if page, err := db.ListOrders(t.Context(), simulator.OrderFilter{Before: "no-such-order"}); err != nil || len(page) != 0 {
			t.Errorf("before an unknown order: %d orders, %v; want none", len(page), err)
		}
	})
}
