package simulator

// This file holds what a screen asks of an order's payment: whether it awaits the user's
// payment, and which deduction mode applies and why. The dashboard shows these; the state
// machine (order_state.go, deduction.go) decides by them, so both read one rule.

// AwaitingPayment reports whether the order was completed and waits for the user's payment:
// DOING/MCH_COMPLETE with collection USER_PAYING, as after a failed deduction.
func (o *Order) AwaitingPayment() bool {
	return o.State == StateDoing && o.StateDescription == MchComplete &&
		o.Collection != nil && o.Collection.State == UserPaying
}

// DeductionSource is where an order's deduction mode comes from.
type DeductionSource string

const (
	DeductionFromOrder    DeductionSource = "order"    // set for the order (control API, scenario)
	DeductionFromMerchant DeductionSource = "merchant" // the merchant's deduction setting
	DeductionFromDefault  DeductionSource = "default"  // neither: DeductImmediately
)

// Describe says where the mode comes from, in words.
func (s DeductionSource) Describe() string {
	switch s {
	case DeductionFromOrder:
		return "set for this order"
	case DeductionFromMerchant:
		return "the merchant's setting"
	}
	return "the default"
}

// DeductionInForce is the deduction mode in force for an order, and where it comes from.
type DeductionInForce struct {
	Mode DeductionMode
	From DeductionSource
}

// DeductionInForce is the mode the order's deduction follows: the order's own, else its merchant's
// (m may be nil), else DeductImmediately.
func (o *Order) DeductionInForce(m *Merchant) DeductionInForce {
	switch {
	case o.Sim.Deduction != "":
		return DeductionInForce{o.Sim.Deduction, DeductionFromOrder}
	case m != nil && m.Settings.Deduction != "":
		return DeductionInForce{m.Settings.Deduction, DeductionFromMerchant}
	}
	return DeductionInForce{DeductImmediately, DeductionFromDefault}
}

// DeductionModes are the modes, in the order a screen offers them.
var DeductionModes = []DeductionMode{DeductImmediately, DeductFail, DeductOnPay}

// Describe says what the mode does to a completed order.
func (m DeductionMode) Describe() string {
	switch m {
	case DeductFail:
		return "every deduction fails; the order waits in USER_PAYING"
	case DeductOnPay:
		return "deductions fail until the merchant calls /pay"
	}
	return "the deduction succeeds, shortly after complete (or /pay)"
}
