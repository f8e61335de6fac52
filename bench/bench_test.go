package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/bench/floor"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// queryOrders is how many orders the query benchmarks pick from.
const queryOrders = 1000

// BenchmarkSigned measures signed create and signed query through the real HTTP stack on
// loopback, client signing and response verification included, at 1 and 16 concurrent
// clients, beside the floor (package floor) under the same load. Each iteration is one call to
// the simulator and one to the floor, made in alternating blocks (bench.Compare), so that a busy
// moment of a shared machine hits both alike. Reported: the simulator's calls/s, p50_ms and
// p99_ms, the floor's (floor_calls/s, floor_p50_ms, floor_p99_ms), floor_ratio (the
// simulator's calls/s over the floor's) and p99_ratio.
//
//	go test -run '^$' -bench Signed -benchtime 1500x ./bench
func BenchmarkSigned(b *testing.B) { benchmarkCalls(b, false) }

// BenchmarkPresigned is BenchmarkSigned with every request signed before the timer starts and
// every response's signature verified after it stops, so that the timed loop does no RSA on
// the client's side and the servers have the cores. Both servers get the same requests. It is
// the benchmark to profile the server under:
//
//	go test -run '^$' -bench 'Presigned/create' -benchtime 3000x -cpuprofile cpu.prof ./bench
func BenchmarkPresigned(b *testing.B) { benchmarkCalls(b, true) }

// callsFunc returns n calls of one operation to the floor's client and to the simulator's, and
// a check to make after they are done.
type callsFunc func(n int) (floor, sim func(int) error, check func() error, err error)

func benchmarkCalls(b *testing.B, presign bool) {
	ctx := context.Background()
	// Goroutines inherit their creator's profiler labels, so every goroutine of a server (its
	// connections, the simulator's background work) is labelled with the server it belongs to,
	// and a profile splits by server: go tool pprof -tagfocus server=sim.
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("server", "floor")))
	floorURL, stopFloor, err := floor.Serve()
	if err != nil {
		b.Fatal(err)
	}
	defer stopFloor()
	pprof.SetGoroutineLabels(pprof.WithLabels(ctx, pprof.Labels("server", "sim")))
	sim := simtest.Start(b, app.Options{DB: filepath.Join(b.TempDir(), "bench.db")})
	pprof.SetGoroutineLabels(ctx)
	prefix := "BENCH" + strconv.FormatInt(time.Now().UnixNano(), 36)

	floorClient, err := NewClient(floorURL, 16)
	if err != nil {
		b.Fatal(err)
	}
	simClient, err := NewClient(sim.URL, 16)
	if err != nil {
		b.Fatal(err)
	}
	// The query benchmarks read orders made through the API.
	if _, err := Drive(ctx, 16, queryOrders, func(i int) error {
		return Create(ctx, simClient, OrderNo(prefix+"Q", i))
	}); err != nil {
		b.Fatal(err)
	}

	var seq atomic.Int64
	queried := func(int) string { return OrderNo(prefix+"Q", rand.IntN(queryOrders)) }
	ops := []struct {
		name string
		call func(c *client.Client) func(int) error
		sign func(n int) ([]Signed, error)
	}{
		{"create", func(c *client.Client) func(int) error {
			return func(int) error { return Create(ctx, c, OrderNo(prefix+"C", int(seq.Add(1)))) }
		}, func(n int) ([]Signed, error) {
			return PresignCreates(simClient, prefix+"C", int(seq.Add(int64(n)))-n, n)
		}},
		{"query", func(c *client.Client) func(int) error {
			return func(int) error { return Query(ctx, c, queried(0)) }
		}, func(n int) ([]Signed, error) { return PresignQueries(simClient, n, queried) }},
	}
	for _, op := range ops {
		calls := callsFunc(func(int) (func(int) error, func(int) error, func() error, error) {
			return op.call(floorClient), op.call(simClient), nil, nil
		})
		if presign {
			calls = func(n int) (func(int) error, func(int) error, func() error, error) {
				reqs, err := op.sign(n)
				if err != nil {
					return nil, nil, nil, err
				}
				f, s := NewReplay(floorClient, reqs), NewReplay(simClient, reqs)
				return f.Call(ctx), s.Call(ctx), func() error { return errors.Join(f.Check(), s.Check()) }, nil
			}
		}
		for _, conc := range []int{1, 16} {
			b.Run(fmt.Sprintf("%s/c=%d", op.name, conc), func(b *testing.B) { benchmarkCall(b, calls, conc) })
		}
	}
}

// benchmarkCall makes b.N calls to each server from conc clients and reports them.
func benchmarkCall(b *testing.B, calls callsFunc, conc int) {
	ctx := context.Background()
	// Warm both: connections, caches.
	warmFloor, warmSim, warmCheck, err := calls(2 * conc)
	if err != nil {
		b.Fatal(err)
	}
	if _, _, err := Compare(ctx, conc, 2*conc, conc, warmFloor, warmSim); err != nil {
		b.Fatal(err)
	}
	floorCall, simCall, check, err := calls(b.N)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	f, s, err := Compare(ctx, conc, b.N, 10*conc, floorCall, simCall)
	if err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	for _, c := range []func() error{warmCheck, check} {
		if c != nil {
			if err := c(); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(s.Rate(), "calls/s")
	b.ReportMetric(ms(s.Pct(.5)), "p50_ms")
	b.ReportMetric(ms(s.Pct(.99)), "p99_ms")
	b.ReportMetric(f.Rate(), "floor_calls/s")
	b.ReportMetric(ms(f.Pct(.5)), "floor_p50_ms")
	b.ReportMetric(ms(f.Pct(.99)), "floor_p99_ms")
	b.ReportMetric(s.Rate()/f.Rate(), "floor_ratio")
	b.ReportMetric(float64(s.Pct(.99))/float64(f.Pct(.99)), "p99_ratio")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
