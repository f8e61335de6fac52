package sqlite_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// Concurrent creates and request-log records are committed together; a create that clashes
// on order_id fails alone, and every other write is stored once its call returns.
func TestConcurrentWritesCommitTogether(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		if _, _, err := db.CreateOrder(ctx, fullOrder("m1", "first")); err != nil {
			t.Fatal(err)
		}
		const n = 60
		var (
			wg      sync.WaitGroup
			mu      sync.Mutex
			created = map[string]bool{}
		)
		for i := range n {
			wg.Go(func() {
				no := fmt.Sprint("o", i)
				o := fullOrder("m1", no)
				o.Sim.Package = "pkg-" + no
				clash := i%3 == 0
				if clash {
					o.OrderID = fullOrder("m1", "first").OrderID
				}
				_, ok, err := db.CreateOrder(ctx, o)
				if clash != (err != nil) || ok == clash {
					t.Errorf("create %s (clash %v): created %v, err %v", no, clash, ok, err)
				}
				if ok {
					if _, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: no}); err != nil {
						t.Errorf("order %s is not stored once created: %v", no, err)
					}
				}
				r := &simulator.RequestRecord{Time: time.Now(), MchID: "m1", Method: "POST", Target: "/" + no}
				if err := db.LogRequest(ctx, r); err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				created[no] = ok
			})
		}
		wg.Wait()

		orders, err := db.ListOrders(ctx, simulator.OrderFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		stored := 0
		for _, o := range orders {
			if o.OutOrderNo != "first" && !created[o.OutOrderNo] {
				t.Errorf("order %s is stored, but its create failed", o.OutOrderNo)
			}
			stored++
		}
		if want := 1 + n - n/3; stored != want {
			t.Errorf("%d orders stored, want %d", stored, want)
		}
		records, err := db.ListRequests(ctx, simulator.RequestFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(records) != n {
			t.Errorf("%d requests logged, want %d", len(records), n)
		}
	})
}
