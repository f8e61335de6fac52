package http

import (
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/web"
)

// registerShimRoutes serves the front-end shims at /shim/{name}.js (web/shim/*.js), so that a
// merchant's page can load them from the simulator it talks to.
func (s *Server) registerShimRoutes() {
	s.echo.GET("/shim/:name", s.handleShim)
}

func (s *Server) handleShim(c echo.Context) error {
	name := c.Param("name")
	if !strings.HasSuffix(name, ".js") || strings.ContainsAny(name, `/\`) {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(web.Shims, path.Join("shim", name))
	if err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	// The shims change with the simulator; a developer who upgrades it must not run a stale one.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	// A page may load the shim with <script crossorigin> to see its errors' details.
	h.Set("Access-Control-Allow-Origin", "*")
	return c.Blob(http.StatusOK, "application/javascript; charset=utf-8", b)
}

// controlCORS lets a merchant's H5 page, served from its own origin, call the control API
// (/sim/v1) from the browser, as the H5 shim does: any origin, no credentials, JSON bodies.
// It answers preflights itself. It runs before routing (echo's Pre), because middleware on the
// /sim/v1 group would add a catch-all route that turns the router's 405s into 404s; and it
// leaves /v3 alone, which browsers never call (production answers no CORS there either).
func controlCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p := c.Request().URL.Path
		if p != "/sim/v1" && !strings.HasPrefix(p, "/sim/v1/") {
			return next(c)
		}
		h := c.Response().Header()
		h.Set("Access-Control-Allow-Origin", "*")
		r := c.Request()
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
			h.Set("Access-Control-Allow-Headers", "Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			// Chrome asks this before a public page may call a loopback or LAN address.
			if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
				h.Set("Access-Control-Allow-Private-Network", "true")
			}
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}
