package simulator

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Clock is the simulator's time: the real time moved forward by what the control API advanced,
// so that a test can reach expiries and retries without waiting. Request authentication keeps
// to the real time, since clients sign with it. The zero Clock is the real time.
type Clock struct {
	mu     sync.RWMutex
	offset time.Duration
}

// Now is the simulated time.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return time.Now().Add(c.offset)
}

// Offset is how far the clock is ahead of the real time.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// SetOffset puts the clock d ahead of the real time.
func (c *Clock) SetOffset(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset = d
}

// maxClockOffset keeps the simulated time far from where time.Duration overflows.
const maxClockOffset = 100 * 365 * 24 * time.Hour

// ClockStore keeps the clock's offset, so a restart does not turn time back.
type ClockStore interface {
	ClockOffset(ctx context.Context) (time.Duration, error)
	SaveClockOffset(ctx context.Context, d time.Duration) error
}

// AdvanceClock moves the simulated time forward by d, then lets what came due happen: CREATED
// orders past their 30 days expire, pending deductions run, and notification retries that are
// now due go out.
func (s *Service) AdvanceClock(ctx context.Context, d time.Duration) (time.Time, error) {
	if d <= 0 {
		return time.Time{}, ParamError("duration", d.String(), "must be positive: the clock only moves forward")
	}
	s.clockMu.Lock()
	offset := s.Clock.Offset() + d
	if offset > maxClockOffset || offset < 0 {
		s.clockMu.Unlock()
		return time.Time{}, ParamError("duration", d.String(), fmt.Sprintf("would put the clock more than %d years ahead; the simulated time stops there", maxClockOffset/(365*24*time.Hour)))
	}
	err := s.ClockStore.SaveClockOffset(ctx, offset)
	if err == nil {
		s.Clock.SetOffset(offset)
	}
	s.clockMu.Unlock()
	if err != nil {
		return time.Time{}, err
	}
	if err := s.ExpireOrders(ctx); err != nil {
		return time.Time{}, err
	}
	// Deductions that came due run before the call returns, so a test that advanced the clock
	// finds them done.
	if _, _, err := s.RunDueDeductions(ctx, s.Clock.Now()); err != nil {
		return time.Time{}, err
	}
	s.wake()
	return s.Clock.Now(), nil
}

// ExpireOrders expires every CREATED order older than OrderLifetime.
func (s *Service) ExpireOrders(ctx context.Context) error {
	now := s.Clock.Now()
	for {
		orders, err := s.Orders.ListOrders(ctx, OrderFilter{State: StateCreated, CreatedBefore: now.Add(-OrderLifetime), Limit: 1000})
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
