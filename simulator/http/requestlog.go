package http

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// The request log keeps every APIv3 request with its answer, so that a developer can read at
// /sim/v1/requests why one was refused. It is bounded: the store keeps a retention in rows and
// bytes (simulator.RequestRetention); a body is kept once, up to loggedBodyBytes, and the
// diagnostic's signed_string, which repeats it, up to loggedDiagBytes; requests that name no
// merchant the simulator knows (anyone's junk) are logged at most unauthenticatedRate a second.
const (
	loggedBodyBytes = 64 << 10
	loggedDiagBytes = 4 << 10
	// unauthenticatedRate and unauthenticatedBurst bound the junk logged: far more than a
	// developer's failing calls, far less than a flood.
	unauthenticatedRate  = 10
	unauthenticatedBurst = 100
)

// logRequests is the middleware of every APIv3 route that logs the request with its answer.
// It holds the answer back until the record is written, so that a client that reads the log
// right after its call finds the call there.
func (s *Server) logRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		res := c.Response()
		held := &heldResponse{ResponseWriter: res.Writer, status: http.StatusOK}
		res.Writer = held
		defer func() { res.Writer = held.ResponseWriter }()
		if err := next(c); err != nil {
			// echo workaround: echo answers a returned error after the middleware has returned,
			// where this one could not log the answer; c.Error answers it here, and returning
			// nil keeps echo from answering twice.
			c.Error(err)
		}
		if dropped, _ := c.Get(keyDropped).(bool); dropped {
			// A reset fault closed the connection: no answer to send, logged as status 0.
			s.logRequest(c, start, 0, nil)
			return nil
		}
		s.logRequest(c, start, held.status, held.body.Bytes())
		return held.send()
	}
}

// heldResponse holds an answer's status and body until send.
type heldResponse struct {
	http.ResponseWriter
	status int
	body   bytes.Buffer
}

func (h *heldResponse) WriteHeader(status int)      { h.status = status }
func (h *heldResponse) Write(b []byte) (int, error) { return h.body.Write(b) }

// Unwrap lets http.ResponseController reach the connection, which a reset fault hijacks.
func (h *heldResponse) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *heldResponse) send() error {
	h.ResponseWriter.WriteHeader(h.status)
	_, err := h.ResponseWriter.Write(h.body.Bytes())
	return err
}

// logRequest records a request as it is answered with status and body.
func (s *Server) logRequest(c echo.Context, start time.Time, status int, body []byte) {
	r := c.Request()
	rec := &simulator.RequestRecord{
		Time: start, Method: r.Method, Target: r.RequestURI,
		Status: status, ResponseBody: truncated(string(body), loggedBodyBytes), Duration: time.Since(start),
	}
	authenticated := merchantOf(c) != nil
	if authenticated {
		rec.MchID = merchantOf(c).MchID
	} else if auth, err := wxcrypto.ParseAuthorization(r.Header.Get("Authorization")); err == nil && s.Merchants.Merchant(auth.MchID) != nil {
		// A known merchant's failing call: what the log is for.
		rec.MchID, authenticated = auth.MchID, true
	}
	if !authenticated {
		dropped, ok := s.junk.allow(start)
		if !ok {
			return
		}
		if dropped > 0 {
			rec.Warnings = append(rec.Warnings, fmt.Sprintf(
				"%d requests that named no merchant of this simulator came before this one and were not logged (more than %d a second)", dropped, unauthenticatedRate))
		}
	}
	if b, ok := c.Get(keyBody).([]byte); ok {
		rec.RequestBody = truncated(string(b), loggedBodyBytes)
	}
	if e, ok := c.Get(keyError).(*simulator.Error); ok {
		rec.Code, rec.Message, rec.Diagnostic = e.Code, e.Message, loggedDiagnostic(e.Detail)
		if rec.Diagnostic["signed_string"] != e.Detail["signed_string"] {
			// The answer repeats the diagnostic: keep it as sent, but with the same cut.
			if b, err := json.Marshal(errorBody{Code: e.Code, Message: e.Message, Detail: rec.Diagnostic}); err == nil {
				rec.ResponseBody = string(b)
			}
		}
	}
	w, _ := c.Get(keyWarnings).([]string)
	rec.Warnings = append(rec.Warnings, w...)
	if f, ok := c.Get(keyFault).(*simulator.FaultRule); ok {
		rec.Fault = f.Injected()
	}
	// A client that gave up (a delay fault outlasting its timeout) is still logged.
	if err := s.Requests.LogRequest(context.WithoutCancel(r.Context()), rec); err != nil {
		s.Logger.Error("log request", "target", r.RequestURI, "err", err)
	}
}

// loggedDiagnostic is detail with its signed_string cut: past its first lines (method,
// target, timestamp, nonce) it repeats the request body, which the record keeps already.
func loggedDiagnostic(detail map[string]any) map[string]any {
	ss, ok := detail["signed_string"].(string)
	if !ok || len(ss) <= loggedDiagBytes {
		return detail
	}
	out := make(map[string]any, len(detail))
	for k, v := range detail {
		out[k] = v
	}
	out["signed_string"] = truncated(ss, loggedDiagBytes)
	return out
}

// truncated is s cut to at most n bytes (at a rune's start) and marked as cut.
func truncated(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("…[payscore-sim: cut here; %d bytes in all]", len(s))
}

// junkLimiter is a token bucket for the log's unauthenticated records.
type junkLimiter struct {
	mu      sync.Mutex
	tokens  float64
	last    time.Time
	dropped int
}

// allow takes a token at now; when it gets one it also returns how many were refused since the
// last it gave.
func (l *junkLimiter) allow(now time.Time) (dropped int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.last.IsZero() {
		l.tokens = unauthenticatedBurst
	} else {
		l.tokens = min(unauthenticatedBurst, l.tokens+now.Sub(l.last).Seconds()*unauthenticatedRate)
	}
	l.last = now
	if l.tokens < 1 {
		l.dropped++
		return 0, false
	}
	l.tokens--
	dropped, l.dropped = l.dropped, 0
	return dropped, true
}
