package simulator_test

import (
	"errors"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// situations name each state of orderStates as the wrong-state table does.
var situations = map[string]string{
	created:   simulator.SitCreated,
	confirmed: simulator.SitConfirmed,
	awaiting:  simulator.SitAwaitingPay,
	deducting: simulator.SitDeducting,
	paid:      simulator.SitDone,
	revoked:   simulator.SitRevoked,
	expired:   simulator.SitExpired,
}

// TestWrongStateTable: every refusal for the order's state, by every operation in every state
// of the transition table, is the code and message of the one wrong-state table.
func TestWrongStateTable(t *testing.T) {
	refusals := 0
	for _, tr := range orderTransitions {
		// The setting reject_cancel_after_complete answers with its own message (§2.4).
		if tr.code == "" || tr.op == "cancel, rejecting after complete" && tr.from == awaiting {
			continue
		}
		o := orderIn(t, tr.from)
		var e *simulator.Error
		if !errors.As(orderOps[tr.op](o), &e) {
			t.Fatalf("%s from %s: not an *Error", tr.op, tr.from)
		}
		op, byState := e.Detail["operation"].(string)
		if !byState {
			// Refused for its parameters (re-entry, reject_cancel_after_complete), not the state.
			continue
		}
		refusals++
		code, message := simulator.WrongStateRule(op, situations[tr.from])
		if e.Code != code || e.Message != message {
			t.Errorf("%s from %s: %s %q, want the table's %s %q", tr.op, tr.from, e.Code, e.Message, code, message)
		}
	}
	if refusals < 50 {
		t.Errorf("only %d refusals by state checked", refusals)
	}
	for _, tc := range []struct{ op, sit, code, message string }{
		// Production logs (reference §9.1).
		{simulator.OpComplete, simulator.SitRevoked, simulator.CodeInvalidRequest, "当前订单状态不合法"},
		{simulator.OpComplete, simulator.SitCreated, simulator.CodeInvalidRequest, "当前订单状态不合法"},
		{simulator.OpComplete, simulator.SitDone, simulator.CodeParamError, "完结订单状态不合法"},
		// The documentation's message for a deduction in flight (§2.4, §2.5, §2.8).
		{simulator.OpCancel, simulator.SitDeducting, simulator.CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{simulator.OpModify, simulator.SitDeducting, simulator.CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{simulator.OpSync, simulator.SitDeducting, simulator.CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		{simulator.OpPay, simulator.SitDeducting, simulator.CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		// §2.11's table elsewhere.
		{simulator.OpCancel, simulator.SitDone, simulator.CodeOrderDone, "订单已完成"},
		{simulator.OpModify, simulator.SitRevoked, simulator.CodeOrderCanceled, "订单已取消"},
		{simulator.OpSync, simulator.SitExpired, simulator.CodeInvalidOrderState, "订单已失效"},
		{simulator.OpPay, simulator.SitConfirmed, simulator.CodeInvalidOrderState, "当前订单状态不合法"},
	} {
		if code, message := simulator.WrongStateRule(tc.op, tc.sit); code != tc.code || message != tc.message {
			t.Errorf("table: %s on %s is %s %q, want %s %q", tc.op, tc.sit, code, message, tc.code, tc.message)
		}
	}
}

// TestCompleteReentry: the same complete again succeeds and changes nothing, even after the
// deduction, and answers as the first did; another is refused naming what differs.
func TestCompleteReentry(t *testing.T) {
	o := orderIn(t, paid)
	before := jsonOf(t, o)
	if err := orderOps["complete, deducting immediately"](o); err != nil || jsonOf(t, o) != before {
		t.Fatalf("repeated complete: %v, order %s, want %s", err, jsonOf(t, o), before)
	}
	if a := o.CompleteAnswer(); a.State != simulator.StateDoing || a.StateDescription != simulator.MchComplete || a.Collection != nil {
		t.Errorf("the complete answer of a paid order: %s/%s, collection %v; want the first answer", a.State, a.StateDescription, a.Collection)
	}
	var e *simulator.Error
	if !errors.As(orderOps["complete with nothing to pay"](o), &e) || e.Code != simulator.CodeParamError || e.Message != "订单重入参数校验失败" {
		t.Fatalf("complete with other parameters: %v", e)
	}
	if got := e.Detail["differing_fields"].([]string); len(got) != 2 || got[0] != "post_payments" || got[1] != "total_amount" {
		t.Errorf("differing_fields = %v, want post_payments and total_amount", got)
	}
}
