package http_test

// These tests refund Pay Score deductions through gopay's V3Refund, V3RefundQuery and
// V3AbnormalRefund, which verify every response (AutoVerifySign) and read success only from
// HTTP 200: an abnormal refund sent on to a bank card, a closed refund whose amount can be
// refunded again, and refusals as gopay reports them.

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func gopayRefundBody(tid, outRefundNo string, refund, total int) gopay.BodyMap {
	bm := make(gopay.BodyMap)
	bm.Set("transaction_id", tid).Set("out_refund_no", outRefundNo).Set("reason", "充电宝故障").
		SetBodyMap("amount", func(b gopay.BodyMap) { b.Set("refund", refund).Set("total", total).Set("currency", "CNY") })
	return bm
}

func gopayRefund(t *testing.T, c *wechat.ClientV3, tid, outRefundNo string, refund, total int) *wechat.RefundOrderResponse {
	t.Helper()
	rsp, err := c.V3Refund(context.Background(), gopayRefundBody(tid, outRefundNo, refund, total))
	gopayMustSucceed(t, "refund "+outRefundNo, rsp, err)
	return rsp.Response
}

func gopayRefundQuery(t *testing.T, c *wechat.ClientV3, outRefundNo string) *wechat.RefundQueryResponse {
	t.Helper()
	rsp, err := c.V3RefundQuery(context.Background(), outRefundNo, nil)
	gopayMustSucceed(t, "query "+outRefundNo, rsp, err)
	return rsp.Response
}

// gopayRefundSetup starts a simulator (refundStart), has the user pay an order of total fen,
// and returns the order's out_order_no, the deduction's transaction_id and a gopay client.
func gopayRefundSetup(t *testing.T, tag string, total int64) (sim *simtest.Sim, no, tid string, c *wechat.ClientV3) {
	t.Helper()
	sim = refundStart(t, nil)
	no = sdkOutOrderNo(t, tag)
	return sim, no, sim.PaidOrder(t, no, total, sdkNotifyURL), gopayCertClient(t, sim)
}

// gopayCheckTimes: create_time is RFC3339 in China time; success_time is there only once
// SUCCESS (gopay reads an absent one as "").
func gopayCheckTimes(t *testing.T, op, status, createTime, successTime string) {
	t.Helper()
	if ct, err := time.Parse(time.RFC3339, createTime); err != nil || ct.Format("-07:00") != "+08:00" {
		t.Errorf("%s: create_time %q, want RFC3339 at +08:00 (%v)", op, createTime, err)
	}
	if (successTime != "") != (status == "SUCCESS") {
		t.Errorf("%s: success_time %q with status %s", op, successTime, status)
	}
	if successTime != "" {
		if _, err := time.Parse(time.RFC3339, successTime); err != nil {
			t.Errorf("%s: success_time %q: %v", op, successTime, err)
		}
	}
}

// TestGoPayRefundAbnormal: a refund the bank rejects becomes ABNORMAL; the merchant sends it to
// the user's bank card with apply-abnormal-refund, and it succeeds later on another channel.
func TestGoPayRefundAbnormal(t *testing.T) {
	t.Parallel()
	sim, no, tid, c := gopayRefundSetup(t, "gpabn", 300)

	created := gopayRefund(t, c, tid, "AB-"+no, 300, 300)
	if created.Status != "PROCESSING" || created.Amount == nil || created.Amount.Refund != 300 || created.Amount.RefundFee != 0 || created.Amount.From == nil {
		t.Fatalf("create: %+v, want PROCESSING refund of 300 with refund_fee 0 and from []", created)
	}
	gopayCheckTimes(t, "create", created.Status, created.CreateTime, created.SuccessTime)

	refundOutcome(t, sim, "AB-"+no, "ABNORMAL")
	got := gopayRefundQuery(t, c, "AB-"+no)
	if got.Status != "ABNORMAL" {
		t.Fatalf("query after the bank rejected it: status %s, want ABNORMAL", got.Status)
	}
	gopayCheckTimes(t, "query ABNORMAL", got.Status, got.CreateTime, got.SuccessTime)

	account, err := c.V3EncryptText("6222020200112233445")
	if err != nil {
		t.Fatal(err)
	}
	name, err := c.V3EncryptText("张三")
	if err != nil {
		t.Fatal(err)
	}
	apply := func(refundID string) (*wechat.RefundRsp, error) {
		bm := make(gopay.BodyMap)
		bm.Set("out_refund_no", "AB-"+no).Set("type", "USER_BANK_CARD").Set("bank_type", "ICBC_DEBIT").
			Set("bank_account", account).Set("real_name", name)
		return c.V3AbnormalRefund(context.Background(), refundID, bm)
	}
	rsp, err := apply("50300000000000000000000000000")
	gopayWantError(t, "apply with another refund_id", rsp, err, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "退款单不存在")
	rsp, err = apply(created.RefundId)
	gopayMustSucceed(t, "apply-abnormal-refund", rsp, err)
	if r := rsp.Response; r.Status != "PROCESSING" || r.Channel != "OTHER_BANKCARD" || r.RefundId != created.RefundId {
		t.Fatalf("apply-abnormal-refund: status %s, channel %s, refund_id %s; want PROCESSING, OTHER_BANKCARD, %s", r.Status, r.Channel, r.RefundId, created.RefundId)
	}
	rsp, err = apply(created.RefundId)
	gopayWantError(t, "apply again", rsp, err, http.StatusBadRequest, "INVALID_REQUEST", "退款单状态不是退款异常，不能发起异常退款")

	refundAdvance(t, sim, "1h")
	got = gopayRefundQuery(t, c, "AB-"+no)
	if got.Status != "SUCCESS" || got.Channel != "OTHER_BANKCARD" {
		t.Fatalf("query an hour later: status %s, channel %s; want SUCCESS, OTHER_BANKCARD", got.Status, got.Channel)
	}
	gopayCheckTimes(t, "query SUCCESS", got.Status, got.CreateTime, got.SuccessTime)
}

// TestGoPayRefundClosed: a closed refund failed, so its amount can be refunded again under a
// new out_refund_no; a final refund takes no other outcome.
func TestGoPayRefundClosed(t *testing.T) {
	t.Parallel()
	sim, no, tid, c := gopayRefundSetup(t, "gpclosed", 200)

	gopayRefund(t, c, tid, "CL-"+no, 200, 200)
	refundOutcome(t, sim, "CL-"+no, "CLOSED")
	if got := gopayRefundQuery(t, c, "CL-"+no); got.Status != "CLOSED" || got.SuccessTime != "" {
		t.Fatalf("query: status %s, success_time %q; want CLOSED without success_time", got.Status, got.SuccessTime)
	}
	if code, v := visitPost(t, sim, "/sim/v1/refunds/"+fixtures.DemoMchID+"/CL-"+no+"/outcome", map[string]any{"status": "SUCCESS"}); code != http.StatusBadRequest {
		t.Errorf("an outcome for a CLOSED refund: HTTP %d %v, want 400", code, v)
	}
	refundAdvance(t, sim, "61s")
	if again := gopayRefund(t, c, tid, "CL2-"+no, 200, 200); again.Status != "PROCESSING" {
		t.Fatalf("refund again after CLOSED: status %s", again.Status)
	}
}

// TestGoPayRefundRefusals: what production refuses, as gopay reports it, up to a refund a year
// after the payment.
func TestGoPayRefundRefusals(t *testing.T) {
	t.Parallel()
	sim, no, tid, c := gopayRefundSetup(t, "gprefuse", 300)
	refuse := func(op string, bm gopay.BodyMap, status int, code, message string) {
		t.Helper()
		rsp, err := c.V3Refund(context.Background(), bm)
		gopayWantError(t, op, rsp, err, status, code, message)
	}
	noCurrency := gopayRefundBody(tid, "RX-"+no, 100, 300)
	noCurrency.SetBodyMap("amount", func(b gopay.BodyMap) { b.Set("refund", 100).Set("total", 300) })
	refuse("no currency", noCurrency, 400, "PARAM_ERROR", "参数错误：amount.currency must be CNY")
	neither := gopayRefundBody(tid, "RX-"+no, 100, 300)
	neither.Remove("transaction_id")
	refuse("neither transaction_id nor out_trade_no", neither, 400, "PARAM_ERROR",
		"参数错误：transaction_id transaction_id or out_trade_no is required: for Pay Score, the collection.details[].transaction_id of the deduction")
	refuse("more than was paid", gopayRefundBody(tid, "RX-"+no, 301, 300), 400, "PARAM_ERROR",
		"参数错误：amount.refund 不能超过原订单支付金额 (must not exceed amount.total, 300)")
	refuse("an unknown transaction", gopayRefundBody("4200000000000000000000000000", "RX-"+no, 100, 300), 404, "RESOURCE_NOT_EXISTS", "订单不存在")
	refuse("a bad out_refund_no", gopayRefundBody(tid, "RX#"+no, 100, 300), 400, "PARAM_ERROR", "参数错误：out_refund_no must consist of digits, letters and _-|*@")
	refundAdvance(t, sim, "8761h") // a year and a day
	refuse("a year after the payment", gopayRefundBody(tid, "RX-"+no, 100, 300), 400, "INVALID_REQUEST", "订单已超过退款期限")
}

// TestRefundTooMany: a transaction takes at most 50 refunds.
func TestRefundTooMany(t *testing.T) {
	t.Parallel()
	sim := refundStart(t, nil)
	no := sdkOutOrderNo(t, "toomany")
	tid := sim.PaidOrder(t, no, 100, sdkNotifyURL)
	c := sim.DemoClient(t)
	refund := func(i int) refundAnswer {
		t.Helper()
		resp, err := c.Do(context.Background(), http.MethodPost, "/v3/refund/domestic/refunds", map[string]any{
			"transaction_id": tid, "out_refund_no": fmt.Sprintf("TM-%s-%02d", no, i),
			"amount": map[string]any{"refund": 1, "total": 100, "currency": "CNY"},
		})
		if err != nil {
			t.Fatal(err)
		}
		return refundAnswer{resp.Status, resp.Err().Code, string(resp.Body)}
	}
	for i := range 50 {
		if r := refund(i); r.status != http.StatusOK {
			t.Fatalf("refund %d: %+v", i+1, r)
		}
		refundAdvance(t, sim, "61s")
	}
	if r := refund(50); r.status != http.StatusBadRequest || r.code != "INVALID_REQUEST" {
		t.Fatalf("the 51st refund: %+v, want 400 INVALID_REQUEST", r)
	}
}

// refundAnswer is what a raw refund request was answered.
type refundAnswer struct {
	status int
	code   string
	body   string
}
