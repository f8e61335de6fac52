package http_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestBrowserPages: the user's pages in a real headless Chromium (with the helpers of
// helpers_browser_test.go) that clicks their buttons as a user would.

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
		extra := signedUse(pkg, fixtures.DemoAPIv2Key)
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
		pageNavigate(t, tab, pageOpenURL(t, sim, url.Values{"businessType": {"wxpayScoreDetail"}}, signedDetail(no, fixtures.DemoServiceID)), http.StatusOK)
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
