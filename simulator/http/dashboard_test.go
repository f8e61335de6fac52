package http_test

// Tests of the dashboard: TestDash* over plain HTTP, TestBrowserDashboard in headless Chromium
// (with the browser helpers of pages_test.go), clicking the dashboard's buttons as QA would.
//
// Package-level names in this file start with dash so that they do not clash with the other
// test files of the package.

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// dashSeq makes out_order_nos unique within the test binary.
var dashSeq atomic.Int64

func dashOutOrderNo(tag string) string {
	return fmt.Sprintf("DASH%s%d%d", tag, time.Now().UnixNano()%1e9, dashSeq.Add(1))
}

// dashStart starts a simulator whose notifications are retried only after an hour, so that in a
// test only the first attempt and the dashboard's resend deliver them.
func dashStart(t *testing.T) *simtest.Sim {
	t.Helper()
	return simtest.Start(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}})
}

// dashCreate creates a confirm-mode order of the demo merchant (pageOrderBody, notify_url
// replaced when notifyURL is set) and returns its package.
func dashCreate(t *testing.T, sim *simtest.Sim, no, notifyURL string) string {
	t.Helper()
	return pageCreate(t, sim, no, func(b map[string]any) {
		if notifyURL != "" {
			b["notify_url"] = notifyURL
		}
	})
}

// dashConfirm opens a wxpayScoreUse visit of the package and confirms it through the control
// API; it returns the visit id.
func dashConfirm(t *testing.T, sim *simtest.Sim, pkg string) string {
	t.Helper()
	id, _ := pageOpenUse(t, sim, pkg)
	if status, v := pageControl(t, sim, http.MethodPost, "/sim/v1/visits/"+id+"/confirm", nil); status != http.StatusOK {
		t.Fatalf("confirm %s: %d %v", id, status, v)
	}
	return id
}

// dashComplete completes the demo merchant's order for 250 fen, and waits for Pay Score's
// deduction, which comes after the complete.
func dashComplete(t *testing.T, sim *simtest.Sim, no string) {
	t.Helper()
	end := time.Now().In(simulator.ChinaTime).Format("20060102150405")
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+no+"/complete", map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{{"name": "充电宝租借费", "amount": 250}},
		"total_amount":  250, "time_range": map[string]any{"end_time": end},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("complete %s: %v %d %s", no, err, resp.Status, resp.Body)
	}
	sim.WaitDeducted(t, fixtures.DemoMchID, no)
}

// dashOrder is the order as the control API shows it.
func dashOrder(t *testing.T, sim *simtest.Sim, no string) map[string]any {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/orders/"+fixtures.DemoMchID+"/"+url.PathEscape(no), nil)
	if status != http.StatusOK {
		t.Fatalf("get order %s: %d %v", no, status, v)
	}
	return v
}

// dashOrderState is the order's state, state_description and collection state, as the control
// API shows them: "DONE" or "DOING MCH_COMPLETE USER_PAYING".
func dashOrderState(t *testing.T, sim *simtest.Sim, no string) string {
	t.Helper()
	o, _ := dashOrder(t, sim, no)["order"].(map[string]any)
	s := fmt.Sprint(o["state"])
	if d, ok := o["state_description"].(string); ok {
		s += " " + d
	}
	if c, ok := o["collection"].(map[string]any); ok {
		s += " " + fmt.Sprint(c["state"])
	}
	return s
}

func dashOrderPath(no string) string {
	return "/dashboard/orders/" + fixtures.DemoMchID + "/" + url.PathEscape(no)
}

// dashPost posts a form without following the redirect, and returns the answer and its body.
func dashPost(t *testing.T, target string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := pageNoRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// dashWantSeeOther posts the form and checks that it answers 303 to location.
func dashWantSeeOther(t *testing.T, target string, form url.Values, location string) {
	t.Helper()
	resp, body := dashPost(t, target, form, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("POST %s %v: %d Location %q, want 303 to %s; body %s", target, form, resp.StatusCode, resp.Header.Get("Location"), location, body)
	}
}

// dashWantRejected posts the form and checks the WeChat-shaped error page: status and code.
func dashWantRejected(t *testing.T, target string, form url.Values, status int, code string, fragments ...string) {
	t.Helper()
	resp, body := dashPost(t, target, form, nil)
	pageWantHTML(t, resp, body, status, append([]string{`<code id="error-code">` + code + `</code>`}, fragments...)...)
}

// dashPage fetches a dashboard page and checks that it is HTML with the status and fragments,
// under the pages' Content-Security-Policy.
func dashPage(t *testing.T, target string, status int, fragments ...string) string {
	t.Helper()
	resp, body := pageGet(t, http.MethodGet, target)
	pageWantHTML(t, resp, body, status, fragments...)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("GET %s: Content-Security-Policy %q", target, csp)
	}
	return body
}

// dashLacks checks that a page does not hold the fragments.
func dashLacks(t *testing.T, body string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if strings.Contains(body, f) {
			t.Errorf("page holds %q", f)
		}
	}
}

// dashClock is the control API's clock offset in seconds.
func dashClock(t *testing.T, sim *simtest.Sim) float64 {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/clock", nil)
	if status != http.StatusOK {
		t.Fatalf("clock: %d %v", status, v)
	}
	return v["offset_seconds"].(float64)
}

// dashEndpoint is a merchant's notification endpoint on loopback: it answers 500 until ok is
// set, then 200, and counts what it received.
type dashEndpoint struct {
	*httptest.Server
	ok       atomic.Bool
	received atomic.Int64
}

func dashNewEndpoint(t *testing.T) *dashEndpoint {
	t.Helper()
	e := &dashEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		e.received.Add(1)
		if !e.ok.Load() {
			http.Error(w, `{"code":"FAIL","message":"merchant endpoint down on purpose"}`, http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.Close)
	return e
}

// dashNotification is a notification as the control API shows it, with its attempts.
type dashNotification struct {
	ID        string `json:"id"`
	EventType string `json:"event_type"`
	State     string `json:"state"`
	Attempts  []struct {
		Status  int    `json:"status"`
		Success bool   `json:"success"`
		Lab     string `json:"lab"`
		Error   string `json:"error"`
	} `json:"attempts"`
}

// dashWaitNotification waits until the order has a notification of the event whose attempts
// satisfy done, and returns it.
func dashWaitNotification(t *testing.T, sim *simtest.Sim, no, event string, done func(dashNotification) bool) dashNotification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, list := pageControl(t, sim, http.MethodGet, "/sim/v1/notifications?out_order_no="+url.QueryEscape(no)+"&event_type="+event, nil)
		if status != http.StatusOK {
			t.Fatalf("list notifications: %d %v", status, list)
		}
		if data, _ := list["data"].([]any); len(data) == 1 {
			id, _ := data[0].(map[string]any)["id"].(string)
			resp, body := pageGet(t, http.MethodGet, sim.URL+"/sim/v1/notifications/"+id)
			var n dashNotification
			if err := json.Unmarshal([]byte(body), &n); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("get notification %s: %d %v %s", id, resp.StatusCode, err, body)
			}
			if done(n) {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s notification of %s reached the wanted state in time: %v", event, no, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dashAttempts(n int) func(dashNotification) bool {
	return func(x dashNotification) bool { return len(x.Attempts) >= n }
}

// dashWrongKey is an RSA key no merchant of the simulator has.
func dashWrongKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dashBadSignature sends a create request for no, signed with a key the simulator does not
// know under the demo merchant's serial, and returns the id under which the request log keeps
// it.
func dashBadSignature(t *testing.T, sim *simtest.Sim, c *client.Client, no string) int64 {
	t.Helper()
	body, err := json.Marshal(pageOrderBody(no))
	if err != nil {
		t.Fatal(err)
	}
	const target = "/v3/payscore/serviceorder"
	auth, err := wxcrypto.Authorize(fixtures.DemoMchID, fixtures.DemoMerchantSerial, dashWrongKey(t), http.MethodPost, target, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.NewRequest(context.Background(), http.MethodPost, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.Send(req)
	if err != nil || resp.Status != http.StatusUnauthorized || resp.Err().Code != "SIGN_ERROR" {
		t.Fatalf("badly signed create: %v %v", err, resp)
	}
	status, list := pageControl(t, sim, http.MethodGet, "/sim/v1/requests?failed=true&limit=1000", nil)
	if status != http.StatusOK {
		t.Fatalf("list requests: %d %v", status, list)
	}
	data, _ := list["data"].([]any)
	for _, r := range data {
		rec := r.(map[string]any)
		if b, _ := rec["request_body"].(string); strings.Contains(b, no) {
			return int64(rec["id"].(float64))
		}
	}
	t.Fatalf("the request log holds no failed request for %s", no)
	return 0
}

// dashSignedLine matches the start of the message the simulator verifies for a create: method,
// target, timestamp and nonce on lines of their own, then the JSON body.
var dashSignedLine = regexp.MustCompile(`^POST\n/v3/payscore/serviceorder\n\d+\n[0-9A-Za-z]+\n\{`)

func TestDashOverview(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	body := dashPage(t, sim.URL+"/", http.StatusOK,
		`id="clock-now"`, `id="advance-30d"`, `action="/dashboard/clock/advance"`,
		fixtures.DemoMchID, fixtures.DemoAppID, fixtures.DemoServiceID, fixtures.DemoMerchantSerial, fixtures.PlatformSerial,
		`<details class="secret" id="demo-secret-api_v3_key">`, "merchant_private_key_pem", "-----BEGIN",
		"reject_cancel_after_complete", "No orders yet", "No failed requests.", "No notifications.")
	if strings.Contains(body, "<script") {
		t.Error("the dashboard holds a script")
	}
	// The keys are on the page (they are published test keys) but only inside <details>.
	if i, j := strings.Index(body, fixtures.DemoAPIv3Key), strings.Index(body, `id="demo-secret-api_v3_key"`); i < 0 || i < j {
		t.Errorf("the APIv3 key is not shown, or not inside its <details> (at %d, details at %d)", i, j)
	}

	no := dashOutOrderNo("O")
	dashCreate(t, sim, no, "")
	dashBadSignature(t, sim, sim.DemoClient(t), dashOutOrderNo("S"))
	dashPage(t, sim.URL+"/", http.StatusOK,
		`href="`+dashOrderPath(no)+`"`, no, "共享充电宝", "CREATED", "¥100.00",
		"SIGN_ERROR", "错误的签名，验签失败", "no key the simulator knows")

	// GET /dashboard leads to the overview.
	resp, _ := pageGet(t, http.MethodGet, sim.URL+"/dashboard")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("GET /dashboard: %d Location %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = pageGet(t, http.MethodGet, sim.URL+"/static/dashboard.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, ".dash-grid") {
		t.Errorf("GET /static/dashboard.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestDashClockAdvance(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	advance := sim.URL + "/dashboard/clock/advance"
	dashWantSeeOther(t, advance, url.Values{"duration": {"24h"}}, "/")
	if got := dashClock(t, sim); got != 86400 {
		t.Fatalf("offset after +24h: %v s", got)
	}
	dashWantSeeOther(t, advance, url.Values{"duration": {"30d"}}, "/")
	dashWantSeeOther(t, advance, url.Values{"duration": {" 1d12h "}}, "/")
	dashWantSeeOther(t, advance, url.Values{"duration": {"90s"}}, "/")
	want := float64(86400 + 30*86400 + 36*3600 + 90)
	if got := dashClock(t, sim); got != want {
		t.Fatalf("offset: %v s, want %v", got, want)
	}
	dashPage(t, sim.URL+"/", http.StatusOK, `<span id="clock-offset">&#43;32d 12h 1m 30s</span>`, `id="top-clock-offset">&#43;32d 12h 1m 30s<`)

	for _, d := range []string{"", "-1h", "0s", "ten minutes", "1d-30h", "d", "99999999h"} {
		resp, body := dashPost(t, advance, url.Values{"duration": {d}}, nil)
		pageWantHTML(t, resp, body, http.StatusBadRequest, `<code id="error-code">PARAM_ERROR</code>`, "duration")
	}
	if got := dashClock(t, sim); got != want {
		t.Errorf("a refused advance moved the clock: %v s, want %v", got, want)
	}
	// What was refused is shown back.
	dashWantRejected(t, advance, url.Values{"duration": {"ten minutes"}}, http.StatusBadRequest, "PARAM_ERROR", `id="error-request"`, "ten minutes")
}

func TestDashCrossSitePostRefused(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	resp, body := dashPost(t, sim.URL+"/dashboard/clock/advance", url.Values{"duration": {"1h"}},
		map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"})
	pageWantHTML(t, resp, body, http.StatusForbidden, `<code id="error-code">NO_AUTH</code>`, "cross-origin")
	if got := dashClock(t, sim); got != 0 {
		t.Errorf("a cross-site post moved the clock by %v s", got)
	}
	resp, body = dashPost(t, sim.URL+"/dashboard/clock/advance", url.Values{"duration": {"1h"}},
		map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": sim.URL})
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("same-origin post: %d %s", resp.StatusCode, body)
	}
}

func TestDashOrderPage(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	c := sim.DemoClient(t)
	// no is a prefix of other, whose requests must not show on no's page.
	no := dashOutOrderNo("P")
	other := no + "7"
	pkg := dashCreate(t, sim, no, "")
	dashCreate(t, sim, other, "")
	id, _ := pageOpenUse(t, sim, pkg)
	orderPath := dashOrderPath(no)

	body := dashPage(t, sim.URL+orderPath, http.StatusOK,
		`<code id="order-no">`+no+`</code>`, "CREATED", "共享充电宝", "ESTIMATE_ORDER_COST", `id="order-json"`,
		`&#34;out_order_no&#34;: &#34;`+no+`&#34;`, "merchant: create",
		`href="/sim/visits/`+id+`"`, `action="/dashboard/visits/`+id+`/confirm"`, `action="/dashboard/visits/`+id+`/back"`,
		`id="deduction-immediate"`, `id="deduction-fail"`, `id="deduction-on_pay"`, "immediate (the default)", `id="user-pays"`)
	dashLacks(t, body, `/dashboard/visits/`+id+`/return"`)

	// The user's steps, from the dashboard.
	dashWantRejected(t, sim.URL+"/dashboard/visits/"+id+"/return", nil, http.StatusBadRequest, "INVALID_REQUEST", "用户尚未确认订单")
	dashWantSeeOther(t, sim.URL+"/dashboard/visits/"+id+"/confirm", nil, orderPath)
	dashWantSeeOther(t, sim.URL+"/dashboard/visits/"+id+"/return", nil, orderPath)
	queryID := pageVisitQueryID(t, sim, id)
	if queryID == "" {
		t.Fatal("no query_id after return with params from the dashboard")
	}
	pageWantState(t, sim, "query_id", queryID, "DOING", "USER_CONFIRM")
	dashComplete(t, sim, no)
	// A request naming other only.
	if resp, err := c.Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?out_order_no="+other+
		"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, nil); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("query %s: %v %v", other, err, resp)
	}

	body = dashPage(t, sim.URL+orderPath, http.StatusOK,
		"DONE", "USER_PAID", "user: confirm", "merchant: complete", "pay score: deduction",
		`<code>CREATED</code> → <code>DOING/USER_CONFIRM</code>`,
		`<code class="block query-id">`+queryID+`</code>`, "return_with_params",
		// The requests: the create (no in the body), the query by query_id, the complete.
		`<code class="target">/v3/payscore/serviceorder</code>`,
		`query_id=`+queryID+`&amp;service_id=`,
		`<code class="target">/v3/payscore/serviceorder/`+no+`/complete</code>`,
		"PAYSCORE.USER_CONFIRM", "PAYSCORE.USER_PAID")
	dashLacks(t, body, "out_order_no="+other, `/dashboard/visits/`+id+`/`)
	if n := strings.Count(body, `<tbody class="request `); n != 3 {
		t.Errorf("the order page lists %d requests, want 3 (create, query, complete)", n)
	}
	if n := strings.Count(body, `class="history-row"`); n != 4 {
		t.Errorf("the order page shows %d history rows, want 4 (create, confirm, complete, deduction)", n)
	}

	// An order that does not exist, and a malformed path.
	dashPage(t, sim.URL+dashOrderPath("NOPE"), http.StatusNotFound, `<code id="error-code">ORDER_NOT_EXIST</code>`, "has no order with out_order_no NOPE")
}

func TestDashOrderEncodedOutOrderNo(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	no := dashOutOrderNo("E") + "|A*"
	pkg := dashCreate(t, sim, no, "")
	dashConfirm(t, sim, pkg)
	// The client signs the target as sent, encoded.
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+url.PathEscape(no)+"/cancel",
		map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "test"})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("cancel: %v %v", err, resp)
	}
	path := dashOrderPath(no)
	if !strings.Contains(path, "%7C") {
		t.Fatalf("path %s does not encode |", path)
	}
	body := dashPage(t, sim.URL+path, http.StatusOK, "REVOKED", "merchant: cancel", "/cancel</code>")
	if n := strings.Count(body, `<tbody class="request `); n != 2 {
		t.Errorf("the order page lists %d requests, want 2 (create, cancel)", n)
	}
}

func TestDashOrderActions(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	no := dashOutOrderNo("A")
	dashConfirm(t, sim, dashCreate(t, sim, no, ""))
	orderPath := dashOrderPath(no)

	dashWantRejected(t, sim.URL+orderPath+"/user-pays", nil, http.StatusBadRequest, "INVALID_ORDER_STATE")
	dashWantRejected(t, sim.URL+orderPath+"/deduction", url.Values{"mode": {"sometimes"}}, http.StatusBadRequest, "PARAM_ERROR", "immediate, fail, on_pay")
	dashWantRejected(t, sim.URL+orderPath+"/deduction", nil, http.StatusBadRequest, "PARAM_ERROR", "immediate, fail, on_pay")
	dashWantRejected(t, sim.URL+dashOrderPath("NOPE")+"/deduction", url.Values{"mode": {"fail"}}, http.StatusNotFound, "ORDER_NOT_EXIST")
	dashWantRejected(t, sim.URL+"/dashboard/orders/999/"+no+"/user-pays", nil, http.StatusBadRequest, "PARAM_ERROR", "is not a merchant of this simulator")

	dashWantSeeOther(t, sim.URL+orderPath+"/deduction", url.Values{"mode": {"fail"}}, orderPath)
	if sim := dashOrder(t, sim, no)["sim"].(map[string]any); sim["deduction"] != "fail" {
		t.Fatalf("deduction after the dashboard set it: %v", sim["deduction"])
	}
	dashPage(t, sim.URL+orderPath, http.StatusOK, "fail (set for this order)")
	dashComplete(t, sim, no)
	if s := dashOrderState(t, sim, no); s != "DOING MCH_COMPLETE USER_PAYING" {
		t.Fatalf("after complete with deduction fail: %s", s)
	}
	dashWantSeeOther(t, sim.URL+orderPath+"/user-pays", nil, orderPath)
	if s := dashOrderState(t, sim, no); s != "DONE USER_PAID" {
		t.Fatalf("after the user paid: %s", s)
	}
	dashPage(t, sim.URL+orderPath, http.StatusOK, "user: paid", "NEWTON")
}

func TestDashVisitActionRejections(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	no := dashOutOrderNo("V")
	id, _ := pageOpenUse(t, sim, dashCreate(t, sim, no, ""))
	dashWantRejected(t, sim.URL+"/dashboard/visits/"+id+"/authorize-all", nil, http.StatusBadRequest, "PARAM_ERROR", "must be one of confirm, authorize, decline, not_eligible, return, back, android_back")
	dashWantRejected(t, sim.URL+"/dashboard/visits/no-such-visit/confirm", nil, http.StatusNotFound, "VISIT_NOT_EXIST")
	dashWantSeeOther(t, sim.URL+"/dashboard/visits/"+id+"/back", nil, dashOrderPath(no))
	if s := dashOrderState(t, sim, no); s != "CREATED" {
		t.Errorf("the back icon before confirming left the order %s, want CREATED", s)
	}
	dashWantRejected(t, sim.URL+"/dashboard/visits/"+id+"/confirm", nil, http.StatusBadRequest, "INVALID_REQUEST", "already ended", `href="/sim/visits/`+id+`"`)
}

func TestDashRequests(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	c := sim.DemoClient(t)
	good := dashOutOrderNo("G")
	dashCreate(t, sim, good, "")
	bad := dashOutOrderNo("B")
	id := dashBadSignature(t, sim, c, bad)

	body := dashPage(t, sim.URL+"/dashboard/requests", http.StatusOK,
		`id="req-`+strconv.FormatInt(id, 10)+`"`, `id="req-`+strconv.FormatInt(id, 10)+`-signed-string"`,
		"SIGN_ERROR", "错误的签名，验签失败", "<code>would_match</code>", "no key the simulator knows produced this signature",
		"<code>key_tried</code>", "<code>expected_serials</code>", fixtures.DemoMerchantSerial, "<code>timestamp_skew_seconds</code>",
		"request body", "response body", good)
	// The signed string, escaped, on lines of its own.
	m := regexp.MustCompile(`(?s)id="req-` + strconv.FormatInt(id, 10) + `-signed-string">(.*?)</pre>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no signed_string <pre> for the failed request")
	}
	signed := strings.NewReplacer("&#34;", `"`, "&amp;", "&", "&lt;", "<", "&gt;", ">", "&#43;", "+").Replace(m[1])
	if !dashSignedLine.MatchString(signed) || !strings.Contains(signed, `"out_order_no":"`+bad+`"`) {
		t.Errorf("signed_string reads %q", signed)
	}
	// The diagnostic of a failed request is open; the bodies are not.
	if !strings.Contains(body, `id="req-`+strconv.FormatInt(id, 10)+`-diagnostic" open>`) {
		t.Error("the failed request's diagnostic is not open")
	}

	failed := dashPage(t, sim.URL+"/dashboard/requests?failed=1", http.StatusOK, bad, `id="filter-failed" checked`)
	dashLacks(t, failed, `&#34;out_order_no&#34;: &#34;`+good+`&#34;`)
	dashPage(t, sim.URL+"/dashboard/requests?mchid="+fixtures.DemoMchID+"&limit=1", http.StatusOK, "1 shown")
	none := dashPage(t, sim.URL+"/dashboard/requests?mchid=1900000001", http.StatusOK, "No requests.")
	dashLacks(t, none, bad, good)

	dashPage(t, sim.URL+"/dashboard/requests?failed=maybe", http.StatusBadRequest, "PARAM_ERROR", "failed")
	dashPage(t, sim.URL+"/dashboard/requests?limit=0", http.StatusBadRequest, "PARAM_ERROR", "limit")
	dashPage(t, sim.URL+"/dashboard/requests?mchid=a&mchid=b", http.StatusBadRequest, "PARAM_ERROR", "must be given once")
}

func TestDashNotification(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	ep := dashNewEndpoint(t)
	no := dashOutOrderNo("N")
	dashConfirm(t, sim, dashCreate(t, sim, no, ep.URL+"/notify"))
	n := dashWaitNotification(t, sim, no, "PAYSCORE.USER_CONFIRM", dashAttempts(1))
	path := "/dashboard/notifications/" + n.ID

	body := dashPage(t, sim.URL+path, http.StatusOK,
		`<code id="notification-id">`+n.ID+`</code>`, "PAYSCORE.USER_CONFIRM", `href="`+dashOrderPath(no)+`"`,
		// The envelope as sent and the resource decrypted.
		`id="envelope"`, "encrypt-resource", "AEAD_AES_256_GCM", "ciphertext",
		`id="resource"`, `&#34;out_order_no&#34;: &#34;`+no+`&#34;`, `&#34;state&#34;: &#34;DOING&#34;`,
		`id="attempt-1"`, "HTTP 500: only 200 or 204 acknowledges a notification", "merchant endpoint down on purpose",
		`<dd id="attempt-count">1 <span`, `id="resend"`, `id="lab-bad_signature"`, `id="lab-signtest"`, `id="lab-stale_timestamp"`, `id="lab-unknown_serial"`, `id="lab-duplicate"`)
	dashLacks(t, body, `id="attempt-2"`)

	ep.ok.Store(true)
	dashWantSeeOther(t, sim.URL+path+"/resend", nil, path)
	n = dashWaitNotification(t, sim, no, "PAYSCORE.USER_CONFIRM", dashAttempts(2))
	if a := n.Attempts[1]; !a.Success || a.Status != 200 || a.Lab != "" || n.State != "DELIVERED" {
		t.Fatalf("after resend: %+v", n)
	}
	dashWantSeeOther(t, sim.URL+path+"/lab", url.Values{"variant": {"stale_timestamp"}}, path)
	dashPage(t, sim.URL+path, http.StatusOK, "DELIVERED", `<dd id="attempt-count">2 <span`,
		`id="attempt-2"`, `id="attempt-3"`, `<span class="pill pill-lab">stale_timestamp</span>`)
	if got := ep.received.Load(); got != 3 {
		t.Errorf("the endpoint received %d notifications, want 3", got)
	}

	dashWantRejected(t, sim.URL+path+"/lab", url.Values{"variant": {"gremlins"}}, http.StatusBadRequest, "PARAM_ERROR", "bad_signature, signtest")
	dashWantRejected(t, sim.URL+"/dashboard/notifications/nope/resend", nil, http.StatusNotFound, "NOTIFICATION_NOT_EXIST")
	dashWantRejected(t, sim.URL+"/dashboard/notifications/nope/lab", url.Values{"variant": {"duplicate"}}, http.StatusNotFound, "NOTIFICATION_NOT_EXIST")
	dashPage(t, sim.URL+"/dashboard/notifications/nope", http.StatusNotFound, "NOTIFICATION_NOT_EXIST")
	// The overview lists it.
	dashPage(t, sim.URL+"/", http.StatusOK, `href="`+path+`"`, "DELIVERED")
}

func TestDashPermissions(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	dashPage(t, sim.URL+"/dashboard/permissions", http.StatusOK, "No permissions")
	status, p := pageControl(t, sim, http.MethodPost, "/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": "oDASHuser1", "authorization_code": "DASH-AUTH-1",
	})
	if status != http.StatusOK {
		t.Fatalf("seed permission: %d %v", status, p)
	}
	pid := p["id"].(string)
	revoke := "/dashboard/permissions/" + fixtures.DemoMchID + "/DASH-AUTH-1/revoke"
	dashPage(t, sim.URL+"/dashboard/permissions", http.StatusOK, "DASH-AUTH-1", "oDASHuser1", "AVAILABLE",
		`id="revoke-`+pid+`"`, `action="`+revoke+`"`, `name="service_id" value="`+fixtures.DemoServiceID+`"`)

	dashWantSeeOther(t, sim.URL+revoke, url.Values{"service_id": {fixtures.DemoServiceID}}, "/dashboard/permissions")
	body := dashPage(t, sim.URL+"/dashboard/permissions?state=UNAVAILABLE", http.StatusOK, "DASH-AUTH-1", "UNAVAILABLE", "by the user")
	dashLacks(t, body, `id="revoke-`+pid+`"`)
	dashPage(t, sim.URL+"/dashboard/permissions?state=AVAILABLE", http.StatusOK, "No permissions")

	dashWantRejected(t, sim.URL+revoke, nil, http.StatusBadRequest, "INVALID_REQUEST", "AVAILABLE")
	dashWantRejected(t, sim.URL+"/dashboard/permissions/"+fixtures.DemoMchID+"/NOPE/revoke", nil, http.StatusNotFound, "ORDER_NOT_EXIST", "请求操作的授权记录不存在")
	dashPage(t, sim.URL+"/dashboard/permissions?state=SOMETIMES", http.StatusBadRequest, "PARAM_ERROR")
}

func TestDashEscapesOrderText(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	no := dashOutOrderNo("X")
	pageCreate(t, sim, no, func(b map[string]any) {
		b["service_introduction"] = "<b>x</b>"
		b["location"] = map[string]any{"start_location": "<script>alert(1)</script>"}
	})
	for _, target := range []string{"/", dashOrderPath(no), "/dashboard/requests"} {
		body := dashPage(t, sim.URL+target, http.StatusOK, "&lt;b&gt;x&lt;/b&gt;")
		dashLacks(t, body, "<b>", "<script")
	}
	dashPage(t, sim.URL+dashOrderPath(no), http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;")
}

// ---- in the browser ---------------------------------------------------------------------------

// dashTab opens a desktop-sized tab of the browser, closed when the test ends.
func dashTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// dashVisible checks that the element with the id is rendered (not inside a closed <details>,
// not hidden).
func dashVisible(t *testing.T, tab context.Context, id string) {
	t.Helper()
	js, _ := json.Marshal(id)
	ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(
		"(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')(document.getElementById(%s))", js)))
	if err != nil {
		t.Fatalf("visibility of #%s: %v", id, err)
	}
	if !ok {
		t.Errorf("#%s is not visible", id)
	}
}

// dashReloadUntil reloads the page until it has an element that matches the CSS selector.
func dashReloadUntil(t *testing.T, tab context.Context, target, selector string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		pageNavigate(t, tab, target, http.StatusOK)
		if pageCount(t, tab, selector) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has no %s", target, selector)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// dashClickStatus clicks a button and returns the status of the page it leads to.
func dashClickStatus(t *testing.T, tab context.Context, id string) int {
	t.Helper()
	resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
	return int(resp.Status)
}

// dashClockNow reads the overview's clock.
func dashClockNow(t *testing.T, tab context.Context) time.Time {
	t.Helper()
	s := pageText(t, tab, "clock-now")
	now, err := time.ParseInLocation("2006-01-02 15:04:05", strings.TrimSpace(s), simulator.ChinaTime)
	if err != nil {
		t.Fatalf("#clock-now reads %q: %v", s, err)
	}
	return now
}

// TestBrowserDashboard drives the dashboard in headless Chromium: each subtest a scenario in
// its own tab, then the screenshots of what they left.
func TestBrowserDashboard(t *testing.T) {
	browser := pageBrowser(t)
	sim := dashStart(t)
	var scenarioNo string

	ok := t.Run("scenarios", func(t *testing.T) {
		t.Run("OrderRequestsNotifications", func(t *testing.T) {
			t.Parallel()
			tab := dashTab(t, browser)
			ep := dashNewEndpoint(t)
			no := dashOutOrderNo("S")
			scenarioNo = no
			id, _ := pageOpenUse(t, sim, dashCreate(t, sim, no, ep.URL+"/payscore/notify"))
			orderURL := sim.URL + dashOrderPath(no)

			// The user confirms and returns, with the dashboard's buttons.
			pageNavigate(t, tab, orderURL, http.StatusOK)
			pageWantText(t, tab, "order-state", "CREATED")
			pageWantText(t, tab, "visits", id, "wxpayScoreUse", "extraData")
			pageClick(t, tab, "visit-"+id+"-confirm")
			pageWantText(t, tab, "order-state", "DOING", "USER_CONFIRM")
			pageClick(t, tab, "visit-"+id+"-return")
			queryID := pageVisitQueryID(t, sim, id)
			if queryID == "" {
				t.Fatal("no query_id after the dashboard's return button")
			}
			pageWantText(t, tab, "query-ids", queryID)
			pageWantText(t, tab, "visits", "return_with_params", queryID)
			if n := pageCount(t, tab, "#visits form"); n != 0 {
				t.Errorf("an ended visit still offers %d buttons", n)
			}

			// The merchant queries and completes; the first notification fails.
			pageWantState(t, sim, "query_id", queryID, "DOING", "USER_CONFIRM")
			dashComplete(t, sim, no)
			n := dashWaitNotification(t, sim, no, "PAYSCORE.USER_CONFIRM", dashAttempts(1))
			dashWaitNotification(t, sim, no, "PAYSCORE.USER_PAID", dashAttempts(1))

			pageNavigate(t, tab, orderURL, http.StatusOK)
			pageWantText(t, tab, "order-state", "DONE", "USER_PAID")
			pageWantText(t, tab, "order-summary", "¥2.50", "NEWTON", fixtures.DemoAppID)
			pageWantText(t, tab, "order-json", `"out_order_no": "`+no+`"`, `"state": "DONE"`)
			pageWantText(t, tab, "history", "CREATED", "merchant: create", "CREATED → DOING/USER_CONFIRM", "user: confirm",
				"DOING/USER_CONFIRM → DOING/MCH_COMPLETE (collection USER_PAYING)", "merchant: complete",
				"DOING/MCH_COMPLETE (collection USER_PAYING) → DONE (collection USER_PAID)", "pay score: deduction")
			if n := pageCount(t, tab, "#history .history-row"); n != 4 {
				t.Errorf("%d history rows, want 4", n)
			}
			pageWantText(t, tab, "order-requests", "POST", "/v3/payscore/serviceorder", "GET", "query_id="+queryID,
				"/v3/payscore/serviceorder/"+no+"/complete", "200")
			if n := pageCount(t, tab, "#order-requests tbody.request"); n != 3 {
				t.Errorf("%d requests on the order page, want 3 (create, query, complete)", n)
			}
			pageWantText(t, tab, "order-notifications", "PAYSCORE.USER_CONFIRM", "PAYSCORE.USER_PAID", "PENDING")

			// The notification: wire body beside the decrypted one, then resend and the lab.
			pageClick(t, tab, "notification-"+n.ID+"-link")
			pageWantText(t, tab, "envelope", `"id": "`+n.ID+`"`, `"event_type": "PAYSCORE.USER_CONFIRM"`, `"algorithm": "AEAD_AES_256_GCM"`, `"ciphertext"`)
			pageWantText(t, tab, "resource", `"out_order_no": "`+no+`"`, `"state": "DOING"`, `"state_description": "USER_CONFIRM"`)
			pageWantText(t, tab, "attempt-1", "500", "HTTP 500", "merchant endpoint down on purpose")
			if c := pageCount(t, tab, "#attempts .attempt-row"); c != 1 {
				t.Fatalf("%d attempts before the resend, want 1", c)
			}
			ep.ok.Store(true)
			pageClick(t, tab, "resend")
			dashReloadUntil(t, tab, sim.URL+"/dashboard/notifications/"+n.ID, "#attempt-2")
			pageWantText(t, tab, "attempt-2", "200")
			pageWantText(t, tab, "notification-state", "DELIVERED")
			if c := pageCount(t, tab, "#attempt-2 .pill-lab"); c != 0 {
				t.Error("the resent attempt is marked as a lab delivery")
			}

			pageClick(t, tab, "lab-bad_signature")
			pageWantText(t, tab, "attempt-3", "bad_signature", "200")
			if c := pageCount(t, tab, "#attempts .attempt-row"); c != 3 {
				t.Errorf("%d attempts after resend and lab, want 3", c)
			}
			if c := pageText(t, tab, "attempt-count"); !strings.HasPrefix(c, "2 ") {
				t.Errorf("#attempt-count reads %q, want 2 regular attempts (the lab one is not counted)", c)
			}
			if got := ep.received.Load(); got < 3 {
				t.Errorf("the endpoint received %d notifications, want at least 3", got)
			}
		})

		t.Run("FailedSignature", func(t *testing.T) {
			t.Parallel()
			tab := dashTab(t, browser)
			no := dashOutOrderNo("F")
			id := strconv.FormatInt(dashBadSignature(t, sim, sim.DemoClient(t), no), 10)

			pageNavigate(t, tab, sim.URL+"/", http.StatusOK)
			pageWantText(t, tab, "failed-requests", "SIGN_ERROR", "401", "错误的签名，验签失败")

			pageNavigate(t, tab, sim.URL+"/dashboard/requests", http.StatusOK)
			if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("filter-failed"))); err != nil {
				t.Fatal(err)
			}
			pageClick(t, tab, "filter-submit")
			loc, err := chromedp.Run(tab, chromedp.Location())
			if err != nil || !strings.Contains(loc, "failed=1") {
				t.Fatalf("the filter led to %s (%v)", loc, err)
			}
			if n := pageCount(t, tab, "tbody.request:not(.request-failed)"); n != 0 {
				t.Errorf("failed only shows %d successful requests", n)
			}
			pageWantText(t, tab, "req-"+id, "POST", "/v3/payscore/serviceorder", "401", "SIGN_ERROR", "错误的签名，验签失败",
				"would_match", "no key the simulator knows produced this signature",
				"key_tried", fixtures.DemoMerchantSerial, "expected_serials", "timestamp_skew_seconds")
			dashVisible(t, tab, "req-"+id+"-signed-string")
			signed := pageText(t, tab, "req-"+id+"-signed-string")
			if !dashSignedLine.MatchString(signed) || !strings.Contains(signed, `"out_order_no":"`+no+`"`) {
				t.Errorf("the signed string reads %q", signed)
			}
		})

		t.Run("DeductionThenUserPays", func(t *testing.T) {
			t.Parallel()
			tab := dashTab(t, browser)
			no := dashOutOrderNo("D")
			dashConfirm(t, sim, dashCreate(t, sim, no, ""))
			pageNavigate(t, tab, sim.URL+dashOrderPath(no), http.StatusOK)
			pageWantText(t, tab, "deduction-mode", "immediate (the default)")
			pageClick(t, tab, "deduction-fail")
			pageWantText(t, tab, "deduction-mode", "fail (set for this order)")
			dashComplete(t, sim, no)
			pageNavigate(t, tab, sim.URL+dashOrderPath(no), http.StatusOK)
			pageWantText(t, tab, "order-state", "DOING", "MCH_COMPLETE", "USER_PAYING")
			pageClick(t, tab, "user-pays")
			pageWantText(t, tab, "order-state", "DONE", "USER_PAID")
			pageWantText(t, tab, "history", "user: paid")
			if s := dashOrderState(t, sim, no); s != "DONE USER_PAID" {
				t.Errorf("the control API says %s", s)
			}
		})

		t.Run("Permissions", func(t *testing.T) {
			t.Parallel()
			tab := dashTab(t, browser)
			code := "DASH-B-" + strconv.FormatInt(dashSeq.Add(1), 10)
			status, p := pageControl(t, sim, http.MethodPost, "/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", map[string]any{
				"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": "oDASHbrowser", "authorization_code": code,
			})
			if status != http.StatusOK {
				t.Fatalf("seed permission: %d %v", status, p)
			}
			pid := p["id"].(string)
			pageNavigate(t, tab, sim.URL+"/dashboard/permissions", http.StatusOK)
			pageWantText(t, tab, "permission-"+pid, code, "oDASHbrowser", "AVAILABLE")
			pageClick(t, tab, "revoke-"+pid)
			pageWantText(t, tab, "permission-"+pid, "UNAVAILABLE", "by the user")
			if n := pageCount(t, tab, "#revoke-"+pid); n != 0 {
				t.Error("a revoked permission still offers its revoke button")
			}
		})

		t.Run("AdvanceClock", func(t *testing.T) {
			t.Parallel()
			// Its own simulator: moving the clock would move the other scenarios' too.
			sim := dashStart(t)
			tab := dashTab(t, browser)
			pageNavigate(t, tab, sim.URL+"/", http.StatusOK)
			before := dashClockNow(t, tab)
			pageWantText(t, tab, "clock-offset", "0")
			pageClick(t, tab, "advance-30d")
			after := dashClockNow(t, tab)
			if d := after.Sub(before); d < 30*24*time.Hour || d > 30*24*time.Hour+time.Minute {
				t.Errorf("+30d moved the shown clock by %v", d)
			}
			pageWantText(t, tab, "clock-offset", "+30d")
			pageWantText(t, tab, "top-clock-offset", "+30d")

			if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("advance-duration"), "1d12h")); err != nil {
				t.Fatal(err)
			}
			pageClick(t, tab, "advance-submit")
			pageWantText(t, tab, "clock-offset", "+31d 12h")
			if d := dashClockNow(t, tab).Sub(after); d < 36*time.Hour || d > 36*time.Hour+time.Minute {
				t.Errorf("1d12h moved the shown clock by %v", d)
			}

			if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("advance-duration"), "soon")); err != nil {
				t.Fatal(err)
			}
			if status := dashClickStatus(t, tab, "advance-submit"); status != http.StatusBadRequest {
				t.Errorf("advancing by \"soon\": status %d, want 400", status)
			}
			pageWantText(t, tab, "error-code", "PARAM_ERROR")
			pageWantText(t, tab, "error-request", "duration", "soon")
			if got := dashClock(t, sim); got != float64(31*86400+12*3600) {
				t.Errorf("offset %v s after a refused advance", got)
			}
		})
	})

	// What the scenarios left, for the README (PAYSCORE_SIM_SCREENSHOTS=1).
	t.Run("Screenshots", func(t *testing.T) {
		if !ok || scenarioNo == "" {
			t.Skip("the scenarios failed")
		}
		tab := dashTab(t, browser)
		pageNavigate(t, tab, sim.URL+"/", http.StatusOK)
		pageWantText(t, tab, "orders", scenarioNo)
		pageScreenshot(t, tab, "dashboard.png")
		pageNavigate(t, tab, sim.URL+dashOrderPath(scenarioNo), http.StatusOK)
		pageScreenshot(t, tab, "dashboard-order.png")
	})
}
