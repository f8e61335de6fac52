package http_test

// Tests of the dashboard over plain HTTP; dashboard_browser_test.go clicks its buttons in
// headless Chromium as QA would. The helpers both use are in helpers_dashboard_test.go.
//
// Package-level names of the dashboard tests start with dash so that they do not clash with the
// other test files of the package.

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
)

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
