package simulator

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// This file is the refund of a Pay Score deduction and its state machine. Pay Score has no
// refund API of its own: merchants refund a deduction's transaction through the ordinary
// domestic refund API ("支付分接口没有单独的申请退款…接口,商户可以调用普通支付的接口").

// RefundStatus is a refund's status.
type RefundStatus string

const (
	RefundProcessing RefundStatus = "PROCESSING"
	RefundSuccess    RefundStatus = "SUCCESS"
	RefundClosed     RefundStatus = "CLOSED"
	// RefundAbnormal is not final: the merchant may apply for an abnormal refund to a bank
	// card, or handle it on the merchant platform.
	RefundAbnormal RefundStatus = "ABNORMAL"
)

// Refund notifications, one per outcome; none is sent for PROCESSING.
const (
	EventRefundSuccess  EventType = "REFUND.SUCCESS"
	EventRefundAbnormal EventType = "REFUND.ABNORMAL"
	EventRefundClosed   EventType = "REFUND.CLOSED"
)

// refundEvents are the notification of each outcome and its summary. 退款成功 is documented
// and seen in a real capture; the other two are inferred from it: no source shows them.
var refundEvents = map[RefundStatus]struct {
	event   EventType
	summary string
}{
	RefundSuccess:  {EventRefundSuccess, "退款成功"},
	RefundAbnormal: {EventRefundAbnormal, "退款异常"},
	RefundClosed:   {EventRefundClosed, "退款关闭"},
}

// IsRefund reports whether e is a refund notification, whose resource is of original_type
// refund rather than payscore.
func (e EventType) IsRefund() bool { return strings.HasPrefix(string(e), "REFUND.") }

// Channels and accounts a refund reaches.
const (
	ChannelOriginal      = "ORIGINAL"       // back the way it was paid
	ChannelOtherBankcard = "OTHER_BANKCARD" // after an abnormal refund to a bank card
	accountChange        = "支付用户零钱"         // the user's WeChat balance, the usual account
)

// Refund is a refund of a transaction. Its JSON form is the wire form that create, query and
// apply-abnormal-refund answer with.
type Refund struct {
	RefundID            string `json:"refund_id"`
	OutRefundNo         string `json:"out_refund_no"`
	TransactionID       string `json:"transaction_id"`
	OutTradeNo          string `json:"out_trade_no"`
	Channel             string `json:"channel"`
	UserReceivedAccount string `json:"user_received_account"`
	// SuccessTime is present only once the status is SUCCESS: "" breaks wechatpay-go, which
	// reads it as a time.
	SuccessTime  string       `json:"success_time,omitempty"`
	CreateTime   string       `json:"create_time"`
	Status       RefundStatus `json:"status"`
	FundsAccount string       `json:"funds_account"`
	Amount       RefundAmount `json:"amount"`
	// PromotionDetail is always empty: Pay Score deductions carry no coupons here. Production
	// sends [] rather than leaving it out.
	PromotionDetail []json.RawMessage `json:"promotion_detail"`

	// Sim is what the simulator keeps beside the wire form.
	Sim RefundRecord `json:"-"`
}

// RefundAmount is a refund's amount. Without coupons, what the user paid and gets back equals
// the total and the refund, as in real answers (one captured in an IJPay log).
type RefundAmount struct {
	Total            int64       `json:"total"`
	Refund           int64       `json:"refund"`
	From             []FundsFrom `json:"from"`
	PayerTotal       int64       `json:"payer_total"`
	PayerRefund      int64       `json:"payer_refund"`
	SettlementRefund int64       `json:"settlement_refund"`
	SettlementTotal  int64       `json:"settlement_total"`
	DiscountRefund   int64       `json:"discount_refund"`
	Currency         string      `json:"currency"`
	RefundFee        int64       `json:"refund_fee"`
}

// FundsFrom is an amount.from item: which account a part of the refund comes from.
type FundsFrom struct {
	Account string `json:"account"`
	Amount  *int64 `json:"amount"`
}

// RefundRecord is the simulator's own record of a refund.
type RefundRecord struct {
	MchID      string    `json:"mchid"`
	OutOrderNo string    `json:"out_order_no"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	// DueAt is when Outcome happens to a PROCESSING refund; zero when nothing is pending.
	DueAt   time.Time    `json:"due_at"`
	Outcome RefundStatus `json:"outcome,omitempty"`
	Reason  string       `json:"reason,omitempty"`
	// NotifyURL is where the refund's notifications go: the request's notify_url, else the
	// merchant's refund notify URL; empty means none is sent.
	NotifyURL string        `json:"notify_url,omitempty"`
	History   []StateChange `json:"history,omitempty"`
	// Notifications are the IDs of the notifications the refund caused, oldest first.
	Notifications []string `json:"notifications,omitempty"`
	// Outbox holds the notifications a change caused, for the store to save with the refund.
	Outbox   []*Notification `json:"-"`
	Warnings []string        `json:"warnings,omitempty"`
}

// Limits of refunds, from the official refund pages ("每个支付订单的部分退款次数不能超过50次",
// "交易时间超过一年的订单无法提交退款", refunds of one order a minute apart).
const (
	MaxRefundsPerTransaction = 50
	RefundPeriod             = 365 * 24 * time.Hour
	RefundInterval           = time.Minute
	// DefaultRefundDelay is how long a refund stays PROCESSING unless the merchant's setting
	// says otherwise: long enough for a test to see PROCESSING, short enough not to wait for.
	DefaultRefundDelay = time.Second
)

// track runs step and records in r's history the status change it made, if any.
func (r *Refund) track(cause string, now time.Time, step func() error) error {
	before := r.Status
	if err := step(); err != nil {
		return err
	}
	r.Sim.UpdatedAt = now
	if r.Status != before {
		r.Sim.History = append(r.Sim.History, StateChange{Time: now, From: string(before), To: string(r.Status), Cause: cause})
	}
	return nil
}

// settleDue ends a PROCESSING refund whose outcome is due.
func (r *Refund) settleDue(now time.Time) error {
	if r.Status != RefundProcessing || r.Sim.DueAt.IsZero() || r.Sim.DueAt.After(now) {
		return nil
	}
	return r.finish(r.Sim.Outcome, now)
}

// finish moves the refund to a final or abnormal status and queues its notification.
func (r *Refund) finish(status RefundStatus, now time.Time) error {
	ev, ok := refundEvents[status]
	if !ok {
		return fmt.Errorf("refund %s: %q is not an outcome", r.OutRefundNo, status)
	}
	r.Status, r.Sim.DueAt, r.Sim.Outcome = status, time.Time{}, ""
	if status == RefundSuccess {
		r.SuccessTime = FormatRFC3339(now)
	}
	if r.Sim.NotifyURL == "" {
		r.Sim.Warnings = append(r.Sim.Warnings, fmt.Sprintf(
			"no %s notification was sent: the request gave no notify_url and the merchant has no refund_notify_url setting", ev.event))
		return nil
	}
	n, err := newNotification(r.Sim.MchID, ev.event, r.Sim.NotifyURL, r.notice(), now)
	if err != nil {
		return err
	}
	n.Summary, n.OutOrderNo = ev.summary, r.Sim.OutOrderNo
	r.Sim.Outbox = append(r.Sim.Outbox, n)
	r.Sim.Notifications = append(r.Sim.Notifications, n.ID)
	return nil
}

// refundNotice is the decrypted resource of a refund notification, with the fields of the
// REFUND.* pages and of a real one; gopay reads it as V3DecryptRefundResult.
type refundNotice struct {
	MchID               string       `json:"mchid"`
	OutTradeNo          string       `json:"out_trade_no"`
	TransactionID       string       `json:"transaction_id"`
	OutRefundNo         string       `json:"out_refund_no"`
	RefundID            string       `json:"refund_id"`
	RefundStatus        RefundStatus `json:"refund_status"`
	SuccessTime         string       `json:"success_time,omitempty"`
	Amount              noticeAmount `json:"amount"`
	UserReceivedAccount string       `json:"user_received_account"`
}

type noticeAmount struct {
	Total       int64 `json:"total"`
	Refund      int64 `json:"refund"`
	PayerTotal  int64 `json:"payer_total"`
	PayerRefund int64 `json:"payer_refund"`
}

func (r *Refund) notice() refundNotice {
	return refundNotice{
		MchID: r.Sim.MchID, OutTradeNo: r.OutTradeNo, TransactionID: r.TransactionID,
		OutRefundNo: r.OutRefundNo, RefundID: r.RefundID, RefundStatus: r.Status, SuccessTime: r.SuccessTime,
		Amount: noticeAmount{
			Total: r.Amount.Total, Refund: r.Amount.Refund,
			PayerTotal: r.Amount.PayerTotal, PayerRefund: r.Amount.PayerRefund,
		},
		UserReceivedAccount: r.UserReceivedAccount,
	}
}

// SetOutcome is the test deciding how a refund ends, now: a PROCESSING refund succeeds,
// becomes abnormal or closes; an ABNORMAL one succeeds (handled on the merchant platform) or
// closes.
func (r *Refund) SetOutcome(status RefundStatus, now time.Time) error {
	if _, ok := refundEvents[status]; !ok {
		return ParamError("status", status, "must be SUCCESS, ABNORMAL or CLOSED")
	}
	switch {
	case r.Status == RefundProcessing:
	case r.Status == RefundAbnormal && status != RefundAbnormal:
	default:
		return Errorf(CodeInvalidRequest, "退款单状态不允许此操作").
			With("status", r.Status).
			With("issue", fmt.Sprintf("refund %s is %s; only a PROCESSING refund can be given an outcome, and an ABNORMAL one only SUCCESS or CLOSED", r.OutRefundNo, r.Status))
	}
	return r.finish(status, now)
}

// ApplyAbnormal is the merchant asking for an ABNORMAL refund to go to a bank card instead: it
// is PROCESSING again, through another channel, and succeeds after delay. That it succeeds is
// an inference: the sources say only that ABNORMAL is not final.
func (r *Refund) ApplyAbnormal(req ApplyAbnormalRefundRequest, now time.Time, delay time.Duration) error {
	if r.Status != RefundAbnormal {
		return Errorf(CodeInvalidRequest, "退款单状态不是退款异常，不能发起异常退款").
			With("status", r.Status).
			With("issue", fmt.Sprintf("apply-abnormal-refund needs an ABNORMAL refund; refund %s is %s", r.OutRefundNo, r.Status))
	}
	r.Status, r.Channel = RefundProcessing, ChannelOtherBankcard
	r.UserReceivedAccount = req.receivedAccount()
	r.Sim.DueAt, r.Sim.Outcome = now.Add(delay), RefundSuccess
	return nil
}
