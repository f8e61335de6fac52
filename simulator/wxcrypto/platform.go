package wxcrypto

import (
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"strings"
)

// PublicKeyIDPrefix starts every WeChat Pay public key ID.
const PublicKeyIDPrefix = "PUB_KEY_ID_"

// Platform is WeChat Pay's own signing identity, in both of its modes: the platform certificate
// (downloaded from /v3/certificates) and the newer WeChat Pay public key, known by its ID.
type Platform struct {
	Cert       *x509.Certificate
	CertPEM    []byte
	CertSerial string
	certKey    *rsa.PrivateKey

	PublicKeyID  string
	PublicKeyPEM []byte
	publicKeyKey *rsa.PrivateKey
}

// NewPlatform reads the platform certificate and its key, and the public key mode's key pair.
func NewPlatform(certPEM, certKeyPEM []byte, publicKeyID string, publicKeyPEM, publicKeyKeyPEM []byte) (*Platform, error) {
	cert, err := ParseCertificate(certPEM)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: platform certificate: %w", err)
	}
	certKey, err := ParsePrivateKey(certKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: platform certificate key: %w", err)
	}
	if !certKey.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("wxcrypto: the platform key does not belong to certificate %s", CertificateSerial(cert))
	}
	if !strings.HasPrefix(publicKeyID, PublicKeyIDPrefix) {
		return nil, fmt.Errorf("wxcrypto: public key ID %q must start with %s", publicKeyID, PublicKeyIDPrefix)
	}
	pubKeyKey, err := ParsePrivateKey(publicKeyKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: WeChat Pay public key's private key: %w", err)
	}
	pub, err := ParsePublicKey(publicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: WeChat Pay public key: %w", err)
	}
	if !pubKeyKey.PublicKey.Equal(pub) {
		return nil, fmt.Errorf("wxcrypto: the private key does not belong to WeChat Pay public key %s", publicKeyID)
	}
	return &Platform{
		Cert: cert, CertPEM: certPEM, CertSerial: CertificateSerial(cert), certKey: certKey,
		PublicKeyID: publicKeyID, PublicKeyPEM: publicKeyPEM, publicKeyKey: pubKeyKey,
	}, nil
}

// ResponseSerial resolves the Wechatpay-Serial a client sent, naming what it can verify, to the
// serial its responses are signed under. Clients that send none (some SDKs, and every SDK
// before its first certificate download) get certificate mode.
func (p *Platform) ResponseSerial(requested string) (string, error) {
	switch {
	case requested == "" || strings.EqualFold(requested, p.CertSerial):
		return p.CertSerial, nil
	case requested == p.PublicKeyID:
		return p.PublicKeyID, nil
	case strings.HasPrefix(requested, PublicKeyIDPrefix):
		return "", fmt.Errorf("unknown WeChat Pay public key ID %s; the simulator's is %s", requested, p.PublicKeyID)
	default:
		return "", fmt.Errorf("unknown platform certificate serial %s; the simulator's is %s (or public key %s)", requested, p.CertSerial, p.PublicKeyID)
	}
}

// Sign signs message with the key serial names (a value ResponseSerial returned).
func (p *Platform) Sign(serial, message string) (string, error) {
	switch serial {
	case p.CertSerial:
		return SignSHA256WithRSA(p.certKey, message)
	case p.PublicKeyID:
		return SignSHA256WithRSA(p.publicKeyKey, message)
	default:
		return "", fmt.Errorf("wxcrypto: no platform key has serial %q", serial)
	}
}
