package simtest

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
)

// PaidOrder has the demo merchant create a confirm-mode order with the given out_order_no
// whose notifications go to notifyURL, the user confirm it, and the merchant complete it for
// total fen; it then waits until Pay Score has deducted the amount, and returns the
// deduction's transaction_id, which refunds name.
func (s *Sim) PaidOrder(t testing.TB, outOrderNo string, total int64, notifyURL string) (transactionID string) {
	t.Helper()
	c := s.DemoClient(t)
	ctx := context.Background()
	now := time.Now()
	resp, err := c.Do(ctx, http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no": outOrderNo, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": total, "description": "每小时3元"}},
		"time_range":           map[string]any{"start_time": simulator.FormatCompact(now.Add(-time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": total},
		"notify_url":           notifyURL,
		"need_user_confirm":    true,
	})
	var created struct {
		Package string `json:"package"`
	}
	if err != nil || resp.Status != http.StatusOK || resp.Decode(&created) != nil {
		t.Fatalf("simtest: create %s: %v %s", outOrderNo, err, body(resp))
	}
	s.UserConfirms(t, created.Package)
	resp, err = c.Do(ctx, http.MethodPost, "/v3/payscore/serviceorder/"+outOrderNo+"/complete", map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"post_payments": []any{map[string]any{"name": "租借费", "amount": total, "description": "每小时3元"}},
		"total_amount":  total,
		"time_range":    map[string]any{"end_time": simulator.FormatCompact(now.Add(-time.Minute))},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("simtest: complete %s: %v %s", outOrderNo, err, body(resp))
	}
	return s.waitDeducted(t, outOrderNo)
}

// waitDeducted waits until the order's collection holds a deduction's transaction_id.
func (s *Sim) waitDeducted(t testing.TB, outOrderNo string) string {
	t.Helper()
	o := s.WaitOrder(t, fixtures.DemoMchID, outOrderNo, func(o *simulator.Order) bool {
		return o.Collection != nil && len(o.Collection.Details) > 0 && o.Collection.Details[0].TransactionID != ""
	})
	return o.Collection.Details[0].TransactionID
}

// body describes a response for a failure message; r is nil when the request failed.
func body(r *client.Response) string {
	if r == nil {
		return ""
	}
	return fmt.Sprintf("HTTP %d %s", r.Status, r.Body)
}
