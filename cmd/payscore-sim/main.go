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
	"syscall"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
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

func serve(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", envOr(getenv, "PAYSCORE_SIM_ADDR", "127.0.0.1:8080"), "listen address; port 0 picks a free port (env PAYSCORE_SIM_ADDR)")
	db := fs.String("db", envOr(getenv, "PAYSCORE_SIM_DB", "payscore-sim.db"), "SQLite database file, or :memory: (env PAYSCORE_SIM_DB)")
	cfg := fs.String("config", envOr(getenv, "PAYSCORE_SIM_CONFIG", ""), "YAML file of merchants beside the demo merchant (env PAYSCORE_SIM_CONFIG)")
	notifySchedule := fs.String("notify-schedule", envOr(getenv, "PAYSCORE_SIM_NOTIFY_SCHEDULE", "payscore"),
		"notification retry schedule: payscore, apiv3, fast, or a list of waits like 1s,5s,30s (env PAYSCORE_SIM_NOTIFY_SCHEDULE)")
	controlToken := fs.String("control-token", envOr(getenv, "PAYSCORE_SIM_CONTROL_TOKEN", ""), "token the control API, pages and dashboard require; set it when the address is not loopback (env PAYSCORE_SIM_CONTROL_TOKEN)")
	deductionDelay := fs.String("deduction-delay", envOr(getenv, "PAYSCORE_SIM_DEDUCTION_DELAY", simulator.DefaultDeductionDelay.String()),
		"how long after complete or /pay Pay Score deducts, for merchants without a deduction_delay setting (env PAYSCORE_SIM_DEDUCTION_DELAY)")
	seed := newSeedFlag(getenv("PAYSCORE_SIM_SEED"))
	fs.Var(seed, "seed", "seed file of merchants, authorizations and orders to prepare; repeat or separate with commas (env PAYSCORE_SIM_SEED)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	seeds, err := loadSeeds(seed.files)
	if err != nil {
		return err
	}
	delay, err := time.ParseDuration(*deductionDelay)
	if err != nil || delay <= 0 {
		return fmt.Errorf("--deduction-delay %q: must be a positive duration such as 200ms: the deduction comes after the call", *deductionDelay)
	}
	schedule, err := simulator.ParseRetrySchedule(*notifySchedule)
	if err != nil {
		return fmt.Errorf("--notify-schedule: %w", err)
	}
	var merchants []*simulator.Merchant
	if *cfg != "" {
		if merchants, err = loadConfig(*cfg); err != nil {
			return err
		}
	}
	merchants = append(merchants, seeds.merchants...)
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	a, err := app.Open(ctx, app.Options{Addr: *addr, DB: *db, Merchants: merchants, Logger: logger, NotifySchedule: schedule, ControlToken: *controlToken, DeductionDelay: delay})
	if err != nil {
		return err
	}
	seeded, err := seeds.apply(ctx, a.Server.Service)
	if err != nil {
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		return errors.Join(err, a.Close(shutdown))
	}
	fmt.Fprintf(stdout, "payscore-sim listening on %s (database %s, %d merchants; demo credentials at %[1]s/sim/v1/demo-credentials)\n",
		a.URL(), *db, len(a.Merchants.All()))
	for _, line := range seeded {
		fmt.Fprintln(stdout, line)
	}
	if *controlToken == "" && !loopback(*addr) {
		logger.Warn("the control API, pages and dashboard are open to anyone who reaches " + *addr + ": set --control-token")
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
