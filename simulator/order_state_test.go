package simulator_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// orderOps are the operations of the order state machine, each as the Service applies it.
var orderOps = map[string]func(o *simulator.Order) error{
	"confirm": func(o *simulator.Order) error { return o.Confirm(testOpenID, testNow) },
	"cancel": func(o *simulator.Order) error {
		return o.Cancel(simulator.CancelRequest{AppID: testAppID, Reason: "用户取消"}, false)
	},
	// The merchant setting reject_cancel_after_complete.
	"cancel, rejecting after complete": func(o *simulator.Order) error {
		return o.Cancel(simulator.CancelRequest{AppID: testAppID, Reason: "用户取消"}, true)
	},
	"cancel with another reason": func(o *simulator.Order) error {
		return o.Cancel(simulator.CancelRequest{AppID: testAppID, Reason: "商户取消"}, false)
	},
	"complete, deducting immediately": func(o *simulator.Order) error {
		return o.Complete(completeRequest(300), testNow, plan(simulator.DeductImmediately))
	},
	"complete, deductions failing": func(o *simulator.Order) error {
		return o.Complete(completeRequest(300), testNow, plan(simulator.DeductFail))
	},
	"complete, deducting on pay": func(o *simulator.Order) error {
		return o.Complete(completeRequest(300), testNow, plan(simulator.DeductOnPay))
	},
	"complete with nothing to pay": func(o *simulator.Order) error {
		return o.Complete(completeRequest(0), testNow, plan(simulator.DeductFail))
	},
	// Pay Score's deduction, when it comes due, as the mode is then.
	"the deduction comes due": func(o *simulator.Order) error {
		_, err := o.RunDeduction(testNow.Add(time.Hour), simulator.DeductImmediately)
		return err
	},
	"the deduction comes due, failing": func(o *simulator.Order) error {
		_, err := o.RunDeduction(testNow.Add(time.Hour), simulator.DeductFail)
		return err
	},
	"modify": func(o *simulator.Order) error {
		return o.Modify(simulator.ModifyRequest{
			AppID: testAppID, ServiceID: testServiceID, Reason: "优惠",
			PostPayments: []simulator.PostPayment{{Name: "租借费", Amount: ptr[int64](200)}}, TotalAmount: ptr[int64](200),
		})
	},
	"pay, deducting immediately": func(o *simulator.Order) error {
		return o.RequestPayment(simulator.PayRequest{AppID: testAppID, ServiceID: testServiceID}, testNow, plan(simulator.DeductImmediately))
	},
	"pay, deductions failing": func(o *simulator.Order) error {
		return o.RequestPayment(simulator.PayRequest{AppID: testAppID, ServiceID: testServiceID}, testNow, plan(simulator.DeductFail))
	},
	"sync": func(o *simulator.Order) error {
		r := simulator.SyncRequest{AppID: testAppID, ServiceID: testServiceID, Type: simulator.SyncTypeOrderPaid}
		r.Detail = &struct {
			PaidTime string `json:"paid_time"`
		}{PaidTime: simulator.FormatCompact(testNow)}
		return o.Sync(r)
	},
	"user pays": func(o *simulator.Order) error { return o.UserPays(testNow) },
	"expire after 30 days": func(o *simulator.Order) error {
		o.Expire(o.Sim.CreatedAt.Add(simulator.OrderLifetime))
		return nil
	},
	"expire before 30 days": func(o *simulator.Order) error {
		o.Expire(o.Sim.CreatedAt.Add(simulator.OrderLifetime - time.Second))
		return nil
	},
}

// Short names of the states of orderStates, for the table.
const (
	created   = "CREATED"
	confirmed = "DOING/USER_CONFIRM"
	awaiting  = "DOING/MCH_COMPLETE USER_PAYING"
	// deducting is an order awaiting payment whose deduction is in flight.
	deducting = "DOING/MCH_COMPLETE USER_PAYING deducting"
	paid      = "DONE USER_PAID"
	revoked   = "REVOKED"
	expired   = "EXPIRED"
	// revokedUnpaid is an order cancelled while awaiting payment: the collection keeps the
	// state it had.
	revokedUnpaid = "REVOKED USER_PAYING"
)

// orderTransition is one row of the state machine: op applied to an order in state from leaves
// it in state want and queues the notifications notify, or fails with code and leaves the order
// exactly as it was.
type orderTransition struct {
	op, from string
	want     string
	notify   []simulator.EventType
	code     string
}

var (
	userConfirm = []simulator.EventType{simulator.EventUserConfirm}
	userPaid    = []simulator.EventType{simulator.EventUserPaid}
)

// orderTransitions is every operation in every state. A row whose code is set expects that
// error, and the order unchanged.
var orderTransitions = []orderTransition{
	{op: "confirm", from: created, want: confirmed, notify: userConfirm},
	{op: "confirm", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "confirm", from: awaiting, code: simulator.CodeInvalidOrderState},
	{op: "confirm", from: deducting, code: simulator.CodeInvalidOrderState},
	{op: "confirm", from: paid, code: simulator.CodeOrderDone},
	{op: "confirm", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "confirm", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "cancel", from: created, want: revoked},
	{op: "cancel", from: confirmed, want: revoked},
	{op: "cancel", from: awaiting, want: revokedUnpaid},
	{op: "cancel", from: deducting, code: simulator.CodeInvalidRequest}, // 单据正在扣款中
	{op: "cancel", from: paid, code: simulator.CodeOrderDone},
	{op: "cancel", from: revoked, want: revoked}, // repeated with the same reason: idempotent
	{op: "cancel", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "cancel, rejecting after complete", from: created, want: revoked},
	{op: "cancel, rejecting after complete", from: confirmed, want: revoked},
	{op: "cancel, rejecting after complete", from: awaiting, code: simulator.CodeParamError},
	{op: "cancel, rejecting after complete", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "cancel, rejecting after complete", from: paid, code: simulator.CodeOrderDone},
	{op: "cancel, rejecting after complete", from: revoked, want: revoked},
	{op: "cancel, rejecting after complete", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "cancel with another reason", from: created, want: revoked},
	{op: "cancel with another reason", from: confirmed, want: revoked},
	{op: "cancel with another reason", from: awaiting, want: revokedUnpaid},
	{op: "cancel with another reason", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "cancel with another reason", from: paid, code: simulator.CodeOrderDone},
	{op: "cancel with another reason", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "cancel with another reason", from: expired, code: simulator.CodeInvalidOrderState},

	// Complete answers before Pay Score deducts. A complete repeated with the parameters of the
	// first (completeRequest(300) made awaiting, deducting and paid) succeeds and changes
	// nothing; other parameters are PARAM_ERROR 订单重入参数校验失败. Production logs show
	// INVALID_REQUEST for CREATED and REVOKED orders.
	{op: "complete, deducting immediately", from: created, code: simulator.CodeInvalidRequest},
	{op: "complete, deducting immediately", from: confirmed, want: deducting},
	{op: "complete, deducting immediately", from: awaiting, want: awaiting},
	{op: "complete, deducting immediately", from: deducting, want: deducting},
	{op: "complete, deducting immediately", from: paid, want: paid},
	{op: "complete, deducting immediately", from: revoked, code: simulator.CodeInvalidRequest},
	{op: "complete, deducting immediately", from: expired, code: simulator.CodeInvalidRequest},

	{op: "complete, deductions failing", from: created, code: simulator.CodeInvalidRequest},
	{op: "complete, deductions failing", from: confirmed, want: awaiting},
	{op: "complete, deductions failing", from: awaiting, want: awaiting},
	{op: "complete, deductions failing", from: deducting, want: deducting},
	{op: "complete, deductions failing", from: paid, want: paid},
	{op: "complete, deductions failing", from: revoked, code: simulator.CodeInvalidRequest},
	{op: "complete, deductions failing", from: expired, code: simulator.CodeInvalidRequest},

	{op: "complete, deducting on pay", from: created, code: simulator.CodeInvalidRequest},
	{op: "complete, deducting on pay", from: confirmed, want: awaiting},
	{op: "complete, deducting on pay", from: awaiting, want: awaiting},
	{op: "complete, deducting on pay", from: deducting, want: deducting},
	{op: "complete, deducting on pay", from: paid, want: paid},
	{op: "complete, deducting on pay", from: revoked, code: simulator.CodeInvalidRequest},
	{op: "complete, deducting on pay", from: expired, code: simulator.CodeInvalidRequest},

	{op: "complete with nothing to pay", from: created, code: simulator.CodeInvalidRequest},
	{op: "complete with nothing to pay", from: confirmed, want: paid}, // settled at once, no USER_PAID
	{op: "complete with nothing to pay", from: awaiting, code: simulator.CodeParamError},
	{op: "complete with nothing to pay", from: deducting, code: simulator.CodeParamError},
	{op: "complete with nothing to pay", from: paid, code: simulator.CodeParamError},
	{op: "complete with nothing to pay", from: revoked, code: simulator.CodeInvalidRequest},
	{op: "complete with nothing to pay", from: expired, code: simulator.CodeInvalidRequest},

	{op: "the deduction comes due", from: created, want: created},
	{op: "the deduction comes due", from: confirmed, want: confirmed},
	{op: "the deduction comes due", from: awaiting, want: awaiting},
	{op: "the deduction comes due", from: deducting, want: paid, notify: userPaid},
	{op: "the deduction comes due", from: paid, want: paid},
	{op: "the deduction comes due", from: revoked, want: revoked},
	{op: "the deduction comes due", from: expired, want: expired},

	// The mode changed to fail while the deduction was pending: it fails, and the order waits.
	{op: "the deduction comes due, failing", from: created, want: created},
	{op: "the deduction comes due, failing", from: confirmed, want: confirmed},
	{op: "the deduction comes due, failing", from: awaiting, want: awaiting},
	{op: "the deduction comes due, failing", from: deducting, want: awaiting},
	{op: "the deduction comes due, failing", from: paid, want: paid},
	{op: "the deduction comes due, failing", from: revoked, want: revoked},
	{op: "the deduction comes due, failing", from: expired, want: expired},

	{op: "modify", from: created, code: simulator.CodeInvalidOrderState},
	{op: "modify", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "modify", from: awaiting, want: awaiting},
	{op: "modify", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "modify", from: paid, code: simulator.CodeOrderDone},
	{op: "modify", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "modify", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "pay, deducting immediately", from: created, code: simulator.CodeInvalidOrderState},
	{op: "pay, deducting immediately", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "pay, deducting immediately", from: awaiting, want: deducting},
	{op: "pay, deducting immediately", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "pay, deducting immediately", from: paid, code: simulator.CodeOrderDone},
	{op: "pay, deducting immediately", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "pay, deducting immediately", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "pay, deductions failing", from: created, code: simulator.CodeInvalidOrderState},
	{op: "pay, deductions failing", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "pay, deductions failing", from: awaiting, want: awaiting}, // accepted; the deduction fails again
	{op: "pay, deductions failing", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "pay, deductions failing", from: paid, code: simulator.CodeOrderDone},
	{op: "pay, deductions failing", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "pay, deductions failing", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "sync", from: created, code: simulator.CodeInvalidOrderState},
	{op: "sync", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "sync", from: awaiting, want: paid}, // the merchant was paid: no USER_PAID
	{op: "sync", from: deducting, code: simulator.CodeInvalidRequest},
	{op: "sync", from: paid, code: simulator.CodeOrderDone},
	{op: "sync", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "sync", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "user pays", from: created, code: simulator.CodeInvalidOrderState},
	{op: "user pays", from: confirmed, code: simulator.CodeInvalidOrderState},
	{op: "user pays", from: awaiting, want: paid, notify: userPaid},
	{op: "user pays", from: deducting, want: paid, notify: userPaid}, // in the cashier, ending the deduction
	{op: "user pays", from: paid, code: simulator.CodeOrderDone},
	{op: "user pays", from: revoked, code: simulator.CodeOrderCanceled},
	{op: "user pays", from: expired, code: simulator.CodeInvalidOrderState},

	{op: "expire after 30 days", from: created, want: expired},
	{op: "expire after 30 days", from: confirmed, want: confirmed},
	{op: "expire after 30 days", from: awaiting, want: awaiting},
	{op: "expire after 30 days", from: deducting, want: deducting},
	{op: "expire after 30 days", from: paid, want: paid},
	{op: "expire after 30 days", from: revoked, want: revoked},
	{op: "expire after 30 days", from: expired, want: expired},

	{op: "expire before 30 days", from: created, want: created},
	{op: "expire before 30 days", from: confirmed, want: confirmed},
	{op: "expire before 30 days", from: awaiting, want: awaiting},
	{op: "expire before 30 days", from: deducting, want: deducting},
	{op: "expire before 30 days", from: paid, want: paid},
	{op: "expire before 30 days", from: revoked, want: revoked},
	{op: "expire before 30 days", from: expired, want: expired},
}

// TestOrderTransitions applies every operation to an order in every state.
func TestOrderTransitions(t *testing.T) {
	for _, tr := range orderTransitions {
		t.Run(tr.op+" from "+tr.from, func(t *testing.T) {
			op, ok := orderOps[tr.op]
			if !ok {
				t.Fatalf("no operation %q", tr.op)
			}
			o := orderIn(t, tr.from)
			before := jsonOf(t, o)
			err := op(o)
			if got := codeOf(err); got != tr.code {
				t.Fatalf("%s from %s: error %v, want code %q", tr.op, tr.from, err, tr.code)
			}
			if err != nil {
				if after := jsonOf(t, o); after != before || len(o.Sim.Outbox) > 0 {
					t.Errorf("a refused %s changed the order:\nbefore %s\nafter  %s\noutbox %v", tr.op, before, after, events(o.Sim.Outbox))
				}
				return
			}
			if got := stateOf(o); got != tr.want {
				t.Errorf("%s from %s: order is %s, want %s", tr.op, tr.from, got, tr.want)
			}
			if got := events(o.Sim.Outbox); !slices.Equal(got, tr.notify) {
				t.Errorf("%s from %s queued %v, want %v", tr.op, tr.from, got, tr.notify)
			}
		})
	}
}

// TestOrderTransitionsCoverEveryCase fails when an operation or a state has no row for some
// pairing, so that a new operation or state comes with its rows.
func TestOrderTransitionsCoverEveryCase(t *testing.T) {
	var pairs [][2]string
	for _, tr := range orderTransitions {
		pairs = append(pairs, [2]string{tr.op, tr.from})
	}
	checkCovers(t, pairs, orderOps, orderStates)
}

// TestOrderRefusalsExplain checks that a refusal for the order's state says which state the
// operation needed and which the order is in.
func TestOrderRefusalsExplain(t *testing.T) {
	for _, tr := range orderTransitions {
		if tr.code == "" || tr.code == simulator.CodeParamError {
			continue
		}
		o := orderIn(t, tr.from)
		var e *simulator.Error
		err := orderOps[tr.op](o)
		if !errors.As(err, &e) {
			t.Fatalf("%s from %s: %v is not an *Error", tr.op, tr.from, err)
		}
		issue, _ := e.Detail["issue"].(string)
		if e.Detail["state"] != o.State || !strings.Contains(issue, "needs an order in") {
			t.Errorf("%s from %s: detail %v does not explain the state", tr.op, tr.from, e.Detail)
		}
	}
}
