package http_test

// Tests of what web pages may do to the simulator from a browser: CORS on the control API, the
// origin checks of its writes and of the pages' buttons, the token cookie and framing. The
// attacks of issue 15 are replayed as a browser sends them (by hand, and in headless Chromium in
// TestBrowserCrossSiteAttacks); each must be refused with nothing changed, while the H5 shim and
// the simulator's own pages keep working. Package-level names in this file start with cors.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// corsEvil is a web site the developer happens to have open.
const corsEvil = "http://evil.test"

// corsVisitConfirmed reports whether the visit was confirmed.
func corsVisitConfirmed(t *testing.T, sim *simtest.Sim, id string) bool {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/visits/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get visit %s: %d %v", id, status, v)
	}
	return v["confirmed"] == true
}

// corsWantRefused checks a 403 NO_AUTH that names the origin rules.
func corsWantRefused(t *testing.T, what string, resp *http.Response) {
	t.Helper()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("%s: %d, want 403", what, resp.StatusCode)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "" {
		t.Errorf("%s: Access-Control-Allow-Origin %q, want none", what, got)
	}
}

func TestCrossOriginControlRefused(t *testing.T) {
	t.Parallel()
	const trusted = "https://merchant.example:8443"
	sim := simtest.Start(t, app.Options{CORSOrigins: []string{trusted + "/"}})
	no := pageOutOrderNo("XO")
	id, _ := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))

	preflight := map[string]string{
		"Access-Control-Request-Method": "POST", "Access-Control-Request-Private-Network": "true",
	}
	preflight["Origin"] = corsEvil
	resp := h5Request(t, http.MethodOptions, sim.URL+"/sim/v1/reset", "", preflight)
	corsWantRefused(t, "a preflight from "+corsEvil, resp)
	if got := resp.Header.Get("Access-Control-Allow-Private-Network"); got != "" {
		t.Errorf("a preflight from %s: Access-Control-Allow-Private-Network %q, want none", corsEvil, got)
	}
	// The origin --cors-origin names is trusted, private network access included.
	preflight["Origin"] = trusted
	resp = h5Request(t, http.MethodOptions, sim.URL+"/sim/v1/visits", "", preflight)
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != trusted ||
		resp.Header.Get("Access-Control-Allow-Private-Network") != "true" {
		t.Errorf("a preflight from %s: %d, %v; want 204 with its origin and private network access", trusted, resp.StatusCode, resp.Header)
	}

	// Reads answer, but without Allow-Origin, so that the browser keeps the answer from the page.
	resp = h5Request(t, http.MethodGet, sim.URL+"/sim/v1/demo-credentials", "", map[string]string{"Origin": corsEvil})
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("GET /sim/v1/demo-credentials from %s: %d, Allow-Origin %q; want 200 and none", corsEvil, resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}

	// Writes that need no preflight are refused before they do anything.
	for _, tc := range []struct {
		what, method, path string
		header             map[string]string
	}{
		{"reset from another site", http.MethodPost, "/sim/v1/reset", map[string]string{"Origin": corsEvil}},
		{"reset, cross-site without Origin", http.MethodPost, "/sim/v1/reset", map[string]string{"Sec-Fetch-Site": "cross-site"}},
		{"clock from another site", http.MethodPost, "/sim/v1/clock/advance", map[string]string{"Origin": corsEvil, "Content-Type": "text/plain"}},
		{"confirm from another site", http.MethodPost, "/sim/v1/visits/" + id + "/confirm", map[string]string{"Origin": "null"}},
		{"the page's button from another site", http.MethodPost, "/sim/visits/" + id + "/confirm", map[string]string{"Origin": corsEvil, "Sec-Fetch-Site": "cross-site"}},
	} {
		corsWantRefused(t, tc.what, h5Request(t, tc.method, sim.URL+tc.path, `{"duration":"720h"}`, tc.header))
	}
	if st := corsOrderState(t, sim, no); st != "CREATED" {
		t.Fatalf("after the refused requests the order is %q, want CREATED", st)
	}
	if corsVisitConfirmed(t, sim, id) {
		t.Fatal("a refused confirm confirmed the visit")
	}

	// Legitimate callers: a program (no Origin), the trusted origin, the page itself.
	for _, h := range []map[string]string{{"Origin": trusted}, {"Origin": sim.URL, "Sec-Fetch-Site": "same-origin"}, nil} {
		id, _ := pageOpenUse(t, sim, pageCreate(t, sim, pageOutOrderNo("XOK"), nil))
		if resp := h5Request(t, http.MethodPost, sim.URL+"/sim/v1/visits/"+id+"/confirm", "", h); resp.StatusCode != http.StatusOK {
			t.Errorf("confirm with %v: %d, want 200", h, resp.StatusCode)
		}
	}
}

// TestSameSiteCookieNotEnough: with a token, a page on another port of 127.0.0.1 (a trusted
// origin, and the same site, so the browser sends the simulator's cookie along) must not act
// with the cookie alone.
func TestSameSiteCookieNotEnough(t *testing.T) {
	t.Parallel()
	const token = "cookie-TEST-token"
	sim := simtest.Start(t, app.Options{ControlToken: token})
	no := pageOutOrderNo("SS")
	pkg := visitCreate(t, sim.DemoClient(t), no)
	req, _ := http.NewRequest(http.MethodGet, sim.URL+"/?token="+token, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].SameSite != http.SameSiteStrictMode || !cookies[0].HttpOnly {
		t.Fatalf("the token cookie: %v, want one, HttpOnly and SameSite=Strict", cookies)
	}
	cookie := cookies[0].Name + "=" + cookies[0].Value
	const sameSite = "http://127.0.0.1:1"

	resp = h5Request(t, http.MethodPost, sim.URL+"/sim/v1/reset", "", map[string]string{"Origin": sameSite, "Sec-Fetch-Site": "same-site", "Cookie": cookie})
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("reset from %s with the cookie: %d, want 403", sameSite, resp.StatusCode)
	}
	if st := corsOrderState(t, sim, no); st != "CREATED" {
		t.Fatalf("after the refused reset the order is %q, want CREATED", st)
	}

	// The shim sends the token itself, and may; so may the simulator's own pages, with the cookie.
	body := `{"businessType":"wxpayScoreUse","extraData":{"package":"` + pkg + `"}}`
	for _, h := range []map[string]string{
		{"Origin": sameSite, "X-Payscore-Sim-Token": token, "Content-Type": "application/json"},
		{"Origin": sim.URL, "Sec-Fetch-Site": "same-origin", "Cookie": cookie, "Content-Type": "application/json"},
	} {
		if resp := h5Request(t, http.MethodPost, sim.URL+"/sim/v1/visits", body, h); resp.StatusCode != http.StatusCreated {
			t.Errorf("open a visit with %v: %d, want 201", h, resp.StatusCode)
		}
	}

	// Token checks compare fixed-length HMACs; near misses are refused like any other.
	for _, wrong := range []string{token[:len(token)-1], token + "x", strings.ToUpper(token), ""} {
		resp := h5Request(t, http.MethodGet, sim.URL+"/sim/v1/orders", "", map[string]string{"X-Payscore-Sim-Token": wrong})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("token %q: %d, want 403", wrong, resp.StatusCode)
		}
	}
}

// TestDNSRebindingRefused: a request that reaches the loopback simulator by a name that is not
// loopback's (a web site rebound to 127.0.0.1) is refused, reads included, but for the APIv3;
// loopback names and those of --cors-origin are not.
func TestDNSRebindingRefused(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{CORSOrigins: []string{"http://dev.example:3000"}})
	for _, tc := range []struct {
		host   string
		header map[string]string
		status int
	}{
		{"rebind.test:80", nil, http.StatusForbidden},
		{"rebind.test", map[string]string{"Origin": "http://rebind.test"}, http.StatusForbidden},
		{"localhost:80", nil, http.StatusOK},
		{"[::1]:8080", nil, http.StatusOK},
		{"dev.example:8080", nil, http.StatusOK},
	} {
		req, _ := http.NewRequest(http.MethodGet, sim.URL+"/sim/v1/demo-credentials", nil)
		req.Host = tc.host
		for k, v := range tc.header {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("GET /sim/v1/demo-credentials as %s with %v: %d, want %d", tc.host, tc.header, resp.StatusCode, tc.status)
		}
	}
}

func TestFrameAncestors(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{CORSOrigins: []string{"https://merchant.example"}})
	_, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, pageOutOrderNo("FR"), nil))
	for _, tc := range []struct {
		path, xfo string
		want      []string
	}{
		{"/", "DENY", []string{"frame-ancestors 'none'"}},
		{"/dashboard/requests", "DENY", []string{"frame-ancestors 'none'"}},
		// The H5 shim shows the user's page in an iframe of the merchant's page.
		{strings.TrimPrefix(pageURL, sim.URL), "", []string{"frame-ancestors 'self'", "http://127.0.0.1:*", "http://localhost:*", "https://merchant.example"}},
	} {
		resp, _ := pageGet(t, http.MethodGet, sim.URL+tc.path)
		csp := resp.Header.Get("Content-Security-Policy")
		if got := resp.Header.Get("X-Frame-Options"); got != tc.xfo {
			t.Errorf("GET %s: X-Frame-Options %q, want %q", tc.path, got, tc.xfo)
		}
		for _, w := range tc.want {
			if !strings.Contains(csp, w) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, w)
			}
		}
	}
}

// corsAttacker serves a page that runs script, with the simulator's URL as SIM.
func corsAttacker(t *testing.T, sim, script string) *httptest.Server {
	t.Helper()
	page := "<!doctype html><title>attacker</title><script>const SIM = " + h5JS(sim) + ";\n" + script + "</script>"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, page)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// corsRunAttack loads the attacker's page and returns what its script left in window.result.
func corsRunAttack(t *testing.T, tab context.Context, target string) string {
	t.Helper()
	pageNavigate(t, tab, target, http.StatusOK)
	// A poll that starts as the navigation settles can lose its execution context; try again.
	var err error
	for range 5 {
		var res string
		if res, err = chromedp.Run(tab, chromedp.Poll[string](`window.result`, chromedp.WithPollingTimeout(15*time.Second))); err == nil {
			return res
		}
		if tab.Err() != nil {
			break
		}
	}
	t.Fatalf("the attacker's page never finished: %v", err)
	return ""
}

// corsAttackScript tries what issue 15 did from another site: read the demo credentials, reset
// everything, confirm a visit, with and without credentials. It records which reads succeeded.
const corsAttackScript = `
(async () => {
  const out = [];
  try { await (await fetch(SIM + '/sim/v1/demo-credentials', {credentials: 'include'})).json(); out.push('read credentials'); } catch (e) {}
  try { await (await fetch(SIM + '/sim/v1/orders', {credentials: 'include'})).json(); out.push('read orders'); } catch (e) {}
  for (const path of ['/sim/v1/reset', '/sim/v1/visits/' + VISIT + '/confirm', '/sim/visits/' + VISIT + '/confirm']) {
    try { await fetch(SIM + path, {method: 'POST', mode: 'no-cors', credentials: 'include'}); } catch (e) {}
  }
  window.result = 'done:' + out.join(',');
})();`

// TestBrowserCrossSiteAttacks replays the attacks of issue 15 in headless Chromium: a page of
// another site (evil.test, which the browser resolves to loopback, so no traffic leaves the
// machine), and, with a control token, a page on another port of 127.0.0.1 after the user
// opened the dashboard with the token. Nothing may be read or changed; the H5 shim with its
// token setting still works. The subtests run one after the other: the browser keeps one
// cookie per host, whatever the port, so simulators with tokens on 127.0.0.1 would overwrite
// one another's.
func TestBrowserCrossSiteAttacks(t *testing.T) {
	browser := pageBrowser(t, chromedp.Flag("host-resolver-rules", "MAP evil.test 127.0.0.1, MAP rebind.test 127.0.0.1"),
		// The overlay of H5ShimWithToken is a frame of another site, which the test reads in the
		// page's own process (see h5InFrame).
		chromedp.Flag("disable-site-isolation-trials", true))

	t.Run("AnotherSite", func(t *testing.T) {
		sim := simtest.Start(t, app.Options{})
		no := pageOutOrderNo("XS")
		id, _ := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		attacker := corsAttacker(t, sim.URL, "const VISIT = "+h5JS(id)+";"+corsAttackScript)
		u, _ := url.Parse(attacker.URL)
		res := corsRunAttack(t, pageTab(t, browser), corsEvil+":"+u.Port()+"/")
		if res != "done:" {
			t.Errorf("the page of another site got: %s; want no reads", res)
		}
		if st := corsOrderState(t, sim, no); st != "CREATED" {
			t.Errorf("after the attack the order is %q, want CREATED (not reset)", st)
		}
		if corsVisitConfirmed(t, sim, id) {
			t.Error("the page of another site confirmed the visit")
		}
	})

	t.Run("DNSRebinding", func(t *testing.T) {
		// rebind.test resolves to 127.0.0.1, as an attacker's name would after rebinding: its
		// page is then the simulator's own origin, and only the Host name gives it away.
		sim := simtest.Start(t, app.Options{})
		u, _ := url.Parse(sim.URL)
		pageNavigate(t, pageTab(t, browser), "http://rebind.test:"+u.Port()+"/sim/v1/demo-credentials", http.StatusForbidden)
	})

	t.Run("SameSiteWithToken", func(t *testing.T) {
		const token = "browser-TEST-token"
		sim := simtest.Start(t, app.Options{ControlToken: token})
		no := pageOutOrderNo("XT")
		pkg := visitCreate(t, sim.DemoClient(t), no)
		status, v := corsControl(t, sim, token, "/sim/v1/visits", `{"businessType":"wxpayScoreUse","extraData":{"package":"`+pkg+`"}}`)
		if status != http.StatusCreated {
			t.Fatalf("open a visit: %d %v", status, v)
		}
		id := v["visit_id"].(string)
		tab := pageTab(t, browser)
		// The user opened the dashboard with the token: the browser now holds its cookie.
		pageNavigate(t, tab, sim.URL+"/?token="+token, http.StatusOK)
		attacker := corsAttacker(t, sim.URL, "const VISIT = "+h5JS(id)+";"+corsAttackScript)
		if res := corsRunAttack(t, tab, attacker.URL+"/"); res != "done:" {
			t.Errorf("the page on another port got: %s; want no reads", res)
		}
		if st := corsOrderState(t, sim, no); st != "CREATED" {
			t.Errorf("after the attack the order is %q, want CREATED (not reset)", st)
		}
		if status, v := corsControl(t, sim, token, "/sim/v1/visits/"+id, ""); status != http.StatusOK || v["confirmed"] == true {
			t.Errorf("the visit after the attack: %d %v; want it unconfirmed", status, v)
		}
		// The simulator's own page, with the cookie, still works.
		pageNavigate(t, tab, sim.URL+"/sim/visits/"+id, http.StatusOK)
		pageClick(t, tab, "confirm-button")
		if st := corsOrderState(t, sim, no); st != "DOING" {
			t.Errorf("after confirming on the page the order is %q, want DOING", st)
		}
	})

	t.Run("H5ShimWithToken", func(t *testing.T) {
		const token = "shim-TEST-token"
		sim := simtest.Start(t, app.Options{ControlToken: token})
		merchant := strings.Replace(h5Merchant(t, sim).URL, "127.0.0.1", "localhost", 1)
		tab := pageTab(t, browser)
		no := pageOutOrderNo("XH")
		h5Load(t, tab, merchant, "h5-demo.html", visitCreate(t, sim.DemoClient(t), no), nil)
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.PAYSCORE_SIM = {token: `+h5JS(token)+`}`)); err != nil {
			t.Fatal(err)
		}
		if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("open-button"))); err != nil {
			t.Fatalf("click #open-button: %v", err)
		}
		h5ConfirmAndReturn(t, tab)
		res := h5Callback(t, tab)
		if res["err_msg"] != "openBusinessView:ok" {
			t.Errorf("the callback got %v, want openBusinessView:ok", res)
		}
		if st := corsOrderState(t, sim, no); st != "DOING" {
			t.Errorf("after the shim's visit the order is %q, want DOING", st)
		}
	})
}

// corsControl calls the control API with the token, GET without a body, POST with one.
func corsControl(t *testing.T, sim *simtest.Sim, token, path, body string) (int, map[string]any) {
	t.Helper()
	method := http.MethodGet
	if body != "" {
		method = http.MethodPost
	}
	req, _ := http.NewRequest(method, sim.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Payscore-Sim-Token", token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&v)
	return resp.StatusCode, v
}
