package sqlite_test

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

func TestRequestRoundTrip(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		full := &simulator.RequestRecord{
			Time:         time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC),
			MchID:        "1230000109",
			Method:       "POST",
			Target:       "/v3/payscore/serviceorder?x=1",
			RequestBody:  `{"out_order_no":"1234323JKHDFE1243252"}`,
			Status:       400,
			Code:         simulator.CodeParamError,
			Message:      "参数错误",
			ResponseBody: `{"code":"PARAM_ERROR"}`,
			Diagnostic:   map[string]any{"field": "appid", "n": 1.5, "list": []any{"a", true, nil}, "obj": map[string]any{}},
			Warnings:     []string{"notify_url uses http"},
			Duration:     1234567 * time.Nanosecond,
			Fault:        &simulator.InjectedFault{RuleID: "fault_0123456789abcdef", Fault: simulator.FaultReset},
		}
		empty := &simulator.RequestRecord{
			Time: full.Time.Add(time.Second), Method: "GET", Target: "/",
			Diagnostic: map[string]any{}, Warnings: []string{},
		}
		minimal := &simulator.RequestRecord{Time: full.Time.Add(2 * time.Second), Method: "GET", Target: "/"}
		for _, r := range []*simulator.RequestRecord{full, empty, minimal} {
			if err := db.LogRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
		}
		if !(full.ID > 0 && empty.ID > full.ID && minimal.ID > empty.ID) {
			t.Fatalf("IDs %d, %d, %d: want positive and increasing", full.ID, empty.ID, minimal.ID)
		}

		got, err := db.ListRequests(ctx, simulator.RequestFilter{})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 {
			t.Fatalf("%d records, want 3", len(got))
		}
		for i, want := range []*simulator.RequestRecord{minimal, empty, full} {
			g := *got[i]
			if !g.Time.Equal(want.Time) {
				t.Errorf("record %d: time %v, want %v", want.ID, g.Time, want.Time)
			}
			g.Time = want.Time
			if !reflect.DeepEqual(&g, want) {
				t.Errorf("record changed:\n got %#v\nwant %#v", g, *want)
			}
		}
	})
}

func TestListRequestsFiltersAndOrder(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		log := func(mchid string, status int, at time.Duration) int64 {
			r := &simulator.RequestRecord{Time: base.Add(at), MchID: mchid, Method: "GET", Target: "/", Status: status}
			if err := db.LogRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		a := log("m1", 200, 1*time.Second)
		b := log("m1", 400, 3*time.Second)
		c := log("m2", 500, 2*time.Second)
		d := log("", 401, 2*time.Second) // same time as c, logged later
		e := log("m2", 399, 4*time.Second)
		f := log("m1", 404, 0) // logged last, but the oldest

		for _, tc := range []struct {
			f    simulator.RequestFilter
			want []int64
		}{
			{simulator.RequestFilter{}, []int64{e, b, d, c, a, f}},
			{simulator.RequestFilter{MchID: "m1"}, []int64{b, a, f}},
			{simulator.RequestFilter{Failed: true}, []int64{b, d, c, f}},
			{simulator.RequestFilter{MchID: "m2", Failed: true}, []int64{c}},
			{simulator.RequestFilter{MchID: "m3"}, nil},
			{simulator.RequestFilter{Failed: true, Limit: 2}, []int64{b, d}},
		} {
			records, err := db.ListRequests(ctx, tc.f)
			if err != nil {
				t.Fatal(err)
			}
			var got []int64
			for _, r := range records {
				got = append(got, r.ID)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ListRequests(%+v) = %v, want %v", tc.f, got, tc.want)
			}
		}
	})
}

// Concurrent calls' records are committed together: each still gets its own ID, and the log
// holds every one of them once its call returns.
func TestLogRequestConcurrent(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		const callers, each = 16, 25
		var wg sync.WaitGroup
		ids := make([][]int64, callers)
		for g := range callers {
			wg.Go(func() {
				for i := range each {
					r := &simulator.RequestRecord{Time: time.Now(), MchID: "m", Method: "POST", Target: fmt.Sprintf("/%d/%d", g, i)}
					if err := db.LogRequest(ctx, r); err != nil {
						t.Error(err)
						return
					}
					// The record is there as soon as its call returns.
					got, err := db.ListRequests(ctx, simulator.RequestFilter{MchID: "m", Limit: 1000})
					if err != nil {
						t.Error(err)
						return
					}
					if !slices.ContainsFunc(got, func(l *simulator.RequestRecord) bool { return l.ID == r.ID && l.Target == r.Target }) {
						t.Errorf("record %d (%s) is not in the log once logged", r.ID, r.Target)
					}
					ids[g] = append(ids[g], r.ID)
				}
			})
		}
		wg.Wait()

		got, err := db.ListRequests(ctx, simulator.RequestFilter{Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		target := map[int64]string{}
		for _, r := range got {
			target[r.ID] = r.Target
		}
		if len(got) != callers*each || len(target) != callers*each {
			t.Fatalf("%d records with %d IDs, want %d", len(got), len(target), callers*each)
		}
		for g := range callers {
			for i, id := range ids[g] {
				if want := fmt.Sprintf("/%d/%d", g, i); target[id] != want {
					t.Errorf("record %d has target %q, want %q", id, target[id], want)
				}
			}
		}
	})
}
