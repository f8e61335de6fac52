package wxcrypto

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// APIv2 sign_type values. Pay Score front-end signatures only allow HMAC-SHA256; MD5 is here
// because the APIv2 algorithm defines it and the official worked example uses it.
const (
	SignTypeHMACSHA256 = "HMAC-SHA256"
	SignTypeMD5        = "MD5"
)

// V2SignString returns the APIv2 string to sign, without the trailing "&key=...": every
// parameter with a non-empty value except "sign", sorted by key in byte order and joined as
// k=v with "&". Values are used raw, not URL-encoded. "sign_type" is included.
func V2SignString(params map[string]string) string {
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(params)) {
		v := params[k]
		if k == "sign" || v == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('&')
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	return b.String()
}

// SignV2 computes the APIv2 signature of params with the merchant's APIv2 key, as upper-case
// hex. signType is SignTypeHMACSHA256 or SignTypeMD5; a "sign_type" entry in params is signed
// like any other parameter but does not choose the algorithm.
func SignV2(params map[string]string, key, signType string) (string, error) {
	if key == "" {
		// Anyone could forge a signature made with an empty key, so it is always a mistake.
		return "", errors.New("wxcrypto: APIv2 sign: key is empty")
	}
	message := V2SignString(params) + "&key=" + key
	var sum []byte
	switch signType {
	case SignTypeHMACSHA256:
		mac := hmac.New(sha256.New, []byte(key))
		mac.Write([]byte(message))
		sum = mac.Sum(nil)
	case SignTypeMD5:
		digest := md5.Sum([]byte(message))
		sum = digest[:]
	default:
		return "", fmt.Errorf("wxcrypto: APIv2 sign: sign type %q is not supported, want %q or %q",
			signType, SignTypeHMACSHA256, SignTypeMD5)
	}
	return strings.ToUpper(hex.EncodeToString(sum)), nil
}
