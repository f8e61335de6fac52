// Command load measures a built payscore-sim binary over loopback, every figure beside a
// reference measured in the same run (the machines this runs on are shared and noisy):
//
//   - start-up: process start to the first GET /healthz 200, on a fresh database and on a
//     100k-order one, beside the floor server's (bench/floorserver);
//   - signed create and signed query at 1 and 16 concurrent clients: calls/s, p50 and p99,
//     beside the floor server under the same load, in alternating blocks;
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
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/payscore-sim/payscore-sim/bench"
	"github.com/payscore-sim/payscore-sim/simulator/client"
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
	only := flag.String("only", "ready,throughput,latency,rss,scenarios", "comma-separated parts to run")
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

// --- processes ---

// proc is a server process this program started.
type proc struct {
	name string
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

var listening = regexp.MustCompile(`listening on (http://\S+)`)

// startServer starts bin with args plus --addr on a free port, and waits for its startup line.
func startServer(ctx context.Context, c *config, name, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, append(args, "--addr", "127.0.0.1:0")...)
	logFile, err := os.OpenFile(filepath.Join(c.dir, name+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stderr = logFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		logFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, err
	}
	p := &proc{name: name, cmd: cmd, done: make(chan struct{})}
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if m := listening.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case found <- m[1]:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
	}()
	go func() {
		cmd.Wait()
		logFile.Close()
		close(p.done)
	}()
	select {
	case p.url = <-found:
		return p, nil
	case <-p.done:
		return nil, fmt.Errorf("%s exited before listening; see %s.log", name, filepath.Join(c.dir, name))
	case <-time.After(30 * time.Second):
		p.stop()
		return nil, fmt.Errorf("%s did not print its listening line within 30 s", name)
	case <-ctx.Done():
		p.stop()
		return nil, ctx.Err()
	}
}

// stop asks the process to shut down, and kills it after 15 s.
func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// memory returns VmHWM (peak RSS) and VmRSS in kB.
func (p *proc) memory() (hwm, rss int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.Lines(string(b)) {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		switch k {
		case "VmHWM":
			hwm = n
		case "VmRSS":
			rss = n
		}
	}
	return hwm, rss, nil
}

// cpu returns the user and system CPU time the process has used.
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name, in parentheses, may hold spaces; the fields after it are fixed.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("short /proc/%d/stat", p.cmd.Process.Pid)
	}
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	// USER_HZ is 100 on Linux.
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// timeToReady starts bin with args plus --addr and returns the time from just before the
// fork to the first GET /healthz answered 200, polling every 200 µs.
func timeToReady(ctx context.Context, bin string, args ...string) (time.Duration, error) {
	addr, err := freeAddr()
	if err != nil {
		return 0, err
	}
	hc := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 2 * time.Second}
	var stderr bytes.Buffer
	cmd := exec.Command(bin, append(args, "--addr", addr)...)
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		waited := make(chan struct{})
		go func() { cmd.Wait(); close(waited) }()
		select {
		case <-waited:
		case <-time.After(15 * time.Second):
			_ = cmd.Process.Kill()
			<-waited
		}
	}()
	for time.Since(start) < 20*time.Second && ctx.Err() == nil {
		resp, err := hc.Get("http://" + addr + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return time.Since(start), nil
			}
		}
		time.Sleep(200 * time.Microsecond)
	}
	return 0, fmt.Errorf("%s not ready after 20 s: %s", bin, stderr.String())
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

func throughput(ctx context.Context, c *config, rep *report) error {
	sim, err := startServer(ctx, c, "sim-throughput", c.sim, "serve", "--db", filepath.Join(c.dir, "throughput.db"))
	if err != nil {
		return err
	}
	defer sim.stop()
	fl, err := startServer(ctx, c, "floor-throughput", c.floor)
	if err != nil {
		return err
	}
	defer fl.stop()
	simClient, err := bench.NewClient(sim.url, 16)
	if err != nil {
		return err
	}
	floorClient, err := bench.NewClient(fl.url, 16)
	if err != nil {
		return err
	}
	runID := "L" + strconv.FormatInt(time.Now().UnixNano(), 36)
	var created atomic.Int64
	calls := map[string]func(cl *client.Client, sim bool) func(int) error{
		"create": func(cl *client.Client, isSim bool) func(int) error {
			return func(int) error {
				no := "FLOOR"
				if isSim {
					no = bench.OrderNo(runID, int(created.Add(1)-1))
				}
				return bench.Create(ctx, cl, no)
			}
		},
		"query": func(cl *client.Client, isSim bool) func(int) error {
			return func(int) error {
				return bench.Query(ctx, cl, bench.OrderNo(runID, rand.IntN(int(created.Load()))))
			}
		},
	}
	sec := section{
		Title: fmt.Sprintf("Signed calls over loopback (%d calls to each server per line, in alternating blocks of %d per client)", c.n, c.block),
		Head: []string{"call", "clients", "floor calls/s", "sim calls/s", "sim / floor", "floor p50 / p99 ms", "sim p50 / p99 ms", "sim p99 / floor p99",
			"server CPU ms/call floor / sim", "targets"},
	}
	for _, op := range []string{"create", "query"} {
		for _, conc := range []int{1, 16} {
			// Warm-up, not measured: connections, caches.
			if _, _, err := bench.Compare(ctx, conc, 4*conc, conc, calls[op](floorClient, false), calls[op](simClient, true)); err != nil {
				return fmt.Errorf("%s c=%d: %w", op, conc, err)
			}
			fCPU0, err := fl.cpu()
			if err != nil {
				return err
			}
			sCPU0, err := sim.cpu()
			if err != nil {
				return err
			}
			f, s, err := bench.Compare(ctx, conc, c.n, c.block*conc, calls[op](floorClient, false), calls[op](simClient, true))
			if err != nil {
				return fmt.Errorf("%s c=%d: %w", op, conc, err)
			}
			fCPU1, err := fl.cpu()
			if err != nil {
				return err
			}
			sCPU1, err := sim.cpu()
			if err != nil {
				return err
			}
			fPer, sPer := (fCPU1-fCPU0)/time.Duration(f.Calls), (sCPU1-sCPU0)/time.Duration(s.Calls)
			logf("%s c=%d: floor %.0f calls/s p50 %s p99 %s cpu %s; sim %.0f calls/s p50 %s p99 %s cpu %s", op, conc,
				f.Rate(), ms(f.Pct(.5)), ms(f.Pct(.99)), ms(fPer), s.Rate(), ms(s.Pct(.5)), ms(s.Pct(.99)), ms(sPer))
			want := map[string]float64{"create": .8, "query": .9}[op]
			rateOK := s.Rate()/f.Rate() >= want
			p99OK := float64(s.Pct(.99)) <= 1.5*float64(f.Pct(.99))
			sec.Rows = append(sec.Rows, []string{
				op, strconv.Itoa(conc),
				fmt.Sprintf("%.0f", f.Rate()), fmt.Sprintf("%.0f", s.Rate()), pctOf(s.Rate(), f.Rate()),
				ms(f.Pct(.5)) + " / " + ms(f.Pct(.99)), ms(s.Pct(.5)) + " / " + ms(s.Pct(.99)),
				ratio(float64(s.Pct(.99)), float64(f.Pct(.99))),
				ms(fPer) + " / " + ms(sPer),
				fmt.Sprintf("≥ %.0f%%: %s; p99 ≤ 1.5×: %s", want*100, mark(rateOK), mark(p99OK)),
			})
		}
	}
	sec.Notes = []string{"Both servers are separate processes started from their binaries; the load generator signs every request and verifies every response's signature, as an SDK does, over keep-alive connections. calls/s is calls over the summed wall time of a server's blocks; p50/p99 over all its calls. Server CPU is the server process's user+system time (/proc/PID/stat) over the measurement, per call: the figure least disturbed by other work on the machine."}
	rep.add(sec)
	return nil
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
	small, big := smallDB.path, bigDB.path
	fl, err := startServer(ctx, c, "floor-latency", c.floor)
	if err != nil {
		return err
	}
	defer fl.stop()
	simSmall, err := startServer(ctx, c, "sim-latency-small", c.sim, "serve", "--db", small)
	if err != nil {
		return err
	}
	defer simSmall.stop()
	simBig, err := startServer(ctx, c, "sim-latency-big", c.sim, "serve", "--db", big)
	if err != nil {
		return err
	}
	defer simBig.stop()
	queries := func(url string, orders int) (func(int) error, error) {
		cl, err := bench.NewClient(url, 1)
		if err != nil {
			return nil, err
		}
		return func(int) error { return bench.Query(ctx, cl, bench.OrderNo("P", rand.IntN(orders))) }, nil
	}
	floorQ, err := queries(fl.url, 1)
	if err != nil {
		return err
	}
	smallQ, err := queries(simSmall.url, c.small)
	if err != nil {
		return err
	}
	bigQ, err := queries(simBig.url, c.big)
	if err != nil {
		return err
	}
	// Warm-up, not measured.
	if _, _, err := bench.Compare(ctx, 1, 20, 20, smallQ, bigQ); err != nil {
		return err
	}
	if _, err := bench.Drive(ctx, 1, 20, floorQ); err != nil {
		return err
	}
	// Small and big alternate in blocks, and the floor runs between the pairs.
	var fRes, sRes, bRes bench.Result
	for done := 0; done < c.latencyN; done += c.block {
		m := min(c.block, c.latencyN-done)
		s, b, err := bench.Compare(ctx, 1, m, m, smallQ, bigQ)
		if err != nil {
			return err
		}
		f, err := bench.Drive(ctx, 1, m, floorQ)
		if err != nil {
			return err
		}
		sRes.Add(s)
		bRes.Add(b)
		fRes.Add(f)
	}
	m := []bench.Result{fRes, sRes, bRes}
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
	if st, err := os.Stat(big); err == nil {
		size = fmt.Sprintf(" (%.0f MB)", float64(st.Size())/1e6)
	}
	sec.Notes = []string{
		fmt.Sprintf("Populating the %d-order database%s took %s in all (bench.Populate: orders made by simulator.Service.CreateOrder, stored by sqlite.DB.ImportOrders 500 to a transaction, %d workers; it started as a copy of the %d-order one when that was made first).",
			c.big, size, bigDB.took.Round(time.Second), c.workers, c.readyOrders),
		fmt.Sprintf("Flat latency (1M p50 within 10%% of 1k p50): %s.", mark(flat)),
	}
	rep.add(sec)
	return nil
}

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
