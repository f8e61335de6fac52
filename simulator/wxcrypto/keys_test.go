package wxcrypto_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"regexp"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Serials as `openssl x509 -noout -serial` printed them when the fixtures were generated.
const (
	demoMerchantSerial  = "25B8605D9FD731F430188FF0C79D76F8B01944AD"
	otherMerchantSerial = "01E1BA53D6DFD8FE4530DCD9834EA6B530F5DF9E"
	platformSerial      = "0363A2C0ADDE4D46E467D6072348E56AD79BD62D"
)

var serialPattern = regexp.MustCompile(`^[0-9A-F]{40}$`)

func TestFixtureCertificates(t *testing.T) {
	notBefore := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	notAfter := time.Date(2045, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		keyPEM     []byte
		certPEM    []byte
		wantSerial string
		wantCN     string
	}{
		{"demo merchant", fixtures.DemoMerchantKeyPEM, fixtures.DemoMerchantCertPEM, demoMerchantSerial, "1230000109"},
		{"other merchant", fixtures.OtherMerchantKeyPEM, fixtures.OtherMerchantCertPEM, otherMerchantSerial, "1900000001"},
		{"platform", fixtures.PlatformKeyPEM, fixtures.PlatformCertPEM, platformSerial, "Tenpay.com Root CA TEST payscore-sim"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := mustPrivateKey(t, tt.keyPEM)
			cert := mustCertificate(t, tt.certPEM)
			serial := wxcrypto.CertificateSerial(cert)
			if !serialPattern.MatchString(serial) {
				t.Errorf("CertificateSerial = %q, want 40 upper-case hex digits", serial)
			}
			if serial != tt.wantSerial {
				t.Errorf("CertificateSerial = %s, want %s", serial, tt.wantSerial)
			}
			if cert.Subject.CommonName != tt.wantCN {
				t.Errorf("subject CN = %q, want %q", cert.Subject.CommonName, tt.wantCN)
			}
			if !cert.NotBefore.Equal(notBefore) || !cert.NotAfter.Equal(notAfter) {
				t.Errorf("validity = %s to %s, want %s to %s", cert.NotBefore, cert.NotAfter, notBefore, notAfter)
			}
			if now := time.Now(); now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
				t.Errorf("certificate is not valid now (%s)", now)
			}
			if key.N.BitLen() != 2048 {
				t.Errorf("key is %d bits, want 2048", key.N.BitLen())
			}
			if !key.PublicKey.Equal(cert.PublicKey) {
				t.Error("the certificate does not hold the public half of the key")
			}
			pub, err := wxcrypto.ParsePublicKey(tt.certPEM)
			if err != nil {
				t.Fatalf("ParsePublicKey(certificate): %v", err)
			}
			if !key.PublicKey.Equal(pub) {
				t.Error("ParsePublicKey(certificate) returned a different key")
			}
		})
	}
}

func TestFixturePublicKeyMode(t *testing.T) {
	key := mustPrivateKey(t, fixtures.PublicKeyModeKeyPEM)
	pub, err := wxcrypto.ParsePublicKey(fixtures.PublicKeyModePublicPEM)
	if err != nil {
		t.Fatalf("ParsePublicKey: %v", err)
	}
	if !key.PublicKey.Equal(pub) {
		t.Error("PublicKeyModePublicPEM is not the public half of PublicKeyModeKeyPEM")
	}
	if pub.N.BitLen() != 2048 {
		t.Errorf("key is %d bits, want 2048", pub.N.BitLen())
	}
}

func TestFixtureKeysAreDistinct(t *testing.T) {
	keys := map[string][]byte{
		"demo merchant":   fixtures.DemoMerchantKeyPEM,
		"other merchant":  fixtures.OtherMerchantKeyPEM,
		"platform":        fixtures.PlatformKeyPEM,
		"public-key mode": fixtures.PublicKeyModeKeyPEM,
	}
	seen := map[string]string{}
	for name, pemBytes := range keys {
		n := mustPrivateKey(t, pemBytes).N.String()
		if other, dup := seen[n]; dup {
			t.Errorf("%s and %s fixtures share a key", name, other)
		}
		seen[n] = name
	}
}

func TestParsePKCS1Forms(t *testing.T) {
	key := mustPrivateKey(t, fixtures.DemoMerchantKeyPEM)

	pkcs1Key := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	got, err := wxcrypto.ParsePrivateKey(pkcs1Key)
	if err != nil {
		t.Fatalf("ParsePrivateKey(PKCS#1): %v", err)
	}
	if !got.Equal(key) {
		t.Error("ParsePrivateKey(PKCS#1) returned a different key")
	}

	pkcs1Pub := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&key.PublicKey)})
	pub, err := wxcrypto.ParsePublicKey(pkcs1Pub)
	if err != nil {
		t.Fatalf("ParsePublicKey(PKCS#1): %v", err)
	}
	if !pub.Equal(&key.PublicKey) {
		t.Error("ParsePublicKey(PKCS#1) returned a different key")
	}
}

func TestParseKeysRejectBadInput(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecPKCS8, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPKIX, err := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	certDER, _ := pem.Decode(fixtures.DemoMerchantCertPEM)
	pemOf := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	legacyEncrypted := pem.EncodeToMemory(&pem.Block{
		Type:    "RSA PRIVATE KEY",
		Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-128-CBC,00000000000000000000000000000000"},
		Bytes:   []byte("opaque"),
	})

	parsers := map[string]func([]byte) error{
		"private key": func(b []byte) error { _, err := wxcrypto.ParsePrivateKey(b); return err },
		"certificate": func(b []byte) error { _, err := wxcrypto.ParseCertificate(b); return err },
		"public key":  func(b []byte) error { _, err := wxcrypto.ParsePublicKey(b); return err },
	}
	tests := []struct {
		name   string
		parser string
		input  []byte
		want   []string
	}{
		{"empty private key", "private key", nil, []string{"input is empty"}},
		{"blank certificate", "certificate", []byte(" \n\t"), []string{"input is empty"}},
		{"garbage private key", "private key", []byte("not a key at all"), []string{"no PEM block", "-----BEGIN"}},
		{"garbage public key", "public key", []byte("MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"), []string{"no PEM block"}},
		{"DER certificate", "certificate", certDER.Bytes, []string{"binary DER or PKCS#12"}},
		{"certificate as private key", "private key", fixtures.DemoMerchantCertPEM, []string{`"CERTIFICATE"`, `want "PRIVATE KEY"`, "apiclient_cert.pem"}},
		{"public key as private key", "private key", fixtures.PublicKeyModePublicPEM, []string{`"PUBLIC KEY"`, "this is a public key"}},
		{"private key as certificate", "certificate", fixtures.DemoMerchantKeyPEM, []string{`"PRIVATE KEY"`, `want "CERTIFICATE"`, "apiclient_key.pem"}},
		{"public key as certificate", "certificate", fixtures.PublicKeyModePublicPEM, []string{`"PUBLIC KEY"`, `want "CERTIFICATE"`}},
		{"private key as public key", "public key", fixtures.PlatformKeyPEM, []string{`"PRIVATE KEY"`, `"PUBLIC KEY"`, "this is a private key"}},
		{"EC private key", "private key", pemOf("PRIVATE KEY", ecPKCS8), []string{"*ecdsa.PrivateKey", "want an RSA key"}},
		{"SEC1 EC private key", "private key", pemOf("EC PRIVATE KEY", []byte{1}), []string{`"EC PRIVATE KEY"`, "elliptic-curve"}},
		{"EC public key", "public key", pemOf("PUBLIC KEY", ecPKIX), []string{"*ecdsa.PublicKey", "want an RSA key"}},
		{"encrypted PKCS#8", "private key", pemOf("ENCRYPTED PRIVATE KEY", []byte{1}), []string{"encrypted", "openssl pkey"}},
		{"encrypted PKCS#1", "private key", legacyEncrypted, []string{"encrypted"}},
		{"corrupt PKCS#8 body", "private key", pemOf("PRIVATE KEY", []byte("corrupt")), []string{`PKCS#8 "PRIVATE KEY" block`}},
		{"corrupt PKCS#1 body", "private key", pemOf("RSA PRIVATE KEY", []byte("corrupt")), []string{`PKCS#1 "RSA PRIVATE KEY" block`}},
		{"corrupt certificate body", "certificate", pemOf("CERTIFICATE", []byte("corrupt")), []string{"parse certificate"}},
		{"corrupt public key body", "public key", pemOf("PUBLIC KEY", []byte("corrupt")), []string{`"PUBLIC KEY" block`}},
		{"corrupt certificate as public key", "public key", pemOf("CERTIFICATE", []byte("corrupt")), []string{`"CERTIFICATE" block`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := parsers[tt.parser](tt.input)
			if err == nil {
				t.Fatalf("parse %s succeeded, want an error", tt.parser)
			}
			assertErrorMentions(t, err, append([]string{"parse " + tt.parser}, tt.want...)...)
		})
	}
}

func TestCertificateSerialNil(t *testing.T) {
	if got := wxcrypto.CertificateSerial(nil); got != "" {
		t.Errorf("CertificateSerial(nil) = %q, want empty", got)
	}
	if got := wxcrypto.CertificateSerial(&x509.Certificate{}); got != "" {
		t.Errorf("CertificateSerial without serial = %q, want empty", got)
	}
}

func mustPrivateKey(t *testing.T, pemBytes []byte) *rsa.PrivateKey {
	t.Helper()
	key, err := wxcrypto.ParsePrivateKey(pemBytes)
	if err != nil {
		t.Fatalf("ParsePrivateKey: %v", err)
	}
	return key
}

func mustCertificate(t *testing.T, pemBytes []byte) *x509.Certificate {
	t.Helper()
	cert, err := wxcrypto.ParseCertificate(pemBytes)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	return cert
}
