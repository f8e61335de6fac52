package simulator

import "fmt"

// This file is the one table of what an operation answers when the order is in a state it
// does not apply to. Every operation of the state machine asks it, so the merchant API, the
// control API and the pages always agree.

// Operations of the state machine, as the wrong-state table and the errors' detail name them.
const (
	OpConfirm  = "confirm"
	OpCancel   = "cancel"
	OpComplete = "complete"
	OpModify   = "modify"
	OpPay      = "pay"
	OpSync     = "sync"
	OpUserPays = "user pays"
)

// Order situations the wrong-state table tells apart; see (*Order).situation.
const (
	SitCreated     = "CREATED"
	SitConfirmed   = "DOING/USER_CONFIRM"
	SitAwaitingPay = "DOING/MCH_COMPLETE"
	SitDeducting   = "DOING/MCH_COMPLETE deducting"
	SitDone        = "DONE"
	SitRevoked     = "REVOKED"
	SitExpired     = "EXPIRED"
)

// wrongStateRule is an answer: the code and message production gives.
type wrongStateRule struct {
	Code, Message string
}

// wrongStateByOp holds the answers production logs quote for one operation (section 9.1 of
// the reference); wrongStateDefault holds section 2.11's codes, which apply where no log says
// otherwise.
var (
	wrongStateByOp = map[string]map[string]wrongStateRule{
		// Confirming is the user's step on an order nobody completed yet: the deduction is
		// beside the point.
		OpConfirm: {SitDeducting: {CodeInvalidOrderState, "当前订单状态不合法"}},
		// Logged: complete on a REVOKED or CREATED order is 400 INVALID_REQUEST "当前订单状态不合法";
		// complete on an order completed before is PARAM_ERROR "完结订单状态不合法". The other
		// states are inferred to answer like REVOKED.
		OpComplete: {
			SitCreated:     {CodeInvalidRequest, "当前订单状态不合法"},
			SitRevoked:     {CodeInvalidRequest, "当前订单状态不合法"},
			SitExpired:     {CodeInvalidRequest, "当前订单状态不合法"},
			SitAwaitingPay: {CodeParamError, "完结订单状态不合法"},
			SitDeducting:   {CodeParamError, "完结订单状态不合法"},
			SitDone:        {CodeParamError, "完结订单状态不合法"},
		},
	}
	wrongStateDefault = map[string]wrongStateRule{
		SitCreated:     {CodeInvalidOrderState, "当前订单状态不合法"},
		SitConfirmed:   {CodeInvalidOrderState, "当前订单状态不合法"},
		SitAwaitingPay: {CodeInvalidOrderState, "当前订单状态不合法"},
		// The documentation quotes the message for cancel, modify, sync and the cashier; the code
		// is inferred (a well-formed request refused for now is INVALID_REQUEST in §2.11).
		SitDeducting: {CodeInvalidRequest, "单据正在扣款中，请稍后再试"},
		SitDone:      {CodeOrderDone, "订单已完成"},
		SitRevoked:   {CodeOrderCanceled, "订单已取消"},
		SitExpired:   {CodeInvalidOrderState, "订单已失效"},
	}
)

// WrongStateRule is the code and message op answers in situation sit.
func WrongStateRule(op, sit string) (code, message string) {
	r, ok := wrongStateByOp[op][sit]
	if !ok {
		r = wrongStateDefault[sit]
	}
	return r.Code, r.Message
}

// situation names where the order is, as the wrong-state table tells situations apart.
func (o *Order) situation() string {
	switch {
	case o.State == StateDoing && o.StateDescription == UserConfirm:
		return SitConfirmed
	case o.State == StateDoing && o.deducting():
		return SitDeducting
	case o.State == StateDoing:
		return SitAwaitingPay
	}
	return string(o.State)
}

// stateError explains why op does not apply to the order as it is; want says what op needs.
func (o *Order) stateError(op, want string) *Error {
	sit := o.situation()
	code, message := WrongStateRule(op, sit)
	e := Errorf(code, "%s", message)
	e.Detail = map[string]any{
		"operation": op,
		"state":     o.State,
		"issue":     fmt.Sprintf("%s needs an order in %s; this one is %s", op, want, o.stateName()),
	}
	if o.StateDescription != "" {
		e.Detail["state_description"] = o.StateDescription
	}
	if sit == SitDeducting && code == CodeInvalidRequest {
		e.Detail["issue"] = fmt.Sprintf("%s; Pay Score is deducting this one (due %s): retry later, production suggests after about 3 minutes",
			e.Detail["issue"], FormatCompact(o.Sim.DeductAt))
	}
	return e
}
