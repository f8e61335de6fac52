package http_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// dashOnlyRule returns the one fault rule in force, failing unless there is exactly one.
func dashOnlyRule(t *testing.T, sim *simtest.Sim) simulator.FaultRule {
	t.Helper()
	rules := sim.Server.Service.Faults.List("")
	if len(rules) != 1 {
		t.Fatalf("%d fault rules in force, want 1: %+v", len(rules), rules)
	}
	return rules[0]
}

func TestDashFaults(t *testing.T) {
	t.Parallel()
	sim := dashStart(t)
	faults := sim.URL + "/dashboard/faults"
	dashPage(t, faults, http.StatusOK, "No fault rules", `href="/dashboard/faults" class="current" id="nav-faults"`,
		`<option value="direct_complete">`, `<option value="certificates">`, `<option value="system_error_after_commit"`, `<option value="reset"`,
		`<option value="refund_abnormal"`, `<option value="refund_closed"`)

	dashWantSeeOther(t, faults, url.Values{"mchid": {fixtures.DemoMchID}, "operation": {"create"},
		"fault": {"system_error_after_commit"}, "times": {"2"}}, "/dashboard/faults")
	rule := dashOnlyRule(t, sim)
	dashPage(t, faults, http.StatusOK, `id="fault-`+rule.ID+`"`, "2 of 2", `id="fault-`+rule.ID+`-delete"`)

	// The merchant's create is committed, then refused; the request log says who did it.
	no := dashOutOrderNo("F")
	resp, err := sim.DemoClient(t).Do(t.Context(), http.MethodPost, "/v3/payscore/serviceorder", demoOrderBody(no))
	if err != nil || resp.Status != http.StatusInternalServerError {
		t.Fatalf("create under the rule: %v %+v, want 500", err, resp)
	}
	rec := faultRecord(t, sim, rule.ID)
	dashPage(t, sim.URL+"/dashboard/requests", http.StatusOK, `id="req-`+strconv.FormatInt(rec.ID, 10)+`-injected"`,
		"injected · system_error_after_commit", "<code>"+rule.ID+"</code>", "<code>committed_status</code>")
	dashPage(t, faults, http.StatusOK, "1 of 2")
	dashPage(t, sim.URL+dashOrderPath(no), http.StatusOK, "injected · system_error_after_commit")

	dashWantSeeOther(t, sim.URL+"/dashboard/faults/"+rule.ID+"/delete", nil, "/dashboard/faults")
	dashPage(t, faults, http.StatusOK, "No fault rules")

	dashWantRejected(t, faults, url.Values{"mchid": {fixtures.DemoMchID}, "operation": {"create"}, "fault": {"gremlins"}},
		http.StatusBadRequest, "PARAM_ERROR", "system_error, system_error_after_commit")
	dashWantRejected(t, faults, url.Values{"mchid": {fixtures.DemoMchID}, "operation": {"create"}, "fault": {"reset"}, "times": {"twice"}},
		http.StatusBadRequest, "PARAM_ERROR", "whole number")
	dashWantRejected(t, sim.URL+"/dashboard/faults/"+rule.ID+"/delete", nil, http.StatusNotFound, "NOT_FOUND", rule.ID)
}

func TestBrowserDashFaults(t *testing.T) {
	browser := pageBrowser(t)
	sim := dashStart(t)
	tab := dashTab(t, browser)
	pageNavigate(t, tab, sim.URL+"/", http.StatusOK)
	pageClick(t, tab, "nav-faults")
	pageWantText(t, tab, "faults", "No fault rules")

	for id, value := range map[string]string{"fault-operation": "complete", "fault-kind": "delay"} {
		if err := chromedp.Do(tab, chromedp.SetValue(chromedp.ID(id), value)); err != nil {
			t.Fatalf("choose %s in #%s: %v", value, id, err)
		}
	}
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.ID("fault-delay"), "3s")); err != nil {
		t.Fatal(err)
	}
	pageClick(t, tab, "fault-submit")
	rule := dashOnlyRule(t, sim)
	if rule.Operation != simulator.FaultComplete || rule.Fault != simulator.FaultDelay || rule.Delay != "3s" {
		t.Errorf("the form set %+v, want a 3s delay on complete", rule)
	}
	pageWantText(t, tab, "fault-"+rule.ID, "complete", "delay", "3s", "1 of 1")
	pageClick(t, tab, "fault-"+rule.ID+"-delete")
	pageWantText(t, tab, "faults", "No fault rules")
}
