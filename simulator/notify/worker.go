// Package notify delivers the outbox: the notifications (callbacks) WeChat Pay Score owes
// merchants, encrypted and signed as production sends them, retried on WeChat's schedule, and
// on demand with faults for testing a merchant's verifier (the notification lab).
package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Defaults of a Worker's tuning fields.
const (
	// DefaultTimeout is how long a merchant has to answer: the documentation asks for an answer
	// within 5 seconds.
	DefaultTimeout = 5 * time.Second
	// DefaultConcurrency bounds the deliveries in flight.
	DefaultConcurrency = 4
	// maxSleep bounds the loop's sleep, so that a clock advanced or a notification written
	// behind the worker's back is seen within a second.
	maxSleep = time.Second
	// batchSize is how many due notifications the loop reads at a time. It exceeds the
	// concurrency so that the notifications already in flight, which still look due, do not
	// hide the others.
	batchSize = 64
	// excerptBytes bounds the response body kept with an attempt.
	excerptBytes = 1024
)

var _ simulator.Notifier = (*Worker)(nil)

// Worker delivers due notifications. Set its fields, then call Start; Close stops it. A
// notification is delivered at least once: an attempt interrupted by Close is not recorded,
// so it is made again after a restart.
type Worker struct {
	Store     simulator.NotificationStore
	Merchants *simulator.Merchants
	Platform  *wxcrypto.Platform
	// Clocks tell each merchant's simulated time, by which its notifications come due.
	Clocks *simulator.Clocks
	// Schedule is the wait before each retry; nil means simulator.PayScoreSchedule.
	Schedule simulator.RetrySchedule
	// Client sends the notifications. Nil means a client of its own; either way redirects are
	// never followed and Timeout bounds each attempt.
	Client *http.Client
	// AllowLinkLocal lets the worker's own client (with Client nil) connect to link-local and
	// cloud metadata addresses, which it otherwise refuses (see guard.go).
	AllowLinkLocal bool
	// Timeout is how long the merchant has to answer an attempt; zero means DefaultTimeout.
	Timeout time.Duration
	// Concurrency bounds the deliveries in flight; zero means DefaultConcurrency.
	Concurrency int
	Logger      *slog.Logger

	once     sync.Once
	wake     chan struct{}
	client   *http.Client
	mu       sync.Mutex
	inflight map[string]chan struct{} // notifications being delivered, tried or resent
	started  bool
	ctx      context.Context // canceled by Close when its context ends first
	cancel   context.CancelFunc
	stop     chan struct{} // closed by Close: the loop starts nothing more
	loopDone chan struct{}
	wg       sync.WaitGroup // deliveries in flight
}

func (w *Worker) init() {
	w.once.Do(func() {
		w.wake = make(chan struct{}, 1)
		w.inflight = make(map[string]chan struct{})
		w.stop = make(chan struct{})
		w.loopDone = make(chan struct{})
		w.ctx, w.cancel = context.WithCancel(context.Background())
		if w.Logger == nil {
			w.Logger = slog.Default()
		}
		if w.Schedule == nil {
			w.Schedule = simulator.PayScoreSchedule
		}
		if w.Timeout <= 0 {
			w.Timeout = DefaultTimeout
		}
		if w.Concurrency <= 0 {
			w.Concurrency = DefaultConcurrency
		}
		c := http.Client{}
		if w.Client != nil {
			c = *w.Client
		} else if !w.AllowLinkLocal {
			c.Transport = guardedTransport()
		}
		// WeChat does not follow redirects: a 3xx is an answer, and not a success.
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		w.client = &c
	})
}

// Wake tells the worker that notifications may have become due. It never blocks.
func (w *Worker) Wake() {
	w.init()
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Start runs the delivery loop in a goroutine until Close. ctx carries values only; Close
// stops the loop.
func (w *Worker) Start(ctx context.Context) {
	w.init()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.started {
		return
	}
	w.started = true
	go w.loop(context.WithoutCancel(ctx))
}

// Close stops the loop and waits for the deliveries in flight to finish. When ctx ends first
// they are interrupted (and not recorded, so they are made again after a restart), and Close
// returns ctx's error once they have returned.
func (w *Worker) Close(ctx context.Context) error {
	w.init()
	w.mu.Lock()
	started := w.started
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	w.mu.Unlock()
	if started {
		<-w.loopDone
	}
	done := make(chan struct{})
	go func() {
		w.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		w.cancel()
		return nil
	case <-ctx.Done():
		w.cancel()
		<-done
		return fmt.Errorf("notify: close: deliveries interrupted: %w", ctx.Err())
	}
}

// loop delivers what is due, then sleeps until the next notification is due, a Wake, or
// maxSleep.
func (w *Worker) loop(ctx context.Context) {
	defer close(w.loopDone)
	sem := make(chan struct{}, w.Concurrency)
	for {
		wait := w.deliverDue(ctx, sem)
		timer := time.NewTimer(wait)
		select {
		case <-w.stop:
			timer.Stop()
			return
		case <-w.wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// deliverDue starts a delivery of every due notification not already in flight, at most
// Concurrency at a time, and returns how long the loop may sleep.
func (w *Worker) deliverDue(ctx context.Context, sem chan struct{}) time.Duration {
	due, err := w.Store.DueNotifications(w.ctx, time.Now(), batchSize)
	if err != nil {
		w.Logger.Error("notify: read due notifications", "err", err)
		return maxSleep
	}
	started := 0
	for _, n := range due {
		if !w.tryClaim(n.ID) {
			continue
		}
		select {
		case sem <- struct{}{}:
		case <-w.stop:
			w.release(n.ID)
			return 0
		}
		started++
		w.wg.Add(1)
		go func(id string) {
			defer w.wg.Done()
			defer func() { <-sem }()
			defer w.Wake() // the next attempt may be due soon, and a slot is free
			defer w.release(id)
			defer func() {
				if r := recover(); r != nil {
					w.Logger.Error("notify: delivery panicked", "notification", id, "panic", r)
				}
			}()
			w.deliver(ctx, id)
		}(n.ID)
	}
	if len(due) == batchSize && started > 0 {
		return 0 // more may be due
	}
	next, ok, err := w.Store.NextNotificationDue(w.ctx)
	if err != nil {
		w.Logger.Error("notify: read the next due notification", "err", err)
		return maxSleep
	}
	if !ok {
		return maxSleep
	}
	wait := time.Until(next)
	if wait <= 0 {
		// What is due is in flight; its end wakes the loop.
		return maxSleep
	}
	return min(wait, maxSleep)
}

// deliver makes one attempt at a claimed notification, if it is still due, and records it.
func (w *Worker) deliver(ctx context.Context, id string) {
	n, err := w.Store.FindNotification(w.ctx, id)
	if err != nil {
		if !errors.Is(err, context.Canceled) {
			w.Logger.Error("notify: read notification", "notification", id, "err", err)
		}
		return
	}
	if n.State != simulator.NotificationPending || n.NextAttemptAt.After(w.Clocks.Now(n.MchID)) {
		return // resent, tried or delivered since the loop read it
	}
	a, ok := w.attempt(ctx, n, "")
	if !ok {
		w.Logger.Info("notify: attempt interrupted by shutdown; the notification stays pending",
			"notification", n.ID, "event_type", n.EventType)
		return
	}
	n.Attempted(a.Success, w.Clocks.Now(n.MchID), w.Schedule)
	if err := w.save(ctx, n, a); err != nil {
		return
	}
	attrs := []any{"notification", n.ID, "event_type", n.EventType, "mchid", n.MchID, "out_order_no", n.OutOrderNo,
		"notify_url", n.NotifyURL, "attempt", n.Attempts, "status", a.Status, "latency", a.Latency, "state", n.State}
	switch {
	case a.Success:
		w.Logger.Info("notify: delivered", attrs...)
	case n.State == simulator.NotificationFailed:
		w.Logger.Warn("notify: attempt failed; giving up, the schedule is exhausted", append(attrs, "err", a.Error)...)
	default:
		w.Logger.Warn("notify: attempt failed; will retry", append(attrs, "err", a.Error, "next_attempt_at", n.NextAttemptAt)...)
	}
}

// save records an attempt even when Close has begun: the merchant has seen it.
func (w *Worker) save(ctx context.Context, n *simulator.Notification, a *simulator.DeliveryAttempt) error {
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := w.Store.SaveAttempt(sctx, n, a); err != nil {
		if simulator.ErrorCode(err) == simulator.CodeNotificationNotExist {
			w.Logger.Info("notify: the notification was reset while it was being delivered", "notification", n.ID)
		} else {
			w.Logger.Error("notify: save attempt", "notification", n.ID, "err", err)
		}
		return err
	}
	return nil
}

// request builds the request of an attempt to deliver n as variant says, fixing n.Body at the
// first attempt so that retries repeat it.
func (w *Worker) request(n *simulator.Notification, variant simulator.LabVariant) (*http.Request, error) {
	m := w.Merchants.Merchant(n.MchID)
	if m == nil {
		return nil, fmt.Errorf("merchant %s is not configured in this simulator, so its APIv3 key is unknown: no request was sent", n.MchID)
	}
	if len(n.Body) == 0 {
		body, err := buildEnvelope(n, m.APIv3Key)
		if err != nil {
			return nil, fmt.Errorf("%w: no request was sent", err)
		}
		n.Body = body
	}
	serial := w.Platform.CertSerial
	if m.Settings.NotifyPublicKeyMode {
		serial = w.Platform.PublicKeyID
	}
	return w.newRequest(n.NotifyURL, n.Body, serial, variant, time.Now())
}

// attempt sends n once, as variant says ("" for a regular attempt), and returns what happened.
// ok is false when the attempt was interrupted by Close before the merchant answered.
func (w *Worker) attempt(ctx context.Context, n *simulator.Notification, variant simulator.LabVariant) (a *simulator.DeliveryAttempt, ok bool) {
	a = &simulator.DeliveryAttempt{NotificationID: n.ID, Time: w.Clocks.Now(n.MchID), Lab: variant}
	start := time.Now()
	defer func() { a.Latency = time.Since(start) }()
	req, err := w.request(n, variant)
	if err != nil {
		a.Error = err.Error()
		return a, true
	}
	actx, cancel := context.WithTimeout(ctx, w.Timeout)
	defer cancel()
	// Close's deadline interrupts the attempt too.
	stop := context.AfterFunc(w.ctx, cancel)
	defer stop()
	resp, err := w.client.Do(req.WithContext(actx))
	if err == nil {
		var excerpt []byte
		excerpt, err = io.ReadAll(io.LimitReader(resp.Body, excerptBytes))
		// Drain a little more so the connection can be reused, and no more.
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
		a.Status = resp.StatusCode
		a.ResponseBody = validPrefix(excerpt)
		if err != nil {
			a.Status = 0
		}
	}
	switch {
	case err != nil && w.ctx.Err() != nil:
		return a, false
	case err != nil && errors.Is(actx.Err(), context.DeadlineExceeded):
		a.Error = fmt.Sprintf("timeout: the merchant did not answer within %s (WeChat counts that as a failure): %v", w.Timeout, err)
	case err != nil:
		a.Error = err.Error()
	case a.Status == http.StatusOK || a.Status == http.StatusNoContent:
		a.Success = true
	case a.Status >= 300 && a.Status < 400:
		a.Error = fmt.Sprintf("HTTP %d redirect to %q: WeChat does not follow redirects; only 200 or 204 acknowledges a notification",
			a.Status, resp.Header.Get("Location"))
	default:
		a.Error = fmt.Sprintf("HTTP %d: only 200 or 204 acknowledges a notification", a.Status)
	}
	return a, true
}

// validPrefix returns an excerpt as a string: a rune the excerpt's bound cut in two at its end
// is dropped, and bytes that are not UTF-8 are replaced.
func validPrefix(b []byte) string {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				b = b[:len(b)-i]
			}
			break
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

// tryClaim marks a notification in flight unless it already is.
func (w *Worker) tryClaim(id string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if _, busy := w.inflight[id]; busy {
		return false
	}
	w.inflight[id] = make(chan struct{})
	return true
}

// claim waits until the notification is not in flight, then marks it so, so that an attempt, a
// lab delivery and a resend of one notification never overwrite one another.
func (w *Worker) claim(ctx context.Context, id string) error {
	for {
		w.mu.Lock()
		busy, ok := w.inflight[id]
		if !ok {
			w.inflight[id] = make(chan struct{})
			w.mu.Unlock()
			return nil
		}
		w.mu.Unlock()
		select {
		case <-busy:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (w *Worker) release(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.inflight[id]; ok {
		close(ch)
		delete(w.inflight, id)
	}
}

// Resend makes a notification due again now, as simulator.Notification.Resend says, and wakes
// the loop. It waits for a delivery of the notification in flight, whose outcome would
// otherwise overwrite the resend.
func (w *Worker) Resend(ctx context.Context, id string) (*simulator.Notification, error) {
	w.init()
	if err := w.claim(ctx, id); err != nil {
		return nil, err
	}
	n, err := w.Store.UpdateNotification(ctx, id, func(n *simulator.Notification) error {
		n.Resend(w.Clocks.Now(n.MchID))
		return nil
	})
	w.release(id)
	if err != nil {
		return nil, err
	}
	w.Wake()
	return n, nil
}

// Lab sends a notification once with the fault variant names, for testing a
// merchant's verifier, and records the attempt with its Lab set. The notification's state and
// schedule do not change; Success says whether the merchant acknowledged it (200 or 204), which
// for every variant but duplicate a correct merchant refuses.
func (w *Worker) Lab(ctx context.Context, id string, variant simulator.LabVariant) (*simulator.DeliveryAttempt, error) {
	w.init()
	if err := w.claim(ctx, id); err != nil {
		return nil, err
	}
	defer w.Wake() // the loop skipped the notification while the lab held it
	defer w.release(id)
	n, err := w.Store.FindNotification(ctx, id)
	if err != nil {
		return nil, err
	}
	a, ok := w.attempt(ctx, n, variant)
	if !ok {
		return nil, errors.New("notify: lab delivery interrupted: the simulator is shutting down")
	}
	// n keeps its state and schedule; its Body may be new, fixed now for every later attempt.
	if err := w.save(ctx, n, a); err != nil {
		return nil, err
	}
	w.Logger.Info("notify: lab delivery", "notification", n.ID, "variant", variant, "status", a.Status, "acknowledged", a.Success, "err", a.Error)
	return a, nil
}
