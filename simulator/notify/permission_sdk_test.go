package notify_test

// The authorization (no-confirm, 免确认) mode's notifications at a merchant endpoint built on each
// SDK's own handler: wechatpay-go's notify.NewRSANotifyHandler (certificate verifier and
// public-key verifier) and gopay's V3ParseNotify + VerifySignByPK +
// DecryptScorePermissionCipherText verify and decrypt PAYSCORE.USER_OPEN_SERVICE and
// PAYSCORE.USER_CLOSE_SERVICE of a flow driven over real HTTP. And the fast retry schedule
// (--notify-schedule fast) in real time.
//
// Package-level names in this file start with perm.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/go-pay/gopay/wechat/v3"
	wxnotify "github.com/wechatpay-apiv3/wechatpay-go/core/notify"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

var permCompactTime = regexp.MustCompile(`^\d{14}$`)

// permNotice is the decrypted resource of USER_OPEN_SERVICE and USER_CLOSE_SERVICE as
// wechatpay-go decodes it.
type permNotice struct {
	AppID             string `json:"appid"`
	MchID             string `json:"mchid"`
	ServiceID         string `json:"service_id"`
	OpenID            string `json:"openid"`
	UserServiceStatus string `json:"user_service_status"`
	OpenOrCloseTime   string `json:"openorclose_time"`
	AuthorizationCode string `json:"authorization_code"`
}

// permReceived is one request at a permission endpoint and what each SDK made of it. A nil
// error means the SDK verified and decrypted it.
type permReceived struct {
	At     time.Time
	Header http.Header
	Body   []byte

	// wechatpay-go: notify.NewRSANotifyHandler(...).ParseNotifyRequest.
	WechatpayGo        error
	WechatpayGoRequest *wxnotify.Request
	WechatpayGoContent permNotice
	// gopay: V3ParseNotify, VerifySignByPK, then DecryptScorePermissionCipherText.
	GoPay        error
	GoPayRequest *wechat.V3NotifyReq
	GoPayResult  *wechat.V3DecryptScorePermissionResult
}

// envelopeID is the id of the received envelope.
func (r *permReceived) envelopeID(t *testing.T) string {
	t.Helper()
	return (&notifyReceived{Body: r.Body}).envelopeID(t)
}

// permEndpoint is a permission's notify_url on loopback. It answers 200 when both SDKs accept a
// notification and 401 {"code":"FAIL"} otherwise.
type permEndpoint struct {
	URL  string
	keys *notifyEndpoint // the verifiers, keys and APIv3 key; not listening

	mu       sync.Mutex
	received []*permReceived
	arrived  chan struct{}
}

// permNewEndpoint starts an endpoint that verifies as the demo merchant does, in certificate
// mode or in public-key mode.
func permNewEndpoint(t *testing.T, publicKeyMode bool) *permEndpoint {
	t.Helper()
	e := &permEndpoint{keys: notifyEndpointFor(t, publicKeyMode), arrived: make(chan struct{}, 1)}
	srv := httptest.NewServer(e)
	t.Cleanup(srv.Close)
	e.URL = srv.URL + "/payscore/permission-notify"
	return e
}

func (e *permEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &permReceived{At: time.Now(), Header: r.Header.Clone(), Body: body}

	// Each SDK reads its own copy of the request, as if it were the only handler.
	handler, err := wxnotify.NewRSANotifyHandler(e.keys.apiV3Key, e.keys.wechatpayVerifier)
	if err == nil {
		r1 := r.Clone(r.Context())
		r1.Body = io.NopCloser(bytes.NewReader(body))
		rec.WechatpayGoRequest, err = handler.ParseNotifyRequest(r.Context(), r1, &rec.WechatpayGoContent)
	}
	rec.WechatpayGo = err

	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if rec.GoPayRequest, rec.GoPay = wechat.V3ParseNotify(r2); rec.GoPay == nil {
		if rec.GoPay = rec.GoPayRequest.VerifySignByPK(e.keys.gopayKey); rec.GoPay == nil {
			rec.GoPayResult, rec.GoPay = rec.GoPayRequest.DecryptScorePermissionCipherText(e.keys.apiV3Key)
		}
	}

	w.Header().Set("Content-Type", "application/json")
	if rec.WechatpayGo == nil && rec.GoPay == nil {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"code":"SUCCESS","message":"OK"}`)
	} else {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"code":"FAIL","message":"验签或解密失败"}`)
	}
	e.mu.Lock()
	e.received = append(e.received, rec)
	e.mu.Unlock()
	select {
	case e.arrived <- struct{}{}:
	default:
	}
}

// all returns the requests received so far.
func (e *permEndpoint) all() []*permReceived {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.received)
}

// waitCount waits until the endpoint has received n requests.
func (e *permEndpoint) waitCount(t *testing.T, n int, within time.Duration) []*permReceived {
	t.Helper()
	deadline := time.NewTimer(within)
	defer deadline.Stop()
	for {
		if got := e.all(); len(got) >= n {
			return got
		}
		select {
		case <-e.arrived:
		case <-deadline.C:
			t.Fatalf("the endpoint received %d requests within %s, want %d", len(e.all()), within, n)
			return nil
		}
	}
}

// permDo sends an APIv3 request signed as the demo merchant and checks the status.
func permDo(t *testing.T, c *client.Client, method, target string, body any, wantStatus int) *client.Response {
	t.Helper()
	resp, err := c.Do(context.Background(), method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	if resp.Status != wantStatus {
		t.Fatalf("%s %s: HTTP %d, want %d; body %s", method, target, resp.Status, wantStatus, resp.Body)
	}
	return resp
}

// permApply pre-authorizes code for the demo merchant with notifyURL and returns the
// apply_permissions_token.
func permApply(t *testing.T, c *client.Client, code, notifyURL string) string {
	t.Helper()
	resp := permDo(t, c, http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID,
		"authorization_code": code, "notify_url": notifyURL,
	}, http.StatusOK)
	var out struct {
		Token string `json:"apply_permissions_token"`
	}
	if err := resp.Decode(&out); err != nil {
		t.Fatal(err)
	}
	if out.Token == "" {
		t.Fatalf("POST /v3/payscore/permissions: no apply_permissions_token in %s", resp.Body)
	}
	return out.Token
}

// permAuthorize plays the user: opens the wxpayScoreEnable page with token and authorizes as
// openid.
func permAuthorize(t *testing.T, sim *simtest.Sim, token, openid string) {
	t.Helper()
	status, v := notifyPost(t, sim, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreEnable", "extraData": map[string]any{"apply_permissions_token": token},
	})
	if status != http.StatusCreated {
		t.Fatalf("open the wxpayScoreEnable visit: HTTP %d %v", status, v)
	}
	id, _ := v["visit_id"].(string)
	status, v = notifyPost(t, sim, "/sim/v1/visits/"+id+"/authorize", map[string]any{"openid": openid})
	if status != http.StatusOK {
		t.Fatalf("authorize visit %s: HTTP %d %v", id, status, v)
	}
	if v["authorized"] != true || v["openid"] != openid {
		t.Fatalf("authorize visit %s: authorized %v, openid %v; want true, %s", id, v["authorized"], v["openid"], openid)
	}
}

// permCreateNoConfirm creates an order with need_user_confirm false for openid.
func permCreateNoConfirm(t *testing.T, c *client.Client, no, openid, notifyURL string) *client.Response {
	t.Helper()
	now := time.Now()
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": notifyPayment, "description": "每小时3元", "count": 1}},
		"time_range":           map[string]any{"start_time": notifyCompact(now.Add(-time.Hour)), "end_time": notifyCompact(now.Add(2 * time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900, "description": "充电宝押金"},
		"notify_url":           notifyURL,
		"need_user_confirm":    false,
		"openid":               openid,
	})
	if err != nil {
		t.Fatalf("create %s: %v", no, err)
	}
	return resp
}

// permWant is what an open or close service notification must carry.
type permWant struct {
	event         simulator.EventType
	summary       string
	status        string // user_service_status
	openid, code  string
	serial        string // Wechatpay-Serial
	before, after time.Time
}

// permCheck checks what both SDKs made of an open or close service notification.
func permCheck(t *testing.T, r *permReceived, w permWant) {
	t.Helper()
	notifyCheckHeaders(t, &notifyReceived{Header: r.Header, Body: r.Body}, w.serial)
	want := permNotice{
		AppID: fixtures.DemoAppID, MchID: fixtures.DemoMchID, ServiceID: fixtures.DemoServiceID,
		OpenID: w.openid, UserServiceStatus: w.status, AuthorizationCode: w.code,
	}
	checkTime := func(sdk, when string) {
		t.Helper()
		at, err := time.ParseInLocation("20060102150405", when, simulator.ChinaTime)
		if !permCompactTime.MatchString(when) || err != nil ||
			at.Before(w.before.Truncate(time.Second)) || at.After(w.after) {
			t.Errorf("%s %s: openorclose_time %q, want 14 digits (yyyyMMddHHmmss, China time) between %s and %s",
				sdk, w.event, when, notifyCompact(w.before), notifyCompact(w.after))
		}
	}

	// wechatpay-go
	if r.WechatpayGo != nil {
		t.Errorf("wechatpay-go ParseNotifyRequest of %s: %v", w.event, r.WechatpayGo)
	} else {
		req, got := r.WechatpayGoRequest, r.WechatpayGoContent
		if req.EventType != string(w.event) || req.Summary != w.summary || req.ResourceType != "encrypt-resource" ||
			req.Resource == nil || req.Resource.OriginalType != "payscore" || req.Resource.Algorithm != "AEAD_AES_256_GCM" {
			t.Errorf("wechatpay-go %s envelope: %+v, want event_type %s, summary %s, encrypt-resource, payscore, AEAD_AES_256_GCM",
				w.event, req, w.event, w.summary)
		}
		notifyCheckCreateTime(t, "wechatpay-go "+string(w.event), req.CreateTime)
		checkTime("wechatpay-go", got.OpenOrCloseTime)
		got.OpenOrCloseTime = ""
		if got != want {
			t.Errorf("wechatpay-go %s: decrypted %+v, want %+v", w.event, got, want)
		}
		// The plaintext has exactly the documented members, no more.
		if req.Resource != nil {
			var members map[string]any
			if err := json.Unmarshal([]byte(req.Resource.Plaintext), &members); err != nil {
				t.Errorf("wechatpay-go %s: plaintext %q: %v", w.event, req.Resource.Plaintext, err)
			}
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range members {
					if !yield(k) {
						return
					}
				}
			})
			wantKeys := []string{"appid", "authorization_code", "mchid", "openid", "openorclose_time", "service_id", "user_service_status"}
			if !slices.Equal(keys, wantKeys) {
				t.Errorf("wechatpay-go %s: plaintext members %v, want %v", w.event, keys, wantKeys)
			}
		}
	}

	// gopay
	if r.GoPay != nil {
		t.Errorf("gopay V3ParseNotify + VerifySignByPK + DecryptScorePermissionCipherText of %s: %v", w.event, r.GoPay)
	} else {
		req, res := r.GoPayRequest, r.GoPayResult
		if req.EventType != string(w.event) || req.Summary != w.summary || req.ResourceType != "encrypt-resource" ||
			req.Resource == nil || req.Resource.OriginalType != "payscore" {
			t.Errorf("gopay %s envelope: (event_type, summary, resource_type) = (%s, %s, %s), want (%s, %s, encrypt-resource)",
				w.event, req.EventType, req.Summary, req.ResourceType, w.event, w.summary)
		}
		ct, err := time.Parse(time.RFC3339, req.CreateTime)
		if err != nil {
			t.Errorf("gopay %s: create_time %q: %v", w.event, req.CreateTime, err)
		} else {
			notifyCheckCreateTime(t, "gopay "+string(w.event), &ct)
		}
		checkTime("gopay", res.OpenorcloseTime)
		got := permNotice{
			AppID: res.Appid, MchID: res.Mchid, ServiceID: res.ServiceId, OpenID: res.Openid,
			UserServiceStatus: res.UserServiceStatus, AuthorizationCode: res.AuthorizationCode,
		}
		if got != want || res.OutOrderNo != "" {
			t.Errorf("gopay %s: decrypted %+v, want %+v", w.event, res, want)
		}
	}
}

func TestNotifyAuthorizationFlowSDKs(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name          string
		publicKeyMode bool
		serial        string
		code, openid  string
	}{
		{"certificate", false, fixtures.PlatformSerial, "AUTH-SDK-CERT-0001", "oUpF8uPermNotifyCertUser0001"},
		{"public-key", true, fixtures.PublicKeyID, "AUTH-SDK-PUBKEY-0001", "oUpF8uPermNotifyPubKeyUser01"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sim := notifyStart(t, app.Options{}, tc.publicKeyMode)
			demo := sim.DemoClient(t)
			e := permNewEndpoint(t, tc.publicKeyMode)
			// Orders' notifications go elsewhere, so that e sees only the permission's.
			orders := notifyNewEndpoint(t, tc.publicKeyMode)

			// The merchant pre-authorizes; the user opens wxpayScoreEnable and authorizes.
			before := time.Now()
			token := permApply(t, demo, tc.code, e.URL)
			permAuthorize(t, sim, token, tc.openid)
			open := e.waitCount(t, 1, 5*time.Second)[0]
			permCheck(t, open, permWant{
				event: simulator.EventUserOpenService, summary: "授权成功", status: "USER_OPEN_SERVICE",
				openid: tc.openid, code: tc.code, serial: tc.serial, before: before, after: time.Now(),
			})
			v := notifyWaitState(t, sim, open.envelopeID(t), "DELIVERED", 1, 5*time.Second)
			if v.EventType != string(simulator.EventUserOpenService) || v.NotifyURL != e.URL || v.AttemptCount != 1 {
				t.Errorf("USER_OPEN_SERVICE record: event_type %s, notify_url %s, %d attempts; want %s, %s, 1",
					v.EventType, v.NotifyURL, v.AttemptCount, simulator.EventUserOpenService, e.URL)
			}

			// Authorized: an order without confirmation is accepted for the user.
			accepted := permCreateNoConfirm(t, demo, notifyOutOrderNo("pa"), tc.openid, orders.URL)
			var created struct {
				State            string `json:"state"`
				StateDescription string `json:"state_description"`
			}
			if accepted.Status != http.StatusOK || accepted.Decode(&created) != nil ||
				created.State != "DOING" || created.StateDescription != "USER_CONFIRM" {
				t.Errorf("create without confirmation for the authorized user: HTTP %d %s, want 200 DOING/USER_CONFIRM", accepted.Status, accepted.Body)
			}

			// The merchant terminates by authorization_code: 204, then USER_CLOSE_SERVICE.
			before = time.Now()
			resp := permDo(t, demo, http.MethodPost, "/v3/payscore/permissions/authorization-code/"+tc.code+"/terminate",
				map[string]any{"service_id": fixtures.DemoServiceID, "reason": "用户注销账号"}, http.StatusNoContent)
			if len(resp.Body) != 0 {
				t.Errorf("terminate: body %q, want none", resp.Body)
			}
			got := e.waitCount(t, 2, 5*time.Second)
			closed := got[1]
			permCheck(t, closed, permWant{
				event: simulator.EventUserCloseService, summary: "解除授权成功", status: "USER_CLOSE_SERVICE",
				openid: tc.openid, code: tc.code, serial: tc.serial, before: before, after: time.Now(),
			})
			v = notifyWaitState(t, sim, closed.envelopeID(t), "DELIVERED", 1, 5*time.Second)
			if v.EventType != string(simulator.EventUserCloseService) || v.NotifyURL != e.URL || v.AttemptCount != 1 {
				t.Errorf("USER_CLOSE_SERVICE record: event_type %s, notify_url %s, %d attempts; want %s, %s, 1",
					v.EventType, v.NotifyURL, v.AttemptCount, simulator.EventUserCloseService, e.URL)
			}
			if closed.envelopeID(t) == open.envelopeID(t) {
				t.Errorf("USER_CLOSE_SERVICE has the id of USER_OPEN_SERVICE, %s", open.envelopeID(t))
			}

			// No longer authorized: an order without confirmation is refused.
			refused := permCreateNoConfirm(t, demo, notifyOutOrderNo("pr"), tc.openid, orders.URL)
			if rerr := refused.Err(); refused.Status != http.StatusBadRequest || rerr.Code != "INVALID_REQUEST" {
				t.Errorf("create without confirmation after terminate: HTTP %d %s, want 400 INVALID_REQUEST", refused.Status, refused.Body)
			}

			time.Sleep(200 * time.Millisecond)
			if n := len(e.all()); n != 2 {
				t.Errorf("the permission's endpoint received %d requests, want 2 (USER_OPEN_SERVICE, USER_CLOSE_SERVICE, each acknowledged at once)", n)
			}
		})
	}
}

// TestRetryFastSchedule: under the fast schedule (--notify-schedule fast) an endpoint that fails
// twice and then answers 204 gets three attempts, 150 ms and 150 ms apart at least, and the
// notification is DELIVERED.
func TestRetryFastSchedule(t *testing.T) {
	t.Parallel()
	if fast, err := simulator.ParseRetrySchedule("fast"); err != nil || !slices.Equal(fast, simulator.FastSchedule) {
		t.Fatalf("ParseRetrySchedule(fast) = %v, %v; want FastSchedule %v", fast, err, simulator.FastSchedule)
	}
	sim := notifyStart(t, app.Options{NotifySchedule: simulator.FastSchedule}, false)
	const failures = 2
	e := notifyNewEndpoint(t, false, func(e *notifyEndpoint) {
		e.reply = func(i int, _ *notifyReceived) int {
			if i < failures {
				return http.StatusInternalServerError
			}
			return http.StatusNoContent
		}
	})
	no := notifyConfirmedOrder(t, sim, "fs", e.URL)
	got := e.waitCount(t, failures+1, 10*time.Second)
	id := notifyFind(t, sim, no, simulator.EventUserConfirm).ID
	v := notifyWaitState(t, sim, id, "DELIVERED", failures+1, 5*time.Second)

	minGaps := []time.Duration{150 * time.Millisecond, 150 * time.Millisecond}
	const slack = 2 * time.Second // generous: only a lower bound is exact
	for i := 1; i < len(got) && i <= len(minGaps); i++ {
		if got[i].envelopeID(t) != id {
			t.Errorf("request %d carries another notification than %s", i, id)
		}
		if gap := got[i].At.Sub(got[i-1].At); gap < minGaps[i-1] || gap > minGaps[i-1]+slack {
			t.Errorf("request %d came %s after request %d; want at least %s (and under %s)", i, gap, i-1, minGaps[i-1], minGaps[i-1]+slack)
		}
	}

	if len(v.Attempts) != failures+1 || v.AttemptCount != failures+1 {
		t.Fatalf("attempts = %s (attempt_count %d), want %d", notifyDescribe(v.Attempts), v.AttemptCount, failures+1)
	}
	for i, a := range v.Attempts {
		wantStatus, wantSuccess := http.StatusInternalServerError, false
		if i == failures {
			wantStatus, wantSuccess = http.StatusNoContent, true
		}
		if a.Status != wantStatus || a.Success != wantSuccess || a.NotificationID != id {
			t.Errorf("attempt %d = %+v, want status %d, success %v", i, a, wantStatus, wantSuccess)
		}
		if i > 0 {
			if gap := a.Time.Sub(v.Attempts[i-1].Time); gap < minGaps[i-1] || gap > minGaps[i-1]+slack {
				t.Errorf("attempt %d recorded %s after attempt %d; want at least %s (and under %s)", i, gap, i-1, minGaps[i-1], minGaps[i-1]+slack)
			}
		}
	}

	// Acknowledged: nothing more, not even at the schedule's next step (300 ms).
	time.Sleep(500 * time.Millisecond)
	if n := len(e.all()); n != failures+1 {
		t.Errorf("the endpoint received %d requests in all, want %d: nothing after the 204", n, failures+1)
	}
}
