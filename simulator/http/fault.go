package http

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// injectFaults returns the middleware that lets the fault rules of op (set through
// POST /sim/v1/faults) fail an authenticated API request. A rule that acts before the work
// answers in its place; one that acts after it (a committed 500, a delay, a reset after
// commit) is left in the context for respond, which every answer passes through. While no
// rule exists the middleware costs one atomic load (see simulator.BenchmarkFaultsTakeNoRule).
func (s *Server) injectFaults(op simulator.FaultOperation) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !s.Service.Faults.Any() {
				return next(c)
			}
			f := s.Service.Faults.Take(merchantOf(c).MchID, op, orderNoOf(c))
			if f == nil {
				return next(c)
			}
			c.Set(keyFault, f)
			switch {
			case f.AfterWork():
				return next(c)
			case f.Fault == simulator.FaultReset:
				return s.dropConnection(c, f, "before any work was done")
			default:
				return f.Error()
			}
		}
	}
}

// orderNoOf is the out_order_no a request names: in its path, its query or its JSON body; ""
// when it names none. It runs only while fault rules exist.
func orderNoOf(c echo.Context) string {
	if no, err := pathParam(c, "out_order_no"); err == nil && no != "" {
		return no
	}
	if no := c.QueryParam("out_order_no"); no != "" {
		return no
	}
	var body struct {
		OutOrderNo string `json:"out_order_no"`
	}
	if b, ok := c.Get(keyBody).([]byte); ok {
		// A body that does not decode names no order; the handler words its error.
		_ = json.Unmarshal(b, &body)
	}
	return body.OutOrderNo
}

// answerFault answers a request whose work is done, with status and body, as fault rule f
// says: a 500 in the answer's place, the answer late, or no answer at all.
func (s *Server) answerFault(c echo.Context, f *simulator.FaultRule, status int, body []byte) error {
	switch f.Fault {
	case simulator.FaultDelay:
		t := time.NewTimer(f.DelayDuration())
		defer t.Stop()
		// A client that gives up first closes the connection, which ends the request's context.
		select {
		case <-t.C:
		case <-c.Request().Context().Done():
		case <-s.stopping:
		}
		return s.write(c, status, body)
	case simulator.FaultReset:
		return s.dropConnection(c, f, fmt.Sprintf("after the work was committed (the answer would have been %d)", status))
	}
	e := f.Error().With("committed_status", status)
	c.Set(keyError, e)
	errBody, err := encodeJSON(errorBody{Code: e.Code, Message: e.Message, Detail: e.Detail})
	if err != nil {
		return err
	}
	return s.write(c, http.StatusInternalServerError, errBody)
}

// dropConnection closes the request's TCP connection without an answer, as a reset by a
// network device between merchant and WeChat would; logRequests logs it as status 0.
func (s *Server) dropConnection(c echo.Context, f *simulator.FaultRule, when string) error {
	conn, _, err := http.NewResponseController(c.Response()).Hijack()
	if err != nil {
		// Served without a connection of its own (ServeHTTP on a recorder): answer instead.
		c.Set(keyFault, nil)
		return fmt.Errorf("fault rule %s: take over the connection: %w", f.ID, err)
	}
	c.Set(keyDropped, true)
	c.Set(keyError, &simulator.Error{Message: "连接已断开", Detail: map[string]any{
		"issue": fmt.Sprintf("fault rule %s closed the connection without an answer, %s", f.ID, when),
	}})
	return abort(conn)
}

// abort closes conn with a TCP reset rather than an orderly close, so that the client reads
// "connection reset by peer" as from a real network failure.
func abort(conn net.Conn) error {
	var tcp *net.TCPConn
	switch c := conn.(type) {
	case *errorRewriteConn:
		tcp, _ = c.Conn.(*net.TCPConn)
	case *net.TCPConn:
		tcp = c
	}
	if tcp != nil {
		// Linger 0 makes Close send RST; failing that, Close still ends the connection.
		_ = tcp.SetLinger(0)
	}
	if err := conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("close the connection: %w", err)
	}
	return nil
}
