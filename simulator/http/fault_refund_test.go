package http_test

// Refund outcomes on demand: a refund_abnormal or refund_closed fault rule lets the merchant's
// next refund be made as usual and ends it otherwise than SUCCESS, seen through wechatpay-go's
// refund service as the merchant's back end would see it.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// faultRefundLogged returns the fault mark of the request log's record of the refund request
// numbered outRefundNo; it fails the test when there is no such record.
func faultRefundLogged(t *testing.T, sim *simtest.Sim, outRefundNo string) *simulator.InjectedFault {
	t.Helper()
	for _, r := range sdkRequestLog(t, sim) {
		if r.Method == http.MethodPost && r.Target == "/v3/refund/domestic/refunds" && r.Status == http.StatusOK &&
			strings.Contains(r.RequestBody, `"`+outRefundNo+`"`) {
			return r.Fault
		}
	}
	t.Fatalf("the request log has no answered refund request for %s", outRefundNo)
	return nil
}

// faultRefundStatus queries the refund through wechatpay-go.
func faultRefundStatus(t *testing.T, svc refunddomestic.RefundsApiService, outRefundNo string) refunddomestic.Status {
	t.Helper()
	r, _, err := svc.QueryByOutRefundNo(context.Background(), refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(outRefundNo)})
	if err != nil {
		t.Fatalf("query %s: %v", outRefundNo, err)
	}
	return *r.Status
}

// TestFaultRefundAbnormalOnce: the rule makes the next refund end ABNORMAL with its
// notification, marks that refund request injected, and is used up: the refund after it
// succeeds.
func TestFaultRefundAbnormalOnce(t *testing.T) {
	t.Parallel()
	sim, no, tid, svc := wxRefundWorld(t, "faultrefund")
	rule := sim.Fault(t, map[string]any{"operation": "refund", "fault": "refund_abnormal", "times": 1})

	req := wxRefundRequest(tid, "FA-"+no, 100, 300)
	req.NotifyUrl = core.String(sdkNotifyURL)
	first, err := wxRefundCreate(svc, req)
	if err != nil {
		t.Fatalf("create under the rule: %v", err)
	}
	wxCheckRefund(t, "create under the rule", first, "FA-"+no, tid, 100, 300, refunddomestic.STATUS_PROCESSING)
	if _, list := pageControl(t, sim, http.MethodGet, "/sim/v1/faults", nil); len(list["data"].([]any)) != 0 {
		t.Errorf("rules after the refund: %v, want the rule used up", list)
	}
	if f := faultRefundLogged(t, sim, "FA-"+no); f == nil || f.RuleID != rule.ID || f.Fault != simulator.FaultRefundAbnormal {
		t.Errorf("request log mark %+v, want rule %s refund_abnormal", f, rule.ID)
	}
	refundAdvance(t, sim, "1h")
	if got := faultRefundStatus(t, svc, "FA-"+no); got != refunddomestic.STATUS_ABNORMAL {
		t.Fatalf("status after the delay: %s, want ABNORMAL", got)
	}
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/notifications?out_order_no="+no+"&event_type=REFUND.ABNORMAL", nil)
	if data, _ := v["data"].([]any); status != http.StatusOK || len(data) != 1 {
		t.Errorf("REFUND.ABNORMAL notifications: HTTP %d %v, want one", status, v)
	}

	if _, err := wxRefundCreate(svc, wxRefundRequest(tid, "FB-"+no, 100, 300)); err != nil {
		t.Fatalf("create after the rule: %v", err)
	}
	if f := faultRefundLogged(t, sim, "FB-"+no); f != nil {
		t.Errorf("the refund after the rule is marked %+v", f)
	}
	refundAdvance(t, sim, "1h")
	if got := faultRefundStatus(t, svc, "FB-"+no); got != refunddomestic.STATUS_SUCCESS {
		t.Errorf("the refund after the rule: %s, want SUCCESS", got)
	}
}

// TestFaultRefundClosedAfterSystemError: a 500 on the refund request does no work, so the
// outcome rule waits for the retry, which makes the refund; it ends CLOSED.
func TestFaultRefundClosedAfterSystemError(t *testing.T) {
	t.Parallel()
	sim, no, tid, svc := wxRefundWorld(t, "faultclosed")
	sim.Fault(t, map[string]any{"operation": "refund", "fault": "refund_closed"})
	sim.Fault(t, map[string]any{"operation": "refund", "fault": "system_error"})

	_, err := wxRefundCreate(svc, wxRefundRequest(tid, "FC-"+no, 300, 300))
	wxWantAPIError(t, "create under system_error", err, 500, "SYSTEM_ERROR", "")
	if _, list := pageControl(t, sim, http.MethodGet, "/sim/v1/faults", nil); len(list["data"].([]any)) != 1 {
		t.Fatalf("rules after the 500: %v, want the refund_closed rule still in force", list)
	}
	if _, err := wxRefundCreate(svc, wxRefundRequest(tid, "FC-"+no, 300, 300)); err != nil {
		t.Fatalf("retry: %v", err)
	}
	refundAdvance(t, sim, "1h")
	if got := faultRefundStatus(t, svc, "FC-"+no); got != refunddomestic.STATUS_CLOSED {
		t.Errorf("status after the delay: %s, want CLOSED", got)
	}
}
