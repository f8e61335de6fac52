package http_test

// Tests of the user's pages: TestPage* over plain HTTP, TestBrowserPages in a real headless
// Chromium that clicks the pages' buttons as a user would.
//
// Package-level names in this file start with page so that they do not clash with the other
// test files of the package.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// pageSeq makes out_order_nos unique within the test binary.
var pageSeq atomic.Int64

func pageOutOrderNo(tag string) string {
	return fmt.Sprintf("PAGE%s%d%d", tag, time.Now().UnixNano()%1e9, pageSeq.Add(1))
}

// pageOrderBody is a confirm-mode create body for the demo merchant: a power-bank rental with
// every item the confirmation page shows.
func pageOrderBody(no string) map[string]any {
	end := time.Now().In(simulator.ChinaTime).Add(3 * time.Hour).Format("20060102150405")
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments": []any{
			map[string]any{"name": "充电宝租借费", "amount": 300, "description": "每小时3元，封顶30元", "count": 1},
		},
		"post_discounts": []any{
			map[string]any{"name": "新用户优惠", "description": "首单减1元"},
		},
		"time_range": map[string]any{"start_time": "OnAccept", "end_time": end, "start_time_remark": "借出后开始计费"},
		"location":   map[string]any{"start_location": "深圳湾万象城 B1", "end_location": "任意网点归还"},
		"risk_fund":  map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 10000, "description": "充电宝预估费用"},
		"notify_url": "https://merchant.example.com/payscore/notify",
	}
}

// pageCreate creates the order as the demo merchant, after edit changes the body, and returns
// its package.
func pageCreate(t *testing.T, sim *simtest.Sim, no string, edit func(map[string]any)) string {
	t.Helper()
	body := pageOrderBody(no)
	if edit != nil {
		edit(body)
	}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", body)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("create %s: %v %d %s", no, err, resp.Status, resp.Body)
	}
	var o struct{ Package string }
	if err := resp.Decode(&o); err != nil || o.Package == "" {
		t.Fatalf("create %s: no package in %s", no, resp.Body)
	}
	return o.Package
}

// pageControl calls the control API; a nil body sends no body.
func pageControl(t *testing.T, sim *simtest.Sim, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, sim.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("%s %s: %d, body not JSON: %v", method, path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// pageOpenUse opens a wxpayScoreUse visit with {"package": pkg} and returns its id and page_url.
func pageOpenUse(t *testing.T, sim *simtest.Sim, pkg string) (id, pageURL string) {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodPost, "/sim/v1/visits",
		map[string]any{"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg}})
	if status != http.StatusCreated {
		t.Fatalf("open visit: %d %v", status, v)
	}
	id, _ = v["visit_id"].(string)
	pageURL, _ = v["page_url"].(string)
	if id == "" || pageURL != sim.URL+"/sim/visits/"+id {
		t.Fatalf("open visit: visit_id %q, page_url %q", id, pageURL)
	}
	return id, pageURL
}

// pageVisitQueryID is the query_id the control API reports for the visit.
func pageVisitQueryID(t *testing.T, sim *simtest.Sim, id string) string {
	t.Helper()
	status, v := pageControl(t, sim, http.MethodGet, "/sim/v1/visits/"+id, nil)
	if status != http.StatusOK {
		t.Fatalf("get visit %s: %d %v", id, status, v)
	}
	q, _ := v["query_id"].(string)
	return q
}

// pageQueryOrder queries the order with the signing client, by out_order_no or query_id.
func pageQueryOrder(t *testing.T, sim *simtest.Sim, key, value string) (state, desc string) {
	t.Helper()
	q := url.Values{key: {value}, "service_id": {fixtures.DemoServiceID}, "appid": {fixtures.DemoAppID}}
	resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodGet, "/v3/payscore/serviceorder?"+q.Encode(), nil)
	if err != nil || resp.Status != http.StatusOK {
		t.Fatalf("query order by %s: %v %d %s", key, err, resp.Status, resp.Body)
	}
	var o struct {
		State            string `json:"state"`
		StateDescription string `json:"state_description"`
	}
	if err := resp.Decode(&o); err != nil {
		t.Fatal(err)
	}
	return o.State, o.StateDescription
}

func pageWantState(t *testing.T, sim *simtest.Sim, key, value, state, desc string) {
	t.Helper()
	if s, d := pageQueryOrder(t, sim, key, value); s != state || d != desc {
		t.Errorf("order queried by %s: state %q %q, want %q %q", key, s, d, state, desc)
	}
}

// pageSigned adds sign_type and an HMAC-SHA256 sign with key to the fields.
func pageSigned(t *testing.T, fields map[string]string, key string) map[string]string {
	t.Helper()
	fields["sign_type"] = wxcrypto.SignTypeHMACSHA256
	sign, err := wxcrypto.SignV2(fields, key, wxcrypto.SignTypeHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	fields["sign"] = sign
	return fields
}

// pageSignedDetail is the signed wxpayScoreDetail extraData for the demo merchant's order.
func pageSignedDetail(t *testing.T, no string) map[string]string {
	return pageSigned(t, map[string]string{
		"mch_id": fixtures.DemoMchID, "service_id": fixtures.DemoServiceID, "out_order_no": no,
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10), "nonce_str": wxcrypto.NewNonce(),
	}, fixtures.DemoAPIv2Key)
}

// pageSignedUse is the older signed wxpayScoreUse extraData, signed with key.
func pageSignedUse(t *testing.T, pkg, timestamp, key string) map[string]string {
	return pageSigned(t, map[string]string{
		"mch_id": fixtures.DemoMchID, "package": pkg, "timestamp": timestamp, "nonce_str": wxcrypto.NewNonce(),
	}, key)
}

// pageOpenURL is GET /sim/open with the parameters, extraData given as a JSON value.
func pageOpenURL(t *testing.T, sim *simtest.Sim, params url.Values, extraData any) string {
	t.Helper()
	if extraData != nil {
		b, err := json.Marshal(extraData)
		if err != nil {
			t.Fatal(err)
		}
		params.Set("extraData", string(b))
	}
	return sim.URL + "/sim/open?" + params.Encode()
}

// pageNoRedirect is a client that shows redirects instead of following them.
var pageNoRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// pageGet fetches a page without following redirects.
func pageGet(t *testing.T, method, target string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, target, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := pageNoRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

var pageVisitPath = regexp.MustCompile(`^/sim/visits/([0-9a-f-]{36})$`)

// pageWantRedirect sends the request, checks that it answers 303 to a visit page and returns
// the visit id.
func pageWantRedirect(t *testing.T, method, target string) string {
	t.Helper()
	resp, body := pageGet(t, method, target)
	m := pageVisitPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("got %d Location %q, want 303 to /sim/visits/{id}; body %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return m[1]
}

// pageWantHTML checks that a page is HTML, with the status and the fragments.
func pageWantHTML(t *testing.T, resp *http.Response, body string, status int, fragments ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Errorf("status %d, want %d; body %s", resp.StatusCode, status, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("Content-Type %q, want text/html", ct)
	}
	for _, f := range fragments {
		if !strings.Contains(body, f) {
			t.Errorf("page lacks %q:\n%s", f, body)
		}
	}
}

func TestPageOpenForms(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	cases := []struct {
		name   string
		params func(pkg string) url.Values
		extra  func(pkg string) any
		form   string
	}{
		{"extraData", func(string) url.Values { return url.Values{"businessType": {"wxpayScoreUse"}} },
			func(pkg string) any { return map[string]string{"package": pkg} }, simulator.FormExtraData},
		{"queryString", func(pkg string) url.Values {
			return url.Values{"businessType": {"wxpayScoreUse"}, "queryString": {"package=" + url.QueryEscape(pkg)}}
		}, nil, simulator.FormQueryString},
		{"navigateToMiniProgram", func(string) url.Values {
			return url.Values{"appId": {simulator.PayScoreAppID}, "path": {"pages/use/use"}}
		}, func(pkg string) any { return map[string]string{"package": pkg} }, simulator.FormNavigate},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			no := pageOutOrderNo("F")
			pkg := pageCreate(t, sim, no, nil)
			var extra any
			if tc.extra != nil {
				extra = tc.extra(pkg)
			}
			id := pageWantRedirect(t, http.MethodGet, pageOpenURL(t, sim, tc.params(pkg), extra))
			_, v := pageControl(t, sim, http.MethodGet, "/sim/v1/visits/"+id, nil)
			if v["form"] != tc.form || v["out_order_no"] != no {
				t.Errorf("visit form %v out_order_no %v, want %s %s", v["form"], v["out_order_no"], tc.form, no)
			}
			resp, body := pageGet(t, http.MethodGet, sim.URL+"/sim/visits/"+id)
			pageWantHTML(t, resp, body, http.StatusOK, "确认订单", "return with params", "back icon without params",
				no, "¥100.00", "预估订单费用", "确认后开始", `action="/sim/visits/`+id+`/confirm"`, `action="/sim/visits/`+id+`/back"`)
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
				t.Errorf("Content-Security-Policy %q", csp)
			}
		})
	}
}

func TestPageOpenRejections(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	pkg := pageCreate(t, sim, pageOutOrderNo("R"), nil)
	use := url.Values{"businessType": {"wxpayScoreUse"}}
	cases := []struct {
		name      string
		target    string
		status    int
		code      string
		fragments []string
	}{
		{"malformed JSON", sim.URL + "/sim/open?businessType=wxpayScoreUse&extraData=" + url.QueryEscape(`{"package":`),
			400, "PARAM_ERROR", []string{"extraData", "is not valid JSON"}},
		{"JSON array", sim.URL + "/sim/open?businessType=wxpayScoreUse&extraData=" + url.QueryEscape(`["x"]`),
			400, "PARAM_ERROR", []string{"must be a JSON object, not a JSON array"}},
		{"JSON null", sim.URL + "/sim/open?businessType=wxpayScoreUse&extraData=null",
			400, "PARAM_ERROR", []string{"must be a JSON object, not null"}},
		{"empty extraData", sim.URL + "/sim/open?businessType=wxpayScoreUse&extraData=",
			400, "PARAM_ERROR", []string{"is empty"}},
		{"unknown parameter", sim.URL + "/sim/open?businessType=wxpayScoreUse&extradata=%7B%7D",
			400, "PARAM_ERROR", []string{"extradata", "is not a parameter of /sim/open"}},
		{"repeated parameter", sim.URL + "/sim/open?businessType=wxpayScoreUse&businessType=wxpayScoreUse&extraData=%7B%7D",
			400, "PARAM_ERROR", []string{"must be given once"}},
		{"bad escape", sim.URL + "/sim/open?businessType=wxpayScoreUse&extraData=%zz",
			400, "PARAM_ERROR", []string{"invalid URL escape"}},
		{"no extraData", sim.URL + "/sim/open?businessType=wxpayScoreUse",
			400, "PARAM_ERROR", []string{"extraData", "4185"}},
		{"unknown package", pageOpenURL(t, sim, use, map[string]string{"package": "AAAAnotAPackage0123"}),
			404, "ORDER_NOT_EXIST", []string{"no order has this package", "4186"}},
		{"wrong appId", pageOpenURL(t, sim, url.Values{"appId": {"wx0000"}, "path": {"pages/use/use"}}, map[string]string{"package": pkg}),
			400, "PARAM_ERROR", []string{"appId 不是支付分小程序", simulator.PayScoreAppID}},
		{"signed with the APIv3 key", pageOpenURL(t, sim, use,
			pageSignedUse(t, pkg, strconv.FormatInt(time.Now().Unix(), 10), fixtures.DemoAPIv3Key)),
			401, "SIGN_ERROR", []string{"商户签名校验失败", "sign_string", "&amp;key=&lt;APIv2 key&gt;", "other_key_matches", "APIv3 key"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := pageGet(t, http.MethodGet, tc.target)
			pageWantHTML(t, resp, body, tc.status, append([]string{`<code id="error-code">` + tc.code + `</code>`}, tc.fragments...)...)
		})
	}
	// The page shows what the control API answers for the same request: code, message, and
	// every detail value.
	t.Run("same diagnostic as the control API", func(t *testing.T) {
		extra := pageSignedUse(t, pkg, strconv.FormatInt(time.Now().Unix(), 10), "0123456789abcdef0123456789abcdef")
		status, apiErr := pageControl(t, sim, http.MethodPost, "/sim/v1/visits", map[string]any{"businessType": "wxpayScoreUse", "extraData": extra})
		resp, body := pageGet(t, http.MethodGet, pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreUse"}}, extra))
		want := []string{apiErr["code"].(string), apiErr["message"].(string)}
		for k, v := range apiErr["detail"].(map[string]any) {
			s, ok := v.(string)
			if !ok {
				b, _ := json.Marshal(v)
				s = string(b)
			}
			want = append(want, "<code>"+k+"</code>", pageEscape(s))
		}
		pageWantHTML(t, resp, body, status, want...)
	})
}

// pageEscape escapes s as html/template does in element content.
func pageEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;", "+", "&#43;").Replace(s)
}

func TestPageActions(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, pageOutOrderNo("A"), nil))

	// Before the user confirms there is no in-page return button, and posting to it anyway is
	// a 400 with a link back to the page.
	resp, body := pageGet(t, http.MethodPost, pageURL+"/return")
	pageWantHTML(t, resp, body, http.StatusBadRequest, "INVALID_REQUEST", "用户尚未确认订单",
		"the in-page return button appears after the user confirms", `href="/sim/visits/`+id+`"`)

	resp, body = pageGet(t, http.MethodPost, pageURL+"/confirm")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sim/visits/"+id {
		t.Fatalf("confirm: %d Location %q, want 303 to the page; %s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	resp, body = pageGet(t, http.MethodGet, pageURL)
	pageWantHTML(t, resp, body, http.StatusOK, "确认成功", "DOING · USER_CONFIRM", "return with params", "back icon without params")

	pageWantRedirect(t, http.MethodPost, pageURL+"/back")
	resp, body = pageGet(t, http.MethodGet, pageURL)
	pageWantHTML(t, resp, body, http.StatusOK, `id="app-show"`, `id="h5-callback"`, "nothing came back", "openBusinessView:cancel")
	if strings.Contains(body, "<form") {
		t.Errorf("the result page still offers a button:\n%s", body)
	}

	// Once the user has left, every action is refused on the page as on the API.
	for _, action := range []string{"confirm", "return", "back"} {
		resp, body := pageGet(t, http.MethodPost, pageURL+"/"+action)
		pageWantHTML(t, resp, body, http.StatusBadRequest, "INVALID_REQUEST", "the visit already ended with back_without_params")
	}
	// A visit that does not exist.
	resp, body = pageGet(t, http.MethodGet, sim.URL+"/sim/visits/no-such-visit")
	pageWantHTML(t, resp, body, http.StatusNotFound, "VISIT_NOT_EXIST")
	resp, body = pageGet(t, http.MethodPost, sim.URL+"/sim/visits/no-such-visit/confirm")
	pageWantHTML(t, resp, body, http.StatusNotFound, "VISIT_NOT_EXIST")
}

func TestPageEscapesOrderText(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	_, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, pageOutOrderNo("X"), func(b map[string]any) {
		b["service_introduction"] = "<b>x</b>"
		b["location"] = map[string]any{"start_location": "<script>alert(1)</script>"}
	}))
	resp, body := pageGet(t, http.MethodGet, pageURL)
	pageWantHTML(t, resp, body, http.StatusOK, "&lt;b&gt;x&lt;/b&gt;", "&lt;script&gt;alert(1)&lt;/script&gt;")
	for _, raw := range []string{"<b>", "<script"} {
		if strings.Contains(body, raw) {
			t.Errorf("page holds %s unescaped", raw)
		}
	}
}

func TestPageWarnings(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	pkg := pageCreate(t, sim, pageOutOrderNo("W"), nil)
	ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := pageWantRedirect(t, http.MethodGet,
		pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreUse"}}, pageSignedUse(t, pkg, ms, fixtures.DemoAPIv2Key)))
	resp, body := pageGet(t, http.MethodGet, sim.URL+"/sim/visits/"+id)
	pageWantHTML(t, resp, body, http.StatusOK, `id="warnings"`, "timestamp is in milliseconds")
}

func TestPageStatic(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	resp, body := pageGet(t, http.MethodGet, sim.URL+"/static/app.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "#07c160") {
		t.Errorf("GET /static/app.css: %d %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Type"), len(body))
	}
	if resp, _ := pageGet(t, http.MethodGet, sim.URL+"/static/nothing.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/nothing.css: %d, want 404", resp.StatusCode)
	}
}

// pageChromium finds Chromium: $CHROMIUM, else /usr/bin/chromium. Without it the browser tests
// skip, unless PAYSCORE_SIM_REQUIRE_BROWSER=1 (as in CI), which makes them fail.
func pageChromium(t *testing.T) string {
	t.Helper()
	path := os.Getenv("CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := exec.LookPath(path); err != nil {
		msg := fmt.Sprintf("no Chromium at %s (%v): install it with `apt-get install -y chromium` (Debian) or point $CHROMIUM at a Chrome or Chromium binary", path, err)
		if os.Getenv("PAYSCORE_SIM_REQUIRE_BROWSER") == "1" {
			t.Fatal(msg + "; PAYSCORE_SIM_REQUIRE_BROWSER=1 requires the browser tests to run")
		}
		t.Skip(msg)
	}
	return path
}

// pageBrowser starts one headless Chromium for the test and its subtests, with the extra
// options, and stops it when the test ends.
func pageBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(pageChromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		// Chromium runs as root in containers, where its sandbox cannot start.
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		// Without these Chromium keeps calling Google's services, which the closed network
		// of the tests refuses.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	opts = append(opts, extra...)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// pageTab opens a tab of the browser, a phone-sized one, closed when the test ends.
func pageTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// pageNavigate loads a page and checks its status.
func pageNavigate(t *testing.T, tab context.Context, target string, status int) {
	t.Helper()
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(target))
	if err != nil {
		t.Fatalf("navigate to %s: %v", target, err)
	}
	if int(resp.Status) != status {
		t.Fatalf("navigate to %s: status %d, want %d", target, resp.Status, status)
	}
}

// pageClick clicks a button, waits for the page it leads to, and checks that it loaded.
func pageClick(t *testing.T, tab context.Context, id string) {
	t.Helper()
	resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("click #%s: %v", id, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("click #%s: the next page has status %d", id, resp.Status)
	}
}

// pageText is the visible text (innerText) of the element with the id.
func pageText(t *testing.T, tab context.Context, id string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.ID(id)))
	if err != nil {
		t.Fatalf("text of #%s: %v", id, err)
	}
	return s
}

func pageWantText(t *testing.T, tab context.Context, id string, fragments ...string) {
	t.Helper()
	s := pageText(t, tab, id)
	for _, f := range fragments {
		if !strings.Contains(s, f) {
			t.Errorf("#%s reads %q, lacking %q", id, s, f)
		}
	}
}

// pageCount counts the elements that match a CSS selector.
func pageCount(t *testing.T, tab context.Context, selector string) int {
	t.Helper()
	js, _ := json.Marshal(selector)
	n, err := chromedp.Run(tab, chromedp.Evaluate[int](fmt.Sprintf("document.querySelectorAll(%s).length", js)))
	if err != nil {
		t.Fatalf("count %s: %v", selector, err)
	}
	return n
}

// pageJSON decodes the JSON shown in the element with the id.
func pageJSON(t *testing.T, tab context.Context, id string, v any) {
	t.Helper()
	s := pageText(t, tab, id)
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("#%s does not hold JSON: %v\n%s", id, err, s)
	}
}

// pageAppShow is what the result page says App.onShow receives.
type pageAppShow struct {
	Scene        int `json:"scene"`
	ReferrerInfo struct {
		AppID     string            `json:"appId"`
		ExtraData map[string]string `json:"extraData"`
	} `json:"referrerInfo"`
}

func pageWantAppShow(t *testing.T, tab context.Context, queryID string) {
	t.Helper()
	var show pageAppShow
	pageJSON(t, tab, "app-show", &show)
	if show.Scene != 1038 || show.ReferrerInfo.AppID != "wxd8f3793ea3b935b8" {
		t.Errorf("#app-show: scene %d, appId %q; want 1038, wxd8f3793ea3b935b8", show.Scene, show.ReferrerInfo.AppID)
	}
	switch {
	case queryID == "" && show.ReferrerInfo.ExtraData != nil:
		t.Errorf("#app-show carries extraData %v; the back icon returns none", show.ReferrerInfo.ExtraData)
	case queryID != "" && show.ReferrerInfo.ExtraData["query_id"] != queryID:
		t.Errorf("#app-show extraData %v, want query_id %s", show.ReferrerInfo.ExtraData, queryID)
	}
}

// pageScreenshot saves the page as docs/screenshots/name when PAYSCORE_SIM_SCREENSHOTS=1.
func pageScreenshot(t *testing.T, tab context.Context, name string) {
	t.Helper()
	if os.Getenv("PAYSCORE_SIM_SCREENSHOTS") != "1" {
		return
	}
	png, err := chromedp.Run(tab, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("saved %s", filepath.Join(dir, name))
}

// TestBrowserPages drives the pages in headless Chromium by clicking their buttons, one tab per
// subtest, all in one browser.
func TestBrowserPages(t *testing.T) {
	browser := pageBrowser(t)
	sim := simtest.Start(t, app.Options{})

	t.Run("ConfirmThenReturnWithParams", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("B")
		id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))

		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageWantText(t, tab, "confirm-button", "确认订单", "confirm")
		pageWantText(t, tab, "back-button", "返回", "back icon without params")
		pageWantText(t, tab, "mchid", fixtures.DemoMchID)
		pageWantText(t, tab, "service-introduction", "共享充电宝")
		pageWantText(t, tab, "service-time", "确认后开始", "starts when you confirm", "借出后开始计费")
		pageWantText(t, tab, "location", "深圳湾万象城 B1", "任意网点归还")
		pageWantText(t, tab, "risk-fund", "¥100.00", "预估订单费用", "充电宝预估费用")
		pageWantText(t, tab, "post-payments", "充电宝租借费", "每小时3元，封顶30元", "¥3.00")
		pageWantText(t, tab, "post-discounts", "新用户优惠", "首单减1元")
		pageWantText(t, tab, "out-order-no", no)
		pageWantText(t, tab, "order-state", "CREATED")
		if n := pageCount(t, tab, "#return-button"); n != 0 {
			t.Errorf("the confirmation page shows %d return buttons; it appears after confirming", n)
		}
		pageScreenshot(t, tab, "confirm.png")

		pageClick(t, tab, "confirm-button")
		pageWantText(t, tab, "confirmed-page", "确认成功", "Confirmed", "DOING · USER_CONFIRM")
		pageWantText(t, tab, "return-button", "返回商户", "return with params")
		pageWantText(t, tab, "back-button", "back icon without params")

		pageClick(t, tab, "return-button")
		queryID := pageVisitQueryID(t, sim, id)
		if queryID == "" {
			t.Fatal("the control API reports no query_id after return with params")
		}
		pageWantAppShow(t, tab, queryID)
		pageWantText(t, tab, "outcome-sentence", "query_id returned: "+queryID, "GET /v3/payscore/serviceorder?")
		pageWantText(t, tab, "order-state", "DOING · USER_CONFIRM")
		if n := pageCount(t, tab, "form"); n != 0 {
			t.Errorf("the result page still offers %d buttons", n)
		}
		pageScreenshot(t, tab, "result.png")
		pageWantState(t, sim, "query_id", queryID, "DOING", "USER_CONFIRM")
	})

	t.Run("AuthorizeThenReturn", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		resp, err := sim.DemoClient(t).Do(context.Background(), http.MethodPost, "/v3/payscore/permissions", map[string]any{
			"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "authorization_code": "PAGE-AUTH-1",
			"notify_url": "https://merchant.example.com/payscore/permission"})
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("permissions: %v %v", err, resp)
		}
		var tok struct {
			Token string `json:"apply_permissions_token"`
		}
		if err := resp.Decode(&tok); err != nil || tok.Token == "" {
			t.Fatalf("no token in %s", resp.Body)
		}
		pageNavigate(t, tab, pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreEnable"}},
			map[string]string{"apply_permissions_token": tok.Token}), http.StatusOK)
		pageWantText(t, tab, "authorization-code", "PAGE-AUTH-1")
		pageWantText(t, tab, "authorization-state", "UNBINDUSER")
		pageClick(t, tab, "authorize-button")
		pageWantText(t, tab, "authorized-page", "授权成功", "Authorized")
		pageWantText(t, tab, "authorization-state", "AVAILABLE")
		pageClick(t, tab, "return-button")
		pageWantAppShow(t, tab, "")
		pageWantText(t, tab, "outcome-sentence", "/v3/payscore/permissions/authorization-code/PAGE-AUTH-1?service_id="+fixtures.DemoServiceID)
	})

	t.Run("ConfirmThenBackIcon", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("C")
		id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageClick(t, tab, "confirm-button")
		pageClick(t, tab, "back-button")
		pageWantAppShow(t, tab, "")
		pageWantText(t, tab, "outcome-sentence", "nothing came back", "out_order_no="+no)
		pageWantText(t, tab, "order-state", "DOING · USER_CONFIRM")
		if q := pageVisitQueryID(t, sim, id); q != "" {
			t.Errorf("the back icon issued query_id %q", q)
		}
		pageWantState(t, sim, "out_order_no", no, "DOING", "USER_CONFIRM")
	})

	t.Run("BackIconWithoutConfirming", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("D")
		_, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageClick(t, tab, "back-button")
		pageWantAppShow(t, tab, "")
		pageWantText(t, tab, "order-state", "CREATED")
		pageWantState(t, sim, "out_order_no", no, "CREATED", "")
	})

	t.Run("H5ReturnWithParams", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		pkg := pageCreate(t, sim, pageOutOrderNo("H"), nil)
		qs := url.Values{"package": {pkg}}.Encode()
		pageNavigate(t, tab, sim.URL+"/sim/open?businessType=wxpayScoreUse&queryString="+url.QueryEscape(qs), http.StatusOK)
		loc, err := chromedp.Run(tab, chromedp.Location())
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(loc)
		if err != nil {
			t.Fatal(err)
		}
		m := pageVisitPath.FindStringSubmatch(u.Path)
		if m == nil {
			t.Fatalf("/sim/open led to %s, not to a visit page", loc)
		}
		pageClick(t, tab, "confirm-button")
		pageClick(t, tab, "return-button")
		var cb struct {
			ErrCode   *int              `json:"err_code"`
			ErrMsg    string            `json:"err_msg"`
			ExtraData map[string]string `json:"extraData"`
		}
		pageJSON(t, tab, "h5-callback", &cb)
		queryID := pageVisitQueryID(t, sim, m[1])
		if queryID == "" {
			t.Fatal("the control API reports no query_id after return with params")
		}
		if cb.ErrCode == nil || *cb.ErrCode != 0 || cb.ErrMsg != "openBusinessView:ok" || cb.ExtraData["query_id"] != queryID {
			t.Errorf("#h5-callback reads %s, want err_code 0, err_msg openBusinessView:ok, extraData.query_id %s",
				pageText(t, tab, "h5-callback"), queryID)
		}
		pageWantState(t, sim, "query_id", queryID, "DOING", "USER_CONFIRM")
	})

	t.Run("RejectedExtraData", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		use := url.Values{"businessType": {"wxpayScoreUse"}}

		pageNavigate(t, tab, pageOpenURL(t, sim, use, map[string]string{"package": "AAAAnotAPackage0123"}), http.StatusNotFound)
		pageWantText(t, tab, "error-code", "ORDER_NOT_EXIST")
		pageWantText(t, tab, "error-detail", "err_code", "4186", "issue", "no order has this package")
		pageWantText(t, tab, "error-request", "businessType", "wxpayScoreUse", "AAAAnotAPackage0123")

		pkg := pageCreate(t, sim, pageOutOrderNo("S"), nil)
		extra := pageSignedUse(t, pkg, strconv.FormatInt(time.Now().Unix(), 10), fixtures.DemoAPIv2Key)
		extra["sign"] = strings.Repeat("0", 64)
		pageNavigate(t, tab, pageOpenURL(t, sim, use, extra), http.StatusUnauthorized)
		pageWantText(t, tab, "error-code", "SIGN_ERROR")
		pageWantText(t, tab, "error-message", "商户签名校验失败")
		pageWantText(t, tab, "error-detail", "sign_string", "mch_id="+fixtures.DemoMchID+"&nonce_str=", "&key=<APIv2 key>", "key_tried", "APIv2 key")
	})

	t.Run("EscapesOrderText", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		_, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, pageOutOrderNo("E"), func(b map[string]any) {
			b["service_introduction"] = "<b>x</b>"
			b["location"] = map[string]any{"start_location": "<script>alert(1)</script>"}
		}))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageWantText(t, tab, "service-introduction", "<b>x</b>")
		pageWantText(t, tab, "location", "<script>alert(1)</script>")
		for _, sel := range []string{"#service-introduction b", "b", "script"} {
			if n := pageCount(t, tab, sel); n != 0 {
				t.Errorf("the page has %d %q elements: order text became markup", n, sel)
			}
		}
	})

	t.Run("DetailVisit", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("V")
		useID, _ := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		if status, v := pageControl(t, sim, http.MethodPost, "/sim/v1/visits/"+useID+"/confirm", nil); status != http.StatusOK {
			t.Fatalf("confirm: %d %v", status, v)
		}
		pageNavigate(t, tab, pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreDetail"}}, pageSignedDetail(t, no)), http.StatusOK)
		pageWantText(t, tab, "detail-state", "DOING · USER_CONFIRM", "进行中")
		pageWantText(t, tab, "out-order-no", no)
		pageWantText(t, tab, "total-amount", "¥")
		pageWantText(t, tab, "post-payments", "充电宝租借费")
		pageWantText(t, tab, "return-button", "return with params")
		pageWantText(t, tab, "back-button", "back icon without params")
		pageClick(t, tab, "return-button")
		pageWantAppShow(t, tab, "")
		pageWantText(t, tab, "outcome-sentence", "no query_id")
	})
}
