package wxcrypto_test

import (
	"encoding/base64"
	"regexp"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// testAPIv3Key is a published TEST APIv3 key (32 bytes), like the fixtures' keys.
const testAPIv3Key = "payscore-sim-TEST-apiv3-key-0032"

// The ciphertexts were made with Python's cryptography AESGCM, independently of this package.
func TestDecryptAEADKnownVectors(t *testing.T) {
	tests := []struct {
		name, nonce, aad, ciphertext string
		want                         string
	}{
		{
			name:  "certificate, AAD certificate",
			nonce: "61f9c719728a", aad: "certificate",
			ciphertext: "rQ3GX3VvBRE55xCEoXThIsCxtJanuCeSrwdDOjsHUNMlHhTHdgXCQx5fEOv+/WpsbqEATvOYZ0WtGWjngaS1g4hWZBfytR2gMLMg",
			want:       "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n",
		},
		{
			name:  "notification, empty AAD",
			nonce: "fdasflkja484", aad: "",
			ciphertext: "lnTIhyDuaQa8RABVMaLWGYIpK0DqRAqDSXYU6GFFddonOuTnh/pMGWXeJ6vdMIaWqziROxvy",
			want:       `{"mchid":"1230000109","state":"DOING"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.DecryptAEAD(testAPIv3Key, tt.nonce, tt.aad, tt.ciphertext)
			if err != nil {
				t.Fatalf("DecryptAEAD: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("DecryptAEAD = %q, want %q", got, tt.want)
			}
			enc, err := wxcrypto.EncryptAEAD(testAPIv3Key, tt.nonce, tt.aad, []byte(tt.want))
			if err != nil {
				t.Fatalf("EncryptAEAD: %v", err)
			}
			if enc != tt.ciphertext {
				t.Errorf("EncryptAEAD = %s, want %s", enc, tt.ciphertext)
			}
		})
	}
}

func TestAEADRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		aad       string
		plaintext []byte
	}{
		{"platform certificate", "certificate", fixtures.PlatformCertPEM},
		{"notification resource", "", []byte(`{"out_order_no":"1234323JKHDFE1243252","state":"DONE"}`)},
		{"empty plaintext", "payscore", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			nonce := wxcrypto.NewAEADNonce()
			enc, err := wxcrypto.EncryptAEAD(testAPIv3Key, nonce, tt.aad, tt.plaintext)
			if err != nil {
				t.Fatalf("EncryptAEAD: %v", err)
			}
			raw, err := base64.StdEncoding.DecodeString(enc)
			if err != nil {
				t.Fatalf("ciphertext is not standard base64: %v", err)
			}
			if len(raw) != len(tt.plaintext)+16 {
				t.Errorf("ciphertext is %d bytes, want plaintext + 16-byte tag = %d", len(raw), len(tt.plaintext)+16)
			}
			got, err := wxcrypto.DecryptAEAD(testAPIv3Key, nonce, tt.aad, enc)
			if err != nil {
				t.Fatalf("DecryptAEAD: %v", err)
			}
			if string(got) != string(tt.plaintext) {
				t.Errorf("DecryptAEAD = %q, want %q", got, tt.plaintext)
			}
		})
	}
}

func TestDecryptAEADErrors(t *testing.T) {
	const nonce, aad = "61f9c719728a", "certificate"
	enc, err := wxcrypto.EncryptAEAD(testAPIv3Key, nonce, aad, []byte("secret"))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := base64.StdEncoding.DecodeString(enc)
	raw[0] ^= 1
	tampered := base64.StdEncoding.EncodeToString(raw)
	const authFailed = "authentication failed"

	tests := []struct {
		name, key, nonce, aad, ciphertext string
		want                              []string
	}{
		{"wrong key", strings.Repeat("k", 32), nonce, aad, enc, []string{authFailed, "APIv3 key"}},
		{"wrong associated data", testAPIv3Key, nonce, "", enc, []string{authFailed, "associated_data"}},
		{"wrong nonce", testAPIv3Key, "61f9c719728b", aad, enc, []string{authFailed, "nonce"}},
		{"tampered ciphertext", testAPIv3Key, nonce, aad, tampered, []string{authFailed, "altered"}},
		{"truncated", testAPIv3Key, nonce, aad, enc[:len(enc)-4], []string{authFailed}},
		{"not base64", testAPIv3Key, nonce, aad, "not*base64", []string{"not standard base64"}},
		{"URL-safe base64", testAPIv3Key, nonce, aad, strings.NewReplacer("+", "-", "/", "_").Replace(enc) + "-_", []string{"not standard base64"}},
		{"shorter than the tag", testAPIv3Key, nonce, aad, base64.StdEncoding.EncodeToString([]byte("short")), []string{"5 bytes", "16-byte tag"}},
		{"empty ciphertext", testAPIv3Key, nonce, aad, "", []string{"0 bytes", "16-byte tag"}},
		{"31-byte key", testAPIv3Key[:31], nonce, aad, enc, []string{"APIv3 key is 31 bytes, want 32"}},
		{"33-byte key", testAPIv3Key + "x", nonce, aad, enc, []string{"APIv3 key is 33 bytes, want 32"}},
		{"empty key", "", nonce, aad, enc, []string{"APIv3 key is 0 bytes, want 32"}},
		{"11-byte nonce", testAPIv3Key, nonce[:11], aad, enc, []string{"is 11 bytes, want 12"}},
		{"16-byte nonce", testAPIv3Key, nonce + "abcd", aad, enc, []string{"is 16 bytes, want 12"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.DecryptAEAD(tt.key, tt.nonce, tt.aad, tt.ciphertext)
			if err == nil {
				t.Fatalf("DecryptAEAD = %q, want an error", got)
			}
			assertErrorMentions(t, err, append([]string{"AEAD_AES_256_GCM decrypt"}, tt.want...)...)
		})
	}
}

func TestEncryptAEADErrors(t *testing.T) {
	tests := []struct {
		name, key, nonce string
		want             string
	}{
		{"short key", "0123456789abcdef", "61f9c719728a", "APIv3 key is 16 bytes, want 32"},
		{"long nonce", testAPIv3Key, "61f9c719728a0", "is 13 bytes, want 12"},
		{"empty nonce", testAPIv3Key, "", `nonce "" is 0 bytes, want 12`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := wxcrypto.EncryptAEAD(tt.key, tt.nonce, "", []byte("x"))
			if err == nil {
				t.Fatalf("EncryptAEAD = %q, want an error", got)
			}
			assertErrorMentions(t, err, "AEAD_AES_256_GCM encrypt", tt.want)
		})
	}
}

func TestAEADErrorsDoNotLeakKey(t *testing.T) {
	const key = "SECRET-apiv3-key-that-is-wrong!"
	_, err := wxcrypto.DecryptAEAD(key, "61f9c719728a", "", "AAAAAAAAAAAAAAAAAAAAAA==")
	if err == nil || strings.Contains(err.Error(), key) {
		t.Errorf("error %v: want an error that does not repeat the key", err)
	}
}

func TestNewAEADNonce(t *testing.T) {
	shape := regexp.MustCompile(`^[A-Za-z0-9]{12}$`)
	seen := map[string]bool{}
	for range 1000 {
		n := wxcrypto.NewAEADNonce()
		if !shape.MatchString(n) {
			t.Fatalf("NewAEADNonce = %q, want 12 alphanumeric characters", n)
		}
		if seen[n] {
			t.Fatalf("NewAEADNonce repeated %q", n)
		}
		seen[n] = true
	}
}
