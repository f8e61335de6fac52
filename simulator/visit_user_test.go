package simulator_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestDefaultOpenID checks the default user: one openid per appid, stable, shaped like
// production's, and another openid under another appid (openids are per user and per appid).
func TestDefaultOpenID(t *testing.T) {
	a, b := simulator.DefaultOpenID("wxd678efh567hg6787"), simulator.DefaultOpenID("wx1234567890abcdef")
	if a != simulator.DefaultOpenID("wxd678efh567hg6787") {
		t.Error("DefaultOpenID is not stable")
	}
	if a == b {
		t.Errorf("two appids share the default openid %s", a)
	}
	if len(a) != 28 || !strings.HasPrefix(a, "oUpF8u") {
		t.Errorf("DefaultOpenID = %q, want 28 characters starting oUpF8u", a)
	}
}

// TestConfirmStoresTheUser checks that confirming binds the visit's user to the order before
// USER_CONFIRM is queued, so the notification carries the openid; a user given at confirm wins.
func TestConfirmStoresTheUser(t *testing.T) {
	for _, tc := range []struct{ visitUser, given, want string }{
		{"", "", simulator.DefaultOpenID(testAppID)},
		{testOpenID, "", testOpenID},
		{testOpenID, "oUpF8uGivenAtConfirm00000000", "oUpF8uGivenAtConfirm00000000"},
	} {
		v := visitOf(simulator.BusinessUse, orderIn(t, created), nil)
		v.OpenID = tc.visitUser
		if err := v.Confirm(tc.given, testNow); err != nil {
			t.Fatal(err)
		}
		if v.OpenID != tc.want || v.Order.OpenID != tc.want {
			t.Errorf("visit user %q, given %q: visit %q, order %q; want %q", tc.visitUser, tc.given, v.OpenID, v.Order.OpenID, tc.want)
		}
		var res struct {
			OpenID string `json:"openid"`
		}
		if err := json.Unmarshal(v.Order.Sim.Outbox[0].Resource, &res); err != nil || res.OpenID != tc.want {
			t.Errorf("USER_CONFIRM resource openid %q (%v), want %q", res.OpenID, err, tc.want)
		}
	}
}

// TestLeavingWithoutConfirming checks what the merchant's front end receives after a decline,
// a return from the 暂不满足 page, and the phone's back button.
func TestLeavingWithoutConfirming(t *testing.T) {
	declined := visitOf(simulator.BusinessUse, orderIn(t, created), nil)
	if err := declined.Decline(func() string { return "QUERY-D" }); err != nil {
		t.Fatal(err)
	}
	ineligible := visitOf(simulator.BusinessUse, orderIn(t, created), nil)
	if err := ineligible.NotEligible(); err != nil {
		t.Fatal(err)
	}
	if err := ineligible.Return(func() string { return "QUERY-N" }); err != nil {
		t.Fatal(err)
	}
	android := visitOf(simulator.BusinessUse, orderIn(t, created), nil)
	if err := android.AndroidBack(); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		v        *simulator.Visit
		queryID  string
		h5Code   int
		declined bool
	}{{declined, "QUERY-D", 0, true}, {ineligible, "QUERY-N", 0, false}, {android, "", 1, false}} {
		show := tc.v.AppShow()
		if show == nil || show.Scene != simulator.SceneFromMiniProgram || show.ReferrerInfo.ExtraData["query_id"] != tc.queryID {
			t.Errorf("%s: AppShow %+v, want scene 1038 with query_id %q", tc.v.Outcome, show, tc.queryID)
		}
		if cb := tc.v.H5Callback(); cb == nil || cb.ErrCode != tc.h5Code {
			t.Errorf("%s: H5Callback %+v, want err_code %d", tc.v.Outcome, cb, tc.h5Code)
		}
		if tc.v.Declined != tc.declined || tc.v.Order.State != simulator.StateCreated || tc.v.Order.OpenID != "" {
			t.Errorf("%s: declined %v, order %s openid %q; want declined %v and an unconfirmed order without a user",
				tc.v.Outcome, tc.v.Declined, tc.v.Order.State, tc.v.Order.OpenID, tc.declined)
		}
	}
}

// TestOpenVisitUser checks the user and the invoking appid a caller gives when it opens a visit:
// the openid is the visit's, the default user is the appid's, and another appid is 4108.
func TestOpenVisitUser(t *testing.T) {
	svc, _, demo := newTestService(t)
	ctx := t.Context()
	open := func(no string, r simulator.OpenVisitRequest) (*simulator.Visit, error) {
		o, err := svc.CreateOrder(ctx, demo, simulator.CreateOrderRequest{
			OutOrderNo: no, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID, ServiceIntroduction: "共享充电宝",
			TimeRange: &simulator.TimeRange{StartTime: simulator.OnAccept},
			RiskFund:  &simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900}, NotifyURL: "https://merchant.example.com/notify",
		})
		if err != nil {
			t.Fatal(err)
		}
		r.BusinessType, r.ExtraData = simulator.BusinessUse, map[string]json.RawMessage{"package": json.RawMessage(jsonOf(t, o.Sim.Package))}
		return svc.OpenVisit(ctx, r)
	}
	v, err := open("USER-1", simulator.OpenVisitRequest{InvokerAppID: fixtures.DemoAppID})
	if err != nil || v.OpenID != simulator.DefaultOpenID(fixtures.DemoAppID) || v.InvokerAppID != fixtures.DemoAppID {
		t.Fatalf("open with the order's appid: %+v, %v; want the default user of the appid", v, err)
	}
	if v, err = open("USER-2", simulator.OpenVisitRequest{OpenID: testOpenID}); err != nil || v.OpenID != testOpenID {
		t.Fatalf("open as %s: %+v, %v", testOpenID, v, err)
	}
	v, err = svc.ConfirmVisit(ctx, v.ID, "")
	if err != nil || v.Order.OpenID != testOpenID {
		t.Fatalf("confirm: %+v, %v; want the order bound to %s", v, err, testOpenID)
	}
	_, err = open("USER-3", simulator.OpenVisitRequest{InvokerAppID: "wx1234567890abcdef"})
	var e *simulator.Error
	if !errors.As(err, &e) || e.Code != simulator.CodeInvalidRequest || e.Detail["err_code"] != 4108 {
		t.Errorf("open from another appid: %v, want INVALID_REQUEST with err_code 4108", err)
	}
	if _, err = open("USER-4", simulator.OpenVisitRequest{OpenID: "not an openid!"}); codeOf(err) != simulator.CodeParamError {
		t.Errorf("open as a malformed openid: %v, want PARAM_ERROR", err)
	}
}
