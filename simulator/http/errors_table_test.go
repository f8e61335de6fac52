package http_test

// The table of the errors_* tests: each row is setup requests that must succeed, then the
// request under test and what its error must say (see errRunCases). The signed requests and the
// checks of an error's shape are in helpers_test.go.
//
// Package-level names in the errors_* files and signature_test.go start with err or sig so that
// they do not clash with the other test files of the package.

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/client"
)

// errCreateWith returns demoOrderBody(no) changed by edit.
func errCreateWith(no string, edit func(b map[string]any)) map[string]any {
	b := demoOrderBody(no)
	edit(b)
	return b
}

// errSub returns the object b[key] of a create body, to edit it in place.
func errSub(b map[string]any, key string) map[string]any { return b[key].(map[string]any) }

// errOtherCreate is a valid create body of the second merchant.
func errOtherCreate(no, appid string) map[string]any {
	return errCreateWith(no, func(b map[string]any) {
		b["appid"], b["service_id"] = appid, errOtherServiceID
	})
}

// errCase is a row: setup requests that must succeed, then the request under test and what
// its error must say.
type errCase struct {
	name string
	// confirm, when set, is a create body: the order is created and the user confirms it
	// (DOING/USER_CONFIRM) before the setup steps run.
	confirm map[string]any
	setup   []errStep
	req     errStep
	status  int
	code    string
	facts   []errFact
}

const errOrders = "/v3/payscore/serviceorder"

func errAction(no, action string) string { return errOrders + "/" + no + "/" + action }

func errQuery(params string) string { return errOrders + "?" + params }

// errQueryOf is the query target for order no of the demo merchant.
func errQueryOf(no string) string {
	return errQuery("out_order_no=" + no + "&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID)
}

func errCreate(body any) errStep {
	return errStep{method: http.MethodPost, target: errOrders, body: body}
}

func errPost(target string, body any) errStep {
	return errStep{method: http.MethodPost, target: target, body: body}
}

func errGet(target string) errStep { return errStep{method: http.MethodGet, target: target} }

// errRef is the appid and service_id of a demo order, as cancel, pay and the others take them.
func errRef(extra map[string]any) map[string]any {
	b := map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID}
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func errSyncBody() map[string]any {
	return errRef(map[string]any{"type": "Order_Paid", "detail": map[string]any{"paid_time": compactTime(time.Now())}})
}

func errCompleteBody() map[string]any { return errCompleteBodyOf(300) }

// errCompleteBodyOf is a complete of one payment of amount.
func errCompleteBodyOf(amount int) map[string]any {
	return errRef(map[string]any{
		"post_payments": []any{map[string]any{"name": "租借费", "amount": amount, "count": 1}},
		"total_amount":  amount,
		"time_range":    map[string]any{"end_time": compactTime(time.Now())},
	})
}

func errModifyBody() map[string]any {
	return errRef(map[string]any{
		"post_payments": []any{map[string]any{"name": "租借费", "amount": 200, "count": 1}},
		"total_amount":  200,
		"reason":        "用户投诉",
	})
}

// errCreateOrder is a setup step creating demo order no.
func errCreateOrder(no string) errStep { return errCreate(demoOrderBody(no)) }

// errCancelOrder is a setup step cancelling demo order no.
func errCancelOrder(no, reason string) errStep {
	return errPost(errAction(no, "cancel"), errRef(map[string]any{"reason": reason}))
}

func errRepeat(s string, n int) string { return strings.Repeat(s, n) }

// errConfirmable is a create body whose service started an hour ago, so that the order can be
// completed now once the user has confirmed it.
func errConfirmable(no string, edit func(b map[string]any)) map[string]any {
	return errCreateWith(no, func(b map[string]any) {
		errSub(b, "time_range")["start_time"] = compactTime(time.Now().Add(-time.Hour))
		if edit != nil {
			edit(b)
		}
	})
}

// errConfirm creates an order from body and has the user confirm it through the control API
// (POST /sim/v1/visits, then .../confirm), leaving it DOING/USER_CONFIRM. Its deductions are
// held (mode fail), so that a completed order waits in USER_PAYING.
func errConfirm(t testing.TB, c *client.Client, body map[string]any) {
	t.Helper()
	var created struct {
		Package string `json:"package"`
	}
	if err := errMustOK(t, c, errCreate(body)).Decode(&created); err != nil || created.Package == "" {
		t.Fatalf("setup create: no package (%v)", err)
	}
	open := errSend(t, c, errPost("/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": created.Package},
	}))
	var visit struct {
		VisitID string `json:"visit_id"`
	}
	if err := open.Decode(&visit); err != nil || open.Status != http.StatusCreated || visit.VisitID == "" {
		t.Fatalf("setup open visit: %d %s (%v)", open.Status, open.Body, err)
	}
	var confirmed struct {
		Order struct {
			State            string `json:"state"`
			StateDescription string `json:"state_description"`
		} `json:"order"`
	}
	resp := errMustOK(t, c, errPost("/sim/v1/visits/"+visit.VisitID+"/confirm", nil))
	if err := resp.Decode(&confirmed); err != nil || confirmed.Order.State != "DOING" || confirmed.Order.StateDescription != "USER_CONFIRM" {
		t.Fatalf("setup confirm: order not DOING/USER_CONFIRM: %s (%v)", resp.Body, err)
	}
	errMustOK(t, c, errPost("/sim/v1/orders/"+c.MchID+"/"+body["out_order_no"].(string)+"/deduction", map[string]any{"mode": "fail"}))
}

// errDeposit makes a create body a 先免 (deposit) order of 99 yuan.
func errDeposit(b map[string]any) {
	b["risk_fund"] = map[string]any{"name": "DEPOSIT", "amount": 9900}
}

func errRunCases(t *testing.T, demo *client.Client, cases []errCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.confirm != nil {
				errConfirm(t, demo, tc.confirm)
			}
			for _, s := range tc.setup {
				errMustOK(t, demo, s)
			}
			errCheckRow(t, errSend(t, demo, tc.req), tc.status, tc.code, tc.facts)
		})
	}
}

// errCheckRow checks the answer to a row's request: WeChat's shape (errCheckShape), then the
// status, the code and every fact, of which a row must have one at least.
func errCheckRow(t *testing.T, resp *client.Response, status int, code string, facts []errFact) {
	t.Helper()
	e := errCheckShape(t, resp)
	if resp.Status != status {
		t.Errorf("status %d, want %d; body %s", resp.Status, status, resp.Body)
	}
	if e.Code != code {
		t.Errorf("code %q, want %q; body %s", e.Code, code, resp.Body)
	}
	if len(facts) == 0 {
		t.Errorf("row asserts no diagnostic fact")
	}
	for _, f := range facts {
		f(t, e)
	}
	t.Logf("response: %d %s", resp.Status, resp.Body)
}

// errRevoked is the setup of a demo order no created, then cancelled.
func errRevoked(no string) []errStep {
	return []errStep{errCreateOrder(no), errCancelOrder(no, "用户取消")}
}

// errStateFacts are the facts of an operation refused in state.
func errStateFacts(op, state string) []errFact {
	return []errFact{errDetailIs("operation", op), errDetailIs("state", state), errDetailHas("issue", op+" needs an order in")}
}
