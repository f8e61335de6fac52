package wxcrypto

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// AuthSchema is the only APIv3 Authorization schema this simulator accepts (RSA; WeChat's
// SM2 schema is not simulated).
const AuthSchema = "WECHATPAY2-SHA256-RSA2048"

// Authorization is a parsed APIv3 Authorization header. All fields are the raw header values.
type Authorization struct {
	MchID     string
	NonceStr  string
	Signature string
	Timestamp string
	SerialNo  string
}

// authParams lists the header's parameters in wechatpay-go's order, which String follows.
var authParams = []string{"mchid", "nonce_str", "timestamp", "serial_no", "signature"}

// maxQuoted bounds how much of a caller's header an error message repeats, since headers are
// untrusted and may be huge.
const maxQuoted = 64

// ParseAuthorization parses an APIv3 Authorization header value. Parameters may come in any
// order, with spaces after the commas; values must be in double quotes, as WeChat Pay
// requires, and must not be empty. Unknown and duplicate parameters are rejected.
func ParseAuthorization(header string) (Authorization, error) {
	header = strings.TrimSpace(header)
	if header == "" {
		return Authorization{}, errors.New("wxcrypto: Authorization header is empty")
	}
	schema, rest := header, ""
	if i := strings.IndexAny(header, " \t"); i >= 0 {
		schema, rest = header[:i], header[i+1:]
	}
	if schema != AuthSchema {
		return Authorization{}, schemaError(schema)
	}
	values := make(map[string]string, len(authParams))
	rest = strings.TrimLeft(rest, " \t")
	for n := 1; rest != ""; n++ {
		key, value, after, err := cutParam(n, rest)
		if err != nil {
			return Authorization{}, err
		}
		if !slices.Contains(authParams, key) {
			return Authorization{}, fmt.Errorf("wxcrypto: Authorization parameter %q is unknown, want only %s",
				clip(key), strings.Join(authParams, ", "))
		}
		if _, dup := values[key]; dup {
			return Authorization{}, fmt.Errorf("wxcrypto: Authorization parameter %s appears more than once", key)
		}
		if value == "" {
			return Authorization{}, fmt.Errorf("wxcrypto: Authorization parameter %s has an empty value", key)
		}
		values[key] = value
		rest = after
	}
	var missing []string
	for _, k := range authParams {
		if _, ok := values[k]; !ok {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return Authorization{}, fmt.Errorf("wxcrypto: Authorization header is missing %s", strings.Join(missing, ", "))
	}
	return Authorization{
		MchID:     values["mchid"],
		NonceStr:  values["nonce_str"],
		Signature: values["signature"],
		Timestamp: values["timestamp"],
		SerialNo:  values["serial_no"],
	}, nil
}

// cutParam splits the n-th key="value" pair off the front of s and returns what follows its
// comma. The value ends at the next double quote, so commas inside a value do not split it.
func cutParam(n int, s string) (key, value, after string, err error) {
	key, afterEq, ok := strings.Cut(s, "=")
	if !ok || key == "" || strings.ContainsAny(key, ",\" \t") {
		pair, _, _ := strings.Cut(s, ",")
		return "", "", "", fmt.Errorf("wxcrypto: Authorization parameter %d (%q) is malformed, want key=\"value\"", n, clip(pair))
	}
	if !strings.HasPrefix(afterEq, `"`) {
		raw, _, _ := strings.Cut(afterEq, ",")
		return "", "", "", fmt.Errorf("wxcrypto: Authorization parameter %s=%s: the value must be in double quotes, as WeChat Pay requires (%s=\"...\")",
			clip(key), clip(raw), clip(key))
	}
	value, after, ok = strings.Cut(afterEq[1:], `"`)
	if !ok {
		return "", "", "", fmt.Errorf("wxcrypto: Authorization parameter %s: the value has no closing double quote", clip(key))
	}
	after = strings.TrimLeft(after, " \t")
	if after == "" {
		return key, value, "", nil
	}
	if after[0] != ',' {
		return "", "", "", fmt.Errorf("wxcrypto: Authorization parameter %s: unexpected %q after the closing quote, want a comma",
			clip(key), clip(after))
	}
	after = strings.TrimLeft(after[1:], " \t")
	if after == "" {
		return "", "", "", fmt.Errorf("wxcrypto: Authorization parameter %d is empty: the header ends with a comma", n+1)
	}
	return key, value, after, nil
}

func schemaError(schema string) error {
	switch {
	case strings.Contains(schema, "="):
		return fmt.Errorf("wxcrypto: Authorization header has no schema: want it to start with %q followed by a space", AuthSchema)
	case strings.EqualFold(schema, AuthSchema):
		return fmt.Errorf("wxcrypto: Authorization schema %q must be written exactly %q", clip(schema), AuthSchema)
	default:
		return fmt.Errorf("wxcrypto: Authorization schema %q is not supported, want %q", clip(schema), AuthSchema)
	}
}

func clip(s string) string {
	if len(s) <= maxQuoted {
		return s
	}
	return s[:maxQuoted] + "..."
}

// String returns the canonical header value, with parameters in wechatpay-go's order.
func (a Authorization) String() string {
	return fmt.Sprintf(`%s mchid="%s",nonce_str="%s",timestamp="%s",serial_no="%s",signature="%s"`,
		AuthSchema, a.MchID, a.NonceStr, a.Timestamp, a.SerialNo, a.Signature)
}

// Authorize signs a request as an SDK does and returns the Authorization header value. target
// is the path and query exactly as they will be sent; body is nil for a GET.
func Authorize(mchid, serialNo string, key *rsa.PrivateKey, method, target string, body []byte, now time.Time) (string, error) {
	for _, f := range []struct{ name, value string }{{"mchid", mchid}, {"serial_no", serialNo}, {"method", method}, {"target", target}} {
		if f.value == "" {
			return "", fmt.Errorf("wxcrypto: authorize: %s is empty", f.name)
		}
	}
	// The header has no escaping, so a quote in a value would make it unparseable.
	if strings.Contains(mchid, `"`) || strings.Contains(serialNo, `"`) {
		return "", fmt.Errorf("wxcrypto: authorize: mchid %q or serial_no %q contains a double quote", clip(mchid), clip(serialNo))
	}
	a := Authorization{
		MchID:     mchid,
		NonceStr:  NewNonce(),
		Timestamp: strconv.FormatInt(now.Unix(), 10),
		SerialNo:  serialNo,
	}
	sig, err := SignSHA256WithRSA(key, RequestMessage(method, target, a.Timestamp, a.NonceStr, body))
	if err != nil {
		return "", err
	}
	a.Signature = sig
	return a.String(), nil
}
