package wxcrypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// AEAD_AES_256_GCM as WeChat Pay uses it: the key is the merchant's 32-byte APIv3 key, the
// nonce 12 bytes, and the ciphertext field the standard base64 of ciphertext || 16-byte tag.
const (
	apiV3KeySize = 32
	gcmNonceSize = 12
	gcmTagSize   = 16
)

// EncryptAEAD encrypts plaintext as WeChat Pay encrypts notification resources and the
// certificates of /v3/certificates, and returns the base64 ciphertext field.
func EncryptAEAD(apiV3Key, nonce, associatedData string, plaintext []byte) (string, error) {
	aead, err := newGCM(apiV3Key, nonce)
	if err != nil {
		return "", fmt.Errorf("wxcrypto: AEAD_AES_256_GCM encrypt: %w", err)
	}
	sealed := aead.Seal(nil, []byte(nonce), plaintext, []byte(associatedData))
	return base64.StdEncoding.EncodeToString(sealed), nil
}

// DecryptAEAD decrypts a base64 AEAD_AES_256_GCM ciphertext field. GCM cannot tell which
// input was wrong, so an authentication failure names all the candidates.
func DecryptAEAD(apiV3Key, nonce, associatedData, ciphertext string) ([]byte, error) {
	aead, err := newGCM(apiV3Key, nonce)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: AEAD_AES_256_GCM decrypt: %w", err)
	}
	sealed, err := base64.StdEncoding.DecodeString(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: AEAD_AES_256_GCM decrypt: ciphertext is not standard base64: %w", err)
	}
	if len(sealed) < gcmTagSize {
		return nil, fmt.Errorf("wxcrypto: AEAD_AES_256_GCM decrypt: ciphertext is %d bytes, shorter than the %d-byte tag it must end with",
			len(sealed), gcmTagSize)
	}
	plaintext, err := aead.Open(nil, []byte(nonce), sealed, []byte(associatedData))
	if err != nil {
		return nil, fmt.Errorf("wxcrypto: AEAD_AES_256_GCM decrypt: authentication failed: wrong APIv3 key, nonce or associated_data, or the ciphertext was altered: %w", err)
	}
	return plaintext, nil
}

// newGCM checks the key and nonce lengths first because cipher.AEAD panics on a wrong nonce
// length, and reports lengths only, never the secret key itself.
func newGCM(apiV3Key, nonce string) (cipher.AEAD, error) {
	if len(apiV3Key) != apiV3KeySize {
		return nil, fmt.Errorf("APIv3 key is %d bytes, want %d", len(apiV3Key), apiV3KeySize)
	}
	if len(nonce) != gcmNonceSize {
		return nil, fmt.Errorf("nonce %q is %d bytes, want %d", clip(nonce), len(nonce), gcmNonceSize)
	}
	block, err := aes.NewCipher([]byte(apiV3Key))
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// NewAEADNonce returns 12 random alphanumeric characters, the shape of WeChat Pay's nonces.
func NewAEADNonce() string {
	return randomAlphanumeric(gcmNonceSize)
}

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randomAlphanumeric(n int) string {
	out := make([]byte, 0, n)
	buf := make([]byte, 2*n)
	for len(out) < n {
		_, _ = rand.Read(buf) // crypto/rand.Read never returns an error.
		for _, b := range buf {
			// Rejecting bytes from 248 up keeps every character equally likely (248 = 4*62).
			if b < 248 && len(out) < n {
				out = append(out, alphanumeric[b%62])
			}
		}
	}
	return string(out)
}
