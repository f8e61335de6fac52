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
