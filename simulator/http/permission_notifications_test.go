package http_test

// The USER_OPEN_SERVICE and USER_CLOSE_SERVICE notifications the authorization mode queues.

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

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
