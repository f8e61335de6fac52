package http_test

// Table tests for the APIv3 request authentication: every way an Authorization header can be
// wrong is a 401 SIGN_ERROR whose message and detail name the cause, and the Wechatpay-Serial
// request header chooses the key responses are signed with. The helpers shared with
// the errors_* tests (errSend, errCheckShape, errFact, errDetailHas, ...) live in
// helpers_test.go and errors_table_test.go.

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const sigSchema = "WECHATPAY2-SHA256-RSA2048"

// sigAuth is what an Authorization header is made of: who signs, with which key, over which
// message. The test builds the message and the header itself, independently of wxcrypto.
type sigAuth struct {
	mchid, serial string
	key           *rsa.PrivateKey
	// method, target and body are what is signed, which a row may make differ from what is
	// sent.
	method, target string
	ts, nonce      string
	body           []byte
	// signature, when set, replaces the computed signature.
	signature string
}

// message is the APIv3 signing message, "METHOD\nTARGET\nTS\nNONCE\nBODY\n".
func (a sigAuth) message() string {
	return a.method + "\n" + a.target + "\n" + a.ts + "\n" + a.nonce + "\n" + string(a.body) + "\n"
}

func (a sigAuth) sign(t testing.TB) string {
	t.Helper()
	if a.signature != "" {
		return a.signature
	}
	digest := sha256.Sum256([]byte(a.message()))
	sig, err := rsa.SignPKCS1v15(rand.Reader, a.key, crypto.SHA256, digest[:])
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// header returns the Authorization header value, parameters in the documentation's order.
func (a sigAuth) header(t testing.TB) string {
	t.Helper()
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",signature="%s",timestamp="%s",serial_no="%s"`,
		sigSchema, a.mchid, a.nonce, a.sign(t), a.ts, a.serial)
}

// sigCase is a request sent with a hand-made Authorization header.
type sigCase struct {
	name           string
	method, target string // as sent
	body           []byte // as sent
	// request makes the Authorization header (empty sends none) and what the error must say,
	// now being the Unix time at which the row is sent. It runs then, not when the table is
	// built: the rows run in parallel and wait for a slot, on a loaded machine long enough for a
	// timestamp taken earlier to leave the 5-minute window, and the rows that get past the
	// timestamp check (and the skew the stale and future rows assert) need a fresh one.
	request func(t testing.TB, now int64) (auth string, facts []errFact)
}

// sigDetailNear asserts that the number detail[key] is within tolerance of want. The request
// is sent a while after its timestamp was chosen, so under load the tolerance must be wide.
func sigDetailNear(key string, want, tolerance float64) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		v, ok := e.Detail[key].(float64)
		if !ok {
			t.Errorf("detail.%s = %#v, want a number near %v", key, e.Detail[key], want)
			return
		}
		if math.Abs(v-want) > tolerance {
			t.Errorf("detail.%s = %v, want %v ± %v", key, v, want, tolerance)
		}
	}
}

// sigSendRaw sends method target with body and the given Authorization, as the demo client
// would otherwise send it, and fails unless the response is correctly signed.
func sigSendRaw(t testing.TB, c *client.Client, method, target string, body []byte, auth string) *client.Response {
	t.Helper()
	req, err := c.NewRequest(context.Background(), method, target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Send(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return resp
}

// sigRecord is a request as GET /sim/v1/requests lists it.
type sigRecord struct {
	Method     string         `json:"method"`
	Target     string         `json:"target"`
	Status     int            `json:"status"`
	Code       string         `json:"code"`
	Message    string         `json:"message"`
	Diagnostic map[string]any `json:"diagnostic"`
}

// sigFailedRequests returns the simulator's log of failed requests, by target.
func sigFailedRequests(t testing.TB, c *client.Client) map[string]sigRecord {
	t.Helper()
	resp, err := c.Do(context.Background(), http.MethodGet, "/sim/v1/requests?failed=true&limit=1000", nil)
	if err != nil {
		t.Fatalf("list requests: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("list requests: status %d, body %s", resp.Status, resp.Body)
	}
	var list struct {
		Data []sigRecord `json:"data"`
	}
	if err := resp.Decode(&list); err != nil {
		t.Fatal(err)
	}
	byTarget := make(map[string]sigRecord, len(list.Data))
	for _, r := range list.Data {
		if r.Status < 400 {
			t.Errorf("failed=true listed %s %s with status %d", r.Method, r.Target, r.Status)
		}
		byTarget[r.Target] = r
	}
	return byTarget
}

// TestSignErrors sends requests whose authentication is wrong in every way a client gets it
// wrong, and checks that each is a 401 SIGN_ERROR saying why, and that each is in the request
// log with its diagnostic.
func TestSignErrors(t *testing.T) {
	t.Parallel()
	other, otherKey := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	demoKey := demo.Key

	// valid returns a create request for row: its target (unique per row, so the request log
	// can be matched) and its body.
	valid := func(row string) (string, []byte) {
		return errOrders + "?row=" + row, errPayload(t, demoOrderBody("SIG-"+row))
	}
	// signed is a correct signature of the request at now, for a row to spoil.
	signed := func(method, target string, body []byte, nonce string, now int64) sigAuth {
		return sigAuth{
			mchid: fixtures.DemoMchID, serial: fixtures.DemoMerchantSerial, key: demoKey,
			method: method, target: target, ts: strconv.FormatInt(now, 10), nonce: nonce, body: body,
		}
	}
	// rowFacts builds a POST create row whose Authorization spoil makes from a valid one when the
	// row is sent, returning what the error must say.
	rowFacts := func(name, id string, spoil func(a *sigAuth, now int64) []errFact) sigCase {
		target, body := valid(id)
		return sigCase{name: name, method: http.MethodPost, target: target, body: body,
			request: func(t testing.TB, now int64) (string, []errFact) {
				a := signed(http.MethodPost, target, body, "NONCE"+strings.ToUpper(id), now)
				facts := spoil(&a, now)
				return a.header(t), facts
			}}
	}
	// row is rowFacts whose facts do not depend on when the row is sent.
	row := func(name, id string, spoil func(a *sigAuth, now int64), facts ...errFact) sigCase {
		return rowFacts(name, id, func(a *sigAuth, now int64) []errFact { spoil(a, now); return facts })
	}
	// rawRow sends header as the Authorization of a valid create. These headers do not parse,
	// so the server never reads their timestamp: ts, taken when the table is built, will do.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	rawRow := func(name, id, header string, facts ...errFact) sigCase {
		target, body := valid(id)
		return sigCase{name: name, method: http.MethodPost, target: target, body: body,
			request: func(testing.TB, int64) (string, []errFact) { return header, facts }}
	}
	params := func(id string) string {
		return fmt.Sprintf(`mchid="%s",nonce_str="N%s",signature="c2ln",timestamp="%s",serial_no="%s"`,
			fixtures.DemoMchID, id, ts, fixtures.DemoMerchantSerial)
	}

	var cases []sigCase
	cases = append(cases,
		row("wrong key, the other merchant's, with the demo serial", "wrongkey",
			func(a *sigAuth, _ int64) { a.key = otherKey },
			errMessageHas("验签失败"),
			errDetailIs("key_tried", fixtures.DemoMerchantSerial),
			errDetailHas("would_match", errOtherSerial, "merchant "+errOtherMchID, "not with that of serial_no "+fixtures.DemoMerchantSerial),
			errDetailHas("issue", errOtherSerial)),
		row("timestamp 10 minutes old", "stale",
			func(a *sigAuth, now int64) { a.ts = strconv.FormatInt(now-600, 10) },
			errMessageHas("不得超过5分钟"), sigDetailNear("timestamp_skew_seconds", 600, 120),
			errDetailHas("issue", "±300")),
		row("timestamp 10 minutes ahead", "future",
			func(a *sigAuth, now int64) { a.ts = strconv.FormatInt(now+600, 10) },
			errMessageHas("不得超过5分钟"), sigDetailNear("timestamp_skew_seconds", -600, 120)),
		rowFacts("timestamp in milliseconds", "millis", func(a *sigAuth, now int64) []errFact {
			a.ts = strconv.FormatInt(now*1000, 10)
			return []errFact{errMessageHas("不得超过5分钟"), errDetailHas("issue", a.ts, "looks like milliseconds")}
		}),
		row("timestamp not a number", "tsword",
			func(a *sigAuth, now int64) { a.ts = time.Unix(now, 0).UTC().Format(time.RFC3339) },
			errMessageHas("timestamp格式错误"), errDetailHas("issue", "Unix seconds")),
		row("unknown mchid", "mchid",
			func(a *sigAuth, _ int64) { a.mchid = "1999999999" },
			errMessageHas("商户号不存在"), errDetailIs("mchid", "1999999999"), errDetailHas("issue", "1999999999")),
		row("unknown serial_no", "serial",
			func(a *sigAuth, _ int64) { a.serial = "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF" },
			errMessageHas("证书序列号有误"),
			errDetailIs("expected_serials", []string{fixtures.DemoMerchantSerial}),
			errDetailHas("issue", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF")),
		// WeChat's serials are upper-case hex (Java clients that send toString(16) without
		// toUpperCase() get 商户证书序列号有误), and the simulator compares them exactly too.
		row("serial_no in lower case", "lowerserial",
			func(a *sigAuth, _ int64) { a.serial = strings.ToLower(a.serial) },
			errMessageHas("证书序列号有误"),
			errDetailIs("expected_serials", []string{fixtures.DemoMerchantSerial}),
			errDetailIs("serial_no", strings.ToLower(fixtures.DemoMerchantSerial)),
			errDetailHas("issue", "upper-case hex")),
		row("the other merchant's serial for the demo mchid", "otherserial",
			func(a *sigAuth, _ int64) { a.serial, a.key = errOtherSerial, otherKey },
			errMessageHas("证书序列号有误"),
			errDetailIs("expected_serials", []string{fixtures.DemoMerchantSerial}),
			errDetailHas("issue", errOtherSerial, "a certificate of merchant "+errOtherMchID)),
		row("the platform's serial as serial_no", "platformserial",
			func(a *sigAuth, _ int64) { a.serial = fixtures.PlatformSerial },
			errMessageHas("证书序列号有误"), errDetailHas("issue", "WeChat Pay's serial")),
		row("signature not base64", "notb64",
			func(a *sigAuth, _ int64) { a.signature = "not base64!" },
			errMessageHas("验签失败"), errDetailHas("issue", "not standard base64")),
		row("signature too short", "short",
			func(a *sigAuth, _ int64) { a.signature = "AAAA" },
			errMessageHas("验签失败"), errDetailHas("issue", "3 bytes", "256-byte")),
		row("signed with the query string left out", "noquery",
			func(a *sigAuth, _ int64) { a.target = errOrders },
			errMessageHas("验签失败"),
			errDetailHas("would_match", `matches the target "`+errOrders+`"`, `sent to "`+errOrders+`?row=noquery"`)),
	)

	// A tampered body: one body signed, another sent. signed_string must be what the server
	// rebuilt from what it received.
	{
		target, sent := valid("tampered")
		other := []byte(strings.Replace(string(sent), `"amount":10000`, `"amount":1`, 1))
		if string(other) == string(sent) {
			t.Fatalf("tampering changed nothing in %s", sent)
		}
		cases = append(cases, sigCase{
			name: "body tampered after signing", method: http.MethodPost, target: target, body: sent,
			request: func(t testing.TB, now int64) (string, []errFact) {
				a := signed(http.MethodPost, target, other, "NONCETAMPERED", now)
				return a.header(t), []errFact{
					errMessageHas("验签失败"),
					errDetailIs("signed_string", "POST\n"+target+"\n"+a.ts+"\n"+a.nonce+"\n"+string(sent)+"\n"),
					errDetailHas("issue", "does not verify"),
					errDetailHas("would_match", "body is signed byte for byte"),
				}
			},
		})
	}
	// A query whose target was signed decoded but sent percent-encoded (gopay signs what it
	// concatenates; a client that encodes afterwards sends another target).
	{
		q := "out_order_no=SIG|ENC&service_id=" + fixtures.DemoServiceID + "&appid=" + fixtures.DemoAppID + "&row=enc"
		decoded, sent := errOrders+"?"+q, errOrders+"?"+strings.Replace(q, "|", "%7C", 1)
		cases = append(cases, sigCase{
			name: "query signed decoded, sent percent-encoded", method: http.MethodGet, target: sent,
			request: func(t testing.TB, now int64) (string, []errFact) {
				a := signed(http.MethodGet, decoded, nil, "NONCEENC", now)
				return a.header(t), []errFact{
					errMessageHas("验签失败"),
					errDetailHas("would_match", `matches the target "`+decoded+`"`, `sent to "`+sent+`"`, "sign the target exactly as it is sent"),
					errDetailIs("signed_string", "GET\n"+sent+"\n"+a.ts+"\nNONCEENC\n\n"),
				}
			},
		})
	}
	{
		body := errPayload(t, errRef(map[string]any{"reason": "用户取消"}))
		decoded, sent := errAction("SIG|PATH", "cancel"), errAction("SIG%7CPATH", "cancel")
		cases = append(cases, sigCase{
			name: "path signed decoded, sent percent-encoded", method: http.MethodPost, target: sent, body: body,
			request: func(t testing.TB, now int64) (string, []errFact) {
				a := signed(http.MethodPost, decoded, body, "NONCEPATH", now)
				return a.header(t), []errFact{
					errMessageHas("验签失败"),
					errDetailHas("would_match", `matches the target "`+decoded+`"`, `sent to "`+sent+`"`),
				}
			},
		})
	}

	// Headers that do not parse.
	cases = append(cases,
		rawRow("Authorization missing", "noauth", "",
			errMessageHas("Authorization格式错误"), errDetailIs("field", "Authorization"), errDetailHas("issue", "empty")),
		rawRow("schema RSA4096", "schema", "WECHATPAY2-SHA256-RSA4096 "+params("schema"),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "WECHATPAY2-SHA256-RSA4096", "not supported", sigSchema)),
		rawRow("schema in lower case", "lower", strings.ToLower(sigSchema)+" "+params("lower"),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "must be written exactly")),
		rawRow("no schema", "noschema", params("noschema"),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "no schema", sigSchema)),
		rawRow("Bearer token", "bearer", "Bearer eyJhbGciOiJIUzI1NiJ9",
			errMessageHas("Authorization格式错误"), errDetailHas("issue", `"Bearer"`, "not supported")),
		rawRow("nonce_str missing", "nononce",
			fmt.Sprintf(`%s mchid="%s",signature="c2ln",timestamp="%s",serial_no="%s"`, sigSchema, fixtures.DemoMchID, ts, fixtures.DemoMerchantSerial),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "missing nonce_str")),
		rawRow("unquoted value", "unquoted",
			fmt.Sprintf(`%s mchid=%s,nonce_str="N",signature="c2ln",timestamp="%s",serial_no="%s"`, sigSchema, fixtures.DemoMchID, ts, fixtures.DemoMerchantSerial),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "mchid", "double quotes")),
		rawRow("unclosed quote", "unclosed", sigSchema+` mchid="`+fixtures.DemoMchID,
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "no closing double quote")),
		rawRow("empty value", "emptyvalue", sigSchema+` mchid="",`+strings.SplitN(params("emptyvalue"), ",", 2)[1],
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "mchid has an empty value")),
		rawRow("unknown parameter", "unknownparam", sigSchema+" "+params("unknownparam")+`,appid="`+fixtures.DemoAppID+`"`,
			errMessageHas("Authorization格式错误"), errDetailHas("issue", `"appid" is unknown`)),
		rawRow("parameter twice", "twice", sigSchema+" "+params("twice")+`,mchid="`+fixtures.DemoMchID+`"`,
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "mchid appears more than once")),
		rawRow("trailing comma", "trailing", sigSchema+" "+params("trailing")+",",
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "ends with a comma")),
		rawRow("garbage", "garbage", "签名 ☃ %%% ===",
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "not supported")),
		rawRow("huge garbage", "hugegarbage", strings.Repeat("A", 6000),
			errMessageHas("Authorization格式错误"), errDetailHas("issue", "...")),
	)

	got := make([]client.ErrorBody, len(cases))
	t.Run("rows", func(t *testing.T) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				auth, facts := tc.request(t, time.Now().Unix())
				resp := sigSendRaw(t, demo, tc.method, tc.target, tc.body, auth)
				e := errCheckShape(t, resp)
				got[i] = e
				if resp.Status != http.StatusUnauthorized || e.Code != "SIGN_ERROR" {
					t.Errorf("status %d code %q, want 401 SIGN_ERROR; body %s", resp.Status, e.Code, resp.Body)
				}
				if len(facts) == 0 {
					t.Errorf("row asserts no diagnostic fact")
				}
				for _, f := range facts {
					f(t, e)
				}
				t.Logf("response: %d %s", resp.Status, resp.Body)
			})
		}
	})

	// Each failed request is in the request log with the code, message and diagnostic it was
	// answered with.
	t.Run("request log", func(t *testing.T) {
		log := sigFailedRequests(t, demo)
		for i, tc := range cases {
			rec, ok := log[tc.target]
			if !ok {
				t.Errorf("%s: %s %s is not in GET /sim/v1/requests?failed=true", tc.name, tc.method, tc.target)
				continue
			}
			if rec.Status != http.StatusUnauthorized || rec.Code != "SIGN_ERROR" || rec.Message != got[i].Message {
				t.Errorf("%s: logged %d %s %q, want 401 SIGN_ERROR %q", tc.name, rec.Status, rec.Code, rec.Message, got[i].Message)
			}
			if !reflect.DeepEqual(rec.Diagnostic, got[i].Detail) {
				t.Errorf("%s: logged diagnostic %v, want the response's detail %v", tc.name, rec.Diagnostic, got[i].Detail)
			}
		}
	})
}

// TestSignWrongKeyUnknownToSimulator: when no key the simulator knows made the signature, the
// error says so instead of naming a certificate.
func TestSignWrongKeyUnknownToSimulator(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{}) // the other merchant is not registered
	demo := sim.DemoClient(t)
	_, otherKey := errOtherMerchant(t)

	body := errPayload(t, demoOrderBody("SIG-UNKNOWNKEY"))
	a := sigAuth{
		mchid: fixtures.DemoMchID, serial: fixtures.DemoMerchantSerial, key: otherKey,
		method: http.MethodPost, target: errOrders, ts: strconv.FormatInt(time.Now().Unix(), 10), nonce: "NONCEUNKNOWNKEY", body: body,
	}
	resp := sigSendRaw(t, demo, http.MethodPost, errOrders, body, a.header(t))
	e := errCheckShape(t, resp)
	if resp.Status != http.StatusUnauthorized || e.Code != "SIGN_ERROR" {
		t.Errorf("status %d code %q, want 401 SIGN_ERROR; body %s", resp.Status, e.Code, resp.Body)
	}
	for _, f := range []errFact{
		errMessageHas("验签失败"),
		errDetailHas("would_match", "no key the simulator knows"),
		errDetailIs("signed_string", a.message()),
	} {
		f(t, e)
	}
	if s, _ := e.Detail["would_match"].(string); strings.Contains(s, errOtherSerial) {
		t.Errorf("would_match names %s, a certificate the simulator does not know: %s", errOtherSerial, s)
	}
}

// TestSignWechatpaySerial: the Wechatpay-Serial request header picks the key responses are
// signed with; an unknown one is refused.
func TestSignWechatpaySerial(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	const unknownPubKeyID = "PUB_KEY_ID_0112300001092025010100000000009999"
	cases := []struct {
		name      string
		requested string // "" sends none
		// wantSerial is the response's Wechatpay-Serial on success; empty means an error is
		// wanted.
		wantSerial string
		facts      []errFact
	}{
		{name: "absent", wantSerial: fixtures.PlatformSerial},
		{name: "platform certificate serial", requested: fixtures.PlatformSerial, wantSerial: fixtures.PlatformSerial},
		{name: "platform certificate serial in lower case", requested: strings.ToLower(fixtures.PlatformSerial), wantSerial: fixtures.PlatformSerial},
		{name: "public key ID", requested: fixtures.PublicKeyID, wantSerial: fixtures.PublicKeyID},
		{
			name: "unknown public key ID", requested: unknownPubKeyID,
			facts: []errFact{errDetailIs("field", "Wechatpay-Serial"), errDetailIs("location", "header"),
				errDetailHas("issue", unknownPubKeyID, fixtures.PublicKeyID)},
		},
		{
			name: "unknown certificate serial", requested: "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF",
			facts: []errFact{errDetailIs("field", "Wechatpay-Serial"),
				errDetailHas("issue", "7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF", fixtures.PlatformSerial, fixtures.PublicKeyID)},
		},
		{
			// A usual mistake: sending the merchant's own certificate serial.
			name: "the merchant's own serial", requested: fixtures.DemoMerchantSerial,
			facts: []errFact{errDetailIs("field", "Wechatpay-Serial"), errDetailHas("issue", fixtures.DemoMerchantSerial, fixtures.PlatformSerial)},
		},
	}
	target := func(i int) string { return fmt.Sprintf("/v3/certificates?row=%d", i) }
	got := make([]client.ErrorBody, len(cases))
	t.Run("rows", func(t *testing.T) {
		for i, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				resp := errSend(t, demo, errStep{method: http.MethodGet, target: target(i),
					header: map[string]string{"Wechatpay-Serial": tc.requested}})
				if tc.wantSerial != "" {
					if resp.Status != http.StatusOK {
						t.Fatalf("status %d, want 200; body %s", resp.Status, resp.Body)
					}
					// errSend has verified the signature with the key this serial names.
					if got := resp.Header.Get("Wechatpay-Serial"); got != tc.wantSerial {
						t.Errorf("response Wechatpay-Serial %q, want %q", got, tc.wantSerial)
					}
					return
				}
				e := errCheckShape(t, resp)
				got[i] = e
				if resp.Status != http.StatusBadRequest || e.Code != "INVALID_REQUEST" {
					t.Errorf("status %d code %q, want 400 INVALID_REQUEST; body %s", resp.Status, e.Code, resp.Body)
				}
				for _, f := range tc.facts {
					f(t, e)
				}
				t.Logf("response: %d %s", resp.Status, resp.Body)
			})
		}
	})

	t.Run("request log", func(t *testing.T) {
		log := sigFailedRequests(t, demo)
		for i, tc := range cases {
			rec, failed := log[target(i)]
			switch {
			case tc.wantSerial != "" && failed:
				t.Errorf("%s: a successful request is listed as failed: %+v", tc.name, rec)
			case tc.wantSerial != "":
			case !failed:
				t.Errorf("%s: GET %s is not in GET /sim/v1/requests?failed=true", tc.name, target(i))
			case rec.Status != http.StatusBadRequest || rec.Code != "INVALID_REQUEST" || !reflect.DeepEqual(rec.Diagnostic, got[i].Detail):
				t.Errorf("%s: logged %d %s %v, want 400 INVALID_REQUEST %v", tc.name, rec.Status, rec.Code, rec.Diagnostic, got[i].Detail)
			}
		}
	})
}

// TestSignAcceptedVariants: headers that differ from wechatpay-go's but are valid APIv3 are
// accepted, so the error rows above fail for their own reason only.
func TestSignAcceptedVariants(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	// Each header is signed when its subtest runs, not when the table is built: parallel
	// subtests wait for the package's other tests, and a header signed a minute before it is
	// sent would leave the 4-minutes-old row outside the window.
	auth := func(nonce string) sigAuth {
		return sigAuth{mchid: fixtures.DemoMchID, serial: fixtures.DemoMerchantSerial, key: demo.Key,
			method: http.MethodGet, target: "/v3/certificates", ts: strconv.FormatInt(time.Now().Unix(), 10), nonce: nonce}
	}
	cases := []struct {
		name   string
		header func(t *testing.T) string
	}{
		{name: "documentation order", header: func(t *testing.T) string { return auth("DOCORDER").header(t) }},
		{name: "reversed order with spaces", header: func(t *testing.T) string {
			a := auth("REVERSED")
			return fmt.Sprintf(`%s serial_no="%s", timestamp="%s", signature="%s", nonce_str="%s", mchid="%s"`,
				sigSchema, a.serial, a.ts, a.sign(t), a.nonce, a.mchid)
		}},
		{name: "timestamp 4 minutes old", header: func(t *testing.T) string {
			a := auth("FOURMIN")
			a.ts = strconv.FormatInt(time.Now().Unix()-240, 10)
			return a.header(t)
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			resp := sigSendRaw(t, demo, http.MethodGet, "/v3/certificates", nil, tc.header(t))
			if resp.Status != http.StatusOK {
				t.Errorf("status %d, want 200; body %s", resp.Status, resp.Body)
			}
		})
	}
}
