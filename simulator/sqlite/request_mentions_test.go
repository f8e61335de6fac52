package sqlite_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// TestListRequestsMentions checks RequestFilter.Mentions: a request matches when its target or
// its body contains one of the strings, and the other filters still apply.
func TestListRequestsMentions(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		n := 0
		log := func(mchid, target, body string, status int) int64 {
			n++
			r := &simulator.RequestRecord{Time: base.Add(time.Duration(n) * time.Second), MchID: mchid,
				Method: "POST", Target: target, RequestBody: body, Status: status}
			if err := db.LogRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r.ID
		}
		create := log("m1", "/v3/payscore/serviceorder", `{"out_order_no":"NO-1"}`, 200)
		complete := log("m1", "/v3/payscore/serviceorder/NO-1/complete", `{"appid":"wx1"}`, 400)
		query := log("m1", "/v3/payscore/serviceorder?query_id=QID-1&appid=wx1", "", 200)
		escaped := log("m1", "/v3/payscore/serviceorder/NO%7C2/cancel", `{"reason":"x"}`, 200)
		other := log("m2", "/v3/payscore/serviceorder/NO-1/cancel", `{}`, 200)
		log("m1", "/v3/payscore/serviceorder/NO-3/cancel", `{}`, 200)

		for _, tc := range []struct {
			f    simulator.RequestFilter
			want []int64
		}{
			{simulator.RequestFilter{MchID: "m1", Mentions: []string{"NO-1"}}, []int64{complete, create}},
			{simulator.RequestFilter{Mentions: []string{"NO-1"}}, []int64{other, complete, create}},
			{simulator.RequestFilter{MchID: "m1", Mentions: []string{"NO-1", "QID-1"}}, []int64{query, complete, create}},
			{simulator.RequestFilter{MchID: "m1", Mentions: []string{"NO-1"}, Failed: true}, []int64{complete}},
			{simulator.RequestFilter{Mentions: []string{"NO%7C2"}}, []int64{escaped}},
			{simulator.RequestFilter{Mentions: []string{"NO|2"}}, nil},
			{simulator.RequestFilter{MchID: "m1", Mentions: []string{"NO-1"}, Limit: 1}, []int64{complete}},
			// An empty string would match everything; it is ignored instead.
			{simulator.RequestFilter{MchID: "m2", Mentions: []string{""}}, []int64{other}},
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
