package main

// Graceful shutdown of the built binary on SIGTERM, as `docker stop` sends it: the requests in
// flight are finished, the outbox stops cleanly (pending notifications stay in the database),
// SQLite is closed, and the process exits 0.

import (
	"bufio"
	"context"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// sigtermClient signs as the demo merchant and verifies every response's signature.
func sigtermClient(t *testing.T, baseURL string) *client.Client {
	t.Helper()
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := wxcrypto.ParseCertificate(fixtures.PlatformCertPEM)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 64}
	t.Cleanup(tr.CloseIdleConnections)
	return &client.Client{
		BaseURL: baseURL, MchID: fixtures.DemoMchID, Serial: fixtures.DemoMerchantSerial, Key: key,
		Verify: map[string]*rsa.PublicKey{fixtures.PlatformSerial: cert.PublicKey.(*rsa.PublicKey)},
		HTTP:   &http.Client{Transport: tr, Timeout: 30 * time.Second},
	}
}

// sigtermCreate is the body of a confirm-mode create numbered no, notifying notifyURL.
func sigtermCreate(no, notifyURL string) []byte {
	b, _ := json.Marshal(map[string]any{
		"out_order_no": no, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": 300, "count": 1}},
		"time_range":           map[string]any{"start_time": "OnAccept"},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"notify_url":           notifyURL,
		"need_user_confirm":    true,
	})
	return b
}

// sigtermCreated checks a create's answer: the order numbered no, CREATED, with a package.
func sigtermCreated(body []byte, no string) (orderID string, err error) {
	var o struct {
		OutOrderNo string `json:"out_order_no"`
		OrderID    string `json:"order_id"`
		State      string `json:"state"`
		Package    string `json:"package"`
	}
	if err := json.Unmarshal(body, &o); err != nil {
		return "", fmt.Errorf("body %q: %w", body, err)
	}
	if o.OutOrderNo != no || o.State != "CREATED" || o.Package == "" || o.OrderID == "" {
		return "", fmt.Errorf("answer %s, want order %s CREATED with a package", body, no)
	}
	return o.OrderID, nil
}

// sigtermSlow is a create sent over a raw connection in two halves, so that it is in flight
// for as long as the test wants.
type sigtermSlow struct {
	conn net.Conn
	no   string
	rest []byte
}

// sigtermStartSlow sends the request line, the headers and half the body of a signed create.
func sigtermStartSlow(t *testing.T, c *client.Client, addr, no string) *sigtermSlow {
	t.Helper()
	body := sigtermCreate(no, "https://merchant.example.com/payscore/notify")
	auth, err := wxcrypto.Authorize(c.MchID, c.Serial, c.Key, http.MethodPost, "/v3/payscore/serviceorder", body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	head := "POST /v3/payscore/serviceorder HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: " + auth +
		"\r\nAccept: application/json\r\nUser-Agent: sigterm-test\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	half := len(body) / 2
	if _, err := io.WriteString(conn, head+string(body[:half])); err != nil {
		t.Fatal(err)
	}
	return &sigtermSlow{conn: conn, no: no, rest: body[half:]}
}

// finish sends the rest of the body and checks the answer: complete, signed, the order made.
func (s *sigtermSlow) finish(t *testing.T, c *client.Client) string {
	t.Helper()
	if _, err := s.conn.Write(s.rest); err != nil {
		t.Fatalf("slow create: the rest of the body: %v (the server dropped a request in flight)", err)
	}
	s.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(s.conn), nil)
	if err != nil {
		t.Fatalf("slow create: no answer: %v (the server dropped a request in flight)", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("slow create: a cut answer: %v", err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("slow create: HTTP %d %s", resp.StatusCode, body)
	}
	msg := wxcrypto.ResponseMessage(resp.Header.Get("Wechatpay-Timestamp"), resp.Header.Get("Wechatpay-Nonce"), body)
	if err := wxcrypto.VerifySHA256WithRSA(c.Verify[resp.Header.Get("Wechatpay-Serial")], msg, resp.Header.Get("Wechatpay-Signature")); err != nil {
		t.Fatalf("slow create: the answer's signature: %v", err)
	}
	id, err := sigtermCreated(body, s.no)
	if err != nil {
		t.Fatalf("slow create: %v", err)
	}
	return id
}

// sigtermOutcome is what one create got: the order's id, or the error of a request that got no
// answer (refused, or reset before the server read it).
type sigtermOutcome struct {
	no, orderID string
	err         error
}

func TestSIGTERMFinishesRequestsInFlight(t *testing.T) {
	bin := binBuild(t)
	db := filepath.Join(t.TempDir(), "sim.db")
	p := binStart(t, []string{bin, "serve", "--addr", "127.0.0.1:0", "--db", db}, binEnviron())
	c := sigtermClient(t, p.URL)

	// A create whose body is half sent: the server has begun it and must wait for the rest.
	slow := sigtermStartSlow(t, c, p.Addr, "SIGTERM-slow")
	time.Sleep(100 * time.Millisecond) // the server reads the headers

	// Creates from many goroutines, before, across and after the SIGTERM.
	var (
		stop     atomic.Bool
		answered atomic.Int64
		mu       sync.Mutex
		outcomes []sigtermOutcome
		wg       sync.WaitGroup
	)
	for w := range 16 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				no := fmt.Sprintf("SIGTERM-%02d-%05d", w, i)
				o := sigtermOutcome{no: no}
				resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", sigtermCreate(no, "https://merchant.example.com/payscore/notify"))
				switch {
				case resp != nil && err != nil: // an answer, but its signature failed
					t.Errorf("create %s: an answer that does not verify: %v", no, err)
				case err != nil:
					o.err = err
				case resp.Status != http.StatusOK:
					t.Errorf("create %s: HTTP %d %s", no, resp.Status, resp.Body)
				default:
					if o.orderID, err = sigtermCreated(resp.Body, no); err != nil {
						t.Errorf("create %s: %v", no, err)
					}
					answered.Add(1)
				}
				mu.Lock()
				outcomes = append(outcomes, o)
				mu.Unlock()
				if err != nil {
					time.Sleep(5 * time.Millisecond) // refused: the server is going
				}
			}
		})
	}
	for deadline := time.Now().Add(30 * time.Second); answered.Load() < 100; {
		if time.Now().After(deadline) {
			stop.Store(true)
			wg.Wait()
			t.Fatalf("%d creates answered in 30s; stderr:\n%s", answered.Load(), p.Stderr())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	// The slow create holds the shutdown: the process must still be there.
	select {
	case <-p.done:
		t.Fatalf("payscore-sim exited (%v) with a request in flight; stderr:\n%s", p.err, p.Stderr())
	case <-time.After(500 * time.Millisecond):
	}
	slowID := slow.finish(t, c)
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("payscore-sim did not exit within 30s of SIGTERM; stderr:\n%s", p.Stderr())
	}
	stop.Store(true)
	wg.Wait()
	if p.err != nil {
		t.Fatalf("payscore-sim exited with %v after SIGTERM, want 0; stderr:\n%s", p.err, p.Stderr())
	}

	// The database, closed cleanly, holds exactly the orders that were answered: a create
	// that got no answer was never begun.
	store, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	ok, refused := 0, 0
	for _, o := range append(outcomes, sigtermOutcome{no: slow.no, orderID: slowID}) {
		got, err := store.FindOrder(t.Context(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: o.no})
		switch {
		case o.err == nil && (err != nil || got.OrderID != o.orderID):
			t.Errorf("create %s was answered with order %s, but the database has %v (%v)", o.no, o.orderID, got, err)
		case o.err != nil && err == nil:
			t.Errorf("create %s got no answer (%v), but the database has its order %s: a request in flight was lost", o.no, o.err, got.OrderID)
		case o.err == nil:
			ok++
		default:
			refused++
		}
	}
	t.Logf("%d creates answered, %d refused once the server was going", ok, refused)
	if strings.Contains(p.Stderr(), "level=ERROR") {
		t.Errorf("the shutdown logged errors:\n%s", p.Stderr())
	}
}

// sigtermEndpoint counts the notifications a merchant's notify_url receives, by id.
type sigtermEndpoint struct {
	mu  sync.Mutex
	ids map[string]int
}

func (e *sigtermEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var env struct {
		ID        string `json:"id"`
		EventType string `json:"event_type"`
	}
	_ = json.NewDecoder(r.Body).Decode(&env)
	e.mu.Lock()
	e.ids[env.ID]++
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (e *sigtermEndpoint) count(id string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ids[id]
}

// sigtermControl calls the control API of the simulator at base and decodes the answer.
func sigtermControl(t *testing.T, method, url, body string, out any) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: HTTP %d %s", method, url, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, b)
		}
	}
}

// sigtermNotification is GET /sim/v1/notifications/{id}.
type sigtermNotification struct {
	ID           string `json:"id"`
	EventType    string `json:"event_type"`
	State        string `json:"state"`
	AttemptCount int    `json:"attempt_count"`
}

// sigtermWaitNotification polls the notification until done says yes.
func sigtermWaitNotification(t *testing.T, base, no string, done func(sigtermNotification) bool) sigtermNotification {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var list struct {
			Data []sigtermNotification `json:"data"`
		}
		sigtermControl(t, http.MethodGet, base+"/sim/v1/notifications?out_order_no="+no, "", &list)
		if len(list.Data) == 1 && done(list.Data[0]) {
			return list.Data[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("notifications of %s: %+v after 15s", no, list.Data)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A notification whose merchant endpoint is down stays pending through a SIGTERM, and once the
// simulator restarts on the same database with the endpoint up it is delivered, once.
func TestSIGTERMKeepsPendingNotification(t *testing.T) {
	bin := binBuild(t)
	db := filepath.Join(t.TempDir(), "sim.db")

	// The merchant's endpoint: a loopback port with nothing listening, for now.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpointAddr := ln.Addr().String()
	ln.Close()

	// Retries an hour apart: nothing but the test's clock moves the notification along.
	serve := []string{bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--notify-schedule", "1h,1h"}
	p := binStart(t, serve, binEnviron())
	c := sigtermClient(t, p.URL)
	const no = "SIGTERM-notify-0001"
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", sigtermCreate(no, "http://"+endpointAddr+"/payscore/notify"))
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("create: %v %+v", err, resp)
	}
	var created struct {
		Package string `json:"package"`
	}
	if err := resp.Decode(&created); err != nil {
		t.Fatal(err)
	}
	var visit struct {
		ID string `json:"visit_id"`
	}
	sigtermControl(t, http.MethodPost, p.URL+"/sim/v1/visits", `{"businessType":"wxpayScoreUse","extraData":{"package":"`+created.Package+`"}}`, &visit)
	sigtermControl(t, http.MethodPost, p.URL+"/sim/v1/visits/"+visit.ID+"/confirm", "", nil)
	// USER_CONFIRM is tried at once, refused, and waits an hour for its retry.
	n := sigtermWaitNotification(t, p.URL, no, func(n sigtermNotification) bool { return n.AttemptCount >= 1 })
	if n.State != "PENDING" || n.EventType != string(simulator.EventUserConfirm) {
		t.Fatalf("notification before the stop: %+v, want a PENDING USER_CONFIRM", n)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("payscore-sim exited with %v after SIGTERM, want 0; stderr:\n%s", err, p.Stderr())
	}

	// Still pending in the database.
	store, err := sqlite.Open(t.Context(), db)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := store.FindNotification(t.Context(), n.ID)
	store.Close()
	if err != nil || stored.State != simulator.NotificationPending || stored.Attempts != n.AttemptCount {
		t.Fatalf("notification in the database after the stop: %+v, %v; want PENDING after %d attempts", stored, err, n.AttemptCount)
	}

	// The endpoint comes up; the simulator restarts on the same database.
	ln, err = net.Listen("tcp", endpointAddr)
	if err != nil {
		t.Fatalf("the endpoint's port %s was taken meanwhile: %v", endpointAddr, err)
	}
	e := &sigtermEndpoint{ids: map[string]int{}}
	srv := &http.Server{Handler: e}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	p = binStart(t, serve, binEnviron())
	if got := e.count(n.ID); got != 0 {
		t.Fatalf("delivered %d times before its retry was due", got)
	}
	// Rather than wait an hour for the retry, move the simulated clock past it.
	sigtermControl(t, http.MethodPost, p.URL+"/sim/v1/clock/advance", `{"duration":"61m"}`, nil)
	delivered := sigtermWaitNotification(t, p.URL, no, func(n sigtermNotification) bool { return n.State == "DELIVERED" })
	if delivered.AttemptCount != n.AttemptCount+1 {
		t.Errorf("delivered after %d attempts, want %d (those before the stop and one)", delivered.AttemptCount, n.AttemptCount+1)
	}
	if err := p.stop(t); err != nil {
		t.Fatalf("payscore-sim exited with %v after the second SIGTERM; stderr:\n%s", err, p.Stderr())
	}
	if got := e.count(n.ID); got != 1 {
		t.Errorf("the endpoint received notification %s %d times, want once", n.ID, got)
	}
}
