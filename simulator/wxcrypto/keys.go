package wxcrypto

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

// ParsePrivateKey parses an unencrypted RSA private key from PEM: PKCS#8 ("PRIVATE KEY", the
// format of a merchant's apiclient_key.pem) or PKCS#1 ("RSA PRIVATE KEY").
func ParsePrivateKey(pemBytes []byte) (*rsa.PrivateKey, error) {
	const what = "parse private key"
	block, err := decodePEM(what, pemBytes)
	if err != nil {
		return nil, err
	}
	if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
		return nil, fmt.Errorf("wxcrypto: %s: the PEM block is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)", what)
	}
	switch block.Type {
	case "PRIVATE KEY":
		key, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("wxcrypto: %s: PKCS#8 \"PRIVATE KEY\" block: %w", what, err)
		}
		rsaKey, ok := key.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("wxcrypto: %s: PKCS#8 block holds a %T, want an RSA key (WeChat Pay APIv3 uses RSA 2048)", what, key)
		}
		return rsaKey, nil
	case "RSA PRIVATE KEY":
		key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("wxcrypto: %s: PKCS#1 \"RSA PRIVATE KEY\" block: %w", what, err)
		}
		return key, nil
	case "ENCRYPTED PRIVATE KEY":
		return nil, fmt.Errorf("wxcrypto: %s: the PEM block is an encrypted PKCS#8 key; decrypt it first (openssl pkey -in key.pem -out plain.pem)", what)
	default:
		return nil, fmt.Errorf("wxcrypto: %s: PEM block is %q, want \"PRIVATE KEY\" (PKCS#8) or \"RSA PRIVATE KEY\" (PKCS#1)%s",
			what, clip(block.Type), blockHint(block.Type))
	}
}

// ParseCertificate parses the first PEM block, which must be an X.509 certificate.
func ParseCertificate(pemBytes []byte) (*x509.Certificate, error) {
	const what = "parse certificate"
	block, err := decodePEM(what, pemBytes)
	if err != nil {
		return nil, err
	}
	if block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("wxcrypto: %s: PEM block is %q, want \"CERTIFICATE\"%s", what, clip(block.Type), blockHint(block.Type))
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: %s: %w", what, err)
	}
	return cert, nil
}

// ParsePublicKey parses an RSA public key from PEM: a PKIX "PUBLIC KEY" (the format of the
// WeChat Pay public key in public-key mode), a PKCS#1 "RSA PUBLIC KEY", or the key of a
// "CERTIFICATE" (a platform certificate).
func ParsePublicKey(pemBytes []byte) (*rsa.PublicKey, error) {
	const what = "parse public key"
	block, err := decodePEM(what, pemBytes)
	if err != nil {
		return nil, err
	}
	var key any
	switch block.Type {
	case "PUBLIC KEY":
		key, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		key, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var cert *x509.Certificate
		cert, err = x509.ParseCertificate(block.Bytes)
		if err == nil {
			key = cert.PublicKey
		}
	default:
		return nil, fmt.Errorf("wxcrypto: %s: PEM block is %q, want \"PUBLIC KEY\", \"RSA PUBLIC KEY\" or \"CERTIFICATE\"%s",
			what, clip(block.Type), blockHint(block.Type))
	}
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: %s: %q block: %w", what, block.Type, err)
	}
	rsaKey, ok := key.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("wxcrypto: %s: %q block holds a %T, want an RSA key (WeChat Pay APIv3 uses RSA 2048)", what, block.Type, key)
	}
	return rsaKey, nil
}

// CertificateSerial returns the serial number as wechatpay-go and gopay compute it: the
// upper-case hex of the magnitude's bytes, which matches `openssl x509 -serial` for a positive
// serial. It returns "" for a nil certificate or serial.
func CertificateSerial(cert *x509.Certificate) string {
	if cert == nil || cert.SerialNumber == nil {
		return ""
	}
	return fmt.Sprintf("%X", cert.SerialNumber.Bytes())
}

func decodePEM(what string, pemBytes []byte) (*pem.Block, error) {
	if len(bytes.TrimSpace(pemBytes)) == 0 {
		return nil, fmt.Errorf("wxcrypto: %s: input is empty", what)
	}
	block, _ := pem.Decode(pemBytes)
	if block != nil {
		return block, nil
	}
	// 0x30 opens an ASN.1 SEQUENCE: binary DER, or a PKCS#12 bundle such as apiclient_cert.p12.
	if pemBytes[0] == 0x30 {
		return nil, fmt.Errorf("wxcrypto: %s: no PEM block found; the input looks like binary DER or PKCS#12, convert it to PEM with openssl", what)
	}
	return nil, errors.New("wxcrypto: " + what + ": no PEM block found, want text with a \"-----BEGIN ...-----\" line")
}

// blockHint explains the common mix-ups between a merchant's key, certificate and public key.
func blockHint(blockType string) string {
	switch {
	case blockType == "CERTIFICATE":
		return " (this is a certificate, such as apiclient_cert.pem)"
	case blockType == "EC PRIVATE KEY":
		return " (this is an elliptic-curve key; WeChat Pay APIv3 uses RSA 2048)"
	case strings.HasSuffix(blockType, "PRIVATE KEY"):
		return " (this is a private key, such as apiclient_key.pem)"
	case strings.HasSuffix(blockType, "PUBLIC KEY"):
		return " (this is a public key)"
	default:
		return ""
	}
}
