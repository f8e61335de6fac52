package wxcrypto_test

import (
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// officialV2Key is the key of the official APIv2 signing example (reference §1.6).
const officialV2Key = "192006250b4c09247ec02edce69f6a2d"

// The expected strings and signatures below are copied from the reference §1.6, not computed
// by this package.
func TestSignV2PublishedVectors(t *testing.T) {
	scoreUsePackage := "AAQTnZoAAAABAAAAAAD8m2b8VRdZ2kVdKmHNZiAAAABcwQVtru-5k9MmEOZJ_Pv_Nq7Cw56dNKKN5Ej3Knt5jTHF-NdsP_McFW-iaU3iuJ0gWlNQeG9UihoKi0k2pv1t71M6mpk15X6L1545yNpmPD5uhi3poFV8e_5EdYwi_cbc6tXYVfa0AJUO4OzHGPhMdT4ZMwmFFhD0HQi9mRHQhFRKPwFai4NkkW7vm9mv1test"
	officialExample := map[string]string{
		"appid":       "wxd930ea5d5a258f4f",
		"mch_id":      "10000100",
		"device_info": "1000",
		"body":        "test",
		"nonce_str":   "ibuaiVcKdpRxkhJA",
	}
	const officialExampleString = "appid=wxd930ea5d5a258f4f&body=test&device_info=1000&mch_id=10000100&nonce_str=ibuaiVcKdpRxkhJA"
	tests := []struct {
		name       string
		params     map[string]string
		signType   string
		wantString string
		wantSign   string
	}{
		{
			name:       "APIv2 official example, MD5",
			params:     officialExample,
			signType:   wxcrypto.SignTypeMD5,
			wantString: officialExampleString,
			wantSign:   "9A0A8659F005D6984697E2CA0A9CF3B7",
		},
		{
			name:       "APIv2 official example, HMAC-SHA256",
			params:     officialExample,
			signType:   wxcrypto.SignTypeHMACSHA256,
			wantString: officialExampleString,
			wantSign:   "6A9AE1657590FD6257D693A078E1C3E4BB6BA4DC30B23E0EE2496E54170DACD6",
		},
		{
			name: "wxpayScoreUse",
			params: map[string]string{
				"mch_id":    "1230000109",
				"package":   scoreUsePackage,
				"timestamp": "1530097563",
				"nonce_str": "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2",
				"sign_type": "HMAC-SHA256",
			},
			signType:   wxcrypto.SignTypeHMACSHA256,
			wantString: "mch_id=1230000109&nonce_str=zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2&package=" + scoreUsePackage + "&sign_type=HMAC-SHA256&timestamp=1530097563",
			wantSign:   "8FE703D566295EE01949962A14C0DA644E978283E16F9F7F016C8156868D53F4",
		},
		{
			name: "wxpayScoreDetail",
			params: map[string]string{
				"mch_id":       "1230000109",
				"service_id":   "88888888000011",
				"out_order_no": "1234323JKHDFE1243252",
				"timestamp":    "1530097563",
				"nonce_str":    "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2",
				"sign_type":    "HMAC-SHA256",
			},
			signType:   wxcrypto.SignTypeHMACSHA256,
			wantString: "mch_id=1230000109&nonce_str=zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2&out_order_no=1234323JKHDFE1243252&service_id=88888888000011&sign_type=HMAC-SHA256&timestamp=1530097563",
			wantSign:   "5EA003DF79A5F4B5450A0276ADEE4E54E866DF5A43FFE8E5A53E66B307F2C901",
		},
		{
			name: "wxpayScoreEnable, older signed form",
			params: map[string]string{
				"mch_id":         "1230000109",
				"service_id":     "88888888000011",
				"out_request_no": "1234323JKHDFE1243252",
				"timestamp":      "1530097563",
				"nonce_str":      "zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2",
				"sign_type":      "HMAC-SHA256",
			},
			signType:   wxcrypto.SignTypeHMACSHA256,
			wantString: "mch_id=1230000109&nonce_str=zyx53Nkey8o4bHpxTQvd8m7e92nG5mG2&out_request_no=1234323JKHDFE1243252&service_id=88888888000011&sign_type=HMAC-SHA256&timestamp=1530097563",
			wantSign:   "9613CAA4F1DE3AAA5F4525830E2199FB9A73C7EE344C7CA984FE00EB293D7F9B",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := wxcrypto.V2SignString(tt.params); got != tt.wantString {
				t.Errorf("V2SignString =\n%s\nwant\n%s", got, tt.wantString)
			}
			got, err := wxcrypto.SignV2(tt.params, officialV2Key, tt.signType)
			if err != nil {
				t.Fatalf("SignV2: %v", err)
			}
			if got != tt.wantSign {
				t.Errorf("SignV2 = %s, want %s", got, tt.wantSign)
			}
		})
	}
}

func TestV2SignStringSkipsSignAndEmptyValues(t *testing.T) {
	params := map[string]string{
		"mch_id":    "1230000109",
		"sign":      "029B52F67573D7E3BE74904BF9AEA",
		"attach":    "",
		"sign_type": "HMAC-SHA256",
		"Z_upper":   "sorted before lower case",
		"raw":       "a b&c=d/é",
	}
	const want = "Z_upper=sorted before lower case&mch_id=1230000109&raw=a b&c=d/é&sign_type=HMAC-SHA256"
	if got := wxcrypto.V2SignString(params); got != want {
		t.Errorf("V2SignString = %q, want %q", got, want)
	}

	withoutExtras := map[string]string{"mch_id": "1230000109", "sign_type": "HMAC-SHA256", "Z_upper": "sorted before lower case", "raw": "a b&c=d/é"}
	a, err := wxcrypto.SignV2(params, officialV2Key, wxcrypto.SignTypeHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	b, err := wxcrypto.SignV2(withoutExtras, officialV2Key, wxcrypto.SignTypeHMACSHA256)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Errorf("sign and empty values changed the signature: %s != %s", a, b)
	}

	if got := wxcrypto.V2SignString(nil); got != "" {
		t.Errorf("V2SignString(nil) = %q, want empty", got)
	}
}

func TestSignV2Errors(t *testing.T) {
	params := map[string]string{"mch_id": "1230000109"}
	tests := []struct {
		name, key, signType string
		want                []string
	}{
		{"lower-case sign type", officialV2Key, "hmac-sha256", []string{`"hmac-sha256"`, "not supported", wxcrypto.SignTypeHMACSHA256, wxcrypto.SignTypeMD5}},
		{"underscore sign type", officialV2Key, "HMAC_SHA256", []string{`"HMAC_SHA256"`}},
		{"empty sign type", officialV2Key, "", []string{`""`, "not supported"}},
		{"empty key", "", wxcrypto.SignTypeHMACSHA256, []string{"key is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.SignV2(params, tt.key, tt.signType)
			if err == nil {
				t.Fatalf("SignV2 = %q, want an error", got)
			}
			assertErrorMentions(t, err, tt.want...)
		})
	}
}

// assertErrorMentions fails unless err carries the package prefix and every fragment, so
// tests pin down that errors name their cause.
func assertErrorMentions(t *testing.T, err error, fragments ...string) {
	t.Helper()
	msg := err.Error()
	if !strings.HasPrefix(msg, "wxcrypto: ") {
		t.Errorf("error %q lacks the wxcrypto: prefix", msg)
	}
	for _, f := range fragments {
		if !strings.Contains(msg, f) {
			t.Errorf("error %q does not mention %q", msg, f)
		}
	}
}
