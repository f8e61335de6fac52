package scenario

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Runner runs scenarios: each against a fresh in-process simulator (the default), or all against
// a running one (Target).
type Runner struct {
	// Target is a running simulator's base URL (http://host:port); empty starts a fresh
	// in-memory simulator for each scenario, with the fast notification schedule.
	Target string
	// NotifyHost is the host the simulator reaches the runner's notification receiver by;
	// default 127.0.0.1. NotifyAddr is where the receiver listens; default NotifyHost:0 for a
	// loopback host, else :0.
	NotifyHost string
	NotifyAddr string
	// Parallel bounds the scenarios running at once; zero means GOMAXPROCS.
	Parallel int
	// Timeout bounds one scenario; zero means two minutes.
	Timeout time.Duration
	// Out receives one line per scenario as results come in, in file order; nil prints nothing.
	Out io.Writer
	// Logger receives the in-process simulators' logs; nil discards them.
	Logger *slog.Logger
}

// Outcome is how a scenario ended.
type Outcome string

const (
	Pass Outcome = "PASS"
	Fail Outcome = "FAIL"
	Skip Outcome = "SKIP"
)

// Result is one scenario's outcome.
type Result struct {
	Scenario *Scenario
	Outcome  Outcome
	Duration time.Duration
	Failure  *Failure
	// SkipReason says why a skipped scenario did not run.
	SkipReason string
}

// Failure says where and why a scenario failed.
type Failure struct {
	// Step is the step that failed; nil when the scenario failed before its first step.
	Step *Step
	// Pos is where in the file: the expectation that failed, else the step.
	Pos Pos
	// What failed: a response field, "status", "notification PAYSCORE.USER_PAID", ...
	What     string
	Expected string
	Actual   string
	// Message explains a failure that is not a comparison (an unreachable simulator, a
	// response whose signature did not verify, ...).
	Message string
	// Response is the failing step's response, shortened, for context.
	Response string
}

// Summary is the failure in one line.
func (f *Failure) Summary() string {
	var b strings.Builder
	b.WriteString(f.Pos.String())
	if f.Step != nil {
		fmt.Fprintf(&b, ": %s", f.Step)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, ": %s", f.Message)
	}
	if f.What != "" {
		fmt.Fprintf(&b, ": %s: expected %s, actual %s", f.What, f.Expected, f.Actual)
	}
	return b.String()
}

// Text is the failure as the runner prints it: where, then expected and actual on lines of
// their own.
func (f *Failure) Text() string {
	var b strings.Builder
	b.WriteString(f.Pos.String())
	if f.Step != nil {
		fmt.Fprintf(&b, ": %s", f.Step)
		if f.Step.Note != "" {
			fmt.Fprintf(&b, " %q", f.Step.Note)
		}
	}
	if f.What != "" {
		fmt.Fprintf(&b, ": %s", f.What)
	}
	if f.Message != "" {
		fmt.Fprintf(&b, "\n  %s", f.Message)
	}
	if f.What != "" {
		fmt.Fprintf(&b, "\n  expected: %s\n  actual:   %s", f.Expected, f.Actual)
	}
	if f.Response != "" {
		fmt.Fprintf(&b, "\n  response: %s", f.Response)
	}
	return b.String()
}

// Report is the outcome of a run.
type Report struct {
	Results  []*Result
	Duration time.Duration
}

// Count returns how many results had outcome o.
func (r *Report) Count(o Outcome) int {
	n := 0
	for _, res := range r.Results {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

// OK reports whether no scenario failed.
func (r *Report) OK() bool { return r.Count(Fail) == 0 }

// Run runs the scenarios of files, in parallel where it can, and returns every result in file
// order. The error is for what stops the run as a whole (the receiver cannot listen, the target
// does not answer); a failing scenario is a result.
func (r *Runner) Run(ctx context.Context, files []*File) (*Report, error) {
	start := time.Now()
	var scenarios []*Scenario
	for _, f := range files {
		scenarios = append(scenarios, f.Scenarios...)
	}
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	host := r.NotifyHost
	if host == "" {
		host = "127.0.0.1"
	}
	listen := r.NotifyAddr
	if listen == "" {
		listen = ":0"
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			listen = net.JoinHostPort(host, "0")
		}
	}
	target := strings.TrimSuffix(r.Target, "/")
	hc := httpClient(target == "")
	var keys map[string]*rsa.PublicKey
	var err error
	if target != "" {
		keys, err = fetchPlatformKeys(ctx, hc, target)
	} else {
		keys, err = fixturePlatformKeys()
	}
	if err != nil {
		return nil, err
	}
	rcv, err := startReceiver(listen, host, keys)
	if err != nil {
		return nil, err
	}
	defer rcv.close()

	token := randomAlnum(8)
	results := make([]*Result, len(scenarios))
	done := make([]chan struct{}, len(scenarios))
	sem := make(chan struct{}, parallel)
	// Against a shared simulator, a scenario that moves the clock runs alone.
	var exclusive sync.RWMutex
	for i, sc := range scenarios {
		done[i] = make(chan struct{})
		go func() {
			defer close(done[i])
			sem <- struct{}{}
			defer func() { <-sem }()
			if target != "" {
				if sc.Exclusive {
					exclusive.Lock()
					defer exclusive.Unlock()
				} else {
					exclusive.RLock()
					defer exclusive.RUnlock()
				}
			}
			results[i] = r.runScenario(ctx, sc, fmt.Sprintf("Q%s%03d", token, i), target, hc, rcv)
		}()
	}
	for i := range scenarios {
		<-done[i]
		if r.Out != nil {
			printResult(r.Out, results[i])
		}
	}
	rep := &Report{Results: results, Duration: time.Since(start)}
	if r.Out != nil {
		// The last line has the plain "N passed, N failed" form that CI systems read.
		fmt.Fprintf(r.Out, "%d scenarios in %.2fs\nscenarios: %d passed, %d failed, %d skipped\n",
			len(results), rep.Duration.Seconds(), rep.Count(Pass), rep.Count(Fail), rep.Count(Skip))
	}
	return rep, nil
}

func printResult(w io.Writer, res *Result) {
	sc := res.Scenario
	fmt.Fprintf(w, "%s  %6.2fs  %s: %s\n", res.Outcome, res.Duration.Seconds(), sc.File.Path, sc.Name)
	switch {
	case res.Failure != nil:
		for _, line := range strings.Split(res.Failure.Text(), "\n") {
			fmt.Fprintf(w, "        %s\n", line)
		}
	case res.Outcome == Skip:
		fmt.Fprintf(w, "        skipped: %s\n", res.SkipReason)
	}
}

// httpClient connects directly, never through a proxy; for in-process simulators it reaches
// loopback addresses only.
func httpClient(loopbackOnly bool) *http.Client {
	var d net.Dialer
	t := &http.Transport{Proxy: nil, DialContext: d.DialContext, MaxIdleConns: 100, MaxIdleConnsPerHost: 16, IdleConnTimeout: 30 * time.Second}
	if loopbackOnly {
		t.DialContext = loopbackDial
	}
	return &http.Client{Transport: t, Timeout: 30 * time.Second}
}

// loopbackDial refuses every address but loopback ones: in-process simulators deliver
// notifications to the runner's receiver and nowhere else, whatever notify_url a scenario gives.
func loopbackDial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("scenario: refusing to connect to %s: an in-process simulator reaches loopback addresses only", addr)
	}
	var d net.Dialer
	return d.DialContext(ctx, network, addr)
}

// fixturePlatformKeys are the published test platform keys every simulator signs with.
func fixturePlatformKeys() (map[string]*rsa.PublicKey, error) {
	p, err := fixtures.Platform()
	if err != nil {
		return nil, err
	}
	pub, err := wxcrypto.ParsePublicKey(p.PublicKeyPEM)
	if err != nil {
		return nil, err
	}
	return map[string]*rsa.PublicKey{p.CertSerial: p.Cert.PublicKey.(*rsa.PublicKey), p.PublicKeyID: pub}, nil
}

// fetchPlatformKeys asks a running simulator for its platform certificate, as an SDK does
// (GET /v3/certificates, decrypted with the demo merchant's APIv3 key), and for its WeChat Pay
// public key (the demo credentials).
func fetchPlatformKeys(ctx context.Context, hc *http.Client, base string) (map[string]*rsa.PublicKey, error) {
	demo := builtinMerchants()["demo"]
	c := &client.Client{BaseURL: base, MchID: demo.MchID, Serial: demo.Serial, Key: demo.Key, HTTP: hc}
	resp, err := c.Do(ctx, http.MethodGet, "/v3/certificates", nil)
	if err != nil {
		return nil, fmt.Errorf("target %s: download the platform certificate: %w", base, err)
	}
	var list struct {
		Data []struct {
			SerialNo string `json:"serial_no"`
			Enc      struct {
				Nonce          string `json:"nonce"`
				AssociatedData string `json:"associated_data"`
				Ciphertext     string `json:"ciphertext"`
			} `json:"encrypt_certificate"`
		} `json:"data"`
	}
	if resp.Status != http.StatusOK || json.Unmarshal(resp.Body, &list) != nil || len(list.Data) == 0 {
		return nil, fmt.Errorf("target %s: GET /v3/certificates answered %d %s", base, resp.Status, resp.Body)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, d := range list.Data {
		pemBytes, err := wxcrypto.DecryptAEAD(demo.APIv3Key, d.Enc.Nonce, d.Enc.AssociatedData, d.Enc.Ciphertext)
		if err != nil {
			return nil, fmt.Errorf("target %s: decrypt platform certificate %s: %w", base, d.SerialNo, err)
		}
		cert, err := wxcrypto.ParseCertificate(pemBytes)
		if err != nil {
			return nil, fmt.Errorf("target %s: platform certificate %s: %w", base, d.SerialNo, err)
		}
		keys[wxcrypto.CertificateSerial(cert)] = cert.PublicKey.(*rsa.PublicKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+"/sim/v1/demo-credentials", nil)
	if err != nil {
		return nil, err
	}
	hresp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("target %s: %w", base, err)
	}
	defer hresp.Body.Close()
	var creds fixtures.Credentials
	if err := json.NewDecoder(hresp.Body).Decode(&creds); err != nil {
		return nil, fmt.Errorf("target %s: demo credentials: %w", base, err)
	}
	pub, err := wxcrypto.ParsePublicKey([]byte(creds.PlatformPublicKeyPEM))
	if err != nil {
		return nil, fmt.Errorf("target %s: WeChat Pay public key: %w", base, err)
	}
	keys[creds.PlatformPublicKeyID] = pub
	return keys, nil
}

func randomAlnum(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// usedMerchants returns the merchants a scenario acts as.
func usedMerchants(sc *Scenario) []*Merchant {
	names := map[string]bool{sc.Merchant: true}
	for _, st := range sc.Steps {
		if st.As != "" {
			names[st.As] = true
		}
	}
	var out []*Merchant
	for _, n := range keys(names) {
		out = append(out, sc.File.Merchants[n])
	}
	return out
}

// simMerchants are the merchants an in-process simulator for sc serves beside the demo one: the
// other merchant, the file's own merchants, and the copies with settings sc acts as.
func simMerchants(sc *Scenario) []*simulator.Merchant {
	byMchID := map[string]*simulator.Merchant{}
	names := keys(sc.File.Merchants)
	sort.Strings(names)
	for _, n := range names {
		m := sc.File.Merchants[n]
		switch {
		case n == "other":
			byMchID[m.MchID] = m.simMerchant()
		case n != "demo" && m.MchID != fixtures.DemoMchID && m.MchID != fixtures.OtherMchID:
			byMchID[m.MchID] = m.simMerchant()
		}
	}
	for _, m := range usedMerchants(sc) {
		if m.Settings != nil {
			byMchID[m.MchID] = m.simMerchant()
		}
	}
	out := make([]*simulator.Merchant, 0, len(byMchID))
	for _, id := range keys(byMchID) {
		out = append(out, byMchID[id])
	}
	return out
}

func (r *Runner) runScenario(ctx context.Context, sc *Scenario, unique, target string, hc *http.Client, rcv *receiver) (res *Result) {
	start := time.Now()
	res = &Result{Scenario: sc, Outcome: Pass}
	defer func() { res.Duration = time.Since(start) }()
	if sc.Skip != "" {
		res.Outcome, res.SkipReason = Skip, sc.Skip
		return res
	}
	if target != "" {
		for _, m := range usedMerchants(sc) {
			if m.Settings != nil {
				res.Outcome = Skip
				res.SkipReason = fmt.Sprintf("merchant %s has settings, which only an in-process simulator can be given (run without --target)", m.Name)
				return res
			}
		}
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	base := target
	if base == "" {
		logger := r.Logger
		if logger == nil {
			logger = slog.New(slog.DiscardHandler)
		}
		notifyClient := httpClient(true)
		defer notifyClient.CloseIdleConnections()
		a, err := app.Open(ctx, app.Options{
			Addr: "127.0.0.1:0", DB: ":memory:", Merchants: simMerchants(sc), Logger: logger,
			NotifySchedule: simulator.FastSchedule, NotifyClient: notifyClient,
		})
		if err != nil {
			res.Outcome, res.Failure = Fail, &Failure{Pos: sc.Pos, Message: "start an in-process simulator: " + err.Error()}
			return res
		}
		defer func() {
			cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer ccancel()
			if err := a.Close(cctx); err != nil && res.Failure == nil {
				res.Outcome, res.Failure = Fail, &Failure{Pos: sc.Pos, Message: "close the in-process simulator: " + err.Error()}
			}
		}()
		base = a.URL()
	}
	x := newRun(r, sc, unique, base, hc, rcv)
	defer rcv.closeInbox(x.inboxID)
	for _, st := range sc.Steps {
		if f := x.step(ctx, st); f != nil {
			res.Outcome, res.Failure = Fail, f
			return res
		}
	}
	return res
}

// step runs one step and checks its response; a failure says where and why.
func (x *run) step(ctx context.Context, st *Step) *Failure {
	x.ctx, x.clock = ctx, nil
	spec := kinds[st.Kind]
	arg, err := x.env.expand(st.Arg)
	if err != nil {
		return &Failure{Step: st, Pos: st.Pos, Message: err.Error()}
	}
	if spec.mapping {
		m, _ := arg.(map[string]any)
		if d := x.sc.File.Defaults[st.Kind]; d != nil {
			dd, err := x.env.expand(d)
			if err != nil {
				return &Failure{Step: st, Pos: st.Pos, Message: "defaults." + st.Kind + ": " + err.Error()}
			}
			m = overlay(dd.(map[string]any), m)
		}
		if m == nil {
			m = map[string]any{}
		}
		arg = m
	}
	deadline := time.Now().Add(st.Eventually)
	var resp *response
	var mm *mismatch
	for {
		resp, err = spec.run(x, ctx, st, arg)
		if err != nil {
			f := &Failure{Step: st, Pos: st.Pos, Message: err.Error()}
			var nf *notificationFailure
			if errors.As(err, &nf) {
				f.Message, f.What, f.Expected, f.Actual = nf.message, nf.what, nf.expected, nf.actual
			}
			if resp != nil {
				f.Response = resp.summary()
			}
			return f
		}
		if resp == nil {
			return nil
		}
		mm, err = checkResponse(x.env, st, resp)
		if err != nil {
			return &Failure{Step: st, Pos: st.Pos, Message: err.Error(), Response: resp.summary()}
		}
		if mm == nil || !time.Now().Before(deadline) {
			break
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return &Failure{Step: st, Pos: st.Pos, Message: ctx.Err().Error()}
		}
	}
	if mm != nil {
		if st.Eventually > 0 {
			mm.What += fmt.Sprintf(" (still, after %s)", st.Eventually)
		}
		f := &Failure{Step: st, Pos: mm.Pos, What: mm.What, Expected: mm.Expected, Actual: mm.Actual}
		if mm.What != "status" {
			f.Response = resp.summary()
		}
		return f
	}
	for _, c := range st.Capture {
		v, ok := lookupPath(resp.doc, c.Path)
		if !ok {
			return &Failure{Step: st, Pos: c.Pos, Message: fmt.Sprintf("capture %s: the response has no %s", c.Name, c.Path), Response: resp.summary()}
		}
		x.env.vars[c.Name] = v
	}
	return nil
}

// overlay lays over on base like merge, but keeps nulls, so that a step's null can still remove
// a built-in default.
func overlay(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = overlay(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// response is what a step got back: an HTTP response, or for steps that make none (a
// notification received), a document to check.
type response struct {
	status int
	header http.Header
	raw    []byte
	doc    any
}

func newResponse(status int, header http.Header, body []byte) *response {
	if header == nil {
		header = http.Header{}
	}
	return &response{status: status, header: header, raw: body, doc: decodeJSON(body)}
}

func (r *response) ok() bool { return r.status == 0 || r.status >= 200 && r.status < 300 }

// summary is the response in a line: its status, and its error code and message, or its body.
func (r *response) summary() string {
	var s string
	if m, ok := r.doc.(map[string]any); ok && r.status >= 400 {
		code, _ := m["code"].(string)
		msg, _ := m["message"].(string)
		s = strings.TrimSpace(fmt.Sprintf("%s %s", code, msg))
		if d, ok := m["detail"].(map[string]any); ok {
			if issue, ok := d["issue"].(string); ok {
				s += " (" + issue + ")"
			}
		}
	} else if r.raw != nil {
		s = string(r.raw)
	} else {
		s = show(r.doc)
	}
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	if r.status == 0 {
		return s
	}
	return strings.TrimSpace(fmt.Sprintf("%d %s", r.status, s))
}
