package http

import (
	"net"
	"net/http"
	"time"
)

// Connection limits. Without them a client that opens connections and sends nothing holds a
// file descriptor each for as long as it likes: about 20,000 exhausted the process's, and
// /healthz stopped answering. The timeouts close what stalls; the cap bounds what is open at
// once, and at the cap a new connection takes the place of the one that has waited longest
// without a request in progress (new, or idle between keep-alive requests), so that a flood of
// idle connections cannot keep /healthz, or any client that sends its request, out.
const (
	// DefaultMaxConnections is the default cap on open connections.
	DefaultMaxConnections = 512
	// readHeaderTimeout bounds how long a client may take to send a request's headers.
	readHeaderTimeout = 10 * time.Second
	// readTimeout bounds reading a whole request, body included (1 MiB at most).
	readTimeout = 30 * time.Second
	// writeTimeout bounds a request from its headers to the end of its answer; the slowest
	// answers (a dashboard page of a big database) take well under a second.
	writeTimeout = time.Minute
	// idleTimeout closes a keep-alive connection that sends no further request.
	idleTimeout = 2 * time.Minute
)

// connInfo is what the server knows of an open connection.
type connInfo struct {
	state http.ConnState
	since time.Time // when it entered state
}

// newHTTPServer is the http.Server that serves s, with its timeouts.
func (s *Server) newHTTPServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		ConnState:         s.trackConn,
	}
}

// trackConn keeps the open connections and their states, enforces the cap, and closes a new
// connection at once once Close has begun.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch state {
	case http.StateNew:
		if s.closing {
			c.Close()
			return
		}
		if len(s.conns) >= s.maxConns() && !s.evictWaiting() {
			// Every connection is busy with a request: this one waits for nothing.
			c.Close()
			return
		}
		s.conns[c] = &connInfo{state: state, since: time.Now()}
	case http.StateActive, http.StateIdle:
		if info := s.conns[c]; info != nil {
			info.state, info.since = state, time.Now()
		}
	default: // closed or hijacked
		delete(s.conns, c)
	}
}

// evictWaiting closes the connection that has waited longest without a request in progress,
// and reports whether there was one. s.mu is held.
func (s *Server) evictWaiting() bool {
	var oldest net.Conn
	var since time.Time
	for c, info := range s.conns {
		if info.state != http.StateActive && (oldest == nil || info.since.Before(since)) {
			oldest, since = c, info.since
		}
	}
	if oldest == nil {
		return false
	}
	oldest.Close()
	// net/http reports it closed later; it no longer counts.
	delete(s.conns, oldest)
	return true
}

func (s *Server) maxConns() int {
	if s.MaxConnections > 0 {
		return s.MaxConnections
	}
	return DefaultMaxConnections
}
