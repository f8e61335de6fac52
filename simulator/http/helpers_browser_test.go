package http_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Helpers of the tests that run in headless Chromium (TestBrowser* and the shim's tests): the
// browser, its tabs, and what a page shows.

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

// dashTab opens a desktop-sized tab of the browser, closed when the test ends.
func dashTab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	tab, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(1440, 900)); err != nil {
		t.Fatalf("open tab: %v", err)
	}
	ctx, cancelTimeout := context.WithTimeout(tab, time.Minute)
	t.Cleanup(cancelTimeout)
	return ctx
}

// dashVisible checks that the element with the id is rendered (not inside a closed <details>,
// not hidden).
func dashVisible(t *testing.T, tab context.Context, id string) {
	t.Helper()
	js, _ := json.Marshal(id)
	ok, err := chromedp.Run(tab, chromedp.Evaluate[bool](fmt.Sprintf(
		"(e => !!e && e.getClientRects().length > 0 && getComputedStyle(e).visibility !== 'hidden')(document.getElementById(%s))", js)))
	if err != nil {
		t.Fatalf("visibility of #%s: %v", id, err)
	}
	if !ok {
		t.Errorf("#%s is not visible", id)
	}
}

// dashReloadUntil reloads the page until it has an element that matches the CSS selector.
func dashReloadUntil(t *testing.T, tab context.Context, target, selector string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		pageNavigate(t, tab, target, http.StatusOK)
		if pageCount(t, tab, selector) > 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still has no %s", target, selector)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
