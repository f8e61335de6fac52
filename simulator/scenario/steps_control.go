package scenario

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// The simulator's control API (what production does on its own), and raw requests.

// orderControlStep reads an order through the control API (no action), or acts on it as the
// user (user-pays).
type orderControlStep struct {
	action string
	args   args
}

func (o *orderControlStep) set(a args) error {
	o.args = a
	return nil
}

func (o *orderControlStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	path, err := s.orderPath(st, o.args)
	if err != nil {
		return nil, err
	}
	if o.action == "" {
		return s.control(ctx, http.MethodGet, path, nil)
	}
	return s.control(ctx, http.MethodPost, path+"/"+o.action, nil)
}

// orderPath is /sim/v1/orders/{mchid}/{out_order_no} of the order a control step names: the
// current order (of whichever merchant made it) unless the step names another, or acts as
// another merchant.
func (s *session) orderPath(st *Step, a args) (string, error) {
	no, err := s.orderNo(a)
	if err != nil {
		return "", err
	}
	mchid := s.merchant(st).MchID
	if _, named := a["out_order_no"]; !named && st.As == "" && s.order != nil {
		mchid = s.order.mchid
	}
	return "/sim/v1/orders/" + url.PathEscape(mchid) + "/" + url.PathEscape(no), nil
}

// deductionStep sets how Pay Score's deduction of an order will go: its mode and, to keep a
// deduction in flight, its delay.
type deductionStep struct {
	args args
}

func (d *deductionStep) set(a args) error {
	d.args = a
	return nil
}

func (d *deductionStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	path, err := s.orderPath(st, d.args)
	if err != nil {
		return nil, err
	}
	body := map[string]any(d.args.without("out_order_no"))
	if v, ok := body["delay"]; ok {
		// The scenario's durations (30d) sent as Go writes them, which the control API reads.
		delay, err := parseDuration(text(v))
		if err != nil {
			return nil, err
		}
		body["delay"] = delay.String()
	}
	return s.control(ctx, http.MethodPost, path+"/deduction", body)
}

// durationStep is the common part of the steps that take a duration.
type durationStep struct {
	d time.Duration
}

func (d *durationStep) set(a args) error {
	var err error
	d.d, err = parseDuration(text(a["duration"]))
	return err
}

// advanceClockStep moves the scenario's merchant's clock forward, for what takes time: expiry,
// retries. Other merchants' clocks stay.
type advanceClockStep struct{ durationStep }

func (c *advanceClockStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	return s.control(ctx, http.MethodPost, "/sim/v1/clock/advance", map[string]any{"mchid": s.merchant(st).MchID, "duration": c.d.String()})
}

// sleepStep waits in real time.
type sleepStep struct{ durationStep }

func (c *sleepStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	t := time.NewTimer(c.d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// rawStep sends any request, signed or deliberately not, for what the other steps cannot say.
type rawStep struct {
	method, path string
	payload      []byte
	sign         string
	headers      map[string]any
}

func (r *rawStep) set(a args) error {
	*r = rawStep{}
	r.path, _ = a.str("path")
	if r.path == "" {
		return errors.New("raw needs a path, such as /v3/payscore/serviceorder")
	}
	if t, ok := a.str("body_text"); ok {
		r.payload = []byte(t)
	} else if b, ok := a["body"]; ok {
		var err error
		if r.payload, err = json.Marshal(b); err != nil {
			return err
		}
	}
	r.method, _ = a.str("method")
	if r.method == "" {
		r.method = http.MethodGet
		if r.payload != nil {
			r.method = http.MethodPost
		}
	}
	r.sign, _ = a.str("sign")
	if r.sign == "" || r.sign == "auto" {
		// The merchant API is signed; the control API and pages are not.
		r.sign = "none"
		if strings.HasPrefix(r.path, "/v3/") {
			r.sign = "valid"
		}
	}
	r.headers, _ = a["headers"].(map[string]any)
	return nil
}

func (r *rawStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	if st.Eventually > 0 && r.method != http.MethodGet {
		return nil, fmt.Errorf("eventually repeats a step, so it applies to GET requests only, not %s", r.method)
	}
	m := s.merchant(st)
	c := s.client(m)
	req, err := c.NewRequest(ctx, r.method, r.path, r.payload)
	if err != nil {
		return nil, err
	}
	if r.sign != "none" {
		auth, err := authorization(s.sc.File, m, r.sign, r.method, r.path, r.payload)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", auth)
	}
	for k, v := range r.headers {
		if v == nil {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, text(v))
		}
	}
	resp, err := c.Send(req)
	return verified(resp, err, r.method, r.path)
}

// authorization makes the Authorization header a raw step asks for: valid, or wrong in one
// particular way.
func authorization(f *File, m *Merchant, mode, method, target string, body []byte) (string, error) {
	now := time.Now()
	key := m.Key
	switch mode {
	case "malformed":
		return wxcrypto.AuthSchema + " mchid=" + m.MchID + ",signature=oops", nil
	case "stale":
		now = now.Add(-10 * time.Minute)
	case "bad":
		// A signature of something else than what is sent.
		target += "?tampered=1"
	case "wrong_key":
		// Another merchant's key, under this merchant's serial.
		for _, n := range keys(f.Merchants) {
			if other := f.Merchants[n]; other.Key != nil && !other.Key.Equal(m.Key) {
				key = other.Key
				break
			}
		}
	}
	return wxcrypto.Authorize(m.MchID, m.Serial, key, method, target, body, now)
}

// randomAlnum is a random string of letters and digits, as nonces are.
func randomAlnum(n int) string {
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, n)
	for i := range b {
		k, _ := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		b[i] = alphabet[k.Int64()]
	}
	return string(b)
}

// faultStep sets a fault rule (POST /sim/v1/faults) for the scenario's merchant (or as:'s):
// its next matching requests fail as production sometimes does, or its next refunds end
// ABNORMAL or CLOSED.
type faultStep struct{ apiStep }

func (f *faultStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	return s.control(ctx, http.MethodPost, "/sim/v1/faults", body(map[string]any{"mchid": s.merchant(st).MchID}, f.args))
}
