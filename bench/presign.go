package bench

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// Signed is a request signed before the measurement that sends it. Signing costs the client
// about as much CPU as the server spends on a call, so a load generator that signs in its loop
// takes half of a 2-core machine from the server and hides the server's share of the cost.
// The signature covers the method, target, timestamp, nonce and body, not the host, so one
// Signed can go to the simulator and to the floor alike. It stays valid for the ±5 minutes the
// server allows between a request's timestamp and its clock.
type Signed struct {
	Method, Target string
	Body           []byte
	Authorization  string
}

// Presign signs n requests as c's merchant, req(i) for i in 0..n-1, on every core.
func Presign(c *client.Client, n int, req func(i int) (method, target string, body []byte)) ([]Signed, error) {
	out := make([]Signed, n)
	workers := min(runtime.GOMAXPROCS(0), max(n, 1))
	errs := make([]error, workers)
	now := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				s := &out[i]
				s.Method, s.Target, s.Body = req(i)
				var err error
				if s.Authorization, err = wxcrypto.Authorize(c.MchID, c.Serial, c.Key, s.Method, s.Target, s.Body, now); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// PresignCreates signs n creates, of OrderNo(prefix, from+i) for i in 0..n-1.
func PresignCreates(c *client.Client, prefix string, from, n int) ([]Signed, error) {
	now := time.Now()
	return Presign(c, n, func(i int) (string, string, []byte) {
		return http.MethodPost, CreatePath, CreateBody(OrderNo(prefix, from+i), now)
	})
}

// PresignQueries signs n queries, of order(i) for i in 0..n-1.
func PresignQueries(c *client.Client, n int, order func(i int) string) ([]Signed, error) {
	return Presign(c, n, func(i int) (string, string, []byte) {
		return http.MethodGet, QueryTarget(order(i)), nil
	})
}

// Replay sends pre-signed requests to one server and keeps its answers, whose signatures Check
// verifies after the measurement, so that the measured loop does no RSA at all.
type Replay struct {
	send   client.Client // without response verification
	verify *client.Client
	reqs   []Signed
	resps  []*client.Response
}

// NewReplay sends reqs to c's server; c's Verify keys check the answers afterwards.
func NewReplay(c *client.Client, reqs []Signed) *Replay {
	r := &Replay{send: *c, verify: c, reqs: reqs, resps: make([]*client.Response, len(reqs))}
	r.send.Verify = nil
	return r
}

// Call returns a call for Drive and Compare: call(i) sends the i-th request and checks that
// it was answered 200. Each i must be sent once.
func (r *Replay) Call(ctx context.Context) func(i int) error {
	return func(i int) error {
		s := r.reqs[i]
		req, err := r.send.NewRequest(ctx, s.Method, s.Target, s.Body)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", s.Authorization)
		resp, err := r.send.Send(req)
		if err != nil {
			return err
		}
		r.resps[i] = resp
		if resp.Status != http.StatusOK {
			return fmt.Errorf("%s %s: status %d: %s", s.Method, s.Target, resp.Status, resp.Body)
		}
		return nil
	}
}

// Check verifies the signature of every answer received, as an SDK would have on receipt.
func (r *Replay) Check() error {
	for i, resp := range r.resps {
		if resp == nil {
			continue
		}
		if err := r.verify.VerifyResponse(resp); err != nil {
			return fmt.Errorf("answer %d to %s %s: %w", i, r.reqs[i].Method, r.reqs[i].Target, err)
		}
	}
	return nil
}
