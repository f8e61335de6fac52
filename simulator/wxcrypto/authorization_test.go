package wxcrypto_test

import (
	"crypto/rsa"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

const sampleSignature = "Qu5hV8a3T3v0dQ9WZ2YfT0PDu5gG6fFq0cGX2mbKmXWvK+y3Hq6nvQ2mjL5bW5l0Xn8f9cZ2h3bVgP1R0dKYzA=="

var sampleAuthorization = wxcrypto.Authorization{
	MchID:     "1900009191",
	NonceStr:  "593BEC0C930BF1AFEB40B4A08C8FB242",
	Signature: sampleSignature,
	Timestamp: "1554208460",
	SerialNo:  "1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",
}

func TestParseAuthorization(t *testing.T) {
	s := sampleAuthorization
	tests := []struct {
		name   string
		header string
		want   wxcrypto.Authorization
	}{
		{
			name:   "wechatpay-go and gopay order",
			header: `WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",signature="` + sampleSignature + `"`,
			want:   s,
		},
		{
			name:   "documentation order",
			header: `WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",signature="` + sampleSignature + `",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"`,
			want:   s,
		},
		{
			name:   "reversed, with spaces after commas and around the header",
			header: ` WECHATPAY2-SHA256-RSA2048  serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C", timestamp="1554208460",  signature="` + sampleSignature + `",	nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242", mchid="1900009191" `,
			want:   s,
		},
		{
			name:   "commas, spaces and equals signs inside quoted values",
			header: `WECHATPAY2-SHA256-RSA2048 mchid="19,00",nonce_str="a, b=c",timestamp="1554208460",serial_no="X",signature="s,i=g"`,
			want:   wxcrypto.Authorization{MchID: "19,00", NonceStr: "a, b=c", Timestamp: "1554208460", SerialNo: "X", Signature: "s,i=g"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.ParseAuthorization(tt.header)
			if err != nil {
				t.Fatalf("ParseAuthorization: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseAuthorization = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseAuthorizationErrors(t *testing.T) {
	const (
		m  = `mchid="1900009191"`
		n  = `nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242"`
		ts = `timestamp="1554208460"`
		sn = `serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C"`
		sg = `signature="` + sampleSignature + `"`
	)
	valid := func(pairs ...string) string { return wxcrypto.AuthSchema + " " + strings.Join(pairs, ",") }
	tests := []struct {
		name   string
		header string
		want   []string
	}{
		{"empty", "", []string{"header is empty"}},
		{"blank", " \t ", []string{"header is empty"}},
		{"other schema", "Bearer abc.def", []string{`schema "Bearer"`, "not supported", `want "WECHATPAY2-SHA256-RSA2048"`}},
		{"SM2 schema", "WECHATPAY2-SM2-WITH-SM3 " + strings.Join([]string{m, n, ts, sn, sg}, ","), []string{`"WECHATPAY2-SM2-WITH-SM3"`, `want "WECHATPAY2-SHA256-RSA2048"`}},
		{"lower-case schema", "wechatpay2-sha256-rsa2048 " + strings.Join([]string{m, n, ts, sn, sg}, ","), []string{`"wechatpay2-sha256-rsa2048"`, "exactly"}},
		{"missing schema", strings.Join([]string{m, n, ts, sn, sg}, ","), []string{"no schema", `"WECHATPAY2-SHA256-RSA2048"`}},
		{"schema only", wxcrypto.AuthSchema, []string{"missing mchid, nonce_str, timestamp, serial_no, signature"}},
		{"key without value", valid("mchid", n, ts, sn, sg), []string{`parameter 1 ("mchid") is malformed`, `key="value"`}},
		{"second pair malformed", valid(m, "nonce_str 593BEC", ts, sn, sg), []string{`parameter 2 ("nonce_str 593BEC") is malformed`}},
		{"empty key", valid(m, `="x"`, ts, sn, sg), []string{`parameter 2 ("=\"x\"") is malformed`}},
		{"double comma", valid(m, "", n, ts, sn, sg), []string{"parameter 2", "malformed"}},
		{"unquoted value", valid(`mchid=1900009191`, n, ts, sn, sg), []string{"mchid=1900009191", "double quotes"}},
		{"single-quoted value", valid(m, n, `timestamp='1554208460'`, sn, sg), []string{"timestamp='1554208460'", "double quotes"}},
		{"unterminated quote", valid(m, n, ts, sn, `signature="abc`), []string{"signature", "no closing double quote"}},
		{"text after closing quote", valid(`mchid="1900009191"x`, n, ts, sn, sg), []string{"mchid", `unexpected "x,nonce_str`, "want a comma"}},
		{"semicolon separator", wxcrypto.AuthSchema + " " + m + ";" + n, []string{"mchid", `unexpected ";nonce_str`}},
		{"trailing comma", valid(m, n, ts, sn, sg) + ",", []string{"parameter 6 is empty", "ends with a comma"}},
		{"unknown key", valid(m, n, ts, sn, sg, `foo="bar"`), []string{`parameter "foo" is unknown`, "mchid, nonce_str, timestamp, serial_no, signature"}},
		{"wrong-case key", valid(`MchID="1900009191"`, n, ts, sn, sg), []string{`"MchID" is unknown`}},
		{"mch_id instead of mchid", valid(`mch_id="1900009191"`, n, ts, sn, sg), []string{`"mch_id" is unknown`}},
		{"duplicate key", valid(m, n, ts, sn, sg, `mchid="1900000001"`), []string{"mchid appears more than once"}},
		{"missing serial_no", valid(m, n, ts, sg), []string{"missing serial_no"}},
		{"missing two", valid(m, ts, sn), []string{"missing nonce_str, signature"}},
		{"empty value", valid(m, `nonce_str=""`, ts, sn, sg), []string{"nonce_str has an empty value"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.ParseAuthorization(tt.header)
			if err == nil {
				t.Fatalf("ParseAuthorization = %+v, want an error", got)
			}
			assertErrorMentions(t, err, tt.want...)
		})
	}
}

func TestParseAuthorizationClipsLongInput(t *testing.T) {
	long := strings.Repeat("A", 10000)
	_, err := wxcrypto.ParseAuthorization(long + " " + `mchid="1"`)
	if err == nil {
		t.Fatal("ParseAuthorization succeeded, want an error")
	}
	if len(err.Error()) > 300 {
		t.Errorf("error repeats %d bytes of input: %.100s...", len(err.Error()), err)
	}
}

func TestAuthorizationString(t *testing.T) {
	want := `WECHATPAY2-SHA256-RSA2048 mchid="1900009191",nonce_str="593BEC0C930BF1AFEB40B4A08C8FB242",timestamp="1554208460",serial_no="1DDE55AD98ED71D6EDD4A4A16996DE7B47773A8C",signature="` + sampleSignature + `"`
	if got := sampleAuthorization.String(); got != want {
		t.Errorf("String =\n%s\nwant\n%s", got, want)
	}
}

func TestAuthorizeRoundTrip(t *testing.T) {
	key := mustPrivateKey(t, fixtures.DemoMerchantKeyPEM)
	cert := mustCertificate(t, fixtures.DemoMerchantCertPEM)
	pub := cert.PublicKey.(*rsa.PublicKey)
	otherPub := mustCertificate(t, fixtures.OtherMerchantCertPEM).PublicKey.(*rsa.PublicKey)
	now := time.Unix(1554208460, 999_000_000)

	tests := []struct {
		name, method, target string
		body                 []byte
	}{
		{"GET with query", "GET", "/v3/payscore/serviceorder?out_order_no=1234323JKHDFE1243252&service_id=88888888000011&appid=wxd678efh567hg6787", nil},
		{"POST with JSON body", "POST", "/v3/payscore/serviceorder/1234323JKHDFE1243252/cancel", []byte(`{"service_id":"88888888000011","reason":"用户投诉"}`)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, err := wxcrypto.Authorize("1230000109", wxcrypto.CertificateSerial(cert), key, tt.method, tt.target, tt.body, now)
			if err != nil {
				t.Fatalf("Authorize: %v", err)
			}
			a, err := wxcrypto.ParseAuthorization(header)
			if err != nil {
				t.Fatalf("ParseAuthorization(%q): %v", header, err)
			}
			if a.MchID != "1230000109" || a.SerialNo != demoMerchantSerial || a.Timestamp != "1554208460" || len(a.NonceStr) != 32 {
				t.Errorf("parsed %+v, want mchid 1230000109, serial %s, timestamp 1554208460, 32-character nonce", a, demoMerchantSerial)
			}
			if a.String() != header {
				t.Errorf("Authorize gave %q, not the canonical form %q", header, a.String())
			}
			message := wxcrypto.RequestMessage(tt.method, tt.target, a.Timestamp, a.NonceStr, tt.body)
			if err := wxcrypto.VerifySHA256WithRSA(pub, message, a.Signature); err != nil {
				t.Errorf("signature does not verify with the merchant certificate: %v", err)
			}
			if err := wxcrypto.VerifySHA256WithRSA(otherPub, message, a.Signature); !errors.Is(err, rsa.ErrVerification) {
				t.Errorf("signature verified with another merchant's certificate: %v", err)
			}
			altered := wxcrypto.RequestMessage(tt.method, tt.target+"&x=1", a.Timestamp, a.NonceStr, tt.body)
			if err := wxcrypto.VerifySHA256WithRSA(pub, altered, a.Signature); !errors.Is(err, rsa.ErrVerification) {
				t.Errorf("signature verified for a different target: %v", err)
			}
		})
	}
}

func TestAuthorizeErrors(t *testing.T) {
	key := mustPrivateKey(t, fixtures.DemoMerchantKeyPEM)
	now := time.Unix(1554208460, 0)
	tests := []struct {
		name, mchid, serial string
		key                 *rsa.PrivateKey
		method, target      string
		want                []string
	}{
		{"empty mchid", "", demoMerchantSerial, key, "GET", "/v3/certificates", []string{"mchid is empty"}},
		{"empty serial", "1230000109", "", key, "GET", "/v3/certificates", []string{"serial_no is empty"}},
		{"empty method", "1230000109", demoMerchantSerial, key, "", "/v3/certificates", []string{"method is empty"}},
		{"empty target", "1230000109", demoMerchantSerial, key, "GET", "", []string{"target is empty"}},
		{"quote in serial", "1230000109", `AB"CD`, key, "GET", "/v3/certificates", []string{"double quote"}},
		{"nil key", "1230000109", demoMerchantSerial, nil, "GET", "/v3/certificates", []string{"private key is nil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.Authorize(tt.mchid, tt.serial, tt.key, tt.method, tt.target, nil, now)
			if err == nil {
				t.Fatalf("Authorize = %q, want an error", got)
			}
			assertErrorMentions(t, err, tt.want...)
		})
	}
}

func FuzzParseAuthorization(f *testing.F) {
	f.Add(sampleAuthorization.String())
	f.Add(`WECHATPAY2-SHA256-RSA2048 mchid="1",nonce_str="2",signature="3",timestamp="4",serial_no="5"`)
	f.Add(`WECHATPAY2-SHA256-RSA2048  serial_no="5", timestamp="4",  signature="a,b", nonce_str="2", mchid="1" `)
	f.Add(`WECHATPAY2-SHA256-RSA2048 mchid=1,nonce_str="2"`)
	f.Add(`WECHATPAY2-SHA256-RSA2048 mchid="1",mchid="1",`)
	f.Add(`WECHATPAY2-SHA256-RSA2048 mchid="`)
	f.Add("")
	f.Fuzz(func(t *testing.T, header string) {
		a, err := wxcrypto.ParseAuthorization(header)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "wxcrypto: ") {
				t.Fatalf("error %q lacks the wxcrypto: prefix", err)
			}
			return
		}
		again, err := wxcrypto.ParseAuthorization(a.String())
		if err != nil {
			t.Fatalf("String() of a parsed header does not parse: %q: %v", a.String(), err)
		}
		if again != a {
			t.Fatalf("round trip changed the value: %+v became %+v", a, again)
		}
	})
}
