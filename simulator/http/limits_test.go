package http_test

// Tests of the server's limits (issue 15): a flood of connections that send nothing, and
// bodies larger than any endpoint takes, the dashboard's forms included. Each is bounded in
// count, stays on loopback, and must leave the simulator answering. Package-level names in this
// file start with limits.

import (
	"bytes"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestConnectionFloodKeepsHealthz holds four times the connection cap open without sending a
// byte, as the flood of issue 15 did, and checks that /healthz and a signed API call still
// answer, and that the simulator closed the connections beyond its cap.
func TestConnectionFloodKeepsHealthz(t *testing.T) {
	t.Parallel()
	const limit = 32
	sim := simtest.Start(t, app.Options{MaxConnections: limit})
	addr := strings.TrimPrefix(sim.URL, "http://")
	var flood []net.Conn
	t.Cleanup(func() {
		for _, c := range flood {
			c.Close()
		}
	})
	for range 4 * limit {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial: %v", err)
		}
		flood = append(flood, c)
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for range 3 {
		resp, err := client.Get(sim.URL + "/healthz")
		if err != nil {
			t.Fatalf("/healthz under a flood of %d idle connections (cap %d): %v", len(flood), limit, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("/healthz under a flood: %d", resp.StatusCode)
		}
	}
	if st := corsOrderState(t, sim, "FLOOD-NONE"); st != "" {
		t.Fatalf("a query under the flood found %q", st)
	}
	// The oldest idle connections were closed: reading them ends at once, with EOF.
	closed, deadline := 0, time.Now().Add(time.Second)
	for _, c := range flood {
		c.SetReadDeadline(deadline)
		if _, err := c.Read(make([]byte, 1)); err != nil && !isTimeout(err) {
			closed++
		}
	}
	if closed < len(flood)-limit {
		t.Errorf("%d of %d idle connections were closed; at a cap of %d, want at least %d", closed, len(flood), limit, len(flood)-limit)
	}
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}

// limitsCounter counts the bytes the client sent of a body.
type limitsCounter struct {
	n    atomic.Int64
	left int64
}

func (c *limitsCounter) Read(p []byte) (int, error) {
	if c.left <= 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), c.left)
	clear(p[:n])
	c.left -= n
	c.n.Add(n)
	return int(n), nil
}

// TestBodyLimits sends 64 MiB bodies, announced and chunked, to a dashboard form, the control
// API and the APIv3: each is refused without the server reading it all.
func TestBodyLimits(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	const size = 64 << 20
	var form bytes.Buffer
	mw := multipart.NewWriter(&form)
	mw.WriteField("duration", "1h")
	// A file field of 64 MiB follows, as in the attack.
	mw.CreateFormFile("file", "zeros.bin")
	for _, path := range []string{"/dashboard/clock/advance", "/sim/v1/visits", "/v3/payscore/serviceorder"} {
		for _, chunked := range []bool{false, true} {
			body := &limitsCounter{left: size}
			req, _ := http.NewRequest(http.MethodPost, sim.URL+path, io.MultiReader(bytes.NewReader(form.Bytes()), body))
			req.Header.Set("Content-Type", mw.FormDataContentType())
			if !chunked {
				req.ContentLength = int64(form.Len()) + size
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode < 400 || resp.StatusCode >= 500 {
					t.Errorf("POST %s with %d MiB (chunked %v): %d %s, want a 4xx", path, size>>20, chunked, resp.StatusCode, b)
				}
			}
			// The server may close the connection before the client sees the answer; either
			// way it must not have read the whole body.
			if sent := body.n.Load(); sent >= size {
				t.Errorf("POST %s (chunked %v): the client sent all %d MiB; the server should stop reading at 1 MiB", path, chunked, size>>20)
			}
		}
	}
	// The form's duration came before the cut: the refused form must not have advanced the clock.
	if status, clock := pageControl(t, sim, http.MethodGet, "/sim/v1/clock", nil); status != http.StatusOK || clock["offset_seconds"] != float64(0) {
		t.Errorf("the clock after the refused forms: %d %v, want offset 0", status, clock)
	}
	resp, err := http.Get(sim.URL + "/healthz")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz after the large bodies: %v %v", err, resp)
	}
	resp.Body.Close()
}
