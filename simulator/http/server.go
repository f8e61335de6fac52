// Package http serves the simulator over HTTP: the Pay Score APIv3 at production's paths,
// signed like production, and the /sim/v1 control API.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Server is the simulator's HTTP server. Set the exported fields, then call Open, or use it
// as an http.Handler.
type Server struct {
	Service   *simulator.Service
	Refunds   *simulator.RefundService
	Requests  simulator.RequestLog
	Merchants *simulator.Merchants
	Platform  *wxcrypto.Platform
	// DemoCredentials is served as is by GET /sim/v1/demo-credentials.
	DemoCredentials any
	// DefaultMchID is the merchant whose clock the clock endpoints and the dashboard mean when
	// a request names none: the demo merchant.
	DefaultMchID string
	// ControlToken, when set, is required by the control API, the pages and the dashboard.
	ControlToken string
	// CORSOrigins are the web origins (scheme://host[:port], as ParseOrigin returns them) that
	// may call the control API from a browser, beside loopback pages.
	CORSOrigins []string
	// Writable, when set, tells /healthz whether the database takes writes: a full disk makes
	// every create fail, and a health check that still answered 200 would hide it.
	Writable func(context.Context) error
	// MaxConnections caps the open connections; zero means DefaultMaxConnections.
	MaxConnections int
	Logger         *slog.Logger

	echo *echo.Echo
	ln   net.Listener
	srv  *http.Server

	// junk limits the request log's records of requests that name no known merchant.
	junk junkLimiter
	// health keeps the last write check, so that a client polling /healthz (which needs no
	// token) cannot make the database write and take its write lock at will.
	health healthCache

	// conns holds the open connections (see trackConn and Close).
	mu      sync.Mutex
	conns   map[net.Conn]*connInfo
	closing bool
	// stopping is closed by Close, so that answers held back by a delay fault go out at once
	// rather than hold up the shutdown.
	stopping chan struct{}
}

// NewServer returns a Server with its routes; its dependencies are set by the caller.
func NewServer() *Server {
	s := &Server{echo: echo.New(), Logger: slog.Default(), stopping: make(chan struct{})}
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.HTTPErrorHandler = s.handleError
	// Before routing, in this order: every body is bounded; a browser that reached a loopback
	// simulator by another name is refused; CORS answers preflights, which carry no token; a
	// browser's write from an untrusted page is refused before the token is even looked at;
	// then the token. Checks of the APIv3's own (see registerAPIRoutes) come after.
	s.echo.Pre(limitBody, s.refuseRebinding, s.controlCORS, s.refuseCrossOriginControl, s.requireToken)
	s.echo.GET("/healthz", s.handleHealthz)
	s.registerAPIRoutes()
	s.registerControlRoutes()
	s.registerPageRoutes()
	s.registerDashboardRoutes()
	s.registerShimRoutes()
	return s
}

// handleHealthz answers 200 while the simulator can do its work, else 503 with the reason.
func (s *Server) handleHealthz(c echo.Context) error {
	if s.Writable != nil {
		if err := s.health.check(c.Request().Context(), s.Writable); err != nil {
			s.Logger.Error("health check", "err", err)
			return s.respondJSON(c, http.StatusServiceUnavailable, errorBody{Code: simulator.CodeSystemError, Message: "模拟器不可用",
				Detail: map[string]any{"issue": err.Error()}})
		}
	}
	return c.String(http.StatusOK, "ok\n")
}

// healthCheckEvery is how often /healthz really writes; between, it answers the last result.
const healthCheckEvery = time.Second

// healthCache runs a check at most once per healthCheckEvery and answers its last result.
type healthCache struct {
	mu   sync.Mutex
	at   time.Time
	last error
}

func (h *healthCache) check(ctx context.Context, check func(context.Context) error) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if now := time.Now(); h.at.IsZero() || now.Sub(h.at) >= healthCheckEvery {
		h.last, h.at = check(ctx), now
	}
	return h.last
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Open listens on addr ("host:port"; port 0 picks a free port) and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.conns = map[net.Conn]*connInfo{}
	s.srv = s.newHTTPServer()
	go func() {
		if err := s.srv.Serve(errorRewriteListener{ln, s}); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL is the server's base URL, with the port it really listens on.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight until ctx ends. net/http's
// Shutdown waits up to 5 s for a connection that has not sent its first request (an HTTP client
// often dials one more than it uses); nothing is in flight on those, so they are closed at once.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	s.mu.Lock()
	if !s.closing {
		close(s.stopping)
	}
	s.closing = true
	for c, info := range s.conns {
		if info.state == http.StateNew {
			c.Close()
		}
	}
	s.mu.Unlock()
	return s.srv.Shutdown(ctx)
}
