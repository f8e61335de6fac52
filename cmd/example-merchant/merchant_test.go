package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// quiet is the merchants' logger in tests.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startMerchant starts the example merchant on a loopback port, talking to simURL.
func startMerchant(t *testing.T, simURL string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	m, err := New(t.Context(), Config{SimulatorURL: simURL, PublicURL: base, Logger: quiet})
	if err != nil {
		ln.Close()
		t.Fatalf("New: %v", err)
	}
	srv := &http.Server{Handler: m}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return base
}

// call sends a JSON request and decodes the JSON answer into out; it returns the status.
func call(t *testing.T, method, url string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: HTTP %d, body %s: %v", method, url, resp.StatusCode, b, err)
		}
	}
	return resp.StatusCode
}

// merchantOrder is GET /orders/{no}.
type merchantOrder struct {
	State            string `json:"state"`
	StateDescription string `json:"state_description"`
	TotalAmount      int    `json:"total_amount"`
	Collection       *struct {
		State      string `json:"state"`
		PaidAmount int    `json:"paid_amount"`
	} `json:"collection"`
	PaidAt        *time.Time     `json:"paid_at"`
	Notifications []notification `json:"notifications"`
}

// waitOrder polls the merchant's GET /orders/{no} until done says yes.
func waitOrder(t *testing.T, merchant, no string, done func(merchantOrder) bool) merchantOrder {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var o merchantOrder
		if status := call(t, http.MethodGet, merchant+"/orders/"+no, nil, &o); status != http.StatusOK {
			t.Fatalf("GET /orders/%s: HTTP %d", no, status)
		}
		if done(o) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("order %s: waited 10s; last seen %+v", no, o)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func received(o merchantOrder, event string) []notification {
	var out []notification
	for _, n := range o.Notifications {
		if n.EventType == event {
			out = append(out, n)
		}
	}
	return out
}

// The example merchant runs the whole flow against the simulator: it creates an order, the user
// confirms it (the simulator's control API), it completes it, Pay Score collects, and its
// notify_url receives USER_CONFIRM and USER_PAID, each verified and decrypted once.
func TestExampleMerchantConfirmCompletePaid(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	merchant := startMerchant(t, sim.URL)

	var created struct {
		OutOrderNo       string          `json:"out_order_no"`
		State            string          `json:"state"`
		Package          string          `json:"package"`
		OpenBusinessView json.RawMessage `json:"open_business_view"`
	}
	if status := call(t, http.MethodPost, merchant+"/orders", map[string]any{"amount": 350}, &created); status != http.StatusCreated {
		t.Fatalf("POST /orders: HTTP %d %+v", status, created)
	}
	if created.State != "CREATED" || created.Package == "" || created.OutOrderNo == "" {
		t.Fatalf("POST /orders: %+v, want a CREATED order with a package", created)
	}
	no := created.OutOrderNo

	// The user: the mini-program passes open_business_view to wx.openBusinessView; the
	// simulator takes it as it is, then the user confirms and returns with params.
	var visit struct {
		ID string `json:"visit_id"`
	}
	if status := call(t, http.MethodPost, sim.URL+"/sim/v1/visits", created.OpenBusinessView, &visit); status != http.StatusCreated {
		t.Fatalf("open the visit with %s: HTTP %d", created.OpenBusinessView, status)
	}
	if status := call(t, http.MethodPost, sim.URL+"/sim/v1/visits/"+visit.ID+"/confirm", nil, nil); status != http.StatusOK {
		t.Fatalf("confirm: HTTP %d", status)
	}
	var show struct {
		Scene        int `json:"scene"`
		ReferrerInfo struct {
			ExtraData struct {
				QueryID string `json:"query_id"`
			} `json:"extraData"`
		} `json:"referrerInfo"`
	}
	if status := call(t, http.MethodPost, sim.URL+"/sim/v1/visits/"+visit.ID+"/return", nil, &show); status != http.StatusOK || show.ReferrerInfo.ExtraData.QueryID == "" {
		t.Fatalf("return: HTTP %d %+v", status, show)
	}

	confirmed := waitOrder(t, merchant, no, func(o merchantOrder) bool { return len(received(o, "PAYSCORE.USER_CONFIRM")) > 0 })
	if confirmed.State != "DOING" || confirmed.StateDescription != "USER_CONFIRM" {
		t.Errorf("after the user confirmed: %s/%s, want DOING/USER_CONFIRM", confirmed.State, confirmed.StateDescription)
	}

	var completed struct {
		State            string `json:"state"`
		StateDescription string `json:"state_description"`
		TotalAmount      int    `json:"total_amount"`
		Paid             bool   `json:"paid"`
	}
	if status := call(t, http.MethodPost, merchant+"/orders/"+no+"/complete", map[string]any{"amount": 250}, &completed); status != http.StatusOK {
		t.Fatalf("POST /orders/%s/complete: HTTP %d %+v", no, status, completed)
	}
	// Complete answers before Pay Score deducts: the merchant does not count it as paid.
	if completed.TotalAmount != 250 || completed.State != "DOING" || completed.StateDescription != "MCH_COMPLETE" || completed.Paid {
		t.Errorf("complete: %+v, want DOING/MCH_COMPLETE, 250, not paid", completed)
	}

	done := waitOrder(t, merchant, no, func(o merchantOrder) bool { return o.PaidAt != nil })
	if done.State != "DONE" || len(received(done, "PAYSCORE.USER_PAID")) != 1 {
		t.Errorf("paid, but the order is %s with %d USER_PAID", done.State, len(received(done, "PAYSCORE.USER_PAID")))
	}
	if done.Collection == nil || done.Collection.State != "USER_PAID" || done.Collection.PaidAmount != 250 || done.TotalAmount != 250 {
		t.Errorf("the order at the end: total %d, collection %+v; want 250 paid (USER_PAID)", done.TotalAmount, done.Collection)
	}
	// Both notifications arrived once each, verified and decrypted, and said what happened.
	if len(done.Notifications) != 2 {
		t.Errorf("the merchant received %d notifications for %s, want 2: %+v", len(done.Notifications), no, done.Notifications)
	}
	for _, want := range []struct{ event, state, desc, collection string }{
		{"PAYSCORE.USER_CONFIRM", "DOING", "USER_CONFIRM", ""},
		{"PAYSCORE.USER_PAID", "DONE", "", "USER_PAID"},
	} {
		got := received(done, want.event)
		if len(got) != 1 {
			t.Errorf("%s received %d times, want once", want.event, len(got))
			continue
		}
		n := got[0]
		if !n.Verified || n.Error != "" || n.Duplicate || n.ID == "" {
			t.Errorf("%s: verified %v, error %q, duplicate %v, id %q; want verified once", want.event, n.Verified, n.Error, n.Duplicate, n.ID)
		}
		if n.OutOrderNo != no || n.State != want.state || n.StateDescription != want.desc || n.CollectionState != want.collection {
			t.Errorf("%s decrypted to (%s, %s, %s, collection %s), want (%s, %s, %s, collection %s)",
				want.event, n.OutOrderNo, n.State, n.StateDescription, n.CollectionState, no, want.state, want.desc, want.collection)
		}
	}

	// The simulator agrees: both delivered at the first attempt, acknowledged with 200.
	var sent struct {
		Data []struct {
			ID           string `json:"id"`
			State        string `json:"state"`
			AttemptCount int    `json:"attempt_count"`
		} `json:"data"`
	}
	call(t, http.MethodGet, sim.URL+"/sim/v1/notifications?out_order_no="+no, nil, &sent)
	if len(sent.Data) != 2 {
		t.Fatalf("the simulator has %d notifications for %s, want 2", len(sent.Data), no)
	}
	for _, n := range sent.Data {
		if n.State != "DELIVERED" || n.AttemptCount != 1 {
			t.Errorf("simulator's notification %s: %s after %d attempts, want DELIVERED after 1", n.ID, n.State, n.AttemptCount)
		}
	}

	// The notification lab: the merchant refuses every forgery and accepts a duplicate, which
	// it marks as one.
	confirmID := received(done, "PAYSCORE.USER_CONFIRM")[0].ID
	for variant, wantAck := range map[string]bool{"bad_signature": false, "signtest": false, "stale_timestamp": false, "unknown_serial": false, "duplicate": true} {
		var a struct {
			Success bool   `json:"success"`
			Status  int    `json:"status"`
			Error   string `json:"error"`
		}
		if status := call(t, http.MethodPost, sim.URL+"/sim/v1/notifications/"+confirmID+"/lab", map[string]string{"variant": variant}, &a); status != http.StatusOK {
			t.Fatalf("lab %s: HTTP %d", variant, status)
		}
		if a.Success != wantAck {
			t.Errorf("lab %s: the merchant acknowledged: %v (HTTP %d), want %v", variant, a.Success, a.Status, wantAck)
		}
	}
	var all struct {
		Data []notification `json:"data"`
	}
	call(t, http.MethodGet, merchant+"/notifications", nil, &all)
	refused, duplicates := 0, 0
	for _, n := range all.Data {
		if !n.Verified {
			refused++
		}
		if n.Duplicate {
			duplicates++
		}
	}
	if refused != 4 || duplicates != 1 {
		t.Errorf("after the lab, the merchant recorded %d refusals and %d duplicates, want 4 and 1", refused, duplicates)
	}
}

// At start the merchant waits for the simulator, as it must when compose starts both at once.
func TestExampleMerchantWaitsForTheSimulator(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	target, err := url.Parse(sim.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	var up atomic.Bool
	var refused atomic.Int64
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !up.Load() {
			refused.Add(1)
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)

	done := make(chan error, 1)
	go func() {
		_, err := New(t.Context(), Config{SimulatorURL: front.URL, PublicURL: "http://127.0.0.1:1", RetryEvery: 10 * time.Millisecond, Logger: quiet})
		done <- err
	}()
	for refused.Load() < 3 {
		select {
		case err := <-done:
			t.Fatalf("New returned %v before the simulator was up", err)
		case <-time.After(10 * time.Millisecond):
		}
	}
	up.Store(true)
	if err := <-done; err != nil {
		t.Fatalf("New after the simulator came up: %v", err)
	}

	// A simulator that never comes: New gives up when its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	up.Store(false)
	_, err = New(ctx, Config{SimulatorURL: front.URL, PublicURL: "http://127.0.0.1:1", RetryEvery: 10 * time.Millisecond, Logger: quiet})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("New with no simulator: %v, want the context's deadline", err)
	}
}
