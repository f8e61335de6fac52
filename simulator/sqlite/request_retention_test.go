package sqlite_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// retentionLog logs n records of about size bytes each, one second apart, and returns them.
func retentionLog(t *testing.T, db *sqlite.DB, n, size int) []*simulator.RequestRecord {
	t.Helper()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	var out []*simulator.RequestRecord
	for i := range n {
		r := &simulator.RequestRecord{Time: start.Add(time.Duration(i) * time.Second), Method: "POST",
			Target: fmt.Sprintf("/v3/payscore/serviceorder?n=%d", i), RequestBody: strings.Repeat("x", size), Status: 401}
		if err := db.LogRequest(t.Context(), r); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// retentionAll lists the whole log, page by page, newest first.
func retentionAll(t *testing.T, db *sqlite.DB) []*simulator.RequestRecord {
	t.Helper()
	var all []*simulator.RequestRecord
	var before int64
	for {
		page, err := db.ListRequests(t.Context(), simulator.RequestFilter{BeforeID: before, Limit: 7})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			return all
		}
		all = append(all, page...)
		before = page[len(page)-1].ID
	}
}

// TestRequestRetention: the log keeps at most its rows and bytes, always the newest records,
// and pages through them in order.
func TestRequestRetention(t *testing.T) {
	for _, tc := range []struct {
		name      string
		retention simulator.RequestRetention
		n, size   int
		maxKept   int
	}{
		{"rows", simulator.RequestRetention{Rows: 50}, 200, 10, 50},
		{"bytes", simulator.RequestRetention{Bytes: 100 << 10}, 200, 10 << 10, 10},
		{"one row", simulator.RequestRetention{Rows: 1}, 20, 10, 1},
		{"records larger than the bound", simulator.RequestRetention{Bytes: 1 << 10}, 20, 4 << 10, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDB(t, func(t *testing.T, db *sqlite.DB) {
				db.SetRequestRetention(tc.retention)
				logged := retentionLog(t, db, tc.n, tc.size)
				kept := retentionAll(t, db)
				if len(kept) == 0 || len(kept) > tc.maxKept {
					t.Fatalf("%d records kept of %d, want 1 to %d", len(kept), tc.n, tc.maxKept)
				}
				for i, r := range kept {
					if want := logged[len(logged)-1-i]; r.ID != want.ID {
						t.Fatalf("record %d of the listing is %d, want %d: the newest are kept, newest first", i, r.ID, want.ID)
					}
				}
			})
		})
	}
}

// TestRequestListMaxBytes: a listing stops once its records hold MaxBytes, always with at
// least one record.
func TestRequestListMaxBytes(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		retentionLog(t, db, 20, 10<<10)
		for _, tc := range []struct {
			max  int64
			want int
		}{{1, 1}, {25 << 10, 3}, {1 << 30, 20}} {
			got, err := db.ListRequests(t.Context(), simulator.RequestFilter{MaxBytes: tc.max})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.want {
				t.Errorf("MaxBytes %d: %d records, want %d", tc.max, len(got), tc.want)
			}
		}
	})
}
