package simulator

import (
	"context"
	"fmt"
	"time"
)

// DeductionMode says how Pay Score's deduction of a completed order goes. Production deducts
// by itself after complete and retries until it succeeds; a test chooses the outcome.
type DeductionMode string

const (
	// DeductImmediately: the deduction succeeds, shortly after complete (the default).
	DeductImmediately DeductionMode = "immediate"
	// DeductFail: every deduction fails; the order waits in USER_PAYING until the user pays
	// (control API), the mode changes, or the merchant syncs.
	DeductFail DeductionMode = "fail"
	// DeductOnPay: the deduction fails until the merchant asks again with /pay.
	DeductOnPay DeductionMode = "on_pay"
)

// ParseDeductionMode checks a mode given by a client; "" is the default.
func ParseDeductionMode(s string) (DeductionMode, error) {
	switch m := DeductionMode(s); m {
	case "":
		return DeductImmediately, nil
	case DeductImmediately, DeductFail, DeductOnPay:
		return m, nil
	}
	return "", ParamError("mode", s, fmt.Sprintf("must be one of %s, %s, %s", DeductImmediately, DeductFail, DeductOnPay))
}

// UnmarshalText refuses an unknown mode wherever one is read (config, seed and scenario
// files), rather than letting it behave as some other mode.
func (m *DeductionMode) UnmarshalText(b []byte) error {
	mode, err := ParseDeductionMode(string(b))
	if err != nil {
		return fmt.Errorf("deduction %q must be one of %s, %s, %s", b, DeductImmediately, DeductFail, DeductOnPay)
	}
	*m = mode
	return nil
}

// deduct is a successful deduction through Pay Score: the order is paid and the merchant told.
func (o *Order) deduct(now time.Time) error {
	d := Deduction{
		Seq: int64(len(o.Collection.Details) + 1), Amount: o.Collection.PayingAmount,
		TransactionID: newTransactionID(now), OutTradeNo: newOutTradeNo(), Time: now,
	}
	o.settle(PaidTypeNewton, FormatCompact(now), d.TransactionID)
	o.Sim.Deductions = append(o.Sim.Deductions, d)
	return o.notifyPaid(d, now)
}

// UserPays is the user paying an order awaiting payment, as after a failed deduction the user
// may in the WeChat cashier.
func (o *Order) UserPays(now time.Time) error {
	if !o.AwaitingPayment() {
		return o.stateError(OpUserPays, "DOING/MCH_COMPLETE awaiting payment (USER_PAYING)")
	}
	return o.deduct(now)
}

// newTransactionID makes a transaction_id shaped like WeChat Pay's: 28 digits starting 4200.
func newTransactionID(now time.Time) string {
	return "42000" + randomDigits(5) + now.In(ChinaTime).Format(compactDay) + randomDigits(10)
}

// SetDeduction sets how the deductions of one order go, from now on.
func (s *Service) SetDeduction(ctx context.Context, mchid, outOrderNo string, mode DeductionMode) (*Order, error) {
	return s.control(ctx, mchid, outOrderNo, "test: deduction mode "+string(mode), func(o *Order) error {
		o.Sim.Deduction = mode
		return nil
	})
}

// SetDeductionDelay sets how long after complete or /pay Pay Score deducts this order, over
// the merchant's deduction_delay, and puts a deduction already in flight back to run d from
// now. While it runs, cancel, modify, sync and pay meet "单据正在扣款中，请稍后再试": a test
// holds the deduction for as long as it needs that, then lets advance_clock end it.
func (s *Service) SetDeductionDelay(ctx context.Context, mchid, outOrderNo string, d time.Duration) (*Order, error) {
	if d < 0 {
		return nil, ParamError("delay", d.String(), "must not be negative: how long after complete or /pay the deduction runs")
	}
	now := s.Clocks.Now(mchid)
	return s.control(ctx, mchid, outOrderNo, "test: deduction delay "+d.String(), func(o *Order) error {
		delay := Delay(d)
		o.Sim.DeductionDelay = &delay
		if o.deducting() {
			o.Sim.DeductAt = now.Add(d)
		}
		return nil
	})
}

// UserPays is the user paying an order awaiting payment by themselves.
func (s *Service) UserPays(ctx context.Context, mchid, outOrderNo string) (*Order, error) {
	return s.control(ctx, mchid, outOrderNo, "user: paid", func(o *Order) error { return o.UserPays(s.Clocks.Now(mchid)) })
}
