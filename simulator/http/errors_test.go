package http_test

// Table tests for every error the Pay Score APIv3 endpoints emit: each row asserts the HTTP
// status, the WeChat code and one diagnostic fact of detail, and every error response is checked
// for WeChat's shape (a JSON object with code and message, application/json, signed, never 500).
//
// Package-level names in this file and signature_test.go start with err or sig so that they do
// not clash with the other test files of the package.

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// The second merchant, registered from the other_merchant fixtures. It has two appids so that
// "an appid bound to the merchant but not the order's" can be tested.
const (
	errOtherMchID     = "1900000001"
	errOtherSerial    = "01E1BA53D6DFD8FE4530DCD9834EA6B530F5DF9E"
	errOtherAppID     = "wx1900000001000001"
	errOtherAppID2    = "wx1900000001000002"
	errOtherServiceID = "99999999000011"
)

// errChina is China Standard Time, in which WeChat's yyyyMMddHHmmss times are written.
var errChina = time.FixedZone("UTC+8", 8*60*60)

// errCompact formats t as yyyyMMddHHmmss in China time.
func errCompact(t time.Time) string { return t.In(errChina).Format("20060102150405") }

// errValidCreate returns a create body for out_order_no no that the demo merchant may send:
// confirm mode, the service ending two hours from now.
func errValidCreate(no string) map[string]any {
	now := time.Now()
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments": []any{
			map[string]any{"name": "租借费", "amount": 300, "description": "每小时3元", "count": 1},
		},
		"post_discounts": []any{
			map[string]any{"name": "新用户优惠", "description": "首单减1元"},
		},
		"time_range": map[string]any{
			"start_time": errCompact(now),
			"end_time":   errCompact(now.Add(2 * time.Hour)),
		},
		"risk_fund":         map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900, "description": "充电宝押金"},
		"attach":            "errors_test",
		"notify_url":        "https://merchant.example.com/payscore/notify",
		"need_user_confirm": true,
	}
}

// errCreateWith returns errValidCreate(no) changed by edit.
func errCreateWith(no string, edit func(b map[string]any)) map[string]any {
	b := errValidCreate(no)
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

// errOtherMerchant is the second merchant, built from the other_merchant fixtures.
func errOtherMerchant(t testing.TB) (*simulator.Merchant, *rsa.PrivateKey) {
	t.Helper()
	cert, err := wxcrypto.ParseCertificate(fixtures.OtherMerchantCertPEM)
	if err != nil {
		t.Fatalf("other merchant certificate: %v", err)
	}
	if got := wxcrypto.CertificateSerial(cert); got != errOtherSerial {
		t.Fatalf("other merchant certificate serial = %s, want %s", got, errOtherSerial)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatalf("other merchant key: %v", err)
	}
	return &simulator.Merchant{
		MchID:      errOtherMchID,
		AppIDs:     []string{errOtherAppID, errOtherAppID2},
		ServiceIDs: []string{errOtherServiceID},
		APIv3Key:   "payscore-sim-TEST-other-key-0032",
		Keys:       map[string]*rsa.PublicKey{errOtherSerial: cert.PublicKey.(*rsa.PublicKey)},
	}, key
}

// errStep is one signed request.
type errStep struct {
	as     *client.Client // nil: the demo merchant
	method string
	target string
	// body is sent as is when it is a string or []byte, as JSON otherwise, and not at all when
	// nil.
	body any
	// header sets (or, with an empty value, removes) request headers after the client's.
	header map[string]string
}

func errPayload(t testing.TB, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		p, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		return p
	}
}

// errSend signs s as its merchant and sends it. It fails the test when the response is not
// correctly signed: every answer of the simulator is signed, errors included.
func errSend(t testing.TB, def *client.Client, s errStep) *client.Response {
	t.Helper()
	c := s.as
	if c == nil {
		c = def
	}
	payload := errPayload(t, s.body)
	req, err := c.NewRequest(context.Background(), s.method, s.target, payload)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.target, err)
	}
	for k, v := range s.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	auth, err := wxcrypto.Authorize(c.MchID, c.Serial, c.Key, s.method, s.target, payload, time.Now())
	if err != nil {
		t.Fatalf("sign %s %s: %v", s.method, s.target, err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.Send(req)
	if err != nil {
		if resp != nil {
			t.Fatalf("%s %s: %v (status %d, body %s)", s.method, s.target, err, resp.Status, resp.Body)
		}
		t.Fatalf("%s %s: %v", s.method, s.target, err)
	}
	return resp
}

// errMustOK sends s and fails unless it succeeds.
func errMustOK(t testing.TB, def *client.Client, s errStep) *client.Response {
	t.Helper()
	resp := errSend(t, def, s)
	if resp.Status != http.StatusOK {
		t.Fatalf("setup %s %s: status %d, want 200; body %s", s.method, s.target, resp.Status, resp.Body)
	}
	return resp
}

// errCheckShape asserts what every error response must be: 4xx (never 500), application/json,
// a JSON object whose code and message are non-empty strings. The signature was checked by
// errSend. It returns the decoded body.
func errCheckShape(t testing.TB, resp *client.Response) client.ErrorBody {
	t.Helper()
	if resp.Status >= 500 {
		t.Errorf("status %d: a client's request must never cause a server error; body %s", resp.Status, resp.Body)
	}
	if resp.Status < 400 {
		t.Errorf("status %d, want an error status; body %s", resp.Status, resp.Body)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if resp.Header.Get("Request-ID") == "" {
		t.Errorf("no Request-ID header")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatalf("error body is not a JSON object: %v; body %s", err, resp.Body)
	}
	for _, k := range []string{"code", "message"} {
		var s string
		if err := json.Unmarshal(raw[k], &s); err != nil || s == "" {
			t.Errorf("error body's %s is %s, want a non-empty string; body %s", k, raw[k], resp.Body)
		}
	}
	return resp.Err()
}

// errFact is one assertion on an error body.
type errFact func(t testing.TB, e client.ErrorBody)

func errDetailString(t testing.TB, e client.ErrorBody, key string) (string, bool) {
	t.Helper()
	v, ok := e.Detail[key]
	if !ok {
		t.Errorf("detail has no %q: %v", key, e.Detail)
		return "", false
	}
	if s, isString := v.(string); isString {
		return s, true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// errDetailHas asserts that detail[key], as a string (JSON for non-strings), contains each of subs.
func errDetailHas(key string, subs ...string) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		s, ok := errDetailString(t, e, key)
		if !ok {
			return
		}
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				t.Errorf("detail.%s = %q, want it to contain %q", key, s, sub)
			}
		}
	}
}

// errDetailIs asserts that detail[key] equals want once both are JSON.
func errDetailIs(key string, want any) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		got, ok := e.Detail[key]
		if !ok {
			t.Errorf("detail has no %q: %v", key, e.Detail)
			return
		}
		var wantJSON any
		b, _ := json.Marshal(want)
		_ = json.Unmarshal(b, &wantJSON)
		if !reflect.DeepEqual(got, wantJSON) {
			t.Errorf("detail.%s = %#v, want %#v", key, got, wantJSON)
		}
	}
}

// errMessageHas asserts that the message contains sub.
func errMessageHas(sub string) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		if !strings.Contains(e.Message, sub) {
			t.Errorf("message = %q, want it to contain %q", e.Message, sub)
		}
	}
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
	return errRef(map[string]any{"type": "Order_Paid", "detail": map[string]any{"paid_time": errCompact(time.Now())}})
}

func errCompleteBody() map[string]any { return errCompleteBodyOf(300) }

// errCompleteBodyOf is a complete of one payment of amount.
func errCompleteBodyOf(amount int) map[string]any {
	return errRef(map[string]any{
		"post_payments": []any{map[string]any{"name": "租借费", "amount": amount, "count": 1}},
		"total_amount":  amount,
		"time_range":    map[string]any{"end_time": errCompact(time.Now())},
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
func errCreateOrder(no string) errStep { return errCreate(errValidCreate(no)) }

// errCancelOrder is a setup step cancelling demo order no.
func errCancelOrder(no, reason string) errStep {
	return errPost(errAction(no, "cancel"), errRef(map[string]any{"reason": reason}))
}

func errRepeat(s string, n int) string { return strings.Repeat(s, n) }

// errConfirmable is a create body whose service started an hour ago, so that the order can be
// completed now once the user has confirmed it.
func errConfirmable(no string, edit func(b map[string]any)) map[string]any {
	return errCreateWith(no, func(b map[string]any) {
		errSub(b, "time_range")["start_time"] = errCompact(time.Now().Add(-time.Hour))
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
			resp := errSend(t, demo, tc.req)
			e := errCheckShape(t, resp)
			if resp.Status != tc.status {
				t.Errorf("status %d, want %d; body %s", resp.Status, tc.status, resp.Body)
			}
			if e.Code != tc.code {
				t.Errorf("code %q, want %q; body %s", e.Code, tc.code, resp.Body)
			}
			if len(tc.facts) == 0 {
				t.Errorf("row asserts no diagnostic fact")
			}
			for _, f := range tc.facts {
				f(t, e)
			}
			t.Logf("response: %d %s", resp.Status, resp.Body)
		})
	}
}

// TestErrorsCreate covers every rejection of POST /v3/payscore/serviceorder.
func TestErrorsCreate(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	now := time.Now()

	recreate := errValidCreate("RECREATE-1")
	recreateOther := errValidCreate("RECREATE-1")
	recreateOther["time_range"] = recreate["time_range"] // the same times, whatever the clock says
	recreateOther["attach"] = "another attach"
	errSub(recreateOther, "risk_fund")["amount"] = 5000

	twentyOne := errRepeat("充", 21)
	cases := []errCase{
		{
			name:   "out_order_no missing",
			req:    errCreate(errCreateWith("", func(b map[string]any) { delete(b, "out_order_no") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailHas("issue", "required"), errDetailIs("location", "body")},
		},
		{
			name:   "out_order_no bad characters",
			req:    errCreate(errValidCreate("NO.1#中")),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "NO.1#中"), errDetailHas("issue", "_-|*")},
		},
		{
			name:   "out_order_no 33 characters",
			req:    errCreate(errValidCreate(errRepeat("A", 33))),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailHas("issue", "at most 32", "has 33")},
		},
		{
			name: "service_introduction 21 Chinese characters",
			req: errCreate(errCreateWith("INTRO-21", func(b map[string]any) {
				b["service_introduction"] = twentyOne
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_introduction"), errDetailHas("issue", "at most 20", "has 21")},
		},
		{
			name:   "time_range missing",
			req:    errCreate(errCreateWith("TR-MISSING", func(b map[string]any) { delete(b, "time_range") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range"), errDetailHas("issue", "required")},
		},
		{
			name: "start_time missing",
			req: errCreate(errCreateWith("START-MISSING", func(b map[string]any) {
				delete(errSub(b, "time_range"), "start_time")
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "required")},
		},
		{
			name: "start_time not yyyyMMddHHmmss",
			req: errCreate(errCreateWith("START-FORMAT", func(b map[string]any) {
				errSub(b, "time_range")["start_time"] = "2025-01-01 10:00:00"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "yyyyMMddHHmmss", "OnAccept")},
		},
		{
			name: "start_time impossible date",
			req: errCreate(errCreateWith("START-MONTH13", func(b map[string]any) {
				errSub(b, "time_range")["start_time"] = "20251301100000"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.start_time"), errDetailHas("issue", "not a valid yyyyMMddHHmmss")},
		},
		{
			name: "end_time before start_time",
			req: errCreate(errCreateWith("END-BEFORE", func(b map[string]any) {
				tr := errSub(b, "time_range")
				tr["start_time"], tr["end_time"] = errCompact(now.Add(3*time.Hour)), errCompact(now.Add(2*time.Hour))
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "later than start_time")},
		},
		{
			name: "end_time less than a minute ahead",
			req: errCreate(errCreateWith("END-SOON", func(b map[string]any) {
				tr := errSub(b, "time_range")
				tr["start_time"], tr["end_time"] = errCompact(now.Add(-time.Hour)), errCompact(now.Add(30*time.Second))
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "more than one minute after the call")},
		},
		{
			name:   "risk_fund missing",
			req:    errCreate(errCreateWith("RF-MISSING", func(b map[string]any) { delete(b, "risk_fund") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund"), errDetailHas("issue", "required")},
		},
		{
			name: "risk_fund.name unknown",
			req: errCreate(errCreateWith("RF-NAME", func(b map[string]any) {
				errSub(b, "risk_fund")["name"] = "DEPOSlT"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.name"), errDetailIs("value", "DEPOSlT"), errDetailHas("issue", "ESTIMATE_ORDER_COST", "DEPOSIT")},
		},
		{
			name: "risk_fund.amount 0",
			req: errCreate(errCreateWith("RF-ZERO", func(b map[string]any) {
				errSub(b, "risk_fund")["amount"] = 0
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.amount"), errDetailHas("issue", "at least 1")},
		},
		{
			name:   "attach 257 characters",
			req:    errCreate(errCreateWith("ATTACH-257", func(b map[string]any) { b["attach"] = errRepeat("a", 257) })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "attach"), errDetailHas("issue", "at most 256", "has 257")},
		},
		{
			name:   "notify_url missing",
			req:    errCreate(errCreateWith("NOTIFY-MISSING", func(b map[string]any) { delete(b, "notify_url") })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "required")},
		},
		{
			name: "notify_url with a query string",
			req: errCreate(errCreateWith("NOTIFY-QUERY", func(b map[string]any) {
				b["notify_url"] = "https://merchant.example.com/notify?order=1"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "query parameters")},
		},
		{
			name: "notify_url ftp",
			req: errCreate(errCreateWith("NOTIFY-FTP", func(b map[string]any) {
				b["notify_url"] = "ftp://merchant.example.com/notify"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "https")},
		},
		{
			name: "notify_url relative",
			req: errCreate(errCreateWith("NOTIFY-RELATIVE", func(b map[string]any) {
				b["notify_url"] = "/payscore/notify"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "notify_url"), errDetailHas("issue", "absolute")},
		},
		{
			name: "post_payments 101 items",
			req: errCreate(errCreateWith("PP-101", func(b map[string]any) {
				items := make([]any, 101)
				for i := range items {
					items[i] = map[string]any{"name": fmt.Sprintf("item %d", i), "amount": 1}
				}
				b["post_payments"] = items
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments"), errDetailIs("value", 101), errDetailHas("issue", "at most 100 items")},
		},
		{
			name: "post_payments name missing",
			req: errCreate(errCreateWith("PP-NAME", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"amount": 300}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[0].name"), errDetailHas("issue", "required")},
		},
		{
			name: "post_payments with a name repeated",
			req: errCreate(errCreateWith("PP-DUP", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费", "amount": 300}, map[string]any{"name": "租借费", "amount": 100}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[1].name"), errDetailHas("issue", "相同订单号下不能出现相同的付费项目名称", "post_payments[0]")},
		},
		{
			name: "post_payments item with only a name",
			req: errCreate(errCreateWith("PP-NAMEONLY", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[0].name"), errDetailHas("issue", "amount或description必须填写其一")},
		},
		{
			name: "post_discounts with a name repeated",
			req: errCreate(errCreateWith("PD-DUP", func(b map[string]any) {
				b["post_discounts"] = []any{map[string]any{"name": "满20减1元", "description": "a"}, map[string]any{"name": "满20减1元", "description": "b"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[1].name"), errDetailHas("issue", "must not repeat")},
		},
		{
			name: "post_discounts description missing",
			req: errCreate(errCreateWith("PD-DESC", func(b map[string]any) {
				b["post_discounts"] = []any{map[string]any{"name": "满20减1元"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[0].description"), errDetailHas("issue", "required")},
		},
		{
			name:   "need_user_confirm false without openid",
			req:    errCreate(errCreateWith("NOCONFIRM-NOOPENID", func(b map[string]any) { b["need_user_confirm"] = false })),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "openid"), errDetailHas("issue", "need_user_confirm is false")},
		},
		{
			name: "string where a number is expected",
			req: errCreate(errCreateWith("RF-STRING", func(b map[string]any) {
				errSub(b, "risk_fund")["amount"] = "9900"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "risk_fund.amount"), errDetailHas("issue", "JSON number", "JSON string")},
		},
		{
			name: "string where a boolean is expected",
			req: errCreate(errCreateWith("NUC-STRING", func(b map[string]any) {
				b["need_user_confirm"] = "false"
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "need_user_confirm"), errDetailHas("issue", "JSON boolean")},
		},
		{
			name: "string where a number is expected in an array item",
			req: errCreate(errCreateWith("PP-STRING", func(b map[string]any) {
				b["post_payments"] = []any{map[string]any{"name": "租借费", "amount": "300"}}
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("field", "post_payments", "amount"), errDetailHas("issue", "JSON number")},
		},
		{
			name:   "malformed JSON",
			req:    errCreate(`{"out_order_no": "BAD-JSON", }`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体格式错误"), errDetailHas("issue", "not valid JSON", "at byte")},
		},
		{
			name:   "truncated JSON",
			req:    errCreate(`{"out_order_no": "TRUNCATED"`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "not valid JSON", "ends too early")},
		},
		{
			name:   "empty body",
			req:    errCreate(""),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体为空"), errDetailHas("issue", "JSON object")},
		},
		{
			name:   "JSON array body",
			req:    errCreate(`[{"out_order_no": "ARRAY"}]`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "must be a JSON object", "array")},
		},
		{
			name:   "two JSON values",
			req:    errCreate(`{"out_order_no": "TWO"} {}`),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailHas("issue", "more than one JSON value")},
		},
		{
			name: "wrong Content-Type",
			req: errStep{method: http.MethodPost, target: errOrders, body: errValidCreate("CT-TEXT"),
				header: map[string]string{"Content-Type": "text/plain; charset=utf-8"}},
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "Content-Type"), errDetailIs("location", "header"), errDetailHas("issue", "application/json")},
		},
		{
			name: "body over 1 MiB",
			req: errCreate(errCreateWith("HUGE", func(b map[string]any) {
				b["attach"] = errRepeat("x", 1<<20)
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体过大"), errDetailHas("issue", "1048576 bytes")},
		},
		{
			name:   "appid not bound",
			req:    errCreate(errCreateWith("NOAUTH-APPID", func(b map[string]any) { b["appid"] = "wx0000000000000000" })),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "wx0000000000000000", "not bound", fixtures.DemoAppID)},
		},
		{
			name:   "service_id not bound",
			req:    errCreate(errCreateWith("NOAUTH-SERVICE", func(b map[string]any) { b["service_id"] = "500001" })),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "500001", "not bound", fixtures.DemoServiceID)},
		},
		{
			name:   "re-create with other parameters",
			setup:  []errStep{errCreate(recreate)},
			req:    errCreate(recreateOther),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  []errFact{errMessageHas("不同的参数"), errDetailIs("field", "out_order_no"), errDetailIs("differing_fields", []string{"attach", "risk_fund"})},
		},
		{
			name: "need_user_confirm false with openid of a user who has not authorized",
			req: errCreate(errCreateWith("NOCONFIRM-OPENID", func(b map[string]any) {
				b["need_user_confirm"], b["openid"] = false, "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
			})),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  []errFact{errMessageHas("用户未授权"), errDetailIs("field", "openid"), errDetailHas("issue", "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o", "not authorized")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsCreateAccepted pins the boundaries the error rows stand next to: each of these
// creates is valid.
func TestErrorsCreateAccepted(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	now := time.Now()

	items := make([]any, 100)
	for i := range items {
		items[i] = map[string]any{"name": fmt.Sprintf("item %d", i), "amount": 1}
	}
	cases := []struct {
		name string
		body map[string]any
		// header sets request headers.
		header map[string]string
	}{
		{name: "service_introduction 20 Chinese characters", body: errCreateWith("INTRO-20", func(b map[string]any) {
			b["service_introduction"] = errRepeat("充", 20)
		})},
		{name: "out_order_no 32 characters of every allowed kind", body: errValidCreate("Az09_-|*" + errRepeat("x", 24))},
		{name: "attach 256 characters", body: errCreateWith("ATTACH-256", func(b map[string]any) { b["attach"] = errRepeat("a", 256) })},
		{name: "post_payments 100 items", body: errCreateWith("PP-100", func(b map[string]any) { b["post_payments"] = items })},
		// "商品信息" is the one name that may repeat (reference §9.1).
		{name: "post_payments 商品信息 twice", body: errCreateWith("PP-GOODS", func(b map[string]any) {
			b["post_payments"] = []any{map[string]any{"name": "商品信息", "amount": 300}, map[string]any{"name": "商品信息", "description": "充电线"}}
		})},
		{name: "start_time yyyyMMdd", body: errCreateWith("START-DAY", func(b map[string]any) {
			errSub(b, "time_range")["start_time"] = now.In(errChina).Format("20060102")
		})},
		{name: "start_time OnAccept without end_time", body: errCreateWith("START-ONACCEPT", func(b map[string]any) {
			errSub(b, "time_range")["start_time"] = "OnAccept"
			delete(errSub(b, "time_range"), "end_time")
		})},
		{name: "end_time two minutes ahead", body: errCreateWith("END-2MIN", func(b map[string]any) {
			tr := errSub(b, "time_range")
			tr["start_time"], tr["end_time"] = errCompact(now.Add(-time.Hour)), errCompact(now.Add(2*time.Minute))
		})},
		{name: "Content-Type with charset", body: errValidCreate("CT-CHARSET"),
			header: map[string]string{"Content-Type": "application/json; charset=utf-8"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			no := tc.body["out_order_no"].(string)
			resp := errSend(t, demo, errStep{method: http.MethodPost, target: errOrders, body: tc.body, header: tc.header})
			if resp.Status != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", resp.Status, resp.Body)
			}
			var o struct {
				OutOrderNo string `json:"out_order_no"`
				State      string `json:"state"`
			}
			if err := resp.Decode(&o); err != nil {
				t.Fatal(err)
			}
			if o.OutOrderNo != no || o.State != "CREATED" {
				t.Errorf("out_order_no %q state %q, want %q CREATED", o.OutOrderNo, o.State, no)
			}
		})
	}
}

// TestErrorsQuery covers GET /v3/payscore/serviceorder.
func TestErrorsQuery(t *testing.T) {
	t.Parallel()
	other, otherKey := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, otherKey)

	svc, appid := "&service_id="+fixtures.DemoServiceID, "&appid="+fixtures.DemoAppID
	cases := []errCase{
		{
			name:   "both out_order_no and query_id",
			setup:  []errStep{errCreateOrder("Q-BOTH")},
			req:    errGet(errQuery("out_order_no=Q-BOTH&query_id=QID-1" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("location", "query"), errDetailHas("issue", "query_id", "not both")},
		},
		{
			name:   "neither out_order_no nor query_id",
			req:    errGet(errQuery("service_id=" + fixtures.DemoServiceID + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("location", "query"), errDetailHas("issue", "query_id is required")},
		},
		{
			name:   "service_id missing",
			req:    errGet(errQuery("out_order_no=Q-NOSVC" + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailIs("location", "query"), errDetailHas("issue", "required")},
		},
		{
			name:   "appid missing",
			req:    errGet(errQuery("out_order_no=Q-NOAPPID" + svc)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailIs("location", "query"), errDetailHas("issue", "required")},
		},
		{
			name:   "repeated parameter",
			req:    errGet(errQuery("out_order_no=Q-REPEAT" + svc + appid + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailIs("location", "query"), errDetailHas("issue", "once")},
		},
		{
			name:   "out_order_no bad characters",
			req:    errGet(errQuery("out_order_no=Q%20BAD" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "Q BAD"), errDetailIs("location", "query")},
		},
		{
			name:   "malformed percent-encoding",
			req:    errGet(errQuery("out_order_no=Q%zz" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("location", "query"), errDetailHas("issue", "%zz")},
		},
		{
			name:   "appid not bound",
			req:    errGet(errQuery("out_order_no=Q-NOAUTH" + svc + "&appid=wx0000000000000000")),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "not bound")},
		},
		{
			name:   "unknown order",
			req:    errGet(errQueryOf("Q-UNKNOWN")),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "Q-UNKNOWN")},
		},
		{
			name:   "unknown query_id",
			req:    errGet(errQuery("query_id=QID-UNKNOWN" + svc + appid)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("query_id", "QID-UNKNOWN")},
		},
		{
			name:   "appid bound but not the order's",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("Q-OTHER-APPID", errOtherAppID)}},
			req:    errStep{as: oc, method: http.MethodGet, target: errQuery("out_order_no=Q-OTHER-APPID&service_id=" + errOtherServiceID + "&appid=" + errOtherAppID2)},
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailHas("issue", "appid "+errOtherAppID)},
		},
		{
			name:   "service_id bound but not the order's",
			setup:  []errStep{errCreateOrder("Q-OTHER-SVC")},
			req:    errGet(errQuery("out_order_no=Q-OTHER-SVC&service_id=" + fixtures.DemoServiceIDLong + appid)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailHas("issue", "service_id "+fixtures.DemoServiceID)},
		},
		{
			name:   "order of another merchant",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("Q-OTHER-MCH", errOtherAppID)}},
			req:    errGet(errQueryOf("Q-OTHER-MCH")),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "Q-OTHER-MCH")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsOrderActions covers cancel, complete, modify, pay and sync.
func TestErrorsOrderActions(t *testing.T) {
	t.Parallel()
	other, otherKey := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, otherKey)

	revoked := func(no string) []errStep { return []errStep{errCreateOrder(no), errCancelOrder(no, "用户取消")} }
	stateFacts := func(op, state string) []errFact {
		return []errFact{errDetailIs("operation", op), errDetailIs("state", state), errDetailHas("issue", op+" needs an order in")}
	}
	cases := []errCase{
		// cancel
		{
			name:   "cancel reason missing",
			setup:  []errStep{errCreateOrder("C-NOREASON")},
			req:    errPost(errAction("C-NOREASON", "cancel"), errRef(nil)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "required")},
		},
		{
			name:   "cancel reason 51 characters",
			setup:  []errStep{errCreateOrder("C-LONGREASON")},
			req:    errCancelOrder("C-LONGREASON", errRepeat("退", 51)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "at most 50", "has 51")},
		},
		{
			name:   "cancel appid missing",
			setup:  []errStep{errCreateOrder("C-NOAPPID")},
			req:    errPost(errAction("C-NOAPPID", "cancel"), map[string]any{"reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "required")},
		},
		{
			name:  "cancel with an appid bound but not the order's",
			setup: []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("C-OTHER-APPID", errOtherAppID)}},
			req: errStep{as: oc, method: http.MethodPost, target: errAction("C-OTHER-APPID", "cancel"),
				body: map[string]any{"appid": errOtherAppID2, "service_id": errOtherServiceID, "reason": "用户取消"}},
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "created with ("+errOtherAppID+")")},
		},
		{
			// The demo merchant has one appid, so "not the order's" is also "not bound"; the
			// simulator answers PARAM_ERROR here where create and query answer NO_AUTH.
			name:   "cancel with an appid not bound",
			setup:  []errStep{errCreateOrder("C-UNBOUND-APPID")},
			req:    errPost(errAction("C-UNBOUND-APPID", "cancel"), map[string]any{"appid": "wx0000000000000000", "reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", fixtures.DemoAppID)},
		},
		{
			name:   "cancel with a service_id not the order's",
			setup:  []errStep{errCreateOrder("C-OTHER-SVC")},
			req:    errPost(errAction("C-OTHER-SVC", "cancel"), map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceIDLong, "reason": "用户取消"}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", fixtures.DemoServiceID)},
		},
		{
			// The two setup cancels with the same reason must both answer 200 (idempotent).
			name: "cancel twice with the same reason, then with another",
			setup: []errStep{
				errCreateOrder("C-TWICE"), errCancelOrder("C-TWICE", "用户取消"), errCancelOrder("C-TWICE", "用户取消"),
			},
			req:    errCancelOrder("C-TWICE", "商户取消"),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  append(stateFacts("cancel", "REVOKED"), errMessageHas("订单已取消")),
		},
		{
			name:   "cancel unknown order",
			req:    errCancelOrder("C-UNKNOWN", "用户取消"),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "C-UNKNOWN")},
		},
		{
			name:   "cancel order of another merchant",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("C-OTHER-MCH", errOtherAppID)}},
			req:    errCancelOrder("C-OTHER-MCH", "用户取消"),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "C-OTHER-MCH")},
		},
		{
			name:   "cancel with a bad out_order_no in the path",
			req:    errCancelOrder("C%20BAD", "用户取消"),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "C BAD"), errDetailIs("location", "path")},
		},
		{
			name:   "cancel with an empty body",
			setup:  []errStep{errCreateOrder("C-EMPTY")},
			req:    errPost(errAction("C-EMPTY", "cancel"), ""),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errMessageHas("请求体为空")},
		},
		// complete
		{
			name:   "complete on CREATED",
			setup:  []errStep{errCreateOrder("CO-CREATED")},
			req:    errPost(errAction("CO-CREATED", "complete"), errCompleteBody()),
			status: 400,
			code:   "INVALID_REQUEST",
			facts:  append(stateFacts("complete", "CREATED"), errDetailHas("issue", "DOING/USER_CONFIRM")),
		},
		{
			name:   "complete on REVOKED",
			setup:  revoked("CO-REVOKED"),
			req:    errPost(errAction("CO-REVOKED", "complete"), errCompleteBody()),
			status: 400,
			// As production logs show it, not the table's ORDER_CANCELED.
			code:  "INVALID_REQUEST",
			facts: append(stateFacts("complete", "REVOKED"), errMessageHas("当前订单状态不合法")),
		},
		{
			name:   "complete service_id missing",
			setup:  []errStep{errCreateOrder("CO-NOSVC")},
			req:    errPost(errAction("CO-NOSVC", "complete"), map[string]any{"appid": fixtures.DemoAppID, "total_amount": 0}),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailHas("issue", "required")},
		},
		{
			name:   "complete unknown order",
			req:    errPost(errAction("CO-UNKNOWN", "complete"), errCompleteBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "CO-UNKNOWN")},
		},
		{
			name:    "complete with total_amount not the sum",
			confirm: errConfirmable("CO-TOTAL", nil),
			req:     errPost(errAction("CO-TOTAL", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "post_discounts": []any{map[string]any{"name": "优惠", "description": "减1元", "amount": 100}}, "total_amount": 300, "time_range": map[string]any{"end_time": errCompact(time.Now())}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailIs("value", 300), errDetailHas("issue", "(200)")},
		},
		{
			name:    "complete with a payment name repeated",
			confirm: errConfirmable("CO-DUP", nil),
			req: errPost(errAction("CO-DUP", "complete"), errRef(map[string]any{
				"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}, map[string]any{"name": "租借费", "amount": 100}},
				"total_amount":  400, "time_range": map[string]any{"end_time": errCompact(time.Now())},
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_payments[1].name"), errDetailHas("issue", "相同订单号下不能出现相同的付费项目名称")},
		},
		{
			name:    "complete post_payments missing",
			confirm: errConfirmable("CO-NOPP", nil),
			req:     errPost(errAction("CO-NOPP", "complete"), errRef(map[string]any{"total_amount": 0})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "post_payments"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete total_amount missing",
			confirm: errConfirmable("CO-NOTOTAL", nil),
			req:     errPost(errAction("CO-NOTOTAL", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete post_discounts amount missing",
			confirm: errConfirmable("CO-PDAMOUNT", nil),
			req:     errPost(errAction("CO-PDAMOUNT", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "post_discounts": []any{map[string]any{"name": "优惠", "description": "减1元"}}, "total_amount": 300})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "post_discounts[0].amount"), errDetailHas("issue", "required")},
		},
		{
			name:    "complete end_time in the future",
			confirm: errConfirmable("CO-FUTURE", nil),
			req:     errPost(errAction("CO-FUTURE", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300, "time_range": map[string]any{"end_time": errCompact(time.Now().Add(time.Hour))}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "实际结束时间不能晚于使用完结接口的时间")},
		},
		{
			name:    "complete end_time before start_time",
			confirm: errConfirmable("CO-BEFORE", nil),
			req:     errPost(errAction("CO-BEFORE", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300, "time_range": map[string]any{"end_time": errCompact(time.Now().Add(-2 * time.Hour))}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "真实结束时间小于预计开始时间")},
		},
		{
			name: "complete without end_time when create had none",
			confirm: errConfirmable("CO-NOEND", func(b map[string]any) {
				delete(errSub(b, "time_range"), "end_time")
			}),
			req:    errPost(errAction("CO-NOEND", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 300}}, "total_amount": 300})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "time_range.end_time"), errDetailHas("issue", "创建订单未填写服务结束时间")},
		},
		{
			name:    "complete a deposit order above its risk_fund",
			confirm: errConfirmable("CO-DEPOSIT", errDeposit),
			req:     errPost(errAction("CO-DEPOSIT", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 10000}}, "total_amount": 10000, "time_range": map[string]any{"end_time": errCompact(time.Now())}})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "risk_fund.amount (9900)", "DEPOSIT")},
		},
		{
			name:    "complete again with other parameters",
			confirm: errConfirmable("CO-TWICE", nil),
			setup:   []errStep{errPost(errAction("CO-TWICE", "complete"), errCompleteBody())},
			req:     errPost(errAction("CO-TWICE", "complete"), errCompleteBodyOf(250)),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errMessageHas("订单重入参数校验失败"), errDetailHas("issue", "completed before with other parameters")},
		},
		{
			name:    "complete after sync, with other parameters",
			confirm: errConfirmable("CO-DONE", nil),
			setup:   []errStep{errPost(errAction("CO-DONE", "complete"), errCompleteBody()), errPost(errAction("CO-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("CO-DONE", "complete"), errCompleteBodyOf(250)),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errMessageHas("订单重入参数校验失败")},
		},
		// modify
		{
			name:    "modify on DOING/USER_CONFIRM",
			confirm: errConfirmable("M-CONFIRMED", nil),
			req:     errPost(errAction("M-CONFIRMED", "modify"), errModifyBody()),
			status:  400,
			code:    "INVALID_ORDER_STATE",
			facts:   []errFact{errDetailIs("state_description", "USER_CONFIRM"), errDetailHas("issue", "modify needs")},
		},
		{
			name:    "modify with a discount name repeated",
			confirm: errConfirmable("M-DUP", nil),
			setup:   []errStep{errPost(errAction("M-DUP", "complete"), errCompleteBody())},
			req: errPost(errAction("M-DUP", "modify"), errRef(map[string]any{
				"post_payments":  []any{map[string]any{"name": "租借费", "amount": 300}},
				"post_discounts": []any{map[string]any{"name": "补偿", "description": "a", "amount": 10}, map[string]any{"name": "补偿", "description": "b", "amount": 10}},
				"total_amount":   280, "reason": "用户投诉",
			})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "post_discounts[1].name"), errDetailHas("issue", "must not repeat")},
		},
		{
			name:    "modify raising the amount",
			confirm: errConfirmable("M-RAISE", nil),
			setup:   []errStep{errPost(errAction("M-RAISE", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-RAISE", "modify"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 400}}, "total_amount": 400, "reason": "加收"})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "total_amount"), errDetailHas("issue", "修改后的金额必须小于原金额", "current amount, 300")},
		},
		{
			name:    "modify reason missing",
			confirm: errConfirmable("M-NOREASON", nil),
			setup:   []errStep{errPost(errAction("M-NOREASON", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-NOREASON", "modify"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "租借费", "amount": 200}}, "total_amount": 200})),
			status:  400,
			code:    "PARAM_ERROR",
			facts:   []errFact{errDetailIs("field", "reason"), errDetailHas("issue", "required")},
		},
		{
			name:    "modify a deposit order",
			confirm: errConfirmable("M-DEPOSIT", errDeposit),
			setup:   []errStep{errPost(errAction("M-DEPOSIT", "complete"), errCompleteBody())},
			req:     errPost(errAction("M-DEPOSIT", "modify"), errModifyBody()),
			status:  400,
			code:    "INVALID_REQUEST",
			facts:   []errFact{errMessageHas("先免模式订单不支持修改金额"), errDetailHas("issue", "DEPOSIT")},
		},
		{
			name:    "modify after sync",
			confirm: errConfirmable("M-DONE", nil),
			setup:   []errStep{errPost(errAction("M-DONE", "complete"), errCompleteBody()), errPost(errAction("M-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("M-DONE", "modify"), errModifyBody()),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "modify"), errDetailIs("state", "DONE")},
		},
		{
			name:   "modify on CREATED",
			setup:  []errStep{errCreateOrder("M-CREATED")},
			req:    errPost(errAction("M-CREATED", "modify"), errModifyBody()),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  append(stateFacts("modify", "CREATED"), errDetailHas("issue", "USER_PAYING")),
		},
		{
			name:   "modify on REVOKED",
			setup:  revoked("M-REVOKED"),
			req:    errPost(errAction("M-REVOKED", "modify"), errModifyBody()),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  stateFacts("modify", "REVOKED"),
		},
		{
			name:   "modify unknown order",
			req:    errPost(errAction("M-UNKNOWN", "modify"), errModifyBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "M-UNKNOWN")},
		},
		// pay
		{
			name:   "pay on CREATED",
			setup:  []errStep{errCreateOrder("P-CREATED")},
			req:    errPost(errAction("P-CREATED", "pay"), errRef(nil)),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  stateFacts("pay", "CREATED"),
		},
		{
			name:   "pay on REVOKED",
			setup:  revoked("P-REVOKED"),
			req:    errPost(errAction("P-REVOKED", "pay"), errRef(nil)),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  stateFacts("pay", "REVOKED"),
		},
		{
			name:   "pay unknown order",
			req:    errPost(errAction("P-UNKNOWN", "pay"), errRef(nil)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "P-UNKNOWN")},
		},
		{
			name:    "pay on DOING/USER_CONFIRM",
			confirm: errConfirmable("P-CONFIRMED", nil),
			req:     errPost(errAction("P-CONFIRMED", "pay"), errRef(nil)),
			status:  400,
			code:    "INVALID_ORDER_STATE",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state_description", "USER_CONFIRM")},
		},
		{
			name:    "pay after sync",
			confirm: errConfirmable("P-DONE", nil),
			setup:   []errStep{errPost(errAction("P-DONE", "complete"), errCompleteBody()), errPost(errAction("P-DONE", "sync"), errSyncBody())},
			req:     errPost(errAction("P-DONE", "pay"), errRef(nil)),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state", "DONE")},
		},
		{
			name:    "pay after cancelling a completed order",
			confirm: errConfirmable("P-CANCELED", nil),
			setup:   []errStep{errPost(errAction("P-CANCELED", "complete"), errCompleteBody()), errCancelOrder("P-CANCELED", "用户取消")},
			req:     errPost(errAction("P-CANCELED", "pay"), errRef(nil)),
			status:  400,
			code:    "ORDER_CANCELED",
			facts:   []errFact{errDetailIs("operation", "pay"), errDetailIs("state", "REVOKED")},
		},
		// sync
		{
			name:    "sync twice",
			confirm: errConfirmable("S-TWICE", nil),
			setup:   []errStep{errPost(errAction("S-TWICE", "complete"), errCompleteBody()), errPost(errAction("S-TWICE", "sync"), errSyncBody())},
			req:     errPost(errAction("S-TWICE", "sync"), errSyncBody()),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "sync"), errDetailIs("state", "DONE")},
		},
		{
			name:    "cancel after sync",
			confirm: errConfirmable("C-DONE", nil),
			setup:   []errStep{errPost(errAction("C-DONE", "complete"), errCompleteBody()), errPost(errAction("C-DONE", "sync"), errSyncBody())},
			req:     errCancelOrder("C-DONE", "用户取消"),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("operation", "cancel"), errDetailIs("state", "DONE")},
		},
		{
			name:    "cancel after a complete with nothing to collect",
			confirm: errConfirmable("C-ZERO", nil),
			setup:   []errStep{errPost(errAction("C-ZERO", "complete"), errRef(map[string]any{"post_payments": []any{map[string]any{"name": "免费", "amount": 0}}, "total_amount": 0, "time_range": map[string]any{"end_time": errCompact(time.Now())}}))},
			req:     errCancelOrder("C-ZERO", "用户取消"),
			status:  400,
			code:    "ORDER_DONE",
			facts:   []errFact{errDetailIs("state", "DONE")},
		},
		{
			name:   "sync on CREATED",
			setup:  []errStep{errCreateOrder("S-CREATED")},
			req:    errPost(errAction("S-CREATED", "sync"), errSyncBody()),
			status: 400,
			code:   "INVALID_ORDER_STATE",
			facts:  stateFacts("sync", "CREATED"),
		},
		{
			name:   "sync on REVOKED",
			setup:  revoked("S-REVOKED"),
			req:    errPost(errAction("S-REVOKED", "sync"), errSyncBody()),
			status: 400,
			code:   "ORDER_CANCELED",
			facts:  stateFacts("sync", "REVOKED"),
		},
		{
			name:   "sync type not Order_Paid",
			setup:  []errStep{errCreateOrder("S-TYPE")},
			req:    errPost(errAction("S-TYPE", "sync"), errRef(map[string]any{"type": "Order_Refund", "detail": map[string]any{"paid_time": "20250101"}})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "type"), errDetailHas("issue", "Order_Paid")},
		},
		{
			name:   "sync paid_time missing",
			setup:  []errStep{errCreateOrder("S-NOTIME")},
			req:    errPost(errAction("S-NOTIME", "sync"), errRef(map[string]any{"type": "Order_Paid"})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "detail.paid_time"), errDetailHas("issue", "required")},
		},
		{
			name:   "sync paid_time bad format",
			setup:  []errStep{errCreateOrder("S-BADTIME")},
			req:    errPost(errAction("S-BADTIME", "sync"), errRef(map[string]any{"type": "Order_Paid", "detail": map[string]any{"paid_time": "2025-01-01"}})),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "detail.paid_time"), errDetailHas("issue", "yyyyMMdd")},
		},
		{
			name:   "sync unknown order",
			req:    errPost(errAction("S-UNKNOWN", "sync"), errSyncBody()),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "S-UNKNOWN")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsRejectCancelAfterComplete: a merchant set to follow the skills doc cannot cancel a
// completed order awaiting payment; the reference quotes production's answer as 400
// PARAM_ERROR "当前订单状态不满足撤销条件".
func TestErrorsRejectCancelAfterComplete(t *testing.T) {
	t.Parallel()
	demoMerchant, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demoMerchant.Settings.RejectCancelAfterComplete = true
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{demoMerchant}})
	demo := sim.DemoClient(t)

	cases := []errCase{
		{
			name:    "cancel a completed order awaiting payment",
			confirm: errConfirmable("RC-COMPLETED", nil),
			setup:   []errStep{errPost(errAction("RC-COMPLETED", "complete"), errCompleteBody())},
			req:     errCancelOrder("RC-COMPLETED", "用户取消"),
			status:  400,
			code:    "PARAM_ERROR",
			facts: []errFact{
				errDetailIs("state_description", "MCH_COMPLETE"),
				errDetailHas("issue", "reject_cancel_after_complete"),
				// SERVER BUG found at e19d8bd (this row failed there): the message was the
				// generic "当前订单状态不合法", and production's text (reference §2.4) was
				// only in detail.issue.
				errMessageHas("当前订单状态不满足撤销条件"),
			},
		},
		{
			// The setting concerns completed orders only: a confirmed one is still cancelled
			// (setup), and then it is REVOKED.
			name:    "a confirmed order is still cancellable",
			confirm: errConfirmable("RC-CONFIRMED", nil),
			setup:   []errStep{errCancelOrder("RC-CONFIRMED", "用户取消")},
			req:     errPost(errAction("RC-CONFIRMED", "modify"), errModifyBody()),
			status:  400,
			code:    "ORDER_CANCELED",
			facts:   []errFact{errDetailIs("state", "REVOKED")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsRouting covers unknown paths and wrong methods.
func TestErrorsRouting(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	cases := []errCase{
		{
			name:   "unknown /v3 path",
			req:    errGet("/v3/payscore/nothing"),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "no Pay Score API at GET /v3/payscore/nothing")},
		},
		{
			name:   "unknown path outside /v3",
			req:    errGet("/nothing"),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "/nothing")},
		},
		{
			name:   "gopay's direct-complete path without /v3",
			req:    errPost("/payscore/serviceorder/direct-complete", map[string]any{"out_order_no": "DC-1"}),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "did you mean /v3/payscore/serviceorder/direct-complete")},
		},
		{
			name:   "unknown action on an order",
			req:    errPost(errAction("R-ORDER", "refund"), errRef(nil)),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "/v3/payscore/serviceorder/R-ORDER/refund")},
		},
		{
			name:   "POST on /healthz",
			req:    errPost("/healthz", map[string]any{}),
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "POST is not allowed on /healthz")},
		},
		// SERVER BUG found at e19d8bd (the three rows below failed there): under /v3 a wrong
		// method was answered 404 NOT_FOUND, never 405. s.echo.Group("/v3", s.logRequests,
		// s.authenticate) makes echo's Group.Use register a catch-all RouteNotFound("/v3/*"),
		// and echo's router prefers a RouteNotFound handler to its 405 handler.
		{
			name:   "DELETE on the order collection",
			req:    errStep{method: http.MethodDelete, target: errOrders},
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "DELETE is not allowed on "+errOrders)},
		},
		{
			name:   "GET on cancel",
			req:    errGet(errAction("R-ORDER", "cancel")),
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "GET is not allowed")},
		},
		{
			name:   "PUT on complete",
			req:    errStep{method: http.MethodPut, target: errAction("R-ORDER", "complete"), body: errRef(nil)},
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "PUT is not allowed")},
		},
	}
	errRunCases(t, demo, cases)
}
