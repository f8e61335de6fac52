package simulator

import (
	"errors"
	"testing"
	"time"
)

// orderIn builds an order in situation sit, as the state machine would have left it.
func orderInSituation(sit string, now time.Time) *Order {
	o := &Order{AppID: "wxapp", ServiceID: "svc", State: StateCreated, RiskFund: RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 100}}
	paying := func() {
		o.State, o.StateDescription = StateDoing, MchComplete
		o.TotalAmount, o.NeedCollection = 300, true
		o.Collection = &Collection{State: UserPaying, TotalAmount: 300, PayingAmount: 300}
	}
	switch sit {
	case SitConfirmed:
		o.State, o.StateDescription = StateDoing, UserConfirm
	case SitAwaitingPay:
		paying()
	case SitDeducting:
		paying()
		o.Sim.DeductAt = now.Add(time.Hour)
	case SitDone:
		paying()
		o.settle(PaidTypeMch, FormatCompact(now), "")
	case SitRevoked:
		o.State = StateRevoked
		o.Sim.CancelReason = "earlier reason"
	case SitExpired:
		o.State = StateExpired
	}
	if o.situation() != sit {
		panic("orderInSituation(" + sit + ") built " + o.situation())
	}
	return o
}

// wrongStateOps are the state machine's operations, each applied with valid arguments, so
// that only the order's state can refuse it.
var wrongStateOps = map[string]func(o *Order, now time.Time) error{
	OpConfirm: func(o *Order, now time.Time) error { return o.Confirm(now) },
	OpCancel: func(o *Order, now time.Time) error {
		return o.Cancel(CancelRequest{AppID: "wxapp", Reason: "another reason"}, false)
	},
	OpComplete: func(o *Order, now time.Time) error {
		amount := int64(300)
		return o.Complete(CompleteRequest{AppID: "wxapp", ServiceID: "svc", PostPayments: []PostPayment{{Name: "fee", Amount: &amount}},
			TotalAmount: &amount, TimeRange: &TimeRange{StartTime: FormatCompact(now.Add(-time.Hour)), EndTime: FormatCompact(now)}},
			now, DeductionPlan{Mode: DeductFail})
	},
	OpModify: func(o *Order, now time.Time) error {
		amount := int64(100)
		return o.Modify(ModifyRequest{AppID: "wxapp", ServiceID: "svc", PostPayments: []PostPayment{{Name: "fee", Amount: &amount}}, TotalAmount: &amount, Reason: "r"})
	},
	OpPay: func(o *Order, now time.Time) error {
		return o.RequestPayment(PayRequest{AppID: "wxapp", ServiceID: "svc"}, now, DeductionPlan{})
	},
	OpUserPays: func(o *Order, now time.Time) error { return o.UserPays(now) },
	OpSync: func(o *Order, now time.Time) error {
		r := SyncRequest{AppID: "wxapp", ServiceID: "svc", Type: SyncTypeOrderPaid}
		r.Detail = &struct {
			PaidTime string `json:"paid_time"`
		}{FormatCompact(now)}
		return o.Sync(r)
	},
}

// TestWrongStateTable: every operation, in every situation it does not apply to, answers
// what the one table says; and the table says what production logs show where they quote it.
func TestWrongStateTable(t *testing.T) {
	now := time.Now()
	sits := []string{SitCreated, SitConfirmed, SitAwaitingPay, SitDeducting, SitDone, SitRevoked, SitExpired}
	refused := 0
	for op, apply := range wrongStateOps {
		for _, sit := range sits {
			err := apply(orderInSituation(sit, now), now)
			var e *Error
			if err == nil || !errors.As(err, &e) || e.Detail["operation"] != op {
				// The operation applies here (or refused for another reason than the state).
				continue
			}
			refused++
			code, message := WrongStateRule(op, sit)
			if code == "" || e.Code != code || e.Message != message {
				t.Errorf("%s on %s: %s %q, want the table's %s %q", op, sit, e.Code, e.Message, code, message)
			}
		}
	}
	// The ten that apply: confirm a CREATED order; cancel a CREATED, confirmed or awaiting one;
	// complete a confirmed one; modify, pay and sync an awaiting one; the user pays an awaiting
	// one, even with a deduction in flight. Every other pair is refused by the state.
	if want := len(wrongStateOps)*len(sits) - 10; refused != want {
		t.Errorf("%d refusals by state, want %d", refused, want)
	}
	for _, tc := range []struct{ op, sit, code, message string }{
		// Production logs (reference §9.1).
		{OpComplete, SitRevoked, CodeInvalidRequest, "当前订单状态不合法"},
		{OpComplete, SitCreated, CodeInvalidRequest, "当前订单状态不合法"},
		{OpComplete, SitDone, CodeParamError, "完结订单状态不合法"},
		// The documentation's message for a deduction in flight (§2.4, §2.5, §2.8).
		{OpCancel, SitDeducting, CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{OpModify, SitDeducting, CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{OpSync, SitDeducting, CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{OpPay, SitDeducting, CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		// §2.11's table elsewhere.
		{OpCancel, SitDone, CodeOrderDone, "订单已完成"},
		{OpModify, SitRevoked, CodeOrderCanceled, "订单已取消"},
		{OpSync, SitExpired, CodeInvalidOrderState, "订单已失效"},
		{OpPay, SitConfirmed, CodeInvalidOrderState, "当前订单状态不合法"},
	} {
		if code, message := WrongStateRule(tc.op, tc.sit); code != tc.code || message != tc.message {
			t.Errorf("table: %s on %s is %s %q, want %s %q", tc.op, tc.sit, code, message, tc.code, tc.message)
		}
		err := wrongStateOps[tc.op](orderInSituation(tc.sit, now), now)
		if e, ok := err.(*Error); !ok || e.Code != tc.code || e.Message != tc.message {
			t.Errorf("%s on %s answered %v, want %s %q", tc.op, tc.sit, err, tc.code, tc.message)
		}
	}
}

// TestCompleteReentry: the same complete again changes nothing and succeeds; another is refused
// naming what differs, even after the deduction.
func TestCompleteReentry(t *testing.T) {
	now := time.Now()
	o := orderInSituation(SitConfirmed, now)
	if err := wrongStateOps[OpComplete](o, now); err != nil {
		t.Fatal(err)
	}
	o.settle(PaidTypeNewton, FormatCompact(now), "4200")
	before := *o
	if err := wrongStateOps[OpComplete](o, now); err != nil || o.State != StateDone || o.Collection != before.Collection {
		t.Fatalf("repeated complete: %v, order %+v", err, o)
	}
	amount := int64(200)
	err := o.Complete(CompleteRequest{AppID: "wxapp", ServiceID: "svc", PostPayments: []PostPayment{{Name: "fee", Amount: &amount}}, TotalAmount: &amount},
		now, DeductionPlan{})
	e, ok := err.(*Error)
	if !ok || e.Code != CodeParamError || e.Message != "订单重入参数校验失败" {
		t.Fatalf("complete with other parameters: %v", err)
	}
	if got := e.Detail["differing_fields"]; len(got.([]string)) != 3 {
		t.Errorf("differing_fields = %v, want post_payments, time_range, total_amount", got)
	}
	if a := o.CompleteAnswer(); a.State != StateDoing || a.StateDescription != MchComplete || a.Collection != nil {
		t.Errorf("the complete answer of a paid order: %s/%s, collection %v; want the first answer", a.State, a.StateDescription, a.Collection)
	}
}
