package simtest

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// ProductionHost is WeChat Pay's API host, which merchants' code names in its URLs.
const ProductionHost = "api.mch.weixin.qq.com"

// GoPay returns a github.com/go-pay/gopay client of the demo merchant that talks to the
// simulator (SetProxyHost) and verifies every response: AutoVerifySign has downloaded and
// decrypted /v3/certificates from the simulator. No background refresh runs.
func (s *Sim) GoPay(t testing.TB) *wechat.ClientV3 {
	t.Helper()
	c, err := wechat.NewClientV3(s.Creds.MchID, s.Creds.MerchantSerialNo, s.Creds.APIv3Key, s.Creds.MerchantPrivateKeyPEM)
	if err != nil {
		t.Fatalf("simtest: gopay NewClientV3: %v", err)
	}
	c.SetProxyHost(s.URL)
	// false: no refresh goroutine, which would sleep 12 h and outlive the test.
	if err := c.AutoVerifySign(false); err != nil {
		t.Fatalf("simtest: gopay AutoVerifySign (GET /v3/certificates): %v", err)
	}
	return c
}

// WechatPayGo returns a github.com/wechatpay-apiv3/wechatpay-go client of the demo merchant in
// certificate mode: it signs as the merchant and validates every response against the platform
// certificate. Call it with production's URLs (https://api.mch.weixin.qq.com/v3/...); its HTTP
// client (ProductionClient) sends them to the simulator.
func (s *Sim) WechatPayGo(t testing.TB) *core.Client {
	t.Helper()
	key, err := utils.LoadPrivateKey(s.Creds.MerchantPrivateKeyPEM)
	if err != nil {
		t.Fatalf("simtest: merchant private key: %v", err)
	}
	cert, err := utils.LoadCertificate(s.Creds.PlatformCertificatePEM)
	if err != nil {
		t.Fatalf("simtest: platform certificate: %v", err)
	}
	c, err := core.NewClient(context.Background(),
		option.WithMerchantCredential(s.Creds.MchID, s.Creds.MerchantSerialNo, key),
		option.WithWechatPayCertificate([]*x509.Certificate{cert}),
		option.WithHTTPClient(s.ProductionClient(t)),
	)
	if err != nil {
		t.Fatalf("simtest: wechatpay-go core.NewClient: %v", err)
	}
	return c
}

// ProductionClient returns an HTTP client that sends every request for
// https://api.mch.weixin.qq.com to the simulator, the request target (which SDKs sign) as it
// is, and refuses any other host, so nothing leaves for the internet. wechatpay-go's
// certificate downloader takes it (downloader.NewCertificateDownloaderWithClient).
func (s *Sim) ProductionClient(t testing.TB) *http.Client {
	t.Helper()
	sim, err := url.Parse(s.URL)
	if err != nil {
		t.Fatalf("simtest: simulator URL: %v", err)
	}
	base := http.DefaultTransport.(*http.Transport).Clone()
	base.Proxy = nil
	t.Cleanup(base.CloseIdleConnections)
	return &http.Client{Transport: &rewrite{sim: sim, base: base}, Timeout: 30 * time.Second}
}

type rewrite struct {
	sim  *url.URL
	base http.RoundTripper
}

func (rt *rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != "https" || r.URL.Host != ProductionHost {
		if r.Body != nil {
			r.Body.Close()
		}
		return nil, errors.New("simtest: refusing a request for " + r.URL.Scheme + "://" + r.URL.Host + ": only https://" + ProductionHost + " is sent to the simulator")
	}
	out := r.Clone(r.Context())
	out.URL.Scheme, out.URL.Host, out.Host = rt.sim.Scheme, rt.sim.Host, rt.sim.Host
	return rt.base.RoundTrip(out)
}

// UserConfirms plays the user of the Pay Score mini-program through the control API: opens
// the page with the order's package (wxpayScoreUse), confirms, and returns with params. It
// returns the query_id the merchant's App.onShow would receive.
func (s *Sim) UserConfirms(t testing.TB, pkg string) (queryID string) {
	t.Helper()
	var visit struct {
		ID string `json:"visit_id"`
	}
	s.control(t, "/sim/v1/visits", map[string]any{
		"businessType": "wxpayScoreUse", "extraData": map[string]any{"package": pkg},
	}, http.StatusCreated, &visit)
	s.control(t, "/sim/v1/visits/"+visit.ID+"/confirm", nil, http.StatusOK, nil)
	var show struct {
		ReferrerInfo struct {
			ExtraData struct {
				QueryID string `json:"query_id"`
			} `json:"extraData"`
		} `json:"referrerInfo"`
	}
	s.control(t, "/sim/v1/visits/"+visit.ID+"/return", nil, http.StatusOK, &show)
	if show.ReferrerInfo.ExtraData.QueryID == "" {
		t.Fatalf("simtest: visit %s returned no query_id", visit.ID)
	}
	return show.ReferrerInfo.ExtraData.QueryID
}

// Fault sets a fault rule through POST /sim/v1/faults (fields as its JSON: mchid, operation,
// fault, times, delay, out_order_no, before_commit) and returns it: the merchant's next
// matching API requests fail as the rule says. mchid defaults to the demo merchant's.
func (s *Sim) Fault(t testing.TB, rule map[string]any) simulator.FaultRule {
	t.Helper()
	body := map[string]any{"mchid": s.Creds.MchID}
	maps.Copy(body, rule)
	var r simulator.FaultRule
	s.control(t, "/sim/v1/faults", body, http.StatusCreated, &r)
	return r
}

// control posts body as JSON to a control API path and decodes the answer into out.
func (s *Sim) control(t testing.TB, path string, body any, want int, out any) {
	t.Helper()
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(s.URL+path, "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatalf("simtest: POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("simtest: POST %s: %v", path, err)
	}
	if resp.StatusCode != want {
		t.Fatalf("simtest: POST %s: HTTP %d %s, want %d", path, resp.StatusCode, b, want)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("simtest: POST %s: %v in %s", path, err, b)
		}
	}
}
