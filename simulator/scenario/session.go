package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
)

// session is one scenario being played: the simulator it talks to, the names its steps set, and
// the inbox of its notify_url.
type session struct {
	sc     *Scenario
	base   string
	hc     *http.Client
	rcv    *Receiver
	inbox  *inbox
	env    *env
	unique string
	// clock is the scenario's merchant's clock offset, read once per step: a step sees one
	// "now".
	clock   *time.Duration
	order   *orderRef
	counts  map[string]int
	clients map[string]*client.Client
}

// orderRef is the order the scenario works on: the last one created.
type orderRef struct {
	mchid, outOrderNo, appid, serviceID string
}

// Play runs sc's steps in order against the simulator at base and returns the first failure, or
// nil. unique is ${unique}, from which the defaults of ids are numbered; it must differ between
// scenarios that share a simulator. The simulator sends sc's notifications to rcv.
func Play(ctx context.Context, sc *Scenario, base, unique string, hc *http.Client, rcv *Receiver) *Failure {
	s := newSession(sc, base, unique, hc, rcv)
	defer rcv.closeInbox(unique)
	for _, st := range sc.Steps {
		if f := s.step(ctx, st); f != nil {
			return f
		}
	}
	return nil
}

func newSession(sc *Scenario, base, unique string, hc *http.Client, rcv *Receiver) *session {
	s := &session{sc: sc, base: base, hc: hc, rcv: rcv, unique: unique, counts: map[string]int{}, clients: map[string]*client.Client{}}
	m := sc.File.Merchants[sc.Merchant]
	// The scenario's merchant's key first: most notifications are its own.
	apiV3Keys := []string{m.APIv3Key}
	for _, n := range keys(sc.File.Merchants) {
		apiV3Keys = append(apiV3Keys, sc.File.Merchants[n].APIv3Key)
	}
	var notifyURL string
	s.inbox, notifyURL = rcv.open(unique, apiV3Keys)
	s.env = &env{
		vars: map[string]any{
			"unique": unique, "notify_url": notifyURL,
			"mchid": m.MchID, "appid": m.AppID, "service_id": m.ServiceID,
		},
		now: s.simNow,
	}
	return s
}

// step runs one step and checks its response; a failure says where and why.
func (s *session) step(ctx context.Context, st *Step) *Failure {
	s.clock = nil
	a, err := s.action(ctx, st)
	if err != nil {
		return &Failure{Step: st, Pos: st.Pos, Message: err.Error()}
	}
	resp, mm, f := s.attempt(ctx, st, a)
	if f != nil || resp == nil {
		return f
	}
	if mm != nil {
		if st.Eventually > 0 {
			mm.What += fmt.Sprintf(" (still, after %s)", st.Eventually)
		}
		f := &Failure{Step: st, Pos: mm.Pos, What: mm.What, Expected: mm.Expected, Actual: mm.Actual}
		// A wrong status is shown with the response already.
		if mm.What != "status" {
			f.Response = resp.summary()
		}
		return f
	}
	return s.capture(st, resp)
}

// action makes the step's action of its argument: ${...} expanded, the file's defaults under it.
func (s *session) action(ctx context.Context, st *Step) (action, error) {
	k, _ := lookupKind(st.Kind)
	arg, err := s.env.expand(ctx, st.Arg)
	if err != nil {
		return nil, err
	}
	var a args
	if k.arg.mapping {
		m, _ := arg.(map[string]any)
		if d := s.sc.File.Defaults[st.Kind]; d != nil {
			dd, err := s.env.expand(ctx, d)
			if err != nil {
				return nil, fmt.Errorf("defaults.%s: %w", st.Kind, err)
			}
			m = overlay(dd.(map[string]any), m)
		}
		a = args(m)
	} else if arg != nil {
		a = args{k.arg.scalar: arg}
	}
	if a == nil {
		a = args{}
	}
	act := k.newAction()
	return act, act.set(a)
}

// attempt runs the step, again and again while eventually allows and its expectations fail.
func (s *session) attempt(ctx context.Context, st *Step, a action) (*response, *mismatch, *Failure) {
	deadline := time.Now().Add(st.Eventually)
	for {
		resp, err := a.run(ctx, s, st)
		if err != nil {
			return nil, nil, runFailure(st, resp, err)
		}
		if resp == nil {
			return nil, nil, nil
		}
		mm, err := checkResponse(ctx, s.env, st, resp)
		if err != nil {
			return nil, nil, &Failure{Step: st, Pos: st.Pos, Message: err.Error(), Response: resp.summary()}
		}
		if mm == nil || !time.Now().Before(deadline) {
			return resp, mm, nil
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, nil, &Failure{Step: st, Pos: st.Pos, Message: ctx.Err().Error()}
		}
	}
}

// runFailure is a step that could not run, or whose notification did not come as expected.
func runFailure(st *Step, resp *response, err error) *Failure {
	f := &Failure{Step: st, Pos: st.Pos, Message: err.Error()}
	var nf *notificationFailure
	if errors.As(err, &nf) {
		f.Message, f.What, f.Expected, f.Actual = nf.message, nf.what, nf.expected, nf.actual
	}
	if resp != nil {
		f.Response = resp.summary()
	}
	return f
}

// capture keeps the values the step names for later steps.
func (s *session) capture(st *Step, resp *response) *Failure {
	for _, c := range st.Capture {
		v, ok := lookupPath(resp.doc, c.Path)
		if !ok {
			return &Failure{Step: st, Pos: c.Pos, Message: fmt.Sprintf("capture %s: the response has no %s", c.Name, c.Path), Response: resp.summary()}
		}
		s.env.vars[c.Name] = v
	}
	return nil
}

// simNow is the scenario's merchant's time: the real time plus how far its clock was advanced.
func (s *session) simNow(ctx context.Context) (time.Time, error) {
	if s.clock == nil {
		mchid := s.sc.File.Merchants[s.sc.Merchant].MchID
		resp, err := s.control(ctx, http.MethodGet, "/sim/v1/clock?mchid="+url.QueryEscape(mchid), nil)
		if err != nil {
			return time.Time{}, fmt.Errorf("read the simulator's clock: %w", err)
		}
		var c struct {
			Offset float64 `json:"offset_seconds"`
		}
		if resp.status != http.StatusOK || json.Unmarshal(resp.raw, &c) != nil {
			return time.Time{}, fmt.Errorf("read the simulator's clock: %s", resp.summary())
		}
		d := time.Duration(c.Offset * float64(time.Second))
		s.clock = &d
	}
	return time.Now().Add(*s.clock), nil
}

func (s *session) nowCompact(ctx context.Context) (string, error) {
	t, err := s.simNow(ctx)
	if err != nil {
		return "", err
	}
	return simulator.FormatCompact(t), nil
}

// merchant is the merchant a step acts as.
func (s *session) merchant(st *Step) *Merchant {
	if st.As != "" {
		return s.sc.File.Merchants[st.As]
	}
	return s.sc.File.Merchants[s.sc.Merchant]
}

func (s *session) client(m *Merchant) *client.Client {
	if c, ok := s.clients[m.Name]; ok {
		return c
	}
	c := &client.Client{BaseURL: s.base, MchID: m.MchID, Serial: m.Serial, Key: m.Key, Verify: s.rcv.keys, HTTP: s.hc}
	s.clients[m.Name] = c
	return c
}

// numbered counts the steps of a kind and numbers the default id of this one: ${unique} for the
// first, then ${unique}-2, ${unique}-3, ...
func (s *session) numbered(kind string) string {
	s.counts[kind]++
	if n := s.counts[kind]; n > 1 {
		return fmt.Sprintf("%s-%d", s.unique, n)
	}
	return s.unique
}

// api sends a signed APIv3 request as m; the response's signature must verify.
func (s *session) api(ctx context.Context, m *Merchant, method, target string, body any) (*response, error) {
	resp, err := s.client(m).Do(ctx, method, target, body)
	return verified(resp, err, method, target)
}

// control calls the control API (/sim/v1), unsigned; its responses are signed too and checked.
func (s *session) control(ctx context.Context, method, path string, body any) (*response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	c := s.client(s.sc.File.Merchants[s.sc.Merchant])
	req, err := c.NewRequest(ctx, method, path, payload)
	if err != nil {
		return nil, err
	}
	resp, err := c.Send(req)
	return verified(resp, err, method, path)
}

// verified is the client's answer as a step's response. A response whose signature does not
// verify is kept, to show, beside the error that fails the step.
func verified(resp *client.Response, err error, method, path string) (*response, error) {
	if resp == nil {
		return nil, err
	}
	r := newResponse(resp.Status, resp.Header, resp.Body)
	if err != nil {
		return r, fmt.Errorf("%s %s: the response's signature does not verify: %w", method, path, err)
	}
	return r, nil
}

// ids are the appid and service_id a merchant step uses by default: the current order's when it
// is the merchant's, else the merchant's own.
func (s *session) ids(m *Merchant) map[string]any {
	if s.order != nil && s.order.mchid == m.MchID {
		return map[string]any{"appid": s.order.appid, "service_id": s.order.serviceID}
	}
	return map[string]any{"appid": m.AppID, "service_id": m.ServiceID}
}

// orderNo is the out_order_no a step names, else the current order's.
func (s *session) orderNo(a args) (string, error) {
	if no, ok := a.str("out_order_no"); ok {
		return no, nil
	}
	if s.order == nil {
		return "", errors.New("no order yet: create one first, or give out_order_no")
	}
	return s.order.outOrderNo, nil
}

// remember makes the order in a successful create or direct-complete response the current one.
func (s *session) remember(m *Merchant, resp *response) {
	doc, _ := resp.doc.(map[string]any)
	o := &orderRef{mchid: m.MchID}
	o.outOrderNo, _ = doc["out_order_no"].(string)
	o.appid, _ = doc["appid"].(string)
	o.serviceID, _ = doc["service_id"].(string)
	s.order = o
	s.setFrom(doc, "out_order_no", "order_id", "package")
}

// setFrom sets the named variables from a response document, those it has.
func (s *session) setFrom(doc any, names ...string) {
	for _, name := range names {
		if v, ok := lookupPath(doc, name); ok {
			s.env.vars[name] = v
		}
	}
}

// variable is the value a step set earlier under name, as text; missing says which step sets it.
func (s *session) variable(name, missing string) (string, error) {
	v, ok := s.env.vars[name]
	if !ok {
		return "", errors.New(missing)
	}
	return text(v), nil
}
