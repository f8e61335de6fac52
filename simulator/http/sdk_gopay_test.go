package http_test

// These tests drive the simulator over loopback HTTP with github.com/go-pay/gopay (wechat/v3), an
// SDK merchants use unmodified against production: it signs every request, downloads and
// decrypts /v3/certificates, and verifies every 200 response's signature.
//
// The sdk* helpers at the end of this file are shared with sdk_wechatpaygo_test.go.

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// gopayClient returns a gopay client that signs as the demo merchant and talks to sim. It does
// not verify responses yet: call AutoVerifySign or AutoVerifySignByPublicKey on it.
func gopayClient(t *testing.T, sim *simtest.Sim) *wechat.ClientV3 {
	t.Helper()
	c, err := wechat.NewClientV3(sim.Creds.MchID, sim.Creds.MerchantSerialNo, sim.Creds.APIv3Key, sim.Creds.MerchantPrivateKeyPEM)
	if err != nil {
		t.Fatalf("gopay NewClientV3: %v", err)
	}
	c.SetProxyHost(sim.URL)
	return c
}

// gopayCertClient returns simtest's gopay client, in certificate mode: AutoVerifySign has
// downloaded /v3/certificates through the simulator, decrypted it with the APIv3 key and from
// then on verifies every response against it.
func gopayCertClient(t *testing.T, sim *simtest.Sim) *wechat.ClientV3 {
	t.Helper()
	c := sim.GoPay(t)
	if c.WxSerialNo != fixtures.PlatformSerial {
		t.Fatalf("after AutoVerifySign, WxSerialNo = %q, want the platform serial %s", c.WxSerialNo, fixtures.PlatformSerial)
	}
	if !c.WxPublicKey().Equal(sdkPlatformPublicKey(t)) {
		t.Fatal("the certificate gopay decrypted from /v3/certificates is not the platform certificate")
	}
	return c
}

// gopayOutcome reads the fields every gopay *XxxRsp has: Code (0 for HTTP 200, else the HTTP
// status), Error (the raw body of a refusal) and ErrResponse (that body parsed).
func gopayOutcome(t *testing.T, rsp any) (code int, body string, errResp wechat.ErrResponse) {
	t.Helper()
	v := reflect.ValueOf(rsp)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		t.Fatalf("gopay returned no response (%T)", rsp)
	}
	v = v.Elem()
	return int(v.FieldByName("Code").Int()), v.FieldByName("Error").String(), v.FieldByName("ErrResponse").Interface().(wechat.ErrResponse)
}

// gopayMustSucceed fails the test unless a gopay call returned no error and HTTP 200.
func gopayMustSucceed(t *testing.T, op string, rsp any, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if code, body, _ := gopayOutcome(t, rsp); code != wechat.Success {
		t.Fatalf("%s: HTTP %d, body %s", op, code, body)
	}
}

// gopayWantError checks a refused gopay call: gopay reports it with a nil error, the HTTP
// status in Code and the parsed body in ErrResponse.
func gopayWantError(t *testing.T, op string, rsp any, err error, wantStatus int, wantCode, wantMessage string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected Go error %v", op, err)
	}
	code, body, e := gopayOutcome(t, rsp)
	if code != wantStatus || e.Code != wantCode || e.Message != wantMessage {
		t.Errorf("%s: got HTTP %d %s %q, want HTTP %d %s %q (body %s)",
			op, code, e.Code, e.Message, wantStatus, wantCode, wantMessage, body)
	}
}

func gopayCheckSignInfo(t *testing.T, op string, si *wechat.SignInfo, serial string, key *rsa.PublicKey) {
	t.Helper()
	if si == nil {
		t.Fatalf("%s: no SignInfo", op)
	}
	if si.HeaderSerial != serial {
		t.Errorf("%s: response Wechatpay-Serial = %q, want %q", op, si.HeaderSerial, serial)
	}
	// gopay has verified already; check again independently, with the key we expect.
	if err := wechat.V3VerifySignByPK(si.HeaderTimestamp, si.HeaderNonce, si.SignBody, si.HeaderSignature, key); err != nil {
		t.Errorf("%s: response signature does not verify with the expected key: %v", op, err)
	}
}

func TestGoPayOrderLifecycle(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()
	platformKey := sdkPlatformPublicKey(t)

	no := sdkOutOrderNo(t, "gopay")
	start, end := sdkTimeRange(time.Now())
	body := gopay.BodyMap(sdkCreateOrderBody(no, start, end))

	created, err := client.V3ScoreOrderCreate(ctx, body)
	gopayMustSucceed(t, "create", created, err)
	gopayCheckSignInfo(t, "create", created.SignInfo, fixtures.PlatformSerial, platformKey)
	o := created.Response
	if o.State != "CREATED" {
		t.Errorf("create: state = %q, want CREATED", o.State)
	}
	if o.StateDescription != "" {
		t.Errorf("create: state_description = %q, want none", o.StateDescription)
	}
	if o.Package == "" {
		t.Error("create: package is empty; a confirm-mode order needs one")
	}
	if !sdkOrderIDPattern.MatchString(o.OrderId) {
		t.Errorf("create: order_id = %q, want 31 digits", o.OrderId)
	}
	if o.OutOrderNo != no || o.Appid != fixtures.DemoAppID || o.Mchid != fixtures.DemoMchID || o.ServiceId != fixtures.DemoServiceID {
		t.Errorf("create: identifiers (out_order_no, appid, mchid, service_id) = (%s, %s, %s, %s), want (%s, %s, %s, %s)",
			o.OutOrderNo, o.Appid, o.Mchid, o.ServiceId, no, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}

	// 原参重入: the same create again returns the same order.
	again, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(sdkCreateOrderBody(no, start, end)))
	gopayMustSucceed(t, "repeated create", again, err)
	if again.Response.OrderId != o.OrderId || again.Response.Package != o.Package || again.Response.State != "CREATED" {
		t.Errorf("repeated create: (order_id, package, state) = (%s, %s, %s), want the first create's (%s, %s, CREATED)",
			again.Response.OrderId, again.Response.Package, again.Response.State, o.OrderId, o.Package)
	}

	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query", queried, err)
	gopayCheckSignInfo(t, "query", queried.SignInfo, fixtures.PlatformSerial, platformKey)
	q := queried.Response
	if q.State != "CREATED" || q.OrderId != o.OrderId || q.OutOrderNo != no {
		t.Errorf("query: (state, order_id, out_order_no) = (%s, %s, %s), want (CREATED, %s, %s)", q.State, q.OrderId, q.OutOrderNo, o.OrderId, no)
	}
	if q.Appid != fixtures.DemoAppID || q.Mchid != fixtures.DemoMchID || q.ServiceId != fixtures.DemoServiceID {
		t.Errorf("query: (appid, mchid, service_id) = (%s, %s, %s), want (%s, %s, %s)",
			q.Appid, q.Mchid, q.ServiceId, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}
	if q.ServiceIntroduction != sdkServiceIntroduction || q.NotifyUrl != sdkNotifyURL {
		t.Errorf("query: (service_introduction, notify_url) = (%q, %q), want (%q, %q)", q.ServiceIntroduction, q.NotifyUrl, sdkServiceIntroduction, sdkNotifyURL)
	}
	if rf := q.RiskFund; rf == nil || rf.Name != "ESTIMATE_ORDER_COST" || rf.Amount != sdkRiskFundAmount || rf.Description != sdkRiskFundDescription {
		t.Errorf("query: risk_fund = %+v, want {ESTIMATE_ORDER_COST %d %q}", rf, sdkRiskFundAmount, sdkRiskFundDescription)
	}
	if tr := q.TimeRange; tr == nil || tr.StartTime != start || tr.EndTime != end {
		t.Errorf("query: time_range = %+v, want start %s end %s", tr, start, end)
	}
	if len(q.PostPayments) != 1 || *q.PostPayments[0] != (wechat.PostPayments{Name: sdkPaymentName, Amount: sdkPaymentAmount, Description: sdkPaymentDescription, Count: 1}) {
		t.Errorf("query: post_payments = %s, want the one item sent", sdkJSON(q.PostPayments))
	}
	if len(q.PostDiscounts) != 1 || *q.PostDiscounts[0] != (wechat.PostDiscounts{Name: sdkDiscountName, Description: sdkDiscountDescription, Count: 1}) {
		t.Errorf("query: post_discounts = %s, want the one item sent", sdkJSON(q.PostDiscounts))
	}
	// gopay's struct cannot tell an absent state_description from an empty one; the raw body can.
	if raw := sdkRawObject(t, queried.SignInfo.SignBody); raw["state_description"] != nil {
		t.Errorf("query: a CREATED order has state_description %s, want none", raw["state_description"])
	}

	cancelled, err := client.V3ScoreOrderCancel(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID, "用户取消租借")
	gopayMustSucceed(t, "cancel", cancelled, err)
	gopayCheckSignInfo(t, "cancel", cancelled.SignInfo, fixtures.PlatformSerial, platformKey)
	if c := cancelled.Response; *c != (wechat.ScoreOrderCancel{Appid: fixtures.DemoAppID, Mchid: fixtures.DemoMchID, ServiceId: fixtures.DemoServiceID, OutOrderNo: no, OrderId: o.OrderId}) {
		t.Errorf("cancel: response = %+v, want the order's identifiers", *c)
	}

	revoked, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after cancel", revoked, err)
	if revoked.Response.State != "REVOKED" || revoked.Response.OrderId != o.OrderId {
		t.Errorf("query after cancel: (state, order_id) = (%s, %s), want (REVOKED, %s)", revoked.Response.State, revoked.Response.OrderId, o.OrderId)
	}

	queryTarget := gopayQueryTarget(no)
	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"GET", "/v3/certificates", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", queryTarget, 200, ""},
		{"POST", "/v3/payscore/serviceorder/" + no + "/cancel", 200, ""},
		{"GET", queryTarget, 200, ""},
	})
}

// gopayQueryTarget is the request target gopay's V3ScoreOrderQuery sends: its own parameter
// order, values not encoded.
func gopayQueryTarget(no string) string {
	return "/v3/payscore/serviceorder?appid=" + fixtures.DemoAppID + "&out_order_no=" + no + "&service_id=" + fixtures.DemoServiceID
}

func TestGoPayRefusesStepsOnCreatedOrder(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()

	no := sdkOutOrderNo(t, "gopay")
	now := time.Now()
	start, end := sdkTimeRange(now)
	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(sdkCreateOrderBody(no, start, end)))
	gopayMustSucceed(t, "create", created, err)
	if created.Response.State != "CREATED" {
		t.Fatalf("create: state = %q, want CREATED", created.Response.State)
	}
	const badState = "当前订单状态不合法"

	// complete needs DOING/USER_CONFIRM: the user has not confirmed yet.
	completed, err := client.V3ScoreOrderComplete(ctx, no, gopay.BodyMap(sdkCompleteBody(now)))
	gopayWantError(t, "complete on CREATED", completed, err, http.StatusBadRequest, "INVALID_REQUEST", badState)

	modified, err := client.V3ScoreOrderModify(ctx, no, gopay.BodyMap(sdkModifyBody()))
	gopayWantError(t, "modify on CREATED", modified, err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	paid, err := client.V3ScoreOrderPay(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayWantError(t, "pay on CREATED", paid, err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	synced, err := client.V3ScoreOrderSync(ctx, no, gopay.BodyMap(sdkSyncBody(now)))
	gopayWantError(t, "sync on CREATED", synced, err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	// The same out_order_no with other parameters is not a repeat but a conflict.
	other := sdkCreateOrderBody(no, start, end)
	other["service_introduction"] = "共享雨伞租借"
	conflict, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(other))
	gopayWantError(t, "create with other parameters", conflict, err, http.StatusBadRequest, "INVALID_REQUEST", "请确认相同单号是否使用了不同的参数")
	if f := conflict.ErrResponse.Detail.Field; f != "out_order_no" {
		t.Errorf("create with other parameters: detail.field = %q, want out_order_no", f)
	}

	// Refusals leave the order as it was.
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query", queried, err)
	if q := queried.Response; q.State != "CREATED" || q.OrderId != created.Response.OrderId || q.ServiceIntroduction != sdkServiceIntroduction || q.Collection != nil {
		t.Errorf("query after refusals: (state, order_id, service_introduction, collection) = (%s, %s, %s, %v), want (CREATED, %s, %s, nil)",
			q.State, q.OrderId, q.ServiceIntroduction, q.Collection, created.Response.OrderId, sdkServiceIntroduction)
	}

	path := "/v3/payscore/serviceorder/" + no
	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"GET", "/v3/certificates", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"POST", path + "/complete", 400, "INVALID_REQUEST"},
		{"POST", path + "/modify", 400, "INVALID_ORDER_STATE"},
		{"POST", path + "/pay", 400, "INVALID_ORDER_STATE"},
		{"POST", path + "/sync", 400, "INVALID_ORDER_STATE"},
		{"POST", "/v3/payscore/serviceorder", 400, "INVALID_REQUEST"},
		{"GET", gopayQueryTarget(no), 200, ""},
	})
}

func TestGoPayPublicKeyMode(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	pubKeyKey := sdkPublicKeyModeKey(t)

	client := gopayClient(t, sim)
	if err := client.AutoVerifySignByPublicKey([]byte(sim.Creds.PlatformPublicKeyPEM), sim.Creds.PlatformPublicKeyID); err != nil {
		t.Fatalf("AutoVerifySignByPublicKey: %v", err)
	}
	// gopay sends WxSerialNo as the request's Wechatpay-Serial: the public key ID.
	if client.WxSerialNo != fixtures.PublicKeyID {
		t.Fatalf("WxSerialNo = %q, want %s", client.WxSerialNo, fixtures.PublicKeyID)
	}

	no := sdkOutOrderNo(t, "gopaypk")
	start, end := sdkTimeRange(time.Now())
	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(sdkCreateOrderBody(no, start, end)))
	gopayMustSucceed(t, "create (public key mode)", created, err)
	gopayCheckSignInfo(t, "create (public key mode)", created.SignInfo, fixtures.PublicKeyID, pubKeyKey)
	if created.Response.State != "CREATED" || !sdkOrderIDPattern.MatchString(created.Response.OrderId) {
		t.Errorf("create (public key mode): (state, order_id) = (%s, %s), want CREATED and 31 digits", created.Response.State, created.Response.OrderId)
	}
	// Signed with the public key's private key, not the platform certificate's.
	si := created.SignInfo
	if wechat.V3VerifySignByPK(si.HeaderTimestamp, si.HeaderNonce, si.SignBody, si.HeaderSignature, sdkPlatformPublicKey(t)) == nil {
		t.Error("create (public key mode): the response also verifies with the platform certificate's key; it must be signed with the public key mode's key")
	}

	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query (public key mode)", queried, err)
	gopayCheckSignInfo(t, "query (public key mode)", queried.SignInfo, fixtures.PublicKeyID, pubKeyKey)
	if queried.Response.State != "CREATED" || queried.Response.OrderId != created.Response.OrderId {
		t.Errorf("query (public key mode): (state, order_id) = (%s, %s), want (CREATED, %s)", queried.Response.State, queried.Response.OrderId, created.Response.OrderId)
	}

	// Verification is really on: a client holding the wrong key under the right ID refuses the
	// (correctly signed) response.
	wrong := gopayClient(t, sim)
	if err := wrong.AutoVerifySignByPublicKey(sdkPEMPublicKey(t, sdkPlatformPublicKey(t)), sim.Creds.PlatformPublicKeyID); err != nil {
		t.Fatalf("AutoVerifySignByPublicKey (wrong key): %v", err)
	}
	no2 := sdkOutOrderNo(t, "gopaypk")
	rsp, err := wrong.V3ScoreOrderCreate(ctx, gopay.BodyMap(sdkCreateOrderBody(no2, start, end)))
	if !errors.Is(err, gopay.VerifySignatureErr) {
		t.Errorf("create verified with the wrong public key: err = %v, want gopay.VerifySignatureErr", err)
	}
	if rsp == nil || rsp.Code != wechat.Success {
		t.Errorf("create verified with the wrong public key: want the simulator's 200 answer beside the error, got %+v", rsp)
	}

	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", gopayQueryTarget(no), 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
	})
}

// gopay signs the path it was given but sends it through net/http, which percent-encodes | and *
// in a path (both are allowed in out_order_no). The query string goes out as given. So with such
// an out_order_no, create and query work while every .../{out_order_no}/ACTION call is signed
// over a target other than the one sent: the simulator, which verifies the target as received,
// refuses it and says why.
func TestGoPayOutOrderNoWithPipeAndStar(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := gopayCertClient(t, sim)
	ctx := context.Background()

	no := sdkOutOrderNo(t, "gp|*")
	start, end := sdkTimeRange(time.Now())
	created, err := client.V3ScoreOrderCreate(ctx, gopay.BodyMap(sdkCreateOrderBody(no, start, end)))
	gopayMustSucceed(t, "create", created, err)
	if created.Response.OutOrderNo != no {
		t.Errorf("create: out_order_no = %q, want %q", created.Response.OutOrderNo, no)
	}
	queried, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query", queried, err)
	if queried.Response.OutOrderNo != no || queried.Response.OrderId != created.Response.OrderId {
		t.Errorf("query: (out_order_no, order_id) = (%s, %s), want (%s, %s)", queried.Response.OutOrderNo, queried.Response.OrderId, no, created.Response.OrderId)
	}

	sent := "/v3/payscore/serviceorder/" + url.PathEscape(no) + "/cancel"
	signed := "/v3/payscore/serviceorder/" + no + "/cancel"
	if sent == signed {
		t.Fatalf("url.PathEscape(%q) left it as it was; the test needs a character net/http encodes", no)
	}
	cancelled, err := client.V3ScoreOrderCancel(ctx, fixtures.DemoAppID, no, fixtures.DemoServiceID, "用户取消租借")
	gopayWantError(t, "cancel", cancelled, err, http.StatusUnauthorized, "SIGN_ERROR", "错误的签名，验签失败")
	if issue := cancelled.ErrResponse.Detail.Issue; !strings.Contains(issue, strconv.Quote(signed)) || !strings.Contains(issue, strconv.Quote(sent)) {
		t.Errorf("cancel: detail.issue = %q, want it to name the signed target %q and the sent one %q", issue, signed, sent)
	}

	again, err := client.V3ScoreOrderQuery(ctx, wechat.OutTradeNo, fixtures.DemoAppID, no, fixtures.DemoServiceID)
	gopayMustSucceed(t, "query after the refused cancel", again, err)
	if again.Response.State != "CREATED" {
		t.Errorf("query after the refused cancel: state = %s, want CREATED", again.Response.State)
	}

	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"GET", "/v3/certificates", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", gopayQueryTarget(no), 200, ""},
		{"POST", sent, 401, "SIGN_ERROR"},
		{"GET", gopayQueryTarget(no), 200, ""},
	})
}

// ---- shared by sdk_gopay_test.go and sdk_wechatpaygo_test.go ----

// The create request both SDK tests send; the query must echo it.
const (
	sdkServiceIntroduction = "共享充电宝租借"
	sdkNotifyURL           = "https://merchant.example.com/payscore/notify"
	sdkRiskFundAmount      = 9900
	sdkRiskFundDescription = "充电宝预估费用"
	sdkPaymentName         = "充电宝租借费"
	sdkPaymentAmount       = 300
	sdkPaymentDescription  = "3元/小时"
	sdkDiscountName        = "新用户首单"
	sdkDiscountDescription = "首小时免费"
)

var sdkOrderIDPattern = regexp.MustCompile(`^[0-9]{31}$`)

// sdkTimeRange is a service that starts now and ends three hours later, in China time.
func sdkTimeRange(now time.Time) (start, end string) {
	return compactTime(now), compactTime(now.Add(3 * time.Hour))
}

// sdkOutOrderNo is unique per test and call: a tag, a hash of the test name, the time.
func sdkOutOrderNo(t *testing.T, tag string) string {
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	no := fmt.Sprintf("%s-%s-%s", tag, strconv.FormatUint(uint64(h.Sum32()), 36), strconv.FormatInt(time.Now().UnixNano(), 36))
	if len(no) > 32 {
		t.Fatalf("out_order_no %s is longer than 32 characters", no)
	}
	return no
}

// sdkCreateOrderBody is a confirm-mode create request (need_user_confirm true, 先享
// ESTIMATE_ORDER_COST). Calls with the same arguments give the same JSON.
func sdkCreateOrderBody(no, start, end string) map[string]any {
	return map[string]any{
		"out_order_no":         no,
		"appid":                fixtures.DemoAppID,
		"service_id":           fixtures.DemoServiceID,
		"service_introduction": sdkServiceIntroduction,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
		},
		"post_discounts": []map[string]any{
			{"name": sdkDiscountName, "description": sdkDiscountDescription, "count": 1},
		},
		"time_range":        map[string]any{"start_time": start, "end_time": end},
		"risk_fund":         map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": sdkRiskFundAmount, "description": sdkRiskFundDescription},
		"notify_url":        sdkNotifyURL,
		"need_user_confirm": true,
	}
}

// sdkCompleteBody is a well-formed complete request for the order sdkCreateOrderBody makes.
func sdkCompleteBody(now time.Time) map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": sdkPaymentAmount, "description": sdkPaymentDescription, "count": 1},
		},
		"total_amount": sdkPaymentAmount,
		"time_range":   map[string]any{"end_time": compactTime(now)},
	}
}

// sdkModifyBody is a well-formed modify request lowering the amount.
func sdkModifyBody() map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"post_payments": []map[string]any{
			{"name": sdkPaymentName, "amount": 200, "description": sdkPaymentDescription, "count": 1},
		},
		"total_amount": 200,
		"reason":       "用户投诉",
	}
}

// sdkSyncBody is a well-formed sync request: the merchant was paid through its own channel.
func sdkSyncBody(now time.Time) map[string]any {
	return map[string]any{
		"appid":      fixtures.DemoAppID,
		"service_id": fixtures.DemoServiceID,
		"type":       "Order_Paid",
		"detail":     map[string]any{"paid_time": compactTime(now)},
	}
}

func sdkPlatformPublicKey(t *testing.T) *rsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode(fixtures.PlatformCertPEM)
	if block == nil {
		t.Fatal("platform certificate: no PEM block")
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("platform certificate: %v", err)
	}
	return cert.PublicKey.(*rsa.PublicKey)
}

func sdkPublicKeyModeKey(t *testing.T) *rsa.PublicKey {
	t.Helper()
	block, _ := pem.Decode(fixtures.PublicKeyModePublicPEM)
	if block == nil {
		t.Fatal("public key mode key: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatalf("public key mode key: %v", err)
	}
	return pub.(*rsa.PublicKey)
}

func sdkPEMPublicKey(t *testing.T, key *rsa.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

func sdkRawObject(t *testing.T, body string) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("response body is not a JSON object: %v: %s", err, body)
	}
	return m
}

func sdkJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// sdkLogged is what the simulator's request log should hold for one API call.
type sdkLogged struct {
	Method string
	Target string
	Status int
	Code   string
}

// sdkCheckRequestLog checks that GET /sim/v1/requests?mchid=... lists exactly the calls want,
// oldest first, with their outcomes.
func sdkCheckRequestLog(t *testing.T, sim *simtest.Sim, want []sdkLogged) {
	t.Helper()
	// The simulator writes a record once it has answered, so the last one may trail the
	// response by a moment.
	var records []simulator.RequestRecord
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		records = sdkRequestLog(t, sim)
		if len(records) >= len(want) || time.Now().After(deadline) {
			break
		}
	}
	slices.Reverse(records) // the log lists newest first
	got := make([]sdkLogged, len(records))
	for i, r := range records {
		got[i] = sdkLogged{r.Method, r.Target, r.Status, r.Code}
		if r.MchID != fixtures.DemoMchID {
			t.Errorf("request log entry %d (%s %s): mchid = %q, want %s", i, r.Method, r.Target, r.MchID, fixtures.DemoMchID)
		}
	}
	if !slices.Equal(got, want) {
		t.Errorf("request log:\n got  %+v\n want %+v", got, want)
	}
}

func sdkRequestLog(t *testing.T, sim *simtest.Sim) []simulator.RequestRecord {
	t.Helper()
	resp, err := http.Get(sim.URL + "/sim/v1/requests?mchid=" + url.QueryEscape(fixtures.DemoMchID))
	if err != nil {
		t.Fatalf("GET /sim/v1/requests: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /sim/v1/requests: HTTP %d", resp.StatusCode)
	}
	var page struct {
		Data []simulator.RequestRecord `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatalf("GET /sim/v1/requests: %v", err)
	}
	return page.Data
}
