package simulator

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"time"
)

// Clocks are the merchants' simulated times. Each merchant has a clock of its own: the real time
// moved forward by what the control API advanced for that merchant, so that a test reaches
// expiries and retries without waiting, and without moving the time of any other merchant (as
// Stripe scopes its test clocks). A merchant whose clock was never advanced is on the real
// time. Request authentication keeps to the real time, since clients sign with it. The zero
// Clocks keeps every merchant on the real time.
type Clocks struct {
	mu      sync.RWMutex
	offsets map[string]time.Duration
}

// Now is merchant mchid's simulated time.
func (c *Clocks) Now(mchid string) time.Time { return time.Now().Add(c.Offset(mchid)) }

// Offset is how far merchant mchid's clock is ahead of the real time.
func (c *Clocks) Offset(mchid string) time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offsets[mchid]
}

// Offsets returns every clock that is ahead of the real time, by mchid.
func (c *Clocks) Offsets() map[string]time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return maps.Clone(c.offsets)
}

// SetOffset puts merchant mchid's clock d ahead of the real time; 0 puts it back on the real
// time.
func (c *Clocks) SetOffset(mchid string, d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d == 0 {
		delete(c.offsets, mchid)
		return
	}
	if c.offsets == nil {
		c.offsets = make(map[string]time.Duration)
	}
	c.offsets[mchid] = d
}

// clear puts every clock back on the real time.
func (c *Clocks) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offsets = nil
}

// maxClockOffset keeps the simulated time far from where time.Duration overflows.
const maxClockOffset = 100 * 365 * 24 * time.Hour

// ClockStore keeps the clocks' offsets, so a restart does not turn time back.
type ClockStore interface {
	// ClockOffsets returns the saved offsets by mchid; a merchant without one is on the real
	// time.
	ClockOffsets(ctx context.Context) (map[string]time.Duration, error)
	// SaveClockOffset saves merchant mchid's offset.
	SaveClockOffset(ctx context.Context, mchid string, d time.Duration) error
}

// AdvanceClock moves merchant mchid's simulated time forward by d, then lets what came due
// happen: the merchant's CREATED orders past their 30 days expire, its pending deductions run,
// refund outcomes that came due are settled (with WithRefunds), and its notification retries
// that are now due go out. Every other merchant's time stays as it was.
func (s *Service) AdvanceClock(ctx context.Context, mchid string, d time.Duration) (time.Time, error) {
	if s.Merchants.Merchant(mchid) == nil {
		return time.Time{}, ParamError("mchid", mchid, "is not a merchant of this simulator: name the merchant whose clock moves")
	}
	if d <= 0 {
		return time.Time{}, ParamError("duration", d.String(), "must be positive: the clock only moves forward")
	}
	s.clockMu.Lock()
	offset := s.Clocks.Offset(mchid) + d
	if offset > maxClockOffset || offset < 0 {
		s.clockMu.Unlock()
		return time.Time{}, ParamError("duration", d.String(), fmt.Sprintf("would put the clock more than %d years ahead; the simulated time stops there", maxClockOffset/(365*24*time.Hour)))
	}
	err := s.ClockStore.SaveClockOffset(ctx, mchid, offset)
	if err == nil {
		s.Clocks.SetOffset(mchid, offset)
	}
	s.clockMu.Unlock()
	if err != nil {
		return time.Time{}, err
	}
	if err := s.ExpireOrders(ctx, mchid); err != nil {
		return time.Time{}, err
	}
	// Deductions and refund outcomes that came due happen before the call returns, so a test
	// that advanced the clock finds them done.
	if _, _, err := s.RunDueDeductions(ctx, time.Now()); err != nil {
		return time.Time{}, err
	}
	if s.refunds != nil {
		if _, _, err := s.refunds.SettleDue(ctx, time.Now()); err != nil {
			return time.Time{}, err
		}
	}
	s.wake()
	return s.Clocks.Now(mchid), nil
}

// ExpireOrders expires every CREATED order of merchant mchid older than OrderLifetime by the
// merchant's clock.
func (s *Service) ExpireOrders(ctx context.Context, mchid string) error {
	now := s.Clocks.Now(mchid)
	for {
		orders, err := s.Orders.ListOrders(ctx, OrderFilter{MchID: mchid, State: StateCreated, CreatedBefore: now.Add(-OrderLifetime), Limit: 1000})
		if err != nil {
			return err
		}
		for _, o := range orders {
			if _, err := s.Orders.UpdateOrder(ctx, o.MchID, o.OutOrderNo, func(o *Order) error {
				return o.track("clock: 30 days unconfirmed", now, func() error {
					o.Expire(now)
					return nil
				})
			}); err != nil {
				return err
			}
		}
		if len(orders) < 1000 {
			return nil
		}
	}
}

// wake tells the notifier that notifications may have become due.
func (s *Service) wake() {
	if s.notifier != nil {
		s.notifier.Wake()
	}
}

// wakeDeducter wakes the deductions' runner when o has a deduction pending.
func (s *Service) wakeDeducter(o *Order) {
	if s.deducter != nil && o.deducting() {
		s.deducter.Wake()
	}
}
