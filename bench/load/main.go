// Command load measures a built payscore-sim binary over loopback, every figure beside a
// reference measured in the same run (the machines this runs on are shared and noisy):
//
//   - start-up: process start to the first GET /healthz 200, on a fresh database and on a
//     100k-order one, beside the floor server's (bench/floorserver);
//   - signed create and signed query at 1 and 16 concurrent clients: calls/s, p50 and p99 and
//     the server process's CPU per call, beside the floor server under the same load, in
//     alternating blocks; once signing each request in the measured call as an SDK does
//     (throughput), once with every request signed before the measurement (presigned), so that
//     the client's RSA work does not take the cores the server needs;
//   - query latency on a 1k-order and on a 1M-order database, beside the floor;
//   - peak RSS idle and under load on a 100k-order database, beside the floor server's;
//   - the scenario library's wall time, when payscore-sim has a scenario command.
//
// Databases are populated through bench.Populate (orders made by simulator.Service.CreateOrder,
// stored in batches by sqlite.DB.ImportOrders, no HTTP). It builds the binaries itself unless
// given:
//
//	go run ./bench/load                       # everything: 4-6 minutes, 6 GB of temporary disk
//	go run ./bench/load -only ready,throughput -n 1000
//	go run ./bench/load -only presigned -n 3000
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/payscore-sim/payscore-sim/bench"
)

type config struct {
	sim, floor, dir string
	keep            bool
	only            map[string]bool
	starts          int
	n, block        int
	readyOrders     int
	small, big      int
	latencyN        int
	rssCalls        int
	populated       map[int]populated
	workers         int
	jsonOut         string
}

func main() {
	var c config
	only := flag.String("only", "ready,throughput,presigned,latency,rss,scenarios", "comma-separated parts to run")
	flag.StringVar(&c.sim, "sim", "", "payscore-sim binary (default: go build ./cmd/payscore-sim)")
	flag.StringVar(&c.floor, "floor", "", "floorserver binary (default: go build ./bench/floorserver)")
	flag.StringVar(&c.dir, "dir", "", "work directory for binaries and databases (default: a new temporary one)")
	flag.BoolVar(&c.keep, "keep", false, "keep the work directory")
	flag.IntVar(&c.starts, "starts", 20, "start-ups measured per server and database")
	flag.IntVar(&c.n, "n", 1500, "signed calls per throughput measurement")
	flag.IntVar(&c.block, "block", 10, "calls per client in each alternating block of a comparison")
	flag.IntVar(&c.readyOrders, "ready-orders", 100_000, "orders in the database of the second start-up measurement")
	flag.IntVar(&c.small, "small", 1_000, "orders in the small database of the latency measurement")
	flag.IntVar(&c.big, "big", 1_000_000, "orders in the big database of the latency measurement")
	flag.IntVar(&c.latencyN, "latency-n", 1500, "queries per database (and to the floor) in the latency measurement")
	flag.IntVar(&c.rssCalls, "rss-calls", 4000, "signed creates, and as many queries, per round of the memory measurement (2 rounds)")
	flag.IntVar(&c.workers, "populate-workers", 2, "goroutines populating a database")
	flag.StringVar(&c.jsonOut, "json", "", "also write the results as JSON to this file")
	flag.Parse()
	c.only = map[string]bool{}
	for _, p := range strings.Split(*only, ",") {
		c.only[strings.TrimSpace(p)] = true
	}
	ctx, cancel := signalContext()
	defer cancel()
	if err := run(ctx, &c); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func signalContext() (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		select {
		case <-ch:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// report collects the results, printed as Markdown at the end.
type report struct {
	Machine  map[string]string `json:"machine"`
	Sections []section         `json:"sections"`
}

type section struct {
	Title string     `json:"title"`
	Head  []string   `json:"head"`
	Rows  [][]string `json:"rows"`
	Notes []string   `json:"notes,omitempty"`
}

func (r *report) add(s section) {
	r.Sections = append(r.Sections, s)
	fmt.Fprintln(os.Stderr, s.markdown())
}

func (s section) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### %s\n\n| %s |\n|%s\n", s.Title, strings.Join(s.Head, " | "), strings.Repeat("---|", len(s.Head)))
	for _, row := range s.Rows {
		fmt.Fprintf(&b, "| %s |\n", strings.Join(row, " | "))
	}
	for _, n := range s.Notes {
		fmt.Fprintf(&b, "\n%s\n", n)
	}
	return b.String()
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

func run(ctx context.Context, c *config) error {
	start := time.Now()
	if c.dir == "" {
		d, err := os.MkdirTemp("", "payscore-load-")
		if err != nil {
			return err
		}
		c.dir = d
	}
	if !c.keep {
		defer os.RemoveAll(c.dir)
	}
	if err := buildBinaries(ctx, c); err != nil {
		return err
	}
	rep := &report{Machine: machine()}
	rep.Machine["load average at start"] = loadavg()
	logf("work directory %s; machine %v", c.dir, rep.Machine)

	parts := []struct {
		name string
		fn   func(context.Context, *config, *report) error
	}{
		{"ready", readiness},
		{"throughput", throughput},
		{"presigned", presigned},
		{"latency", latency},
		{"rss", memory},
		{"scenarios", scenarios},
	}
	for _, p := range parts {
		if !c.only[p.name] {
			continue
		}
		t := time.Now()
		logf("== %s", p.name)
		if err := p.fn(ctx, c, rep); err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		logf("== %s took %s", p.name, time.Since(t).Round(time.Second))
	}
	rep.Machine["load average at end"] = loadavg()
	rep.Machine["total wall time"] = time.Since(start).Round(time.Second).String()

	fmt.Printf("## Machine\n\n")
	for _, k := range slices.Sorted(maps.Keys(rep.Machine)) {
		fmt.Printf("- %s: %s\n", k, rep.Machine[k])
	}
	fmt.Println()
	for _, s := range rep.Sections {
		fmt.Println(s.markdown())
	}
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(c.jsonOut, b, 0o644)
	}
	return nil
}

func buildBinaries(ctx context.Context, c *config) error {
	for _, b := range []struct {
		bin *string
		pkg string
	}{{&c.sim, "./cmd/payscore-sim"}, {&c.floor, "./bench/floorserver"}} {
		if *b.bin != "" {
			continue
		}
		*b.bin = filepath.Join(c.dir, filepath.Base(b.pkg))
		logf("go build -o %s %s", *b.bin, b.pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", *b.bin, b.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("build %s (run from the repository root): %w", b.pkg, err)
		}
	}
	return nil
}

func machine() map[string]string {
	m := map[string]string{
		"nproc":          strconv.Itoa(runtime.NumCPU()),
		"GOMAXPROCS":     strconv.Itoa(runtime.GOMAXPROCS(0)),
		"load generator": runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH,
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m["CPU"] = strings.TrimSpace(v)
				break
			}
		}
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		m["go"] = strings.TrimSpace(string(out))
	}
	return m
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

// --- load ---

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

func pctOf(a, b float64) string { return fmt.Sprintf("%.0f%%", 100*a/b) }

func ratio(a, b float64) string { return fmt.Sprintf("%.2f×", a/b) }

func mark(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

// --- parts ---

// populated is a database file of orders OrderNo("P", 0..n-1) and how long it took to make.
type populated struct {
	path string
	took time.Duration
}

// database returns a database of n orders, made once per run. A bigger one starts as a copy of
// the biggest smaller one made before it, so that the million-order database reuses the
// hundred-thousand-order one.
func database(ctx context.Context, c *config, n int) (populated, error) {
	if c.populated == nil {
		c.populated = map[int]populated{}
	}
	if p, ok := c.populated[n]; ok {
		return p, nil
	}
	p := populated{path: filepath.Join(c.dir, fmt.Sprintf("orders-%d.db", n))}
	start := time.Now()
	from := 0
	for m, q := range c.populated {
		if m < n && m > from {
			if err := copyFile(q.path, p.path); err != nil {
				return p, err
			}
			from, p.took = m, q.took
		}
	}
	logf("populating orders %d to %d of %s", from, n, p.path)
	if err := bench.Populate(ctx, p.path, "P", from, n, c.workers, progress(filepath.Base(p.path))); err != nil {
		return p, err
	}
	p.took += time.Since(start)
	logf("%s: %d orders, %s", p.path, n, p.took.Round(time.Second))
	c.populated[n] = p
	return p, nil
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func readiness(ctx context.Context, c *config, rep *report) error {
	db, err := database(ctx, c, c.readyOrders)
	if err != nil {
		return err
	}
	// A copy, so that the start-ups find the same file each time.
	hundredK := filepath.Join(c.dir, "ready.db")
	if err := copyFile(db.path, hundredK); err != nil {
		return err
	}
	var floor, fresh, full []time.Duration
	for i := range c.starts {
		// Interleaved, so that a noisy moment hits all three alike.
		d, err := timeToReady(ctx, c.floor)
		if err != nil {
			return err
		}
		floor = append(floor, d)
		d, err = timeToReady(ctx, c.sim, "serve", "--db", filepath.Join(c.dir, fmt.Sprintf("fresh-%d.db", i)))
		if err != nil {
			return err
		}
		fresh = append(fresh, d)
		d, err = timeToReady(ctx, c.sim, "serve", "--db", hundredK)
		if err != nil {
			return err
		}
		full = append(full, d)
	}
	slices.Sort(floor)
	slices.Sort(fresh)
	slices.Sort(full)
	p := func(ds []time.Duration, q float64) time.Duration { return ds[min(len(ds)-1, int(float64(len(ds))*q))] }
	rep.add(section{
		Title: fmt.Sprintf("Start-up: process start to first /healthz 200 (%d starts each, interleaved)", c.starts),
		Head:  []string{"server", "median ms", "p90 ms", "min ms", "max ms", "median vs floor", "target"},
		Rows: [][]string{
			{"floor server (reference)", ms(p(floor, .5)), ms(p(floor, .9)), ms(floor[0]), ms(floor[len(floor)-1]), "1.00×", ""},
			{"payscore-sim, fresh database", ms(p(fresh, .5)), ms(p(fresh, .9)), ms(fresh[0]), ms(fresh[len(fresh)-1]),
				ratio(float64(p(fresh, .5)), float64(p(floor, .5))), "< 30 ms: " + mark(p(fresh, .5) < 30*time.Millisecond)},
			{fmt.Sprintf("payscore-sim, %d-order database", c.readyOrders), ms(p(full, .5)), ms(p(full, .9)), ms(full[0]), ms(full[len(full)-1]),
				ratio(float64(p(full, .5)), float64(p(floor, .5))), ""},
		},
		Notes: []string{fmt.Sprintf("The %d-order database was populated in %s (bench.Populate, %d workers).", c.readyOrders, db.took.Round(time.Second), c.workers)},
	})
	return nil
}

func progress(what string) func(int) {
	var last int
	return func(done int) {
		if done/100_000 > last/100_000 {
			logf("%s: %d orders", what, done)
		}
		last = done
	}
}

func latency(ctx context.Context, c *config, rep *report) error {
	smallDB, err := database(ctx, c, c.small)
	if err != nil {
		return err
	}
	bigDB, err := database(ctx, c, c.big)
	if err != nil {
		return err
	}
	var stops []func()
	defer func() {
		for _, stop := range stops {
			stop()
		}
	}()
	// The floor, then the simulator on the small and on the big database.
	var qs [3]func(int) error
	for i, s := range []struct {
		name   string
		bin    string
		orders int
		args   []string
	}{
		{"floor-latency", c.floor, 1, nil},
		{"sim-latency-small", c.sim, c.small, []string{"serve", "--db", smallDB.path}},
		{"sim-latency-big", c.sim, c.big, []string{"serve", "--db", bigDB.path}},
	} {
		srv, err := startServer(ctx, c, s.name, s.bin, s.args...)
		if err != nil {
			return err
		}
		stops = append(stops, srv.stop)
		if qs[i], err = latencyQueries(ctx, srv.url, s.orders); err != nil {
			return err
		}
	}
	m, err := latencyMeasure(ctx, c, qs[0], qs[1], qs[2])
	if err != nil {
		return err
	}
	rep.add(latencySection(c, m, bigDB))
	return nil
}

// latencyQueries returns a signed query of a random one of the server's orders.
func latencyQueries(ctx context.Context, url string, orders int) (func(int) error, error) {
	cl, err := bench.NewClient(url, 1)
	if err != nil {
		return nil, err
	}
	return func(int) error { return bench.Query(ctx, cl, bench.OrderNo("P", rand.IntN(orders))) }, nil
}

// latencyMeasure warms up, then runs small and big in alternating blocks, with the floor
// between the pairs, and returns the floor's, the small database's and the big one's results.
func latencyMeasure(ctx context.Context, c *config, floorQ, smallQ, bigQ func(int) error) ([]bench.Result, error) {
	// Warm-up, not measured.
	if _, _, err := bench.Compare(ctx, 1, 20, 20, smallQ, bigQ); err != nil {
		return nil, err
	}
	if _, err := bench.Drive(ctx, 1, 20, floorQ); err != nil {
		return nil, err
	}
	var fRes, sRes, bRes bench.Result
	for done := 0; done < c.latencyN; done += c.block {
		m := min(c.block, c.latencyN-done)
		s, b, err := bench.Compare(ctx, 1, m, m, smallQ, bigQ)
		if err != nil {
			return nil, err
		}
		f, err := bench.Drive(ctx, 1, m, floorQ)
		if err != nil {
			return nil, err
		}
		sRes.Add(s)
		bRes.Add(b)
		fRes.Add(f)
	}
	return []bench.Result{fRes, sRes, bRes}, nil
}

// latencySection is the table of latencyMeasure's results m.
func latencySection(c *config, m []bench.Result, bigDB populated) section {
	names := []string{"floor server (reference)", fmt.Sprintf("payscore-sim, %d orders", c.small), fmt.Sprintf("payscore-sim, %d orders", c.big)}
	sec := section{
		Title: fmt.Sprintf("Signed query latency by database size (1 client, %d queries of random existing orders per server, in alternating blocks of %d)", c.latencyN, c.block),
		Head:  []string{"server", "calls/s", "p50 ms", "p99 ms", "p50 vs small", "p99 vs small"},
	}
	for i, name := range names {
		row := []string{name, fmt.Sprintf("%.0f", m[i].Rate()), ms(m[i].Pct(.5)), ms(m[i].Pct(.99)), "", ""}
		if i > 0 {
			row[4] = ratio(float64(m[i].Pct(.5)), float64(m[1].Pct(.5)))
			row[5] = ratio(float64(m[i].Pct(.99)), float64(m[1].Pct(.99)))
		}
		sec.Rows = append(sec.Rows, row)
	}
	flat := float64(m[2].Pct(.5)) <= 1.1*float64(m[1].Pct(.5))
	var size string
	if st, err := os.Stat(bigDB.path); err == nil {
		size = fmt.Sprintf(" (%.0f MB)", float64(st.Size())/1e6)
	}
	sec.Notes = []string{
		fmt.Sprintf("Populating the %d-order database%s took %s in all (bench.Populate: orders made by simulator.Service.CreateOrder, stored by sqlite.DB.ImportOrders 500 to a transaction, %d workers; it started as a copy of the %d-order one when that was made first).",
			c.big, size, bigDB.took.Round(time.Second), c.workers, c.readyOrders),
		fmt.Sprintf("Flat latency (1M p50 within 10%% of 1k p50): %s.", mark(flat)),
	}
	return sec
}

func scenarios(ctx context.Context, c *config, rep *report) error {
	sec := section{Title: "Scenario library", Head: []string{"what", "result"}}
	dir := filepath.Join("fixtures", "scenarios")
	probe, _ := exec.CommandContext(ctx, c.sim, "scenario", "--help").CombinedOutput()
	if _, err := os.Stat(dir); err != nil || strings.Contains(string(probe), "unknown command") {
		sec.Rows = append(sec.Rows, []string{"payscore-sim scenario run " + dir, "skipped: the scenario command or " + dir + " does not exist yet"})
		rep.add(sec)
		return nil
	}
	// References for what a scenario does: start a fresh simulator, then make signed calls.
	ready, err := timeToReady(ctx, c.sim, "serve", "--db", filepath.Join(c.dir, "scenario-ref.db"))
	if err != nil {
		return err
	}
	fl, err := startServer(ctx, c, "floor-scenarios", c.floor)
	if err != nil {
		return err
	}
	floorClient, err := bench.NewClient(fl.url, 1)
	if err != nil {
		fl.stop()
		return err
	}
	floorCalls, err := bench.Drive(ctx, 1, 200, func(int) error { return bench.Query(ctx, floorClient, "FLOOR") })
	fl.stop()
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	t := time.Now()
	out, err := exec.CommandContext(sctx, c.sim, "scenario", "run", dir).CombinedOutput()
	wall := time.Since(t)
	status := "passed"
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		status = fmt.Sprintf("exit status %d", exit.ExitCode())
	case err != nil:
		return err
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	sec.Rows = append(sec.Rows,
		[]string{"payscore-sim scenario run " + dir, fmt.Sprintf("%s wall, %s; last line: %s", wall.Round(time.Millisecond), status, lines[len(lines)-1])},
		[]string{"reference: one payscore-sim start to /healthz 200 (fresh database), same run", ms(ready) + " ms"},
		[]string{"reference: one signed call to the floor at 1 client (p50 of 200), same run", ms(floorCalls.Pct(.5)) + " ms"},
	)
	rep.add(sec)
	return nil
}
