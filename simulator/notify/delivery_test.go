package notify_test

// Delivery: what counts as an acknowledgement, retries on the schedule (and on the simulated
// clock), giving up, the 5-second limit, restarts and re-sending, all over loopback HTTP with
// real SQLite.

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// notifyFailFirst answers 500 to the first n requests, then 200.
func notifyFailFirst(n int) func(int, *notifyReceived) int {
	return func(i int, _ *notifyReceived) int {
		if i < n {
			return http.StatusInternalServerError
		}
		return http.StatusOK
	}
}

func TestRetryUntilAcknowledged(t *testing.T) {
	t.Parallel()
	schedule := simulator.RetrySchedule{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}
	sim := notifyStart(t, app.Options{NotifySchedule: schedule}, false)
	const failures = 3
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) { e.reply = notifyFailFirst(failures) })
	no := notifyConfirmedOrder(t, sim, "rt", e.URL)

	got := e.waitCount(t, failures+1, 10*time.Second)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, sim, id, "DELIVERED", failures+1, 5*time.Second)

	// The endpoint saw the same notification, the same body, spaced at least by the schedule.
	for i, r := range got {
		if r.envelopeID(t) != id || string(r.Body) != string(got[0].Body) {
			t.Errorf("request %d: another notification or body than the first", i)
		}
		if r.WechatpayGo != nil || r.GoPay != nil {
			t.Errorf("request %d: the SDKs refused it: %v / %v", i, r.WechatpayGo, r.GoPay)
		}
		if i == 0 {
			continue
		}
		gap := r.At.Sub(got[i-1].At)
		if want := schedule[i-1]; gap < want || gap > want+2*time.Second {
			t.Errorf("request %d came %s after request %d; the schedule says %s", i, gap, i-1, want)
		}
	}
	if got[1].Header.Get("Wechatpay-Nonce") == got[0].Header.Get("Wechatpay-Nonce") {
		t.Error("a retry repeated the first attempt's Wechatpay-Nonce; each request is signed afresh")
	}

	// The record: four attempts in order, three failures with the 500 and its body, one success.
	if len(v.Attempts) != failures+1 || v.AttemptCount != failures+1 {
		t.Fatalf("attempts = %s (attempt_count %d), want %d", notifyDescribe(v.Attempts), v.AttemptCount, failures+1)
	}
	for i, a := range v.Attempts {
		wantStatus, wantSuccess := http.StatusInternalServerError, false
		if i == failures {
			wantStatus, wantSuccess = http.StatusOK, true
		}
		if a.Status != wantStatus || a.Success != wantSuccess || a.Lab != "" || a.NotificationID != id {
			t.Errorf("attempt %d = %+v, want status %d, success %v", i, a, wantStatus, wantSuccess)
		}
		if !wantSuccess && (!strings.Contains(a.ResponseBody, `"FAIL"`) || !strings.Contains(a.Error, "500")) {
			t.Errorf("attempt %d: response_body %q, error %q; want the merchant's body and the status named", i, a.ResponseBody, a.Error)
		}
		if a.Latency <= 0 {
			t.Errorf("attempt %d: latency %s", i, a.Latency)
		}
		if i > 0 {
			if gap := a.Time.Sub(v.Attempts[i-1].Time); gap < schedule[i-1] {
				t.Errorf("attempt %d recorded %s after attempt %d; the schedule says %s", i, gap, i-1, schedule[i-1])
			}
		}
	}
	time.Sleep(400 * time.Millisecond)
	if n := len(e.all()); n != failures+1 {
		t.Errorf("the endpoint received %d requests in all, want %d: nothing after the acknowledgement", n, failures+1)
	}
}

func TestRetryGivesUpAfterSchedule(t *testing.T) {
	t.Parallel()
	schedule := simulator.RetrySchedule{100 * time.Millisecond, 100 * time.Millisecond, 100 * time.Millisecond}
	sim := notifyStart(t, app.Options{NotifySchedule: schedule}, false)
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) { e.reply = notifyFailFirst(1 << 30) })
	no := notifyConfirmedOrder(t, sim, "gu", e.URL)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, sim, id, "FAILED", len(schedule)+1, 10*time.Second)
	if len(v.Attempts) != len(schedule)+1 {
		t.Errorf("attempts = %s, want %d", notifyDescribe(v.Attempts), len(schedule)+1)
	}
	for i, a := range v.Attempts {
		if a.Success || a.Status != http.StatusInternalServerError {
			t.Errorf("attempt %d = %+v, want a failed 500", i, a)
		}
	}
	time.Sleep(500 * time.Millisecond)
	if n := len(e.all()); n != len(schedule)+1 {
		t.Errorf("the endpoint received %d requests, want %d: none after giving up", n, len(schedule)+1)
	}
}

// TestNotifyAcknowledgement: 200 and 204 acknowledge; 201 and a redirect do not, and the
// redirect is not followed.
func TestNotifyAcknowledgement(t *testing.T) {
	t.Parallel()
	redirected := notifyNewEndpoint(t, false)
	for _, tc := range []struct {
		status  int
		success bool
		err     string
	}{
		{http.StatusOK, true, ""},
		{http.StatusNoContent, true, ""},
		{http.StatusCreated, false, "only 200 or 204"},
		{http.StatusAccepted, false, "only 200 or 204"},
		{http.StatusFound, false, "does not follow redirects"},
		{http.StatusTemporaryRedirect, false, "does not follow redirects"},
		{http.StatusBadRequest, false, "only 200 or 204"},
	} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			sim := notifyStart(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}}, false)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tc.status/100 == 3 {
					http.Redirect(w, r, redirected.URL, tc.status)
					return
				}
				w.WriteHeader(tc.status)
			}))
			t.Cleanup(srv.Close)
			no := notifyConfirmedOrder(t, sim, "ack", srv.URL+"/notify")
			id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
			state := "PENDING"
			if tc.success {
				state = "DELIVERED"
			}
			v := notifyWaitState(t, sim, id, state, 1, 5*time.Second)
			if len(v.Attempts) != 1 {
				t.Fatalf("attempts = %s, want 1", notifyDescribe(v.Attempts))
			}
			a := v.Attempts[0]
			if a.Status != tc.status || a.Success != tc.success || !strings.Contains(a.Error, tc.err) {
				t.Errorf("attempt = %+v, want status %d, success %v, error containing %q", a, tc.status, tc.success, tc.err)
			}
			if !tc.success && !v.NextAttemptAt.After(a.Time.Add(59*time.Minute)) {
				t.Errorf("next_attempt_at %s, want an hour after the attempt (%s)", v.NextAttemptAt, a.Time)
			}
		})
	}
	if n := len(redirected.all()); n != 0 {
		t.Errorf("the redirect target received %d requests, want none", n)
	}
}

func TestNotifyTimeout(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	sim := notifyStart(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}, NotifyTimeout: timeout}, false)
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body) // so that the server notices the client hanging up
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(10 * time.Second):
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // before srv.Close, which waits for the handler
	no := notifyConfirmedOrder(t, sim, "to", srv.URL+"/notify")
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, sim, id, "PENDING", 1, 5*time.Second)
	a := v.Attempts[0]
	if a.Success || a.Status != 0 || !strings.Contains(a.Error, "timeout") || !strings.Contains(a.Error, timeout.String()) {
		t.Errorf("attempt = %+v, want a failure without status whose error names the %s timeout", a, timeout)
	}
	if a.Latency < timeout || a.Latency > timeout+2*time.Second {
		t.Errorf("latency %s, want about the %s timeout", a.Latency, timeout)
	}
}

func TestRetryFollowsSimulatedClock(t *testing.T) {
	t.Parallel()
	sim := notifyStart(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}}, false)
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) { e.reply = notifyFailFirst(1) })
	no := notifyConfirmedOrder(t, sim, "ck", e.URL)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	notifyWaitState(t, sim, id, "PENDING", 1, 5*time.Second)

	time.Sleep(300 * time.Millisecond)
	if n := len(e.all()); n != 1 {
		t.Fatalf("%d requests before the clock moved, want 1: the retry is an hour away", n)
	}
	advanced := time.Now()
	if status, v := notifyPost(t, sim, "/sim/v1/clock/advance", map[string]any{"duration": "61m"}); status != http.StatusOK {
		t.Fatalf("advance the clock: HTTP %d %v", status, v)
	}
	got := e.waitCount(t, 2, 5*time.Second)
	if d := got[1].At.Sub(advanced); d > 1500*time.Millisecond {
		t.Errorf("the retry went out %s after the clock advanced, want promptly", d)
	}
	v := notifyWaitState(t, sim, id, "DELIVERED", 2, 5*time.Second)
	if gap := v.Attempts[1].Time.Sub(v.Attempts[0].Time); gap < time.Hour {
		t.Errorf("attempts recorded %s apart on the simulated clock, want at least the hour of the schedule", gap)
	}
}

// notifyDemoSim wraps an app opened without simtest, to use simtest's demo client.
func notifyDemoSim(a *app.App) *simtest.Sim {
	return &simtest.Sim{App: a, URL: a.URL(), Creds: fixtures.DemoCredentials(), Platform: a.Server.Platform}
}

// notifyReserveAddr returns a loopback address nothing listens on (connections are refused).
func notifyReserveAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// notifyListenOn starts e on addr.
func notifyListenOn(t *testing.T, e *notifyEndpoint, addr string) {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on %s again: %v", addr, err)
	}
	e.srv = httptest.NewUnstartedServer(e)
	e.srv.Listener.Close()
	e.srv.Listener = ln
	e.srv.Start()
	t.Cleanup(e.srv.Close)
}

func notifyOpen(t *testing.T, opts app.Options) *app.App {
	t.Helper()
	opts.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	opts.NotifyClient = simtest.LoopbackClient()
	a, err := app.Open(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func notifyClose(t *testing.T, a *app.App) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Close(ctx); err != nil {
		t.Fatalf("close the simulator: %v", err)
	}
}

// TestRestartDeliversPendingOnce stops the simulator with a notification never attempted (its
// worker stopped first), and starts another on the same database: it delivers it, once.
func TestRestartDeliversPendingOnce(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sim.db")
	e := notifyNewEndpoint(t, false)

	first := notifyOpen(t, app.Options{DB: db})
	if err := first.Notifier.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	no := notifyConfirmedOrder(t, notifyDemoSim(first), "rs", e.URL)
	time.Sleep(200 * time.Millisecond)
	if n := len(e.all()); n != 0 {
		t.Fatalf("%d requests from a simulator whose worker was stopped", n)
	}
	notifyClose(t, first)

	second := notifyStart(t, app.Options{DB: db}, false)
	e.waitCount(t, 1, 5*time.Second)
	id := notifyFind(t, second, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, second, id, "DELIVERED", 1, 5*time.Second)
	time.Sleep(500 * time.Millisecond)
	if n := len(e.all()); n != 1 {
		t.Errorf("the endpoint received %d requests, want exactly 1", n)
	}
	if len(v.Attempts) != 1 || !v.Attempts[0].Success {
		t.Errorf("attempts = %s, want one success", notifyDescribe(v.Attempts))
	}
}

// TestRestartResumesRetries: the endpoint is down (connections refused) while a first
// simulator tries; it is stopped, the endpoint comes up, and a second simulator on the same
// database delivers the notification on its schedule, once.
func TestRestartResumesRetries(t *testing.T) {
	t.Parallel()
	db := filepath.Join(t.TempDir(), "sim.db")
	addr := notifyReserveAddr(t)
	schedule := simulator.RetrySchedule{500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond,
		500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond, 500 * time.Millisecond}
	e := notifyEndpointFor(t, false)
	e.URL = "http://" + addr + "/payscore/notify"

	first := notifyOpen(t, app.Options{DB: db, NotifySchedule: schedule})
	firstSim := notifyDemoSim(first)
	no := notifyConfirmedOrder(t, firstSim, "rr", e.URL)
	id := notifyFind(t, firstSim, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, firstSim, id, "PENDING", 1, 5*time.Second)
	if a := v.Attempts[0]; a.Success || a.Status != 0 || !strings.Contains(a.Error, "refused") {
		t.Errorf("attempt while the endpoint is down = %+v, want a refused connection", a)
	}
	notifyClose(t, first)

	notifyListenOn(t, e, addr)
	second := notifyStart(t, app.Options{DB: db, NotifySchedule: schedule}, false)
	got := e.waitCount(t, 1, 5*time.Second)
	v = notifyWaitState(t, second, id, "DELIVERED", 1, 5*time.Second)
	time.Sleep(time.Second)
	if n := len(e.all()); n != 1 {
		t.Errorf("the endpoint received %d requests, want exactly 1", n)
	}
	if got[0].envelopeID(t) != id || got[0].WechatpayGo != nil {
		t.Errorf("delivered notification %s (wechatpay-go: %v), want %s, verified", got[0].envelopeID(t), got[0].WechatpayGo, id)
	}
	successes := 0
	for _, a := range v.Attempts {
		if a.Success {
			successes++
		}
	}
	if successes != 1 || !v.Attempts[len(v.Attempts)-1].Success {
		t.Errorf("attempts = %s, want failures then one success", notifyDescribe(v.Attempts))
	}
}

func TestNotifyResend(t *testing.T) {
	t.Parallel()
	sim := notifyStart(t, app.Options{}, false)
	e := notifyNewEndpoint(t, false)
	no := notifyConfirmedOrder(t, sim, "re", e.URL)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	notifyWaitState(t, sim, id, "DELIVERED", 1, 5*time.Second)

	status, v := notifyPost(t, sim, "/sim/v1/notifications/"+id+"/resend", nil)
	if status != http.StatusOK || v["id"] != id {
		t.Fatalf("resend: HTTP %d %v", status, v)
	}
	got := e.waitCount(t, 2, 5*time.Second)
	notifyWaitState(t, sim, id, "DELIVERED", 2, 5*time.Second)
	if got[0].envelopeID(t) != id || got[1].envelopeID(t) != id || string(got[0].Body) != string(got[1].Body) {
		t.Errorf("the re-sent notification differs: %s then %s", got[0].Body, got[1].Body)
	}
	if got[1].WechatpayGo != nil || got[1].GoPay != nil {
		t.Errorf("the SDKs refused the re-sent notification: %v / %v", got[1].WechatpayGo, got[1].GoPay)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(e.all()); n != 2 {
		t.Errorf("the endpoint received %d requests, want 2", n)
	}
}

// TestNotificationsControlAPI reads notifications back: listed with filters, resource the
// decrypted payload, body the envelope as sent; and the errors are WeChat-shaped.
func TestNotificationsControlAPI(t *testing.T) {
	t.Parallel()
	sim := notifyStart(t, app.Options{}, false)
	e := notifyNewEndpoint(t, false)
	no := notifyConfirmedOrder(t, sim, "api", e.URL)
	v := notifyWaitState(t, sim, notifyFind(t, sim, no, simulator.EventUserConfirm).ID, "DELIVERED", 1, 5*time.Second)
	r := e.waitCount(t, 1, time.Second)[0]

	if string(v.Body) != string(r.Body) {
		t.Errorf("body = %s, want the envelope as sent, %s", v.Body, r.Body)
	}
	var env struct {
		Resource struct{ Ciphertext, Nonce, AssociatedData string } `json:"resource"`
	}
	if err := json.Unmarshal(v.Body, &env); err != nil {
		t.Fatal(err)
	}
	plain, err := wxcrypto.DecryptAEAD(fixtures.DemoAPIv3Key, env.Resource.Nonce, "", env.Resource.Ciphertext)
	if err != nil {
		t.Fatal(err)
	}
	var fromCipher, fromView map[string]any
	if err := json.Unmarshal(plain, &fromCipher); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(v.Resource, &fromView); err != nil {
		t.Fatal(err)
	}
	if fromView["out_order_no"] != no || fromView["state"] != "DOING" || len(fromView) != len(fromCipher) {
		t.Errorf("resource = %s, want the decrypted payload %s", v.Resource, plain)
	}
	if v.MchID != fixtures.DemoMchID || v.NotifyURL != e.URL || v.EventType != "PAYSCORE.USER_CONFIRM" {
		t.Errorf("notification = %+v", v)
	}

	var list struct {
		Data []map[string]any `json:"data"`
	}
	for path, want := range map[string]int{
		"/sim/v1/notifications?mchid=" + fixtures.DemoMchID:                           1,
		"/sim/v1/notifications?out_order_no=" + no + "&event_type=PAYSCORE.USER_PAID": 0,
		"/sim/v1/notifications?mchid=" + fixtures.OtherMchID:                          0,
		"/sim/v1/notifications?limit=1":                                               1,
	} {
		list.Data = nil
		if status := notifyGetJSON(t, sim, path, &list); status != http.StatusOK || len(list.Data) != want {
			t.Errorf("GET %s: HTTP %d, %d notifications, want %d", path, status, len(list.Data), want)
		}
		for _, n := range list.Data {
			if n["attempt_count"] != float64(1) || n["attempts"] != nil {
				t.Errorf("GET %s: item with (attempt_count, attempts) = (%v, %v), want (1, absent)", path, n["attempt_count"], n["attempts"])
			}
		}
	}

	for _, tc := range []struct {
		method, path, body string
		status             int
		code, detail       string
	}{
		{"GET", "/sim/v1/notifications/nope", "", 404, "NOTIFICATION_NOT_EXIST", ""},
		{"POST", "/sim/v1/notifications/nope/resend", "", 404, "NOTIFICATION_NOT_EXIST", ""},
		{"POST", "/sim/v1/notifications/nope/lab", `{"variant":"duplicate"}`, 404, "NOTIFICATION_NOT_EXIST", ""},
		{"POST", "/sim/v1/notifications/" + v.ID + "/lab", `{"variant":"loud"}`, 400, "PARAM_ERROR", "bad_signature, signtest, stale_timestamp, unknown_serial, duplicate"},
		{"POST", "/sim/v1/notifications/" + v.ID + "/lab", `{`, 400, "PARAM_ERROR", ""},
		{"GET", "/sim/v1/notifications?event_type=PAYSCORE.USER_LEFT", "", 400, "PARAM_ERROR", "PAYSCORE.USER_PAID"},
		{"GET", "/sim/v1/notifications?limit=0", "", 400, "PARAM_ERROR", "limit"},
	} {
		req, err := http.NewRequest(tc.method, sim.URL+tc.path, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb struct {
			Code   string         `json:"code"`
			Detail map[string]any `json:"detail"`
		}
		_ = json.Unmarshal(body, &eb)
		detail, _ := json.Marshal(eb.Detail)
		if resp.StatusCode != tc.status || eb.Code != tc.code || !strings.Contains(string(detail), tc.detail) {
			t.Errorf("%s %s: HTTP %d %s, want %d %s with %q in the detail", tc.method, tc.path, resp.StatusCode, body, tc.status, tc.code, tc.detail)
		}
	}
	if n := len(e.all()); n != 1 {
		t.Errorf("the endpoint received %d requests, want 1: refused lab and resend calls send nothing", n)
	}
}
