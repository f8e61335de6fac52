package http

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// timestampWindow is how far a request's Authorization timestamp may be from now.
const timestampWindow = 5 * time.Minute

// authenticate checks the APIv3 Authorization of every /v3 request, as WeChat does, and picks
// how the response is signed. The body is read here, once, because the signature covers it.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		body, err := requestBody(c)
		if err != nil {
			return err
		}
		m, err := s.verifyRequest(r, body)
		if err != nil {
			return err
		}
		if err := requireHeaders(r); err != nil {
			return err
		}
		c.Set(keyMerchant, m)
		serial, err := s.Platform.ResponseSerial(r.Header.Get("Wechatpay-Serial"))
		if err != nil {
			return simulator.Errorf(simulator.CodeInvalidRequest, "Wechatpay-Serial 无效").
				With("field", "Wechatpay-Serial").With("location", "header").
				With("issue", err.Error())
		}
		c.Set(keySerial, serial)
		return next(c)
	}
}

// requireHeaders refuses a request without Accept or User-Agent, as production does
// (interface-rules/basic-rules.html requires both). The sources do not say whether production
// checks the headers or the signature first; the simulator checks the signature first
// (inferred), so that an unsigned request is always 401 SIGN_ERROR, and a signed one that lacks
// a header gets the header's error, as the community reports show it.
func requireHeaders(r *http.Request) *simulator.Error {
	var missing []string
	for _, h := range []string{"Accept", "User-Agent"} {
		if strings.TrimSpace(r.Header.Get(h)) == "" {
			missing = append(missing, h)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return simulator.Errorf(simulator.CodeInvalidRequest, "Http头缺少Accept或User-Agent").
		With("field", strings.Join(missing, ", ")).With("location", "header").
		With("issue", fmt.Sprintf("the request has no %s header: production requires Accept (such as application/json) and a User-Agent on every APIv3 request; SDKs send both, hand-written clients often forget them", strings.Join(missing, " and no ")))
}

func merchantOf(c echo.Context) *simulator.Merchant {
	m, _ := c.Get(keyMerchant).(*simulator.Merchant)
	return m
}

// signError is a 401 SIGN_ERROR whose detail says what we checked and why it failed.
func signError(message, issue string, diag map[string]any) *simulator.Error {
	e := simulator.Errorf(simulator.CodeSignError, "%s", message).With("issue", issue)
	for k, v := range diag {
		e.Detail[k] = v
	}
	return e
}

// verifyRequest authenticates r and returns its merchant. The message is rebuilt from the
// request target exactly as received: clients sign what they send, encoded or not.
func (s *Server) verifyRequest(r *http.Request, body []byte) (*simulator.Merchant, error) {
	diag := map[string]any{"location": "header", "field": "Authorization"}
	if n := len(r.Header.Values("Authorization")); n > 1 {
		return nil, signError("Http头Authorization格式错误", fmt.Sprintf(
			"the Authorization header appears %d times; send it once, since which one a server checks is unspecified", n), diag)
	}
	header := r.Header.Get("Authorization")
	auth, err := wxcrypto.ParseAuthorization(header)
	if err != nil {
		return nil, signError("Http头Authorization格式错误", err.Error(), diag)
	}
	diag["mchid"], diag["serial_no"] = auth.MchID, auth.SerialNo
	m := s.Merchants.Merchant(auth.MchID)
	if m == nil {
		return nil, signError("商户号不存在", fmt.Sprintf(
			"mchid %s is not a merchant of this simulator: use the demo merchant or add it to the --config file", auth.MchID), diag)
	}
	diag["expected_serials"] = m.KeySerials()
	key := m.Keys[auth.SerialNo]
	if key == nil {
		return nil, signError("商户证书序列号有误", fmt.Sprintf(
			"serial_no %s is not a certificate of merchant %s%s", auth.SerialNo, auth.MchID, s.serialHint(auth.SerialNo)), diag)
	}
	ts, err := strconv.ParseInt(auth.Timestamp, 10, 64)
	if err != nil {
		return nil, signError("Http头Authorization中的timestamp格式错误", fmt.Sprintf(
			"timestamp %q must be Unix seconds", auth.Timestamp), diag)
	}
	skew := time.Now().Unix() - ts
	diag["timestamp_skew_seconds"] = skew
	if skew > int64(timestampWindow/time.Second) || -skew > int64(timestampWindow/time.Second) {
		issue := fmt.Sprintf("timestamp %d is %d seconds from the simulator's clock; the window is ±300 s", ts, skew)
		if len(auth.Timestamp) == 13 {
			issue += "; it looks like milliseconds: APIv3 timestamps are Unix seconds"
		}
		return nil, signError("Http头Authorization中的timestamp与发起请求的时间不得超过5分钟", issue, diag)
	}
	message := wxcrypto.RequestMessage(r.Method, r.RequestURI, auth.Timestamp, auth.NonceStr, body)
	diag["signed_string"] = message
	diag["key_tried"] = auth.SerialNo
	err = wxcrypto.VerifySHA256WithRSA(key, message, auth.Signature)
	if err == nil {
		return m, nil
	}
	issue := err.Error()
	// Only a signature that decodes but does not verify can have been made over something else.
	if errors.Is(err, rsa.ErrVerification) {
		hint := s.diagnoseSignature(r, body, auth, m)
		issue += "; " + hint
		diag["would_match"] = hint
	}
	return nil, signError("错误的签名，验签失败", issue, diag)
}

// serialHint names the usual mistakes behind an unknown serial_no.
func (s *Server) serialHint(serial string) string {
	switch {
	case serial == s.Platform.CertSerial || serial == s.Platform.PublicKeyID:
		return ": that is WeChat Pay's serial; serial_no names the merchant's own API certificate"
	case serial != strings.ToUpper(serial):
		return ": serials are upper-case hex (Java's BigInteger.toString(16) gives lower case)"
	}
	for _, other := range s.Merchants.All() {
		if _, ok := other.Keys[serial]; ok {
			return fmt.Sprintf(": it is a certificate of merchant %s", other.MchID)
		}
	}
	return ""
}

// diagnoseSignature looks for what the client did sign, so the error can tell them: another
// form of the request target, or another key the simulator knows.
func (s *Server) diagnoseSignature(r *http.Request, body []byte, auth wxcrypto.Authorization, m *simulator.Merchant) string {
	verifies := func(key *rsa.PublicKey, target string) bool {
		msg := wxcrypto.RequestMessage(r.Method, target, auth.Timestamp, auth.NonceStr, body)
		return wxcrypto.VerifySHA256WithRSA(key, msg, auth.Signature) == nil
	}
	key := m.Keys[auth.SerialNo]
	targets := []string{r.URL.RequestURI(), r.URL.EscapedPath()}
	if decoded, err := url.PathUnescape(r.RequestURI); err == nil {
		targets = append(targets, decoded)
	}
	for _, t := range targets {
		if t != r.RequestURI && verifies(key, t) {
			return fmt.Sprintf("the signature matches the target %q, but the request was sent to %q: sign the target exactly as it is sent", t, r.RequestURI)
		}
	}
	// Registered merchants often share the published test keys: each distinct key is tried once.
	tried := []*rsa.PublicKey{key}
	for _, other := range s.Merchants.All() {
		for _, serial := range other.KeySerials() {
			k := other.Keys[serial]
			if slices.ContainsFunc(tried, func(t *rsa.PublicKey) bool { return t.Equal(k) }) {
				continue
			}
			tried = append(tried, k)
			if verifies(k, r.RequestURI) {
				return fmt.Sprintf("the signature was made with the key of certificate %s (merchant %s), not with that of serial_no %s", serial, other.MchID, auth.SerialNo)
			}
		}
	}
	return "no key the simulator knows produced this signature over this message: check the private key, the method, the target and that the body is signed byte for byte"
}
