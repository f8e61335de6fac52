// Package run runs scenarios: each against a fresh in-process simulator (started with the same
// wiring as payscore-sim serve, package app), or all against a running one, as merchants the
// run registers there for itself; in parallel where they can; and reports them as text or JUnit
// XML.
//
// It is the part of the scenario runner that knows how simulators are made. Package scenario,
// which reads the files and plays their steps over HTTP, knows only the domain's types.
package run

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"io"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// Runner runs scenarios: each against a fresh in-process simulator (the default), or all against
// a running one (Target).
type Runner struct {
	// Target is a running simulator's base URL (http://host:port); empty starts a fresh
	// in-memory simulator for each scenario, with the fast notification schedule. On a target
	// the run acts as merchants it registers for itself (copies of the scenarios' merchants
	// under new mchids), so that runs never see one another's records or clocks.
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
	// ControlToken is the target's control token (serve --control-token), sent with every
	// request; empty when the target has none.
	ControlToken string
}

// Outcome is how a scenario ended.
type Outcome string

// The outcomes, as the runner prints them.
const (
	Pass Outcome = "PASS"
	Fail Outcome = "FAIL"
	Skip Outcome = "SKIP"
)

// Result is one scenario's outcome.
type Result struct {
	Scenario *scenario.Scenario
	Outcome  Outcome
	Duration time.Duration
	Failure  *scenario.Failure
	// SkipReason says why a skipped scenario did not run.
	SkipReason string
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
func (r *Runner) Run(ctx context.Context, files []*scenario.File) (*Report, error) {
	start := time.Now()
	var scenarios []*scenario.Scenario
	for _, f := range files {
		scenarios = append(scenarios, f.Scenarios...)
	}
	target := strings.TrimSuffix(r.Target, "/")
	w := &world{target: target, hc: httpClient(target == "", r.ControlToken), logger: r.Logger}
	rcv, err := r.receiver(ctx, w)
	if err != nil {
		return nil, err
	}
	defer rcv.Close()
	w.rcv = rcv
	results := r.runAll(ctx, w, scenarios)
	rep := &Report{Results: results, Duration: time.Since(start)}
	if r.Out != nil {
		// The last line has the plain "N passed, N failed" form that CI systems read.
		fmt.Fprintf(r.Out, "%d scenarios in %.2fs\nscenarios: %d passed, %d failed, %d skipped\n",
			len(results), rep.Duration.Seconds(), rep.Count(Pass), rep.Count(Fail), rep.Count(Skip))
	}
	return rep, nil
}

// receiver starts the notification receiver, which verifies notifications with the keys of the
// simulators the scenarios run against.
func (r *Runner) receiver(ctx context.Context, w *world) (*scenario.Receiver, error) {
	host := r.NotifyHost
	if host == "" {
		host = "127.0.0.1"
	}
	listen := r.NotifyAddr
	if listen == "" {
		// A receiver reached by a loopback name need not listen beyond loopback.
		listen = ":0"
		if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
			listen = net.JoinHostPort(host, "0")
		}
	}
	var keys map[string]*rsa.PublicKey
	var err error
	if w.target != "" {
		keys, err = fetchPlatformKeys(ctx, w.hc, w.target)
	} else {
		keys, err = fixturePlatformKeys()
	}
	if err != nil {
		return nil, err
	}
	return scenario.StartReceiver(listen, host, keys)
}

// runAll runs the scenarios, at most Parallel at once, and prints each result in order as soon
// as it and those before it are in.
func (r *Runner) runAll(ctx context.Context, w *world, scenarios []*scenario.Scenario) []*Result {
	parallel := r.Parallel
	if parallel <= 0 {
		parallel = runtime.GOMAXPROCS(0)
	}
	// The token tells this run's ids from those of other runs against the same target.
	token := rand.Text()[:8]
	results := make([]*Result, len(scenarios))
	done := make([]chan struct{}, len(scenarios))
	sem := make(chan struct{}, parallel)
	// Against a shared simulator, a scenario that moves the clock of the run's merchants runs
	// alone among the run's scenarios.
	var exclusive sync.RWMutex
	for i, sc := range scenarios {
		done[i] = make(chan struct{})
		go func() {
			defer close(done[i])
			sem <- struct{}{}
			defer func() { <-sem }()
			if w.target != "" {
				unlock := lock(&exclusive, sc.Exclusive)
				defer unlock()
			}
			results[i] = r.runScenario(ctx, w, sc, fmt.Sprintf("Q%s%03d", token, i))
		}()
	}
	for i := range scenarios {
		<-done[i]
		if r.Out != nil {
			printResult(r.Out, results[i])
		}
	}
	return results
}

// lock takes l for writing (alone) or reading (beside others), and returns its unlock.
func lock(l *sync.RWMutex, alone bool) (unlock func()) {
	if alone {
		l.Lock()
		return l.Unlock
	}
	l.RLock()
	return l.RUnlock
}

func (r *Runner) runScenario(ctx context.Context, w *world, sc *scenario.Scenario, unique string) (res *Result) {
	start := time.Now()
	res = &Result{Scenario: sc, Outcome: Pass}
	defer func() { res.Duration = time.Since(start) }()
	if sc.Skip != "" {
		res.Outcome, res.SkipReason = Skip, sc.Skip
		return res
	}
	timeout := r.Timeout
	if timeout <= 0 {
		timeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	play, base, closeSim, err := w.simulator(ctx, sc)
	if err != nil {
		res.Outcome, res.Failure = Fail, &scenario.Failure{Pos: sc.Pos, Message: err.Error()}
		return res
	}
	res.Failure = scenario.Play(ctx, play, base, unique, w.hc, w.rcv)
	if err := closeSim(); err != nil && res.Failure == nil {
		res.Failure = &scenario.Failure{Pos: sc.Pos, Message: err.Error()}
	}
	if res.Failure != nil {
		res.Outcome = Fail
	}
	return res
}
