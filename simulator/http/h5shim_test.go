package http_test

// Tests of the H5 shim (web/shim/payscore-sim-h5.js): the routes that serve the shims, CORS on
// the control API, and TestBrowserH5Shim, in which a merchant's H5 page on another origin calls
// wx.invoke('openBusinessView') and a user clicks through the simulator's page in the overlay.
//
// Package-level names in this file start with h5 so that they do not clash with the other test
// files of the package.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// h5ShimDir is web/shim, from this package's directory.
var h5ShimDir = filepath.Join("..", "..", "web", "shim")

// h5DemoAddr is the simulator address written in h5-demo.html.
const h5DemoAddr = "http://127.0.0.1:8080"

// h5Merchant serves h5-demo.html as a merchant's server would, on its own origin, with the
// script tag pointed at sim: /h5-demo.html as it is, and /h5-demo-android.html with
// data-platform="android" on the script tag.
func h5Merchant(t *testing.T, sim *simtest.Sim) *httptest.Server {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(h5ShimDir, "h5-demo.html"))
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	page = strings.ReplaceAll(page, h5DemoAddr, sim.URL)
	if tag := `<script src="` + sim.URL + `/shim/payscore-sim-h5.js" data-simulator="` + sim.URL + `">`; !strings.Contains(page, tag) {
		t.Fatalf("h5-demo.html lacks the script tag %s, with %s for the simulator", tag, h5DemoAddr)
	}
	android := strings.Replace(page, "data-simulator=", `data-platform="android" data-simulator=`, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		switch r.URL.Path {
		case "/h5-demo.html":
			w.Write([]byte(page))
		case "/h5-demo-android.html":
			w.Write([]byte(android))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// h5Load loads the merchant's page with the package (and query, if any), waits until the shim
// answered wx.checkJsApi, and starts recording whether the overlay ever appears.
func h5Load(t *testing.T, tab context.Context, merchant, page, pkg string, query url.Values) {
	t.Helper()
	if query == nil {
		query = url.Values{}
	}
	query.Set("package", pkg)
	pageNavigate(t, tab, merchant+"/"+page+"?"+query.Encode(), http.StatusOK)
	check, err := chromedp.Run(tab, chromedp.Poll[string](
		`document.getElementById('check-js-api').textContent.startsWith('wx.checkJsApi:') && document.getElementById('check-js-api').textContent`,
		chromedp.WithPollingTimeout(10*time.Second)))
	if err != nil {
		t.Fatalf("wx.checkJsApi never answered: %v", err)
	}
	if !strings.Contains(check, `{"openBusinessView":true}`) {
		t.Errorf("the page reads %q; wx.checkJsApi should report openBusinessView supported", check)
	}
	if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`window.h5OverlaySeen = false;
		new MutationObserver(() => {
			if (document.getElementById('payscore-sim-overlay')) window.h5OverlaySeen = true;
		}).observe(document.body, {childList: true});`)); err != nil {
		t.Fatal(err)
	}
}

// h5Open loads the merchant's page and clicks its button, which calls wx.invoke.
func h5Open(t *testing.T, tab context.Context, merchant, page, pkg string, query url.Values) {
	t.Helper()
	h5Load(t, tab, merchant, page, pkg, query)
	if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("open-button"))); err != nil {
		t.Fatalf("click #open-button: %v", err)
	}
}

// h5Frame waits for the overlay's iframe and returns its node.
func h5Frame(t *testing.T, tab context.Context) *chromedp.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.ID("payscore-sim-frame"), chromedp.NodeVisible))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("no overlay iframe #payscore-sim-frame (%v); the page's callback got: %s", err, pageText(t, tab, "callback"))
	}
	return nodes[0]
}

// h5InFrame evaluates the JavaScript function fn(id) in the overlay page's current document
// until it returns a truthy value, which it returns. The iframe's page changes with each
// button (chromedp's cached node of its content document does not follow), so this runs in
// the frame's execution context, which does, and tries again when a navigation cuts a poll.
func h5InFrame[T any](t *testing.T, tab context.Context, fn, id string) T {
	t.Helper()
	var last error
	for start := time.Now(); time.Since(start) < 20*time.Second; {
		frame := h5Frame(t, tab)
		v, err := chromedp.Run(tab, chromedp.PollFunction[T](fn, chromedp.WithPollingInFrame(frame),
			chromedp.WithPollingArgs(id), chromedp.WithPollingInterval(50*time.Millisecond),
			chromedp.WithPollingTimeout(5*time.Second)))
		if err == nil {
			return v
		}
		if tab.Err() != nil {
			break
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("#%s in the overlay: %v", id, last)
	var zero T
	return zero
}

// h5FrameText waits for the element with the id in the overlay's page and returns its text.
func h5FrameText(t *testing.T, tab context.Context, id string) string {
	t.Helper()
	return h5InFrame[string](t, tab, `(id) => { const e = document.getElementById(id); return e && e.innerText; }`, id)
}

// h5FrameClick taps the button with the id in the overlay's page: a mouse click at its
// middle, in the page's coordinates, which lands on it only if the overlay is on top.
func h5FrameClick(t *testing.T, tab context.Context, id string) {
	t.Helper()
	type point struct {
		X, Y  float64
		OnTop bool
	}
	// Measured once the page has its stylesheet, at a point where the button itself is hit.
	in := h5InFrame[point](t, tab, `(id) => {
		const e = document.getElementById(id);
		if (!e || document.readyState !== 'complete') return false;
		e.scrollIntoView({block: 'center'});
		const r = e.getBoundingClientRect();
		const x = r.left + r.width / 2, y = r.top + r.height / 2;
		return e.contains(document.elementFromPoint(x, y)) && {X: x, Y: y};
	}`, id)
	at, err := chromedp.Run(tab, chromedp.Evaluate[point](`(() => {
		const f = document.getElementById('payscore-sim-frame'), r = f.getBoundingClientRect();
		return {X: r.left, Y: r.top, OnTop: document.elementFromPoint(r.left + `+h5Float(in.X)+`, r.top + `+h5Float(in.Y)+`) === f};
	})()`))
	if err != nil {
		t.Fatal(err)
	}
	if !at.OnTop {
		t.Fatalf("#%s: the overlay's iframe is not what the user taps at its place", id)
	}
	if err := chromedp.Do(tab, chromedp.MouseClickXY(at.X+in.X, at.Y+in.Y)); err != nil {
		t.Fatalf("click #%s in the overlay: %v", id, err)
	}
}

// h5VisitID is the id of the visit shown in the overlay, from the iframe's page_url.
func h5VisitID(t *testing.T, tab context.Context, sim *simtest.Sim) string {
	t.Helper()
	h5Frame(t, tab)
	src, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('payscore-sim-frame').src`))
	if err != nil {
		t.Fatal(err)
	}
	m := pageVisitPath.FindStringSubmatch(strings.TrimPrefix(src, sim.URL))
	if !strings.HasPrefix(src, sim.URL+"/") || m == nil {
		t.Fatalf("the overlay shows %q, want a visit's page_url at %s", src, sim.URL)
	}
	return m[1]
}

// h5Callback waits until the merchant's callback has run, checks that it ran once and that
// the overlay is gone, and returns the argument it got, as the page printed it.
func h5Callback(t *testing.T, tab context.Context) map[string]any {
	t.Helper()
	if _, err := chromedp.Run(tab, chromedp.Poll[bool](`document.getElementById('callback').dataset.calls !== '0'`,
		chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		t.Fatalf("the page's callback never ran: %v", err)
	}
	// Give a second call, were there one, the time to arrive.
	time.Sleep(400 * time.Millisecond)
	if calls, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.getElementById('callback').dataset.calls`)); err != nil || calls != "1" {
		t.Errorf("the callback ran %s times (%v), want once", calls, err)
	}
	if n := pageCount(t, tab, "#payscore-sim-overlay"); n != 0 {
		t.Errorf("the overlay is still there after the callback")
	}
	var res map[string]any
	pageJSON(t, tab, "callback", &res)
	return res
}

// h5OverlaySeen reports whether the overlay appeared since h5Open.
func h5OverlaySeen(t *testing.T, tab context.Context) bool {
	t.Helper()
	seen, err := chromedp.Run(tab, chromedp.Evaluate[bool](`window.h5OverlaySeen`))
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

// h5WantCallback checks the callback's argument: err_code as the platform gives it (a Number
// on iOS, decoded as float64; a string on Android), err_msg, and extraData.
func h5WantCallback(t *testing.T, res map[string]any, errCode any, errMsg string, queryID string) {
	t.Helper()
	if res["err_code"] != errCode || res["err_msg"] != errMsg {
		t.Errorf("callback got err_code %#v, err_msg %#v; want %#v, %#v (all: %v)", res["err_code"], res["err_msg"], errCode, errMsg, res)
	}
	extra, has := res["extraData"]
	switch {
	case queryID == "" && has:
		t.Errorf("callback got extraData %v; only the with-params return carries it", extra)
	case queryID != "":
		m, _ := extra.(map[string]any)
		if m["query_id"] != queryID || len(m) != 1 {
			t.Errorf("callback got extraData %#v, want {query_id: %s}", extra, queryID)
		}
	}
	for k := range res {
		if k != "err_code" && k != "err_msg" && k != "extraData" {
			t.Errorf("callback got an unexpected key %q: %v", k, res)
		}
	}
}

// h5ConfirmAndReturn confirms the order in the overlay and returns with params.
func h5ConfirmAndReturn(t *testing.T, tab context.Context) {
	t.Helper()
	h5FrameClick(t, tab, "confirm-button")
	if s := h5FrameText(t, tab, "return-button"); !strings.Contains(s, "return with params") {
		t.Errorf("#return-button in the overlay reads %q", s)
	}
	h5FrameClick(t, tab, "return-button")
}

// TestBrowserH5Shim runs the demo merchant page with the H5 shim in headless Chromium: one tab
// per subtest, all in one browser, the merchant on its own origin.
func TestBrowserH5Shim(t *testing.T) {
	browser := pageBrowser(t)
	sim := simtest.Start(t, app.Options{})
	merchant := h5Merchant(t, sim).URL

	t.Run("ConfirmThenReturnWithParams", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("H5R")
		h5Open(t, tab, merchant, "h5-demo.html", pageCreate(t, sim, no, nil), nil)

		if s := h5FrameText(t, tab, "confirm-button"); !strings.Contains(s, "confirm") {
			t.Errorf("#confirm-button in the overlay reads %q", s)
		}
		if s := h5FrameText(t, tab, "out-order-no"); s != no {
			t.Errorf("the overlay shows out_order_no %q, want %q", s, no)
		}
		pageWantText(t, tab, "payscore-sim-title", "payscore-sim", "simulator, not WeChat")
		// The demo page styles every button at width 100%; the title bar keeps its shape.
		if w, err := chromedp.Run(tab, chromedp.Evaluate[float64](`document.getElementById('payscore-sim-title').getBoundingClientRect().width`)); err != nil || w < 200 {
			t.Errorf("the overlay's title is %v px wide (%v); the merchant's CSS reshaped it", w, err)
		}
		id := h5VisitID(t, tab, sim)
		pageScreenshot(t, tab, "h5-overlay.png")

		h5ConfirmAndReturn(t, tab)
		res := h5Callback(t, tab)
		queryID := pageVisitQueryID(t, sim, id)
		if queryID == "" {
			t.Fatal("the control API reports no query_id after return with params")
		}
		h5WantCallback(t, res, float64(0), "openBusinessView:ok", queryID)
		pageWantText(t, tab, "verdict", "query the order by query_id "+queryID)
		pageWantState(t, sim, "query_id", queryID, "DOING", "USER_CONFIRM")
	})

	t.Run("BackIconWithoutParams", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("H5B")
		h5Open(t, tab, merchant, "h5-demo.html", pageCreate(t, sim, no, nil), nil)
		id := h5VisitID(t, tab, sim)

		h5FrameClick(t, tab, "back-button")
		res := h5Callback(t, tab)
		h5WantCallback(t, res, float64(1), "openBusinessView:cancel", "")
		if q := pageVisitQueryID(t, sim, id); q != "" {
			t.Errorf("the visit has query_id %q after the back icon", q)
		}
		pageWantText(t, tab, "verdict", "query the order by out_order_no")
		pageWantState(t, sim, "out_order_no", no, "CREATED", "")
	})

	t.Run("BackIconAfterConfirming", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("H5C")
		h5Open(t, tab, merchant, "h5-demo.html", pageCreate(t, sim, no, nil), nil)
		h5FrameClick(t, tab, "confirm-button")
		h5FrameText(t, tab, "confirmed-page")
		h5FrameClick(t, tab, "back-button")
		h5WantCallback(t, h5Callback(t, tab), float64(1), "openBusinessView:cancel", "")
		pageWantState(t, sim, "out_order_no", no, "DOING", "USER_CONFIRM")
	})

	t.Run("CloseButtonIsTheBackIcon", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("H5X")
		h5Open(t, tab, merchant, "h5-demo.html", pageCreate(t, sim, no, nil), nil)
		h5FrameText(t, tab, "confirm-button")
		if err := chromedp.Do(tab, chromedp.Click(chromedp.ID("payscore-sim-close"))); err != nil {
			t.Fatalf("click the overlay's ✕: %v", err)
		}
		h5WantCallback(t, h5Callback(t, tab), float64(1), "openBusinessView:cancel", "")
		pageWantState(t, sim, "out_order_no", no, "CREATED", "")
	})

	// The older docs' WeixinJSBridge.invoke works as wx.invoke does; other names are refused
	// outside WeChat.
	t.Run("WeixinJSBridgeAndOtherNames", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		h5Load(t, tab, merchant, "h5-demo.html", pageCreate(t, sim, pageOutOrderNo("H5J"), nil), nil)
		if err := chromedp.Do(tab, chromedp.Evaluate[chromedp.Void](`
			window.h5Other = [];
			wx.invoke('getNetworkType', {}, (res) => window.h5Other.push(res));
			WeixinJSBridge.invoke('getBrandWCPayRequest', {}, (res) => window.h5Other.push(res));
			WeixinJSBridge.invoke('openBusinessView', {businessType: 'wxpayScoreUse', queryString: 'package=' + encodeURIComponent(pkg)}, (res) => {
				const out = document.getElementById('callback');
				out.textContent = JSON.stringify(res);
				out.dataset.calls = String(Number(out.dataset.calls) + 1);
			});`)); err != nil {
			t.Fatal(err)
		}
		id := h5VisitID(t, tab, sim)
		h5ConfirmAndReturn(t, tab)
		h5WantCallback(t, h5Callback(t, tab), float64(0), "openBusinessView:ok", pageVisitQueryID(t, sim, id))
		other, err := chromedp.Run(tab, chromedp.Evaluate[[]map[string]any](`window.h5Other`))
		if err != nil {
			t.Fatal(err)
		}
		want := []map[string]any{
			{"err_msg": "getNetworkType:fail not supported by payscore-sim"},
			{"err_msg": "getBrandWCPayRequest:fail not supported by payscore-sim"},
		}
		if fmt.Sprint(other) != fmt.Sprint(want) {
			t.Errorf("other invoke names answered %v, want %v", other, want)
		}
	})

	// Android gives err_code as a string: set by window.PAYSCORE_SIM (the demo page does that
	// for ?platform=android) or by the script tag's data-platform.
	for _, tc := range []struct {
		name, page string
		query      url.Values
	}{
		{"AndroidByGlobal", "h5-demo.html", url.Values{"platform": {"android"}}},
		{"AndroidByDataAttribute", "h5-demo-android.html", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tab := pageTab(t, browser)
			h5Open(t, tab, merchant, tc.page, pageCreate(t, sim, pageOutOrderNo("H5A"), nil), tc.query)
			id := h5VisitID(t, tab, sim)
			h5ConfirmAndReturn(t, tab)
			res := h5Callback(t, tab)
			h5WantCallback(t, res, "0", "openBusinessView:ok", pageVisitQueryID(t, sim, id))
		})
	}

	t.Run("AndroidBackIcon", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		h5Open(t, tab, merchant, "h5-demo-android.html", pageCreate(t, sim, pageOutOrderNo("H5D"), nil), nil)
		h5FrameClick(t, tab, "back-button")
		h5WantCallback(t, h5Callback(t, tab), "1", "openBusinessView:cancel", "")
	})

	t.Run("RejectedQueryString", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		// A package the simulator never issued: well-formed, but no order has it.
		h5Open(t, tab, merchant, "h5-demo.html", "AAQTnZoAAAABAAAAAAD8m2b8VRdZ2kVdKmHNZiAAAABcwQVtru-5k9MmEOZJ_unknown", nil)
		res := h5Callback(t, tab)
		if h5OverlaySeen(t, tab) {
			t.Error("the overlay opened for a rejected queryString")
		}
		msg, _ := res["err_msg"].(string)
		if !strings.HasPrefix(msg, "openBusinessView:fail ") || len(msg) == len("openBusinessView:fail ") {
			t.Errorf("err_msg %q, want openBusinessView:fail and the simulator's message", msg)
		}
		if code, ok := res["err_code"].(float64); !ok || code == 0 {
			t.Errorf("err_code %#v, want a non-zero Number", res["err_code"])
		}
		diag, _ := res["simulator"].(map[string]any)
		if diag["code"] == nil || diag["message"] == nil || !strings.HasSuffix(msg, diag["message"].(string)) {
			t.Errorf("simulator %#v, want the simulator's error body, whose message ends err_msg", res["simulator"])
		}
		if _, has := res["extraData"]; has {
			t.Errorf("a rejection carries extraData: %v", res)
		}
	})

	t.Run("SimulatorUnreachable", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		// Port 1: nothing listens there, and only root could start something there.
		const dead = "http://127.0.0.1:1"
		h5Load(t, tab, merchant, "h5-demo.html", "AAQTnZoAAAAB", nil)
		if err := chromedp.Do(tab,
			chromedp.Evaluate[chromedp.Void](`window.PAYSCORE_SIM = {simulator: `+h5JS(dead)+`}`),
			chromedp.Click(chromedp.ID("open-button")),
		); err != nil {
			t.Fatal(err)
		}
		res := h5Callback(t, tab)
		if msg, _ := res["err_msg"].(string); !strings.HasPrefix(msg, "openBusinessView:fail payscore-sim unreachable at "+dead) {
			t.Errorf("err_msg %q, want openBusinessView:fail payscore-sim unreachable at %s", msg, dead)
		}
	})
}

// h5Float is f as a JavaScript number.
func h5Float(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// h5JS is s as a JavaScript string literal.
func h5JS(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// TestShimRoutes checks that the simulator serves the shims as JavaScript, byte for byte as in
// web/shim, and nothing else under /shim/.
func TestShimRoutes(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	for _, name := range []string{"payscore-sim-h5.js", "payscore-sim-miniprogram.js"} {
		want, err := os.ReadFile(filepath.Join(h5ShimDir, name))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := pageGet(t, http.MethodGet, sim.URL+"/shim/"+name)
		if resp.StatusCode != http.StatusOK || body != string(want) {
			t.Errorf("GET /shim/%s: %d, %d bytes; want 200 and the %d bytes of web/shim/%s", name, resp.StatusCode, len(body), len(want), name)
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/javascript; charset=utf-8" {
			t.Errorf("GET /shim/%s: Content-Type %q", name, ct)
		}
	}
	for _, p := range []string{"/shim/nothing.js", "/shim/h5-demo.html", "/shim/README.md", "/shim/test/fake-wx.js", "/shim/..%2fweb.go", "/shim/"} {
		if resp, body := pageGet(t, http.MethodGet, sim.URL+p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404; body %.200s", p, resp.StatusCode, body)
		}
	}
}

// h5Request sends a request with the headers and returns the response, its body read.
func h5Request(t *testing.T, method, target, body string, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(method, target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// TestCORSControlAPI checks that a page on another loopback origin may call /sim/v1 from the
// browser, and only /sim/v1 (cors_test.go checks the origins that may not).
func TestCORSControlAPI(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	const origin = "http://merchant.localhost:3000"
	preflight := map[string]string{
		"Origin":                                 origin,
		"Access-Control-Request-Method":          "POST",
		"Access-Control-Request-Headers":         "content-type",
		"Access-Control-Request-Private-Network": "true",
	}

	for _, p := range []string{"/sim/v1/visits", "/sim/v1/visits/" + "00000000-0000-0000-0000-000000000000" + "/confirm"} {
		resp := h5Request(t, http.MethodOptions, sim.URL+p, "", preflight)
		h := resp.Header
		if resp.StatusCode != http.StatusNoContent || h.Get("Access-Control-Allow-Origin") != origin ||
			!strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Content-Type") ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "X-Payscore-Sim-Token") ||
			h.Get("Access-Control-Allow-Private-Network") != "true" {
			t.Errorf("preflight OPTIONS %s: %d, Allow-Origin %q, Allow-Methods %q, Allow-Headers %q, Allow-Private-Network %q; want 204, the origin, POST, Content-Type and X-Payscore-Sim-Token, true",
				p, resp.StatusCode, h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Methods"), h.Get("Access-Control-Allow-Headers"), h.Get("Access-Control-Allow-Private-Network"))
		}
	}

	// The answers themselves, errors included, carry Allow-Origin, so the shim can read them.
	withOrigin := map[string]string{"Origin": origin, "Content-Type": "application/json"}
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{http.MethodGet, "/sim/v1/visits", "", http.StatusOK},
		{http.MethodPost, "/sim/v1/visits", `{"businessType":"wxpayScoreUse","queryString":"package=nothing"}`, 0},
		{http.MethodGet, "/sim/v1/visits/nothing", "", http.StatusNotFound},
		// CORS runs before routing; the router's 405 stays a 405.
		{http.MethodDelete, "/sim/v1/visits", "", http.StatusMethodNotAllowed},
	} {
		resp := h5Request(t, tc.method, sim.URL+tc.path, tc.body, withOrigin)
		if (tc.status != 0 && resp.StatusCode != tc.status) || (tc.status == 0 && resp.StatusCode < 400) {
			t.Errorf("%s %s: status %d, want %d (0: a 4xx)", tc.method, tc.path, resp.StatusCode, tc.status)
		}
		if got := resp.Header.Get("Access-Control-Allow-Origin"); got != origin {
			t.Errorf("%s %s: Access-Control-Allow-Origin %q, want %s", tc.method, tc.path, got, origin)
		}
	}

	// /v3 is WeChat's API, which browsers do not call; it gets no CORS headers, preflight or not.
	for _, tc := range []struct {
		method string
		header map[string]string
	}{
		{http.MethodOptions, preflight},
		{http.MethodGet, map[string]string{"Origin": origin}},
	} {
		resp := h5Request(t, tc.method, sim.URL+"/v3/payscore/serviceorder?"+url.Values{"out_order_no": {"X"}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID}}.Encode(), "", tc.header)
		for k := range resp.Header {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s /v3/payscore/serviceorder: %d with %s %q; /v3 answers no CORS", tc.method, resp.StatusCode, k, resp.Header.Get(k))
			}
		}
		// A preflight gets the router's 204 with Allow, but without Allow-Origin, which the
		// browser takes as a refusal.
		if tc.method != http.MethodOptions && resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s /v3/payscore/serviceorder unsigned: %d, want 401", tc.method, resp.StatusCode)
		}
	}
}

// TestH5ShimSyntax checks the shim's syntax with node --check, when node is installed
// (scripts/test.sh installs it).
func TestH5ShimSyntax(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not on PATH")
	}
	file := filepath.Join(h5ShimDir, "payscore-sim-h5.js")
	if out, err := exec.Command(node, "--check", file).CombinedOutput(); err != nil {
		t.Errorf("node --check %s: %v\n%s", file, err, out)
	}
}
