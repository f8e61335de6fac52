package http_test

// Tests of the user's pages over plain HTTP; pages_browser_test.go clicks their buttons in a
// real headless Chromium as a user would. The helpers shared with other files are in
// helpers_visit_test.go.
//
// Package-level names of the pages tests start with page so that they do not clash with the
// other test files of the package.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

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
			signedUse(pkg, fixtures.DemoAPIv3Key)),
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
		extra := signedUse(pkg, "0123456789abcdef0123456789abcdef")
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
	extra := signedUse(pkg, fixtures.DemoAPIv2Key)
	extra["timestamp"] = strconv.FormatInt(time.Now().UnixMilli(), 10)
	id := pageWantRedirect(t, http.MethodGet,
		pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreUse"}}, withSign(extra, fixtures.DemoAPIv2Key)))
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
