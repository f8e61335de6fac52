package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
	scenariorun "github.com/payscore-sim/payscore-sim/simulator/scenario/run"
)

const scenarioUsage = "usage: payscore-sim scenario run [--target URL [--control-token T]] [--junit FILE] [-parallel N] PATH... (fixture files or folders)"

const scenarioHelp = `Runs the scenario fixtures in PATH (files, or folders of *.yaml), each against a fresh
in-process simulator, or all against a running one (--target), as merchants the run registers
there for itself, so that runs never see one another. Prints one line per scenario; exits 0
only when none failed. fixtures/README.md documents the format.`

// scenarioCmd serves `payscore-sim scenario run`.
func scenarioCmd(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	if len(args) == 0 || args[0] != "run" {
		return errors.New(scenarioUsage)
	}
	fs := flag.NewFlagSet("scenario run", flag.ContinueOnError)
	fs.SetOutput(stdout)
	target := fs.String("target", envOr(getenv, "PAYSCORE_SIM_TARGET", ""), "a running simulator's URL, such as http://127.0.0.1:8080; empty starts a fresh in-process simulator per scenario (env PAYSCORE_SIM_TARGET)")
	token := fs.String("control-token", envOr(getenv, "PAYSCORE_SIM_CONTROL_TOKEN", ""), "the target's control token (its serve --control-token), sent with every request (env PAYSCORE_SIM_CONTROL_TOKEN)")
	notifyHost := fs.String("notify-host", envOr(getenv, "PAYSCORE_SIM_NOTIFY_HOST", "127.0.0.1"), "the host the simulator reaches the runner's notification receiver by (env PAYSCORE_SIM_NOTIFY_HOST)")
	notifyAddr := fs.String("notify-addr", envOr(getenv, "PAYSCORE_SIM_NOTIFY_ADDR", ""), "where the notification receiver listens; default NOTIFY_HOST:0 for a loopback host, else :0 (env PAYSCORE_SIM_NOTIFY_ADDR)")
	junit := fs.String("junit", "", "write a JUnit XML report to this file")
	parallel := fs.Int("parallel", runtime.GOMAXPROCS(0), "how many scenarios run at once")
	timeout := fs.Duration("timeout", 2*time.Minute, "how long one scenario may take")
	verbose := fs.Bool("v", false, "show the in-process simulators' logs")
	fs.Usage = func() {
		fmt.Fprintln(stdout, scenarioUsage)
		fmt.Fprintln(stdout, scenarioHelp)
		fmt.Fprintln(stdout)
		fs.PrintDefaults()
	}
	// Flags may come before or after the paths.
	var paths []string
	rest := args[1:]
	for {
		if err := fs.Parse(rest); errors.Is(err, flag.ErrHelp) {
			return nil
		} else if err != nil {
			return err
		}
		rest = fs.Args()
		if len(rest) == 0 {
			break
		}
		paths = append(paths, rest[0])
		rest = rest[1:]
	}
	if len(paths) == 0 {
		return errors.New("scenario run: name the fixture files or folders to run; " + scenarioUsage)
	}
	files, notes, err := scenario.Load(paths...)
	for _, note := range notes {
		fmt.Fprintln(stdout, note)
	}
	if err != nil {
		return err
	}
	r := &scenariorun.Runner{
		Target: *target, ControlToken: *token, NotifyHost: *notifyHost, NotifyAddr: *notifyAddr,
		Parallel: *parallel, Timeout: *timeout, Out: stdout,
	}
	if *verbose {
		r.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	rep, err := r.Run(ctx, files)
	if err != nil {
		return err
	}
	if *junit != "" {
		if err := writeJUnit(*junit, rep); err != nil {
			return err
		}
	}
	if !rep.OK() {
		return fmt.Errorf("%d of %d scenarios failed", rep.Count(scenariorun.Fail), len(rep.Results))
	}
	return nil
}

func writeJUnit(path string, rep *scenariorun.Report) error {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("--junit: %w", err)
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--junit: %w", err)
	}
	if err := rep.WriteJUnit(f); err != nil {
		f.Close()
		return fmt.Errorf("--junit %s: %w", path, err)
	}
	return f.Close()
}
