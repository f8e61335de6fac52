package http

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// tokenCookie carries the control token for a browser, once a page was opened with ?token=.
const tokenCookie = "payscore_sim_token"

// requireToken guards what acts for the user or shows what happened (the control API, the
// user's pages and the dashboard) with the control token, when one is set. The simulator binds
// to loopback by default; the token keeps one exposed on a network (a container, a shared CI
// host) from being driven by anyone who reaches it. The APIv3 needs no token: its requests are
// signed, as in production.
func (s *Server) requireToken(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if s.ControlToken == "" || !guarded(c.Request().URL.Path) {
			return next(c)
		}
		r := c.Request()
		token := explicitToken(r)
		if q := r.URL.Query().Get("token"); q != "" && token == q && s.validToken(q) {
			// Strict: the browser sends it from the simulator's own pages only, never along
			// with a request another site's page starts.
			c.SetCookie(&http.Cookie{Name: tokenCookie, Value: q, Path: "/", HttpOnly: true, SameSite: http.SameSiteStrictMode})
		}
		if cookie, err := r.Cookie(tokenCookie); err == nil && token == "" {
			token = cookie.Value
		}
		if !s.validToken(token) {
			issue := "this simulator requires its control token (--control-token): send it as the X-Payscore-Sim-Token header, as Authorization: Bearer <token>, or once as ?token=<token> in a browser"
			if token != "" {
				issue = "the control token given is not this simulator's (--control-token)"
			}
			return simulator.Errorf(simulator.CodeNoAuth, "需要控制令牌").With("issue", issue)
		}
		return next(c)
	}
}

// TokenHeader is the header a client sends the control token in.
const TokenHeader = "X-Payscore-Sim-Token"

// explicitToken is the token the request carries itself, rather than in a cookie: the
// X-Payscore-Sim-Token header, else Authorization: Bearer, else ?token=.
func explicitToken(r *http.Request) string {
	if t := r.Header.Get(TokenHeader); t != "" {
		return t
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && bearer != "" {
		return bearer
	}
	return r.URL.Query().Get("token")
}

// tokenQuery is "?token=..." when the request carried the control token in its query, else "".
// The user's pages pass it on to their buttons and redirects: in the H5 shim's overlay the page
// is a frame of the merchant's page, where the browser keeps the cookie back (SameSite=Strict,
// and a third-party cookie when the merchant's page is on another site, such as localhost
// beside 127.0.0.1), so a page opened at page_url?token= keeps working without it.
func (s *Server) tokenQuery(c echo.Context) string {
	q := c.Request().URL.Query().Get("token")
	if s.ControlToken == "" || q == "" || !s.validToken(q) {
		return ""
	}
	return "?token=" + url.QueryEscape(q)
}

// withToken appends the tokenQuery q to each target that is set.
func withToken(q string, targets ...*string) {
	for _, t := range targets {
		if *t != "" {
			*t += q
		}
	}
}

// tokenKey keys the HMACs that validToken compares; any key will do, as long as a client
// cannot choose it.
var tokenKey = func() []byte {
	k := make([]byte, 32)
	_, _ = rand.Read(k) // crypto/rand.Read never fails
	return k
}()

// validToken compares the HMACs of token and of the control token, which have one length
// whatever the token's: subtle.ConstantTimeCompare of the tokens themselves returns at once
// when the lengths differ, which tells a client the token's length.
func (s *Server) validToken(token string) bool {
	return hmac.Equal(tokenMAC(token), tokenMAC(s.ControlToken))
}

func tokenMAC(token string) []byte {
	m := hmac.New(sha256.New, tokenKey)
	m.Write([]byte(token))
	return m.Sum(nil)
}

// guarded reports whether path is behind the control token: everything but the APIv3, the
// health check and the static files and shims, which carry nothing to protect.
func guarded(path string) bool {
	for _, open := range []string{"/v3/", "/healthz", "/static/", "/shim/"} {
		if strings.HasPrefix(path, open) {
			return false
		}
	}
	return true
}
