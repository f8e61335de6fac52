package simulator

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Deducter runs Pay Score's pending deductions when they come due on the simulated clock. It
// is woken when an order gets a pending deduction and when the clock moves, and looks again at
// least every second, so a deduction stored by an earlier run goes through after a restart.
type Deducter struct {
	Service *Service
	Logger  *slog.Logger

	once    sync.Once
	mu      sync.Mutex
	started bool
	wake    chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

// deducterMaxSleep bounds the loop's sleep, so that a deduction written behind its back (by
// another process on the same file, or an error that cut a wake short) still runs.
const deducterMaxSleep = time.Second

func (d *Deducter) init() {
	d.once.Do(func() {
		d.wake = make(chan struct{}, 1)
		d.stop = make(chan struct{})
		d.done = make(chan struct{})
		if d.Logger == nil {
			d.Logger = slog.Default()
		}
	})
}

// Wake tells the Deducter that a deduction may have become due. It never blocks.
func (d *Deducter) Wake() {
	d.init()
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop in a goroutine until Close.
func (d *Deducter) Start(ctx context.Context) {
	d.init()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.started {
		return
	}
	d.started = true
	go d.loop(context.WithoutCancel(ctx))
}

// Close stops the loop and waits for the deduction it is running, if any. Deductions still
// pending stay stored for the next run.
func (d *Deducter) Close(ctx context.Context) error {
	d.init()
	d.mu.Lock()
	started := d.started
	select {
	case <-d.stop:
	default:
		close(d.stop)
	}
	d.mu.Unlock()
	if !started {
		return nil
	}
	select {
	case <-d.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (d *Deducter) loop(ctx context.Context) {
	defer close(d.done)
	for {
		wait := deducterMaxSleep
		next, ok, err := d.Service.RunDueDeductions(ctx)
		switch {
		case err != nil:
			d.Logger.Error("run due deductions", "err", err)
		case ok:
			wait = min(wait, max(next.Sub(d.Service.Clock.Now()), 0))
		}
		t := time.NewTimer(wait)
		select {
		case <-d.stop:
			t.Stop()
			return
		case <-d.wake:
		case <-t.C:
		}
		t.Stop()
	}
}
