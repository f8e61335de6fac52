package main

// The crash test: payscore-sim is SIGKILLed under load and restarted on the same database file.
// Every answer it gave before dying must hold afterwards, and the notifications it owed must
// still go out. Everything runs on 127.0.0.1, and every loop ends by itself.
//
// Package-level names in this file start with crash.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

const (
	crashWorkers = 6
	// crashLoad is how long the load runs before the kill.
	crashLoad = 1500 * time.Millisecond
	// crashSchedule retries a notification every 300 ms for 30 s, so that those owed at the
	// kill are still pending when the endpoint comes up after the restart.
	crashScheduleStep  = "300ms"
	crashScheduleSteps = 100
)

// crashBuild builds payscore-sim into dir.
func crashBuild(t *testing.T, dir string) string {
	t.Helper()
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the go command is needed to build the binary: %v", err)
	}
	bin := filepath.Join(dir, "payscore-sim")
	cmd := exec.Command(gobin, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// crashProc is a running payscore-sim.
type crashProc struct {
	cmd    *exec.Cmd
	url    string
	done   chan struct{}
	mu     sync.Mutex
	stderr bytes.Buffer
}

func (p *crashProc) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.Write(b)
}

func (p *crashProc) logs() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stderr.String()
}

var crashListening = regexp.MustCompile(`listening on (http://127\.0\.0\.1:[1-9][0-9]*)`)

// crashStart runs the binary on db and waits for its startup line.
func crashStart(t *testing.T, bin, db string) *crashProc {
	t.Helper()
	schedule := strings.TrimSuffix(strings.Repeat(crashScheduleStep+",", crashScheduleSteps), ",")
	p := &crashProc{done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--db", db, "--notify-schedule", schedule)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PAYSCORE_SIM_") {
			p.cmd.Env = append(p.cmd.Env, kv)
		}
	}
	p.cmd.Stderr = p
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 1)
	go func() {
		r := bufio.NewReader(stdout)
		line, _ := r.ReadString('\n')
		lines <- line
		_, _ = io.Copy(io.Discard, r)
		_ = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() { p.kill(t) })
	select {
	case line := <-lines:
		m := crashListening.FindStringSubmatch(line)
		if m == nil {
			p.kill(t)
			t.Fatalf("startup line %q names no loopback address; stderr:\n%s", line, p.logs())
		}
		p.url = m[1]
	case <-time.After(30 * time.Second):
		t.Fatalf("no startup line within 30 s; stderr:\n%s", p.logs())
	}
	return p
}

// kill sends SIGKILL, as an OOM killer or a pulled plug would, and waits for the process to end.
func (p *crashProc) kill(t *testing.T) {
	select {
	case <-p.done:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		t.Errorf("SIGKILL: %v", err)
	}
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("the process survived SIGKILL for 10 s")
	}
}

// crashClient signs as the demo merchant and checks every answer's signature.
func crashClient(t *testing.T, baseURL string) *client.Client {
	t.Helper()
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return &client.Client{
		BaseURL: baseURL, MchID: fixtures.DemoMchID, Serial: fixtures.DemoMerchantSerial, Key: key,
		Verify: crashPlatformKeys(t),
		HTTP:   &http.Client{Transport: &http.Transport{Proxy: nil}, Timeout: 10 * time.Second},
	}
}

// crashPlatformKeys are the keys of the simulator's signatures, by serial.
func crashPlatformKeys(t *testing.T) map[string]*rsa.PublicKey {
	t.Helper()
	p, err := fixtures.Platform()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := wxcrypto.ParsePublicKey(fixtures.PublicKeyModePublicPEM)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]*rsa.PublicKey{p.CertSerial: p.Cert.PublicKey.(*rsa.PublicKey), p.PublicKeyID: pub}
}

var crashChina = time.FixedZone("UTC+8", 8*60*60)

func crashCreateBody(no, notifyURL string) map[string]any {
	now := time.Now()
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": 300, "count": 1}},
		"time_range": map[string]any{
			"start_time": now.In(crashChina).Format("20060102150405"),
			"end_time":   now.Add(2 * time.Hour).In(crashChina).Format("20060102150405"),
		},
		"risk_fund":         map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900},
		"notify_url":        notifyURL,
		"need_user_confirm": true,
	}
}

// crashOrder is what the load learnt about one order.
type crashOrder struct {
	no string
	// acked is the state the last 200 left the order in; "" if its create got no answer.
	acked string
	// pending is the state the unanswered request would have left it in; "" if none.
	pending string
}

// crashStep sends one request of the load. It returns false when the request got no answer
// (the process is gone) and fails the test on any answer but want.
func crashStep(t *testing.T, c *client.Client, method, target string, body any, want int, out any) bool {
	resp, err := c.Do(context.Background(), method, target, body)
	if err != nil {
		if resp != nil {
			t.Errorf("%s %s: %v", method, target, err) // answered, but not signed right
		}
		return false
	}
	if resp.Status != want {
		t.Errorf("%s %s: %d %s, want %d", method, target, resp.Status, resp.Body, want)
		return false
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Error(err)
			return false
		}
	}
	return true
}

// crashDrive creates orders until stop is closed or the simulator stops answering; of every
// four, three are confirmed by the user and one is cancelled by the merchant.
func crashDrive(t *testing.T, c *client.Client, worker int, notifyURL string, stop <-chan struct{}) []*crashOrder {
	var orders []*crashOrder
	for i := 0; ; i++ {
		select {
		case <-stop:
			return orders
		default:
		}
		o := &crashOrder{no: fmt.Sprintf("CRASH-%d-%d", worker, i), pending: "CREATED"}
		orders = append(orders, o)
		var created struct {
			Package string `json:"package"`
		}
		if !crashStep(t, c, http.MethodPost, "/v3/payscore/serviceorder", crashCreateBody(o.no, notifyURL), http.StatusOK, &created) {
			return orders
		}
		o.acked, o.pending = "CREATED", ""
		if i%4 == 3 {
			o.pending = "REVOKED"
			if !crashStep(t, c, http.MethodPost, "/v3/payscore/serviceorder/"+o.no+"/cancel",
				map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "crash test"}, http.StatusOK, nil) {
				return orders
			}
			o.acked, o.pending = "REVOKED", ""
			continue
		}
		var visit struct {
			VisitID string `json:"visit_id"`
		}
		if !crashStep(t, c, http.MethodPost, "/sim/v1/visits", map[string]any{
			"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": created.Package},
		}, http.StatusCreated, &visit) {
			return orders
		}
		o.pending = "DOING"
		if !crashStep(t, c, http.MethodPost, "/sim/v1/visits/"+visit.VisitID+"/confirm", nil, http.StatusOK, nil) {
			return orders
		}
		o.acked, o.pending = "DOING", ""
	}
}

// crashReceiver is the merchant's notify_url: it checks each notification's signature,
// decrypts it and records which orders it confirmed.
type crashReceiver struct {
	t    *testing.T
	keys map[string]*rsa.PublicKey
	mu   sync.Mutex
	got  map[string]int // USER_CONFIRM deliveries by out_order_no
}

func (rc *crashReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h := r.Header
	key := rc.keys[h.Get("Wechatpay-Serial")]
	if key == nil || wxcrypto.VerifySHA256WithRSA(key, wxcrypto.ResponseMessage(h.Get("Wechatpay-Timestamp"), h.Get("Wechatpay-Nonce"), body), h.Get("Wechatpay-Signature")) != nil {
		rc.t.Errorf("notification with a bad signature (serial %q): %s", h.Get("Wechatpay-Serial"), body)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var env struct {
		EventType string `json:"event_type"`
		Resource  struct {
			Ciphertext     string `json:"ciphertext"`
			AssociatedData string `json:"associated_data"`
			Nonce          string `json:"nonce"`
		} `json:"resource"`
	}
	var order struct {
		OutOrderNo string `json:"out_order_no"`
		State      string `json:"state"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		rc.t.Errorf("notification body: %v: %s", err, body)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	plain, err := wxcrypto.DecryptAEAD(fixtures.DemoAPIv3Key, env.Resource.Nonce, env.Resource.AssociatedData, env.Resource.Ciphertext)
	if err == nil {
		err = json.Unmarshal(plain, &order)
	}
	if err != nil || env.EventType != "PAYSCORE.USER_CONFIRM" || order.State != "DOING" {
		rc.t.Errorf("notification %s of order %q (state %q): %v", env.EventType, order.OutOrderNo, order.State, err)
	}
	rc.mu.Lock()
	rc.got[order.OutOrderNo]++
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *crashReceiver) received() map[string]int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	got := make(map[string]int, len(rc.got))
	for k, v := range rc.got {
		got[k] = v
	}
	return got
}

// crashControl GETs a control API path and decodes the answer.
func crashControl(t *testing.T, c *client.Client, path string, out any) int {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodGet, path, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	if resp.Status == http.StatusOK && out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp.Status
}

// crashNotification is a notification as the control API lists it.
type crashNotification struct {
	OutOrderNo string `json:"out_order_no"`
	EventType  string `json:"event_type"`
	State      string `json:"state"`
	Attempts   int    `json:"attempts"`
}

func crashNotifications(t *testing.T, c *client.Client) []crashNotification {
	t.Helper()
	var list struct {
		Data []crashNotification `json:"data"`
	}
	crashControl(t, c, "/sim/v1/notifications?mchid="+fixtures.DemoMchID+"&event_type=PAYSCORE.USER_CONFIRM&limit=1000", &list)
	return list.Data
}

func TestCrashUnderLoadKeepsAnsweredOrdersAndPendingNotifications(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs it under load")
	}
	dir := t.TempDir()
	bin := crashBuild(t, dir)
	db := filepath.Join(dir, "crash.db")

	// The merchant's notify_url: a loopback port with nothing listening until after the restart.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	notifyAddr := ln.Addr().String()
	ln.Close()
	notifyURL := "http://" + notifyAddr + "/payscore/notify"

	// Load, then SIGKILL while the workers are still sending.
	first := crashStart(t, bin, db)
	c := crashClient(t, first.url)
	stop := make(chan struct{})
	results := make([][]*crashOrder, crashWorkers)
	var wg sync.WaitGroup
	for w := range crashWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[w] = crashDrive(t, c, w, notifyURL, stop)
		}()
	}
	time.Sleep(crashLoad)
	first.kill(t)
	close(stop)
	wg.Wait()
	var orders []*crashOrder
	inFlight := 0
	for _, r := range results {
		orders = append(orders, r...)
		if n := len(r); n > 0 && r[n-1].pending != "" {
			inFlight++
		}
	}
	acked := 0
	for _, o := range orders {
		if o.acked != "" {
			acked++
		}
	}
	t.Logf("killed after %v: %d orders, %d with an answered create, %d workers with a request in flight", crashLoad, len(orders), acked, inFlight)
	if acked < crashWorkers {
		t.Fatalf("only %d creates were answered before the kill; the machine is too slow for the test to mean anything. stderr:\n%s", acked, first.logs())
	}

	// Restart on the same file: every answered change is there, and an unanswered one either
	// happened or did not.
	second := crashStart(t, bin, db)
	c = crashClient(t, second.url)
	states := map[string]int{}
	var confirmed []string
	for _, o := range orders {
		var got struct {
			State string `json:"state"`
		}
		status := crashControl(t, c, "/v3/payscore/serviceorder?out_order_no="+o.no+"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, &got)
		switch {
		case status == http.StatusNotFound && o.acked == "":
			states["absent (create unanswered)"]++
			continue
		case status != http.StatusOK:
			t.Errorf("order %s: query answered %d after the restart; the last 200 said %s", o.no, status, o.acked)
			continue
		case got.State != o.acked && got.State != o.pending:
			t.Errorf("order %s is %s after the restart; the last 200 said %q and the request in flight would have made it %q", o.no, got.State, o.acked, o.pending)
		}
		label := got.State
		if got.State != o.acked {
			label += " (in flight at the kill)"
		}
		states[label]++
		if got.State == "DOING" {
			confirmed = append(confirmed, o.no)
		}
	}
	t.Logf("after the restart: %v", states)

	// Every confirmed order owes exactly one USER_CONFIRM, still pending: its endpoint was down.
	owed := map[string]bool{}
	for _, n := range crashNotifications(t, c) {
		if owed[n.OutOrderNo] {
			t.Errorf("order %s has two USER_CONFIRM notifications", n.OutOrderNo)
		}
		owed[n.OutOrderNo] = true
		if n.State != "PENDING" {
			t.Errorf("notification of %s is %s with %d attempts before its endpoint is up, want PENDING", n.OutOrderNo, n.State, n.Attempts)
		}
	}
	for _, no := range confirmed {
		if !owed[no] {
			t.Errorf("order %s is DOING but owes no USER_CONFIRM notification", no)
		}
	}
	if len(owed) != len(confirmed) {
		t.Errorf("%d USER_CONFIRM notifications for %d confirmed orders", len(owed), len(confirmed))
	}

	// The endpoint comes up: every one of them is delivered.
	rc := &crashReceiver{t: t, keys: crashPlatformKeys(t), got: map[string]int{}}
	ln, err = net.Listen("tcp", notifyAddr)
	if err != nil {
		t.Fatalf("reopen the notify endpoint's port %s: %v", notifyAddr, err)
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		got := rc.received()
		delivered := 0
		for _, n := range crashNotifications(t, c) {
			if n.State == "DELIVERED" {
				delivered++
			}
		}
		missing := 0
		for _, no := range confirmed {
			if got[no] == 0 {
				missing++
			}
		}
		if missing == 0 && delivered == len(confirmed) {
			t.Logf("%d notifications delivered after the restart", delivered)
			break
		}
		if time.Now().After(deadline) {
			var miss []string
			for _, no := range confirmed {
				if got[no] == 0 {
					miss = append(miss, no)
				}
			}
			sort.Strings(miss)
			t.Fatalf("20 s after the endpoint came up: %d of %d confirmed orders' notifications not received (%v), %d recorded DELIVERED; stderr:\n%s",
				missing, len(confirmed), miss, delivered, second.logs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for no, n := range rc.received() {
		if !owed[no] {
			t.Errorf("received a USER_CONFIRM of %s, which is not confirmed (%d times)", no, n)
		}
	}
}
