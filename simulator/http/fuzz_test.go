package http_test

// Fuzz targets for what the JSON APIs read from a request: the bodies of every /v3 POST
// endpoint (and of POST /sim/v1/visits), and request targets with their query strings. Each
// input goes through the real handler, signed correctly so that it reaches decoding, and must
// be answered below 500; a rejection must be WeChat-shaped and signed.
//
// Package-level names in this file start with fuzz.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rsa"
	"encoding/json"
	"mime"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// The live objects the fuzzed requests name: a confirmed order whose deductions fail (so that
// complete, modify, pay and sync can all apply), and a pre-authorization.
const (
	fuzzOrder  = "FUZZ-ORDER"
	fuzzAuth   = "FUZZ-AUTH"
	fuzzOpenID = "FUZZ-OPENID"
)

// fuzzBodyTargets are the POST endpoints whose JSON bodies are fuzzed.
var fuzzBodyTargets = []string{
	"/v3/payscore/serviceorder",
	"/v3/payscore/serviceorder/" + fuzzOrder + "/cancel",
	"/v3/payscore/serviceorder/" + fuzzOrder + "/complete",
	"/v3/payscore/serviceorder/" + fuzzOrder + "/modify",
	"/v3/payscore/serviceorder/" + fuzzOrder + "/pay",
	"/v3/payscore/serviceorder/" + fuzzOrder + "/sync",
	"/v3/payscore/serviceorder/direct-complete",
	"/v3/payscore/permissions",
	"/v3/payscore/permissions/authorization-code/" + fuzzAuth + "/terminate",
	"/v3/payscore/permissions/openid/" + fuzzOpenID + "/terminate",
	"/sim/v1/visits",
	"/v3/refund/domestic/refunds",
	"/v3/refund/domestic/refunds/50300000000000000000000000000/apply-abnormal-refund",
}

// fuzzSim is a simulator holding the live objects, and the keys to sign and verify with.
type fuzzSim struct {
	*simtest.Sim
	key  *rsa.PrivateKey
	keys map[string]*rsa.PublicKey
}

func fuzzStart(f *testing.F) *fuzzSim {
	sim := simtest.Start(f, app.Options{})
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		f.Fatal(err)
	}
	s := &fuzzSim{Sim: sim, key: key, keys: malVerifyKeys(f, sim)}
	c := sim.DemoClient(f)
	id := concOpenVisit(f, c, fuzzOrder)
	concMust(f, c, http.MethodPost, "/sim/v1/visits/"+id+"/confirm", nil, http.StatusOK, nil)
	concMust(f, c, http.MethodPost, "/sim/v1/orders/"+fixtures.DemoMchID+"/"+fuzzOrder+"/deduction", map[string]any{"mode": "fail"}, http.StatusOK, nil)
	concMust(f, c, http.MethodPost, "/v3/payscore/permissions", map[string]any{
		"service_id": fixtures.DemoServiceID, "appid": fixtures.DemoAppID, "authorization_code": fuzzAuth,
		"notify_url": "https://merchant.example.com/notify",
	}, http.StatusOK, nil)
	return s
}

// serve sends req, signed over its target and body, through the simulator's handler and checks
// the answer.
func (s *fuzzSim) serve(t *testing.T, req *http.Request, body []byte) {
	t.Helper()
	auth, err := wxcrypto.Authorize(fixtures.DemoMchID, fixtures.DemoMerchantSerial, s.key, req.Method, req.RequestURI, body, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Accept", "application/json")
	rec := httptest.NewRecorder()
	s.Server.ServeHTTP(rec, req)
	resp := rec.Result()
	got := rec.Body.Bytes()
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %q answered %d: %s", req.Method, req.RequestURI, resp.StatusCode, got)
	}
	if resp.StatusCode < 400 {
		if len(got) > 0 && !json.Valid(got) {
			t.Fatalf("%s %q answered %d with a body that is not JSON: %.300s", req.Method, req.RequestURI, resp.StatusCode, got)
		}
		return
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		t.Fatalf("%s %q answered %d as %q: %.300s", req.Method, req.RequestURI, resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	var e struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal(got, &e); err != nil || e.Code == "" || e.Message == "" {
		t.Fatalf("%s %q answered %d with a body that is not WeChat's error shape (%v): %.300s", req.Method, req.RequestURI, resp.StatusCode, err, got)
	}
	key := s.keys[resp.Header.Get("Wechatpay-Serial")]
	msg := wxcrypto.ResponseMessage(resp.Header.Get("Wechatpay-Timestamp"), resp.Header.Get("Wechatpay-Nonce"), got)
	if key == nil || wxcrypto.VerifySHA256WithRSA(key, msg, resp.Header.Get("Wechatpay-Signature")) != nil {
		t.Fatalf("%s %q: the %d answer is not signed: %.300s", req.Method, req.RequestURI, resp.StatusCode, got)
	}
}

// FuzzAPIRequestBody sends arbitrary bytes as the JSON body of each POST endpoint.
func FuzzAPIRequestBody(f *testing.F) {
	s := fuzzStart(f)
	now := time.Now()
	ref := `"appid":"` + fixtures.DemoAppID + `","service_id":"` + fixtures.DemoServiceID + `"`
	pay := `"post_payments":[{"name":"租借费","amount":300,"count":1}],"total_amount":300`
	for i, body := range []string{
		malCreate("FUZZ-SEED-1"),
		`{` + ref + `,"reason":"用户取消"}`,
		`{` + ref + `,` + pay + `,"time_range":{"end_time":"` + compactTime(now) + `"}}`,
		`{` + ref + `,"post_payments":[{"name":"租借费","amount":200,"count":1}],"total_amount":200,"reason":"用户投诉"}`,
		`{` + ref + `}`,
		`{` + ref + `,"type":"Order_Paid","detail":{"paid_time":"` + compactTime(now) + `"}}`,
		strings.Replace(malCreate("FUZZ-SEED-2"), `"need_user_confirm":true`, `"openid":"oUpF8uMuAJO_M2pxb1Q9zNjWeS6o",`+pay, 1),
		`{` + ref + `,"authorization_code":"FUZZ-AUTH-2","notify_url":"https://merchant.example.com/notify"}`,
		`{"service_id":"` + fixtures.DemoServiceID + `","reason":"解约"}`,
		`{` + ref + `,"reason":"解约"}`,
		`{"businessType":"wxpayScoreUse","extraData":{"package":"AAQTnZoAAAAB"}}`,
		`{"transaction_id":"4200000000000000000000000000","out_refund_no":"FUZZ-RF","amount":{"refund":1,"total":1,"currency":"CNY","from":[{"account":"AVAILABLE","amount":1}]},"goods_detail":[{"merchant_goods_id":"g","unit_price":1,"refund_amount":1,"refund_quantity":1}]}`,
		`{"out_refund_no":"FUZZ-RF","type":"USER_BANK_CARD","bank_type":"ICBC_DEBIT","bank_account":"x","real_name":"y"}`,
		`{"out_order_no":"A","out_order_no":"B"}`,
		`{"post_payments":[{"amount":1e400}]}`,
		`null`, `[]`, ``, `{`, "\xff", `{"a":[[[[[[[[[[]]]]]]]]]]}`,
	} {
		f.Add(uint8(i%len(fuzzBodyTargets)), []byte(body))
	}
	f.Fuzz(func(t *testing.T, endpoint uint8, body []byte) {
		target := fuzzBodyTargets[int(endpoint)%len(fuzzBodyTargets)]
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, target, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		s.serve(t, req, body)
	})
}

// fuzzMethods are the methods FuzzAPIRequestTarget tries.
var fuzzMethods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodHead, http.MethodOptions}

// FuzzAPIRequestTarget sends requests to arbitrary targets under /v3/ and /sim/v1/: paths with
// their escapes and path parameters, and query strings. A target that net/http itself cannot
// parse never reaches the handler (malformed_test.go covers what the server answers to those).
func FuzzAPIRequestTarget(f *testing.F) {
	s := fuzzStart(f)
	q := "service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID
	for _, seed := range []struct {
		method uint8
		target string
	}{
		{0, "payscore/serviceorder?out_order_no=" + fuzzOrder + "&" + q},
		{0, "payscore/serviceorder?query_id=abc&" + q},
		{0, "payscore/serviceorder?out_order_no=A&out_order_no=B&" + q},
		{0, "payscore/serviceorder?out_order_no=%zz&" + q},
		{0, "payscore/serviceorder?out_order_no=a;b"},
		{1, "payscore/serviceorder/" + fuzzOrder + "/cancel"},
		{1, "payscore/serviceorder/A%2FB/complete"},
		{1, "payscore/serviceorder/%E8%AE%A2/pay"},
		{1, "payscore/serviceorder//sync"},
		{1, "payscore/serviceorder/../modify"},
		{0, "payscore/permissions/authorization-code/" + fuzzAuth + "?service_id=" + fixtures.DemoServiceID},
		{0, "payscore/permissions/openid/" + fuzzOpenID + "?" + q},
		{0, "certificates"},
		{4, "certificates"},
		{5, "payscore/serviceorder"},
		{3, "payscore/serviceorder"},
		{0, "\x00orders?limit=5"},
		{0, "\x01orders/" + fixtures.DemoMchID + "/" + fuzzOrder},
		{0, "\x01visits?out_order_no=" + fuzzOrder + "&limit=abc"},
		{0, "\x01notifications?event_type=PAYSCORE.USER_CONFIRM&limit=1000"},
		{0, "\x01requests?failed=true&mchid=%00"},
		{1, "\x01clock/advance"},
		{0, "refund/domestic/refunds/RF%2F1"},
		{0, "refund/domestic/refunds/" + strings.Repeat("R", 65)},
		{1, "refund/domestic/refunds/%zz/apply-abnormal-refund"},
		{0, "\x01refunds?status=SUCCESS&limit=0"},
		{1, "\x01refunds/" + fixtures.DemoMchID + "/RF-1/outcome"},
	} {
		f.Add(seed.method, seed.target)
	}
	f.Fuzz(func(t *testing.T, method uint8, target string) {
		// A leading \x00 or \x01 picks the tree: \x01 is /sim/v1/, anything else /v3/.
		prefix := "/v3/"
		if strings.HasPrefix(target, "\x01") {
			prefix, target = "/sim/v1/", target[1:]
		} else {
			target = strings.TrimPrefix(target, "\x00")
		}
		m := fuzzMethods[int(method)%len(fuzzMethods)]
		var body []byte
		if m == http.MethodPost || m == http.MethodPut {
			body = []byte(`{"appid":"` + fixtures.DemoAppID + `","service_id":"` + fixtures.DemoServiceID + `"}`)
		}
		// Parse the request as net/http's server does.
		raw := m + " " + prefix + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n" +
			"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil || req.Method != m {
			return
		}
		s.serve(t, req, body)
	})
}
