package http_test

// A table of malformed requests, each sent over raw TCP exactly as written (so that nothing a
// client library would refuse to send, or would repair, is out of reach), and each of which
// must be answered with a WeChat-shaped 4xx: status 400-499, never 5xx, application/json, a JSON
// object whose code and message are non-empty strings, signed like every answer.
//
// Package-level names in this file start with mal.

import (
	"bufio"
	"bytes"
	"crypto/rsa"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

const (
	malOrders = "/v3/payscore/serviceorder"
	// malMaxBody is the simulator's bound on request bodies.
	malMaxBody = 1 << 20
)

// malBreak returns malCreate(no) with old replaced by new, failing when old is not in it.
func malBreak(t testing.TB, no, old, new string) string {
	t.Helper()
	body := malCreate(no)
	if !strings.Contains(body, old) {
		t.Fatalf("malBreak: %q is not in the create body", old)
	}
	return strings.Replace(body, old, new, 1)
}

// malQuery is the target of a query for out_order_no no with valid service_id and appid.
func malQuery(no string) string {
	return malOrders + "?out_order_no=" + no + "&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID
}

func malNested(open, close string, n int) string {
	return strings.Repeat(open, n) + strings.Repeat(close, n)
}

// malNestedObjects is n objects nested in one another: {"a":{"a":...{}}}.
func malNestedObjects(n int) string {
	return strings.Repeat(`{"a":`, n-1) + "{}" + strings.Repeat("}", n-1)
}

// malChunked frames body in chunks of size bytes.
func malChunked(body string, size int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := min(size, len(body))
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.String()
}

// malBig is a JSON object of exactly n bytes.
func malBig(n int) string {
	const pre, post = `{"attach":"`, `"}`
	return pre + strings.Repeat("x", n-len(pre)-len(post)) + post
}

// malCase is one malformed request. By default it is POST malOrders with the headers an SDK
// sends (Host, Accept, Content-Type, a valid Authorization over method, target and body,
// Content-Length, Connection: close) and then headers.
type malCase struct {
	name   string
	method string
	target string
	body   string
	// chunked sends the body with Transfer-Encoding: chunked, in chunks of this size.
	chunked int
	// wire, when set, is sent after the header block instead of the body (which is still what
	// the request is signed over).
	wire string
	// drop leaves out default headers by name: Content-Type, Authorization, Content-Length, Host,
	// Accept, User-Agent.
	drop    []string
	headers []string
	// auth replaces the valid Authorization.
	auth string
	// signBody, when set, is the body the signature covers instead of body.
	signBody *string
	// halfClose shuts the request side after sending, so that a server waiting for more body
	// sees the end.
	halfClose bool
	// raw is the whole request, sent as is; {host} stands for the server's address.
	raw string

	status int    // the status wanted; 0 means any 4xx
	code   string // the code wanted; "" means any
	want   string // a fragment the response body must contain
}

// malRequest renders tc as bytes.
func malRequest(t testing.TB, host string, key *rsa.PrivateKey, tc malCase) []byte {
	t.Helper()
	if tc.raw != "" {
		return []byte(strings.ReplaceAll(tc.raw, "{host}", host))
	}
	method, target := tc.method, tc.target
	if method == "" {
		method = http.MethodPost
	}
	if target == "" {
		target = malOrders
	}
	dropped := map[string]bool{}
	for _, d := range tc.drop {
		dropped[d] = true
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\n", method, target)
	header := func(name, value string) {
		if !dropped[name] {
			fmt.Fprintf(&b, "%s: %s\r\n", name, value)
		}
	}
	header("Host", host)
	header("Accept", "application/json")
	header("User-Agent", "payscore-sim-malformed-test")
	hasBody := tc.body != "" || tc.wire != "" || method == http.MethodPost
	if hasBody {
		header("Content-Type", "application/json")
	}
	auth := tc.auth
	if auth == "" {
		signed := []byte(tc.body)
		if tc.signBody != nil {
			signed = []byte(*tc.signBody)
		}
		var err error
		auth, err = wxcrypto.Authorize(fixtures.DemoMchID, fixtures.DemoMerchantSerial, key, method, target, signed, time.Now())
		if err != nil {
			t.Fatalf("sign: %v", err)
		}
	}
	header("Authorization", auth)
	wire := tc.body
	switch {
	case tc.wire != "":
		wire = tc.wire
	case tc.chunked > 0:
		header("Transfer-Encoding", "chunked")
		wire = malChunked(tc.body, tc.chunked)
	case hasBody:
		header("Content-Length", fmt.Sprint(len(tc.body)))
	}
	header("Connection", "close")
	for _, h := range tc.headers {
		b.WriteString(h + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(wire)
	return b.Bytes()
}

// malExchange sends req on a fresh connection and reads the answer, while still sending: a
// server may answer an oversized request before reading all of it.
func malExchange(t testing.TB, addr, method string, req []byte, halfClose bool) (*http.Response, []byte) {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	sent := make(chan struct{})
	go func() {
		defer close(sent)
		// A write error is expected when the server answers and hangs up first.
		if _, err := conn.Write(req); err == nil && halfClose {
			_ = conn.(*net.TCPConn).CloseWrite()
		}
	}()
	defer func() { <-sent }()
	resp, err := http.ReadResponse(bufio.NewReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read answer: %v", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read answer body: %v", err)
	}
	return resp, body
}

// malCheckAnswer asserts that an answer is a WeChat-shaped, signed 4xx.
func malCheckAnswer(t testing.TB, keys map[string]*rsa.PublicKey, method string, resp *http.Response, body []byte) (code string) {
	t.Helper()
	if resp.StatusCode >= 500 {
		t.Errorf("status %d: a client's request must never cause a server error; body %.300s", resp.StatusCode, body)
	} else if resp.StatusCode < 400 {
		t.Errorf("status %d, want 4xx; body %.300s", resp.StatusCode, body)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json; body %.300s", ct, body)
	}
	for _, h := range []string{"Request-ID", "Wechatpay-Timestamp", "Wechatpay-Nonce", "Wechatpay-Signature", "Wechatpay-Serial"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if method == http.MethodHead {
		// No body comes back; what it would have been is announced.
		if resp.ContentLength <= 0 {
			t.Errorf("HEAD answer announces Content-Length %d, want the error body's length", resp.ContentLength)
		}
		return ""
	}
	key := keys[resp.Header.Get("Wechatpay-Serial")]
	if key == nil {
		t.Errorf("answer signed under unknown serial %q", resp.Header.Get("Wechatpay-Serial"))
	} else {
		msg := wxcrypto.ResponseMessage(resp.Header.Get("Wechatpay-Timestamp"), resp.Header.Get("Wechatpay-Nonce"), body)
		if err := wxcrypto.VerifySHA256WithRSA(key, msg, resp.Header.Get("Wechatpay-Signature")); err != nil {
			t.Errorf("answer signature: %v", err)
		}
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(body, &raw); err != nil {
		t.Fatalf("error body is not a JSON object: %v; body %.300s", err, body)
	}
	for _, k := range []string{"code", "message"} {
		var s string
		if err := json.Unmarshal(raw[k], &s); err != nil || s == "" {
			t.Errorf("error body's %s is %s, want a non-empty string; body %.300s", k, raw[k], body)
		}
	}
	_ = json.Unmarshal(raw["code"], &code)
	return code
}

func TestMalformedRequests(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	key, err := wxcrypto.ParsePrivateKey(fixtures.DemoMerchantKeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	keys := malVerifyKeys(t, sim)
	addr := strings.TrimPrefix(sim.URL, "http://")

	// The unbroken bodies are accepted, so each row fails for what it breaks.
	t.Run("control: the unbroken create is accepted", func(t *testing.T) {
		for _, tc := range []malCase{
			{body: malCreate("MAL-CONTROL")},
			{body: malCreate("MAL-CONTROL-CHUNKED"), chunked: 7},
		} {
			resp, body := malExchange(t, addr, http.MethodPost, malRequest(t, addr, key, tc), false)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d, want 200; body %s", resp.StatusCode, body)
			}
		}
	})

	gbk := "\xb9\xb2\xcf\xed\xb3\xe4\xb5\xe7\xb1\xa6" // 共享充电宝 in GBK
	null := ""
	visit := func(extraData string) string {
		return `{"businessType":"wxpayScoreUse","extraData":` + extraData + `}`
	}
	multipart := "--b\r\nContent-Disposition: form-data; name=\"out_order_no\"\r\n\r\nMAL-MP\r\n--b--\r\n"
	huge := strings.Repeat("a", 1536<<10)
	manyHeaders := strings.Repeat("X-Filler: "+strings.Repeat("f", 50)+"\r\n", 20000)

	cases := []malCase{
		// Oversized bodies. The bound is 1 MiB however the body is framed.
		{name: "body of 1 MiB + 1 byte with Content-Length", body: malBig(malMaxBody + 1), status: 400, code: "PARAM_ERROR", want: "at most 1048576 bytes"},
		{name: "body of 4 MiB with Content-Length", body: malBig(4 * malMaxBody), status: 400, code: "PARAM_ERROR", want: "at most 1048576 bytes"},
		{name: "chunked body of 1 MiB + 1 byte", body: malBig(malMaxBody + 1), chunked: 64 << 10, status: 400, code: "PARAM_ERROR", want: "at most 1048576 bytes"},
		{name: "chunked body of 2 MiB in 4 KiB chunks", body: malBig(2 * malMaxBody), chunked: 4 << 10, status: 400, code: "PARAM_ERROR", want: "at most 1048576 bytes"},
		{name: "oversized body to the control API", target: "/sim/v1/visits", body: malBig(malMaxBody + 1), status: 400, code: "PARAM_ERROR", want: "at most 1048576 bytes"},

		// Content types.
		{name: "no Accept", body: malCreate("MAL-NO-ACCEPT"), drop: []string{"Accept"}, status: 400, code: "INVALID_REQUEST", want: `"field":"Accept"`},
		{name: "no User-Agent", body: malCreate("MAL-NO-UA"), drop: []string{"User-Agent"}, status: 400, code: "INVALID_REQUEST", want: `"field":"User-Agent"`},
		{name: "neither Accept nor User-Agent", body: malCreate("MAL-NO-HEADERS"), drop: []string{"Accept", "User-Agent"}, status: 400, code: "INVALID_REQUEST", want: "Http头缺少Accept或User-Agent"},
		{name: "no Accept and a bad signature", body: malCreate("MAL-NO-ACCEPT-SIG"), drop: []string{"Accept"}, auth: "WECHATPAY2-SHA256-RSA2048 mchid=\"1\"", status: 401, code: "SIGN_ERROR"},
		{name: "Content-Type text/plain", body: malCreate("MAL-CT-TEXT"), drop: []string{"Content-Type"}, headers: []string{"Content-Type: text/plain; charset=utf-8"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "Content-Type form with a form body", body: "out_order_no=MAL-CT-FORM&appid=" + fixtures.DemoAppID, drop: []string{"Content-Type"}, headers: []string{"Content-Type: application/x-www-form-urlencoded"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "Content-Type multipart with a multipart body", body: multipart, drop: []string{"Content-Type"}, headers: []string{"Content-Type: multipart/form-data; boundary=b"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "no Content-Type, form body", body: "out_order_no=MAL-CT-NONE", drop: []string{"Content-Type"}, status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "no Content-Type, multipart body", body: multipart, drop: []string{"Content-Type"}, status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "Content-Type unparseable", body: malCreate("MAL-CT-BAD"), drop: []string{"Content-Type"}, headers: []string{"Content-Type: application/json; charset"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "Content-Type application/xml", body: "<out_order_no>MAL-CT-XML</out_order_no>", drop: []string{"Content-Type"}, headers: []string{"Content-Type: application/xml"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "Content-Type twice, text/plain first", body: malCreate("MAL-CT-TWICE"), drop: []string{"Content-Type"}, headers: []string{"Content-Type: text/plain", "Content-Type: application/json"}, status: 400, code: "PARAM_ERROR", want: "Content-Type"},
		{name: "charset=gbk with a GBK body", body: malBreak(t, "MAL-CT-GBK", "共享充电宝", gbk), drop: []string{"Content-Type"}, headers: []string{"Content-Type: application/json; charset=gbk"}, status: 400, code: "PARAM_ERROR", want: "UTF-8"},

		// Invalid UTF-8, which encoding/json would quietly replace with U+FFFD.
		{name: "invalid UTF-8 in a string", body: malBreak(t, "MAL-UTF8-1", "共享充电宝", "\xff\xfe"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "GBK bytes in a string", body: malBreak(t, "MAL-UTF8-2", "共享充电宝", gbk), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "invalid UTF-8 in a key", body: malBreak(t, "MAL-UTF8-3", `"attach"`, "\"att\xffach\""), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "invalid UTF-8 in out_order_no", body: malBreak(t, "MAL-UTF8-4", "MAL-UTF8-4", "MAL-\xc3"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "overlong UTF-8 encoding of /", body: malBreak(t, "MAL-UTF8-5", "malformed_test", "\xc0\xaf"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "UTF-8-encoded surrogate half", body: malBreak(t, "MAL-UTF8-6", "malformed_test", "\xed\xa0\x80"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "multi-byte sequence cut short", body: malBreak(t, "MAL-UTF8-7", "共享充电宝", "共享\xe5\xa5"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},
		{name: "invalid UTF-8 in an extraData key", target: "/sim/v1/visits", body: visit("{\"pack\xfeage\":\"x\"}"), status: 400, code: "PARAM_ERROR", want: "UTF-8"},

		// Numbers.
		{name: "amount 1e400", body: malBreak(t, "MAL-NUM-1", `"amount":300`, `"amount":1e400`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "amount 99999999999999999999", body: malBreak(t, "MAL-NUM-2", `"amount":300`, `"amount":99999999999999999999`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "risk_fund.amount 99999999999999999999", body: malBreak(t, "MAL-NUM-3", `"amount":9900`, `"amount":99999999999999999999`), status: 400, code: "PARAM_ERROR", want: "risk_fund.amount"},
		{name: "amount negative zero -0.0", body: malBreak(t, "MAL-NUM-4", `"amount":300`, `"amount":-0.0`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "amount 1.5", body: malBreak(t, "MAL-NUM-5", `"amount":300`, `"amount":1.5`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "amount 300.0", body: malBreak(t, "MAL-NUM-6", `"amount":300`, `"amount":300.0`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "amount 3E2", body: malBreak(t, "MAL-NUM-7", `"amount":300`, `"amount":3E2`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "amount as a string", body: malBreak(t, "MAL-NUM-8", `"amount":300`, `"amount":"300"`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "count 1e400", body: malBreak(t, "MAL-NUM-9", `"count":1`, `"count":1e400`), status: 400, code: "PARAM_ERROR", want: "count"},
		{name: "amount -1", body: malBreak(t, "MAL-NUM-10", `"amount":300`, `"amount":-1`), status: 400, code: "PARAM_ERROR", want: "amount"},
		{name: "need_user_confirm as a number", body: malBreak(t, "MAL-NUM-11", `"need_user_confirm":true`, `"need_user_confirm":1`), status: 400, code: "PARAM_ERROR", want: "need_user_confirm"},

		// Deep JSON.
		{name: "body of 10 000 nested arrays", body: malNested("[", "]", 10000), status: 400, code: "PARAM_ERROR", want: "JSON object"},
		{name: "body of 10 000 nested objects", body: malNestedObjects(10000), status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "attach of 10 000 nested arrays", body: malBreak(t, "MAL-DEEP-3", `"malformed_test"`, malNested("[", "]", 9999)), status: 400, code: "PARAM_ERROR", want: "attach"},
		{name: "body of 100 001 nested arrays", body: malNested("[", "]", 100001), status: 400, code: "PARAM_ERROR", want: "depth"},
		{name: "extraData value of 10 000 nested objects", target: "/sim/v1/visits", body: visit(`{"package":` + malNestedObjects(9998) + "}"), status: 400, code: "PARAM_ERROR", want: "extraData.package"},

		// Duplicate names, of which encoding/json would keep the last.
		{name: "out_order_no twice, same value", body: malBreak(t, "MAL-DUP-1", `"appid"`, `"out_order_no":"MAL-DUP-1","appid"`), status: 400, code: "PARAM_ERROR", want: "more than once"},
		{name: "out_order_no twice, other value", body: malBreak(t, "MAL-DUP-2", `"appid"`, `"out_order_no":"MAL-DUP-X","appid"`), status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "time_range.end_time twice", body: malBreak(t, "MAL-DUP-3", `"end_time"`, `"end_time":"20991231000000","end_time"`), status: 400, code: "PARAM_ERROR", want: "time_range.end_time"},
		{name: "post_payments[0].amount twice", body: malBreak(t, "MAL-DUP-4", `"amount":300`, `"amount":1,"amount":300`), status: 400, code: "PARAM_ERROR", want: "post_payments[0].amount"},
		{name: "extraData.package twice", target: "/sim/v1/visits", body: visit(`{"package":"a","package":"b"}`), status: 400, code: "PARAM_ERROR", want: "extraData.package"},

		// Bodies of the wrong shape.
		{name: "JSON null body", body: "null", status: 400, code: "PARAM_ERROR", want: "null"},
		{name: "JSON null body to cancel", target: malOrders + "/MAL-NULL/cancel", body: " null ", status: 400, code: "PARAM_ERROR", want: "null"},
		{name: "JSON null body to the deduction control", target: "/sim/v1/orders/" + fixtures.DemoMchID + "/MAL-NULL/deduction", body: "null", status: 400, code: "PARAM_ERROR", want: "null"},
		{name: "empty array body", body: "[]", status: 400, code: "PARAM_ERROR", want: "array"},
		{name: "the create body inside an array", body: "[" + malCreate("MAL-SHAPE-1") + "]", status: 400, code: "PARAM_ERROR", want: "array"},
		{name: "string body", body: `"MAL-SHAPE-2"`, status: 400, code: "PARAM_ERROR", want: "string"},
		{name: "number body", body: `123`, status: 400, code: "PARAM_ERROR", want: "number"},
		{name: "boolean body", body: `true`, status: 400, code: "PARAM_ERROR", want: "bool"},
		{name: "post_payments as an object", body: malBreak(t, "MAL-SHAPE-3", `"post_payments":[{"name":"租借费","amount":300,"description":"每小时3元","count":1}]`, `"post_payments":{"name":"租借费","amount":300}`), status: 400, code: "PARAM_ERROR", want: "post_payments"},
		{name: "time_range as an array", body: strings.Replace(malBreak(t, "MAL-SHAPE-4", `"time_range":{`, `"time_range":[{`), `},"risk_fund"`, `}],"risk_fund"`, 1), status: 400, code: "PARAM_ERROR", want: "time_range"},
		{name: "risk_fund as a string", body: malBreak(t, "MAL-SHAPE-5", `"risk_fund":{"name":"ESTIMATE_ORDER_COST","amount":9900}`, `"risk_fund":"ESTIMATE_ORDER_COST"`), status: 400, code: "PARAM_ERROR", want: "risk_fund"},
		{name: "extraData as an array", target: "/sim/v1/visits", body: visit(`["package"]`), status: 400, code: "PARAM_ERROR", want: "extraData"},
		{name: "two JSON values", body: malCreate("MAL-SHAPE-6") + "{}", status: 400, code: "PARAM_ERROR", want: "more than one JSON value"},
		{name: "truncated JSON", body: strings.TrimSuffix(malCreate("MAL-SHAPE-7"), "}"), status: 400, code: "PARAM_ERROR", want: "ends too early"},
		{name: "empty body", body: "", status: 400, code: "PARAM_ERROR", want: "JSON object body"},
		{name: "whitespace body", body: " \r\n\t ", status: 400, code: "PARAM_ERROR", want: "JSON object body"},
		{name: "byte order mark before the JSON", body: "\xef\xbb\xbf" + malCreate("MAL-SHAPE-8"), status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "raw NUL inside a JSON string", body: malBreak(t, "MAL-SHAPE-9", "malformed_test", "mal\x00formed"), status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "comment in the JSON", body: "// create\n" + malCreate("MAL-SHAPE-10"), status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "single-quoted JSON", body: `{'out_order_no':'MAL-SHAPE-11'}`, status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "NaN amount", body: malBreak(t, "MAL-SHAPE-12", `"amount":300`, `"amount":NaN`), status: 400, code: "PARAM_ERROR", want: "not valid JSON"},
		{name: "clock advance by 1e400", target: "/sim/v1/clock/advance", body: `{"duration":1e400}`, status: 400, code: "PARAM_ERROR", want: "duration"},

		// Query strings.
		{name: "query without a query string", method: "GET", target: malOrders, status: 400, code: "PARAM_ERROR"},
		{name: "query without out_order_no or query_id", method: "GET", target: malOrders + "?service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID, status: 400, code: "PARAM_ERROR"},
		{name: "query with both out_order_no and query_id", method: "GET", target: malQuery("MAL-Q") + "&query_id=abc", status: 400, code: "PARAM_ERROR"},
		{name: "query with out_order_no repeated", method: "GET", target: malQuery("MAL-Q") + "&out_order_no=MAL-Q2", status: 400, code: "PARAM_ERROR", want: "given once"},
		{name: "query with appid repeated", method: "GET", target: malQuery("MAL-Q") + "&appid=" + fixtures.DemoAppID, status: 400, code: "PARAM_ERROR", want: "given once"},
		{name: "query with a bad escape", method: "GET", target: malQuery("MAL%zz"), status: 400, code: "PARAM_ERROR", want: "invalid URL escape"},
		{name: "query ending in a cut escape", method: "GET", target: malQuery("MAL-Q") + "%4", status: 400, code: "PARAM_ERROR", want: "invalid URL escape"},
		{name: "query with a semicolon separator", method: "GET", target: malOrders + "?out_order_no=MAL-Q;service_id=" + fixtures.DemoServiceID, status: 400, code: "PARAM_ERROR", want: "semicolon"},
		{name: "query with an escaped NUL", method: "GET", target: malQuery("MAL%00Q"), status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "query with a raw NUL", method: "GET", target: malQuery("MAL\x00Q"), status: 400, code: "PARAM_ERROR", want: "control character"},
		{name: "query with a raw space", method: "GET", target: malQuery("MAL Q"), status: 400, code: "PARAM_ERROR"},
		{name: "query of 100 KB", method: "GET", target: malQuery(strings.Repeat("Q", 100<<10)), status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "control list with limit=abc", method: "GET", target: "/sim/v1/orders?limit=abc", status: 400, code: "PARAM_ERROR", want: "limit"},
		{name: "control list with limit repeated", method: "GET", target: "/sim/v1/orders?limit=1&limit=2", status: 400, code: "PARAM_ERROR", want: "given once"},
		{name: "control list with a bad escape", method: "GET", target: "/sim/v1/orders?state=%zz", status: 400, code: "PARAM_ERROR", want: "invalid URL escape"},
		{name: "control list by an unknown state", method: "GET", target: "/sim/v1/orders?state=PENDING", status: 400, code: "PARAM_ERROR", want: "CREATED, DOING, DONE, REVOKED, EXPIRED"},
		{name: "control list by a lower-case state", method: "GET", target: "/sim/v1/orders?state=created", status: 400, code: "PARAM_ERROR", want: "must be one of"},
		{name: "notifications by an unknown event", method: "GET", target: "/sim/v1/notifications?event_type=USER_CONFIRM", status: 400, code: "PARAM_ERROR", want: "PAYSCORE.USER_CONFIRM, PAYSCORE.USER_PAID"},

		// Path tricks.
		{name: "out_order_no ..", target: malOrders + "/../cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "path climbing out with ../", method: "GET", target: malOrders + "/../../../etc/passwd", status: 404, code: "NOT_FOUND"},
		{name: "out_order_no %2e%2e", target: malOrders + "/%2e%2e/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "empty out_order_no segment //", target: malOrders + "//cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`},
		{name: "path starting //", method: "GET", target: "/" + malQuery("MAL-Q"), status: 404, code: "NOT_FOUND"},
		{name: "%2F inside out_order_no", target: malOrders + "/MAL%2FSLASH/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "trailing slash on the collection", target: malOrders + "/", body: malCreate("MAL-PATH-1"), status: 404, code: "NOT_FOUND"},
		{name: "trailing slash on an action", target: malOrders + "/MAL-PATH-2/cancel/", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 404, code: "NOT_FOUND"},
		{name: "out_order_no of 64 KB", target: malOrders + "/" + strings.Repeat("A", 64<<10) + "/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "at most 32"},
		{name: "unknown path of 512 KB", method: "GET", target: "/v3/" + strings.Repeat("p/", 256<<10), status: 404, code: "NOT_FOUND"},
		{name: "raw UTF-8 in the path", target: malOrders + "/订单/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "escaped UTF-8 in the path", target: malOrders + "/%E8%AE%A2%E5%8D%95/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "escaped invalid UTF-8 in the path", target: malOrders + "/MAL%FF/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "raw invalid UTF-8 in the path", target: malOrders + "/MAL\xff/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR"},
		{name: "escaped NUL in the path", target: malOrders + "/MAL%00/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "out_order_no"},
		{name: "raw NUL in the path", target: malOrders + "/MAL\x00/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "control character"},
		{name: "bad escape in the path", target: malOrders + "/MAL%zz/cancel", body: `{"appid":"` + fixtures.DemoAppID + `","reason":"x"}`, status: 400, code: "PARAM_ERROR", want: "percent-encoding"},
		{name: "a lone % ending the path", method: "GET", target: malOrders + "%", status: 400, code: "PARAM_ERROR", want: "percent-encoding"},
		{name: "backslashes in the path", method: "GET", target: `\v3\payscore\serviceorder`, status: 400, code: "PARAM_ERROR"},
		{name: "bad escape in a control path", method: "GET", target: "/sim/v1/orders/" + fixtures.DemoMchID + "/MAL%zz", status: 400, code: "PARAM_ERROR", want: "percent-encoding"},
		{name: "escaped NUL as a visit id", target: "/sim/v1/visits/%00/confirm", status: 404, code: "VISIT_NOT_EXIST"},

		// Methods.
		{name: "HEAD on the query", method: "HEAD", target: malQuery("MAL-M"), status: 405},
		{name: "HEAD on cancel", method: "HEAD", target: malOrders + "/MAL-M/cancel", status: 405},
		{name: "OPTIONS on the collection", method: "OPTIONS", target: malOrders, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "OPTIONS on cancel", method: "OPTIONS", target: malOrders + "/MAL-M/cancel", status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "TRACE on the certificates", method: "TRACE", target: "/v3/certificates", status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "PATCH on the collection", method: "PATCH", target: malOrders, body: malCreate("MAL-M-1"), status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "an unknown method", method: "FROBNICATE", target: malOrders, status: 405, code: "METHOD_NOT_ALLOWED"},
		{name: "lower-case get", method: "get", target: malQuery("MAL-M"), status: 405, code: "METHOD_NOT_ALLOWED"},

		// Headers.
		{name: "Authorization of 100 KB", body: malCreate("MAL-H-1"), auth: "WECHATPAY2-SHA256-RSA2048 " + strings.Repeat("a", 100<<10), status: 401, code: "SIGN_ERROR"},
		{name: "Authorization with a 100 KB signature", body: malCreate("MAL-H-2"),
			auth:   `WECHATPAY2-SHA256-RSA2048 mchid="` + fixtures.DemoMchID + `",nonce_str="n",timestamp="` + fmt.Sprint(time.Now().Unix()) + `",serial_no="` + fixtures.DemoMerchantSerial + `",signature="` + strings.Repeat("QUJD", 25<<10) + `"`,
			status: 401, code: "SIGN_ERROR"},
		{name: "no Authorization", body: malCreate("MAL-H-3"), drop: []string{"Authorization"}, status: 401, code: "SIGN_ERROR"},
		{name: "Authorization twice, the first valid", body: malCreate("MAL-H-4"), headers: []string{"Authorization: WECHATPAY2-SHA256-RSA2048 mchid=\"1\""}, status: 401, code: "SIGN_ERROR", want: "appears 2 times"},
		{name: "control character in a header value", body: malCreate("MAL-H-5"), headers: []string{"X-Note: a\x01b"}, status: 400, code: "PARAM_ERROR"},
		{name: "one header of 1.5 MB", body: malCreate("MAL-H-6"), headers: []string{"X-Huge: " + huge}, status: 431, code: "PARAM_ERROR", want: "1 MiB"},
		{name: "20 000 headers", body: malCreate("MAL-H-7"), headers: []string{strings.TrimSuffix(manyHeaders, "\r\n")}, status: 431, code: "PARAM_ERROR", want: "1 MiB"},
		{name: "header line without a colon", body: malCreate("MAL-H-8"), headers: []string{"NoColonHere"}, status: 400, code: "PARAM_ERROR"},
		{name: "header name with a space", body: malCreate("MAL-H-9"), headers: []string{"Bad Name: x"}, status: 400, code: "PARAM_ERROR"},
		{name: "no Host", body: malCreate("MAL-H-10"), drop: []string{"Host"}, status: 400, code: "PARAM_ERROR", want: "Host"},
		{name: "Host twice", body: malCreate("MAL-H-11"), headers: []string{"Host: example.com"}, status: 400, code: "PARAM_ERROR"},
		{name: "two different Content-Lengths", body: malCreate("MAL-H-12"), headers: []string{"Content-Length: 3"}, status: 400, code: "PARAM_ERROR"},
		{name: "negative Content-Length", body: malCreate("MAL-H-13"), drop: []string{"Content-Length"}, headers: []string{"Content-Length: -1"}, status: 400, code: "PARAM_ERROR"},
		{name: "Transfer-Encoding gzip", body: malCreate("MAL-H-14"), drop: []string{"Content-Length"}, headers: []string{"Transfer-Encoding: gzip"}, status: 400, code: "PARAM_ERROR", want: "Transfer-Encoding"},
		{name: "chunk with a bad size", body: malCreate("MAL-H-15"), drop: []string{"Content-Length"}, headers: []string{"Transfer-Encoding: chunked"}, wire: "zz\r\n{}\r\n0\r\n\r\n", status: 400, code: "PARAM_ERROR", want: "chunk"},
		{name: "chunked body cut short", body: malCreate("MAL-H-16"), drop: []string{"Content-Length"}, headers: []string{"Transfer-Encoding: chunked"}, wire: "100\r\n{\"out_order_no\"", halfClose: true, status: 400, code: "PARAM_ERROR"},
		{name: "Content-Length beyond the body", body: malCreate("MAL-H-17"), drop: []string{"Content-Length"}, headers: []string{fmt.Sprintf("Content-Length: %d", len(malCreate("MAL-H-17"))+100)}, halfClose: true, status: 400, code: "PARAM_ERROR"},
		{name: "Expect other than 100-continue", body: malCreate("MAL-H-18"), headers: []string{"Expect: the-impossible"}, status: 417, code: "PARAM_ERROR", want: "Expect"},
		{name: "unknown Wechatpay-Serial", body: malCreate("MAL-H-19"), headers: []string{"Wechatpay-Serial: 0000"}, status: 400, code: "INVALID_REQUEST", want: "Wechatpay-Serial"},
		{name: "GET with a body, signed as SDKs sign a GET", method: "GET", target: malQuery("MAL-H-20"), body: `{"out_order_no":"MAL-H-20"}`, signBody: &null, status: 401, code: "SIGN_ERROR"},

		// Request lines.
		{name: "HTTP/2.0 request line", raw: "GET /v3/certificates HTTP/2.0\r\nHost: {host}\r\n\r\n", status: 400, code: "PARAM_ERROR", want: "protocol version"},
		{name: "HTTP/0.9 request line", raw: "GET /v3/certificates HTTP/0.9\r\nHost: {host}\r\n\r\n", status: 400, code: "PARAM_ERROR", want: "protocol version"},
		{name: "garbage request line", raw: "HELLO\r\nHost: {host}\r\n\r\n", status: 400, code: "PARAM_ERROR"},
		{name: "request line with no target", raw: "GET  HTTP/1.1\r\nHost: {host}\r\n\r\n", status: 400, code: "PARAM_ERROR"},
	}
	if len(cases) < 60 {
		t.Fatalf("the table has %d rows, want at least 60", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			resp, body := malExchange(t, addr, method, malRequest(t, addr, key, tc), tc.halfClose)
			code := malCheckAnswer(t, keys, method, resp, body)
			if tc.status != 0 && resp.StatusCode != tc.status {
				t.Errorf("status %d, want %d; body %.300s", resp.StatusCode, tc.status, body)
			}
			if tc.code != "" && method != http.MethodHead && code != tc.code {
				t.Errorf("code %q, want %q; body %.300s", code, tc.code, body)
			}
			if tc.want != "" && !bytes.Contains(body, []byte(tc.want)) {
				t.Errorf("body does not mention %q: %.400s", tc.want, body)
			}
			t.Logf("%d %.200s", resp.StatusCode, body)
		})
	}
}
