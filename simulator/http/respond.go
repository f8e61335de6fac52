package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Context keys shared by the middleware and handlers of a request.
const (
	keyMerchant = "payscore.merchant"
	// keySerial is the serial the response is signed with: the platform certificate's or the
	// WeChat Pay public key ID, as the request's Wechatpay-Serial asked.
	keySerial   = "payscore.serial"
	keyWarnings = "payscore.warnings"
	keyError    = "payscore.error"
	// keyFault is the fault rule that fired on the request (see injectFaults); keyDropped
	// marks a request whose connection a reset fault closed.
	keyFault   = "payscore.fault"
	keyDropped = "payscore.dropped"
)

// statuses maps WeChat's codes to the HTTP statuses production answers them with.
var statuses = map[string]int{
	simulator.CodeParamError:           http.StatusBadRequest,
	simulator.CodeInvalidRequest:       http.StatusBadRequest,
	simulator.CodeInvalidOrderState:    http.StatusBadRequest,
	simulator.CodeOrderCanceled:        http.StatusBadRequest,
	simulator.CodeOrderDone:            http.StatusBadRequest,
	simulator.CodeSignError:            http.StatusUnauthorized,
	simulator.CodeNoAuth:               http.StatusForbidden,
	simulator.CodeOrderNotExist:        http.StatusNotFound,
	simulator.CodeNotFound:             http.StatusNotFound,
	simulator.CodeVisitNotExist:        http.StatusNotFound,
	simulator.CodeNotificationNotExist: http.StatusNotFound,
	simulator.CodeResourceNotExists:    http.StatusNotFound,
	simulator.CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	simulator.CodeMerchantExists:       http.StatusConflict,
	simulator.CodeFrequencyLimited:     http.StatusTooManyRequests,
	simulator.CodeSystemError:          http.StatusInternalServerError,
}

// errorBody is WeChat's error shape.
type errorBody struct {
	Code    string         `json:"code"`
	Message string         `json:"message"`
	Detail  map[string]any `json:"detail,omitempty"`
}

// handleError answers every error the way WeChat does. Errors that are not the client's fault
// are logged; only they become SYSTEM_ERROR.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	var e *simulator.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &e):
	case errors.As(err, &he) && he.Code == http.StatusNotFound:
		e = simulator.Errorf(simulator.CodeNotFound, "请求的资源不存在").
			With("issue", "no Pay Score API at "+c.Request().Method+" "+c.Request().URL.Path+pathHint(c.Request().URL.Path))
	case errors.As(err, &he) && he.Code == http.StatusMethodNotAllowed:
		e = simulator.Errorf(simulator.CodeMethodNotAllowed, "请求方法不被允许").
			With("issue", c.Request().Method+" is not allowed on "+c.Request().URL.Path)
	case errors.As(err, &he) && he.Code == http.StatusRequestEntityTooLarge:
		e = simulator.Errorf(simulator.CodeParamError, "请求体过大").
			With("issue", "the request body is larger than the simulator accepts")
	default:
		s.Logger.Error("request failed", "method", c.Request().Method, "target", c.Request().RequestURI, "err", err)
		e = simulator.Errorf(simulator.CodeSystemError, "系统错误").With("issue", err.Error())
	}
	c.Set(keyError, e)
	status, ok := statuses[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	if err := s.respondJSON(c, status, errorBody{Code: e.Code, Message: e.Message, Detail: e.Detail}); err != nil {
		s.Logger.Error("write error response", "err", err)
	}
}

// pathHint points at the usual reason a client misses a route: gopay's direct-complete path
// lacks its /v3 prefix.
func pathHint(path string) string {
	if strings.HasPrefix(path, "/payscore/") {
		return " (Pay Score paths start with /v3; did you mean /v3" + path + "?)"
	}
	return ""
}

// respondJSON writes v as a signed JSON response.
func (s *Server) respondJSON(c echo.Context, status int, v any) error {
	body, err := encodeJSON(v)
	if err != nil {
		return err
	}
	return s.respond(c, status, body)
}

// encodeJSON encodes v as WeChat does: <, > and & as they are (Go would escape them), and no
// trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// respond writes body signed like production, unless a fault rule that acts after the work
// (see injectFaults) takes the answer over.
func (s *Server) respond(c echo.Context, status int, body []byte) error {
	if f, ok := c.Get(keyFault).(*simulator.FaultRule); ok && f.AfterWork() {
		return s.answerFault(c, f, status, body)
	}
	return s.write(c, status, body)
}

// write writes body signed like production: every response carries Request-ID and the
// Wechatpay-* headers over "timestamp\nnonce\nbody\n". Error responses are signed too; SDKs
// only check 2xx ones, but the real service signs them all.
func (s *Server) write(c echo.Context, status int, body []byte) error {
	serial, _ := c.Get(keySerial).(string)
	if serial == "" {
		serial = s.Platform.CertSerial
	}
	if err := s.signResponse(c.Response().Header(), serial, body); err != nil {
		return err
	}
	if len(body) == 0 {
		return c.NoContent(status)
	}
	return c.Blob(status, "application/json; charset=utf-8", body)
}

// signResponse sets the Request-ID and Wechatpay-* headers of a response whose body is body,
// signed with the key of serial.
func (s *Server) signResponse(h http.Header, serial string, body []byte) error {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	nonce := wxcrypto.NewNonce()
	sig, err := s.Platform.Sign(serial, wxcrypto.ResponseMessage(ts, nonce, body))
	if err != nil {
		return err
	}
	h.Set("Request-ID", strings.ToUpper(strings.ReplaceAll(uuid.NewString(), "-", ""))+"-0")
	h.Set("Wechatpay-Timestamp", ts)
	h.Set("Wechatpay-Nonce", nonce)
	h.Set("Wechatpay-Signature", sig)
	h.Set("Wechatpay-Serial", serial)
	h.Set("Wechatpay-Signature-Type", wxcrypto.AuthSchema)
	// Production answers in Chinese and says so (payscore-reference.md §9.2).
	h.Set("Content-Language", "zh-CN")
	return nil
}
