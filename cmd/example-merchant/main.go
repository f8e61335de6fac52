// Command example-merchant is a small merchant back end that uses Pay Score through gopay
// (github.com/go-pay/gopay) the way a real one does, pointed at payscore-sim instead of
// WeChat Pay. docker-compose.yml runs it beside the simulator.
//
//	example-merchant [--addr 127.0.0.1:8081] [--simulator http://127.0.0.1:8080] [--public-url http://127.0.0.1:8081] [--control-token TOKEN]
//
// Each flag is also an environment variable: EXAMPLE_MERCHANT_ADDR,
// EXAMPLE_MERCHANT_SIMULATOR_URL, EXAMPLE_MERCHANT_PUBLIC_URL, EXAMPLE_MERCHANT_CONTROL_TOKEN.
//
// Its API:
//
//	POST /orders                  {"amount": 300} → 201 {"out_order_no", "package", "open_business_view", ...}
//	POST /orders/{no}/complete    {"amount": 250} (optional) → the completed order
//	GET  /orders/{no}             the order as WeChat Pay knows it, with its notifications
//	POST /payscore/notify         the notify_url: verified, decrypted, recorded
//	GET  /notifications           what the notify_url received
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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Getenv); err != nil {
		fmt.Fprintln(os.Stderr, "example-merchant:", err)
		os.Exit(1)
	}
}

// options are the command's flags.
type options struct {
	Addr         string
	SimulatorURL string
	PublicURL    string
	ControlToken string
}

// parseOptions reads the flags, which default to the EXAMPLE_MERCHANT_* environment.
func parseOptions(args []string, getenv func(string) string) (options, error) {
	env := func(key, def string) string {
		if v := getenv(key); v != "" {
			return v
		}
		return def
	}
	var o options
	fs := flag.NewFlagSet("example-merchant", flag.ContinueOnError)
	fs.StringVar(&o.Addr, "addr", env("EXAMPLE_MERCHANT_ADDR", "127.0.0.1:8081"), "listen address (env EXAMPLE_MERCHANT_ADDR)")
	fs.StringVar(&o.SimulatorURL, "simulator", env("EXAMPLE_MERCHANT_SIMULATOR_URL", "http://127.0.0.1:8080"), "the simulator's URL (env EXAMPLE_MERCHANT_SIMULATOR_URL)")
	fs.StringVar(&o.PublicURL, "public-url", env("EXAMPLE_MERCHANT_PUBLIC_URL", ""), "this service's URL as the simulator reaches it, for notify_url; default http://ADDR (env EXAMPLE_MERCHANT_PUBLIC_URL)")
	fs.StringVar(&o.ControlToken, "control-token", env("EXAMPLE_MERCHANT_CONTROL_TOKEN", ""), "the simulator's --control-token, sent on its control API calls (env EXAMPLE_MERCHANT_CONTROL_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if o.PublicURL == "" {
		host, _, err := net.SplitHostPort(o.Addr)
		if err != nil {
			return o, fmt.Errorf("--addr: %w", err)
		}
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			return o, errors.New("--public-url is needed when listening on all interfaces: the simulator must know where to send notifications")
		}
		o.PublicURL = "http://" + o.Addr
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer, getenv func(string) string) error {
	o, err := parseOptions(args, getenv)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	m, err := New(ctx, Config{SimulatorURL: o.SimulatorURL, PublicURL: o.PublicURL, ControlToken: o.ControlToken, Logger: logger})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "example-merchant listening on http://%s (WeChat Pay at %s, notify_url %s)\n", ln.Addr(), o.SimulatorURL, m.NotifyURL())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
