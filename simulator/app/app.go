// Package app assembles a whole simulator from its adapters: the wiring that cmd/payscore-sim
// serves and that tests start in-process.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	simhttp "github.com/payscore-sim/payscore-sim/simulator/http"
	"github.com/payscore-sim/payscore-sim/simulator/notify"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// Options configure a simulator. The zero value serves an in-memory simulator with only the
// demo merchant on a free loopback port.
type Options struct {
	Addr      string // default 127.0.0.1:0
	DB        string // default :memory:
	Merchants []*simulator.Merchant
	Logger    *slog.Logger

	// NotifySchedule is the notification retry schedule; nil means simulator.PayScoreSchedule.
	NotifySchedule simulator.RetrySchedule
	// NotifyClient sends notifications; nil means a client of the worker's own. Tests give one
	// that reaches loopback only.
	NotifyClient *http.Client
	// NotifyTimeout is how long a merchant has to answer a notification; zero means the
	// documented 5 s.
	NotifyTimeout time.Duration
	// NotifyAllowLinkLocal lets notifications go to link-local and cloud metadata addresses,
	// which are refused otherwise (see notify.Worker.AllowLinkLocal).
	NotifyAllowLinkLocal bool
	// ControlToken, when set, is required by the control API, the pages and the dashboard.
	ControlToken string
	// DeductionDelay is how long after complete or /pay Pay Score deducts, for merchants
	// without a delay of their own; zero means simulator.DefaultDeductionDelay.
	DeductionDelay time.Duration
	// CORSOrigins are the web origins, beside loopback pages, that may call the control API
	// from a browser (see simhttp.ParseOrigin).
	CORSOrigins []string
	// RequestLog bounds the request log; zero fields mean simulator.DefaultRequestLogRows and
	// DefaultRequestLogBytes.
	RequestLog simulator.RequestRetention
	// MaxConnections caps the HTTP connections open at once; zero means
	// simhttp.DefaultMaxConnections.
	MaxConnections int
}

// App is a running simulator.
type App struct {
	Server    *simhttp.Server
	DB        *sqlite.DB
	Merchants *simulator.Merchants
	Notifier  *notify.Worker
	// Deductions runs Pay Score's pending deductions when they come due.
	Deductions *simulator.DueRunner
	// RefundRunner settles refunds whose outcome is due.
	RefundRunner *simulator.DueRunner
}

// Open starts a simulator. The demo merchant is always present; opts.Merchants come beside it,
// then the merchants registered through the control API in earlier runs on the same database.
func Open(ctx context.Context, opts Options) (*App, error) {
	opts = opts.withDefaults()
	origins, err := parseOrigins(opts.CORSOrigins)
	if err != nil {
		return nil, err
	}
	platform, err := fixtures.Platform()
	if err != nil {
		return nil, err
	}
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		return nil, err
	}
	merchants := &simulator.Merchants{}
	merchants.Add(demo)
	for _, m := range opts.Merchants {
		merchants.Add(m)
	}
	db, clocks, err := openDB(ctx, opts)
	if err != nil {
		return nil, err
	}
	worker := &notify.Worker{
		Store: db, Merchants: merchants, Platform: platform, Clocks: clocks,
		Schedule: opts.NotifySchedule, Client: opts.NotifyClient, Timeout: opts.NotifyTimeout, Logger: opts.Logger,
		AllowLinkLocal: opts.NotifyAllowLinkLocal,
	}
	refunds := &simulator.RefundService{
		Refunds: db, Orders: db, Merchants: merchants, Clocks: clocks, Notifier: worker,
	}
	runner := &simulator.DueRunner{Name: "refunds", Run: refunds.SettleDue, Logger: opts.Logger}
	refunds.Runner = runner
	svc, deductions, err := newService(ctx, db, merchants, clocks, worker, refunds, opts)
	if err != nil {
		return nil, errors.Join(err, db.Close())
	}
	refunds.Faults = svc.Faults
	s := simhttp.NewServer()
	s.Service = svc
	s.Refunds = refunds
	s.Requests = db
	s.Merchants = merchants
	s.Platform = platform
	s.DemoCredentials = fixtures.DemoCredentials()
	s.DefaultMchID = demo.MchID
	s.ControlToken = opts.ControlToken
	s.CORSOrigins = origins
	s.MaxConnections = opts.MaxConnections
	s.Writable = db.CheckWritable
	s.Logger = opts.Logger
	if err := s.Open(opts.Addr); err != nil {
		return nil, errors.Join(err, db.Close())
	}
	// Notifications and deductions left pending by an earlier run go out now.
	worker.Start(context.WithoutCancel(ctx))
	deductions.Start(ctx)
	// So do refund outcomes that fell due while the simulator was stopped.
	runner.Start(ctx)
	return &App{Server: s, DB: db, Merchants: merchants, Notifier: worker, Deductions: deductions, RefundRunner: runner}, nil
}

// withDefaults fills the zero fields that have a default.
func (opts Options) withDefaults() Options {
	if opts.Addr == "" {
		opts.Addr = "127.0.0.1:0"
	}
	if opts.DB == "" {
		opts.DB = ":memory:"
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.NotifySchedule == nil {
		opts.NotifySchedule = simulator.PayScoreSchedule
	}
	if opts.DeductionDelay <= 0 {
		opts.DeductionDelay = simulator.DefaultDeductionDelay
	}
	return opts
}

// parseOrigins checks the --cors-origin values and returns them in canonical form.
func parseOrigins(list []string) ([]string, error) {
	origins := make([]string, len(list))
	for i, o := range list {
		var err error
		if origins[i], err = simhttp.ParseOrigin(o); err != nil {
			return nil, fmt.Errorf("--cors-origin: %w", err)
		}
	}
	return origins, nil
}

// openDB opens the database, bounds its request log and reads each merchant's clock from it.
func openDB(ctx context.Context, opts Options) (*sqlite.DB, *simulator.Clocks, error) {
	db, err := sqlite.Open(ctx, opts.DB)
	if err != nil {
		return nil, nil, err
	}
	db.SetRequestRetention(opts.RequestLog)
	offsets, err := db.ClockOffsets(ctx)
	if err != nil {
		return nil, nil, errors.Join(err, db.Close())
	}
	clocks := &simulator.Clocks{}
	for mchid, d := range offsets {
		clocks.SetOffset(mchid, d)
	}
	return db, clocks, nil
}

// newService builds the Service with the runner of its deductions and the refunds whose outcomes
// advancing a clock settles, and loads the merchants registered in earlier runs.
func newService(ctx context.Context, db *sqlite.DB, merchants *simulator.Merchants, clocks *simulator.Clocks, worker *notify.Worker, refunds *simulator.RefundService, opts Options) (*simulator.Service, *simulator.DueRunner, error) {
	// The runner calls the Service, which wakes the runner: Run is set once both exist.
	deductions := &simulator.DueRunner{Name: "deductions", Logger: opts.Logger}
	svc, err := simulator.NewService(simulator.Stores{
		Orders: db, Visits: db, Permissions: db, Notifications: db, ClockStore: db, MerchantStore: db,
	}, merchants, simulator.WithClocks(clocks), simulator.WithNotifier(worker), simulator.WithResetter(db),
		simulator.WithDeducter(deductions), simulator.WithDeductionDelay(opts.DeductionDelay),
		simulator.WithRefunds(refunds))
	if err != nil {
		return nil, nil, err
	}
	deductions.Run = svc.RunDueDeductions
	skipped, err := svc.LoadMerchants(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, why := range skipped {
		opts.Logger.Warn("a registered merchant is left out", "merchant", why)
	}
	return svc, deductions, nil
}

// URL is where the simulator listens.
func (a *App) URL() string { return a.Server.URL() }

// Close stops the deductions' and refunds' runners and the notification worker (waiting for its
// deliveries in flight), finishes the requests in flight, then closes the database. Deductions,
// refund outcomes and notifications still pending stay in the database for the next run.
func (a *App) Close(ctx context.Context) error {
	var errs []error
	a.Deductions.Close()
	a.RefundRunner.Close()
	if err := a.Notifier.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("stop notifications: %w", err))
	}
	if err := a.Server.Close(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shut down http: %w", err))
	}
	if err := a.DB.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
