package http

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// Which web pages may drive the simulator from a browser. The H5 shim runs in a merchant's page
// on the developer's machine and calls /sim/v1 from that page's origin; any other web site the
// developer has open must not, since the control API hands out the demo credentials, reads the
// request log and resets everything. So the control API answers CORS to loopback origins
// (http://localhost:3000, http://127.0.0.1:5173, ...) and to those named by --cors-origin, and a
// browser's state-changing request from any other origin is refused before it does anything,
// even as a "simple" request that needs no preflight.

// ParseOrigin checks a --cors-origin value and returns it as browsers send it in Origin:
// scheme://host[:port], lower case, without a path or a trailing slash.
func ParseOrigin(v string) (string, error) {
	u, err := url.Parse(strings.TrimSuffix(v, "/"))
	switch {
	case err != nil:
		return "", fmt.Errorf("origin %q: %w", v, err)
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("origin %q must start with http:// or https://", v)
	case u.Host == "" || u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "":
		return "", fmt.Errorf("origin %q must be scheme://host[:port] alone, as a browser sends it in Origin", v)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// loopbackOrigin reports whether origin is a page served from this machine: localhost (and
// its subdomains, which browsers resolve to loopback) or a loopback address, any port.
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	host := strings.ToLower(u.Hostname())
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// corsAllowed reports whether a page of origin may call the control API from a browser.
func (s *Server) corsAllowed(origin string) bool {
	return origin != "" && (loopbackOrigin(origin) || slices.Contains(s.CORSOrigins, strings.ToLower(origin)))
}

// controlPath reports whether path is the control API's.
func controlPath(path string) bool { return path == "/sim/v1" || strings.HasPrefix(path, "/sim/v1/") }

// controlCORS answers the control API's preflights and lets allowed origins read its answers:
// JSON bodies and the control token's header, never cookies. It runs before the token check,
// since a preflight carries no credentials. echo workaround: it runs before routing (echo's Pre)
// and picks its paths itself, because middleware on the /sim/v1 group would add a catch-all
// route that turns the router's 405s into 404s. It leaves /v3 alone, which browsers never call (production answers no CORS there either).
func (s *Server) controlCORS(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !controlPath(r.URL.Path) {
			return next(c)
		}
		h := c.Response().Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		allowed := s.corsAllowed(origin)
		if allowed {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if r.Method != http.MethodOptions || r.Header.Get("Access-Control-Request-Method") == "" {
			return next(c)
		}
		if !allowed {
			return originRefused(origin)
		}
		h.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
		h.Set("Access-Control-Allow-Headers", "Content-Type, "+TokenHeader+", Authorization")
		h.Set("Access-Control-Max-Age", "600")
		// Chrome asks this before a public page may call a loopback or LAN address; only an
		// origin the simulator trusts is told yes.
		if r.Header.Get("Access-Control-Request-Private-Network") == "true" {
			h.Set("Access-Control-Allow-Private-Network", "true")
		}
		return c.NoContent(http.StatusNoContent)
	}
}

// refuseCrossOriginControl refuses a browser's state-changing control API request from a page
// the simulator does not trust, before anything is done: a bodyless POST needs no preflight,
// so CORS alone would let it through. A trusted origin's request passes when no token is set,
// or when it sends the token itself; a cookie is never enough from another origin, since a
// browser attaches it to any same-site request (another port of 127.0.0.1 is the same site).
// Clients that are not browsers send neither Origin nor Sec-Fetch-Site and pass.
func (s *Server) refuseCrossOriginControl(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !controlPath(r.URL.Path) || safeMethod(r.Method) || sameOrigin(r) {
			return next(c)
		}
		origin := r.Header.Get("Origin")
		switch {
		case origin == "" && r.Header.Get("Sec-Fetch-Site") == "":
			return next(c)
		case !s.corsAllowed(origin):
			return originRefused(origin)
		case s.ControlToken != "" && explicitToken(r) == "":
			return simulator.Errorf(simulator.CodeNoAuth, "跨站请求被拒绝").With("issue",
				"a page of "+origin+" must send the control token itself (the X-Payscore-Sim-Token header, or the H5 shim's token setting): the simulator's cookie counts only on its own pages")
		}
		return next(c)
	}
}

func originRefused(origin string) error {
	if origin == "" {
		origin = "a page of another site"
	}
	return simulator.Errorf(simulator.CodeNoAuth, "跨站请求被拒绝").With("issue",
		origin+" may not call the control API: browsers may call it from loopback pages (localhost, 127.0.0.1) and from the origins given with --cors-origin")
}

// safeMethod reports whether a request of method changes nothing.
func safeMethod(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// sameOrigin reports whether a browser says r comes from the simulator's own pages, as
// net/http's CrossOriginProtection judges it.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	}
	u, err := url.Parse(r.Header.Get("Origin"))
	return err == nil && u.Host != "" && u.Host == r.Host
}

// frameAncestors is the CSP frame-ancestors of the page at path. The user's pages (/sim/...)
// show in the H5 shim's overlay, an iframe of the merchant's page, so the pages CORS trusts may
// frame them; nothing may frame the dashboard, whose buttons a framing page could otherwise
// trick a user into pressing.
func (s *Server) frameAncestors(path string) string {
	if !strings.HasPrefix(path, "/sim/") {
		return "'none'"
	}
	sources := []string{"'self'", "http://localhost:*", "https://localhost:*", "http://*.localhost:*", "https://*.localhost:*",
		"http://127.0.0.1:*", "https://127.0.0.1:*", "http://[::1]:*", "https://[::1]:*"}
	return strings.Join(append(sources, s.CORSOrigins...), " ")
}

// refuseRebinding refuses a request that reached a simulator listening on loopback by a name
// that is not a loopback name: a web site whose name was rebound to 127.0.0.1 (DNS rebinding)
// would otherwise be the simulator's own origin, and read and act as it pleased. Browsers send
// no Origin nor Sec-Fetch-Site on a plain-http page's own GETs, so only the Host header tells;
// every client that really is on this machine names it by a loopback name or address. Names
// given with --cors-origin are accepted too (an /etc/hosts alias, say). The APIv3 is exempt:
// browsers cannot sign its requests, and SDKs may send production's Host.
func (s *Server) refuseRebinding(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !s.loopbackOnly() || strings.HasPrefix(r.URL.Path, "/v3/") || r.URL.Path == "/healthz" || s.knownHost(r.Host) {
			return next(c)
		}
		return simulator.Errorf(simulator.CodeNoAuth, "主机名不被允许").With("issue", fmt.Sprintf(
			"this simulator listens on loopback and was reached as %s, which is not a loopback name (a web site rebound to 127.0.0.1 looks like this): use localhost or 127.0.0.1, or name the host with --cors-origin", r.Host))
	}
}

// loopbackOnly reports whether the simulator listens on a loopback address only.
func (s *Server) loopbackOnly() bool {
	if s.ln == nil {
		return false
	}
	a, ok := s.ln.Addr().(*net.TCPAddr)
	return ok && a.IP.IsLoopback()
}

// knownHost reports whether host (a Host header) names this machine's loopback or the host of
// an origin given with --cors-origin.
func (s *Server) knownHost(host string) bool {
	if loopbackOrigin("http://" + host) {
		return true
	}
	for _, o := range s.CORSOrigins {
		if u, err := url.Parse(o); err == nil && strings.EqualFold(u.Hostname(), hostOnly(host)) {
			return true
		}
	}
	return false
}

// hostOnly is a Host header without its port.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return host
}
