package http_test

// Helpers shared by the test files of this package. Helpers used by one file, or by one family
// of files (errors_*, sdk_*, ...), live with them.

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"mime"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// chinaTime is China Standard Time, in which WeChat's yyyyMMddHHmmss times are written.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// compactTime formats t as yyyyMMddHHmmss in China time.
func compactTime(t time.Time) string { return t.In(chinaTime).Format("20060102150405") }

// compactTimePattern matches a yyyyMMddHHmmss time.
var compactTimePattern = regexp.MustCompile(`^[0-9]{14}$`)

// The second merchant, registered from the other_merchant fixtures. It has two appids so that
// "an appid bound to the merchant but not the order's" can be tested.
const (
	errOtherMchID     = "1900000001"
	errOtherSerial    = "01E1BA53D6DFD8FE4530DCD9834EA6B530F5DF9E"
	errOtherAppID     = "wx1900000001000001"
	errOtherAppID2    = "wx1900000001000002"
	errOtherServiceID = "99999999000011"
)

// errOtherMerchant is the second merchant, built from the other_merchant fixtures.
func errOtherMerchant(t testing.TB) (*simulator.Merchant, *rsa.PrivateKey) {
	t.Helper()
	cert, err := wxcrypto.ParseCertificate(fixtures.OtherMerchantCertPEM)
	if err != nil {
		t.Fatalf("other merchant certificate: %v", err)
	}
	if got := wxcrypto.CertificateSerial(cert); got != errOtherSerial {
		t.Fatalf("other merchant certificate serial = %s, want %s", got, errOtherSerial)
	}
	key, err := wxcrypto.ParsePrivateKey(fixtures.OtherMerchantKeyPEM)
	if err != nil {
		t.Fatalf("other merchant key: %v", err)
	}
	return &simulator.Merchant{
		MchID:      errOtherMchID,
		AppIDs:     []string{errOtherAppID, errOtherAppID2},
		ServiceIDs: []string{errOtherServiceID},
		APIv3Key:   "payscore-sim-TEST-other-key-0032",
		Keys:       map[string]*rsa.PublicKey{errOtherSerial: cert.PublicKey.(*rsa.PublicKey)},
	}, key
}

// errStep is one signed request.
type errStep struct {
	as     *client.Client // nil: the demo merchant
	method string
	target string
	// body is sent as is when it is a string or []byte, as JSON otherwise, and not at all when
	// nil.
	body any
	// header sets (or, with an empty value, removes) request headers after the client's.
	header map[string]string
}

func errPayload(t testing.TB, body any) []byte {
	t.Helper()
	switch b := body.(type) {
	case nil:
		return nil
	case string:
		return []byte(b)
	case []byte:
		return b
	default:
		p, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode body: %v", err)
		}
		return p
	}
}

// errSend signs s as its merchant and sends it. It fails the test when the response is not
// correctly signed: every answer of the simulator is signed, errors included.
func errSend(t testing.TB, def *client.Client, s errStep) *client.Response {
	t.Helper()
	c := s.as
	if c == nil {
		c = def
	}
	payload := errPayload(t, s.body)
	req, err := c.NewRequest(context.Background(), s.method, s.target, payload)
	if err != nil {
		t.Fatalf("%s %s: %v", s.method, s.target, err)
	}
	for k, v := range s.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	auth, err := wxcrypto.Authorize(c.MchID, c.Serial, c.Key, s.method, s.target, payload, time.Now())
	if err != nil {
		t.Fatalf("sign %s %s: %v", s.method, s.target, err)
	}
	req.Header.Set("Authorization", auth)
	resp, err := c.Send(req)
	if err != nil {
		if resp != nil {
			t.Fatalf("%s %s: %v (status %d, body %s)", s.method, s.target, err, resp.Status, resp.Body)
		}
		t.Fatalf("%s %s: %v", s.method, s.target, err)
	}
	return resp
}

// errMustOK sends s and fails unless it succeeds.
func errMustOK(t testing.TB, def *client.Client, s errStep) *client.Response {
	t.Helper()
	resp := errSend(t, def, s)
	if resp.Status != http.StatusOK {
		t.Fatalf("setup %s %s: status %d, want 200; body %s", s.method, s.target, resp.Status, resp.Body)
	}
	return resp
}

// errCheckShape asserts what every error response must be: 4xx (never 500), application/json,
// a JSON object whose code and message are non-empty strings. The signature was checked by
// errSend. It returns the decoded body.
func errCheckShape(t testing.TB, resp *client.Response) client.ErrorBody {
	t.Helper()
	if resp.Status >= 500 {
		t.Errorf("status %d: a client's request must never cause a server error; body %s", resp.Status, resp.Body)
	}
	if resp.Status < 400 {
		t.Errorf("status %d, want an error status; body %s", resp.Status, resp.Body)
	}
	ct := resp.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	if resp.Header.Get("Request-ID") == "" {
		t.Errorf("no Request-ID header")
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(resp.Body, &raw); err != nil {
		t.Fatalf("error body is not a JSON object: %v; body %s", err, resp.Body)
	}
	for _, k := range []string{"code", "message"} {
		var s string
		if err := json.Unmarshal(raw[k], &s); err != nil || s == "" {
			t.Errorf("error body's %s is %s, want a non-empty string; body %s", k, raw[k], resp.Body)
		}
	}
	return resp.Err()
}

// errFact is one assertion on an error body.
type errFact func(t testing.TB, e client.ErrorBody)

func errDetailString(t testing.TB, e client.ErrorBody, key string) (string, bool) {
	t.Helper()
	v, ok := e.Detail[key]
	if !ok {
		t.Errorf("detail has no %q: %v", key, e.Detail)
		return "", false
	}
	if s, isString := v.(string); isString {
		return s, true
	}
	b, _ := json.Marshal(v)
	return string(b), true
}

// errDetailHas asserts that detail[key], as a string (JSON for non-strings), contains each of subs.
func errDetailHas(key string, subs ...string) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		s, ok := errDetailString(t, e, key)
		if !ok {
			return
		}
		for _, sub := range subs {
			if !strings.Contains(s, sub) {
				t.Errorf("detail.%s = %q, want it to contain %q", key, s, sub)
			}
		}
	}
}

// errDetailIs asserts that detail[key] equals want once both are JSON.
func errDetailIs(key string, want any) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		got, ok := e.Detail[key]
		if !ok {
			t.Errorf("detail has no %q: %v", key, e.Detail)
			return
		}
		var wantJSON any
		b, _ := json.Marshal(want)
		_ = json.Unmarshal(b, &wantJSON)
		if !reflect.DeepEqual(got, wantJSON) {
			t.Errorf("detail.%s = %#v, want %#v", key, got, wantJSON)
		}
	}
}

// errMessageHas asserts that the message contains sub.
func errMessageHas(sub string) errFact {
	return func(t testing.TB, e client.ErrorBody) {
		t.Helper()
		if !strings.Contains(e.Message, sub) {
			t.Errorf("message = %q, want it to contain %q", e.Message, sub)
		}
	}
}
