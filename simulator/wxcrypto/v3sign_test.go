package wxcrypto_test

import (
	"crypto/rsa"
	"errors"
	"math/big"
	"regexp"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

func TestRequestMessage(t *testing.T) {
	tests := []struct {
		name                             string
		method, target, timestamp, nonce string
		body                             []byte
		want                             string
	}{
		{
			// The community example of the reference §4.1, the same bytes as its echo -n -e.
			name:   "GET without body",
			method: "GET", target: "/v3/refund/domestic/refunds/123123123123", timestamp: "1554208460", nonce: "593BEC0C930BF1AFEB40B4A08C8FB242",
			want: "GET\n/v3/refund/domestic/refunds/123123123123\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n",
		},
		{
			name:   "POST with body and raw query",
			method: "POST", target: "/v3/payscore/serviceorder?a=b c", timestamp: "1554208460", nonce: "N",
			body: []byte(`{"out_order_no":"1234323JKHDFE1243252"}`),
			want: "POST\n/v3/payscore/serviceorder?a=b c\n1554208460\nN\n{\"out_order_no\":\"1234323JKHDFE1243252\"}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wxcrypto.RequestMessage(tt.method, tt.target, tt.timestamp, tt.nonce, tt.body); got != tt.want {
				t.Errorf("RequestMessage = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestResponseMessage(t *testing.T) {
	// The response of the official signature-verification doc (reference §4.3).
	got := wxcrypto.ResponseMessage("1722850421", "d824f2e086d3c1df967785d13fcd22ef", []byte(`{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}`))
	want := "1722850421\nd824f2e086d3c1df967785d13fcd22ef\n{\"code_url\":\"weixin://wxpay/bizpayurl?pr=JyC91EIz1\"}\n"
	if got != want {
		t.Errorf("ResponseMessage = %q, want %q", got, want)
	}
	for _, body := range [][]byte{nil, {}} {
		got := wxcrypto.ResponseMessage("1722850421", "nonce", body)
		if got != "1722850421\nnonce\n\n" || !strings.HasSuffix(got, "\n\n") {
			t.Errorf("ResponseMessage with empty body = %q, want it to end with \\n\\n", got)
		}
	}
}

// The expected signatures were made by OpenSSL, independently of this package:
//
//	printf '<message>' | openssl dgst -sha256 -sign <key>.pem | openssl base64 -A
func TestSignSHA256WithRSAMatchesOpenSSL(t *testing.T) {
	tests := []struct {
		name    string
		keyPEM  []byte
		message string
		want    string
	}{
		{
			name:    "request, demo merchant",
			keyPEM:  fixtures.DemoMerchantKeyPEM,
			message: wxcrypto.RequestMessage("GET", "/v3/certificates", "1554208460", "593BEC0C930BF1AFEB40B4A08C8FB242", nil),
			want:    "ztCDFBMaAexbFHE6kwX8YFt2c+VeXWgB4LrV1cKjfloUzvVxvplhYAyIu43E++3qaYFdpEEJBPQuePwYL2MOtqs7GhQaOg1l/Uf6zcKaQrmjgj4HUwObfS/0L9WFxV3zxv4WJbrHUPtYx5+7GKFGexJpVhKqecy7I/DNiHa5rdJ3obRZwEilnDa02NM/6Vj/ruElfZSn+MoTghnLyEHCMG8rW1sPxHwHRaCgGrYc9gtaU2jzuorJIYx2bcKhdUoLTjQM18RD4WNYEWCvBaKX9l3UmjlEYYkAotyzM/uB5txkxiaJg9Cwx9JGxZvRIfIHUAmcuh4ssMrzDfyQa1m+tA==",
		},
		{
			name:    "response, platform",
			keyPEM:  fixtures.PlatformKeyPEM,
			message: wxcrypto.ResponseMessage("1722850421", "d824f2e086d3c1df967785d13fcd22ef", []byte(`{"code_url":"weixin://wxpay/bizpayurl?pr=JyC91EIz1"}`)),
			want:    "S9G825rgo0ae4kDBN0gs1myU7TAGbJIMsSRfjO9+bebeupOdW28CzTjQ9aWAPjD0Oav4WBlG4so2bFx9w2guaX3roTXHVKWzQs3sPdx27AjHg6VmE69E1zFGZ+l1+SSnYfAZ0xLnSZxKB5f+gTvkg3KcZVcROJIt+7bcyZ3yDFoC+12EvkN2yGBXnusqa7bgC4uGeceLgMteh+EvEgT1Ip8wE54kFzDpP87lkLYfFPDPv8x0i3tF41XZLJ3vom1l8uZUKoTU3lupSG0W7EhLP7EbTiofSMsRT90DF0ZxE4KSOQOMcdYilHvhKo2bdGtxcxCBgwTnKch6Tl/k/wEj0g==",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := mustPrivateKey(t, tt.keyPEM)
			got, err := wxcrypto.SignSHA256WithRSA(key, tt.message)
			if err != nil {
				t.Fatalf("SignSHA256WithRSA: %v", err)
			}
			if got != tt.want {
				t.Errorf("SignSHA256WithRSA = %s, want %s", got, tt.want)
			}
			if err := wxcrypto.VerifySHA256WithRSA(&key.PublicKey, tt.message, tt.want); err != nil {
				t.Errorf("VerifySHA256WithRSA(OpenSSL signature): %v", err)
			}
		})
	}
}

func TestVerifySHA256WithRSA(t *testing.T) {
	key := mustPrivateKey(t, fixtures.DemoMerchantKeyPEM)
	pub := mustCertificate(t, fixtures.DemoMerchantCertPEM).PublicKey.(*rsa.PublicKey)
	otherPub := mustCertificate(t, fixtures.OtherMerchantCertPEM).PublicKey.(*rsa.PublicKey)
	message := wxcrypto.ResponseMessage("1722850421", "d824f2e086d3c1df967785d13fcd22ef", nil)
	sig, err := wxcrypto.SignSHA256WithRSA(key, message)
	if err != nil {
		t.Fatal(err)
	}
	flipped := []byte(sig)
	flipped[10] ^= 'A' ^ 'B'
	if flipped[10] == sig[10] {
		t.Fatal("test setup: byte not flipped")
	}

	tests := []struct {
		name             string
		pub              *rsa.PublicKey
		message, sig     string
		wantVerification bool // the error wraps rsa.ErrVerification
		want             []string
	}{
		{"valid", pub, message, sig, false, nil},
		{"tampered message", pub, message + " ", sig, true, []string{"does not verify with this public key"}},
		{"empty-body message signed, non-empty verified", pub, wxcrypto.ResponseMessage("1722850421", "d824f2e086d3c1df967785d13fcd22ef", []byte("{}")), sig, true, []string{"does not verify"}},
		{"wrong key", otherPub, message, sig, true, []string{"does not verify with this public key"}},
		{"tampered signature", pub, message, string(flipped), true, []string{"does not verify"}},
		{"truncated signature", pub, message, sig[:len(sig)-4], true, []string{"is 255 bytes", "2048-bit key makes 256-byte signatures"}},
		{"URL-safe base64", pub, message, strings.NewReplacer("+", "-", "/", "_").Replace(sig) + "-_", false, []string{"not standard base64"}},
		{"not base64", pub, message, "WECHATPAY/SIGNTEST/" + sig, false, []string{"not standard base64"}},
		{"empty signature", pub, message, "", false, []string{"signature is empty"}},
		{"nil key", nil, message, sig, false, []string{"public key is nil"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wxcrypto.VerifySHA256WithRSA(tt.pub, tt.message, tt.sig)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("VerifySHA256WithRSA: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("VerifySHA256WithRSA succeeded, want an error")
			}
			assertErrorMentions(t, err, tt.want...)
			if got := errors.Is(err, rsa.ErrVerification); got != tt.wantVerification {
				t.Errorf("errors.Is(err, rsa.ErrVerification) = %v, want %v (err: %v)", got, tt.wantVerification, err)
			}
		})
	}
}

func TestSignVerifyRejectBrokenKeys(t *testing.T) {
	good := mustPrivateKey(t, fixtures.DemoMerchantKeyPEM)
	privates := map[string]*rsa.PrivateKey{
		"nil":            nil,
		"zero":           {},
		"public half":    {PublicKey: good.PublicKey},
		"zero modulus":   {PublicKey: rsa.PublicKey{N: big.NewInt(0), E: 65537}, D: big.NewInt(1)},
		"tiny modulus":   {PublicKey: rsa.PublicKey{N: big.NewInt(15), E: 3}, D: big.NewInt(3), Primes: []*big.Int{big.NewInt(3), big.NewInt(5)}},
		"mismatched D":   {PublicKey: good.PublicKey, D: big.NewInt(7), Primes: good.Primes},
		"negative D":     {PublicKey: good.PublicKey, D: big.NewInt(-1), Primes: good.Primes},
		"exponent zero":  {PublicKey: rsa.PublicKey{N: good.N, E: 0}, D: good.D, Primes: good.Primes},
		"nil prime":      {PublicKey: good.PublicKey, D: good.D, Primes: []*big.Int{nil, nil}},
		"zero primes":    {PublicKey: good.PublicKey, D: good.D, Primes: []*big.Int{big.NewInt(0), big.NewInt(0)}},
		"negative prime": {PublicKey: good.PublicKey, D: good.D, Primes: []*big.Int{big.NewInt(-3), big.NewInt(-5)}},
	}
	for name, key := range privates {
		t.Run("sign/"+name, func(t *testing.T) {
			sig, err := wxcrypto.SignSHA256WithRSA(key, "message")
			if err == nil {
				t.Fatalf("SignSHA256WithRSA = %q, want an error", sig)
			}
			assertErrorMentions(t, err, "SHA256withRSA sign")
		})
	}

	sig, err := wxcrypto.SignSHA256WithRSA(good, "message")
	if err != nil {
		t.Fatal(err)
	}
	publics := map[string]*rsa.PublicKey{
		"zero":          {},
		"zero modulus":  {N: big.NewInt(0), E: 65537},
		"tiny modulus":  {N: big.NewInt(15), E: 3},
		"exponent zero": {N: good.N, E: 0},
		"exponent -1":   {N: good.N, E: -1},
		"even modulus":  {N: new(big.Int).Lsh(big.NewInt(1), 2047), E: 65537},
	}
	for name, pub := range publics {
		t.Run("verify/"+name, func(t *testing.T) {
			if err := wxcrypto.VerifySHA256WithRSA(pub, "message", sig); err == nil {
				t.Fatal("VerifySHA256WithRSA succeeded, want an error")
			}
		})
	}
}

func TestNewNonce(t *testing.T) {
	shape := regexp.MustCompile(`^[0-9A-F]{32}$`)
	seen := map[string]bool{}
	for range 100 {
		n := wxcrypto.NewNonce()
		if !shape.MatchString(n) {
			t.Fatalf("NewNonce = %q, want 32 upper-case hex digits", n)
		}
		if seen[n] {
			t.Fatalf("NewNonce repeated %q", n)
		}
		seen[n] = true
	}
}
