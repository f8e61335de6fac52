package simulator

import (
	"context"
	"fmt"
	"time"
)

// This file runs Pay Score's deductions after the call that caused them, as production does:
// complete and direct-complete answer DOING/MCH_COMPLETE with collection USER_PAYING, and the
// deduction comes a little later. A pending deduction is stored with its order (Sim.DeductAt),
// so it survives a restart; the deductions' DueRunner runs it when it is due on the simulated clock.

// DefaultDeductionDelay is how long after complete (or /pay) Pay Score deducts, unless the
// serve flag or the merchant's setting says otherwise: long enough that the complete response
// can never carry the result, short enough that a test waiting for USER_PAID does not notice.
const DefaultDeductionDelay = 200 * time.Millisecond

// Deduction is one successful deduction through Pay Score: the payment WeChat made for the
// order, with the numbers a refund needs.
type Deduction struct {
	Seq           int64  `json:"seq"`
	Amount        int64  `json:"amount"`
	TransactionID string `json:"transaction_id"`
	// OutTradeNo is the deduction's merchant-side number, which WeChat generates (it is not
	// out_order_no); PAYSCORE.USER_PAID carries it.
	OutTradeNo string    `json:"out_trade_no"`
	Time       time.Time `json:"time"`
}

// DeductionPlan is what decides a deduction: the order's mode and the merchant's delay.
type DeductionPlan struct {
	Mode  DeductionMode
	Delay time.Duration
}

// plan is how the deductions of o go for merchant m: the order's own delay, else the
// merchant's, else the simulator's.
func (s *Service) plan(o *Order, m *Merchant) DeductionPlan {
	delay := s.deductionDelay
	switch {
	case o.Sim.DeductionDelay != nil:
		delay = time.Duration(*o.Sim.DeductionDelay)
	case m.Settings.DeductionDelay != nil:
		delay = *m.Settings.DeductionDelay
	}
	return DeductionPlan{Mode: o.DeductionInForce(m).Mode, Delay: delay}
}

// deducting reports whether a deduction of the order is in flight.
func (o *Order) deducting() bool { return !o.Sim.DeductAt.IsZero() }

// DeductionDue is when the order's pending deduction runs; ok is false when none is pending.
func (o *Order) DeductionDue() (t time.Time, ok bool) { return o.Sim.DeductAt, o.deducting() }

// scheduleDeduction starts a deduction of an order awaiting payment, if the plan lets one
// succeed; requested marks one the merchant asked for with /pay. A deduction that would fail is
// not scheduled: its failure changes nothing the merchant can see.
func (o *Order) scheduleDeduction(now time.Time, p DeductionPlan, requested bool) {
	if !o.AwaitingPayment() || !p.Mode.succeeds(requested) {
		return
	}
	o.Sim.DeductAt = now.Add(p.Delay)
	o.Sim.DeductRequested = requested
}

// succeeds reports whether a deduction goes through in mode m; requested is whether the
// merchant asked for it with /pay.
func (m DeductionMode) succeeds(requested bool) bool {
	return m == DeductImmediately || m == DeductOnPay && requested
}

// RunDeduction runs the order's pending deduction if it is due at now: it succeeds or fails as
// mode (read now, since a test may have changed it meanwhile) says. It reports whether it ran.
func (o *Order) RunDeduction(now time.Time, mode DeductionMode) (bool, error) {
	if !o.deducting() || o.Sim.DeductAt.After(now) {
		return false, nil
	}
	requested := o.Sim.DeductRequested
	o.endDeduction()
	if !o.AwaitingPayment() || !mode.succeeds(requested) {
		return true, nil
	}
	return true, o.deduct(now)
}

// endDeduction marks no deduction in flight.
func (o *Order) endDeduction() {
	o.Sim.DeductAt, o.Sim.DeductRequested = time.Time{}, false
}

// newOutTradeNo makes a deduction's out_trade_no shaped like those seen in production: 19 digits.
func newOutTradeNo() string { return "18" + randomDigits(17) }

// RunDueDeductions runs every deduction due at the real time now, each by its merchant's
// clock. It returns the real time at which the next pending deduction is due, if any: it is
// the Run of the DueRunner the wiring gives.
func (s *Service) RunDueDeductions(ctx context.Context, now time.Time) (next time.Time, ok bool, err error) {
	for {
		due, err := s.Orders.ListOrders(ctx, OrderFilter{DeductionDueBy: now, Limit: 100})
		if err != nil {
			return time.Time{}, false, err
		}
		for _, o := range due {
			if err := s.runDeduction(ctx, o.MchID, o.OutOrderNo, s.Clocks.Now(o.MchID), false); err != nil {
				return time.Time{}, false, err
			}
		}
		if len(due) < 100 {
			break
		}
	}
	return s.Orders.NextDeductionDue(ctx)
}

// DeductNow runs the order's pending deduction at once, without waiting for it to come due:
// for seeds and scenarios that need an order settled the way Pay Score settles it. An order
// with no deduction pending is returned as it is.
func (s *Service) DeductNow(ctx context.Context, mchid, outOrderNo string) (*Order, error) {
	o, err := s.Orders.FindOrder(ctx, mchid, OrderKey{OutOrderNo: outOrderNo})
	if err != nil {
		return nil, err
	}
	if !o.deducting() {
		return o, nil
	}
	if err := s.runDeduction(ctx, mchid, outOrderNo, s.Clocks.Now(mchid), true); err != nil {
		return nil, err
	}
	return s.Orders.FindOrder(ctx, mchid, OrderKey{OutOrderNo: outOrderNo})
}

// runDeduction runs one order's due deduction in its own transaction; when early is true,
// whether it is due or not.
func (s *Service) runDeduction(ctx context.Context, mchid, outOrderNo string, now time.Time, early bool) error {
	notifies := false
	_, err := s.Orders.UpdateOrder(ctx, mchid, outOrderNo, func(o *Order) error {
		mode := o.DeductionInForce(s.Merchants.Merchant(mchid)).Mode
		if early && o.deducting() {
			o.Sim.DeductAt = now
		}
		return o.track("pay score: deduction", now, func() error {
			_, err := o.RunDeduction(now, mode)
			notifies = len(o.Sim.Outbox) > 0
			return err
		})
	})
	if err != nil {
		return fmt.Errorf("deduction of %s/%s: %w", mchid, outOrderNo, err)
	}
	if notifies {
		s.wake()
	}
	return nil
}
