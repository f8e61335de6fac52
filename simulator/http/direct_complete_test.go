package http_test

// direct-complete for an authorized user, through the control API's signed client
// and through gopay.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/go-pay/gopay"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestDirectComplete(t *testing.T) {
	t.Parallel()
	other, key := errOtherMerchant(t)
	other.Settings.Deduction = simulator.DeductFail
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	const openid = "oUpF8uDirectComplete00000001"
	permSeed(t, demo, openid, "", "")

	directCompleteDeducted(t, sim, demo, openid)
	directCompleteWaiting(t, sim.Client(t, errOtherMchID, errOtherSerial, key))
	directCompleteQuiet(t, sim, demo, openid)
	directCompleteGoPay(t, sim, openid)
}

// directCompleteDeducted: for the demo merchant, whose deductions succeed, the order is DONE
// once Pay Score has deducted, and repeating the call answers as the first time.
func directCompleteDeducted(t *testing.T, sim *simtest.Sim, demo *client.Client, openid string) {
	no := sdkOutOrderNo(t, "direct")
	body := permDirectBody(no, openid)
	var done map[string]any
	permControl(t, demo, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", body, http.StatusOK, &done)
	// Like complete, direct-complete answers before Pay Score deducts.
	if done["state"] != "DOING" || done["state_description"] != "MCH_COMPLETE" || done["total_amount"] != float64(500) ||
		done["out_order_no"] != no || done["mchid"] != fixtures.DemoMchID || !sdkOrderIDPattern.MatchString(done["order_id"].(string)) ||
		done["notify_url"] != sdkNotifyURL || done["attach"] != "direct" {
		t.Errorf("direct-complete: %v, want DOING/MCH_COMPLETE, total 500", done)
	}
	if _, ok := done["risk_fund"]; ok {
		t.Errorf("direct-complete answers risk_fund; the request has none: %v", done)
	}
	sim.WaitDeducted(t, fixtures.DemoMchID, no)
	var again map[string]any
	permControl(t, demo, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", body, http.StatusOK, &again)
	if sdkJSON(again) != sdkJSON(done) {
		t.Errorf("repeated direct-complete after the deduction: %v, want the first answer %v", again, done)
	}
	var q simulator.Order
	permControl(t, demo, http.MethodGet, "/v3/payscore/serviceorder?out_order_no="+no+"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, nil, http.StatusOK, &q)
	if q.State != simulator.StateDone || q.StateDescription != "" || q.RiskFund != (simulator.RiskFund{}) || q.OpenID != openid || q.Collection == nil || q.Collection.State != simulator.UserPaid ||
		q.Collection.PaidAmount != 500 || len(q.Collection.Details) != 1 || q.Collection.Details[0].PaidType != "NEWTON" {
		t.Errorf("query after direct-complete: %+v (collection %+v)", q, q.Collection)
	}
	paid := permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserPaid)
	if len(paid) != 1 || paid[0].OutOrderNo != no || paid[0].NotifyURL != sdkNotifyURL {
		t.Errorf("USER_PAID notifications after direct-complete: %+v, want one for %s", paid, no)
	}
	var rawQuery map[string]any
	permControl(t, demo, http.MethodGet, "/v3/payscore/serviceorder?out_order_no="+no+"&service_id="+fixtures.DemoServiceID+"&appid="+fixtures.DemoAppID, nil, http.StatusOK, &rawQuery)
	if _, ok := rawQuery["risk_fund"]; ok {
		t.Errorf("a direct-complete order has a risk_fund: %v", rawQuery)
	}
	if n := len(permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserConfirm)); n != 0 {
		t.Errorf("direct-complete queued %d USER_CONFIRM notifications, want none", n)
	}
}

// directCompleteWaiting: for a merchant whose deductions fail (oc, the second merchant's
// client), the order waits in USER_PAYING, as after complete.
func directCompleteWaiting(t *testing.T, oc *client.Client) {
	const otherUser = "oUpF8uDirectComplete00000002"
	permControl(t, oc, http.MethodPost, "/sim/v1/permissions/"+errOtherMchID+"/authorize", map[string]any{
		"service_id": errOtherServiceID, "appid": errOtherAppID, "openid": otherUser,
	}, http.StatusOK, nil)
	ob := permDirectBody(sdkOutOrderNo(t, "direct-fail"), otherUser)
	ob["appid"], ob["service_id"] = errOtherAppID, errOtherServiceID
	var waiting map[string]any
	permControl(t, oc, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", ob, http.StatusOK, &waiting)
	if waiting["state"] != "DOING" || waiting["state_description"] != "MCH_COMPLETE" {
		t.Errorf("direct-complete with deductions failing: %v, want DOING/MCH_COMPLETE", waiting)
	}
	var oq simulator.Order
	permControl(t, oc, http.MethodGet, "/v3/payscore/serviceorder?out_order_no="+ob["out_order_no"].(string)+"&service_id="+errOtherServiceID+"&appid="+errOtherAppID, nil, http.StatusOK, &oq)
	if oq.Collection == nil || oq.Collection.State != simulator.UserPaying || oq.Collection.PayingAmount != 500 {
		t.Errorf("query: collection %+v, want USER_PAYING 500", oq.Collection)
	}
}

// directCompleteQuiet: notify_url is optional; the order is made, and no notification is
// queued for it.
func directCompleteQuiet(t *testing.T, sim *simtest.Sim, demo *client.Client, openid string) {
	quiet := permDirectBody(sdkOutOrderNo(t, "dquiet"), openid)
	delete(quiet, "notify_url")
	var quietDone map[string]any
	permControl(t, demo, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", quiet, http.StatusOK, &quietDone)
	if _, ok := quietDone["notify_url"]; ok || quietDone["state"] != "DOING" {
		t.Errorf("direct-complete without notify_url: %v", quietDone)
	}
	if o := sim.WaitDeducted(t, fixtures.DemoMchID, quiet["out_order_no"].(string)); o.State != simulator.StateDone {
		t.Errorf("direct-complete without notify_url: %s after the deduction, want DONE", o.State)
	}
	if n := len(permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserPaid)); n != 1 {
		t.Errorf("%d USER_PAID notifications, want only the first order's", n)
	}
}

// directCompleteGoPay: gopay posts direct-complete without /v3; production answers 404, so
// does the simulator, with a hint.
func directCompleteGoPay(t *testing.T, sim *simtest.Sim, openid string) {
	gp := gopayCertClient(t, sim)
	rsp, err := gp.V3ScoreDirectComplete(context.Background(), gopay.BodyMap(permDirectBody(sdkOutOrderNo(t, "gopay-dc"), openid)))
	gopayWantError(t, "gopay direct-complete", rsp, err, http.StatusNotFound, "NOT_FOUND", "请求的资源不存在")
	if _, body, _ := gopayOutcome(t, rsp); !strings.Contains(body, "/v3/payscore/serviceorder/direct-complete") {
		t.Errorf("gopay direct-complete: %s, want a hint at the /v3 path", body)
	}
}
