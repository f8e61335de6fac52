package http_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// TestMerchantIsolation: another merchant's valid credentials reach none of the demo
// merchant's orders (by out_order_no or by query_id) or permissions, on any endpoint, and
// each answer says it does not exist rather than what it is.
func TestMerchantIsolation(t *testing.T) {
	t.Parallel()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo, intruder := sim.DemoClient(t), sim.Client(t, other.MchID, fixtures.OtherMerchantSerial, key)
	ctx := context.Background()

	// The demo merchant's world: a confirmed order with a query_id, and an authorized user.
	queryID := sim.UserConfirms(t, visitCreate(t, demo, "ISO-ORDER"))
	if st, v := visitPost(t, sim, "/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": "oUpF8uISOLATIONuser000000000", "authorization_code": "ISO-AUTH",
	}); st != http.StatusOK {
		t.Fatalf("authorize: %d %v", st, v)
	}

	own := "&service_id=" + fixtures.OtherServiceID + "&appid=" + fixtures.OtherAppID
	ref := map[string]any{"appid": fixtures.OtherAppID, "service_id": fixtures.OtherServiceID}
	with := func(extra map[string]any) map[string]any {
		b := map[string]any{}
		for k, v := range ref {
			b[k] = v
		}
		for k, v := range extra {
			b[k] = v
		}
		return b
	}
	end := "20991231235959"
	cases := []struct {
		name, method, target string
		body                 any
	}{
		{"query by out_order_no", http.MethodGet, "/v3/payscore/serviceorder?out_order_no=ISO-ORDER" + own, nil},
		{"query by query_id", http.MethodGet, "/v3/payscore/serviceorder?query_id=" + queryID + own, nil},
		{"cancel", http.MethodPost, "/v3/payscore/serviceorder/ISO-ORDER/cancel", with(map[string]any{"reason": "intrusion"})},
		{"complete", http.MethodPost, "/v3/payscore/serviceorder/ISO-ORDER/complete", with(map[string]any{
			"post_payments": []map[string]any{{"name": "x", "amount": 1}}, "total_amount": 1, "time_range": map[string]any{"end_time": end}})},
		{"modify", http.MethodPost, "/v3/payscore/serviceorder/ISO-ORDER/modify", with(map[string]any{
			"post_payments": []map[string]any{{"name": "x", "amount": 1}}, "total_amount": 1, "reason": "intrusion"})},
		{"pay", http.MethodPost, "/v3/payscore/serviceorder/ISO-ORDER/pay", ref},
		{"sync", http.MethodPost, "/v3/payscore/serviceorder/ISO-ORDER/sync", with(map[string]any{"type": "Order_Paid", "detail": map[string]any{"paid_time": "20260101120000"}})},
		{"permission by authorization_code", http.MethodGet, "/v3/payscore/permissions/authorization-code/ISO-AUTH?service_id=" + fixtures.OtherServiceID, nil},
		{"terminate by authorization_code", http.MethodPost, "/v3/payscore/permissions/authorization-code/ISO-AUTH/terminate", map[string]any{"service_id": fixtures.OtherServiceID, "reason": "intrusion"}},
		{"permission by openid", http.MethodGet, "/v3/payscore/permissions/openid/oUpF8uISOLATIONuser000000000?appid=" + fixtures.OtherAppID + "&service_id=" + fixtures.OtherServiceID, nil},
		{"terminate by openid", http.MethodPost, "/v3/payscore/permissions/openid/oUpF8uISOLATIONuser000000000/terminate", with(map[string]any{"reason": "intrusion"})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := intruder.Do(ctx, tc.method, tc.target, tc.body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status != http.StatusNotFound || resp.Err().Code != simulator.CodeOrderNotExist {
				t.Fatalf("%s %s as merchant %s: %d %s, want 404 ORDER_NOT_EXIST", tc.method, tc.target, other.MchID, resp.Status, resp.Body)
			}
		})
	}

	// And nothing changed for the demo merchant.
	if o := clockOrder(t, demo, "ISO-ORDER"); o["state"] != "DOING" || o["state_description"] != "USER_CONFIRM" {
		t.Fatalf("the demo merchant's order changed: %v", o)
	}
	resp, err := demo.Do(ctx, http.MethodGet, "/v3/payscore/permissions/authorization-code/ISO-AUTH?service_id="+fixtures.DemoServiceID, nil)
	var p struct {
		State string `json:"authorization_state"`
	}
	if err != nil || resp.Decode(&p) != nil || p.State != "AVAILABLE" {
		t.Fatalf("the demo merchant's permission changed: %v %s", err, resp.Body)
	}
}
