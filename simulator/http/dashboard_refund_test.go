package http_test

// Tests of the refunds on the dashboard's order page: over plain HTTP, then in headless
// Chromium (with the helpers of helpers_dashboard_test.go and helpers_browser_test.go).

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// dashRefundCreate has the demo merchant refund amount of the 300 fen transaction tid, its
// notifications going to notifyURL; it returns the HTTP status.
func dashRefundCreate(t *testing.T, sim *simtest.Sim, key, value, outRefundNo string, amount int, notifyURL string) int {
	t.Helper()
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/refund/domestic/refunds", map[string]any{
		key: value, "out_refund_no": outRefundNo, "notify_url": notifyURL,
		"amount": map[string]any{"refund": amount, "total": 300, "currency": "CNY"},
	})
	if err != nil {
		t.Fatalf("refund %s: %v", outRefundNo, err)
	}
	return resp.Status
}

// dashRefundNotifications are the IDs of the notifications the refund caused, from the control API.
func dashRefundNotifications(t *testing.T, sim *simtest.Sim, outRefundNo string) []string {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/refunds/"+fixtures.DemoMchID+"/"+outRefundNo, nil)
	if status != http.StatusOK {
		t.Fatalf("get refund %s: %d %v", outRefundNo, status, v)
	}
	rec, _ := v["sim"].(map[string]any)
	raw, _ := rec["notifications"].([]any)
	ids := make([]string, len(raw))
	for i, id := range raw {
		ids[i], _ = id.(string)
	}
	return ids
}

// dashRefundWorld pays an order of 300 fen and refunds it twice: RA- 100 fen, succeeded when
// the clock passes its delay, and RB- 100 fen, made ABNORMAL by the test; a third refund of
// 250 fen, more than is left, is refused, and another order is refunded too. It returns the order's out_order_no
// and its deduction's transaction_id.
func dashRefundWorld(t *testing.T, sim *simtest.Sim, notifyURL string) (no, tid string) {
	t.Helper()
	no = dashOutOrderNo("R")
	tid = sim.PaidOrder(t, no, 300, notifyURL)
	other := no + "7"
	otherTid := sim.PaidOrder(t, other, 300, notifyURL)
	if s := dashRefundCreate(t, sim, "transaction_id", tid, "RA-"+no, 100, notifyURL); s != http.StatusOK {
		t.Fatalf("refund RA: HTTP %d", s)
	}
	if s := dashRefundCreate(t, sim, "transaction_id", otherTid, "RA-"+other, 100, notifyURL); s != http.StatusOK {
		t.Fatalf("refund of the other order: HTTP %d", s)
	}
	refundAdvance(t, sim, "1h")
	if s := dashRefundCreate(t, sim, "transaction_id", tid, "RC-"+no, 250, notifyURL); s != http.StatusBadRequest {
		t.Fatalf("refund of 250 when 200 are left: HTTP %d, want 400", s)
	}
	// By the deduction's out_trade_no, which the refund answers with.
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/refunds/"+fixtures.DemoMchID+"/RA-"+no, nil)
	ra, _ := v["refund"].(map[string]any)
	if status != http.StatusOK || ra["status"] != "SUCCESS" {
		t.Fatalf("RA after the advance: %d %v", status, v)
	}
	if s := dashRefundCreate(t, sim, "out_trade_no", ra["out_trade_no"].(string), "RB-"+no, 100, notifyURL); s != http.StatusOK {
		t.Fatalf("refund RB: HTTP %d", s)
	}
	refundOutcome(t, sim, "RB-"+no, "ABNORMAL")
	if resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodGet, "/v3/refund/domestic/refunds/RA-"+no, nil); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("query RA: %v %v", err, resp)
	}
	return no, tid
}

// TestDashOrderRefunds: the order page shows each refund of the order, with its numbers,
// history and notifications (and the order's own notifications apart), and lists the refund
// requests about the order among its requests, not those of another order.
func TestDashOrderRefunds(t *testing.T) {
	t.Parallel()
	sim := refundStart(t, nil)
	ep := dashNewEndpoint(t)
	no, tid := dashRefundWorld(t, sim, ep.URL+"/notify")
	ra, rb := dashRefundNotifications(t, sim, "RA-"+no), dashRefundNotifications(t, sim, "RB-"+no)
	if len(ra) != 1 || len(rb) != 1 {
		t.Fatalf("notifications of RA %v and RB %v, want one each", ra, rb)
	}

	body := dashPage(t, sim.URL+dashOrderPath(no), http.StatusOK,
		`id="refund-RA-`+no+`"`, `id="refund-RB-`+no+`"`,
		`<span class="pill pill-SUCCESS" id="refund-RA-`+no+`-status">SUCCESS</span>`,
		`<span class="pill pill-ABNORMAL" id="refund-RB-`+no+`-status">ABNORMAL</span>`,
		"¥1.00 of ¥3.00", "<code>"+tid+"</code>", "支付用户零钱",
		"merchant: refund", "clock: refund outcome due", "test: refund outcome ABNORMAL",
		`<code>PROCESSING</code> → <code>SUCCESS</code>`,
		`href="/dashboard/notifications/`+ra[0]+`" id="notification-`+ra[0]+`-link"`,
		`href="/dashboard/notifications/`+rb[0]+`" id="notification-`+rb[0]+`-link"`,
		"REFUND.SUCCESS", "REFUND.ABNORMAL", "PAYSCORE.USER_PAID",
		`href="/sim/v1/refunds/`+fixtures.DemoMchID+`/RA-`+no+`"`,
		// The requests: the refunds by transaction_id (RA, and the refused RC), by out_trade_no
		// (RB), and the query of RA.
		"RA-"+no, "RC-"+no, `<code class="target">/v3/refund/domestic/refunds/RA-`+no+`</code>`)
	dashLacks(t, body, "RA-"+no+"7")

	// Each refund's notification is under it, once, and not among the order's own.
	refunds := body[strings.Index(body, `id="refunds"`):]
	refundsEnd := strings.Index(refunds, "</section>")
	own := body[strings.Index(body, `id="order-notifications"`):strings.Index(body, `id="refunds"`)]
	for _, id := range []string{ra[0], rb[0]} {
		if strings.Count(body, `id="notification-`+id+`"`) != 1 || !strings.Contains(refunds[:refundsEnd], `id="notification-`+id+`"`) {
			t.Errorf("notification %s is not shown once, under its refund", id)
		}
	}
	if strings.Contains(own, "REFUND.") || !strings.Contains(own, "PAYSCORE.USER_PAID") {
		t.Errorf("the order's own notifications: %s", own)
	}
	// Beside the Pay Score requests of PaidOrder (create, complete, queries until deducted):
	// RA, RC, RB and RA's query.
	requests := body[strings.Index(body, `id="order-requests"`):]
	if !strings.Contains(requests, `<code class="target">/v3/payscore/serviceorder/`+no+`/complete</code>`) {
		t.Error("the order page lacks the order's complete among its requests")
	}
	if n := strings.Count(requests, `<code class="target">/v3/refund/domestic/refunds`); n != 4 {
		t.Errorf("the order page lists %d refund requests, want 4 (RA, RC, RB, the query of RA)", n)
	}

	// An order with no deduction has no refunds, and says how one would be made.
	bare := dashOutOrderNo("N")
	dashCreate(t, sim, bare, "")
	dashPage(t, sim.URL+dashOrderPath(bare), http.StatusOK, "No refunds: the order has no deduction through Pay Score")
	dashPage(t, sim.URL+dashOrderPath(no+"7"), http.StatusOK, `id="refund-RA-`+no+`7"`)
}

// TestBrowserDashboardRefunds: in Chromium, a refund's state history and notifications show
// under its order, its notification link leads to the notification's page with the decrypted
// refund, and the refund requests are among the order's.
func TestBrowserDashboardRefunds(t *testing.T) {
	browser := pageBrowser(t)
	sim := refundStart(t, nil)
	ep := dashNewEndpoint(t)
	ep.ok.Store(true)
	no, tid := dashRefundWorld(t, sim, ep.URL+"/notify")
	ra := dashRefundNotifications(t, sim, "RA-"+no)
	if len(ra) != 1 {
		t.Fatalf("notifications of RA: %v", ra)
	}
	tab := dashTab(t, browser)
	orderURL := sim.URL + dashOrderPath(no)

	pageNavigate(t, tab, orderURL, http.StatusOK)
	dashVisible(t, tab, "refunds")
	pageWantText(t, tab, "refund-RA-"+no+"-status", "SUCCESS")
	pageWantText(t, tab, "refund-RB-"+no+"-status", "ABNORMAL")
	pageWantText(t, tab, "refund-RA-"+no, "¥1.00 of ¥3.00", tid, "ORIGINAL", "success_time")
	pageWantText(t, tab, "refund-RA-"+no+"-history", "PROCESSING", "merchant: refund", "PROCESSING → SUCCESS", "clock: refund outcome due")
	pageWantText(t, tab, "refund-RB-"+no+"-history", "PROCESSING → ABNORMAL", "test: refund outcome ABNORMAL")
	if n := pageCount(t, tab, "#refunds .refund"); n != 2 {
		t.Errorf("%d refunds under the order, want 2", n)
	}
	pageWantText(t, tab, "refund-RB-"+no+"-notifications", "REFUND.ABNORMAL")
	pageWantText(t, tab, "order-requests", "/v3/refund/domestic/refunds", "INVALID_REQUEST", "申请退款金额超过订单可退金额", "/v3/refund/domestic/refunds/RA-"+no)
	if n := pageCount(t, tab, "#order-requests tbody.request-failed"); n != 1 {
		t.Errorf("%d failed requests on the order page, want 1 (RC, too much)", n)
	}

	// The notification's page: the refund decrypted.
	dashReloadUntil(t, tab, orderURL, "#refund-RA-"+no+"-notifications .pill-DELIVERED")
	pageClick(t, tab, "notification-"+ra[0]+"-link")
	pageWantText(t, tab, "envelope", `"event_type": "REFUND.SUCCESS"`, `"original_type": "refund"`)
	pageWantText(t, tab, "resource", `"out_refund_no": "RA-`+no+`"`, `"refund_status": "SUCCESS"`, `"transaction_id": "`+tid+`"`)
	pageWantText(t, tab, "attempt-1", "200")
}
