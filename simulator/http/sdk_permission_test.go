package http_test

// The authorization (no-confirm, 免确认) mode end to end over loopback HTTP, through gopay's
// permission calls: pre-authorize, the user's wxpayScoreEnable visit through the control API,
// the queries, no-confirm orders and terminate. The helpers are in helpers_permission_test.go.

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// permFlow is the merchant of TestPermissionFlowGoPay: its gopay client, its control API client
// and the authorization_code it pre-authorizes.
type permFlow struct {
	gp   *wechat.ClientV3
	demo *client.Client
	code string
}

// permStranger is a user who never authorized the demo merchant.
const permStranger = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"

func TestPermissionFlowGoPay(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	f := permFlow{gp: gopayCertClient(t, sim), demo: sim.DemoClient(t), code: "AUTH-GOPAY-0001"}
	token := f.preAuthorize(t)
	openid := f.authorize(t, token)
	f.query(t, openid)
	f.createWithoutConfirmation(t, openid)
	f.terminate(t, openid)
	f.byOpenID(t)
}

// preAuthorize is step 1: the merchant pre-authorizes and gets a token, which it returns;
// repeating it gives a fresh one and the first one stops working.
func (f permFlow) preAuthorize(t *testing.T) string {
	gp, demo, code, ctx := f.gp, f.demo, f.code, context.Background()
	applied, err := gp.V3ScorePermission(ctx, gopay.BodyMap{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID,
		"authorization_code": code, "notify_url": permNotifyURL,
	})
	gopayMustSucceed(t, "permission", applied, err)
	first := applied.Response.ApplyPermissionsToken
	if !permTokenPattern.MatchString(first) {
		t.Fatalf("apply_permissions_token %q is not at most 300 URL-safe characters", first)
	}
	again, err := gp.V3ScorePermission(ctx, gopay.BodyMap{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID,
		"authorization_code": code, "notify_url": permNotifyURL,
	})
	gopayMustSucceed(t, "repeated permission", again, err)
	token := again.Response.ApplyPermissionsToken
	if token == first || !permTokenPattern.MatchString(token) {
		t.Fatalf("repeated pre-authorization: token %q, want a fresh one (first was %q)", token, first)
	}
	stale := permControl(t, demo, http.MethodPost, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": first},
	}, http.StatusNotFound, nil)
	if e := stale.Err(); e.Code != "ORDER_NOT_EXIST" || e.Detail["err_code"] != float64(4186) {
		t.Errorf("visit with the replaced token: %s, want ORDER_NOT_EXIST with err_code 4186", stale.Body)
	}

	pending, err := gp.V3ScorePermissionQuery(ctx, code, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query before authorizing", pending, err)
	if r := pending.Response; r.AuthorizationState != "UNBINDUSER" || r.Openid != "" || r.AuthorizationCode != code || r.Mchid != fixtures.DemoMchID {
		t.Errorf("query before authorizing: %+v, want UNBINDUSER without openid", r)
	}
	if raw := sdkRawObject(t, pending.SignInfo.SignBody); raw["authorization_success_time"] != nil || raw["openid"] != nil || raw["cancel_authorization_time"] != nil || raw["user_risk_level"] != nil {
		t.Errorf("query before authorizing: %s has times or an openid; none happened yet", pending.SignInfo.SignBody)
	}
	return token
}

// authorize is step 2: the front end opens wxpayScoreEnable with the token and the user
// authorizes. It returns the user's openid.
func (f permFlow) authorize(t *testing.T, token string) string {
	demo, code := f.demo, f.code
	v := permOpenEnable(t, demo, token)
	if v.MchID != fixtures.DemoMchID || v.AuthorizationCode != code || v.Permission == nil || v.Permission.State != simulator.AuthorizationUnbindUser {
		t.Fatalf("opened visit: %+v", v)
	}
	if string(v.Order) != "null" {
		t.Errorf("an authorization visit has no order, got %s", v.Order)
	}
	var authorized permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/authorize", nil, http.StatusOK, &authorized)
	openid := authorized.OpenID
	if !authorized.Authorized || !permOpenIDPattern.MatchString(openid) {
		t.Fatalf("authorize: authorized=%v openid=%q, want a 28-character oUpF8u… openid", authorized.Authorized, openid)
	}
	if p := authorized.Permission; p == nil || p.State != simulator.AuthorizationAvailable || p.OpenID != openid {
		t.Fatalf("authorize: permission %+v, want AVAILABLE for %s", p, openid)
	}
	// A double tap is harmless, and the default user is the same one.
	var twice permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/authorize", map[string]any{}, http.StatusOK, &twice)
	if twice.OpenID != openid {
		t.Errorf("authorizing again: openid %q, want %q", twice.OpenID, openid)
	}
	// Returning tells the merchant nothing about the outcome: no query_id, no extraData.
	var show simulator.AppShow
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/return", nil, http.StatusOK, &show)
	if show.Scene != 1038 || show.ReferrerInfo.AppID != simulator.PayScoreAppID || show.ReferrerInfo.ExtraData != nil {
		t.Errorf("return: App.onShow gets %+v, want scene 1038 from %s with no extraData", show, simulator.PayScoreAppID)
	}
	return openid
}

// query is step 3: the merchant finds out with the queries.
func (f permFlow) query(t *testing.T, openid string) {
	gp, code, ctx := f.gp, f.code, context.Background()
	queried, err := gp.V3ScorePermissionQuery(ctx, code, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query", queried, err)
	gopayCheckSignInfo(t, "query", queried.SignInfo, fixtures.PlatformSerial, sdkPlatformPublicKey(t))
	q := queried.Response
	if q.AuthorizationState != "AVAILABLE" || q.Openid != openid || q.Appid != fixtures.DemoAppID || q.ServiceId != fixtures.DemoServiceID ||
		q.NotifyUrl != permNotifyURL || !permRFC3339CST.MatchString(q.AuthorizationSuccessTime) || q.CancelAuthorizationTime != "" {
		t.Errorf("query: %+v, want AVAILABLE for %s with an RFC3339 +08:00 authorization_success_time and no cancel time", q, openid)
	}
	byOpenID, err := gp.V3ScorePermissionOpenidQuery(ctx, fixtures.DemoAppID, openid, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query by openid", byOpenID, err)
	if r := byOpenID.Response; r.AuthorizationState != "AVAILABLE" || r.AuthorizationCode != code || r.Openid != openid || r.Mchid != fixtures.DemoMchID {
		t.Errorf("query by openid: %+v, want AVAILABLE with authorization_code %s", r, code)
	}
	if raw := sdkRawObject(t, byOpenID.SignInfo.SignBody); raw["notify_url"] != nil {
		t.Errorf("query by openid answers notify_url (%s); its documentation lists none", raw["notify_url"])
	}
	// Both queries carry the user's risk level (用户分层) and its version, as numbers.
	for op, body := range map[string]string{"query": queried.SignInfo.SignBody, "query by openid": byOpenID.SignInfo.SignBody} {
		if raw := sdkRawObject(t, body); string(raw["user_risk_level"]) != "1" || string(raw["risk_level_version"]) != "1" {
			t.Errorf("%s: %s, want user_risk_level and risk_level_version 1", op, body)
		}
	}
}

// createWithoutConfirmation is step 4: an order without confirmation is DOING/USER_CONFIRM
// at once for the authorized user, and refused for anyone else.
func (f permFlow) createWithoutConfirmation(t *testing.T, openid string) {
	gp, ctx := f.gp, context.Background()
	// One body for both creates: built twice, the time range could differ by a second.
	noConfirm := permNoConfirmBody(sdkOutOrderNo(t, "noconfirm"), openid)
	created, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap(noConfirm))
	gopayMustSucceed(t, "create without confirmation", created, err)
	if o := created.Response; o.State != "DOING" || o.StateDescription != "USER_CONFIRM" || o.Package != "" || !sdkOrderIDPattern.MatchString(o.OrderId) {
		t.Errorf("create without confirmation: state %s/%s package %q order_id %s, want DOING/USER_CONFIRM, no package", o.State, o.StateDescription, o.Package, o.OrderId)
	}
	repeated, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap(noConfirm))
	gopayMustSucceed(t, "repeated create without confirmation", repeated, err)
	if repeated.Response.OrderId != created.Response.OrderId {
		t.Errorf("repeated create: order_id %s, want %s", repeated.Response.OrderId, created.Response.OrderId)
	}
	refused, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap(permNoConfirmBody(sdkOutOrderNo(t, "stranger"), permStranger)))
	gopayWantError(t, "create for a user who did not authorize", refused, err, http.StatusBadRequest, "INVALID_REQUEST", "用户未授权该服务")
	if _, body, _ := gopayOutcome(t, refused); !strings.Contains(body, permStranger) || !strings.Contains(body, "/sim/v1/permissions/") {
		t.Errorf("refusal does not name the openid or say how to authorize: %s", body)
	}
}

// terminate is step 5: the merchant terminates by authorization_code: 204, signed; the
// permission is UNAVAILABLE and no-confirm orders are refused again.
func (f permFlow) terminate(t *testing.T, openid string) {
	gp, code, ctx := f.gp, f.code, context.Background()
	terminated, err := gp.V3ScorePermissionTerminate(ctx, code, fixtures.DemoServiceID, "用户注销账号")
	gopayMustSucceed(t, "terminate", terminated, err)
	gopayCheckSignInfo(t, "terminate", terminated.SignInfo, fixtures.PlatformSerial, sdkPlatformPublicKey(t))
	if terminated.SignInfo.SignBody != "" {
		t.Errorf("terminate: body %q, want none (204)", terminated.SignInfo.SignBody)
	}
	ended, err := gp.V3ScorePermissionQuery(ctx, code, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after terminate", ended, err)
	if r := ended.Response; r.AuthorizationState != "UNAVAILABLE" || !permRFC3339CST.MatchString(r.CancelAuthorizationTime) || r.Openid != openid {
		t.Errorf("query after terminate: %+v, want UNAVAILABLE with a cancel_authorization_time", r)
	}
	after, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap(permNoConfirmBody(sdkOutOrderNo(t, "after"), openid)))
	gopayWantError(t, "create after terminate", after, err, http.StatusBadRequest, "INVALID_REQUEST", "用户未授权该服务")
	if _, body, _ := gopayOutcome(t, after); !strings.Contains(body, "was ended") {
		t.Errorf("refusal after terminate does not say the authorization was ended: %s", body)
	}
	// Terminating again changes nothing and succeeds.
	again204, err := gp.V3ScorePermissionTerminate(ctx, code, fixtures.DemoServiceID, "用户注销账号")
	gopayMustSucceed(t, "repeated terminate", again204, err)
}

// byOpenID is step 6: a second user, seeded through the control API, is queried and
// terminated by openid.
func (f permFlow) byOpenID(t *testing.T) {
	gp, demo, ctx := f.gp, f.demo, context.Background()
	second := "oUpF8uSecondUser0000000000ab"
	seeded := permSeed(t, demo, second, "", permNotifyURL)
	found, err := gp.V3ScorePermissionOpenidQuery(ctx, fixtures.DemoAppID, second, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query second user", found, err)
	if r := found.Response; r.AuthorizationState != "AVAILABLE" || r.AuthorizationCode != seeded.AuthorizationCode {
		t.Errorf("query second user: %+v, want AVAILABLE with %s", r, seeded.AuthorizationCode)
	}
	byOpenIDEnd, err := gp.V3ScorePermissionOpenidTerminate(ctx, fixtures.DemoAppID, second, fixtures.DemoServiceID, "用户要求解除")
	gopayMustSucceed(t, "terminate by openid", byOpenIDEnd, err)
	gopayCheckSignInfo(t, "terminate by openid", byOpenIDEnd.SignInfo, fixtures.PlatformSerial, sdkPlatformPublicKey(t))
	gone, err := gp.V3ScorePermissionOpenidQuery(ctx, fixtures.DemoAppID, second, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query second user after terminate", gone, err)
	if r := gone.Response; r.AuthorizationState != "UNAVAILABLE" || r.CancelAuthorizationTime == "" {
		t.Errorf("query second user after terminate: %+v, want UNAVAILABLE", r)
	}

	// A user who never authorized is not found, as production answers it.
	missing, err := gp.V3ScorePermissionOpenidQuery(ctx, fixtures.DemoAppID, permStranger, fixtures.DemoServiceID)
	gopayWantError(t, "query a stranger", missing, err, http.StatusNotFound, "ORDER_NOT_EXIST", "请求操作的授权记录不存在")
}
