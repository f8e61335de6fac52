package wxcrypto

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// RequestMessage returns the APIv3 request signing message. target is the request-target as
// sent on the wire (path and raw query): SDKs disagree on query encoding, so it must not be
// re-encoded. A request without a body still has its (empty) body line.
func RequestMessage(method, target, timestamp, nonce string, body []byte) string {
	return method + "\n" + target + "\n" + timestamp + "\n" + nonce + "\n" + string(body) + "\n"
}

// ResponseMessage returns the message WeChat Pay signs for a response or a notification. An
// empty body (HTTP 204) still has its line, so the message ends "\n\n".
func ResponseMessage(timestamp, nonce string, body []byte) string {
	return timestamp + "\n" + nonce + "\n" + string(body) + "\n"
}

// SignSHA256WithRSA signs message with RSASSA-PKCS1-v1_5 over SHA-256 and returns standard
// base64, the signature format of every APIv3 header.
func SignSHA256WithRSA(key *rsa.PrivateKey, message string) (string, error) {
	if key == nil || key.N == nil || key.D == nil {
		return "", errors.New("wxcrypto: SHA256withRSA sign: private key is nil or incomplete")
	}
	digest := sha256.Sum256([]byte(message))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	if err != nil {
		return "", fmt.Errorf("wxcrypto: SHA256withRSA sign: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

// VerifySHA256WithRSA checks a standard-base64 SHA256withRSA signature of message. A signature
// that decodes but does not match wraps rsa.ErrVerification, so callers can tell a bad
// signature from a malformed one.
func VerifySHA256WithRSA(pub *rsa.PublicKey, message, signature string) error {
	if pub == nil || pub.N == nil {
		return errors.New("wxcrypto: SHA256withRSA verify: public key is nil or incomplete")
	}
	if signature == "" {
		return errors.New("wxcrypto: SHA256withRSA verify: signature is empty")
	}
	raw, err := base64.StdEncoding.DecodeString(signature)
	if err != nil {
		return fmt.Errorf("wxcrypto: SHA256withRSA verify: signature is not standard base64: %w", err)
	}
	digest := sha256.Sum256([]byte(message))
	err = rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], raw)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, rsa.ErrVerification):
		return fmt.Errorf("wxcrypto: SHA256withRSA verify: %w", err)
	case len(raw) != pub.Size():
		return fmt.Errorf("wxcrypto: SHA256withRSA verify: signature does not verify: it is %d bytes, but the %d-bit key makes %d-byte signatures: %w",
			len(raw), pub.N.BitLen(), pub.Size(), err)
	default:
		return fmt.Errorf("wxcrypto: SHA256withRSA verify: signature does not verify with this public key (wrong key, or the message signed was different): %w", err)
	}
}

// NewNonce returns 32 random upper-case hex characters, the shape of the nonces in the APIv3
// documentation.
func NewNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never returns an error.
	return strings.ToUpper(hex.EncodeToString(b))
}
