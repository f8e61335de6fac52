// Command payscore-sim is a local, offline simulator of WeChat Pay Score.
//
//	payscore-sim [serve] [--addr 127.0.0.1:8080] [--db payscore-sim.db] [--config merchants.yaml] [--seed seed.yaml]
//	payscore-sim healthcheck [--addr 127.0.0.1:8080]
//	payscore-sim scenario run [--target URL] [--junit FILE] PATH...
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	simhttp "github.com/payscore-sim/payscore-sim/simulator/http"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		// The flag package has printed the usage, which was asked for: not a failure.
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "payscore-sim:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	cmd := "serve"
	if len(args) > 0 && args[0] != "" && args[0][0] != '-' {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, getenv)
	case "healthcheck":
		return healthcheck(ctx, args, stdout, getenv)
	case "scenario":
		return scenarioCmd(ctx, args, stdout, getenv)
	default:
		return fmt.Errorf("unknown command %q: the commands are serve, healthcheck and scenario", cmd)
	}
}

// envOr returns the environment's value for key, or def: flags default to PAYSCORE_SIM_*.
func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// serveOptions are serve's flags, parsed.
type serveOptions struct {
	addr, db, config, controlToken string
	schedule                       simulator.RetrySchedule
	deductionDelay                 time.Duration
	seeds, corsOrigins             []string
	maxConnections                 int
	notifyAllowLinkLocal           bool
	requestLog                     simulator.RequestRetention
}

func parseServeFlags(args []string, getenv func(string) string) (*serveOptions, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	o := &serveOptions{}
	fs.StringVar(&o.addr, "addr", envOr(getenv, "PAYSCORE_SIM_ADDR", "127.0.0.1:8080"), "listen address; port 0 picks a free port (env PAYSCORE_SIM_ADDR)")
	fs.StringVar(&o.db, "db", envOr(getenv, "PAYSCORE_SIM_DB", "payscore-sim.db"), "SQLite database file, or :memory: (env PAYSCORE_SIM_DB)")
	fs.StringVar(&o.config, "config", envOr(getenv, "PAYSCORE_SIM_CONFIG", ""), "YAML file of merchants beside the demo merchant (env PAYSCORE_SIM_CONFIG)")
	notifySchedule := fs.String("notify-schedule", envOr(getenv, "PAYSCORE_SIM_NOTIFY_SCHEDULE", "payscore"),
		"notification retry schedule: payscore, apiv3, fast, or a list of waits like 1s,5s,30s (env PAYSCORE_SIM_NOTIFY_SCHEDULE)")
	fs.StringVar(&o.controlToken, "control-token", envOr(getenv, "PAYSCORE_SIM_CONTROL_TOKEN", ""), "token the control API, pages and dashboard require; set it when the address is not loopback (env PAYSCORE_SIM_CONTROL_TOKEN)")
	deductionDelay := fs.String("deduction-delay", envOr(getenv, "PAYSCORE_SIM_DEDUCTION_DELAY", simulator.DefaultDeductionDelay.String()),
		"how long after complete or /pay Pay Score deducts, for merchants without a deduction_delay setting (env PAYSCORE_SIM_DEDUCTION_DELAY)")
	seed := newListFlag(getenv("PAYSCORE_SIM_SEED"))
	fs.Var(seed, "seed", "seed file of merchants, authorizations and orders to prepare; repeat or separate with commas (env PAYSCORE_SIM_SEED)")
	cors := newListFlag(getenv("PAYSCORE_SIM_CORS_ORIGIN"))
	fs.Var(cors, "cors-origin", "origin (scheme://host:port) of a web page that may call the control API besides loopback pages, as the H5 shim does; repeat or separate with commas (env PAYSCORE_SIM_CORS_ORIGIN)")
	fs.BoolVar(&o.notifyAllowLinkLocal, "notify-allow-link-local", getenv("PAYSCORE_SIM_NOTIFY_ALLOW_LINK_LOCAL") == "1",
		"send notifications to link-local and cloud metadata addresses (169.254.0.0/16, ...), refused by default (env PAYSCORE_SIM_NOTIFY_ALLOW_LINK_LOCAL=1)")
	maxConnections, err := envInt(getenv, "PAYSCORE_SIM_MAX_CONNECTIONS", simhttp.DefaultMaxConnections)
	if err != nil {
		return nil, err
	}
	logRows, err := envInt(getenv, "PAYSCORE_SIM_REQUEST_LOG_ROWS", simulator.DefaultRequestLogRows)
	if err != nil {
		return nil, err
	}
	logMiB, err := envInt(getenv, "PAYSCORE_SIM_REQUEST_LOG_MIB", simulator.DefaultRequestLogBytes>>20)
	if err != nil {
		return nil, err
	}
	fs.IntVar(&o.requestLog.Rows, "request-log-rows", logRows, "requests the request log keeps; older ones go (env PAYSCORE_SIM_REQUEST_LOG_ROWS)")
	fs.IntVar(&logMiB, "request-log-mib", logMiB, "MiB of text the request log keeps; older requests go (env PAYSCORE_SIM_REQUEST_LOG_MIB)")
	fs.IntVar(&o.maxConnections, "max-connections", maxConnections,
		"HTTP connections open at once; at the cap a new one replaces the longest idle (env PAYSCORE_SIM_MAX_CONNECTIONS)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if o.requestLog.Rows < 1 || logMiB < 1 {
		return nil, fmt.Errorf("--request-log-rows %d and --request-log-mib %d: each must be at least 1", o.requestLog.Rows, logMiB)
	}
	o.requestLog.Bytes = int64(logMiB) << 20
	if o.maxConnections < 1 {
		return nil, fmt.Errorf("--max-connections %d: must be at least 1", o.maxConnections)
	}
	if err := refuseEmpty(fs, "db", "give a database file, or :memory: for one that keeps nothing"); err != nil {
		return nil, err
	}
	if err := refuseEmpty(fs, "control-token", "give a token, or leave the flag out to serve without one"); err != nil {
		return nil, err
	}
	if o.deductionDelay, err = time.ParseDuration(*deductionDelay); err != nil || o.deductionDelay <= 0 {
		return nil, fmt.Errorf("--deduction-delay %q: must be a positive duration such as 200ms: the deduction comes after the call", *deductionDelay)
	}
	if o.schedule, err = simulator.ParseRetrySchedule(*notifySchedule); err != nil {
		return nil, fmt.Errorf("--notify-schedule: %w", err)
	}
	o.seeds, o.corsOrigins = seed.values, cors.values
	return o, nil
}

// refuseEmpty refuses a flag given with an empty value, which would otherwise mean its default
// (or, for --control-token, no token at all) without a word.
func refuseEmpty(fs *flag.FlagSet, name, hint string) error {
	var err error
	fs.Visit(func(f *flag.Flag) {
		if f.Name == name && f.Value.String() == "" {
			err = fmt.Errorf("--%s is empty: %s", name, hint)
		}
	})
	return err
}

// envInt is envOr for a whole number.
func envInt(getenv func(string) string, key string, def int) (int, error) {
	v := getenv(key)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, fmt.Errorf("%s=%q: must be a whole number", key, v)
	}
	return n, nil
}

func serve(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	o, err := parseServeFlags(args, getenv)
	if err != nil {
		return err
	}
	seeds, err := loadSeeds(o.seeds)
	if err != nil {
		return err
	}
	var merchants []*simulator.Merchant
	corsOrigins := o.corsOrigins
	if o.config != "" {
		cfg, err := loadConfig(o.config)
		if err != nil {
			return err
		}
		merchants, corsOrigins = cfg.merchants, append(cfg.corsOrigins, corsOrigins...)
	}
	merchants = append(merchants, seeds.merchants...)
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := app.Open(ctx, app.Options{Addr: o.addr, DB: o.db, Merchants: merchants, Logger: logger,
		NotifySchedule: o.schedule, ControlToken: o.controlToken, CORSOrigins: corsOrigins, DeductionDelay: o.deductionDelay,
		MaxConnections: o.maxConnections, NotifyAllowLinkLocal: o.notifyAllowLinkLocal, RequestLog: o.requestLog})
	if err != nil {
		return err
	}
	seeded, err := seeds.apply(ctx, a.Server.Service, a.Server.Refunds)
	if err != nil {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(err, a.Close(shutdown))
	}
	fmt.Fprintf(stdout, "payscore-sim listening on %s (database %s, %d merchants; demo credentials at %[1]s/sim/v1/demo-credentials)\n",
		a.URL(), o.db, len(a.Merchants.All()))
	for _, line := range seeded {
		fmt.Fprintln(stdout, line)
	}
	if o.controlToken == "" && !loopback(o.addr) {
		logger.Warn("the control API, pages and dashboard are open to anyone who reaches " + o.addr + ": set --control-token")
	}
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return a.Close(shutdown)
}

// loopback reports whether addr listens on a loopback address only.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// healthcheck asks a running simulator's /healthz, so a container needs no curl.
func healthcheck(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	addr := fs.String("addr", envOr(getenv, "PAYSCORE_SIM_ADDR", "127.0.0.1:8080"), "the simulator's address (env PAYSCORE_SIM_ADDR)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+*addr+"/healthz", nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New("healthcheck: " + resp.Status)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}
