package notify_test

// A merchant's notify endpoint built on each SDK's own notification handler receives the
// callbacks of a full confirm → complete → paid flow: wechatpay-go's notify.NewRSANotifyHandler
// with the certificate verifier and with the public-key verifier, and gopay's V3ParseNotify +
// VerifySignByPK + DecryptScoreCipherText. Both SDKs run on every request (see
// notifyEndpoint); each test checks what its SDK made of the callbacks.

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// notifyFlow runs create → confirm → complete (deducted at once) against sim, with the notify
// endpoint e, and returns the USER_CONFIRM and USER_PAID requests the endpoint received.
func notifyFlow(t *testing.T, sim *simtest.Sim, e *notifyEndpoint, tag string) (no string, confirm, paid *notifyReceived) {
	t.Helper()
	c := sim.DemoClient(t)
	no = notifyOutOrderNo(tag)
	pkg := notifyCreate(t, c, no, e.URL)
	notifyConfirm(t, sim, pkg)
	got := e.waitCount(t, 1, 5*time.Second)
	confirm = got[0]
	confirmID := notifyWaitState(t, sim, notifyFind(t, sim, no, simulator.EventUserConfirm).ID, "DELIVERED", 1, 5*time.Second).ID
	if id := confirm.envelopeID(t); id != confirmID {
		t.Fatalf("first request carries notification %s, want the USER_CONFIRM one, %s", id, confirmID)
	}
	notifyComplete(t, c, no)
	got = e.waitCount(t, 2, 5*time.Second)
	paid = got[1]
	paidID := notifyWaitState(t, sim, notifyFind(t, sim, no, simulator.EventUserPaid).ID, "DELIVERED", 1, 5*time.Second).ID
	if id := paid.envelopeID(t); id != paidID {
		t.Fatalf("second request carries notification %s, want the USER_PAID one, %s", id, paidID)
	}
	if n := len(e.all()); n != 2 {
		t.Errorf("the endpoint received %d requests, want 2 (each notification acknowledged at once)", n)
	}
	return no, confirm, paid
}

// notifyCheckHeaders checks the headers WeChat sends with a notification.
func notifyCheckHeaders(t *testing.T, r *notifyReceived, serial string) {
	t.Helper()
	h := r.Header
	if got := h.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	if got := h.Get("Wechatpay-Serial"); got != serial {
		t.Errorf("Wechatpay-Serial = %q, want %q", got, serial)
	}
	if got := h.Get("Wechatpay-Signature-Type"); got != "WECHATPAY2-SHA256-RSA2048" {
		t.Errorf("Wechatpay-Signature-Type = %q", got)
	}
	for _, k := range []string{"Request-ID", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Timestamp", "User-Agent"} {
		if h.Get(k) == "" {
			t.Errorf("header %s is missing", k)
		}
	}
	var env struct {
		ResourceType string `json:"resource_type"`
		Resource     struct {
			OriginalType   string  `json:"original_type"`
			Algorithm      string  `json:"algorithm"`
			AssociatedData *string `json:"associated_data"`
			Nonce          string  `json:"nonce"`
		} `json:"resource"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("envelope: %v", err)
	}
	if env.ResourceType != "encrypt-resource" || env.Resource.OriginalType != "payscore" || env.Resource.Algorithm != "AEAD_AES_256_GCM" ||
		env.Resource.AssociatedData == nil || *env.Resource.AssociatedData != "" || len(env.Resource.Nonce) != 12 {
		t.Errorf("envelope = %s; want resource_type encrypt-resource, original_type payscore, AEAD_AES_256_GCM, associated_data \"\", a 12-character nonce", r.Body)
	}
}

// notifyCheckCreateTime checks a parsed create_time: RFC3339 in +08:00, around now.
func notifyCheckCreateTime(t *testing.T, what string, ct *time.Time) {
	t.Helper()
	if ct == nil {
		t.Errorf("%s: create_time not parsed", what)
		return
	}
	if _, off := ct.Zone(); off != 8*60*60 {
		t.Errorf("%s: create_time %s is not in +08:00", what, ct)
	}
	if d := time.Since(*ct); d < -time.Second || d > time.Minute {
		t.Errorf("%s: create_time %s is %s from now", what, ct, d)
	}
}

// notifyCheckConfirm checks a decrypted USER_CONFIRM content.
func notifyCheckConfirm(t *testing.T, sdk string, no, outOrderNo, state, stateDescription string) {
	t.Helper()
	if outOrderNo != no || state != "DOING" || stateDescription != "USER_CONFIRM" {
		t.Errorf("%s USER_CONFIRM: (out_order_no, state, state_description) = (%s, %s, %s), want (%s, DOING, USER_CONFIRM)",
			sdk, outOrderNo, state, stateDescription, no)
	}
}

// notifyCheckUser checks the openid of a decrypted USER_CONFIRM or USER_PAID: the user who
// confirmed, here the visit's default user under the demo appid (the resource marks it
// required, reference 9.1).
func notifyCheckUser(t *testing.T, sdk, event, openid string) {
	t.Helper()
	if want := simulator.DefaultOpenID(fixtures.DemoAppID); openid != want {
		t.Errorf("%s %s: openid %q, want the confirming user %s", sdk, event, openid, want)
	}
}

func TestNotifyWechatPayGoCertificate(t *testing.T) {
	t.Parallel()
	notifyWechatPayGo(t, false)
}

func TestNotifyWechatPayGoPublicKey(t *testing.T) {
	t.Parallel()
	notifyWechatPayGo(t, true)
}

func notifyWechatPayGo(t *testing.T, publicKeyMode bool) {
	sim := notifyStart(t, app.Options{}, publicKeyMode)
	e := notifyNewEndpoint(t, publicKeyMode)
	no, confirm, paid := notifyFlow(t, sim, e, "wx")
	serial := fixtures.PlatformSerial
	if publicKeyMode {
		serial = fixtures.PublicKeyID
	}
	for _, r := range []*notifyReceived{confirm, paid} {
		notifyCheckHeaders(t, r, serial)
		if r.WechatpayGo != nil {
			t.Fatalf("wechatpay-go ParseNotifyRequest: %v", r.WechatpayGo)
		}
	}

	req, c := confirm.WechatpayGoRequest, confirm.WechatpayGoContent
	if req.EventType != "PAYSCORE.USER_CONFIRM" || req.Summary != "确认订单" || req.ResourceType != "encrypt-resource" || req.Resource.OriginalType != "payscore" {
		t.Errorf("USER_CONFIRM envelope: (event_type, summary, resource_type, original_type) = (%s, %s, %s, %s)",
			req.EventType, req.Summary, req.ResourceType, req.Resource.OriginalType)
	}
	notifyCheckCreateTime(t, "USER_CONFIRM", req.CreateTime)
	notifyCheckConfirm(t, "wechatpay-go", no, c.OutOrderNo, c.State, c.StateDescription)
	notifyCheckUser(t, "wechatpay-go", "USER_CONFIRM", c.OpenID)
	if c.MchID != fixtures.DemoMchID || c.Collection != nil {
		t.Errorf("USER_CONFIRM: (mchid, collection) = (%s, %v), want (%s, none)", c.MchID, c.Collection, fixtures.DemoMchID)
	}

	req, c = paid.WechatpayGoRequest, paid.WechatpayGoContent
	if req.EventType != "PAYSCORE.USER_PAID" || req.Summary != "支付成功" {
		t.Errorf("USER_PAID envelope: (event_type, summary) = (%s, %s)", req.EventType, req.Summary)
	}
	notifyCheckCreateTime(t, "USER_PAID", req.CreateTime)
	notifyCheckUser(t, "wechatpay-go", "USER_PAID", c.OpenID)
	if c.OutOrderNo != no || c.State != "DONE" || c.TotalAmount != notifyTotal {
		t.Errorf("USER_PAID: (out_order_no, state, total_amount) = (%s, %s, %d), want (%s, DONE, %d)", c.OutOrderNo, c.State, c.TotalAmount, no, notifyTotal)
	}
	if c.Collection == nil || c.Collection.State != "USER_PAID" || len(c.Collection.Details) != 1 {
		t.Fatalf("USER_PAID: collection = %+v, want USER_PAID with one detail", c.Collection)
	}
	d := c.Collection.Details[0]
	if d.PaidType != "NEWTON" || d.TransactionID == "" || d.Amount != notifyTotal || d.PaidTime == "" {
		t.Errorf("USER_PAID: detail = %+v, want paid_type NEWTON, a transaction_id, amount %d, a paid_time", d, notifyTotal)
	}
}

func TestNotifyGoPayCertificate(t *testing.T) {
	t.Parallel()
	notifyGoPay(t, false)
}

func TestNotifyGoPayPublicKey(t *testing.T) {
	t.Parallel()
	notifyGoPay(t, true)
}

func notifyGoPay(t *testing.T, publicKeyMode bool) {
	sim := notifyStart(t, app.Options{}, publicKeyMode)
	e := notifyNewEndpoint(t, publicKeyMode)
	no, confirm, paid := notifyFlow(t, sim, e, "gp")
	for _, r := range []*notifyReceived{confirm, paid} {
		if r.GoPay != nil {
			t.Fatalf("gopay V3ParseNotify + VerifySignByPK + DecryptScoreCipherText: %v", r.GoPay)
		}
		if r.GoPayMap != nil {
			t.Errorf("gopay VerifySignByPKMap: %v", r.GoPayMap)
		}
	}
	req, res := confirm.GoPayRequest, confirm.GoPayResult
	if req.EventType != "PAYSCORE.USER_CONFIRM" || req.ResourceType != "encrypt-resource" || req.Resource.OriginalType != "payscore" {
		t.Errorf("USER_CONFIRM envelope: (event_type, resource_type, original_type) = (%s, %s, %s)", req.EventType, req.ResourceType, req.Resource.OriginalType)
	}
	ct, err := time.Parse(time.RFC3339, req.CreateTime)
	if err != nil {
		t.Errorf("USER_CONFIRM create_time %q: %v", req.CreateTime, err)
	}
	notifyCheckCreateTime(t, "USER_CONFIRM", &ct)
	notifyCheckConfirm(t, "gopay", no, res.OutOrderNo, res.State, res.StateDescription)
	notifyCheckUser(t, "gopay", "USER_CONFIRM", res.Openid)

	req, res = paid.GoPayRequest, paid.GoPayResult
	if req.EventType != "PAYSCORE.USER_PAID" {
		t.Errorf("USER_PAID event_type = %s", req.EventType)
	}
	notifyCheckUser(t, "gopay", "USER_PAID", res.Openid)
	if res.OutOrderNo != no || res.State != "DONE" || res.TotalAmount != notifyTotal {
		t.Errorf("USER_PAID: (out_order_no, state, total_amount) = (%s, %s, %d), want (%s, DONE, %d)", res.OutOrderNo, res.State, res.TotalAmount, no, notifyTotal)
	}
	if res.Collection == nil || res.Collection.State != "USER_PAID" || len(res.Collection.Details) != 1 {
		t.Fatalf("USER_PAID: collection = %+v, want USER_PAID with one detail", res.Collection)
	}
	if d := res.Collection.Details[0]; d.PaidType != "NEWTON" || d.TransactionId == "" || d.Amount != notifyTotal {
		t.Errorf("USER_PAID: detail = %+v, want paid_type NEWTON, a transaction_id, amount %d", d, notifyTotal)
	}
}

// TestNotifySDKsRejectAnotherMerchantsKey shows that the SDK endpoints can fail: a notification
// encrypted for the demo merchant does not decrypt under another APIv3 key, and a merchant
// verifying in public-key mode refuses a certificate-mode notification. The endpoint refuses
// (401), so the simulator records a failed attempt and keeps the notification pending.
func TestNotifySDKsRejectAnotherMerchantsKey(t *testing.T) {
	t.Parallel()
	sim := notifyStart(t, app.Options{}, false)
	// It verifies in public-key mode, while the merchant gets certificate mode.
	e := notifyNewEndpoint(t, true, func(e *notifyEndpoint) { e.apiV3Key = fixtures.OtherAPIv3Key })
	no := notifyConfirmedOrder(t, sim, "rj", e.URL)
	r := e.waitCount(t, 1, 5*time.Second)[0]
	if r.WechatpayGo == nil {
		t.Error("wechatpay-go accepted a certificate-mode notification with the public-key verifier")
	}
	if r.GoPay == nil {
		t.Error("gopay verified a certificate-mode notification with the WeChat Pay public key")
	}
	v := notifyWaitState(t, sim, notifyFind(t, sim, no, simulator.EventUserConfirm).ID, "PENDING", 1, 5*time.Second)
	if a := v.Attempts[0]; a.Success || a.Status != http.StatusUnauthorized {
		t.Errorf("attempt = %+v, want a failure with HTTP 401", a)
	}
}
