package http_test

// Helpers shared by the test files of this package. Those of the SDK tests (clients, bodies,
// the request log) are in helpers_sdk_test.go, those of the authorization mode in
// helpers_permission_test.go, of visits, the user's pages and the control API in
// helpers_visit_test.go, of the dashboard in helpers_dashboard_test.go, of headless Chromium in
// helpers_browser_test.go, the errors_* tables' in errors_table_test.go; a helper used by one
// file stays in it.

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
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

// ---- time ----

// chinaTime is China Standard Time, in which WeChat's yyyyMMddHHmmss times are written.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// compactTime formats t as yyyyMMddHHmmss in China time.
func compactTime(t time.Time) string { return t.In(chinaTime).Format("20060102150405") }

// compactTimePattern matches a yyyyMMddHHmmss time.
var compactTimePattern = regexp.MustCompile(`^[0-9]{14}$`)

// ---- the second merchant ----

// The second merchant, registered from the other_merchant fixtures. It has two appids so that
// "an appid bound to the merchant but not the order's" can be tested.
const (
	errOtherMchID     = "1900000001"
	errOtherSerial    = "01E1BA53D6DFD8FE4530DCD9834EA6B530F5DF9E"
	errOtherAppID     = "wx1900000001000001"
	errOtherAppID2    = "wx1900000001000002"
	errOtherServiceID = "99999999000011"
)

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

// ---- signed requests, and the shape of the errors they get ----

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
	if cl := resp.Header.Get("Content-Language"); cl != "zh-CN" {
		t.Errorf("Content-Language %q, want zh-CN as production sends", cl)
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

// ---- the simulated clock and the demo merchant's orders ----

// demoOrderBody is a create body that the demo merchant may send for out_order_no no:
// confirm mode, a power-bank rental from when the user confirms to three hours from now, with
// every item the confirmation page shows.
func demoOrderBody(no string) map[string]any {
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments": []any{
			map[string]any{"name": "充电宝租借费", "amount": 300, "description": "每小时3元，封顶30元", "count": 1},
		},
		"post_discounts": []any{
			map[string]any{"name": "新用户优惠", "description": "首单减1元"},
		},
		"time_range": map[string]any{
			"start_time": "OnAccept", "end_time": compactTime(time.Now().Add(3 * time.Hour)), "start_time_remark": "借出后开始计费",
		},
		"location":          map[string]any{"start_location": "深圳湾万象城 B1", "end_location": "任意网点归还"},
		"risk_fund":         map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 10000, "description": "充电宝预估费用"},
		"attach":            "demo order",
		"notify_url":        "https://merchant.example.com/payscore/notify",
		"need_user_confirm": true,
	}
}

// clockAdvance moves the simulator's clock and returns its answer.
func clockAdvance(t *testing.T, sim *simtest.Sim, d string) (int, map[string]any) {
	t.Helper()
	return visitPost(t, sim, "/sim/v1/clock/advance", map[string]any{"duration": d})
}

// clockOrder queries an order of the demo merchant with the signing client.
func clockOrder(t *testing.T, c *client.Client, no string) map[string]any {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?out_order_no="+no+
		"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("query %s: %v %v", no, err, resp)
	}
	var o map[string]any
	if err := resp.Decode(&o); err != nil {
		t.Fatal(err)
	}
	return o
}

// transactionID matches the transaction_id of a deduction: 4200 and 24 more digits.
var transactionID = regexp.MustCompile(`^4200\d{24}$`)

// corsOrderState is the order's state, or "" when the simulator no longer knows it.
func corsOrderState(t *testing.T, sim *simtest.Sim, no string) string {
	t.Helper()
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?"+url.Values{
		"out_order_no": {no}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID}}.Encode(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var o struct{ State string }
	if resp.Status == http.StatusOK {
		if err := resp.Decode(&o); err != nil {
			t.Fatal(err)
		}
	}
	return o.State
}

// ---- signed requests that must not fail (the concurrency and fuzz tests) ----

// concStart is when the services of the tests' orders start: an hour ago, so that an order can
// be completed as soon as the user confirms it. Fixed, so that repeated creates are identical.
var concStart = time.Now().Add(-time.Hour)

// concCreateBody is a create body for out_order_no no. attach tells variants of the same
// out_order_no apart.
func concCreateBody(no, attach string) map[string]any {
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": 300, "count": 1}},
		"time_range":           map[string]any{"start_time": compactTime(concStart), "end_time": compactTime(concStart.Add(3 * time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"attach":               attach,
		"notify_url":           "https://merchant.example.com/payscore/notify",
		"need_user_confirm":    true,
	}
}

// concDo sends one signed request and fails the test on a transport error, a bad response
// signature or a 5xx.
func concDo(t testing.TB, c *client.Client, method, target string, body any) *client.Response {
	t.Helper()
	start := time.Now()
	resp, err := c.Do(context.Background(), method, target, body)
	if err != nil {
		t.Errorf("%s %s: %v", method, target, err)
		return nil
	}
	if resp.Status >= 500 {
		t.Errorf("%s %s: status %d after %v (a server error under concurrency is a bug; SQLITE_BUSY?): %s",
			method, target, resp.Status, time.Since(start).Round(time.Millisecond), resp.Body)
	}
	return resp
}

// concMust sends a setup request and stops the test unless it is answered with status.
func concMust(t testing.TB, c *client.Client, method, target string, body any, status int, v any) {
	t.Helper()
	resp := concDo(t, c, method, target, body)
	if resp == nil || resp.Status != status {
		t.Fatalf("setup %s %s: %+v, want status %d", method, target, resp, status)
	}
	if v != nil {
		if err := resp.Decode(v); err != nil {
			t.Fatal(err)
		}
	}
}

// concOpenVisit creates order no and opens the user's confirmation visit; it returns the
// visit's id.
func concOpenVisit(t testing.TB, c *client.Client, no string) string {
	t.Helper()
	var created struct {
		Package string `json:"package"`
	}
	concMust(t, c, http.MethodPost, "/v3/payscore/serviceorder", concCreateBody(no, "concurrency"), http.StatusOK, &created)
	var visit struct {
		VisitID string `json:"visit_id"`
	}
	concMust(t, c, http.MethodPost, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": created.Package},
	}, http.StatusCreated, &visit)
	return visit.VisitID
}

// ---- raw requests and the keys that verify answers (the malformed and fuzz tests) ----

// malCreate is a valid create body for out_order_no no, as JSON text, so that rows can break it
// byte by byte with strings.Replace.
func malCreate(no string) string {
	now := time.Now().In(chinaTime)
	return fmt.Sprintf(`{"out_order_no":%q,"appid":%q,"service_id":%q,"service_introduction":"共享充电宝",`+
		`"post_payments":[{"name":"租借费","amount":300,"description":"每小时3元","count":1}],`+
		`"time_range":{"start_time":%q,"end_time":%q},"risk_fund":{"name":"ESTIMATE_ORDER_COST","amount":9900},`+
		`"attach":"malformed_test","notify_url":"https://merchant.example.com/payscore/notify","need_user_confirm":true}`,
		no, fixtures.DemoAppID, fixtures.DemoServiceID, now.Format("20060102150405"), now.Add(2*time.Hour).Format("20060102150405"))
}

// malVerifyKeys are the keys the simulator signs answers with, by serial.
func malVerifyKeys(t testing.TB, sim *simtest.Sim) map[string]*rsa.PublicKey {
	t.Helper()
	pub, err := wxcrypto.ParsePublicKey(fixtures.PublicKeyModePublicPEM)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*rsa.PublicKey{
		sim.Platform.CertSerial:  sim.Platform.Cert.PublicKey.(*rsa.PublicKey),
		sim.Platform.PublicKeyID: pub,
	}
}

// ---- the request log ----

// faultRecord waits for the request log's record of the request that fault rule id made, and
// returns it. The log is written once the work is done, so it also tells that the work of a
// request whose client gave up has finished.
func faultRecord(t *testing.T, sim *simtest.Sim, id string) simulator.RequestRecord {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, r := range sdkRequestLog(t, sim) {
			if r.Fault != nil && r.Fault.RuleID == id {
				return r
			}
		}
	}
	t.Fatalf("the request log has no request marked with fault rule %s", id)
	return simulator.RequestRecord{}
}

// ---- refunds ----

// refundStart starts a simulator whose demo merchant's refunds stay PROCESSING for an hour of
// the simulated clock, so that each test moves them on by advancing the clock or deciding the
// outcome, never by waiting.
func refundStart(t *testing.T, edit func(*simulator.Merchant), others ...*simulator.Merchant) *simtest.Sim {
	t.Helper()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demo.Settings.RefundDelay = simulator.Delay(time.Hour)
	if edit != nil {
		edit(demo)
	}
	return simtest.Start(t, app.Options{Merchants: append([]*simulator.Merchant{demo}, others...)})
}

// refundAdvance moves the simulated clock on by d.
func refundAdvance(t *testing.T, sim *simtest.Sim, d string) {
	t.Helper()
	if status, v := clockAdvance(t, sim, d); status != http.StatusOK {
		t.Fatalf("advance clock %s: HTTP %d %v", d, status, v)
	}
}

// refundOutcome decides how the demo merchant's refund outRefundNo ends, through the control API.
func refundOutcome(t *testing.T, sim *simtest.Sim, outRefundNo, status string) map[string]any {
	t.Helper()
	code, v := visitPost(t, sim, "/sim/v1/refunds/"+fixtures.DemoMchID+"/"+outRefundNo+"/outcome", map[string]any{"status": status})
	if code != http.StatusOK {
		t.Fatalf("outcome %s of %s: HTTP %d %v", status, outRefundNo, code, v)
	}
	return v
}
