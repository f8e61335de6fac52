package http_test

import (
	"net/http"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestBrowserPageChoices drives the user's choices beyond confirm on the page in headless
// Chromium: decline (the in-page return without confirming), the 暂不满足 page, and the phone's
// back button. A return with params does not mean the order was confirmed: both returns hand
// back a query_id for an order that is still CREATED.
func TestBrowserPageChoices(t *testing.T) {
	browser := pageBrowser(t)
	sim := simtest.Start(t, app.Options{})

	t.Run("Decline", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("DECL")
		id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageWantText(t, tab, "decline-button", "不确认并返回", "decline")
		pageWantText(t, tab, "not_eligible-button", "暂不满足", "not eligible")
		pageWantText(t, tab, "android_back-button", "手机返回键", "android back button")
		pageClick(t, tab, "decline-button")
		queryID := pageVisitQueryID(t, sim, id)
		if queryID == "" {
			t.Fatal("the control API reports no query_id after a decline")
		}
		pageWantAppShow(t, tab, queryID)
		pageWantText(t, tab, "result-page", "without confirming (declined)")
		pageWantText(t, tab, "order-state", "CREATED")
		pageWantState(t, sim, "query_id", queryID, "CREATED", "")
	})

	t.Run("NotEligibleThenReturn", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("INEL")
		id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageClick(t, tab, "not_eligible-button")
		pageWantText(t, tab, "not-eligible-page", "暂不满足", "Not eligible", "CREATED")
		// Only the in-page return on the page itself; WeChat's back icon and the phone's remain.
		if n := pageCount(t, tab, ".actions form"); n != 1 {
			t.Errorf("the 暂不满足 page shows %d buttons, want only the return", n)
		}
		for _, gone := range []string{"#confirm-button", "#decline-button", "#not_eligible-button"} {
			if n := pageCount(t, tab, gone); n != 0 {
				t.Errorf("the 暂不满足 page shows %s", gone)
			}
		}
		pageWantText(t, tab, "back-button", "back icon without params")
		pageClick(t, tab, "return-button")
		queryID := pageVisitQueryID(t, sim, id)
		pageWantAppShow(t, tab, queryID)
		pageWantText(t, tab, "result-page", "not eligible")
		pageWantState(t, sim, "query_id", queryID, "CREATED", "")
	})

	t.Run("AndroidBackButton", func(t *testing.T) {
		t.Parallel()
		tab := pageTab(t, browser)
		no := pageOutOrderNo("ANDR")
		id, pageURL := pageOpenUse(t, sim, pageCreate(t, sim, no, nil))
		pageNavigate(t, tab, pageURL, http.StatusOK)
		pageClick(t, tab, "confirm-button")
		pageClick(t, tab, "android_back-button")
		pageWantAppShow(t, tab, "")
		pageWantText(t, tab, "result-page", "phone's own back button", "fail")
		if q := pageVisitQueryID(t, sim, id); q != "" {
			t.Errorf("the phone's back button issued query_id %q", q)
		}
		if n := pageCount(t, tab, "form"); n != 0 {
			t.Errorf("the result page still offers %d buttons", n)
		}
		pageWantState(t, sim, "out_order_no", no, "DOING", "USER_CONFIRM")
	})
}
