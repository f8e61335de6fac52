package http_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestDashClockOfAnotherMerchant: the overview's clock card shows and advances the merchant
// it is asked for (?clock=); the demo merchant's clock, on every page's top bar, stays.
func TestDashClockOfAnotherMerchant(t *testing.T) {
	t.Parallel()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	advance := sim.URL + "/dashboard/clock/advance"
	dashWantSeeOther(t, advance, url.Values{"mchid": {other.MchID}, "duration": {"2d"}}, "/?clock="+other.MchID)
	if got := dashClock(t, sim); got != 0 {
		t.Errorf("advancing the other merchant moved the demo merchant's clock by %v s", got)
	}
	dashPage(t, sim.URL+"/?clock="+other.MchID, http.StatusOK,
		`<code id="clock-mchid">`+other.MchID+`</code>`, `<span id="clock-offset">&#43;2d</span>`,
		`<option value="`+other.MchID+`" selected>`, `name="mchid" value="`+other.MchID+`"`)
	dashPage(t, sim.URL+"/", http.StatusOK, `<code id="clock-mchid">`+fixtures.DemoMchID+`</code>`, `<span id="clock-offset">0</span>`)
	resp, body := dashPost(t, advance, url.Values{"mchid": {"1999999999"}, "duration": {"1h"}}, nil)
	pageWantHTML(t, resp, body, http.StatusBadRequest, `<code id="error-code">PARAM_ERROR</code>`, "1999999999")
}
