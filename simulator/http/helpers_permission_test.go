package http_test

// Helpers of the authorization (no-confirm, 免确认) mode's tests: the control API calls that
// pre-authorize, seed and open wxpayScoreEnable visits, and the bodies of no-confirm orders.
//
// Package-level names in the permission files (sdk_permission_test.go, permission_*_test.go,
// direct_complete_test.go, errors_permission_test.go) start with perm.

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
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

// permNotifications returns the merchant's notifications of event, newest first.
func permNotifications(t *testing.T, sim *simtest.Sim, mchid string, event simulator.EventType) []*simulator.Notification {
	t.Helper()
	ns, err := sim.DB.ListNotifications(context.Background(), simulator.NotificationFilter{MchID: mchid, EventType: event})
	if err != nil {
		t.Fatal(err)
	}
	return ns
}
