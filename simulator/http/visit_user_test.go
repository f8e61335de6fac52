package http_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestVisitUserChoices drives the user's choices beyond confirm through the control API: a
// decline and a return from the 暂不满足 page hand back a query_id that resolves to an order
// still CREATED (and without a user), the phone's back button hands back nothing, and a visit
// invoked from another appid is refused with 4108.
func TestVisitUserChoices(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	c := sim.DemoClient(t)
	open := func(t *testing.T, no string, extra map[string]any) string {
		t.Helper()
		body := map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, c, no)}}
		for k, v := range extra {
			body[k] = v
		}
		st, v := visitPost(t, sim, "/sim/v1/visits", body)
		if st != http.StatusCreated {
			t.Fatalf("open: %d %v", st, v)
		}
		return v["visit_id"].(string)
	}
	queryByID := func(t *testing.T, queryID string) map[string]any {
		t.Helper()
		resp, err := c.Do(t.Context(), http.MethodGet, "/v3/payscore/serviceorder?"+url.Values{
			"query_id": {queryID}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID}}.Encode(), nil)
		var o map[string]any
		if err != nil || resp.Status != http.StatusOK || resp.Decode(&o) != nil {
			t.Fatalf("query by query_id: %v %+v", err, resp)
		}
		return o
	}
	for _, tc := range []struct {
		name  string
		steps []string
	}{
		{"decline", []string{"decline"}},
		{"not eligible, then return", []string{"not_eligible", "return"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id := open(t, "choice-"+tc.steps[0], nil)
			var last map[string]any
			for _, step := range tc.steps {
				st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/"+step, nil)
				if st != http.StatusOK {
					t.Fatalf("%s: %d %v", step, st, v)
				}
				last = v
			}
			queryID, _ := lifeDig(last, "referrerInfo", "extraData", "query_id").(string)
			if last["scene"] != float64(simulator.SceneFromMiniProgram) || queryID == "" {
				t.Fatalf("App.onShow after %v: %v, want scene 1038 with a query_id", tc.steps, last)
			}
			o := queryByID(t, queryID)
			if _, has := o["openid"]; o["state"] != "CREATED" || has {
				t.Errorf("the order after %v: state %v, openid %v; want CREATED without a user", tc.steps, o["state"], o["openid"])
			}
			if cb := lifeGetVisit(t, sim, id)["h5Callback"]; lifeDig(cb, "err_code") != float64(0) || lifeDig(cb, "extraData", "query_id") != queryID {
				t.Errorf("H5 callback %v, want err_code 0 with the query_id", cb)
			}
		})
	}

	t.Run("android back", func(t *testing.T) {
		id := open(t, "choice-android", nil)
		st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/android_back", nil)
		if st != http.StatusOK || v["scene"] != float64(1038) || lifeDig(v, "referrerInfo", "extraData") != nil {
			t.Fatalf("android_back: %d %v, want App.onShow without extraData", st, v)
		}
		if got := lifeGetVisit(t, sim, id); got["outcome"] != "android_back" || lifeDig(got, "h5Callback", "err_code") != float64(1) {
			t.Errorf("visit after android_back: outcome %v, h5Callback %v", got["outcome"], got["h5Callback"])
		}
	})

	t.Run("openid given at confirm", func(t *testing.T) {
		id := open(t, "choice-openid", map[string]any{"openid": "oUpF8uOpenedAs000000000000"})
		st, v := visitPost(t, sim, "/sim/v1/visits/"+id+"/confirm", map[string]any{"openid": "oUpF8uConfirmedAs0000000000"})
		if st != http.StatusOK || v["openid"] != "oUpF8uConfirmedAs0000000000" || lifeDig(v, "order", "openid") != "oUpF8uConfirmedAs0000000000" {
			t.Fatalf("confirm as another user: %d %v", st, v)
		}
		st, v = visitPost(t, sim, "/sim/v1/visits/"+id+"/confirm", map[string]any{"openid": "bad openid"})
		if st != http.StatusBadRequest || v["code"] != "PARAM_ERROR" {
			t.Errorf("confirm as a malformed openid: %d %v, want 400 PARAM_ERROR", st, v)
		}
	})

	t.Run("the default user authorizes and confirms as one openid", func(t *testing.T) {
		enable := visitOpenEnable(t, sim, c, "CHOICE-AUTH")
		st, authorized := visitPost(t, sim, "/sim/v1/visits/"+enable["visit_id"].(string)+"/authorize", nil)
		if st != http.StatusOK {
			t.Fatalf("authorize: %d %v", st, authorized)
		}
		id := open(t, "choice-same-user", nil)
		st, confirmed := visitPost(t, sim, "/sim/v1/visits/"+id+"/confirm", nil)
		want := simulator.DefaultOpenID(fixtures.DemoAppID)
		if st != http.StatusOK || authorized["openid"] != want || lifeDig(confirmed, "order", "openid") != want {
			t.Errorf("authorized as %v, confirmed as %v; want both the default user %s of the appid", authorized["openid"], lifeDig(confirmed, "order", "openid"), want)
		}
	})

	t.Run("4108", func(t *testing.T) {
		st, v := visitPost(t, sim, "/sim/v1/visits", map[string]any{
			"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": visitCreate(t, c, "choice-4108")},
			"invoker_appid": "wx1234567890abcdef",
		})
		if st != http.StatusBadRequest || v["code"] != "INVALID_REQUEST" || lifeDig(v, "detail", "err_code") != float64(4108) {
			t.Fatalf("open from another appid: %d %v, want 400 INVALID_REQUEST with err_code 4108", st, v)
		}
	})

	t.Run("the page's link names the user", func(t *testing.T) {
		pkg := visitCreate(t, c, "choice-link")
		link := sim.URL + "/sim/open?" + url.Values{"businessType": {"wxpayScoreUse"}, "extraData": {`{"package":"` + pkg + `"}`},
			"openid": {"oUpF8uFromTheLink0000000000"}, "invoker_appid": {fixtures.DemoAppID}}.Encode()
		resp, body := pageGet(t, http.MethodGet, link)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("GET /sim/open: %d %s, want 303 to the visit's page", resp.StatusCode, body)
		}
		_, body = pageGet(t, http.MethodGet, sim.URL+"/sim/v1/visits?out_order_no=choice-link")
		var list struct{ Data []map[string]any }
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Data) != 1 ||
			list.Data[0]["openid"] != "oUpF8uFromTheLink0000000000" || list.Data[0]["invoker_appid"] != fixtures.DemoAppID {
			t.Errorf("the link's visit: %s (%v)", body, err)
		}
	})
}
