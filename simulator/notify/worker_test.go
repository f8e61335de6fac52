package notify_test

// The Worker on its own, over an in-memory store: what it refuses to send, and how Close waits
// for deliveries in flight or interrupts them.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/notify"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// notifyMemStore is a simulator.NotificationStore in memory.
type notifyMemStore struct {
	mu       sync.Mutex
	ns       map[string]*simulator.Notification
	attempts []*simulator.DeliveryAttempt
	saved    chan struct{}
}

func notifyNewMemStore(ns ...*simulator.Notification) *notifyMemStore {
	s := &notifyMemStore{ns: map[string]*simulator.Notification{}, saved: make(chan struct{}, 100)}
	for _, n := range ns {
		s.ns[n.ID] = n
	}
	return s
}

func notifyClone(n *simulator.Notification) *simulator.Notification {
	c := *n
	return &c
}

func (s *notifyMemStore) DueNotifications(_ context.Context, now time.Time, limit int) ([]*simulator.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*simulator.Notification
	for _, n := range s.ns {
		if n.State == simulator.NotificationPending && !n.NextAttemptAt.After(now) {
			out = append(out, notifyClone(n))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].NextAttemptAt.Before(out[j].NextAttemptAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *notifyMemStore) NextNotificationDue(context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	ok := false
	for _, n := range s.ns {
		if n.State == simulator.NotificationPending && (!ok || n.NextAttemptAt.Before(next)) {
			next, ok = n.NextAttemptAt, true
		}
	}
	return next, ok, nil
}

func (s *notifyMemStore) SaveAttempt(_ context.Context, n *simulator.Notification, a *simulator.DeliveryAttempt) error {
	s.mu.Lock()
	s.ns[n.ID] = notifyClone(n)
	a.ID = int64(len(s.attempts) + 1)
	s.attempts = append(s.attempts, a)
	s.mu.Unlock()
	s.saved <- struct{}{}
	return nil
}

func (s *notifyMemStore) FindNotification(_ context.Context, id string) (*simulator.Notification, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.ns[id]
	if !ok {
		return nil, simulator.Errorf(simulator.CodeNotificationNotExist, "通知不存在")
	}
	return notifyClone(n), nil
}

func (s *notifyMemStore) ListNotifications(context.Context, simulator.NotificationFilter) ([]*simulator.Notification, error) {
	return nil, errors.New("not used")
}

func (s *notifyMemStore) FindNotificationAttempts(context.Context, string) (*simulator.Notification, []*simulator.DeliveryAttempt, error) {
	return nil, nil, errors.New("not used")
}

func (s *notifyMemStore) UpdateNotification(context.Context, string, func(*simulator.Notification) error) (*simulator.Notification, error) {
	return nil, errors.New("not used")
}

func (s *notifyMemStore) get(id string) *simulator.Notification {
	s.mu.Lock()
	defer s.mu.Unlock()
	return notifyClone(s.ns[id])
}

func (s *notifyMemStore) all() []*simulator.DeliveryAttempt {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*simulator.DeliveryAttempt(nil), s.attempts...)
}

// notifyPending is a due USER_CONFIRM notification of the demo merchant to url.
func notifyPending(id, mchid, url string) *simulator.Notification {
	now := time.Now()
	return &simulator.Notification{
		ID: id, MchID: mchid, EventType: simulator.EventUserConfirm, Summary: "确认订单", NotifyURL: url,
		OutOrderNo: "W" + id, Resource: json.RawMessage(`{"out_order_no":"W` + id + `","state":"DOING"}`),
		CreatedAt: now, State: simulator.NotificationPending, NextAttemptAt: now,
	}
}

// notifyWorker returns a worker over store, for the demo merchant, not started.
func notifyWorker(t *testing.T, store simulator.NotificationStore) *notify.Worker {
	t.Helper()
	platform, err := fixtures.Platform()
	if err != nil {
		t.Fatal(err)
	}
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		t.Fatal(err)
	}
	ms := &simulator.Merchants{}
	ms.Add(demo)
	return &notify.Worker{
		Store: store, Merchants: ms, Platform: platform, Clocks: &simulator.Clocks{},
		Schedule: simulator.RetrySchedule{time.Hour}, Client: simtest.LoopbackClient(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

func notifyWaitSaved(t *testing.T, s *notifyMemStore, n int) []*simulator.DeliveryAttempt {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		if got := s.all(); len(got) >= n {
			return got
		}
		select {
		case <-s.saved:
		case <-deadline:
			t.Fatalf("%d attempts saved, want %d", len(s.all()), n)
		}
	}
}

// TestNotifyUnsendable: a notify_url that is not http(s), or a merchant the simulator does not
// know, gets a failed attempt saying why, and no request.
func TestNotifyUnsendable(t *testing.T) {
	t.Parallel()
	hits := 0
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hits++
		mu.Unlock()
	}))
	defer srv.Close()
	store := notifyNewMemStore(
		notifyPending("ftp", fixtures.DemoMchID, "ftp://"+strings.TrimPrefix(srv.URL, "http://")+"/notify"),
		notifyPending("relative", fixtures.DemoMchID, "/notify"),
		notifyPending("nohost", fixtures.DemoMchID, "http:///notify"),
		notifyPending("stranger", fixtures.OtherMchID, srv.URL+"/notify"),
	)
	w := notifyWorker(t, store)
	w.Start(context.Background())
	defer w.Close(context.Background())
	notifyWaitSaved(t, store, 4)
	for id, want := range map[string]string{
		"ftp":      "is not http or https: no request was sent",
		"relative": "is not http or https: no request was sent",
		"nohost":   "has no host: no request was sent",
		"stranger": "merchant " + fixtures.OtherMchID + " is not configured",
	} {
		n := store.get(id)
		if n.State != simulator.NotificationPending || n.Attempts != 1 {
			t.Errorf("%s: (state, attempts) = (%s, %d), want (PENDING, 1): it is retried on the schedule", id, n.State, n.Attempts)
		}
		var a *simulator.DeliveryAttempt
		for _, x := range store.all() {
			if x.NotificationID == id {
				a = x
			}
		}
		if a == nil || a.Success || a.Status != 0 || !strings.Contains(a.Error, want) {
			t.Errorf("%s: attempt %+v, want a failure saying %q", id, a, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits != 0 {
		t.Errorf("the server received %d requests, want none", hits)
	}
}

// TestNotifyCloseWaitsForDelivery: Close lets a delivery in flight finish and records it.
func TestNotifyCloseWaitsForDelivery(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		time.Sleep(300 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	store := notifyNewMemStore(notifyPending("slow", fixtures.DemoMchID, srv.URL+"/notify"))
	w := notifyWorker(t, store)
	w.Start(context.Background())
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := w.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if n := store.get("slow"); n.State != simulator.NotificationDelivered {
		t.Errorf("state %s after Close, want DELIVERED: Close waits for the delivery in flight", n.State)
	}
	if as := store.all(); len(as) != 1 || !as[0].Success || as[0].Status != http.StatusNoContent {
		t.Errorf("attempts = %s, want one 204 success", notifyDescribe(as))
	}
}

// TestNotifyCloseInterrupts: when Close's context ends first, the delivery is interrupted and
// not recorded, so the notification stays pending for the next run.
func TestNotifyCloseInterrupts(t *testing.T) {
	t.Parallel()
	arrived := make(chan struct{})
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		close(arrived)
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	store := notifyNewMemStore(notifyPending("hung", fixtures.DemoMchID, srv.URL+"/notify"))
	w := notifyWorker(t, store)
	w.Start(context.Background())
	<-arrived
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := w.Close(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Close = %v, want the context's deadline", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
	if n := store.get("hung"); n.State != simulator.NotificationPending || n.Attempts != 0 {
		t.Errorf("(state, attempts) = (%s, %d), want (PENDING, 0)", n.State, n.Attempts)
	}
	if as := store.all(); len(as) != 0 {
		t.Errorf("attempts = %s, want none recorded", notifyDescribe(as))
	}
}

// TestNotifyResponseExcerpt: an attempt keeps at most 1 KiB of the merchant's answer, cut at a
// character boundary.
func TestNotifyResponseExcerpt(t *testing.T) {
	t.Parallel()
	answer := `{"code":"FAIL","message":"` + strings.Repeat("验签失败", 500) + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, answer)
	}))
	defer srv.Close()
	store := notifyNewMemStore(notifyPending("long", fixtures.DemoMchID, srv.URL+"/notify"))
	w := notifyWorker(t, store)
	w.Start(context.Background())
	defer w.Close(context.Background())
	a := notifyWaitSaved(t, store, 1)[0]
	if a.Status != http.StatusBadRequest || a.Success {
		t.Fatalf("attempt = %+v, want a failed 400", a)
	}
	if len(a.ResponseBody) > 1024 || len(a.ResponseBody) < 1020 || !strings.HasPrefix(answer, a.ResponseBody) || !utf8.ValidString(a.ResponseBody) {
		t.Errorf("response_body is %d bytes (valid UTF-8: %v), want the first 1 KiB of the answer, whole characters only",
			len(a.ResponseBody), utf8.ValidString(a.ResponseBody))
	}
}
