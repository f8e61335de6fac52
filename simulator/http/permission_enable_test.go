package http_test

// The wxpayScoreEnable visit's other forms and its token's expiry, and permissions kept apart
// per merchant.

import (
	"net/http"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestEnableVisitTokenExpires(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	token := permApply(t, demo, "AUTH-EXPIRE-0001", permNotifyURL)
	opened := permOpenEnable(t, demo, token) // opened within the hour
	lateToken := permApply(t, demo, "AUTH-EXPIRE-0002", permNotifyURL)
	permControl(t, demo, http.MethodPost, "/sim/v1/clock/advance", map[string]any{"duration": "61m"}, http.StatusOK, nil)

	resp := permControl(t, demo, http.MethodPost, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": lateToken},
	}, http.StatusBadRequest, nil)
	e := resp.Err()
	if e.Code != "INVALID_REQUEST" || e.Message != "apply_permissions_token 已过期" || e.Detail["err_code"] != float64(4186) ||
		!strings.Contains(e.Detail["issue"].(string), "valid for one hour") {
		t.Errorf("open with an expired token: %s", resp.Body)
	}
	// A page opened before the hour was up cannot authorize after it either.
	resp = permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+opened.VisitID+"/authorize", nil, http.StatusBadRequest, nil)
	if e := resp.Err(); e.Code != "INVALID_REQUEST" || !strings.Contains(e.Message, "已过期") {
		t.Errorf("authorize with an expired token: %s", resp.Body)
	}
	// A fresh pre-authorization of the same code works.
	fresh := permApply(t, demo, "AUTH-EXPIRE-0002", permNotifyURL)
	v := permOpenEnable(t, demo, fresh)
	var authorized permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/authorize", nil, http.StatusOK, &authorized)
	if !authorized.Authorized {
		t.Errorf("authorize with a fresh token: %+v", authorized)
	}
}

// TestEnableVisitForms opens wxpayScoreEnable the other documented ways: H5's queryString and
// navigateToMiniProgram's pages/use/enable; back leaves without authorizing.
func TestEnableVisitForms(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	h5 := permApply(t, demo, "AUTH-FORM-H5", permNotifyURL)
	var v permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "queryString": "apply_permissions_token=" + h5,
	}, http.StatusCreated, &v)
	var back simulator.AppShow
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/back", nil, http.StatusOK, &back)
	if back.ReferrerInfo.ExtraData != nil {
		t.Errorf("back: %+v, want nothing passed back", back)
	}
	var got struct {
		permVisit
		H5Callback *simulator.H5Callback `json:"h5Callback"`
	}
	permControl(t, demo, http.MethodGet, "/sim/v1/visits/"+v.VisitID, nil, http.StatusOK, &got)
	if got.Permission == nil || got.Permission.State != simulator.AuthorizationUnbindUser || got.Authorized ||
		got.H5Callback == nil || got.H5Callback.ErrMsg != "openBusinessView:cancel" {
		t.Errorf("after back: %+v (h5Callback %+v), want the permission still UNBINDUSER and a cancel callback", got.permVisit, got.H5Callback)
	}

	nav := permApply(t, demo, "AUTH-FORM-NAV", permNotifyURL)
	permControl(t, demo, http.MethodPost, "/sim/v1/visits", map[string]any{
		"appId": simulator.PayScoreAppID, "path": "pages/use/enable",
		"extraData": map[string]any{"apply_permissions_token": nav, "foo": "bar"},
	}, http.StatusCreated, &v)
	if v.BusinessType != "wxpayScoreEnable" || !strings.Contains(strings.Join(v.Warnings, "\n"), "[foo]") {
		t.Errorf("navigate to pages/use/enable: %+v, want a wxpayScoreEnable visit warning about foo", v)
	}
	// The default user is one user per appid: the openid its visit shows, which authorizing
	// binds; a second authorization of the same service by that user is refused, as production
	// refuses a user's second authorization.
	var a1 permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/authorize", nil, http.StatusOK, &a1)
	if want := simulator.DefaultOpenID(fixtures.DemoAppID); a1.OpenID != want || v.OpenID != want {
		t.Errorf("default openid %s (visit opened as %s), want %s", a1.OpenID, v.OpenID, want)
	}
	other := permOpenEnable(t, demo, permApply(t, demo, "AUTH-FORM-NAV2", ""))
	if other.OpenID != a1.OpenID {
		t.Errorf("another visit's default user is %s, want the same user %s", other.OpenID, a1.OpenID)
	}
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+other.VisitID+"/authorize", nil, http.StatusBadRequest, nil)
	var a2 permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+other.VisitID+"/authorize", map[string]any{"openid": "oUpF8uSecondUser00000000000"}, http.StatusOK, &a2)
	if a2.OpenID != "oUpF8uSecondUser00000000000" {
		t.Errorf("authorized as %s, want the openid given", a2.OpenID)
	}
}

// TestPermissionMerchantsApart: two merchants may use the same authorization_code, and neither
// sees the other's permission.
func TestPermissionMerchantsApart(t *testing.T) {
	t.Parallel()
	other, key := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, key)
	const code = "AUTH-SHARED-0001"

	permApply(t, demo, code, permNotifyURL)
	permControl(t, oc, http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": errOtherServiceID, "appid": errOtherAppID, "authorization_code": code,
	}, http.StatusOK, nil)
	var rec map[string]any
	permControl(t, demo, http.MethodGet, "/v3/payscore/permissions/authorization-code/"+code+"?service_id="+fixtures.DemoServiceID, nil, http.StatusOK, &rec)
	if rec["mchid"] != fixtures.DemoMchID || rec["appid"] != fixtures.DemoAppID {
		t.Errorf("demo's query: %v", rec)
	}
	rec = nil
	permControl(t, oc, http.MethodGet, "/v3/payscore/permissions/authorization-code/"+code+"?service_id="+errOtherServiceID, nil, http.StatusOK, &rec)
	if rec["mchid"] != errOtherMchID || rec["appid"] != errOtherAppID || rec["notify_url"] != nil {
		t.Errorf("other merchant's query: %v", rec)
	}
	// The other merchant's user is not the demo merchant's: its appid is not even bound.
	permControl(t, oc, http.MethodPost, "/sim/v1/permissions/"+errOtherMchID+"/authorize", map[string]any{
		"service_id": errOtherServiceID, "appid": errOtherAppID, "openid": "oUpF8uOtherMerchantUser00001",
	}, http.StatusOK, nil)
	resp := permControl(t, demo, http.MethodGet, "/v3/payscore/permissions/openid/oUpF8uOtherMerchantUser00001?appid="+errOtherAppID+"&service_id="+errOtherServiceID, nil, http.StatusForbidden, nil)
	if resp.Err().Code != "NO_AUTH" {
		t.Errorf("demo querying the other merchant's user: %s", resp.Body)
	}
	resp = permControl(t, demo, http.MethodGet, "/v3/payscore/permissions/openid/oUpF8uOtherMerchantUser00001?appid="+fixtures.DemoAppID+"&service_id="+fixtures.DemoServiceID, nil, http.StatusNotFound, nil)
	if resp.Err().Code != "ORDER_NOT_EXIST" {
		t.Errorf("demo querying the other merchant's user under its own appid: %s", resp.Body)
	}
}
