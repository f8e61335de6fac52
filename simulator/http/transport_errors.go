package http

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// net/http answers a request it cannot parse by itself, before any handler runs: a malformed
// request line or header line, a path whose percent-encoding is broken or that holds a control
// character, headers over 1 MiB, a missing Host, an unknown Transfer-Encoding or Expect. It
// writes a plain-text status, a 501 or 505 among them. Every answer of the simulator is
// WeChat-shaped, signed and never a 5xx, so the server's connections recognise those canned
// answers, exactly as net/http writes them, and send a signed PARAM_ERROR in their place.

// netHTTPErrorHeaders are the headers of net/http's canned error answers (net/http/server.go).
const netHTTPErrorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"

// expectationFailed starts net/http's answer to an Expect header other than 100-continue; no
// handler of the simulator answers 417.
const expectationFailed = "HTTP/1.1 417 Expectation Failed\r\n"

// errorRewriteListener hands out connections that rewrite net/http's canned error answers.
type errorRewriteListener struct {
	net.Listener
	s *Server
}

func (l errorRewriteListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &errorRewriteConn{Conn: c, s: l.s}, nil
}

type errorRewriteConn struct {
	net.Conn
	s *Server
}

func (c *errorRewriteConn) Write(b []byte) (int, error) {
	status, text, ok := netHTTPError(b)
	if !ok {
		return c.Conn.Write(b)
	}
	resp, err := c.s.transportError(status, text)
	if err != nil {
		c.s.Logger.Error("sign transport error answer", "err", err)
		return c.Conn.Write(b)
	}
	if _, err := c.Conn.Write(resp); err != nil {
		return 0, err
	}
	return len(b), nil
}

// CloseWrite lets net/http half-close the connection after an error, as it does with a bare
// TCP connection, so that the client reads the answer before the connection is reset.
func (c *errorRewriteConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return nil
}

// netHTTPError recognises a canned error answer of net/http and returns its status and text.
// It matches the whole write, so a handler's answer is never taken for one.
func netHTTPError(b []byte) (status int, text string, ok bool) {
	const proto = "HTTP/1.1 "
	// The canned answers are short and written whole, in one Write.
	if len(b) > 512 || !bytes.HasPrefix(b, []byte(proto)) {
		return 0, "", false
	}
	if bytes.HasPrefix(b, []byte(expectationFailed)) && bytes.HasSuffix(b, []byte("\r\nContent-Length: 0\r\n\r\n")) {
		return http.StatusExpectationFailed, "Expectation Failed", true
	}
	i := bytes.Index(b, []byte(netHTTPErrorHeaders))
	if i < 0 {
		return 0, "", false
	}
	line, body := string(b[len(proto):i]), string(b[i+len(netHTTPErrorHeaders):])
	if len(line) < 4 || line[3] != ' ' || strings.Contains(line, "\n") {
		return 0, "", false
	}
	code, err := strconv.Atoi(line[:3])
	switch {
	case err != nil:
		return 0, "", false
	case line == body:
		return code, line[4:], true
	case code == http.StatusNotImplemented && body == "Unsupported transfer encoding":
		return code, body, true
	}
	return 0, "", false
}

// transportError is the signed PARAM_ERROR answer that replaces net/http's canned status
// (keeping a 4xx status, 400 for a 5xx) with what the client must change.
func (s *Server) transportError(status int, text string) ([]byte, error) {
	message, issue := "请求格式错误", "the request is not valid HTTP/1.1 and was refused before it reached the API: "+text
	switch {
	case status == http.StatusRequestHeaderFieldsTooLarge:
		message, issue = "请求头过大", "the request's headers exceed the 1 MiB the simulator accepts"
	case status == http.StatusExpectationFailed:
		issue = "the Expect header asks for something other than 100-continue, the only expectation the simulator meets"
	case status == http.StatusNotImplemented:
		issue = "the request's Transfer-Encoding is not supported: send the body with Content-Length, or with Transfer-Encoding: chunked"
	case status == http.StatusHTTPVersionNotSupported:
		issue = "the request's protocol version is not supported: send HTTP/1.1"
	case text == "Bad Request":
		issue = "the request line or a header line is malformed, so the request was refused before it reached the API. " +
			"Common causes: broken percent-encoding in the path (every % must start %XX; a literal % is %25), " +
			"a control character such as NUL in the path or query, a header line without a colon, " +
			"or a repeated Host or Content-Length header"
	}
	if status >= 500 {
		status = http.StatusBadRequest
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(errorBody{Code: simulator.CodeParamError, Message: message,
		Detail: map[string]any{"location": "request", "issue": issue}}); err != nil {
		return nil, err
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	h := http.Header{}
	if err := s.signResponse(h, s.Platform.CertSerial, body); err != nil {
		return nil, err
	}
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Connection", "close")
	h.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	var resp bytes.Buffer
	fmt.Fprintf(&resp, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	if err := h.Write(&resp); err != nil {
		return nil, err
	}
	resp.WriteString("\r\n")
	resp.Write(body)
	s.Logger.Info("refused a request net/http could not parse", "status", status, "text", text)
	return resp.Bytes(), nil
}
