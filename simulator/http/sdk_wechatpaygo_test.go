package http_test

// These tests drive the simulator over loopback HTTP with github.com/wechatpay-apiv3/wechatpay-go,
// WeChat Pay's official Go SDK. It has no Pay Score service, so merchants call the generic
// core.Client with production URLs; a transport sends those to the simulator instead. Response
// validation stays on throughout. The wechatpay* and sdk* helpers shared with other files live in
// helpers_sdk_test.go.

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/downloader"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// wechatpayRewrite sends every request for production's API host to the simulator instead,
// keeping the request target (which the SDK has signed) as it is. It refuses any other host, so
// nothing can leave for the internet.
type wechatpayRewrite struct {
	sim   *url.URL
	base  http.RoundTripper
	count atomic.Int64
}

func (rt *wechatpayRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" || r.URL.Host != "api.mch.weixin.qq.com" {
		return nil, errors.New("wechatpayRewrite: refusing a request for " + r.URL.Scheme + "://" + r.URL.Host)
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = rt.sim.Scheme, rt.sim.Host, rt.sim.Host
	rt.count.Add(1)
	return rt.base.RoundTrip(out)
}

// wechatpayHTTPClient returns an http.Client whose requests for production go to sim.
func wechatpayHTTPClient(t *testing.T, sim *simtest.Sim) (*http.Client, *wechatpayRewrite) {
	t.Helper()
	u, err := url.Parse(sim.URL)
	if err != nil {
		t.Fatalf("simulator URL: %v", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rt := &wechatpayRewrite{sim: u, base: tr}
	return &http.Client{Transport: rt, Timeout: 30 * time.Second}, rt
}

// wechatpayPublicKeyClient returns a core.Client in public-key mode, validating responses
// against pub under the ID publicKeyID.
func wechatpayPublicKeyClient(t *testing.T, sim *simtest.Sim, publicKeyID string, pub *rsa.PublicKey) *core.Client {
	t.Helper()
	hc, _ := wechatpayHTTPClient(t, sim)
	return wechatpayNewClient(t,
		option.WithWechatPayPublicKeyAuthCipher(sim.Creds.MchID, sim.Creds.MerchantSerialNo, wechatpayMerchantKey(t, sim), publicKeyID, pub),
		option.WithHTTPClient(hc),
	)
}

func TestWechatPayGoOrderLifecycle(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()

	no := sdkOutOrderNo(t, "wxgo")
	_, end := sdkTimeRange(time.Now())
	body := sdkCreateOrderBody(no, "OnAccept", end)

	var o wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", body)
	wechatpayDecode(t, "create", result, err, &o)
	wechatpaySerials(t, "create", result, fixtures.PlatformSerial)
	if o.State != "CREATED" || o.StateDescription != nil {
		t.Errorf("create: (state, state_description) = (%s, %v), want (CREATED, absent)", o.State, o.StateDescription)
	}
	if o.Package == nil || *o.Package == "" {
		t.Error("create: no package; a confirm-mode order needs one")
	}
	if !sdkOrderIDPattern.MatchString(o.OrderID) {
		t.Errorf("create: order_id = %q, want 31 digits", o.OrderID)
	}
	if o.OutOrderNo != no || o.AppID != fixtures.DemoAppID || o.MchID != fixtures.DemoMchID || o.ServiceID != fixtures.DemoServiceID {
		t.Errorf("create: identifiers (out_order_no, appid, mchid, service_id) = (%s, %s, %s, %s), want (%s, %s, %s, %s)",
			o.OutOrderNo, o.AppID, o.MchID, o.ServiceID, no, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}

	var again wechatpayOrder
	result, err = client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", sdkCreateOrderBody(no, "OnAccept", end))
	wechatpayDecode(t, "repeated create", result, err, &again)
	if again.OrderID != o.OrderID || again.Package == nil || o.Package == nil || *again.Package != *o.Package || again.State != "CREATED" {
		t.Errorf("repeated create: (order_id, state) = (%s, %s), package equal: %v; want the first create's order, package and CREATED",
			again.OrderID, again.State, again.Package != nil && o.Package != nil && *again.Package == *o.Package)
	}

	var q wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query", result, err, &q)
	wechatpaySerials(t, "query", result, fixtures.PlatformSerial)
	if q.State != "CREATED" || q.StateDescription != nil || q.OrderID != o.OrderID || q.OutOrderNo != no {
		t.Errorf("query: (state, state_description, order_id, out_order_no) = (%s, %v, %s, %s), want (CREATED, absent, %s, %s)",
			q.State, q.StateDescription, q.OrderID, q.OutOrderNo, o.OrderID, no)
	}
	if q.AppID != fixtures.DemoAppID || q.MchID != fixtures.DemoMchID || q.ServiceID != fixtures.DemoServiceID {
		t.Errorf("query: (appid, mchid, service_id) = (%s, %s, %s), want (%s, %s, %s)",
			q.AppID, q.MchID, q.ServiceID, fixtures.DemoAppID, fixtures.DemoMchID, fixtures.DemoServiceID)
	}
	if q.Package != nil {
		t.Errorf("query: package %q; only create answers with one", *q.Package)
	}
	if q.ServiceIntroduction != sdkServiceIntroduction || q.NotifyURL != sdkNotifyURL {
		t.Errorf("query: (service_introduction, notify_url) = (%q, %q), want (%q, %q)", q.ServiceIntroduction, q.NotifyURL, sdkServiceIntroduction, sdkNotifyURL)
	}
	if rf := q.RiskFund; rf.Name != "ESTIMATE_ORDER_COST" || rf.Amount != sdkRiskFundAmount || rf.Description != sdkRiskFundDescription {
		t.Errorf("query: risk_fund = %+v, want {ESTIMATE_ORDER_COST %d %q}", rf, sdkRiskFundAmount, sdkRiskFundDescription)
	}
	// OnAccept stays OnAccept until the user confirms.
	if tr := q.TimeRange; tr.StartTime != "OnAccept" || tr.EndTime != end {
		t.Errorf("query: time_range = %+v, want start OnAccept end %s", tr, end)
	}
	if len(q.PostPayments) != 1 || q.PostPayments[0].Name != sdkPaymentName || q.PostPayments[0].Amount != sdkPaymentAmount ||
		q.PostPayments[0].Description != sdkPaymentDescription || q.PostPayments[0].Count != 1 {
		t.Errorf("query: post_payments = %s, want the one item sent", sdkJSON(q.PostPayments))
	}
	if len(q.PostDiscounts) != 1 || q.PostDiscounts[0].Name != sdkDiscountName || q.PostDiscounts[0].Description != sdkDiscountDescription ||
		q.PostDiscounts[0].Amount != nil || q.PostDiscounts[0].Count != 1 {
		t.Errorf("query: post_discounts = %s, want the one item sent (no amount)", sdkJSON(q.PostDiscounts))
	}

	var ref sdkOrderRef
	result, err = client.Post(ctx, wechatpayActionURL(no, "cancel"), map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "用户取消租借",
	})
	wechatpayDecode(t, "cancel", result, err, &ref)
	wechatpaySerials(t, "cancel", result, fixtures.PlatformSerial)
	if want := (sdkOrderRef{fixtures.DemoAppID, fixtures.DemoMchID, no, fixtures.DemoServiceID, o.OrderID}); ref != want {
		t.Errorf("cancel: response = %+v, want %+v", ref, want)
	}

	var revoked wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query after cancel", result, err, &revoked)
	if revoked.State != "REVOKED" || revoked.StateDescription != nil || revoked.OrderID != o.OrderID {
		t.Errorf("query after cancel: (state, state_description, order_id) = (%s, %v, %s), want (REVOKED, absent, %s)",
			revoked.State, revoked.StateDescription, revoked.OrderID, o.OrderID)
	}

	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", wechatpayQueryTarget(no), 200, ""},
		{"POST", "/v3/payscore/serviceorder/" + no + "/cancel", 200, ""},
		{"GET", wechatpayQueryTarget(no), 200, ""},
	})
}

func TestWechatPayGoRefusesStepsOnCreatedOrder(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()

	no := sdkOutOrderNo(t, "wxgo")
	now := time.Now()
	start, end := sdkTimeRange(now)
	var o wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", sdkCreateOrderBody(no, start, end))
	wechatpayDecode(t, "create", result, err, &o)
	if o.State != "CREATED" {
		t.Fatalf("create: state = %q, want CREATED", o.State)
	}
	const badState = "当前订单状态不合法"

	_, err = client.Post(ctx, wechatpayActionURL(no, "complete"), sdkCompleteBody(now))
	wechatpayWantAPIError(t, "complete on CREATED", err, http.StatusBadRequest, "INVALID_REQUEST", badState)

	_, err = client.Post(ctx, wechatpayActionURL(no, "modify"), sdkModifyBody())
	wechatpayWantAPIError(t, "modify on CREATED", err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	_, err = client.Post(ctx, wechatpayActionURL(no, "pay"), map[string]any{"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID})
	wechatpayWantAPIError(t, "pay on CREATED", err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	_, err = client.Post(ctx, wechatpayActionURL(no, "sync"), sdkSyncBody(now))
	wechatpayWantAPIError(t, "sync on CREATED", err, http.StatusBadRequest, "INVALID_ORDER_STATE", badState)

	other := sdkCreateOrderBody(no, start, end)
	other["risk_fund"] = map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": sdkRiskFundAmount + 100, "description": sdkRiskFundDescription}
	_, err = client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", other)
	apiErr := wechatpayWantAPIError(t, "create with other parameters", err, http.StatusBadRequest, "INVALID_REQUEST", "请确认相同单号是否使用了不同的参数")
	if apiErr != nil {
		detail, _ := apiErr.Detail.(map[string]any)
		if detail["field"] != "out_order_no" || detail["value"] != no {
			t.Errorf("create with other parameters: detail = %v, want field out_order_no, value %s", apiErr.Detail, no)
		}
	}

	var q wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query", result, err, &q)
	if q.State != "CREATED" || q.OrderID != o.OrderID || q.RiskFund.Amount != sdkRiskFundAmount || q.Collection != nil {
		t.Errorf("query after refusals: (state, order_id, risk_fund.amount, collection) = (%s, %s, %d, %v), want (CREATED, %s, %d, absent)",
			q.State, q.OrderID, q.RiskFund.Amount, q.Collection, o.OrderID, sdkRiskFundAmount)
	}

	path := "/v3/payscore/serviceorder/" + no
	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"POST", path + "/complete", 400, "INVALID_REQUEST"},
		{"POST", path + "/modify", 400, "INVALID_ORDER_STATE"},
		{"POST", path + "/pay", 400, "INVALID_ORDER_STATE"},
		{"POST", path + "/sync", 400, "INVALID_ORDER_STATE"},
		{"POST", "/v3/payscore/serviceorder", 400, "INVALID_REQUEST"},
		{"GET", wechatpayQueryTarget(no), 200, ""},
	})
}

func TestWechatPayGoPublicKeyMode(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	pub, err := utils.LoadPublicKey(sim.Creds.PlatformPublicKeyPEM)
	if err != nil {
		t.Fatalf("public key: %v", err)
	}
	client := wechatpayPublicKeyClient(t, sim, sim.Creds.PlatformPublicKeyID, pub)

	no := sdkOutOrderNo(t, "wxgopk")
	start, end := sdkTimeRange(time.Now())
	var o wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", sdkCreateOrderBody(no, start, end))
	// A nil error means the SDK validated the response against the public key under its ID.
	wechatpayDecode(t, "create (public key mode)", result, err, &o)
	wechatpaySerials(t, "create (public key mode)", result, fixtures.PublicKeyID)
	if o.State != "CREATED" || !sdkOrderIDPattern.MatchString(o.OrderID) {
		t.Errorf("create (public key mode): (state, order_id) = (%s, %s), want CREATED and 31 digits", o.State, o.OrderID)
	}

	var q wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query (public key mode)", result, err, &q)
	wechatpaySerials(t, "query (public key mode)", result, fixtures.PublicKeyID)
	if q.State != "CREATED" || q.OrderID != o.OrderID {
		t.Errorf("query (public key mode): (state, order_id) = (%s, %s), want (CREATED, %s)", q.State, q.OrderID, o.OrderID)
	}

	// Validation is really on: the platform certificate's key under the public key ID does not
	// verify what the public key mode's key signed.
	wrong := wechatpayPublicKeyClient(t, sim, sim.Creds.PlatformPublicKeyID, wechatpayPlatformCert(t, sim).PublicKey.(*rsa.PublicKey))
	result, err = wrong.Get(ctx, wechatpayServiceOrderURL(no))
	var apiErr *core.APIError
	switch {
	case err == nil:
		t.Error("query validated with the wrong public key: no error, want a validation failure")
	case errors.As(err, &apiErr):
		t.Errorf("query validated with the wrong public key: got API error %v, want a validation failure", err)
	case !strings.Contains(err.Error(), "verify"):
		t.Errorf("query validated with the wrong public key: err = %v, want a signature verification failure", err)
	}
	if result == nil || result.Response == nil || result.Response.StatusCode != http.StatusOK {
		t.Error("query validated with the wrong public key: want the simulator's 200 answer beside the error")
	}

	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"GET", wechatpayQueryTarget(no), 200, ""},
		{"GET", wechatpayQueryTarget(no), 200, ""},
	})
}

func TestWechatPayGoCertificateDownloader(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	platform := wechatpayPlatformCert(t, sim)

	// The downloader fetches consts.WechatPayAPIServer + "/v3/certificates" with the client it
	// is given; that client's transport brings the request to the simulator, and its validator
	// checks the download's signature.
	hc, rewrite := wechatpayHTTPClient(t, sim)
	boot := wechatpayNewClient(t,
		option.WithMerchantCredential(sim.Creds.MchID, sim.Creds.MerchantSerialNo, wechatpayMerchantKey(t, sim)),
		option.WithWechatPayCertificate([]*x509.Certificate{platform}),
		option.WithHTTPClient(hc),
	)
	d, err := downloader.NewCertificateDownloaderWithClient(ctx, boot, sim.Creds.APIv3Key)
	if err != nil {
		t.Fatalf("NewCertificateDownloaderWithClient: %v", err)
	}
	if n := rewrite.count.Load(); n != 1 {
		t.Errorf("the rewriting transport carried %d requests, want 1 (the download)", n)
	}
	all := d.GetAll(ctx)
	if len(all) != 1 {
		t.Fatalf("downloaded %d certificates, want 1", len(all))
	}
	cert, ok := all[fixtures.PlatformSerial]
	if !ok {
		t.Fatalf("no certificate with serial %s among those downloaded", fixtures.PlatformSerial)
	}
	if got := utils.GetCertificateSerialNumber(*cert); got != fixtures.PlatformSerial {
		t.Errorf("decrypted certificate's serial = %s, want %s", got, fixtures.PlatformSerial)
	}
	if !cert.Equal(platform) {
		t.Error("the decrypted certificate is not the platform certificate")
	}
	if pemText, ok := d.Export(ctx, fixtures.PlatformSerial); !ok || pemText != sim.Creds.PlatformCertificatePEM {
		t.Errorf("exported certificate (found %v) differs from the platform certificate PEM", ok)
	}
	if got := d.GetNewestSerial(ctx); got != fixtures.PlatformSerial {
		t.Errorf("newest serial = %s, want %s", got, fixtures.PlatformSerial)
	}
	// A refresh validates the download with the certificates downloaded before.
	if err := d.DownloadCertificates(ctx); err != nil {
		t.Fatalf("second download: %v", err)
	}

	// The manager path: a client whose validator uses the manager's downloaded certificates.
	mgr := downloader.NewCertificateDownloaderMgr(ctx)
	t.Cleanup(mgr.Stop)
	if err := mgr.RegisterDownloaderWithClient(ctx, boot, sim.Creds.MchID, sim.Creds.APIv3Key); err != nil {
		t.Fatalf("RegisterDownloaderWithClient: %v", err)
	}
	if got := mgr.GetNewestCertificateSerial(ctx, sim.Creds.MchID); got != fixtures.PlatformSerial {
		t.Errorf("manager's newest serial = %s, want %s", got, fixtures.PlatformSerial)
	}
	hc2, _ := wechatpayHTTPClient(t, sim)
	client := wechatpayNewClient(t,
		option.WithWechatPayAutoAuthCipherUsingDownloaderMgr(sim.Creds.MchID, sim.Creds.MerchantSerialNo, wechatpayMerchantKey(t, sim), mgr),
		option.WithHTTPClient(hc2),
	)
	no := sdkOutOrderNo(t, "wxgodl")
	start, end := sdkTimeRange(time.Now())
	var o wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", sdkCreateOrderBody(no, start, end))
	wechatpayDecode(t, "create (downloaded certificates)", result, err, &o)
	wechatpaySerials(t, "create (downloaded certificates)", result, fixtures.PlatformSerial)
	if o.State != "CREATED" || o.OutOrderNo != no {
		t.Errorf("create (downloaded certificates): (state, out_order_no) = (%s, %s), want (CREATED, %s)", o.State, o.OutOrderNo, no)
	}

	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"GET", "/v3/certificates", 200, ""},
		{"GET", "/v3/certificates", 200, ""},
		{"GET", "/v3/certificates", 200, ""},
		{"POST", "/v3/payscore/serviceorder", 200, ""},
	})
}

// wechatpay-go signs request.URL.RequestURI(), the target exactly as net/http sends it, so an
// out_order_no with | and * (allowed characters, percent-encoded in the path and the query)
// works end to end.
func TestWechatPayGoOutOrderNoWithPipeAndStar(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	client := wechatpayClient(t, sim)
	ctx := context.Background()

	no := sdkOutOrderNo(t, "wx|*")
	start, end := sdkTimeRange(time.Now())
	var o wechatpayOrder
	result, err := client.Post(ctx, wechatpayHost+"/v3/payscore/serviceorder", sdkCreateOrderBody(no, start, end))
	wechatpayDecode(t, "create", result, err, &o)
	if o.OutOrderNo != no || o.State != "CREATED" {
		t.Errorf("create: (out_order_no, state) = (%s, %s), want (%s, CREATED)", o.OutOrderNo, o.State, no)
	}
	var ref sdkOrderRef
	result, err = client.Post(ctx, wechatpayActionURL(no, "cancel"), map[string]any{
		"appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID, "reason": "用户取消租借",
	})
	wechatpayDecode(t, "cancel", result, err, &ref)
	if ref.OutOrderNo != no || ref.OrderID != o.OrderID {
		t.Errorf("cancel: (out_order_no, order_id) = (%s, %s), want (%s, %s)", ref.OutOrderNo, ref.OrderID, no, o.OrderID)
	}
	var q wechatpayOrder
	result, err = client.Get(ctx, wechatpayServiceOrderURL(no))
	wechatpayDecode(t, "query", result, err, &q)
	if q.OutOrderNo != no || q.State != "REVOKED" {
		t.Errorf("query: (out_order_no, state) = (%s, %s), want (%s, REVOKED)", q.OutOrderNo, q.State, no)
	}

	cancelTarget := "/v3/payscore/serviceorder/" + url.PathEscape(no) + "/cancel"
	if !strings.Contains(cancelTarget, "%7C") || !strings.Contains(wechatpayQueryTarget(no), "%7C") {
		t.Fatalf("targets %s and %s should carry | percent-encoded", cancelTarget, wechatpayQueryTarget(no))
	}
	sdkCheckRequestLog(t, sim, []sdkLogged{
		{"POST", "/v3/payscore/serviceorder", 200, ""},
		{"POST", cancelTarget, 200, ""},
		{"GET", wechatpayQueryTarget(no), 200, ""},
	})
}
