package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/payscore-sim/payscore-sim/bench"
)

func memory(ctx context.Context, c *config, rep *report) error {
	db, err := database(ctx, c, c.readyOrders)
	if err != nil {
		return err
	}
	path := filepath.Join(c.dir, "rss.db")
	if err := copyFile(db.path, path); err != nil {
		return err
	}
	sim, err := startServer(ctx, c, "sim-rss", c.sim, "serve", "--db", path)
	if err != nil {
		return err
	}
	defer sim.stop()
	fl, err := startServer(ctx, c, "floor-rss", c.floor)
	if err != nil {
		return err
	}
	defer fl.stop()
	time.Sleep(time.Second)
	type reading struct{ hwm, rss int64 }
	read := func() (s, f reading, err error) {
		if s.hwm, s.rss, err = sim.memory(); err != nil {
			return
		}
		f.hwm, f.rss, err = fl.memory()
		return
	}
	simIdle, flIdle, err := read()
	if err != nil {
		return err
	}
	simClient, err := bench.NewClient(sim.url, 16)
	if err != nil {
		return err
	}
	floorClient, err := bench.NewClient(fl.url, 16)
	if err != nil {
		return err
	}
	runID := "M" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var simRounds, flRounds []reading
	var simCalls, flCalls bench.Result
	for round := range 2 {
		logf("memory round %d: %d creates and %d queries of random orders at 16 clients", round+1, c.rssCalls, c.rssCalls)
		f, s, err := bench.Compare(ctx, 16, c.rssCalls, c.block*16,
			func(int) error { return bench.Create(ctx, floorClient, "FLOOR") },
			func(i int) error { return bench.Create(ctx, simClient, bench.OrderNo(runID, round*c.rssCalls+i)) })
		if err != nil {
			return err
		}
		flCalls.Add(f)
		simCalls.Add(s)
		f, s, err = bench.Compare(ctx, 16, c.rssCalls, c.block*16,
			func(int) error { return bench.Query(ctx, floorClient, "FLOOR") },
			func(int) error { return bench.Query(ctx, simClient, bench.OrderNo("P", rand.IntN(c.readyOrders))) })
		if err != nil {
			return err
		}
		flCalls.Add(f)
		simCalls.Add(s)
		sr, fr, err := read()
		if err != nil {
			return err
		}
		simRounds, flRounds = append(simRounds, sr), append(flRounds, fr)
	}
	mb := func(kb int64) string { return fmt.Sprintf("%.1f", float64(kb)/1024) }
	row := func(name string, idle reading, rounds []reading, res bench.Result, target string) []string {
		return []string{name, mb(idle.hwm) + " / " + mb(idle.rss), mb(rounds[0].hwm) + " / " + mb(rounds[0].rss),
			mb(rounds[1].hwm) + " / " + mb(rounds[1].rss), fmt.Sprintf("%.0f, %s", res.Rate(), ms(res.Pct(.99))), target}
	}
	var wal string
	if st, err := os.Stat(path + "-wal"); err == nil {
		wal = fmt.Sprintf(" Its WAL file was %.1f MB at the end.", float64(st.Size())/1e6)
	}
	rep.add(section{
		Title: fmt.Sprintf("Memory: peak RSS (VmHWM) / RSS (VmRSS) in MB from /proc/PID/status; payscore-sim serving a %d-order database", c.readyOrders),
		Head: []string{"server", "idle", fmt.Sprintf("after round 1: %d creates + %d queries", c.rssCalls, c.rssCalls),
			"after round 2: as many again", "calls/s, p99 ms (16 clients)", "target"},
		Rows: [][]string{
			row("floor server (reference)", flIdle, flRounds, flCalls, ""),
			row("payscore-sim", simIdle, simRounds, simCalls, "< 60 MB: "+mark(simRounds[1].hwm < 60*1024)),
		},
		Notes: []string{fmt.Sprintf("The floor gets the same calls in alternating blocks. payscore-sim ends with %d orders; the queries pick orders across all of them.%s",
			c.readyOrders+2*c.rssCalls, wal)},
	})
	return nil
}
