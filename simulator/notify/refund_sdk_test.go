package notify_test

// A merchant's refund notify endpoint built on each SDK's own handler (wechatpay-go's
// notify.NewRSANotifyHandler, gopay's V3ParseNotify + VerifySignByPK + DecryptRefundCipherText)
// receives REFUND.SUCCESS, REFUND.ABNORMAL and REFUND.CLOSED, at the request's notify_url or
// else at the merchant's refund notify URL, and a refund notification refused once is retried.

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// refundNotifySim starts a simulator whose demo merchant's refunds end an hour after they are
// accepted, as outcome says, with refund notifications to notifyURL unless a request names one.
func refundNotifySim(t *testing.T, outcome simulator.RefundOutcome, notifyURL string) *simtest.Sim {
	t.Helper()
	return notifyStart(t, refundNotifyOptions(t, outcome, notifyURL), false)
}

func refundNotifyOptions(t *testing.T, outcome simulator.RefundOutcome, notifyURL string) app.Options {
	t.Helper()
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	demo.Settings.RefundDelay = simulator.Delay(time.Hour)
	demo.Settings.RefundOutcome = outcome
	demo.Settings.RefundNotifyURL = notifyURL
	return app.Options{Merchants: []*simulator.Merchant{demo}, NotifySchedule: simulator.RetrySchedule{10 * time.Millisecond}}
}

// refundCreate refunds refund of total fen of transaction tid as the demo merchant.
func refundCreate(t *testing.T, sim *simtest.Sim, tid, outRefundNo, notifyURL string, refund, total int64) {
	t.Helper()
	body := map[string]any{
		"transaction_id": tid, "out_refund_no": outRefundNo,
		"amount": map[string]any{"refund": refund, "total": total, "currency": "CNY"},
	}
	if notifyURL != "" {
		body["notify_url"] = notifyURL
	}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/refund/domestic/refunds", body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("refund %s: %v %d %s", outRefundNo, err, resp.Status, resp.Body)
	}
}

// refundCheckReceived checks what both SDKs made of a refund notification.
func refundCheckReceived(t *testing.T, r *notifyReceived, tid, outRefundNo, status string, refund, total int64) {
	t.Helper()
	if r.WechatpayGo != nil || r.GoPay != nil || r.GoPayMap != nil {
		t.Fatalf("%s: wechatpay-go %v, gopay %v, gopay by serial %v; want both to verify and decrypt", outRefundNo, r.WechatpayGo, r.GoPay, r.GoPayMap)
	}
	req, c, g := r.WechatpayGoRequest, r.WechatpayGoContent, r.GoPayRefund
	wantEvent := "REFUND." + status
	if req.EventType != wantEvent || req.Resource.OriginalType != "refund" || req.Resource.AssociatedData != "refund" || req.ResourceType != "encrypt-resource" {
		t.Errorf("%s: event %s, original_type %s, associated_data %q, resource_type %s; want %s, refund, refund, encrypt-resource",
			outRefundNo, req.EventType, req.Resource.OriginalType, req.Resource.AssociatedData, req.ResourceType, wantEvent)
	}
	if c.MchID != fixtures.DemoMchID || c.TransactionID != tid || c.OutRefundNo != outRefundNo || c.RefundStatus != status ||
		c.OutTradeNo == "" || c.RefundID == "" || c.UserReceivedAccount == "" || c.Amount == nil ||
		c.Amount.Refund != refund || c.Amount.Total != total || c.Amount.PayerRefund != refund || c.Amount.PayerTotal != total {
		t.Errorf("%s: wechatpay-go decrypted %s", outRefundNo, r.WechatpayGoRequest.Resource.Plaintext)
	}
	if (c.SuccessTime != nil) != (status == "SUCCESS") {
		t.Errorf("%s: success_time %v with refund_status %s", outRefundNo, c.SuccessTime, status)
	}
	if g.OutRefundNo != outRefundNo || g.RefundStatus != status || g.TransactionId != tid || g.Amount == nil || g.Amount.Refund != int(refund) {
		t.Errorf("%s: gopay decrypted %+v", outRefundNo, g)
	}
}

// TestRefundNotificationsBothSDKs: each outcome's notification, at the request's notify_url,
// as both SDKs' handlers verify and decrypt it; the summary of REFUND.SUCCESS is 退款成功.
func TestRefundNotificationsBothSDKs(t *testing.T) {
	t.Parallel()
	e := notifyNewEndpoint(t, false)
	sim := refundNotifySim(t, "", "")
	no := notifyOutOrderNo("rfsdk")
	tid := sim.PaidOrder(t, no, 300, "https://merchant.example.com/payscore/notify")

	refundCreate(t, sim, tid, "RS-"+no, e.URL, 100, 300)
	if _, v := notifyPost(t, sim, "/sim/v1/clock/advance", map[string]any{"duration": "1h"}); v["now"] == nil {
		t.Fatalf("advance clock: %v", v)
	}
	// The refund runner settles the refund and queues REFUND.SUCCESS without any query.
	got := e.waitCount(t, 1, 10*time.Second)
	refundCheckReceived(t, got[0], tid, "RS-"+no, "SUCCESS", 100, 300)
	if got[0].WechatpayGoRequest.Summary != "退款成功" {
		t.Errorf("summary = %q, want 退款成功", got[0].WechatpayGoRequest.Summary)
	}

	for i, status := range []string{"ABNORMAL", "CLOSED"} {
		outRefundNo := "R" + status[:1] + "-" + no
		notifyPost(t, sim, "/sim/v1/clock/advance", map[string]any{"duration": "61s"})
		refundCreate(t, sim, tid, outRefundNo, e.URL, 50, 300)
		if code, v := notifyPost(t, sim, "/sim/v1/refunds/"+fixtures.DemoMchID+"/"+outRefundNo+"/outcome", map[string]any{"status": status}); code != http.StatusOK {
			t.Fatalf("outcome %s: %d %v", status, code, v)
		}
		got = e.waitCount(t, 2+i, 10*time.Second)
		refundCheckReceived(t, got[1+i], tid, outRefundNo, status, 50, 300)
	}
	// Listed under the Pay Score order, by event type.
	n := notifyFind(t, sim, no, simulator.EventRefundClosed)
	var resource struct {
		OutRefundNo string `json:"out_refund_no"`
	}
	if err := json.Unmarshal(n.Resource, &resource); err != nil || resource.OutRefundNo != "RC-"+no || n.Summary != "退款关闭" {
		t.Errorf("REFUND.CLOSED of order %s: resource %s, summary %s", no, n.Resource, n.Summary)
	}
}

// TestRefundNotificationMerchantSettings: with no notify_url in the request, the notification
// goes to the merchant's refund notify URL; the merchant's outcome setting makes it CLOSED; a
// refusal is retried on the schedule.
func TestRefundNotificationMerchantSettings(t *testing.T) {
	t.Parallel()
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) {
		e.reply = func(i int, _ *notifyReceived) int {
			if i == 0 {
				return http.StatusInternalServerError
			}
			return http.StatusOK
		}
	})
	sim := refundNotifySim(t, "CLOSED", e.URL)
	no := notifyOutOrderNo("rfset")
	tid := sim.PaidOrder(t, no, 300, "https://merchant.example.com/payscore/notify")

	refundCreate(t, sim, tid, "RM-"+no, "", 300, 300)
	notifyPost(t, sim, "/sim/v1/clock/advance", map[string]any{"duration": "1h"})
	got := e.waitCount(t, 2, 10*time.Second)
	for _, r := range got[:2] {
		refundCheckReceived(t, r, tid, "RM-"+no, "CLOSED", 300, 300)
	}
	if got[0].envelopeID(t) != got[1].envelopeID(t) {
		t.Error("the retry carries another notification id")
	}
	n := notifyWaitState(t, sim, notifyFind(t, sim, no, simulator.EventRefundClosed).ID, "DELIVERED", 2, 10*time.Second)
	if n.AttemptCount != 2 {
		t.Errorf("attempts = %d, want 2 (one refused, one acknowledged)", n.AttemptCount)
	}
}

// TestRefundOutcomeSurvivesRestart: a refund accepted by one simulator, whose outcome falls due
// while another runs on the same database, succeeds there and is notified, with no query.
func TestRefundOutcomeSurvivesRestart(t *testing.T) {
	t.Parallel()
	e := notifyNewEndpoint(t, false)
	opts := refundNotifyOptions(t, "", "")
	opts.DB = filepath.Join(t.TempDir(), "sim.db")
	first := notifyOpen(t, opts)
	firstSim := notifyDemoSim(first)
	no := notifyOutOrderNo("rfrestart")
	tid := firstSim.PaidOrder(t, no, 300, "https://merchant.example.com/payscore/notify")
	refundCreate(t, firstSim, tid, "RR-"+no, e.URL, 300, 300)
	notifyClose(t, first)

	second := notifyStart(t, opts, false)
	notifyPost(t, second, "/sim/v1/clock/advance", map[string]any{"duration": "1h"})
	got := e.waitCount(t, 1, 10*time.Second)
	refundCheckReceived(t, got[0], tid, "RR-"+no, "SUCCESS", 300, 300)
}
