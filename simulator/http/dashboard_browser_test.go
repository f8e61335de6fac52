package http_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestBrowserDashboard: the dashboard in headless Chromium (with the browser helpers of
// helpers_browser_test.go), clicking its buttons as QA would.

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
