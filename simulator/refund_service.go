package simulator

import (
	"context"
	"fmt"
	"time"
)

// RefundStore persists refunds and the transactions they refund. The rules live in
// RefundService; a store keeps what it is given, atomically.
type RefundStore interface {
	// CreateRefund reads, in one write transaction, the merchant's refund numbered
	// outRefundNo, the merchant's transaction named by key and that transaction's refunds, and
	// hands them to decide. It stores the refund decide returns unless that is the existing
	// one, and saves the notifications in its outbox. An error of decide is returned as it is.
	CreateRefund(ctx context.Context, mchid, outRefundNo string, key TransactionKey, decide func(RefundCandidate) (*Refund, error)) (r *Refund, created bool, err error)
	// FindRefund returns the merchant's refund numbered outRefundNo, or RESOURCE_NOT_EXISTS.
	FindRefund(ctx context.Context, mchid, outRefundNo string) (*Refund, error)
	// UpdateRefund loads the merchant's refund, lets fn change it and saves it with the
	// notifications in its outbox, in one transaction. If fn fails nothing is saved.
	UpdateRefund(ctx context.Context, mchid, outRefundNo string, fn func(*Refund) error) (*Refund, error)
	// ListRefunds returns refunds newest first.
	ListRefunds(ctx context.Context, f RefundFilter) ([]*Refund, error)
	// DueRefunds returns refunds whose outcome is due by their merchant's clock at the real time
	// now (see NotificationStore.DueNotifications), earliest first.
	DueRefunds(ctx context.Context, now time.Time, limit int) ([]*Refund, error)
	// NextRefundDue returns the real time at which the earliest pending outcome comes due by its
	// merchant's clock.
	NextRefundDue(ctx context.Context) (t time.Time, ok bool, err error)
}

// RefundFilter narrows ListRefunds. Zero fields match everything; Limit 0 means 100.
type RefundFilter struct {
	MchID         string
	OutOrderNo    string
	TransactionID string
	Status        RefundStatus
	// Before keeps the refunds listed after the one of this ID (its refund_id): the next page of a
	// listing whose previous page ended there.
	Before string
	Limit  int
}

// RefundService is the domestic refund API as the merchant's back end sees it, and the
// control of refunds a test takes.
type RefundService struct {
	Refunds RefundStore
	// Orders is read to explain a refund that names a Pay Score order's out_order_no.
	Orders    OrderStore
	Merchants *Merchants
	Clocks    *Clocks
	// Notifier, when set, is woken after changes that queue notifications.
	Notifier Notifier
	// Runner, when set, is woken after a change that makes an outcome due: a DueRunner whose
	// Run is SettleDue.
	Runner *DueRunner
	// Faults, when set, are the fault rules in force: a refund_abnormal or refund_closed rule
	// decides how the merchant's next refund ends.
	Faults *Faults
}

// CreateRefund accepts a refund of a deduction: PROCESSING, with its outcome due after the
// merchant's delay. The same request repeated returns the refund it made. fault is the fault
// rule that decided the new refund's outcome, nil when none did.
func (s *RefundService) CreateRefund(ctx context.Context, m *Merchant, r CreateRefundRequest) (ref *Refund, warnings []string, fault *FaultRule, err error) {
	ref, warnings, err = s.create(ctx, m, r, func(ref *Refund, now time.Time) error {
		fault = s.takeOutcomeFault(ref)
		return nil
	})
	return ref, warnings, fault, err
}

// takeOutcomeFault fires the merchant's oldest rule that decides a refund's outcome, if any,
// and lets it decide ref's. A rule is used up even if the refund is not stored after all
// (the store failed), as a transport fault is by a request that fails later.
func (s *RefundService) takeOutcomeFault(ref *Refund) *FaultRule {
	if s.Faults == nil {
		return nil
	}
	f := s.Faults.TakeRefundOutcome(ref.Sim.MchID, ref.Sim.OutOrderNo)
	if f == nil {
		return nil
	}
	ref.Sim.Outcome = f.Fault.RefundOutcome()
	ref.Sim.History[len(ref.Sim.History)-1].Cause += fmt.Sprintf("; outcome %s set by fault rule %s", ref.Sim.Outcome, f.ID)
	return f
}

// SeedRefund makes a refund as CreateRefund does and ends it as status (SUCCESS, ABNORMAL or
// CLOSED) at once, in the same transaction, so that no runner settles it otherwise in between:
// for seed files, whose refunds are made in their final status. A repeated request returns the
// refund it made, as it is.
func (s *RefundService) SeedRefund(ctx context.Context, m *Merchant, r CreateRefundRequest, status RefundStatus) (*Refund, error) {
	if _, ok := refundEvents[status]; !ok {
		return nil, ParamError("status", status, "must be SUCCESS, ABNORMAL or CLOSED")
	}
	ref, _, err := s.create(ctx, m, r, func(ref *Refund, now time.Time) error {
		return ref.track("seed: refund outcome "+string(status), now, func() error { return ref.SetOutcome(status, now) })
	})
	if err == nil && s.Notifier != nil {
		s.Notifier.Wake()
	}
	return ref, err
}

// create makes a refund; made, a new refund is handed to made in the same transaction.
func (s *RefundService) create(ctx context.Context, m *Merchant, r CreateRefundRequest, made func(*Refund, time.Time) error) (*Refund, []string, error) {
	warning, verr := r.validate()
	if verr != nil {
		return nil, nil, verr
	}
	now := s.Clocks.Now(m.MchID)
	key := r.key()
	ref, created, err := s.Refunds.CreateRefund(ctx, m.MchID, r.OutRefundNo, key, func(c RefundCandidate) (*Refund, error) {
		ref, err := r.decide(c, m, now)
		if err != nil || ref == c.Existing {
			return ref, err
		}
		if warning != "" {
			ref.Sim.Warnings = append(ref.Sim.Warnings, warning)
		}
		return ref, made(ref, now)
	})
	if ErrorCode(err) == CodeResourceNotExists {
		return nil, nil, s.explainNoTransaction(ctx, m, key, err)
	}
	if err != nil {
		return nil, nil, err
	}
	var warnings []string
	if warning != "" {
		warnings = append(warnings, warning)
	}
	if created {
		s.wakeRunner()
	}
	return ref, warnings, nil
}

// explainNoTransaction says why a transaction was not found; the commonest reason is a Pay
// Score order's out_order_no given as out_trade_no, which production refuses just the same
// (a community report: developers.weixin.qq.com/community/pay/doc/000e6442ba882849e86c24bfc5b800).
func (s *RefundService) explainNoTransaction(ctx context.Context, m *Merchant, key TransactionKey, err error) error {
	e, _ := err.(*Error)
	if e == nil {
		return err
	}
	if key.TransactionID != "" {
		return e.With("field", "transaction_id").With("value", key.TransactionID).With("issue", fmt.Sprintf(
			"merchant %s has no paid transaction %s: refund a Pay Score deduction by its collection.details[].transaction_id (a deduction through Pay Score, paid_type NEWTON)", m.MchID, key.TransactionID))
	}
	issue := fmt.Sprintf("merchant %s has no paid transaction with out_trade_no %s", m.MchID, key.OutTradeNo)
	if _, ferr := s.Orders.FindOrder(ctx, m.MchID, OrderKey{OutOrderNo: key.OutTradeNo}); ferr == nil {
		issue = fmt.Sprintf("%s is the out_order_no of a Pay Score order, not a transaction's out_trade_no: production answers 订单不存在 too. Refund the deduction by its collection.details[].transaction_id", key.OutTradeNo)
	}
	return e.With("field", "out_trade_no").With("value", key.OutTradeNo).With("issue", issue)
}

// QueryRefund returns the merchant's refund numbered outRefundNo, with an outcome that fell due
// already applied.
func (s *RefundService) QueryRefund(ctx context.Context, m *Merchant, outRefundNo string) (*Refund, error) {
	var c check
	c.str("out_refund_no", outRefundNo, 1, 64)
	if c.err != nil {
		return nil, c.err.With("location", "path")
	}
	r, err := s.Refunds.FindRefund(ctx, m.MchID, outRefundNo)
	if err != nil {
		return nil, err
	}
	if r.Status != RefundProcessing || r.Sim.DueAt.IsZero() || r.Sim.DueAt.After(s.Clocks.Now(m.MchID)) {
		return r, nil
	}
	return s.update(ctx, m.MchID, outRefundNo, "clock: refund outcome due", (*Refund).settleDue)
}

// ApplyAbnormalRefund sends an ABNORMAL refund to a bank card.
func (s *RefundService) ApplyAbnormalRefund(ctx context.Context, m *Merchant, refundID string, req ApplyAbnormalRefundRequest) (*Refund, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	r, err := s.update(ctx, m.MchID, req.OutRefundNo, "merchant: apply-abnormal-refund", func(r *Refund, now time.Time) error {
		if r.RefundID != refundID {
			return Errorf(CodeResourceNotExists, "退款单不存在").With("issue", fmt.Sprintf(
				"refund %s of merchant %s has refund_id %s, not %s", req.OutRefundNo, m.MchID, r.RefundID, refundID))
		}
		return r.ApplyAbnormal(req, now, m.Settings.refundDelay())
	})
	if err != nil {
		return nil, err
	}
	s.wakeRunner()
	return r, nil
}

// SetRefundOutcome is the test ending a refund now as status says.
func (s *RefundService) SetRefundOutcome(ctx context.Context, mchid, outRefundNo string, status RefundStatus) (*Refund, error) {
	if s.Merchants.Merchant(mchid) == nil {
		return nil, ParamError("mchid", mchid, "is not a merchant of this simulator").With("location", "path")
	}
	return s.update(ctx, mchid, outRefundNo, "test: refund outcome "+string(status), func(r *Refund, now time.Time) error {
		return r.SetOutcome(status, now)
	})
}

// SettleDue applies every refund outcome that is due at the real time now, each by its
// merchant's clock, and returns the real time at which the next one is. It is the Run of the
// refunds' DueRunner.
func (s *RefundService) SettleDue(ctx context.Context, now time.Time) (time.Time, bool, error) {
	for {
		due, err := s.Refunds.DueRefunds(ctx, now, 100)
		if err != nil {
			return time.Time{}, false, err
		}
		for _, r := range due {
			if _, err := s.update(ctx, r.Sim.MchID, r.OutRefundNo, "clock: refund outcome due", (*Refund).settleDue); err != nil && ErrorCode(err) != CodeResourceNotExists {
				return time.Time{}, false, err
			}
		}
		if len(due) < 100 {
			return s.Refunds.NextRefundDue(ctx)
		}
	}
}

// update applies a step, named cause in the refund's history, to a refund, and wakes the
// notifier when the step queued a notification (the store empties the outbox as it saves it).
func (s *RefundService) update(ctx context.Context, mchid, outRefundNo, cause string, step func(*Refund, time.Time) error) (*Refund, error) {
	notifies := false
	r, err := s.Refunds.UpdateRefund(ctx, mchid, outRefundNo, func(r *Refund) error {
		now := s.Clocks.Now(mchid)
		err := r.track(cause, now, func() error { return step(r, now) })
		notifies = len(r.Sim.Outbox) > 0
		return err
	})
	if err != nil {
		return nil, err
	}
	if notifies && s.Notifier != nil {
		s.Notifier.Wake()
	}
	return r, nil
}

func (s *RefundService) wakeRunner() {
	if s.Runner != nil {
		s.Runner.Wake()
	}
}
