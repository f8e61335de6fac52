package simulator

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// This file is the service order's state machine. Every way an order can change (the merchant's
// API calls, the user's actions on the page or the control API, the scenario runner) goes
// through these methods, so the four can never disagree. Each method checks, then mutates; a
// method that returns an error has left the order as it was.

func (o *Order) stateName() string {
	s := string(o.State)
	if o.StateDescription != "" {
		s += "/" + string(o.StateDescription)
	}
	if o.Collection != nil {
		s += " (collection " + string(o.Collection.State) + ")"
	}
	return s
}

// checkCaller rejects calls whose appid or service_id is not the order's: production requires
// complete and cancel to use the create call's appid.
func (o *Order) checkCaller(appid, serviceID string, serviceRequired bool) *Error {
	var c check
	c.str("appid", appid, 1, 32)
	if serviceRequired || serviceID != "" {
		c.str("service_id", serviceID, 1, 32)
	}
	switch {
	case c.err != nil:
	case appid != o.AppID:
		c.fail("appid", appid, fmt.Sprintf("must be the appid the order was created with (%s)", o.AppID))
	case serviceID != "" && serviceID != o.ServiceID:
		c.fail("service_id", serviceID, fmt.Sprintf("must be the order's service_id (%s)", o.ServiceID))
	}
	return c.err
}

func sumAmounts(payments []PostPayment, discounts []PostDiscount) int64 {
	var total int64
	for _, p := range payments {
		if p.Amount != nil {
			total += *p.Amount
		}
	}
	for _, d := range discounts {
		if d.Amount != nil {
			total -= *d.Amount
		}
	}
	return total
}

// amounts checks a completed or modified order's items and total_amount against each other.
func (c *check) amounts(payments []PostPayment, discounts []PostDiscount, total *int64) {
	if len(payments) == 0 {
		c.fail("post_payments", nil, "is required")
	}
	c.postPayments(payments, 100)
	c.postDiscounts(discounts, 30, true)
	if total == nil {
		c.fail("total_amount", nil, "is required")
		return
	}
	c.amount("total_amount", *total, 0)
	if want := sumAmounts(payments, discounts); c.err == nil && *total != want {
		c.fail("total_amount", *total, fmt.Sprintf(
			"must equal the sum of post_payments amounts minus the sum of post_discounts amounts (%d)", want))
	}
}

func (o *Order) isDeposit() bool { return slices.Contains(depositRiskFunds, o.RiskFund.Name) }

// Confirm is the user openid confirming the order on the Pay Score page; the order is theirs from
// then on (openid in queries, USER_CONFIRM, USER_PAID and sync).
func (o *Order) Confirm(openid string, now time.Time) error {
	if o.State != StateCreated {
		return o.stateError(OpConfirm, "CREATED")
	}
	o.State, o.StateDescription, o.OpenID = StateDoing, UserConfirm, openid
	if o.TimeRange.StartTime == OnAccept {
		o.TimeRange.StartTime = FormatCompact(now)
	}
	return o.notify(EventUserConfirm, now)
}

// Expire ends a CREATED order that nobody confirmed for 30 days.
func (o *Order) Expire(now time.Time) bool {
	if o.State != StateCreated || now.Sub(o.Sim.CreatedAt) < OrderLifetime {
		return false
	}
	o.State = StateExpired
	return true
}

// OrderLifetime is how long a CREATED order waits for the user before it expires.
const OrderLifetime = 30 * 24 * time.Hour

// Cancel revokes the order. Repeating a successful cancel with the same reason succeeds again,
// as production's idempotency promises.
func (o *Order) Cancel(r CancelRequest, rejectAfterComplete bool) error {
	if err := o.checkCaller(r.AppID, r.ServiceID, false); err != nil {
		return err
	}
	var c check
	c.str("reason", r.Reason, 1, 50)
	if c.err != nil {
		return c.err
	}
	switch {
	case o.State == StateRevoked && o.Sim.CancelReason == r.Reason:
		return nil
	case o.State == StateCreated, o.State == StateDoing && o.StateDescription == UserConfirm:
	case o.AwaitingPayment() && rejectAfterComplete && !o.deducting():
		e := o.stateError(OpCancel, "CREATED or DOING/USER_CONFIRM")
		e.Code, e.Message = CodeParamError, "当前订单状态不满足撤销条件"
		return e.With("issue", "this merchant is set to refuse cancelling a completed order awaiting payment (reject_cancel_after_complete), as the skills doc and a community report describe; the official API doc allows it")
	case o.AwaitingPayment() && !o.deducting():
	default:
		return o.stateError(OpCancel, "CREATED, DOING/USER_CONFIRM or DOING/MCH_COMPLETE awaiting payment, with no deduction in flight")
	}
	o.State, o.StateDescription = StateRevoked, ""
	o.Sim.CancelReason = r.Reason
	return nil
}

// Complete ends the service and fixes the amount the user owes; Pay Score then deducts it
// after the call, as the plan says. Repeating a complete with the same parameters succeeds
// again and changes nothing (重入).
func (o *Order) Complete(r CompleteRequest, now time.Time, p DeductionPlan) error {
	if err := o.checkCaller(r.AppID, r.ServiceID, true); err != nil {
		return err
	}
	params, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("complete: encode parameters: %w", err)
	}
	if o.Sim.CompleteParams != nil && (o.State == StateDoing || o.State == StateDone) {
		return o.reenterComplete(params)
	}
	if o.State != StateDoing || o.StateDescription != UserConfirm {
		return o.stateError(OpComplete, "DOING/USER_CONFIRM")
	}
	tr, err := o.checkComplete(r, now)
	if err != nil {
		return err
	}
	o.PostPayments, o.PostDiscounts, o.TimeRange = r.PostPayments, r.PostDiscounts, tr
	if r.Location != nil && r.Location.EndLocation != nil {
		if o.Location == nil {
			o.Location = &Location{}
		}
		o.Location.EndLocation = r.Location.EndLocation
	}
	if r.Device != nil {
		o.Device = r.Device
	}
	o.TotalAmount = *r.TotalAmount
	o.NeedCollection = o.TotalAmount > 0
	o.StateDescription = MchComplete
	o.Collection = &Collection{State: UserPaying, TotalAmount: o.TotalAmount, PayingAmount: o.TotalAmount}
	o.Sim.CompleteParams = params
	if !o.NeedCollection {
		// Nothing to collect: the order is settled at once.
		o.State, o.StateDescription, o.Collection.State = StateDone, "", UserPaid
		return nil
	}
	o.scheduleDeduction(now, p, false)
	return nil
}

// checkComplete applies complete's field rules to r and returns the order's time range as the
// complete makes it.
func (o *Order) checkComplete(r CompleteRequest, now time.Time) (TimeRange, error) {
	var c check
	c.amounts(r.PostPayments, r.PostDiscounts, r.TotalAmount)
	if c.err == nil && o.isDeposit() && *r.TotalAmount > o.RiskFund.Amount {
		c.fail("total_amount", *r.TotalAmount, fmt.Sprintf("must not exceed risk_fund.amount (%d) for a %s order", o.RiskFund.Amount, o.RiskFund.Name))
	}
	tr := o.TimeRange
	if r.TimeRange != nil {
		c.timeRemarks(r.TimeRange)
		tr = mergeTimeRange(tr, *r.TimeRange)
	}
	c.completeTimeRange(tr, now)
	if r.Location != nil {
		c.optStr("location.end_location", r.Location.EndLocation, 50)
	}
	c.optStr("goods_tag", r.GoodsTag, 32)
	c.device(r.Device)
	if c.err != nil {
		return tr, c.err
	}
	return tr, nil
}

// CompleteAnswer is what complete (and direct-complete) answer for a completed order: the
// order as the complete left it, before Pay Score deducted, so that a repeated complete gets
// the first one's answer. The response carries no collection (production's has none).
func (o *Order) CompleteAnswer() *Order {
	a := *o
	a.Collection = nil
	if a.NeedCollection {
		a.State, a.StateDescription = StateDoing, MchComplete
	}
	return &a
}

// reenterComplete answers a complete of an order completed before: the same parameters succeed
// and change nothing; others are refused, naming what differs.
func (o *Order) reenterComplete(params json.RawMessage) error {
	if bytes.Equal(params, o.Sim.CompleteParams) {
		return nil
	}
	return Errorf(CodeParamError, "订单重入参数校验失败").
		With("issue", "this order was completed before with other parameters: a repeated complete must repeat the first one exactly (商户当前调用完结订单接口的入参与首次完结订单的入参不一致)").
		With("differing_fields", differingFields(o.Sim.CompleteParams, params))
}

// mergeTimeRange lays the fields given at complete over those given at create.
func mergeTimeRange(base, over TimeRange) TimeRange {
	if over.StartTime != "" {
		base.StartTime = over.StartTime
	}
	if over.EndTime != "" {
		base.EndTime = over.EndTime
	}
	if over.StartTimeRemark != nil {
		base.StartTimeRemark = over.StartTimeRemark
	}
	if over.EndTimeRemark != nil {
		base.EndTimeRemark = over.EndTimeRemark
	}
	return base
}

// completeTimeRange: the actual end is known by now, lies in the past and after the start.
func (c *check) completeTimeRange(tr TimeRange, now time.Time) {
	if c.err != nil {
		return
	}
	if tr.EndTime == "" {
		c.fail("time_range.end_time", "", "创建订单未填写服务结束时间，完结时必须填写 (no end_time was given at create, so complete must give it)")
		return
	}
	endFirst, endLast, err := parseWeChatTime(tr.EndTime)
	if err != nil {
		c.fail("time_range.end_time", tr.EndTime, err.Error())
		return
	}
	if endFirst.After(now) {
		c.fail("time_range.end_time", tr.EndTime, fmt.Sprintf("实际结束时间不能晚于使用完结接口的时间 (the actual end must not be later than now, %s)", FormatCompact(now)))
		return
	}
	if tr.StartTime == OnAccept {
		return
	}
	startFirst, _, err := parseWeChatTime(tr.StartTime)
	switch {
	case err != nil:
		c.fail("time_range.start_time", tr.StartTime, err.Error())
	case endLast.Before(startFirst):
		c.fail("time_range.end_time", tr.EndTime, "真实结束时间小于预计开始时间 (the actual end is before the start)")
	}
}

// Modify lowers the amount of a completed order that is still awaiting payment.
func (o *Order) Modify(r ModifyRequest) error {
	if err := o.checkCaller(r.AppID, r.ServiceID, true); err != nil {
		return err
	}
	if !o.AwaitingPayment() || o.deducting() {
		return o.stateError(OpModify, "DOING/MCH_COMPLETE awaiting payment (USER_PAYING), with no deduction in flight")
	}
	if o.isDeposit() {
		return Errorf(CodeInvalidRequest, "先免模式订单不支持修改金额").
			With("issue", fmt.Sprintf("orders whose risk_fund is %s (先免) cannot be modified", o.RiskFund.Name))
	}
	var c check
	c.amounts(r.PostPayments, r.PostDiscounts, r.TotalAmount)
	c.str("reason", r.Reason, 1, 50)
	c.device(r.Device)
	if c.err == nil && *r.TotalAmount >= o.Collection.TotalAmount {
		c.fail("total_amount", *r.TotalAmount, fmt.Sprintf("修改后的金额必须小于原金额 (must be less than the current amount, %d)", o.Collection.TotalAmount))
	}
	if c.err != nil {
		return c.err
	}
	o.PostPayments, o.PostDiscounts = r.PostPayments, r.PostDiscounts
	if r.Device != nil {
		o.Device = r.Device
	}
	o.TotalAmount = *r.TotalAmount
	o.Collection.TotalAmount = o.TotalAmount
	o.Collection.PayingAmount = o.TotalAmount - o.Collection.PaidAmount
	return nil
}

// RequestPayment is the merchant asking Pay Score to deduct again (催收); the deduction runs
// after the call, and succeeds unless the plan's mode makes every deduction fail.
func (o *Order) RequestPayment(r PayRequest, now time.Time, p DeductionPlan) error {
	if err := o.checkCaller(r.AppID, r.ServiceID, true); err != nil {
		return err
	}
	if !o.AwaitingPayment() || o.deducting() {
		return o.stateError(OpPay, "DOING/MCH_COMPLETE awaiting payment (USER_PAYING), with no deduction in flight")
	}
	o.scheduleDeduction(now, p, true)
	return nil
}

// Sync settles the order as paid through the merchant's own channel.
func (o *Order) Sync(r SyncRequest) error {
	if err := o.checkCaller(r.AppID, r.ServiceID, true); err != nil {
		return err
	}
	var c check
	if r.Type != SyncTypeOrderPaid {
		c.fail("type", r.Type, "must be "+SyncTypeOrderPaid)
	}
	if r.Detail == nil || r.Detail.PaidTime == "" {
		c.fail("detail.paid_time", "", "is required")
	} else if _, _, err := parseWeChatTime(r.Detail.PaidTime); err != nil {
		c.fail("detail.paid_time", r.Detail.PaidTime, err.Error())
	}
	if c.err != nil {
		return c.err
	}
	if !o.AwaitingPayment() || o.deducting() {
		return o.stateError(OpSync, "DOING/MCH_COMPLETE awaiting payment (USER_PAYING), with no deduction in flight")
	}
	o.settle(PaidTypeMch, r.Detail.PaidTime, "")
	return nil
}

// settle records the outstanding amount as paid and ends the order.
func (o *Order) settle(paidType, paidTime, transactionID string) {
	col := o.Collection
	col.Details = append(col.Details, CollectionDetail{
		Seq: int64(len(col.Details) + 1), Amount: col.PayingAmount,
		PaidType: paidType, PaidTime: paidTime, TransactionID: transactionID,
	})
	col.PaidAmount += col.PayingAmount
	col.PayingAmount = 0
	col.State = UserPaid
	// state_description is returned only while DOING.
	o.State, o.StateDescription = StateDone, ""
	o.endDeduction()
}
