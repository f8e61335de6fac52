package http_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Helpers of the dashboard tests (dashboard_*_test.go, and the other files that look at a
// dashboard page): orders and notifications to show, and the pages' forms and answers.

// dashSeq makes out_order_nos unique within the test binary.
var dashSeq atomic.Int64

func dashOutOrderNo(tag string) string {
	return fmt.Sprintf("DASH%s%d%d", tag, time.Now().UnixNano()%1e9, dashSeq.Add(1))
}

// dashStart starts a simulator whose notifications are retried only after an hour, so that in a
// test only the first attempt and the dashboard's resend deliver them.
func dashStart(t *testing.T) *simtest.Sim {
	t.Helper()
	return simtest.Start(t, app.Options{NotifySchedule: simulator.RetrySchedule{time.Hour}})
}

// dashCreate creates a confirm-mode order of the demo merchant (demoOrderBody, notify_url
// replaced when notifyURL is set) and returns its package.
func dashCreate(t *testing.T, sim *simtest.Sim, no, notifyURL string) string {
	t.Helper()
	return pageCreate(t, sim, no, func(b map[string]any) {
		if notifyURL != "" {
			b["notify_url"] = notifyURL
		}
	})
}

// dashConfirm opens a wxpayScoreUse visit of the package and confirms it through the control
// API; it returns the visit id.
func dashConfirm(t *testing.T, sim *simtest.Sim, pkg string) string {
	t.Helper()
	id, _ := pageOpenUse(t, sim, pkg)
	if status, v := pageControl(t, sim, http.MethodPost, "/sim/v1/visits/"+id+"/confirm", nil); status != http.StatusOK {
		t.Fatalf("confirm %s: %d %v", id, status, v)
	}
	return id
}

// dashComplete completes the demo merchant's order for 250 fen, and waits for Pay Score's
// deduction, which comes after the complete.
func dashComplete(t *testing.T, sim *simtest.Sim, no string) {
	t.Helper()
	end := time.Now().In(simulator.ChinaTime).Format("20060102150405")
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+no+"/complete", map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{{"name": "充电宝租借费", "amount": 250}},
		"total_amount":  250, "time_range": map[string]any{"end_time": end},
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("complete %s: %v %d %s", no, err, resp.Status, resp.Body)
	}
	sim.WaitDeducted(t, fixtures.DemoMchID, no)
}

// dashOrder is the order as the control API shows it.
func dashOrder(t *testing.T, sim *simtest.Sim, no string) map[string]any {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/orders/"+fixtures.DemoMchID+"/"+url.PathEscape(no), nil)
	if status != http.StatusOK {
		t.Fatalf("get order %s: %d %v", no, status, v)
	}
	return v
}

// dashOrderState is the order's state, state_description and collection state, as the control
// API shows them: "DONE" or "DOING MCH_COMPLETE USER_PAYING".
func dashOrderState(t *testing.T, sim *simtest.Sim, no string) string {
	t.Helper()
	o, _ := dashOrder(t, sim, no)["order"].(map[string]any)
	s := fmt.Sprint(o["state"])
	if d, ok := o["state_description"].(string); ok {
		s += " " + d
	}
	if c, ok := o["collection"].(map[string]any); ok {
		s += " " + fmt.Sprint(c["state"])
	}
	return s
}

func dashOrderPath(no string) string {
	return "/dashboard/orders/" + fixtures.DemoMchID + "/" + url.PathEscape(no)
}

// dashPost posts a form without following the redirect, and returns the answer and its body.
func dashPost(t *testing.T, target string, form url.Values, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return pageDo(t, req)
}

// dashWantSeeOther posts the form and checks that it answers 303 to location.
func dashWantSeeOther(t *testing.T, target string, form url.Values, location string) {
	t.Helper()
	resp, body := dashPost(t, target, form, nil)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != location {
		t.Fatalf("POST %s %v: %d Location %q, want 303 to %s; body %s", target, form, resp.StatusCode, resp.Header.Get("Location"), location, body)
	}
}

// dashWantRejected posts the form and checks the WeChat-shaped error page: status and code.
func dashWantRejected(t *testing.T, target string, form url.Values, status int, code string, fragments ...string) {
	t.Helper()
	resp, body := dashPost(t, target, form, nil)
	pageWantHTML(t, resp, body, status, append([]string{`<code id="error-code">` + code + `</code>`}, fragments...)...)
}

// dashPage fetches a dashboard page and checks that it is HTML with the status and fragments,
// under the pages' Content-Security-Policy.
func dashPage(t *testing.T, target string, status int, fragments ...string) string {
	t.Helper()
	resp, body := pageGet(t, http.MethodGet, target)
	pageWantHTML(t, resp, body, status, fragments...)
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("GET %s: Content-Security-Policy %q", target, csp)
	}
	return body
}

// dashLacks checks that a page does not hold the fragments.
func dashLacks(t *testing.T, body string, fragments ...string) {
	t.Helper()
	for _, f := range fragments {
		if strings.Contains(body, f) {
			t.Errorf("page holds %q", f)
		}
	}
}

// dashClock is the control API's clock offset in seconds.
func dashClock(t *testing.T, sim *simtest.Sim) float64 {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/clock", nil)
	if status != http.StatusOK {
		t.Fatalf("clock: %d %v", status, v)
	}
	return v["offset_seconds"].(float64)
}

// dashEndpoint is a merchant's notification endpoint on loopback: it answers 500 until ok is
// set, then 200, and counts what it received.
type dashEndpoint struct {
	*httptest.Server
	ok       atomic.Bool
	received atomic.Int64
}

func dashNewEndpoint(t *testing.T) *dashEndpoint {
	t.Helper()
	e := &dashEndpoint{}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		e.received.Add(1)
		if !e.ok.Load() {
			http.Error(w, `{"code":"FAIL","message":"merchant endpoint down on purpose"}`, http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(e.Close)
	return e
}

// dashNotification is a notification as the control API shows it, with its attempts.
type dashNotification struct {
	ID        string `json:"id"`
	EventType string `json:"event_type"`
	State     string `json:"state"`
	Attempts  []struct {
		Status  int    `json:"status"`
		Success bool   `json:"success"`
		Lab     string `json:"lab"`
		Error   string `json:"error"`
	} `json:"attempts"`
}

// dashWaitNotification waits until the order has a notification of the event whose attempts
// satisfy done, and returns it.
func dashWaitNotification(t *testing.T, sim *simtest.Sim, no, event string, done func(dashNotification) bool) dashNotification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		status, list := pageControl(t, sim, http.MethodGet, "/sim/v1/notifications?out_order_no="+url.QueryEscape(no)+"&event_type="+event, nil)
		if status != http.StatusOK {
			t.Fatalf("list notifications: %d %v", status, list)
		}
		if data, _ := list["data"].([]any); len(data) == 1 {
			id, _ := data[0].(map[string]any)["id"].(string)
			resp, body := pageGet(t, http.MethodGet, sim.URL+"/sim/v1/notifications/"+id)
			var n dashNotification
			if err := json.Unmarshal([]byte(body), &n); err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("get notification %s: %d %v %s", id, resp.StatusCode, err, body)
			}
			if done(n) {
				return n
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s notification of %s reached the wanted state in time: %v", event, no, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func dashAttempts(n int) func(dashNotification) bool {
	return func(x dashNotification) bool { return len(x.Attempts) >= n }
}

// dashWrongKey is an RSA key no merchant of the simulator has.
func dashWrongKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// dashBadSignature sends a create request for no, signed with a key the simulator does not
// know under the demo merchant's serial, and returns the id under which the request log keeps
// it.
func dashBadSignature(t *testing.T, sim *simtest.Sim, c *client.Client, no string) int64 {
	t.Helper()
	body, err := json.Marshal(demoOrderBody(no))
	if err != nil {
		t.Fatal(err)
	}
	const target = "/v3/payscore/serviceorder"
	auth, err := wxcrypto.Authorize(fixtures.DemoMchID, fixtures.DemoMerchantSerial, dashWrongKey(t), http.MethodPost, target, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req, err := c.NewRequest(context.Background(), http.MethodPost, target, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.Send(req)
	if err != nil || resp.Status != http.StatusUnauthorized || resp.Err().Code != "SIGN_ERROR" {
		t.Fatalf("badly signed create: %v %v", err, resp)
	}
	status, list := pageControl(t, sim, http.MethodGet, "/sim/v1/requests?failed=true&limit=1000", nil)
	if status != http.StatusOK {
		t.Fatalf("list requests: %d %v", status, list)
	}
	data, _ := list["data"].([]any)
	for _, r := range data {
		rec := r.(map[string]any)
		if b, _ := rec["request_body"].(string); strings.Contains(b, no) {
			return int64(rec["id"].(float64))
		}
	}
	t.Fatalf("the request log holds no failed request for %s", no)
	return 0
}

// dashSignedLine matches the start of the message the simulator verifies for a create: method,
// target, timestamp and nonce on lines of their own, then the JSON body.
var dashSignedLine = regexp.MustCompile(`^POST\n/v3/payscore/serviceorder\n\d+\n[0-9A-Za-z]+\n\{`)
