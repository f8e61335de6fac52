package http_test

// These tests refund Pay Score deductions through wechatpay-go's typed refund service
// (services/refunddomestic), unmodified: it signs as the demo merchant, validates every
// response's signature, and decodes the Refund model, whose times are *time.Time.

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

var refundIDPattern = regexp.MustCompile(`^503[0-9]{26}$`)

func wxRefundCreate(svc refunddomestic.RefundsApiService, req refunddomestic.CreateRequest) (*refunddomestic.Refund, error) {
	resp, _, err := svc.Create(context.Background(), req)
	return resp, err
}

func wxRefundRequest(transactionID, outRefundNo string, refund, total int64) refunddomestic.CreateRequest {
	return refunddomestic.CreateRequest{
		TransactionId: core.String(transactionID),
		OutRefundNo:   core.String(outRefundNo),
		Reason:        core.String("充电宝提前归还"),
		Amount:        &refunddomestic.AmountReq{Refund: core.Int64(refund), Total: core.Int64(total), Currency: core.String("CNY")},
	}
}

// wxRefundWorld starts a simulator (see refundStart) with a Pay Score order of the demo
// merchant, tagged tag, whose deduction of 300 transaction tid is paid, and the demo merchant's
// wechatpay-go refund service.
func wxRefundWorld(t *testing.T, tag string) (sim *simtest.Sim, no, tid string, svc refunddomestic.RefundsApiService) {
	t.Helper()
	sim = refundStart(t, nil)
	no = sdkOutOrderNo(t, tag)
	tid = sim.PaidOrder(t, no, 300, sdkNotifyURL)
	return sim, no, tid, refunddomestic.RefundsApiService{Client: sim.WechatPayGo(t)}
}

// wxWantAPIError checks that err is the *core.APIError production answers.
func wxWantAPIError(t *testing.T, op string, err error, status int, code, message string) *core.APIError {
	t.Helper()
	var apiErr *core.APIError
	if !errors.As(err, &apiErr) {
		t.Fatalf("%s: err = %v, want a *core.APIError %d %s", op, err, status, code)
	}
	if apiErr.StatusCode != status || apiErr.Code != code || (message != "" && apiErr.Message != message) {
		t.Fatalf("%s: HTTP %d %s %q, want %d %s %q (%s)", op, apiErr.StatusCode, apiErr.Code, apiErr.Message, status, code, message, apiErr.Body)
	}
	return apiErr
}

// TestWechatPayGoRefunds: partial refunds of one deduction by transaction_id and by its
// out_trade_no, an idempotent repeat, a mismatched repeat, refunds a minute apart, too much,
// the Pay Score out_order_no refused as production refuses it, and PROCESSING → SUCCESS on the
// simulated clock.
func TestWechatPayGoRefunds(t *testing.T) {
	t.Parallel()
	sim, no, tid, svc := wxRefundWorld(t, "wxrefund")

	before := time.Now()
	first, err := wxRefundCreate(svc, wxRefundRequest(tid, "RF-"+no, 100, 300))
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	wxCheckRefund(t, "create", first, "RF-"+no, tid, 100, 300, refunddomestic.STATUS_PROCESSING)
	if first.CreateTime.Before(before.Add(-time.Second)) {
		t.Errorf("create_time %s is before the request", first.CreateTime)
	}
	if *first.OutTradeNo == no {
		t.Errorf("out_trade_no = the order's out_order_no %s; a deduction has an out_trade_no of its own", no)
	}

	again, err := wxRefundCreate(svc, wxRefundRequest(tid, "RF-"+no, 100, 300))
	if err != nil || *again.RefundId != *first.RefundId {
		t.Fatalf("the same request again: %v, refund_id %v; want the same refund %s", err, again, *first.RefundId)
	}
	_, err = wxRefundCreate(svc, wxRefundRequest(tid, "RF-"+no, 50, 300))
	wxWantAPIError(t, "the same out_refund_no for another amount", err, 400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致,请核实后再试")
	_, err = wxRefundCreate(svc, wxRefundRequest(tid, "RF2-"+no, 100, 300))
	wxWantAPIError(t, "a second refund within a minute", err, 429, "FREQUENCY_LIMITED", "")
	_, err = wxRefundCreate(svc, wxRefundRequest(tid, "RF2-"+no, 100, 299))
	wxWantAPIError(t, "amount.total other than the deduction's", err, 400, "INVALID_REQUEST", "订单金额或退款金额与之前请求不一致,请核实后再试")

	refundAdvance(t, sim, "61s")
	byTradeNo := wxRefundRequest("", "RF2-"+no, 150, 300)
	byTradeNo.TransactionId, byTradeNo.OutTradeNo = nil, first.OutTradeNo
	second, err := wxRefundCreate(svc, byTradeNo)
	if err != nil {
		t.Fatalf("refund by the deduction's out_trade_no: %v", err)
	}
	wxCheckRefund(t, "create by out_trade_no", second, "RF2-"+no, tid, 150, 300, refunddomestic.STATUS_PROCESSING)

	refundAdvance(t, sim, "61s")
	_, err = wxRefundCreate(svc, wxRefundRequest(tid, "RF3-"+no, 51, 300))
	wxWantAPIError(t, "more than is left", err, 400, "INVALID_REQUEST", "申请退款金额超过订单可退金额")

	byOrderNo := wxRefundRequest("", "RF4-"+no, 1, 300)
	byOrderNo.TransactionId, byOrderNo.OutTradeNo = nil, core.String(no)
	_, err = wxRefundCreate(svc, byOrderNo)
	wxWantAPIError(t, "refund by the Pay Score out_order_no", err, 404, "RESOURCE_NOT_EXISTS", "订单不存在")

	query := func(outRefundNo string) (*refunddomestic.Refund, error) {
		r, _, err := svc.QueryByOutRefundNo(context.Background(), refunddomestic.QueryByOutRefundNoRequest{OutRefundNo: core.String(outRefundNo)})
		return r, err
	}
	got, err := query("RF-" + no)
	if err != nil {
		t.Fatalf("query: %v", err)
	}
	wxCheckRefund(t, "query", got, "RF-"+no, tid, 100, 300, refunddomestic.STATUS_PROCESSING)
	refundAdvance(t, sim, "1h")
	got, err = query("RF-" + no)
	if err != nil {
		t.Fatalf("query after an hour: %v", err)
	}
	wxCheckRefund(t, "query after an hour", got, "RF-"+no, tid, 100, 300, refunddomestic.STATUS_SUCCESS)
	_, err = query("RF-nobody")
	wxWantAPIError(t, "query of an unknown refund", err, 404, "RESOURCE_NOT_EXISTS", "退款单不存在")
}

// wxCheckRefund checks a refund as wechatpay-go decoded it.
func wxCheckRefund(t *testing.T, op string, r *refunddomestic.Refund, outRefundNo, tid string, refund, total int64, status refunddomestic.Status) {
	t.Helper()
	switch {
	case r == nil || r.RefundId == nil || r.Status == nil || r.Amount == nil || r.CreateTime == nil:
		t.Fatalf("%s: %v lacks refund_id, status, amount or create_time", op, r)
	case !refundIDPattern.MatchString(*r.RefundId):
		t.Errorf("%s: refund_id = %s, want 29 digits starting 503", op, *r.RefundId)
	case *r.OutRefundNo != outRefundNo || *r.TransactionId != tid || *r.OutTradeNo == "":
		t.Errorf("%s: out_refund_no %s, transaction_id %s, out_trade_no %q; want %s, %s and a deduction number", op, *r.OutRefundNo, *r.TransactionId, *r.OutTradeNo, outRefundNo, tid)
	case *r.Status != status:
		t.Errorf("%s: status = %s, want %s", op, *r.Status, status)
	case *r.Channel != refunddomestic.CHANNEL_ORIGINAL || *r.UserReceivedAccount != "支付用户零钱":
		t.Errorf("%s: channel %s, account %s; want ORIGINAL, 支付用户零钱", op, *r.Channel, *r.UserReceivedAccount)
	case (r.SuccessTime != nil) != (status == refunddomestic.STATUS_SUCCESS):
		t.Errorf("%s: success_time = %v with status %s; it is there only once SUCCESS", op, r.SuccessTime, status)
	}
	a := r.Amount
	if *a.Refund != refund || *a.Total != total || *a.PayerRefund != refund || *a.PayerTotal != total ||
		*a.SettlementRefund != refund || *a.SettlementTotal != total || *a.DiscountRefund != 0 || *a.Currency != "CNY" {
		t.Errorf("%s: amount = %+v, want refund %d of %d, no discount", op, a, refund, total)
	}
	if a.From == nil || len(a.From) != 0 || r.PromotionDetail == nil || len(r.PromotionDetail) != 0 {
		t.Errorf("%s: amount.from %v, promotion_detail %v; production sends both as []", op, a.From, r.PromotionDetail)
	}
}

// TestRefundIsolation: another merchant refunding or querying with the demo merchant's
// transaction_id and out_refund_no finds nothing.
func TestRefundIsolation(t *testing.T) {
	t.Parallel()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	sim := refundStart(t, nil, other)
	no := sdkOutOrderNo(t, "isorefund")
	tid := sim.PaidOrder(t, no, 300, sdkNotifyURL)
	svc := refunddomestic.RefundsApiService{Client: sim.WechatPayGo(t)}
	if _, err := wxRefundCreate(svc, wxRefundRequest(tid, "ISO-RF-"+no, 100, 300)); err != nil {
		t.Fatal(err)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	intruder := sim.Client(t, other.MchID, fixtures.OtherMerchantSerial, key)
	ctx := context.Background()
	resp, err := intruder.Do(ctx, http.MethodPost, "/v3/refund/domestic/refunds", map[string]any{
		"transaction_id": tid, "out_refund_no": "ISO-RF-" + no,
		"amount": map[string]any{"refund": 100, "total": 300, "currency": "CNY"},
	})
	if err != nil || resp.Status != http.StatusNotFound || resp.Err().Code != "RESOURCE_NOT_EXISTS" {
		t.Errorf("another merchant refunding the demo merchant's transaction: %v %d %s, want 404 RESOURCE_NOT_EXISTS", err, resp.Status, resp.Body)
	}
	resp, err = intruder.Do(ctx, http.MethodGet, "/v3/refund/domestic/refunds/ISO-RF-"+no, nil)
	if err != nil || resp.Status != http.StatusNotFound || resp.Err().Code != "RESOURCE_NOT_EXISTS" {
		t.Errorf("another merchant querying the demo merchant's refund: %v %d %s, want 404 RESOURCE_NOT_EXISTS", err, resp.Status, resp.Body)
	}
}

// TestRefundControlList: the control API lists a merchant's refunds by order and status, with
// the simulator's record (here: no notification, since neither the request nor the merchant
// names a URL), and refuses a status that is none.
func TestRefundControlList(t *testing.T) {
	t.Parallel()
	sim, no, tid, svc := wxRefundWorld(t, "rflist")
	if _, err := wxRefundCreate(svc, wxRefundRequest(tid, "RL-"+no, 100, 300)); err != nil {
		t.Fatal(err)
	}
	refundOutcome(t, sim, "RL-"+no, "ABNORMAL")
	var list struct {
		Data []struct {
			Refund struct {
				OutRefundNo string `json:"out_refund_no"`
				Status      string `json:"status"`
			} `json:"refund"`
			Sim struct {
				OutOrderNo string `json:"out_order_no"`
				History    []struct {
					From, To, Cause string
				} `json:"history"`
				Notifications []string `json:"notifications"`
				Warnings      []string `json:"warnings"`
			} `json:"sim"`
		} `json:"data"`
	}
	get := func(query string, v any) int {
		t.Helper()
		resp, err := http.Get(sim.URL + "/sim/v1/refunds?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode
	}
	if code := get("mchid="+fixtures.DemoMchID+"&out_order_no="+no+"&status=ABNORMAL", &list); code != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("list: HTTP %d, %+v", code, list)
	}
	r := list.Data[0]
	if r.Refund.OutRefundNo != "RL-"+no || r.Refund.Status != "ABNORMAL" || r.Sim.OutOrderNo != no ||
		len(r.Sim.History) != 2 || r.Sim.History[1].To != "ABNORMAL" ||
		len(r.Sim.Notifications) != 0 || len(r.Sim.Warnings) != 1 || !strings.Contains(r.Sim.Warnings[0], "no REFUND.ABNORMAL notification was sent") {
		t.Errorf("listed %+v", r)
	}
	if code := get("status=SUCCESS&out_order_no="+no, &list); code != http.StatusOK || len(list.Data) != 0 {
		t.Errorf("SUCCESS refunds of the order: HTTP %d, %+v", code, list)
	}
	var e struct{ Code string }
	if code := get("status=DONE", &e); code != http.StatusBadRequest || e.Code != "PARAM_ERROR" {
		t.Errorf("status=DONE: HTTP %d %s, want 400 PARAM_ERROR", code, e.Code)
	}
}

// TestRefundSettledByClockAdvance: advancing the clock past a refund's delay settles the refund
// before the advance answers, as it runs the deductions that came due: the control API, which
// reads the record without settling anything, finds it SUCCESS with its notification queued.
func TestRefundSettledByClockAdvance(t *testing.T) {
	t.Parallel()
	sim, no, tid, svc := wxRefundWorld(t, "rfclock")
	req := wxRefundRequest(tid, "CLK-"+no, 100, 300)
	req.NotifyUrl = core.String(sdkNotifyURL)
	if _, err := wxRefundCreate(svc, req); err != nil {
		t.Fatal(err)
	}
	refundAdvance(t, sim, "1h")
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/refunds/"+fixtures.DemoMchID+"/CLK-"+no, nil)
	r, _ := v["refund"].(map[string]any)
	rec, _ := v["sim"].(map[string]any)
	if status != http.StatusOK || r["status"] != "SUCCESS" || r["success_time"] == nil {
		t.Fatalf("right after the advance: HTTP %d %v, want the refund SUCCESS", status, v)
	}
	if ns, _ := rec["notifications"].([]any); len(ns) != 1 {
		t.Errorf("notifications %v, want the REFUND.SUCCESS one", rec["notifications"])
	}
}
