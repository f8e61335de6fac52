package http_test

// These tests drive the simulator over loopback HTTP with github.com/go-pay/gopay (wechat/v3), an
// SDK merchants use unmodified against production: it signs every request, downloads and
// decrypts /v3/certificates, and verifies every 200 response's signature.
//
// The gopay* and sdk* helpers shared with other files live in helpers_sdk_test.go.

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
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
