package http_test

// Helpers of the tests that call the simulator through the SDKs (gopay and wechatpay-go): the
// clients, the checks of their answers, and the request bodies and request log the sdk_*,
// fault and parity tests share.

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
	"testing"
	"time"

	"github.com/go-pay/gopay/wechat/v3"
	"github.com/wechatpay-apiv3/wechatpay-go/core"
	"github.com/wechatpay-apiv3/wechatpay-go/utils"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// ---- gopay ----

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

// gopayQueryTarget is the request target gopay's V3ScoreOrderQuery sends for order no.
func gopayQueryTarget(no string) string { return gopayQueryTargetBy("out_order_no", no) }

// gopayQueryTargetBy is the request target gopay's V3ScoreOrderQuery sends for a query by key
// ("out_order_no" or "query_id"): its own parameter order, values not encoded.
func gopayQueryTargetBy(key, value string) string {
	return "/v3/payscore/serviceorder?appid=" + fixtures.DemoAppID + "&" + key + "=" + value + "&service_id=" + fixtures.DemoServiceID
}

// ---- wechatpay-go ----

// wechatpayHost is production's API host, which the tests write in every URL.
const wechatpayHost = "https://api.mch.weixin.qq.com"

func wechatpayMerchantKey(t *testing.T, sim *simtest.Sim) *rsa.PrivateKey {
	t.Helper()
	key, err := utils.LoadPrivateKey(sim.Creds.MerchantPrivateKeyPEM)
	if err != nil {
		t.Fatalf("merchant private key: %v", err)
	}
	return key
}

func wechatpayPlatformCert(t *testing.T, sim *simtest.Sim) *x509.Certificate {
	t.Helper()
	cert, err := utils.LoadCertificate(sim.Creds.PlatformCertificatePEM)
	if err != nil {
		t.Fatalf("platform certificate: %v", err)
	}
	return cert
}

// wechatpayClient returns simtest's core.Client, in certificate mode: it signs as the demo
// merchant and validates every response against the platform certificate.
func wechatpayClient(t *testing.T, sim *simtest.Sim) *core.Client {
	t.Helper()
	return sim.WechatPayGo(t)
}

func wechatpayNewClient(t *testing.T, opts ...core.ClientOption) *core.Client {
	t.Helper()
	c, err := core.NewClient(context.Background(), opts...)
	if err != nil {
		t.Fatalf("core.NewClient: %v", err)
	}
	return c
}

// wechatpayOrder is the service order as the create and query APIs answer it. Pointers tell
// an absent member from an empty one.
type wechatpayOrder struct {
	AppID               string  `json:"appid"`
	MchID               string  `json:"mchid"`
	OutOrderNo          string  `json:"out_order_no"`
	ServiceID           string  `json:"service_id"`
	ServiceIntroduction string  `json:"service_introduction"`
	State               string  `json:"state"`
	StateDescription    *string `json:"state_description"`
	PostPayments        []struct {
		Name        string `json:"name"`
		Amount      int64  `json:"amount"`
		Description string `json:"description"`
		Count       int64  `json:"count"`
	} `json:"post_payments"`
	PostDiscounts []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
		Amount      *int64 `json:"amount"`
		Count       int64  `json:"count"`
	} `json:"post_discounts"`
	RiskFund struct {
		Name        string `json:"name"`
		Amount      int64  `json:"amount"`
		Description string `json:"description"`
	} `json:"risk_fund"`
	TimeRange struct {
		StartTime string `json:"start_time"`
		EndTime   string `json:"end_time"`
	} `json:"time_range"`
	NotifyURL  string          `json:"notify_url"`
	OrderID    string          `json:"order_id"`
	Package    *string         `json:"package"`
	Collection *map[string]any `json:"collection"`
}

// sdkOrderRef is the answer of cancel and pay: the order's identifiers.
type sdkOrderRef struct {
	AppID      string `json:"appid"`
	MchID      string `json:"mchid"`
	OutOrderNo string `json:"out_order_no"`
	ServiceID  string `json:"service_id"`
	OrderID    string `json:"order_id"`
}

// wechatpayDecode fails the test unless the call succeeded (HTTP 200, response validated), then
// decodes its body into v.
func wechatpayDecode(t *testing.T, op string, result *core.APIResult, err error, v any) *core.APIResult {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	if result.Response.StatusCode != http.StatusOK {
		t.Fatalf("%s: HTTP %d", op, result.Response.StatusCode)
	}
	if err := core.UnMarshalResponse(result.Response, v); err != nil {
		t.Fatalf("%s: decode the response: %v", op, err)
	}
	return result
}

// wechatpayWantAPIError checks that a call was refused with the given status, code and message.
func wechatpayWantAPIError(t *testing.T, op string, err error, status int, code, message string) *core.APIError {
	t.Helper()
	if !core.IsAPIError(err, code) {
		t.Errorf("%s: err = %v, want an *core.APIError with code %s", op, err, code)
	}
	var apiErr *core.APIError
	if !errors.As(err, &apiErr) {
		return nil
	}
	if apiErr.StatusCode != status || apiErr.Code != code || apiErr.Message != message {
		t.Errorf("%s: got HTTP %d %s %q, want HTTP %d %s %q", op, apiErr.StatusCode, apiErr.Code, apiErr.Message, status, code, message)
	}
	return apiErr
}

// wechatpaySerials checks which key the request asked for and which one signed the response.
func wechatpaySerials(t *testing.T, op string, result *core.APIResult, want string) {
	t.Helper()
	if got := result.Request.Header.Get("Wechatpay-Serial"); got != want {
		t.Errorf("%s: request Wechatpay-Serial = %q, want %q", op, got, want)
	}
	if got := result.Response.Header.Get("Wechatpay-Serial"); got != want {
		t.Errorf("%s: response Wechatpay-Serial = %q, want %q", op, got, want)
	}
}

func wechatpayServiceOrderURL(no string) string {
	return wechatpayHost + wechatpayQueryTarget(no)
}

// wechatpayQueryTarget is the request target of a query for order no.
func wechatpayQueryTarget(no string) string { return wechatpayQueryTargetBy("out_order_no", no) }

// wechatpayQueryTargetBy is the request target of a query by key ("out_order_no" or
// "query_id"), values encoded.
func wechatpayQueryTargetBy(key, value string) string {
	return "/v3/payscore/serviceorder?" + key + "=" + url.QueryEscape(value) +
		"&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID
}

func wechatpayActionURL(no, action string) string {
	return wechatpayHost + "/v3/payscore/serviceorder/" + url.PathEscape(no) + "/" + action
}

// ---- the orders both SDKs' tests send ----

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
