package simulator

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Waker is woken when work may have become due.
type Waker interface{ Wake() }

// DueRunner runs work that falls due on the simulated clock: pending deductions, and refunds
// whose outcome is due. The work's due times live in the store, so what a stopped simulator left due is done
// after a restart. Set the fields, then call Start; Close stops it.
type DueRunner struct {
	// Name names the work in logs.
	Name string
	// Run does what is due at the real time now, each record by its merchant's clock, and
	// returns the real time at which the next work falls due; ok false means nothing is
	// pending.
	Run    func(ctx context.Context, now time.Time) (next time.Time, ok bool, err error)
	Logger *slog.Logger

	once sync.Once
	wake chan struct{}
	stop chan struct{}
	done chan struct{}
	mu   sync.Mutex
	// started and closed keep Start after Close, and a second Close, harmless.
	started, closed bool
}

// dueMaxSleep bounds the runner's sleep, so that a clock advanced behind its back is seen
// within a second.
const dueMaxSleep = time.Second

// dueMinSleep is the least the runner sleeps between runs.
const dueMinSleep = 10 * time.Millisecond

func (r *DueRunner) init() {
	r.once.Do(func() {
		r.wake = make(chan struct{}, 1)
		r.stop = make(chan struct{})
		r.done = make(chan struct{})
		if r.Logger == nil {
			r.Logger = slog.Default()
		}
	})
}

// Wake tells the runner that work may have become due. It never blocks.
func (r *DueRunner) Wake() {
	r.init()
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Start runs the loop in a goroutine until Close. ctx carries values only.
func (r *DueRunner) Start(ctx context.Context) {
	r.init()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.closed {
		return
	}
	r.started = true
	go r.loop(context.WithoutCancel(ctx))
}

// Close stops the loop and waits for the run in progress to end.
func (r *DueRunner) Close() {
	r.init()
	r.mu.Lock()
	started := r.started
	if !r.closed {
		r.closed = true
		close(r.stop)
	}
	r.mu.Unlock()
	if started {
		<-r.done
	}
}

func (r *DueRunner) loop(ctx context.Context) {
	defer close(r.done)
	for {
		wait := dueMaxSleep
		next, ok, err := r.Run(ctx, time.Now())
		switch {
		case err != nil:
			r.Logger.Error("due work failed; retrying", "work", r.Name, "err", err)
		case ok:
			// The floor keeps work that stays due (a store that fails to save it, say) from
			// spinning the loop.
			wait = min(max(time.Until(next), dueMinSleep), dueMaxSleep)
		}
		timer := time.NewTimer(wait)
		select {
		case <-r.stop:
			timer.Stop()
			return
		case <-r.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}
