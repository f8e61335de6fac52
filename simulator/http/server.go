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
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Server is the simulator's HTTP server. Set the exported fields, then call Open, or use it
// as an http.Handler.
type Server struct {
	Service   *simulator.Service
	Requests  simulator.RequestLog
	Merchants *simulator.Merchants
	Platform  *wxcrypto.Platform
	// DemoCredentials is served as is by GET /sim/v1/demo-credentials.
	DemoCredentials any
	Logger          *slog.Logger

	echo *echo.Echo
	ln   net.Listener
	srv  *http.Server
}

// NewServer returns a Server with its routes; its dependencies are set by the caller.
func NewServer() *Server {
	s := &Server{echo: echo.New(), Logger: slog.Default()}
	s.echo.HideBanner, s.echo.HidePort = true, true
	s.echo.HTTPErrorHandler = s.handleError
	s.echo.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	s.registerAPIRoutes()
	s.registerControlRoutes()
	s.registerPageRoutes()
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.echo.ServeHTTP(w, r) }

// Open listens on addr ("host:port"; port 0 picks a free port) and serves in the background.
func (s *Server) Open(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	s.ln = ln
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.Logger.Error("serve", "err", err)
		}
	}()
	return nil
}

// URL is the server's base URL, with the port it really listens on.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// Close stops accepting requests and waits for those in flight until ctx ends.
func (s *Server) Close(ctx context.Context) error {
	if s.srv == nil {
		return nil
	}
	return s.srv.Shutdown(ctx)
}
