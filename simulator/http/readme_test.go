package http_test

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-pay/gopay"
	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/core/option"
	"github.com/wechatpay-apiv3/wechatpay-go/services/refunddomestic"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// The README's SDK snippets are the regions between "README: NAME" and "README: end" below,
// run here against a live simulator; TestREADMESnippets checks the README shows them verbatim.

// creds is the shape of GET /sim/v1/demo-credentials.
type creds = fixtures.Credentials

func readmeGopay(ctx context.Context, simURL string, c creds, body gopay.BodyMap) (*wechat.ScoreOrderCreateRsp, error) {
	// README: gopay
	client, err := wechat.NewClientV3(c.MchID, c.MerchantSerialNo, c.APIv3Key, c.MerchantPrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	client.SetProxyHost(simURL) // e.g. http://127.0.0.1:8080 instead of https://api.mch.weixin.qq.com
	// Downloads /v3/certificates from the simulator and verifies every response from then on.
	if err := client.AutoVerifySign(false); err != nil {
		return nil, err
	}
	return client.V3ScoreOrderCreate(ctx, body)
	// README: end
}

// hostRewrite sends requests for production to the simulator.
// README: wechatpay-go
type hostRewrite struct{ sim *url.URL }

func (h hostRewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.URL.Scheme, r.URL.Host, r.Host = h.sim.Scheme, h.sim.Host, h.sim.Host
	return http.DefaultTransport.RoundTrip(r)
}

func newWechatpayClient(ctx context.Context, simURL string, c creds) (*core.Client, error) {
	sim, err := url.Parse(simURL)
	if err != nil {
		return nil, err
	}
	key, err := utils.LoadPrivateKey(c.MerchantPrivateKeyPEM)
	if err != nil {
		return nil, err
	}
	platform, err := utils.LoadCertificate(c.PlatformCertificatePEM)
	if err != nil {
		return nil, err
	}
	return core.NewClient(ctx,
		option.WithMerchantCredential(c.MchID, c.MerchantSerialNo, key),
		option.WithWechatPayCertificate([]*x509.Certificate{platform}), // responses are verified
		option.WithHTTPClient(&http.Client{Transport: hostRewrite{sim}}),
	)
}

// Then call production URLs as usual, for example:
//   client.Post(ctx, "https://api.mch.weixin.qq.com/v3/payscore/serviceorder", body)
// README: end

func readmeBody(no string) map[string]any {
	end := time.Now().Add(3 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format("20060102150405")
	return map[string]any{
		"out_order_no": no, "appid": fixtures.DemoAppID, "service_id": fixtures.DemoServiceID,
		"service_introduction": "共享充电宝", "need_user_confirm": true,
		"time_range": map[string]any{"start_time": "OnAccept", "end_time": end},
		"risk_fund":  map[string]any{"name": "DEPOSIT", "amount": 9900},
		"notify_url": "https://merchant.example.com/payscore/notify",
	}
}

func readmeCreds(t *testing.T, sim *simtest.Sim) creds {
	t.Helper()
	resp, err := http.Get(sim.URL + "/sim/v1/demo-credentials")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var c creds
	if err := json.NewDecoder(resp.Body).Decode(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestREADMEGopaySnippet(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	rsp, err := readmeGopay(context.Background(), sim.URL, readmeCreds(t, sim), readmeBody("readme-gopay"))
	if err != nil || rsp.Code != 0 || rsp.Response.State != "CREATED" || rsp.Response.Package == "" {
		t.Fatalf("gopay snippet: %v %+v", err, rsp)
	}
}

func TestREADMEWechatpayGoSnippet(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	client, err := newWechatpayClient(ctx, sim.URL, readmeCreds(t, sim))
	if err != nil {
		t.Fatal(err)
	}
	result, err := client.Post(ctx, "https://api.mch.weixin.qq.com/v3/payscore/serviceorder", readmeBody("readme-wpgo"))
	if err != nil {
		t.Fatalf("wechatpay-go snippet: %v", err)
	}
	var o struct{ State string }
	if err := core.UnMarshalResponse(result.Response, &o); err != nil || o.State != "CREATED" {
		t.Fatalf("wechatpay-go snippet: %v %+v", err, o)
	}
}

func readmeRefund(ctx context.Context, client *core.Client, transactionID string) (*refunddomestic.Refund, error) {
	// README: refund
	refunds := refunddomestic.RefundsApiService{Client: client} // the client above
	refund, _, err := refunds.Create(ctx, refunddomestic.CreateRequest{
		TransactionId: core.String(transactionID), // the deduction's collection.details[].transaction_id
		OutRefundNo:   core.String("RF-20240731-0001"),
		Amount: &refunddomestic.AmountReq{
			Refund: core.Int64(100), Total: core.Int64(300), Currency: core.String("CNY"),
		},
	})
	// refund.Status is PROCESSING; the outcome comes by REFUND.* notification or by query.
	return refund, err
	// README: end
}

func TestREADMERefundSnippet(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	ctx := context.Background()
	tid := sim.PaidOrder(t, "readme-refund", 300, sdkNotifyURL)
	client, err := newWechatpayClient(ctx, sim.URL, readmeCreds(t, sim))
	if err != nil {
		t.Fatal(err)
	}
	refund, err := readmeRefund(ctx, client, tid)
	if err != nil || *refund.Status != refunddomestic.STATUS_PROCESSING || *refund.TransactionId != tid {
		t.Fatalf("refund snippet: %v %+v", err, refund)
	}
}

// The README's worked example of testing a retry.
//
// README: retry
// createWithRetry sends the create again, with the very same body, after a 5xx or a transport
// error: production asks for exactly that after SYSTEM_ERROR, and create is re-entrant.
func createWithRetry(ctx context.Context, client *wechat.ClientV3, body gopay.BodyMap) (*wechat.ScoreOrderCreateRsp, error) {
	var rsp *wechat.ScoreOrderCreateRsp
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		rsp, err = client.V3ScoreOrderCreate(ctx, body)
		if err == nil && rsp.Code < 500 {
			return rsp, nil
		}
	}
	return rsp, err
}

func TestCreateSurvivesACommitted500(t *testing.T) {
	sim := simtest.Start(t, app.Options{})
	client := sim.GoPay(t)
	// The next create is done and committed, then answered 500 SYSTEM_ERROR.
	rule := sim.Fault(t, map[string]any{"operation": "create", "fault": "system_error_after_commit"})

	rsp, err := createWithRetry(context.Background(), client, readmeBody("retry-1"))
	if err != nil || rsp.Code != 0 || rsp.Response.Package == "" {
		t.Fatalf("create with retry: %v %+v", err, rsp)
	}
	// The rule fired (it is gone), so the success is the retry's: it found the committed order.
	if rules := sim.Server.Service.Faults.List(""); len(rules) != 0 {
		t.Fatalf("rule %s did not fire: %+v", rule.ID, rules)
	}
}

// README: end

// TestREADMESnippets keeps the README's snippets identical to the code tested: the Go ones
// above, and the Node SDK's client in the script sdk_node_test.go runs.
func TestREADMESnippets(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for file, names := range map[string][]string{
		"readme_test.go":                         {"gopay", "wechatpay-go", "refund", "retry"},
		filepath.Join(nodeSDKDir, "payscore.js"): {"node"},
	} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range names {
			snippet, err := readmeRegion(src, name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(readme, []byte(snippet)) {
				t.Errorf("README.md does not show the %s snippet of %s as tested; it should contain:\n%s", name, file, snippet)
			}
		}
	}
}

// readmeRegion returns the lines between "// README: name" and "// README: end", with the
// indentation of the first line removed from each.
func readmeRegion(src []byte, name string) (string, error) {
	_, rest, ok := strings.Cut(string(src), "// README: "+name+"\n")
	if !ok {
		return "", errors.New("no README region " + name)
	}
	region, _, ok := strings.Cut(rest, "// README: end")
	if !ok {
		return "", errors.New("README region " + name + " has no end")
	}
	lines := strings.Split(strings.TrimRight(region, "\t\n"), "\n")
	indent := lines[0][:len(lines[0])-len(strings.TrimLeft(lines[0], "\t"))]
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, indent)
	}
	return strings.Join(lines, "\n"), nil
}

// readmeSection is the README's section under the heading, up to the next one.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n## "+heading+"\n")
	if !ok {
		t.Fatalf("README.md has no section %q", heading)
	}
	section, _, _ := strings.Cut(rest, "\n## ")
	return section
}

// readmeQuoted returns the README's code span that starts with prefix (without its backquotes),
// failing the test when the section does not show one.
func readmeQuoted(t *testing.T, section, prefix string) string {
	t.Helper()
	_, rest, ok := strings.Cut(section, "`"+prefix)
	if !ok {
		t.Fatalf("the README section shows no `%s...`", prefix)
	}
	span, _, _ := strings.Cut(rest, "`")
	return prefix + span
}

// TestREADMERefundsSection follows the Refunds section as written: the snippet's refund, the
// control API's outcome as the section spells its path and body (ABNORMAL, which may still
// succeed), the notifications (to the merchant's refund_notify_url) listed under the Pay Score
// order, and the out_order_no refused as out_trade_no with the message the section quotes.
func TestREADMERefundsSection(t *testing.T) {
	t.Parallel()
	section := readmeSection(t, "Refunds")
	ep := dashNewEndpoint(t)
	ep.ok.Store(true)
	// The snippet's refund names no notify_url: its notifications go to the merchant's.
	sim := refundStart(t, func(m *simulator.Merchant) { m.Settings.RefundNotifyURL = ep.URL + "/refund" })
	ctx := context.Background()
	tid := sim.PaidOrder(t, "readme-refunds", 300, ep.URL+"/notify")
	client, err := newWechatpayClient(ctx, sim.URL, readmeCreds(t, sim))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readmeRefund(ctx, client, tid); err != nil {
		t.Fatal(err)
	}

	outcome := strings.NewReplacer("{mchid}", fixtures.DemoMchID, "{out_refund_no}", "RF-20240731-0001").
		Replace(strings.TrimPrefix(readmeQuoted(t, section, "POST /sim/v1/refunds/"), "POST "))
	for _, status := range []string{"ABNORMAL", "SUCCESS"} {
		if !strings.Contains(section, `"`+status+`"`) {
			t.Fatalf("the section does not offer %s", status)
		}
		if code, v := visitPost(t, sim, outcome, map[string]any{"status": status}); code != http.StatusOK || v["refund"].(map[string]any)["status"] != status {
			t.Fatalf("POST %s %s: HTTP %d %v", outcome, status, code, v)
		}
	}

	list := strings.Replace(readmeQuoted(t, section, "GET /sim/v1/notifications?out_order_no="), "...", "readme-refunds", 1)
	status, v := pageControl(t, sim, http.MethodGet, strings.TrimPrefix(list, "GET ")+"&event_type=REFUND.ABNORMAL", nil)
	if data, _ := v["data"].([]any); status != http.StatusOK || len(data) != 1 {
		t.Errorf("%s: HTTP %d %v, want the REFUND.ABNORMAL notification", list, status, v)
	}

	byOrderNo := refunddomestic.RefundsApiService{Client: client}
	_, _, err = byOrderNo.Create(ctx, refunddomestic.CreateRequest{
		OutTradeNo: core.String("readme-refunds"), OutRefundNo: core.String("RF-20240731-0002"),
		Amount: &refunddomestic.AmountReq{Refund: core.Int64(1), Total: core.Int64(300), Currency: core.String("CNY")},
	})
	wxWantAPIError(t, "the out_order_no as out_trade_no", err, http.StatusNotFound, "RESOURCE_NOT_EXISTS", "订单不存在")
	if !strings.Contains(section, "`404 RESOURCE_NOT_EXISTS \"订单不存在\"`") {
		t.Error("the section does not quote the answer to the out_order_no as out_trade_no")
	}
}
