package http_test

// Tests of POST /sim/v1/reset, the reset of a long-lived simulator shared by many tests.
// Package-level names in this file start with reset.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// resetMerchant is a merchant of the test with its client.
type resetMerchant struct {
	mchid, appid, serviceID string
	c                       *client.Client
}

func resetMerchants(t *testing.T) (*simtest.Sim, resetMerchant, resetMerchant) {
	t.Helper()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	key, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return sim,
		resetMerchant{fixtures.DemoMchID, fixtures.DemoAppID, fixtures.DemoServiceID, sim.DemoClient(t)},
		resetMerchant{fixtures.OtherMchID, fixtures.OtherAppID, fixtures.OtherServiceID, sim.Client(t, fixtures.OtherMchID, fixtures.OtherMerchantSerial, key)}
}

// resetCall sends a signed APIv3 request and decodes a 200 answer into out.
func resetCall(t *testing.T, m resetMerchant, method, target string, body, out any) {
	t.Helper()
	resp, err := m.c.Do(context.Background(), method, target, body)
	if err != nil {
		t.Fatalf("%s %s as %s: %v", method, target, m.mchid, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("%s %s as %s: HTTP %d %s", method, target, m.mchid, resp.Status, resp.Body)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}

// resetControl calls the control API and decodes the answer into out; it returns the status.
func resetControl(t *testing.T, sim *simtest.Sim, method, path, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, sim.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: HTTP %d, body %s: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// resetCreate creates a confirm-mode order numbered no and returns its package.
func resetCreate(t *testing.T, m resetMerchant, no string, amount int) string {
	t.Helper()
	now := time.Now()
	var o struct {
		Package string `json:"package"`
	}
	resetCall(t, m, http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no": no, "appid": m.appid, "service_id": m.serviceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": amount, "count": 1}},
		"time_range":           map[string]any{"start_time": "OnAccept", "end_time": simulator.FormatCompact(now.Add(3 * time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"notify_url":           "https://merchant.example.com/payscore/notify",
		"need_user_confirm":    true,
	}, &o)
	return o.Package
}

// resetPopulate gives m an order the user confirmed (an order visit, a query_id, a
// USER_CONFIRM notification), a permission seeded for a user (USER_OPEN_SERVICE), and one
// pre-authorized with a wxpayScoreEnable visit opened; requests are logged on the way. It
// returns the ids of the visits and the query_id.
func resetPopulate(t *testing.T, sim *simtest.Sim, m resetMerchant, no string) (visits []string, queryID string) {
	t.Helper()
	queryID = sim.UserConfirms(t, resetCreate(t, m, no, 300))
	var list struct {
		Data []struct {
			ID string `json:"visit_id"`
		} `json:"data"`
	}
	resetControl(t, sim, http.MethodGet, "/sim/v1/visits?mchid="+m.mchid, "", &list)
	for _, v := range list.Data {
		visits = append(visits, v.ID)
	}
	if status := resetControl(t, sim, http.MethodPost, "/sim/v1/permissions/"+m.mchid+"/authorize",
		`{"service_id":"`+m.serviceID+`","appid":"`+m.appid+`","openid":"oUpF8uReset`+m.mchid+`","notify_url":"https://merchant.example.com/payscore/notify"}`, nil); status != http.StatusOK {
		t.Fatalf("seed permission of %s: HTTP %d", m.mchid, status)
	}
	var applied struct {
		Token string `json:"apply_permissions_token"`
	}
	resetCall(t, m, http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": m.serviceID, "appid": m.appid, "authorization_code": "RESET-AUTH-" + m.mchid,
	}, &applied)
	var enable struct {
		ID string `json:"visit_id"`
	}
	if status := resetControl(t, sim, http.MethodPost, "/sim/v1/visits",
		`{"businessType":"wxpayScoreEnable","extraData":{"apply_permissions_token":"`+applied.Token+`"}}`, &enable); status != http.StatusCreated {
		t.Fatalf("open enable visit of %s: HTTP %d", m.mchid, status)
	}
	return append(visits, enable.ID), queryID
}

// resetSnapshot is what the control API shows of a merchant: the ids of its orders,
// notifications, permissions and requests, and which of the given visits still exist.
func resetSnapshot(t *testing.T, sim *simtest.Sim, mchid string, visits []string) map[string][]string {
	t.Helper()
	ids := func(path string, id func(map[string]any) string) []string {
		var list struct {
			Data []map[string]any `json:"data"`
		}
		if status := resetControl(t, sim, http.MethodGet, path, "", &list); status != http.StatusOK {
			t.Fatalf("GET %s: HTTP %d", path, status)
		}
		out := []string{}
		for _, d := range list.Data {
			out = append(out, id(d))
		}
		slices.Sort(out)
		return out
	}
	field := func(name string) func(map[string]any) string {
		return func(d map[string]any) string { return fmt.Sprint(d[name]) }
	}
	snap := map[string][]string{
		"orders": ids("/sim/v1/orders?mchid="+mchid, func(d map[string]any) string {
			o, _ := d["order"].(map[string]any)
			s, _ := o["order_id"].(string)
			return s
		}),
		"notifications": ids("/sim/v1/notifications?mchid="+mchid, field("id")),
		"permissions":   ids("/sim/v1/permissions?mchid="+mchid, field("id")),
		"requests":      ids("/sim/v1/requests?mchid="+mchid, field("id")),
		"visits":        {},
	}
	for _, v := range visits {
		if resetControl(t, sim, http.MethodGet, "/sim/v1/visits/"+v, "", nil) == http.StatusOK {
			snap["visits"] = append(snap["visits"], v)
		}
	}
	return snap
}

// resetPost posts a reset and decodes its answer.
func resetPost(t *testing.T, sim *simtest.Sim, query string, want int) map[string]any {
	t.Helper()
	var out map[string]any
	if status := resetControl(t, sim, http.MethodPost, "/sim/v1/reset"+query, "", &out); status != want {
		t.Fatalf("POST /sim/v1/reset%s: HTTP %d %v, want %d", query, status, out, want)
	}
	return out
}

func TestResetOneMerchantLeavesTheOtherIntact(t *testing.T) {
	t.Parallel()
	sim, a, b := resetMerchants(t)
	const no = "RESET-same-no-0001" // both merchants use it
	aVisits, _ := resetPopulate(t, sim, a, no)
	bVisits, bQueryID := resetPopulate(t, sim, b, no)

	aBefore, bBefore := resetSnapshot(t, sim, a.mchid, aVisits), resetSnapshot(t, sim, b.mchid, bVisits)
	for kind, ids := range aBefore {
		if len(ids) == 0 || len(bBefore[kind]) == 0 {
			t.Fatalf("before the reset, %s: merchant A has %d, merchant B %d; the test needs both to have some", kind, len(ids), len(bBefore[kind]))
		}
	}

	// Refusals reset nothing: an unknown merchant, an empty or repeated mchid, a misspelt
	// parameter.
	for _, q := range []string{"?mchid=1230000190", "?mchid=", "?mchid=" + a.mchid + "&mchid=" + b.mchid, "?merchant=" + a.mchid} {
		out := resetPost(t, sim, q, http.StatusBadRequest)
		if out["code"] != "PARAM_ERROR" {
			t.Errorf("reset%s: %v, want PARAM_ERROR", q, out)
		}
	}
	if got := resetSnapshot(t, sim, a.mchid, aVisits); !mapsEqual(got, aBefore) {
		t.Fatalf("a refused reset changed merchant A's records:\n got %v\nwant %v", got, aBefore)
	}

	// Each has a fault rule in force, on an operation the test does not call.
	sim.Fault(t, map[string]any{"mchid": a.mchid, "operation": "sync", "fault": "system_error"})
	bRule := sim.Fault(t, map[string]any{"mchid": b.mchid, "operation": "sync", "fault": "system_error"})

	out := resetPost(t, sim, "?mchid="+a.mchid, http.StatusOK)
	deleted, _ := out["deleted"].(map[string]any)
	want := map[string]any{"orders": 1.0, "visits": 2.0, "notifications": 2.0, "permissions": 2.0, "requests": float64(len(aBefore["requests"])), "refunds": 0.0, "faults": 1.0}
	if out["mchid"] != a.mchid || !mapsEqualAny(deleted, want) {
		t.Errorf("reset of A answered %v, want mchid %s and deleted %v", out, a.mchid, want)
	}
	for kind, ids := range resetSnapshot(t, sim, a.mchid, aVisits) {
		if len(ids) != 0 {
			t.Errorf("after resetting merchant A, A still has %s %v", kind, ids)
		}
	}
	if got := resetSnapshot(t, sim, b.mchid, bVisits); !mapsEqual(got, bBefore) {
		t.Errorf("resetting merchant A changed merchant B's records:\n got %v\nwant %v", got, bBefore)
	}
	if rules := sim.App.Server.Service.Faults.List(""); len(rules) != 1 || rules[0].ID != bRule.ID {
		t.Errorf("fault rules after resetting merchant A: %+v, want only B's %s", rules, bRule.ID)
	}

	// B carries on where it was: its query_id resolves and its order completes.
	var q struct {
		State string `json:"state"`
	}
	resetCall(t, b, http.MethodGet, "/v3/payscore/serviceorder?query_id="+bQueryID+"&service_id="+b.serviceID+"&appid="+b.appid, nil, &q)
	if q.State != "DOING" {
		t.Errorf("merchant B's order after A's reset: state %s, want DOING", q.State)
	}
	resetComplete(t, b, no)
	// A starts afresh: the same out_order_no with other parameters is a new order, not a
	// conflict with the one that was reset.
	if pkg := resetCreate(t, a, no, 500); pkg == "" {
		t.Error("A's new order has no package")
	}
}

func TestResetEverythingThenTheDemoMerchantStillWorks(t *testing.T) {
	t.Parallel()
	sim, a, b := resetMerchants(t)
	aVisits, _ := resetPopulate(t, sim, a, "RESET-all-0001")
	bVisits, _ := resetPopulate(t, sim, b, "RESET-all-0001")
	if status := resetControl(t, sim, http.MethodPost, "/sim/v1/clock/advance", `{"duration":"2h"}`, nil); status != http.StatusOK {
		t.Fatalf("advance the clock: HTTP %d", status)
	}
	gp := sim.GoPay(t) // a client made before the reset keeps working after it

	out := resetPost(t, sim, "", http.StatusOK)
	deleted, _ := out["deleted"].(map[string]any)
	if out["mchid"] != "*" || deleted["orders"] != 2.0 || deleted["visits"] != 4.0 || deleted["notifications"] != 4.0 || deleted["permissions"] != 4.0 {
		t.Errorf("full reset answered %v, want mchid * and 2 orders, 4 visits, 4 notifications, 4 permissions", out)
	}
	if clock, _ := out["clock"].(map[string]any); clock["offset_seconds"] != 0.0 {
		t.Errorf("full reset answered clock %v, want the real time (offset 0)", out["clock"])
	}
	for _, m := range []struct {
		mchid  string
		visits []string
	}{{a.mchid, aVisits}, {b.mchid, bVisits}, {"", nil}} {
		for kind, ids := range resetSnapshot(t, sim, m.mchid, m.visits) {
			if len(ids) != 0 {
				t.Errorf("after a full reset, merchant %q still has %s %v", m.mchid, kind, ids)
			}
		}
	}

	// The demo merchant's whole flow, with gopay: create, the user confirms, complete,
	// paid (the default deduction), and USER_CONFIRM and USER_PAID queued.
	var creds fixtures.Credentials
	if status := resetControl(t, sim, http.MethodGet, "/sim/v1/demo-credentials", "", &creds); status != http.StatusOK || creds != fixtures.DemoCredentials() {
		t.Fatalf("demo credentials after the reset: HTTP %d %+v", status, creds)
	}
	ctx := context.Background()
	const no = "RESET-all-0001"
	created, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap{
		"out_order_no": no, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []map[string]any{{"name": "租借费", "amount": 400, "count": 1}},
		"time_range":           map[string]any{"start_time": "OnAccept"},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"notify_url":           "https://merchant.example.com/payscore/notify",
		"need_user_confirm":    true,
	})
	if err != nil || created.Code != wechat.Success {
		t.Fatalf("create after the reset: %v %+v", err, created)
	}
	sim.UserConfirms(t, created.Response.Package)
	completed, err := gp.V3ScoreOrderComplete(ctx, no, gopay.BodyMap{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{{"name": "租借费", "amount": 400, "count": 1}},
		"total_amount":  400,
		"time_range":    map[string]any{"end_time": simulator.FormatCompact(time.Now())}, // after the confirmation (OnAccept)
	})
	if err != nil || completed.Code != wechat.Success {
		t.Fatalf("complete after the reset: %v %+v", err, completed)
	}
	sim.WaitDeducted(t, fixtures.DemoMchID, no)
	queried, err := gp.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	if err != nil || queried.Code != wechat.Success {
		t.Fatalf("query after the reset: %v %+v", err, queried)
	}
	if o := queried.Response; o.State != "DONE" || o.Collection == nil || o.Collection.State != "USER_PAID" || o.TotalAmount != 400 {
		t.Errorf("order after the reset: state %s, collection %+v, total %d; want DONE, USER_PAID, 400", o.State, o.Collection, o.TotalAmount)
	}
	var events []string
	for _, id := range resetSnapshot(t, sim, a.mchid, nil)["notifications"] {
		var n struct {
			EventType string `json:"event_type"`
		}
		resetControl(t, sim, http.MethodGet, "/sim/v1/notifications/"+id, "", &n)
		events = append(events, n.EventType)
	}
	slices.Sort(events)
	if want := []string{"PAYSCORE.USER_CONFIRM", "PAYSCORE.USER_PAID"}; !slices.Equal(events, want) {
		t.Errorf("notifications after the reset: %v, want %v", events, want)
	}
}

func mapsEqual(a, b map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if !slices.Equal(v, b[k]) {
			return false
		}
	}
	return true
}

func mapsEqualAny(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// resetComplete has m complete its confirmed order no for 300 fen.
func resetComplete(t *testing.T, m resetMerchant, no string) {
	t.Helper()
	resetCall(t, m, http.MethodPost, "/v3/payscore/serviceorder/"+no+"/complete", map[string]any{
		"appid": m.appid, "service_id": m.serviceID,
		"post_payments": []any{map[string]any{"name": "租借费", "amount": 300, "count": 1}},
		"total_amount":  300,
		"time_range":    map[string]any{"end_time": simulator.FormatCompact(time.Now())},
	}, nil)
}

// resetPaidRefunded has m create, the user confirm and m complete an order of 300 fen, waits for
// Pay Score's deduction, and refunds 100 fen of it as out_refund_no RST-RF; it returns the
// deduction's transaction_id.
func resetPaidRefunded(t *testing.T, sim *simtest.Sim, m resetMerchant, no string) string {
	t.Helper()
	sim.UserConfirms(t, resetCreate(t, m, no, 300))
	resetComplete(t, m, no)
	ts := sim.WaitDeducted(t, m.mchid, no).Transactions()
	if len(ts) != 1 {
		t.Fatalf("%s/%s was not deducted: %v", m.mchid, no, ts)
	}
	resetCall(t, m, http.MethodPost, "/v3/refund/domestic/refunds", resetRefundBody(ts[0].TransactionID, "RST-RF"), nil)
	return ts[0].TransactionID
}

func resetRefundBody(tid, outRefundNo string) map[string]any {
	return map[string]any{"transaction_id": tid, "out_refund_no": outRefundNo,
		"amount": map[string]any{"refund": 100, "total": 300, "currency": "CNY"}}
}

// TestResetOneMerchantRemovesItsRefunds: resetting merchant A deletes A's refunds and the
// transactions they named, so neither is found any more; merchant B, whose refund has the same
// out_refund_no, keeps its refund and can still refund its transaction.
func TestResetOneMerchantRemovesItsRefunds(t *testing.T) {
	t.Parallel()
	sim, a, b := resetMerchants(t)
	const no = "RESET-refunded-0001"
	aTid, bTid := resetPaidRefunded(t, sim, a, no), resetPaidRefunded(t, sim, b, no)

	out := resetPost(t, sim, "?mchid="+a.mchid, http.StatusOK)
	if deleted, _ := out["deleted"].(map[string]any); deleted["refunds"] != 1.0 {
		t.Errorf("reset of A answered %v, want 1 refund deleted", out)
	}
	ctx := context.Background()
	for _, c := range []struct {
		method, target string
		body           any
		message        string
	}{
		{http.MethodGet, "/v3/refund/domestic/refunds/RST-RF", nil, "退款单不存在"},
		{http.MethodPost, "/v3/refund/domestic/refunds", resetRefundBody(aTid, "RST-RF-2"), "订单不存在"},
	} {
		resp, err := a.c.Do(ctx, c.method, c.target, c.body)
		if err != nil || resp.Status != http.StatusNotFound || resp.Err().Code != "RESOURCE_NOT_EXISTS" || resp.Err().Message != c.message {
			t.Errorf("A's %s %s after its reset: %v %v, want 404 RESOURCE_NOT_EXISTS %s", c.method, c.target, err, resp, c.message)
		}
	}

	var refund struct {
		TransactionID string `json:"transaction_id"`
	}
	resetCall(t, b, http.MethodGet, "/v3/refund/domestic/refunds/RST-RF", nil, &refund)
	if refund.TransactionID != bTid {
		t.Errorf("B's refund after A's reset names transaction %s, want %s", refund.TransactionID, bTid)
	}
	if status, v := visitPost(t, sim, "/sim/v1/clock/advance", map[string]any{"mchid": b.mchid, "duration": "61s"}); status != http.StatusOK {
		t.Fatalf("advance: %d %v", status, v)
	}
	resetCall(t, b, http.MethodPost, "/v3/refund/domestic/refunds", resetRefundBody(bTid, "RST-RF-2"), nil)
	var list struct {
		Data []struct {
			Sim struct {
				MchID string `json:"mchid"`
			} `json:"sim"`
		} `json:"data"`
	}
	resetControl(t, sim, http.MethodGet, "/sim/v1/refunds", "", &list)
	if len(list.Data) != 2 || list.Data[0].Sim.MchID != b.mchid || list.Data[1].Sim.MchID != b.mchid {
		t.Errorf("refunds after A's reset: %+v, want B's two", list.Data)
	}
}
