package simulator

import (
	"encoding/json"
	"fmt"
	"regexp"
	"time"
)

// CreateRefundRequest is the body of POST /v3/refund/domestic/refunds, as wechatpay-go's
// refunddomestic.CreateRequest and the official page describe it.
type CreateRefundRequest struct {
	SubMchID      string              `json:"sub_mchid,omitempty"`
	TransactionID string              `json:"transaction_id,omitempty"`
	OutTradeNo    string              `json:"out_trade_no,omitempty"`
	OutRefundNo   string              `json:"out_refund_no"`
	Reason        string              `json:"reason,omitempty"`
	NotifyURL     string              `json:"notify_url,omitempty"`
	FundsAccount  string              `json:"funds_account,omitempty"`
	Amount        *RefundAmountReq    `json:"amount"`
	GoodsDetail   []RefundGoodsDetail `json:"goods_detail,omitempty"`
}

// RefundAmountReq is the request's amount.
type RefundAmountReq struct {
	Refund   *int64      `json:"refund"`
	Total    *int64      `json:"total"`
	Currency string      `json:"currency"`
	From     []FundsFrom `json:"from,omitempty"`
}

// RefundGoodsDetail is a goods_detail item, for refunds by item.
type RefundGoodsDetail struct {
	MerchantGoodsID  string `json:"merchant_goods_id"`
	WechatpayGoodsID string `json:"wechatpay_goods_id,omitempty"`
	GoodsName        string `json:"goods_name,omitempty"`
	UnitPrice        *int64 `json:"unit_price"`
	RefundAmount     *int64 `json:"refund_amount"`
	RefundQuantity   *int64 `json:"refund_quantity"`
}

// outRefundNoPattern is the documented charset "数字、大小写字母_-|*@".
var outRefundNoPattern = regexp.MustCompile(`^[0-9A-Za-z_\-|*@]+$`)

// validate checks the fields' documented rules; it returns a warning for what production
// would refuse and the simulator lets through (an http notify_url).
func (r *CreateRefundRequest) validate() (warning string, err *Error) {
	var c check
	if r.SubMchID != "" {
		c.fail("sub_mchid", r.SubMchID, "is for service providers (服务商); the simulator's merchants are direct merchants (直连商户), which leave it out")
	}
	c.str("out_refund_no", r.OutRefundNo, 1, 64)
	c.match("out_refund_no", r.OutRefundNo, outRefundNoPattern, "digits, letters and _-|*@")
	switch {
	case r.TransactionID == "" && r.OutTradeNo == "":
		c.fail("transaction_id", "", "transaction_id or out_trade_no is required: for Pay Score, the collection.details[].transaction_id of the deduction")
	case r.TransactionID != "":
		c.str("transaction_id", r.TransactionID, 1, 32)
	default:
		c.str("out_trade_no", r.OutTradeNo, 6, 32)
	}
	c.str("reason", r.Reason, 0, 80)
	if r.NotifyURL != "" {
		c.str("notify_url", r.NotifyURL, 8, refundNotifyURLMax)
		warning = c.notifyURL("notify_url", r.NotifyURL, refundNotifyURLMax)
	}
	if r.FundsAccount != "" && r.FundsAccount != "AVAILABLE" && r.FundsAccount != "UNSETTLED" {
		c.fail("funds_account", r.FundsAccount, "must be AVAILABLE or UNSETTLED")
	}
	c.refundAmount(r.Amount)
	c.refundGoods(r.GoodsDetail)
	return warning, c.err
}

func (c *check) refundAmount(a *RefundAmountReq) {
	switch {
	case a == nil:
		c.fail("amount", nil, "is required")
		return
	case a.Refund == nil:
		c.fail("amount.refund", nil, "is required")
	case a.Total == nil:
		c.fail("amount.total", nil, "is required")
	case a.Currency != "CNY":
		c.fail("amount.currency", a.Currency, "must be CNY")
	}
	if c.err != nil {
		return
	}
	c.amount("amount.refund", *a.Refund, 1)
	c.amount("amount.total", *a.Total, 1)
	if c.err == nil && *a.Refund > *a.Total {
		c.fail("amount.refund", *a.Refund, fmt.Sprintf("不能超过原订单支付金额 (must not exceed amount.total, %d)", *a.Total))
	}
	c.fundsFrom(a.From, *a.Refund)
}

// fundsFrom: each account at most once, the amounts summing to the refund.
func (c *check) fundsFrom(from []FundsFrom, refund int64) {
	if len(from) == 0 {
		return
	}
	seen := map[string]bool{}
	var sum int64
	for i, f := range from {
		field := fmt.Sprintf("amount.from[%d]", i)
		switch {
		case f.Account != "AVAILABLE" && f.Account != "UNAVAILABLE":
			c.fail(field+".account", f.Account, "must be AVAILABLE or UNAVAILABLE")
		case seen[f.Account]:
			c.fail(field+".account", f.Account, "must not repeat an account")
		case f.Amount == nil:
			c.fail(field+".amount", nil, "is required")
		default:
			c.amount(field+".amount", *f.Amount, 1)
		}
		if c.err != nil {
			return
		}
		seen[f.Account] = true
		sum += *f.Amount
	}
	if sum != refund {
		c.fail("amount.from", sum, fmt.Sprintf("the amounts must add up to amount.refund (%d)", refund))
	}
}

func (c *check) refundGoods(items []RefundGoodsDetail) {
	for i, g := range items {
		p := fmt.Sprintf("goods_detail[%d].", i)
		c.str(p+"merchant_goods_id", g.MerchantGoodsID, 1, 32)
		c.str(p+"wechatpay_goods_id", g.WechatpayGoodsID, 0, 32)
		c.str(p+"goods_name", g.GoodsName, 0, 256)
		for _, f := range []struct {
			name string
			v    *int64
		}{{"unit_price", g.UnitPrice}, {"refund_amount", g.RefundAmount}, {"refund_quantity", g.RefundQuantity}} {
			if f.v == nil {
				c.fail(p+f.name, nil, "is required")
			} else {
				c.amount(p+f.name, *f.v, 0)
			}
		}
	}
}

func (r *CreateRefundRequest) key() TransactionKey {
	if r.TransactionID != "" {
		return TransactionKey{TransactionID: r.TransactionID}
	}
	return TransactionKey{OutTradeNo: r.OutTradeNo}
}

// RefundCandidate is what deciding on a create needs, read in the transaction that stores the
// refund: the merchant's refund with the request's out_refund_no, if any, the transaction the
// request names, if it is the merchant's, and the refunds already made of it, oldest first.
type RefundCandidate struct {
	Existing    *Refund
	Transaction *Transaction
	Refunds     []*Refund
}

// mismatch is production's answer when an out_refund_no is reused with other amounts or
// another transaction, or when amount.total is not the transaction's.
func mismatch(issue string) *Error {
	return Errorf(CodeInvalidRequest, "订单金额或退款金额与之前请求不一致,请核实后再试").With("issue", issue)
}

// decide applies the rules of a create to what the store read: it returns the refund to store,
// or the existing one when the same request is repeated ("同一退款单号多次请求只退一笔").
func (r *CreateRefundRequest) decide(c RefundCandidate, m *Merchant, now time.Time) (*Refund, error) {
	t := c.Transaction
	if c.Existing != nil {
		e := c.Existing
		if t == nil || e.TransactionID != t.TransactionID || e.Amount.Refund != *r.Amount.Refund || e.Amount.Total != *r.Amount.Total {
			return nil, mismatch(fmt.Sprintf("out_refund_no %s was used before for a refund of %d of %d fen of transaction %s; repeat a refund only with the same transaction and amounts, or use a new out_refund_no",
				e.OutRefundNo, e.Amount.Refund, e.Amount.Total, e.TransactionID)).With("field", "out_refund_no")
		}
		return e, nil
	}
	if t == nil {
		return nil, Errorf(CodeResourceNotExists, "订单不存在")
	}
	if *r.Amount.Total != t.Amount {
		return nil, mismatch(fmt.Sprintf("amount.total must be the amount of the transaction, %d fen (the deduction's collection.details[].amount), not %d", t.Amount, *r.Amount.Total)).
			With("field", "amount.total")
	}
	if err := checkRefundLimits(c, *r.Amount.Refund, now); err != nil {
		return nil, err
	}
	return r.newRefund(t, m, now), nil
}

// checkRefundLimits applies the limits on the refunds of one transaction. The messages of the
// period and count limits are inferred: no source quotes production's (the APIv2 refund used
// TRADE_OVERDUE "订单已经超过退款期限").
func checkRefundLimits(c RefundCandidate, refund int64, now time.Time) *Error {
	t := c.Transaction
	if deadline := t.PaidAt.Add(RefundPeriod); now.After(deadline) {
		return Errorf(CodeInvalidRequest, "订单已超过退款期限").
			With("issue", fmt.Sprintf("transaction %s was paid at %s; refunds are accepted for a year, until %s", t.TransactionID, FormatRFC3339(t.PaidAt), FormatRFC3339(deadline)))
	}
	if len(c.Refunds) >= MaxRefundsPerTransaction {
		return Errorf(CodeInvalidRequest, "部分退款次数超过限制").
			With("issue", fmt.Sprintf("transaction %s already has %d refunds, the most one transaction can have", t.TransactionID, len(c.Refunds)))
	}
	var refunded int64
	for _, x := range c.Refunds {
		if x.Status != RefundClosed {
			refunded += x.Amount.Refund
		}
	}
	if refunded+refund > t.Amount {
		return Errorf(CodeInvalidRequest, "申请退款金额超过订单可退金额").
			With("field", "amount.refund").With("value", refund).
			With("issue", fmt.Sprintf("transaction %s paid %d fen, of which %d are refunded or being refunded (closed refunds do not count); at most %d can still be refunded",
				t.TransactionID, t.Amount, refunded, t.Amount-refunded))
	}
	if n := len(c.Refunds); n > 0 {
		if last := c.Refunds[n-1].Sim.CreatedAt; now.Sub(last) < RefundInterval {
			return Errorf(CodeFrequencyLimited, "频率限制").
				With("issue", fmt.Sprintf("refunds of one transaction must be a minute apart; the last refund of %s was accepted at %s, try again from %s with the same out_refund_no",
					t.TransactionID, FormatRFC3339(last), FormatRFC3339(last.Add(RefundInterval))))
		}
	}
	return nil
}

func (r *CreateRefundRequest) newRefund(t *Transaction, m *Merchant, now time.Time) *Refund {
	refund, total := *r.Amount.Refund, *r.Amount.Total
	from := r.Amount.From
	if from == nil {
		from = []FundsFrom{}
	}
	notifyURL := r.NotifyURL
	if notifyURL == "" {
		notifyURL = m.Settings.RefundNotifyURL
	}
	funds := r.FundsAccount
	if funds == "" {
		funds = "AVAILABLE" // as in real answers to requests that name none
	}
	return &Refund{
		RefundID: newRefundID(now), OutRefundNo: r.OutRefundNo,
		TransactionID: t.TransactionID, OutTradeNo: t.OutTradeNo,
		Channel: ChannelOriginal, UserReceivedAccount: accountChange,
		CreateTime: FormatRFC3339(now), Status: RefundProcessing, FundsAccount: funds,
		Amount: RefundAmount{
			Total: total, Refund: refund, From: from,
			PayerTotal: total, PayerRefund: refund, SettlementTotal: total, SettlementRefund: refund,
			Currency: "CNY",
		},
		PromotionDetail: []json.RawMessage{},
		Sim: RefundRecord{
			MchID: m.MchID, OutOrderNo: t.OutOrderNo, CreatedAt: now, UpdatedAt: now,
			DueAt: now.Add(m.Settings.refundDelay()), Outcome: m.Settings.refundOutcome(),
			Reason: r.Reason, NotifyURL: notifyURL,
			History: []StateChange{{Time: now, To: string(RefundProcessing), Cause: "merchant: refund"}},
		},
	}
}

// newRefundID makes a refund_id shaped like production's: 29 digits starting 503.
func newRefundID(now time.Time) string {
	return "503" + randomDigits(5) + now.In(ChinaTime).Format(compactDay) + randomDigits(13)
}

// ApplyAbnormalRefundRequest is the body of POST .../refunds/{refund_id}/apply-abnormal-refund.
type ApplyAbnormalRefundRequest struct {
	SubMchID    string `json:"sub_mchid,omitempty"`
	OutRefundNo string `json:"out_refund_no"`
	Type        string `json:"type"`
	BankType    string `json:"bank_type,omitempty"`
	BankAccount string `json:"bank_account,omitempty"`
	RealName    string `json:"real_name,omitempty"`
}

// Where an abnormal refund goes.
const (
	AbnormalToUserBankCard     = "USER_BANK_CARD"
	AbnormalToMerchantBankCard = "MERCHANT_BANK_CARD"
)

func (r *ApplyAbnormalRefundRequest) validate() *Error {
	var c check
	c.str("out_refund_no", r.OutRefundNo, 1, 64)
	switch r.Type {
	case AbnormalToMerchantBankCard:
	case AbnormalToUserBankCard:
		// bank_account and real_name are encrypted with WeChat Pay's public key; the
		// simulator checks that they are there, not what they decrypt to.
		c.str("bank_type", r.BankType, 1, 16)
		c.str("bank_account", r.BankAccount, 1, 1024)
		c.str("real_name", r.RealName, 1, 1024)
	default:
		c.fail("type", r.Type, "must be USER_BANK_CARD or MERCHANT_BANK_CARD")
	}
	return c.err
}

// receivedAccount names the account an abnormal refund goes to, in production's wording.
func (r *ApplyAbnormalRefundRequest) receivedAccount() string {
	if r.Type == AbnormalToMerchantBankCard {
		return "商户银行卡"
	}
	return r.BankType + "借记卡"
}
