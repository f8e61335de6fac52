package sqlite_test

import (
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// The lists the simulator runs on its own (the deductions' runner, every second at least, and
// the expiry of unconfirmed orders) read their orders by their index, not every order.
func TestListOrdersUsesItsIndex(t *testing.T) {
	t.Parallel()
	db, _ := openFile(t)
	now := time.Now()
	for _, tc := range []struct {
		f     simulator.OrderFilter
		index string
	}{
		{simulator.OrderFilter{DeductionDueBy: now, Limit: 100}, "orders_deduct_at"},
		{simulator.OrderFilter{State: simulator.StateCreated, CreatedBefore: now, Limit: 1000}, "orders_state_created_at"},
		{simulator.OrderFilter{MchID: "m1"}, "orders_mchid_created_at"},
	} {
		query, args := sqlite.OrdersQuery(tc.f)
		rows, err := db.SQL().QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(plan, "; "); !strings.Contains(got, "SEARCH orders USING INDEX "+tc.index) {
			t.Errorf("ListOrders(%+v) runs %q, want a search of %s", tc.f, got, tc.index)
		}
	}
}
