package http_test

// The authorization (no-confirm, 免确认) mode end to end over loopback HTTP: gopay's permission
// calls, the user's wxpayScoreEnable visit through the control API, no-confirm orders and
// direct-complete, and the notifications queued on the way.
//
// Package-level names in this file and errors_permission_test.go start with perm.

import (
	"context"
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const permNotifyURL = "https://merchant.example.com/payscore/permission-notify"

var (
	// permTokenPattern: at most 300 characters of the URL-safe alphabet the documentation gives
	// for package and apply_permissions_token.
	permTokenPattern  = regexp.MustCompile(`^[0-9A-Za-z_-]{1,300}$`)
	permOpenIDPattern = regexp.MustCompile(`^oUpF8u[0-9A-Za-z_-]{22}$`)
	permRFC3339CST    = regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+08:00$`)
)

// permControl sends a control API request (signed, though the control API does not ask) and
// decodes a JSON answer into out when out is not nil.
func permControl(t *testing.T, c *client.Client, method, target string, body any, wantStatus int, out any) *client.Response {
	t.Helper()
	resp, err := c.Do(context.Background(), method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	if resp.Status != wantStatus {
		t.Fatalf("%s %s: status %d, want %d; body %s", method, target, resp.Status, wantStatus, resp.Body)
	}
	if out != nil {
		if err := resp.Decode(out); err != nil {
			t.Fatal(err)
		}
	}
	return resp
}

// permVisit is the part of a visit view the tests read.
type permVisit struct {
	VisitID           string                `json:"visit_id"`
	BusinessType      string                `json:"businessType"`
	MchID             string                `json:"mchid"`
	AuthorizationCode string                `json:"authorization_code"`
	Authorized        bool                  `json:"authorized"`
	OpenID            string                `json:"openid"`
	PageURL           string                `json:"page_url"`
	Permission        *simulator.Permission `json:"permission"`
	Order             json.RawMessage       `json:"order"`
	Warnings          []string              `json:"warnings"`
}

// permOpenEnable opens a wxpayScoreEnable visit with token, as wx.openBusinessView would.
func permOpenEnable(t *testing.T, c *client.Client, token string) permVisit {
	t.Helper()
	var v permVisit
	permControl(t, c, http.MethodPost, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": token},
	}, http.StatusCreated, &v)
	if v.VisitID == "" || v.BusinessType != "wxpayScoreEnable" {
		t.Fatalf("open visit: %+v", v)
	}
	return v
}

// permApply pre-authorizes code for the demo merchant with the simtest client and returns the
// token.
func permApply(t *testing.T, c *client.Client, code, notifyURL string) string {
	t.Helper()
	body := map[string]any{"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "authorization_code": code}
	if notifyURL != "" {
		body["notify_url"] = notifyURL
	}
	var out struct {
		Token string `json:"apply_permissions_token"`
	}
	permControl(t, c, http.MethodPost, "/v3/payscore/permissions", body, http.StatusOK, &out)
	if !permTokenPattern.MatchString(out.Token) {
		t.Fatalf("apply_permissions_token %q is not at most 300 URL-safe characters", out.Token)
	}
	return out.Token
}

// permSeed makes openid an authorized user of the demo merchant through the control API.
func permSeed(t *testing.T, c *client.Client, openid, code, notifyURL string) simulator.Permission {
	t.Helper()
	body := map[string]any{"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "openid": openid}
	if code != "" {
		body["authorization_code"] = code
	}
	if notifyURL != "" {
		body["notify_url"] = notifyURL
	}
	var p simulator.Permission
	permControl(t, c, http.MethodPost, "/sim/v1/permissions/"+fixtures.DemoMchID+"/authorize", body, http.StatusOK, &p)
	if p.State != simulator.AuthorizationAvailable || p.OpenID != openid {
		t.Fatalf("seed: permission %+v, want AVAILABLE for %s", p, openid)
	}
	return p
}

// permNoConfirmBody is a create body for an authorized user: need_user_confirm false.
func permNoConfirmBody(no, openid string) map[string]any {
	start, end := sdkTimeRange(time.Now())
	b := sdkCreateOrderBody(no, start, end)
	b["need_user_confirm"], b["openid"] = false, openid
	return b
}

func TestPermissionFlowGoPay(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	gp := gopayCertClient(t, sim)
	demo := sim.DemoClient(t)
	ctx := context.Background()
	const code = "AUTH-GOPAY-0001"

	// 1. The merchant pre-authorizes and gets a token; repeating it gives a fresh one and the
	// first one stops working.
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

	// 2. The front end opens wxpayScoreEnable with the token; the user authorizes.
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

	// 3. The merchant finds out with the queries.
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

	// 4. Orders without confirmation: for the authorized user DOING/USER_CONFIRM at once, for
	// anyone else refused.
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
	stranger := "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
	refused, err := gp.V3ScoreOrderCreate(ctx, gopay.BodyMap(permNoConfirmBody(sdkOutOrderNo(t, "stranger"), stranger)))
	gopayWantError(t, "create for a user who did not authorize", refused, err, http.StatusBadRequest, "INVALID_REQUEST", "用户未授权该服务")
	if _, body, _ := gopayOutcome(t, refused); !strings.Contains(body, stranger) || !strings.Contains(body, "/sim/v1/permissions/") {
		t.Errorf("refusal does not name the openid or say how to authorize: %s", body)
	}

	// 5. The merchant terminates by authorization_code: 204, signed; the permission is
	// UNAVAILABLE and no-confirm orders are refused again.
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

	// 6. By openid: a second user, seeded through the control API, queried and terminated by
	// openid.
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
	missing, err := gp.V3ScorePermissionOpenidQuery(ctx, fixtures.DemoAppID, stranger, fixtures.DemoServiceID)
	gopayWantError(t, "query a stranger", missing, err, http.StatusNotFound, "ORDER_NOT_EXIST", "请求操作的授权记录不存在")
}

// permNotifications returns the merchant's notifications of event, newest first.
func permNotifications(t *testing.T, sim *simtest.Sim, mchid string, event simulator.EventType) []*simulator.Notification {
	t.Helper()
	ns, err := sim.DB.ListNotifications(context.Background(), simulator.NotificationFilter{MchID: mchid, EventType: event})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}

// permCheckNotice checks a queued open or close service notification against the permission.
func permCheckNotice(t *testing.T, n *simulator.Notification, event simulator.EventType, summary, status, openid, code string, before, after time.Time) {
	t.Helper()
	if n.EventType != event || n.Summary != summary || n.NotifyURL != permNotifyURL || n.MchID != fixtures.DemoMchID ||
		n.AuthorizationCode != code || n.OpenID != openid || n.OutOrderNo != "" {
		t.Errorf("%s: notification %+v", event, n)
	}
	var got map[string]string
	if err := json.Unmarshal(n.Resource, &got); err != nil {
		t.Fatalf("%s: resource %s is not an object of strings: %v", event, n.Resource, err)
	}
	when := got["openorclose_time"]
	want := map[string]string{
		"appid": fixtures.DemoAppID, "mchid": fixtures.DemoMchID, "service_id": fixtures.DemoServiceID,
		"openid": openid, "user_service_status": status, "openorclose_time": when, "authorization_code": code,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: resource %s, want exactly %v", event, n.Resource, want)
	}
	at, err := time.ParseInLocation("20060102150405", when, chinaTime)
	if !compactTimePattern.MatchString(when) || err != nil || at.Before(before.Truncate(time.Second)) || at.After(after) {
		t.Errorf("%s: openorclose_time %q, want yyyyMMddHHmmss China time between %s and %s", event, when, compactTime(before), compactTime(after))
	}
}

func TestPermissionNotificationsQueued(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)
	const code = "AUTH-NOTIFY-0001"

	token := permApply(t, demo, code, permNotifyURL)
	if ns := permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserOpenService); len(ns) != 0 {
		t.Fatalf("pre-authorization queued %d USER_OPEN_SERVICE notifications, want none before the user authorizes", len(ns))
	}
	v := permOpenEnable(t, demo, token)
	const openid = "oUpF8uNotifyUser000000000001"
	before := time.Now()
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+v.VisitID+"/authorize", map[string]any{"openid": openid}, http.StatusOK, nil)
	opened := permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserOpenService)
	if len(opened) != 1 {
		t.Fatalf("after authorizing: %d USER_OPEN_SERVICE notifications, want 1", len(opened))
	}
	permCheckNotice(t, opened[0], simulator.EventUserOpenService, "授权成功", "USER_OPEN_SERVICE", openid, code, before, time.Now())

	// The merchant's terminate sends USER_CLOSE_SERVICE too (inferred; see Permission.Terminate).
	before = time.Now()
	permControl(t, demo, http.MethodPost, "/v3/payscore/permissions/authorization-code/"+code+"/terminate",
		map[string]any{"service_id": fixtures.DemoServiceID, "reason": "测试解除"}, http.StatusNoContent, nil)
	closed := permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserCloseService)
	if len(closed) != 1 {
		t.Fatalf("after terminate: %d USER_CLOSE_SERVICE notifications, want 1", len(closed))
	}
	permCheckNotice(t, closed[0], simulator.EventUserCloseService, "解除授权成功", "USER_CLOSE_SERVICE", openid, code, before, time.Now())
	// Terminating again sends nothing more.
	permControl(t, demo, http.MethodPost, "/v3/payscore/permissions/authorization-code/"+code+"/terminate",
		map[string]any{"service_id": fixtures.DemoServiceID, "reason": "测试解除"}, http.StatusNoContent, nil)
	if n := len(permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserCloseService)); n != 1 {
		t.Errorf("a repeated terminate queued another USER_CLOSE_SERVICE: %d in all, want 1", n)
	}

	// The user revoking in WeChat sends USER_CLOSE_SERVICE; seeding sends USER_OPEN_SERVICE.
	const revoker = "oUpF8uNotifyUser000000000002"
	before = time.Now()
	seeded := permSeed(t, demo, revoker, "AUTH-NOTIFY-0002", permNotifyURL)
	opened = permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserOpenService)
	if len(opened) != 2 {
		t.Fatalf("after seeding: %d USER_OPEN_SERVICE notifications, want 2", len(opened))
	}
	permCheckNotice(t, opened[0], simulator.EventUserOpenService, "授权成功", "USER_OPEN_SERVICE", revoker, seeded.AuthorizationCode, before, time.Now())
	before = time.Now()
	var revoked simulator.Permission
	permControl(t, demo, http.MethodPost, "/sim/v1/permissions/"+fixtures.DemoMchID+"/AUTH-NOTIFY-0002/revoke", nil, http.StatusOK, &revoked)
	if revoked.State != simulator.AuthorizationUnavailable || revoked.CancelledBy != simulator.CancelledByUser {
		t.Errorf("revoke: %+v, want UNAVAILABLE cancelled by the user", revoked)
	}
	closed = permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserCloseService)
	if len(closed) != 2 {
		t.Fatalf("after revoke: %d USER_CLOSE_SERVICE notifications, want 2", len(closed))
	}
	permCheckNotice(t, closed[0], simulator.EventUserCloseService, "解除授权成功", "USER_CLOSE_SERVICE", revoker, "AUTH-NOTIFY-0002", before, time.Now())

	// Without a notify_url nothing is queued, and the permission says why.
	quiet := permApply(t, demo, "AUTH-NOTIFY-0003", "")
	qv := permOpenEnable(t, demo, quiet)
	var authorized permVisit
	permControl(t, demo, http.MethodPost, "/sim/v1/visits/"+qv.VisitID+"/authorize", nil, http.StatusOK, &authorized)
	if n := len(permNotifications(t, sim, fixtures.DemoMchID, simulator.EventUserOpenService)); n != 2 {
		t.Errorf("authorizing a permission without notify_url queued a notification: %d USER_OPEN_SERVICE in all, want 2", n)
	}
	if !strings.Contains(strings.Join(authorized.Permission.Warnings, "\n"), "USER_OPEN_SERVICE") ||
		!strings.Contains(strings.Join(authorized.Warnings, "\n"), "no notify_url") {
		t.Errorf("no warning that USER_OPEN_SERVICE was not sent: permission %v, visit %v", authorized.Permission.Warnings, authorized.Warnings)
	}

	// The control list shows them, newest first.
	var list struct {
		Data []simulator.Permission `json:"data"`
	}
	permControl(t, demo, http.MethodGet, "/sim/v1/permissions?mchid="+fixtures.DemoMchID, nil, http.StatusOK, &list)
	var codes []string
	for _, p := range list.Data {
		codes = append(codes, p.AuthorizationCode+":"+string(p.State))
	}
	if want := []string{"AUTH-NOTIFY-0003:AVAILABLE", "AUTH-NOTIFY-0002:UNAVAILABLE", "AUTH-NOTIFY-0001:UNAVAILABLE"}; !reflect.DeepEqual(codes, want) {
		t.Errorf("GET /sim/v1/permissions: %v, want %v", codes, want)
	}
	permControl(t, demo, http.MethodGet, "/sim/v1/permissions?mchid="+fixtures.DemoMchID+"&state=AVAILABLE", nil, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].AuthorizationCode != "AUTH-NOTIFY-0003" {
		t.Errorf("GET /sim/v1/permissions?state=AVAILABLE: %+v, want AUTH-NOTIFY-0003 only", list.Data)
	}
}

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

// permDirectBody is a direct-complete body: a service that started two hours ago and ended now.
func permDirectBody(no, openid string) map[string]any {
	now := time.Now()
	return map[string]any{
		"out_order_no": no, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments": []map[string]any{
			{"name": "租借费", "amount": 600, "description": "每小时3元", "count": 2},
		},
		"post_discounts": []map[string]any{
			{"name": "新用户优惠", "description": "首单减1元", "amount": 100, "count": 1},
		},
		"time_range":   map[string]any{"start_time": compactTime(now.Add(-2 * time.Hour)), "end_time": compactTime(now)},
		"location":     map[string]any{"start_location": "A座", "end_location": "B座"},
		"attach":       "direct",
		"notify_url":   sdkNotifyURL,
		"openid":       openid,
		"total_amount": 500,
	}
}

func TestDirectComplete(t *testing.T) {
	t.Parallel()
	other, key := errOtherMerchant(t)
	other.Settings.Deduction = simulator.DeductFail
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	const openid = "oUpF8uDirectComplete00000001"
	permSeed(t, demo, openid, "", "")

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

	// A merchant whose deductions fail: the order waits in USER_PAYING, as after complete.
	oc := sim.Client(t, errOtherMchID, errOtherSerial, key)
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

	// notify_url is optional: the order is made, and no notification is queued for it.
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

	// gopay posts direct-complete without /v3; production answers 404, so does the simulator,
	// with a hint.
	gp := gopayCertClient(t, sim)
	rsp, err := gp.V3ScoreDirectComplete(context.Background(), gopay.BodyMap(permDirectBody(sdkOutOrderNo(t, "gopay-dc"), openid)))
	gopayWantError(t, "gopay direct-complete", rsp, err, http.StatusNotFound, "NOT_FOUND", "请求的资源不存在")
	if _, body, _ := gopayOutcome(t, rsp); !strings.Contains(body, "/v3/payscore/serviceorder/direct-complete") {
		t.Errorf("gopay direct-complete: %s, want a hint at the /v3 path", body)
	}
}
