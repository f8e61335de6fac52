package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/payscore-sim/payscore-sim/bench"
	"github.com/payscore-sim/payscore-sim/simulator/client"
)

// callPair is what one measurement sends: its calls to the floor and to the simulator, and a
// check of the answers to make once the measurement is over.
type callPair struct {
	floor, sim func(int) error
	check      func() error
}

// calls makes the callPair of n calls of op ("create" or "query") to each server.
type calls func(op string, n int) (callPair, error)

// servers are the two clients of a throughput part and the orders it has created.
type servers struct {
	ctx        context.Context
	floor, sim *client.Client
	runID      string
	created    atomic.Int64
}

// signingInLoop signs each request, and verifies each answer, inside the measured call, as an
// application with an SDK does. The client's RSA work then competes with the server's.
func (s *servers) signingInLoop(op string, _ int) (callPair, error) {
	switch op {
	case "create":
		return callPair{
			floor: func(int) error { return bench.Create(s.ctx, s.floor, "FLOOR") },
			sim: func(int) error {
				return bench.Create(s.ctx, s.sim, bench.OrderNo(s.runID, int(s.created.Add(1)-1)))
			},
		}, nil
	default:
		query := func(cl *client.Client) func(int) error {
			return func(int) error { return bench.Query(s.ctx, cl, s.randomOrder(0)) }
		}
		return callPair{floor: query(s.floor), sim: query(s.sim)}, nil
	}
}

// presigned signs the n requests before the measurement, and verifies the answers' signatures
// after it, so that the measured loop does no RSA and the server has the cores. Both servers get
// the same requests.
func (s *servers) presigned(op string, n int) (callPair, error) {
	var reqs []bench.Signed
	var err error
	switch op {
	case "create":
		from := int(s.created.Add(int64(n))) - n
		reqs, err = bench.PresignCreates(s.sim, s.runID, from, n)
	default:
		reqs, err = bench.PresignQueries(s.sim, n, s.randomOrder)
	}
	if err != nil {
		return callPair{}, err
	}
	f, sim := bench.NewReplay(s.floor, reqs), bench.NewReplay(s.sim, reqs)
	return callPair{floor: f.Call(s.ctx), sim: sim.Call(s.ctx), check: func() error {
		if err := f.Check(); err != nil {
			return fmt.Errorf("floor: %w", err)
		}
		return sim.Check()
	}}, nil
}

// randomOrder is the out_order_no of an order created earlier in the part.
func (s *servers) randomOrder(int) string {
	return bench.OrderNo(s.runID, rand.IntN(int(s.created.Load())))
}

func throughput(ctx context.Context, c *config, rep *report) error {
	return signedCalls(ctx, c, rep, "throughput", false)
}

func presigned(ctx context.Context, c *config, rep *report) error {
	return signedCalls(ctx, c, rep, "presigned", true)
}

// signedCalls measures signed create, then signed query, at 1 and at 16 clients, on a fresh
// payscore-sim and a floor server started for the part.
func signedCalls(ctx context.Context, c *config, rep *report, name string, presign bool) error {
	sim, err := startServer(ctx, c, "sim-"+name, c.sim, "serve", "--db", filepath.Join(c.dir, name+".db"))
	if err != nil {
		return err
	}
	defer sim.stop()
	fl, err := startServer(ctx, c, "floor-"+name, c.floor)
	if err != nil {
		return err
	}
	defer fl.stop()
	s := &servers{ctx: ctx, runID: "L" + strconv.FormatInt(time.Now().UnixNano(), 36)}
	if s.sim, err = bench.NewClient(sim.url, 16); err != nil {
		return err
	}
	if s.floor, err = bench.NewClient(fl.url, 16); err != nil {
		return err
	}
	mk, how := s.signingInLoop, "the load generator signs every request and verifies every response's signature in the measured call, as an SDK does"
	title := "Signed calls over loopback"
	if presign {
		mk, how = s.presigned, "the load generator signed every request before the measurement and verified every response's signature after it, so the measured loop does no RSA: the server has the cores. Both servers got the same requests"
		title = "Pre-signed calls over loopback"
	}
	sec := section{
		Title: fmt.Sprintf("%s (%d calls to each server per line, in alternating blocks of %d per client)", title, c.n, c.block),
		Head: []string{"call", "clients", "floor calls/s", "sim calls/s", "sim / floor", "floor p50 / p99 ms", "sim p50 / p99 ms", "sim p99 / floor p99",
			"server CPU ms/call (of it system) floor / sim", "sim / floor CPU", "targets"},
		Notes: []string{"Both servers are separate processes started from their binaries; " + how + ", over keep-alive connections. calls/s is calls over the summed wall time of a server's blocks; p50/p99 over all its calls. Server CPU is the server process's user+system time (/proc/PID/stat) over the measurement, per call, and in brackets the system (kernel) part of it: the figure least disturbed by other work on the machine."},
	}
	for _, op := range []string{"create", "query"} {
		for _, conc := range []int{1, 16} {
			row, err := measure(ctx, c, fl, sim, mk, op, conc)
			if err != nil {
				return fmt.Errorf("%s c=%d: %w", op, conc, err)
			}
			sec.Rows = append(sec.Rows, row)
		}
	}
	rep.add(sec)
	return nil
}

// measure makes c.n calls of op to each server from conc clients, in alternating blocks, and
// returns the table row.
func measure(ctx context.Context, c *config, fl, sim *proc, mk calls, op string, conc int) ([]string, error) {
	// Warm-up, not measured: connections, caches.
	warm, err := mk(op, 4*conc)
	if err != nil {
		return nil, err
	}
	if _, _, err := bench.Compare(ctx, conc, 4*conc, conc, warm.floor, warm.sim); err != nil {
		return nil, err
	}
	p, err := mk(op, c.n)
	if err != nil {
		return nil, err
	}
	fCPU0, sCPU0, err := cpus(fl, sim)
	if err != nil {
		return nil, err
	}
	f, s, err := bench.Compare(ctx, conc, c.n, c.block*conc, p.floor, p.sim)
	if err != nil {
		return nil, err
	}
	fCPU1, sCPU1, err := cpus(fl, sim)
	if err != nil {
		return nil, err
	}
	for _, check := range []func() error{warm.check, p.check} {
		if check != nil {
			if err := check(); err != nil {
				return nil, err
			}
		}
	}
	fCPU, sCPU := fCPU1.sub(fCPU0), sCPU1.sub(sCPU0)
	fPer, sPer := fCPU.total()/time.Duration(f.Calls), sCPU.total()/time.Duration(s.Calls)
	fSys, sSys := fCPU.system/time.Duration(f.Calls), sCPU.system/time.Duration(s.Calls)
	logf("%s c=%d: floor %.0f calls/s p50 %s p99 %s cpu %s (system %s); sim %.0f calls/s p50 %s p99 %s cpu %s (system %s)", op, conc,
		f.Rate(), ms(f.Pct(.5)), ms(f.Pct(.99)), ms(fPer), ms(fSys), s.Rate(), ms(s.Pct(.5)), ms(s.Pct(.99)), ms(sPer), ms(sSys))
	want := map[string]float64{"create": .8, "query": .9}[op]
	rateOK := s.Rate()/f.Rate() >= want
	p99OK := float64(s.Pct(.99)) <= 1.5*float64(f.Pct(.99))
	return []string{
		op, strconv.Itoa(conc),
		fmt.Sprintf("%.0f", f.Rate()), fmt.Sprintf("%.0f", s.Rate()), pctOf(s.Rate(), f.Rate()),
		ms(f.Pct(.5)) + " / " + ms(f.Pct(.99)), ms(s.Pct(.5)) + " / " + ms(s.Pct(.99)),
		ratio(float64(s.Pct(.99)), float64(f.Pct(.99))),
		ms(fPer) + " (" + ms(fSys) + ") / " + ms(sPer) + " (" + ms(sSys) + ")", ratio(float64(sPer), float64(fPer)),
		fmt.Sprintf("≥ %.0f%%: %s; p99 ≤ 1.5×: %s", want*100, mark(rateOK), mark(p99OK)),
	}, nil
}

// cpus reads the CPU time the floor and the simulator have used.
func cpus(fl, sim *proc) (floor, simulator cpuTime, err error) {
	if floor, err = fl.cpu(); err != nil {
		return floor, simulator, err
	}
	simulator, err = sim.cpu()
	return floor, simulator, err
}
