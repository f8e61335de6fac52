package notify_test

// Helpers of the notification tests: merchant endpoints on loopback (httptest servers) whose
// handlers are the SDKs' own notification handlers, and the user's and merchant's steps of an
// order, driven over HTTP like any client would.

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth"
	"github.com/wechatpay-apiv3/wechatpay-go/core/auth/verifiers"
	wxnotify "github.com/wechatpay-apiv3/wechatpay-go/core/notify"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// notifyStart starts a simulator; publicKeyMode replaces the demo merchant with one whose
// notifications are signed in public-key mode.
func notifyStart(t *testing.T, opts app.Options, publicKeyMode bool) *simtest.Sim {
	t.Helper()
	if publicKeyMode {
		demo, err := fixtures.DemoMerchant()
		if err != nil {
			t.Fatal(err)
		}
		demo.Settings.NotifyPublicKeyMode = true
		opts.Merchants = append(opts.Merchants, demo)
	}
	return simtest.Start(t, opts)
}

// ---- what a merchant's endpoint saw ----

// notifyContent is the decrypted resource of a USER_CONFIRM, USER_PAID or REFUND.*
// notification, as the fields the tests check.
type notifyContent struct {
	MchID            string `json:"mchid"`
	OutOrderNo       string `json:"out_order_no"`
	State            string `json:"state"`
	StateDescription string `json:"state_description"`
	OpenID           string `json:"openid"`
	TotalAmount      int64  `json:"total_amount"`
	Collection       *struct {
		State   string `json:"state"`
		Details []struct {
			Amount        int64  `json:"amount"`
			PaidType      string `json:"paid_type"`
			PaidTime      string `json:"paid_time"`
			TransactionID string `json:"transaction_id"`
		} `json:"details"`
	} `json:"collection"`

	// A refund's.
	OutTradeNo          string  `json:"out_trade_no"`
	TransactionID       string  `json:"transaction_id"`
	OutRefundNo         string  `json:"out_refund_no"`
	RefundID            string  `json:"refund_id"`
	RefundStatus        string  `json:"refund_status"`
	SuccessTime         *string `json:"success_time"`
	UserReceivedAccount string  `json:"user_received_account"`
	Amount              *struct {
		Total       int64 `json:"total"`
		Refund      int64 `json:"refund"`
		PayerTotal  int64 `json:"payer_total"`
		PayerRefund int64 `json:"payer_refund"`
	} `json:"amount"`
}

// notifyReceived is one request at a merchant endpoint and what each SDK made of it. A nil
// error means the SDK accepted the request.
type notifyReceived struct {
	At     time.Time
	Header http.Header
	Body   []byte
	Status int // what the endpoint answered

	// wechatpay-go: notify.NewRSANotifyHandler(...).ParseNotifyRequest.
	WechatpayGo        error
	WechatpayGoRequest *wxnotify.Request
	WechatpayGoContent notifyContent
	// gopay: V3ParseNotify, VerifySignByPK (one key, the serial ignored), then
	// DecryptScoreCipherText, or DecryptRefundCipherText for a refund's.
	GoPay        error
	GoPayRequest *wechat.V3NotifyReq
	GoPayResult  *wechat.V3DecryptScoreResult
	GoPayRefund  *wechat.V3DecryptRefundResult
	// gopay's VerifySignByPKMap, which picks the key by Wechatpay-Serial.
	GoPayMap error
}

// notifyEndpoint is a merchant's notify_url on loopback. By default it answers 200 when both
// SDKs accept a notification and 401 {"code":"FAIL"} otherwise, as a correct merchant does.
type notifyEndpoint struct {
	URL string
	srv *httptest.Server

	wechatpayVerifier auth.Verifier
	gopayKey          *rsa.PublicKey
	gopayKeys         map[string]*rsa.PublicKey
	apiV3Key          string

	mu sync.Mutex
	// reply, when set, chooses the answer to the i-th request (from 0) instead.
	reply    func(i int, r *notifyReceived) int
	next     int
	received []*notifyReceived
	arrived  chan struct{}
}

// notifyNewEndpoint starts an endpoint that verifies as the demo merchant does, in certificate
// mode or in public-key mode.
// Each edit changes the endpoint before it starts listening.
func notifyNewEndpoint(t *testing.T, publicKeyMode bool, edits ...func(*notifyEndpoint)) *notifyEndpoint {
	t.Helper()
	e := notifyEndpointFor(t, publicKeyMode)
	for _, edit := range edits {
		edit(e)
	}
	e.srv = httptest.NewServer(e)
	t.Cleanup(e.srv.Close)
	e.URL = e.srv.URL + "/payscore/notify"
	return e
}

// notifyEndpointFor returns an endpoint's handler, not yet listening.
func notifyEndpointFor(t *testing.T, publicKeyMode bool) *notifyEndpoint {
	t.Helper()
	creds := fixtures.DemoCredentials()
	cert, err := utils.LoadCertificate(creds.PlatformCertificatePEM)
	if err != nil {
		t.Fatalf("platform certificate: %v", err)
	}
	pub, err := utils.LoadPublicKey(creds.PlatformPublicKeyPEM)
	if err != nil {
		t.Fatalf("WeChat Pay public key: %v", err)
	}
	e := &notifyEndpoint{apiV3Key: creds.APIv3Key, arrived: make(chan struct{}, 1)}
	if publicKeyMode {
		e.wechatpayVerifier = verifiers.NewSHA256WithRSAPubkeyVerifier(creds.PlatformPublicKeyID, *pub)
		e.gopayKey = pub
		e.gopayKeys = map[string]*rsa.PublicKey{creds.PlatformPublicKeyID: pub}
	} else {
		e.wechatpayVerifier = verifiers.NewSHA256WithRSAVerifier(core.NewCertificateMapWithList([]*x509.Certificate{cert}))
		e.gopayKey = cert.PublicKey.(*rsa.PublicKey)
		e.gopayKeys = map[string]*rsa.PublicKey{creds.PlatformSerialNo: e.gopayKey}
	}
	return e
}

func (e *notifyEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec := &notifyReceived{At: time.Now(), Header: r.Header.Clone(), Body: body}

	// Each SDK reads its own copy of the request, as if it were the only handler.
	handler, err := wxnotify.NewRSANotifyHandler(e.apiV3Key, e.wechatpayVerifier)
	if err == nil {
		r1 := r.Clone(r.Context())
		r1.Body = io.NopCloser(bytes.NewReader(body))
		rec.WechatpayGoRequest, err = handler.ParseNotifyRequest(r.Context(), r1, &rec.WechatpayGoContent)
	}
	rec.WechatpayGo = err

	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	if rec.GoPayRequest, rec.GoPay = wechat.V3ParseNotify(r2); rec.GoPay == nil {
		rec.GoPayMap = rec.GoPayRequest.VerifySignByPKMap(e.gopayKeys)
		switch rec.GoPay = rec.GoPayRequest.VerifySignByPK(e.gopayKey); {
		case rec.GoPay != nil:
		case rec.GoPayRequest.Resource != nil && rec.GoPayRequest.Resource.OriginalType == "refund":
			rec.GoPayRefund, rec.GoPay = rec.GoPayRequest.DecryptRefundCipherText(e.apiV3Key)
		default:
			rec.GoPayResult, rec.GoPay = rec.GoPayRequest.DecryptScoreCipherText(e.apiV3Key)
		}
	} else {
		rec.GoPayMap = rec.GoPay
	}

	e.mu.Lock()
	i := e.next
	e.next++
	reply := e.reply
	e.mu.Unlock()
	status := http.StatusUnauthorized
	if reply != nil {
		status = reply(i, rec)
	} else if rec.WechatpayGo == nil && rec.GoPay == nil {
		status = http.StatusOK
	}
	rec.Status = status
	e.mu.Lock()
	e.received = append(e.received, rec)
	e.mu.Unlock()
	select {
	case e.arrived <- struct{}{}:
	default:
	}
	switch {
	case status == http.StatusNoContent:
		w.WriteHeader(status)
	case status >= 200 && status < 300:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"code":"SUCCESS","message":"OK"}`)
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, `{"code":"FAIL","message":"失败"}`)
	}
}

// all returns the requests received so far.
func (e *notifyEndpoint) all() []*notifyReceived {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]*notifyReceived(nil), e.received...)
}

// waitCount waits until the endpoint has received n requests.
func (e *notifyEndpoint) waitCount(t *testing.T, n int, within time.Duration) []*notifyReceived {
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
			got := e.all()
			t.Fatalf("the endpoint received %d requests within %s, want %d", len(got), within, n)
			return nil
		}
	}
}

// envelopeID is the id of a received envelope.
func (r *notifyReceived) envelopeID(t *testing.T) string {
	t.Helper()
	var env struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("envelope %s: %v", r.Body, err)
	}
	return env.ID
}

// ---- the order's steps ----

// notifyOutOrderNo returns a fresh out_order_no.
func notifyOutOrderNo(tag string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	return "NT" + tag + hex.EncodeToString(b)
}

const (
	notifyPayment  = 300
	notifyDiscount = 100
	notifyTotal    = notifyPayment - notifyDiscount
)

func notifyCompact(t time.Time) string { return simulator.FormatCompact(t) }

// notifyCreate creates a confirm-mode order that notifies notifyURL, signed as the demo
// merchant, and returns its package.
func notifyCreate(t *testing.T, c *client.Client, no, notifyURL string) string {
	t.Helper()
	now := time.Now()
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder", map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": "共享充电宝",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": notifyPayment, "description": "每小时3元", "count": 1}},
		"post_discounts":       []any{map[string]any{"name": "新用户优惠", "amount": notifyDiscount, "description": "首单减1元", "count": 1}},
		"time_range":           map[string]any{"start_time": notifyCompact(now.Add(-time.Hour)), "end_time": notifyCompact(now.Add(2 * time.Hour))},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 9900, "description": "充电宝押金"},
		"attach":               "notify_test",
		"notify_url":           notifyURL,
		"need_user_confirm":    true,
	})
	if err != nil {
		t.Fatalf("create %s: %v", no, err)
	}
	var created struct {
		State   string `json:"state"`
		Package string `json:"package"`
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("create %s: HTTP %d %s", no, resp.Status, resp.Body)
	}
	if err := resp.Decode(&created); err != nil {
		t.Fatal(err)
	}
	if created.State != "CREATED" || created.Package == "" {
		t.Fatalf("create %s: state %q, package %q; want CREATED with a package", no, created.State, created.Package)
	}
	return created.Package
}

// notifyConfirm plays the user: opens the Pay Score page with the package and confirms.
func notifyConfirm(t *testing.T, sim *simtest.Sim, pkg string) {
	t.Helper()
	status, v := notifyPost(t, sim, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg},
	})
	if status != http.StatusCreated {
		t.Fatalf("open visit: HTTP %d %v", status, v)
	}
	id, _ := v["visit_id"].(string)
	if status, v = notifyPost(t, sim, "/sim/v1/visits/"+id+"/confirm", nil); status != http.StatusOK {
		t.Fatalf("confirm visit %s: HTTP %d %v", id, status, v)
	}
}

// notifyComplete completes the order for notifyTotal, with an end in the past.
func notifyComplete(t *testing.T, c *client.Client, no string) {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodPost, "/v3/payscore/serviceorder/"+no+"/complete", map[string]any{
		"appid":          fixtures.DemoAppID,
		"service_id":     fixtures.DemoServiceID,
		"post_payments":  []any{map[string]any{"name": "租借费", "amount": notifyPayment, "description": "每小时3元", "count": 1}},
		"post_discounts": []any{map[string]any{"name": "新用户优惠", "amount": notifyDiscount, "description": "首单减1元", "count": 1}},
		"total_amount":   notifyTotal,
		"time_range":     map[string]any{"end_time": notifyCompact(time.Now().Add(-time.Minute))},
	})
	if err != nil {
		t.Fatalf("complete %s: %v", no, err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("complete %s: HTTP %d %s", no, resp.Status, resp.Body)
	}
}

// notifyConfirmedOrder creates an order notifying notifyURL and has the user confirm it, so
// that a USER_CONFIRM notification is queued; it returns the out_order_no.
func notifyConfirmedOrder(t *testing.T, sim *simtest.Sim, tag, notifyURL string) string {
	t.Helper()
	no := notifyOutOrderNo(tag)
	notifyConfirm(t, sim, notifyCreate(t, sim.DemoClient(t), no, notifyURL))
	return no
}

// ---- the control API ----

// notifyPost posts JSON to the control API and decodes the JSON answer.
func notifyPost(t *testing.T, sim *simtest.Sim, path string, body any) (int, map[string]any) {
	t.Helper()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(sim.URL+path, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: HTTP %d, body not JSON: %v", path, resp.StatusCode, err)
	}
	return resp.StatusCode, out
}

// notifyGetJSON gets a control API path and decodes the answer into v.
func notifyGetJSON(t *testing.T, sim *simtest.Sim, path string, v any) int {
	t.Helper()
	resp, err := http.Get(sim.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: HTTP %d, body %s: %v", path, resp.StatusCode, body, err)
	}
	return resp.StatusCode
}

// notifyView is GET /sim/v1/notifications/{id}.
type notifyView struct {
	ID            string                       `json:"id"`
	MchID         string                       `json:"mchid"`
	EventType     string                       `json:"event_type"`
	Summary       string                       `json:"summary"`
	OutOrderNo    string                       `json:"out_order_no"`
	NotifyURL     string                       `json:"notify_url"`
	State         string                       `json:"state"`
	AttemptCount  int                          `json:"attempt_count"`
	NextAttemptAt time.Time                    `json:"next_attempt_at"`
	Resource      json.RawMessage              `json:"resource"`
	Body          json.RawMessage              `json:"body"`
	Attempts      []*simulator.DeliveryAttempt `json:"attempts"`
}

// notifyGet returns a notification with its attempts.
func notifyGet(t *testing.T, sim *simtest.Sim, id string) notifyView {
	t.Helper()
	var v notifyView
	if status := notifyGetJSON(t, sim, "/sim/v1/notifications/"+id, &v); status != http.StatusOK {
		t.Fatalf("GET notification %s: HTTP %d", id, status)
	}
	return v
}

// notifyFind returns the one notification of an order with the given event type.
func notifyFind(t *testing.T, sim *simtest.Sim, no string, event simulator.EventType) notifyView {
	t.Helper()
	var list struct {
		Data []notifyView `json:"data"`
	}
	path := "/sim/v1/notifications?out_order_no=" + no + "&event_type=" + string(event)
	if status := notifyGetJSON(t, sim, path, &list); status != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", path, status)
	}
	if len(list.Data) != 1 {
		t.Fatalf("GET %s: %d notifications, want 1", path, len(list.Data))
	}
	return notifyGet(t, sim, list.Data[0].ID)
}

// notifyWaitState waits until the notification is in state with at least attempts attempts.
func notifyWaitState(t *testing.T, sim *simtest.Sim, id, state string, attempts int, within time.Duration) notifyView {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		v := notifyGet(t, sim, id)
		if v.State == state && v.AttemptCount >= attempts {
			return v
		}
		if time.Now().After(deadline) {
			t.Fatalf("notification %s: state %s after %d attempts %s, want %s after %d within %s",
				id, v.State, v.AttemptCount, notifyDescribe(v.Attempts), state, attempts, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// notifyDescribe summarizes attempts for a failure message.
func notifyDescribe(as []*simulator.DeliveryAttempt) string {
	var parts []string
	for _, a := range as {
		parts = append(parts, fmt.Sprintf("{status %d, success %v, lab %q, err %q}", a.Status, a.Success, a.Lab, a.Error))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
