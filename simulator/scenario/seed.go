package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// Seed is a seed file: a world to prepare in a simulator at start-up, so QA can open the
// dashboard on it. Orders reach their states through the simulator's own state machine (the
// Service): created, confirmed on a visit, completed, paid, cancelled, or left unconfirmed for
// thirty days, exactly as they would be by clients; nothing is written to the store directly.
type Seed struct {
	Path string
	// Merchants is the merchants section, in the shape of the --config file's; the command,
	// which owns that shape, decodes it (DecodeStrict).
	Merchants *yaml.Node
	// NotifyURL is where the seeded orders' and authorizations' notifications go unless they
	// give their own.
	NotifyURL      string
	Authorizations []*SeedAuthorization
	Orders         []*SeedOrder
}

// SeedAuthorization is a user who authorized a merchant's service (AVAILABLE).
type SeedAuthorization struct {
	Pos     Pos
	MchID   string
	Request simulator.SeedPermissionRequest
}

// SeedOrder is an order to bring to a state.
type SeedOrder struct {
	Pos   Pos
	MchID string
	State string
	// Create is the create request; defaults fill what the file leaves out.
	Create map[string]any
	// Complete holds the complete request's fields, for states past DOING/USER_CONFIRM.
	Complete map[string]any
	// CancelReason is the reason of a REVOKED order's cancel.
	CancelReason string
	// PaidBy is how a DONE order was paid: deduction (Pay Score deducted it) or sync (the
	// merchant collected it and synced).
	PaidBy string
}

// SeedStates are the states a seeded order can be brought to.
var SeedStates = []string{"CREATED", "DOING/USER_CONFIRM", "DOING/MCH_COMPLETE", "DONE", "REVOKED", "EXPIRED"}

// DefaultSeedNotifyURL receives nothing: nothing listens on the discard port, so the seeded
// orders' notifications fail and wait on the retry schedule until a notify_url is given.
const DefaultSeedNotifyURL = "http://127.0.0.1:9/payscore-sim/seed-notifications"

var (
	seedFields          = []string{"merchants", "notify_url", "authorizations", "orders"}
	seedOrderFields     = []string{"merchant", "state", "complete", "cancel_reason", "paid_by"}
	seedCompleteType    = reflect.TypeOf(simulator.CompleteRequest{})
	seedCreateType      = reflect.TypeOf(simulator.CreateOrderRequest{})
	seedPermissionType  = reflect.TypeOf(simulator.SeedPermissionRequest{})
	seedStateNormalized = map[string]string{
		"CREATED": "CREATED", "USER_CONFIRM": "DOING/USER_CONFIRM", "DOING/USER_CONFIRM": "DOING/USER_CONFIRM",
		"MCH_COMPLETE": "DOING/MCH_COMPLETE", "DOING/MCH_COMPLETE": "DOING/MCH_COMPLETE", "USER_PAYING": "DOING/MCH_COMPLETE",
		"DONE": "DONE", "REVOKED": "REVOKED", "EXPIRED": "EXPIRED",
	}
)

// ParseSeed reads a seed file's content; every problem is an *Error with its place.
func ParseSeed(path string, data []byte) (*Seed, error) {
	root, err := readYAML(path, data)
	if err != nil {
		return nil, err
	}
	p := &parser{errList: errList{file: path}, noRefs: true}
	s := &Seed{Path: path, NotifyURL: DefaultSeedNotifyURL}
	if !p.want(root, yaml.MappingNode, "a seed file") {
		return nil, p.err()
	}
	for _, pr := range p.pairs(root) {
		switch pr.key.Value {
		case "merchants":
			if p.want(pr.val, yaml.SequenceNode, "merchants") {
				s.Merchants = resolve(pr.val)
			}
		case "notify_url":
			s.NotifyURL = p.str(pr.val, "notify_url")
		case "authorizations":
			if !p.want(pr.val, yaml.SequenceNode, "authorizations") {
				continue
			}
			for _, n := range resolve(pr.val).Content {
				if a := p.seedAuthorization(n); a != nil {
					s.Authorizations = append(s.Authorizations, a)
				}
			}
		case "orders":
			if !p.want(pr.val, yaml.SequenceNode, "orders") {
				continue
			}
			seen := map[string]int{}
			for _, n := range resolve(pr.val).Content {
				o := p.seedOrder(n)
				if o == nil {
					continue
				}
				key := o.MchID + "/" + text(o.Create["out_order_no"])
				if line, dup := seen[key]; dup {
					p.add(n, "out_order_no %s appears twice (first at line %d)", text(o.Create["out_order_no"]), line)
					continue
				}
				seen[key] = o.Pos.Line
				s.Orders = append(s.Orders, o)
			}
		default:
			p.unknownKey(pr.key, "a seed file", seedFields)
		}
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return s, nil
}

func (p *parser) seedMerchant(n *yaml.Node) string {
	v := p.value(n)
	if v == nil {
		return fixtures.DemoMchID
	}
	return text(v)
}

func (p *parser) seedAuthorization(n *yaml.Node) *SeedAuthorization {
	if !p.want(n, yaml.MappingNode, "an authorization") {
		return nil
	}
	a := &SeedAuthorization{Pos: p.pos(n), MchID: fixtures.DemoMchID}
	fields := fieldsOf(seedPermissionType, "json")
	values := map[string]any{}
	for _, pr := range p.pairs(n) {
		if pr.key.Value == "merchant" {
			a.MchID = p.seedMerchant(pr.val)
			continue
		}
		if _, ok := fields[pr.key.Value]; !ok {
			p.unknownKey(pr.key, "an authorization", append(keys(fields), "merchant"))
			continue
		}
		values[pr.key.Value] = p.value(pr.val)
	}
	if values["openid"] == nil {
		p.add(n, "an authorization needs the openid of the user who authorized")
		return nil
	}
	if err := remarshal(values, &a.Request); err != nil {
		p.add(n, "%v", err)
		return nil
	}
	return a
}

func (p *parser) seedOrder(n *yaml.Node) *SeedOrder {
	if !p.want(n, yaml.MappingNode, "an order") {
		return nil
	}
	o := &SeedOrder{Pos: p.pos(n), MchID: fixtures.DemoMchID, Create: map[string]any{}, PaidBy: "deduction"}
	create := fieldsOf(seedCreateType, "json")
	known := append(keys(create), seedOrderFields...)
	for _, pr := range p.pairs(n) {
		switch name := pr.key.Value; name {
		case "merchant":
			o.MchID = p.seedMerchant(pr.val)
		case "state":
			s := strings.ToUpper(p.str(pr.val, "state"))
			norm, ok := seedStateNormalized[s]
			if !ok {
				p.add(pr.val, "state %q is not one of %s", s, strings.Join(SeedStates, ", "))
			}
			o.State = norm
		case "complete":
			if !p.want(pr.val, yaml.MappingNode, "complete") {
				continue
			}
			fields := fieldsOf(seedCompleteType, "json")
			for _, f := range p.pairs(pr.val) {
				if f.key.Value == "appid" || f.key.Value == "service_id" {
					p.add(f.key, "complete uses the order's appid and service_id; leave %s out", f.key.Value)
					continue
				}
				t, ok := fields[f.key.Value]
				if !ok {
					p.unknownKey(f.key, "complete", keys(fields))
					continue
				}
				p.checkShape(f.val, t, "json", "complete."+f.key.Value)
			}
			o.Complete, _ = p.value(pr.val).(map[string]any)
		case "cancel_reason":
			o.CancelReason = p.str(pr.val, "cancel_reason")
		case "paid_by":
			o.PaidBy = p.str(pr.val, "paid_by")
			if o.PaidBy != "deduction" && o.PaidBy != "sync" {
				p.add(pr.val, "paid_by must be deduction or sync")
			}
		default:
			t, ok := create[name]
			if !ok {
				p.unknownKey(pr.key, "an order", known)
				continue
			}
			p.checkShape(pr.val, t, "json", name)
			o.Create[name] = p.value(pr.val)
		}
	}
	if o.Create["out_order_no"] == nil {
		p.add(n, "a seeded order needs its out_order_no: seeding the file again finds the order by it and leaves it as it is")
		return nil
	}
	if o.State == "" {
		p.add(n, "a seeded order needs a state: one of %s", strings.Join(SeedStates, ", "))
		return nil
	}
	if o.Complete != nil && o.State != "DOING/MCH_COMPLETE" && o.State != "DONE" {
		p.add(n, "complete applies to orders seeded as DOING/MCH_COMPLETE or DONE, not %s", o.State)
	}
	return o
}

// remarshal converts plain values to a request type through JSON, as the API would read them.
func remarshal(v any, into any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, into); err != nil {
		return fmt.Errorf("%v", err)
	}
	return nil
}

// SeedReport says what seeding did.
type SeedReport struct {
	Authorizations int
	// Orders counts the orders seeded, by state; Present those already there.
	Orders                map[string]int
	Present               int
	PresentAuthorizations int
}

func (r SeedReport) String() string {
	n := 0
	var parts []string
	for _, s := range SeedStates {
		if c := r.Orders[s]; c > 0 {
			n += c
			parts = append(parts, fmt.Sprintf("%d %s", c, s))
		}
	}
	out := fmt.Sprintf("%d authorizations, %d orders", r.Authorizations, n)
	if len(parts) > 0 {
		out += " (" + strings.Join(parts, ", ") + ")"
	}
	if r.Present > 0 || r.PresentAuthorizations > 0 {
		out += fmt.Sprintf("; already present: %d authorizations, %d orders", r.PresentAuthorizations, r.Present)
	}
	return out
}

// Apply brings the simulator served by svc to the seed's world: the authorizations, then the
// orders, each through the Service as a client would. An order whose out_order_no the merchant
// already has is left as it is, so seeding a file twice changes nothing.
func (s *Seed) Apply(ctx context.Context, svc *simulator.Service) (SeedReport, error) {
	rep := SeedReport{Orders: map[string]int{}}
	for _, a := range s.Authorizations {
		req := a.Request
		m := svc.Merchants.Merchant(a.MchID)
		if m == nil {
			return rep, s.fail(a.Pos, fmt.Errorf("merchant %s is not a merchant of this simulator: add it under merchants", a.MchID))
		}
		if req.AppID == "" {
			req.AppID = m.AppIDs[0]
		}
		if req.ServiceID == "" {
			req.ServiceID = m.ServiceIDs[0]
		}
		if req.NotifyURL == "" {
			req.NotifyURL = s.NotifyURL
		}
		if p, err := svc.Permissions.FindPermissionByOpenID(ctx, m.MchID, req.AppID, req.ServiceID, req.OpenID); err == nil &&
			p.State == simulator.AuthorizationAvailable && (req.AuthorizationCode == "" || req.AuthorizationCode == p.AuthorizationCode) {
			rep.PresentAuthorizations++
			continue
		}
		if _, err := svc.SeedPermission(ctx, a.MchID, req); err != nil {
			return rep, s.fail(a.Pos, fmt.Errorf("authorize openid %s: %w", req.OpenID, explain(err)))
		}
		rep.Authorizations++
	}
	for _, o := range s.Orders {
		created, err := s.order(ctx, svc, o)
		if err != nil {
			return rep, s.fail(o.Pos, fmt.Errorf("order %s (%s): %w", text(o.Create["out_order_no"]), o.State, err))
		}
		if created {
			rep.Orders[o.State]++
		} else {
			rep.Present++
		}
	}
	return rep, nil
}

func (s *Seed) fail(pos Pos, err error) error {
	return &Error{Pos: pos, Msg: "seed: " + err.Error()}
}

// explain words a simulator error with its detail's issue.
func explain(err error) error {
	var e *simulator.Error
	if errors.As(err, &e) {
		if issue, ok := e.Detail["issue"]; ok && !strings.Contains(e.Message, fmt.Sprint(issue)) {
			return fmt.Errorf("%s %s (%v)", e.Code, e.Message, issue)
		}
		return fmt.Errorf("%s %s", e.Code, e.Message)
	}
	return err
}

// order seeds one order; created is false when it was there already.
func (s *Seed) order(ctx context.Context, svc *simulator.Service, o *SeedOrder) (created bool, err error) {
	m := svc.Merchants.Merchant(o.MchID)
	if m == nil {
		return false, fmt.Errorf("merchant %s is not a merchant of this simulator: add it under merchants", o.MchID)
	}
	no := text(o.Create["out_order_no"])
	if _, err := svc.Orders.FindOrder(ctx, m.MchID, simulator.OrderKey{OutOrderNo: no}); err == nil {
		return false, nil
	} else if simulator.ErrorCode(err) != simulator.CodeOrderNotExist {
		return false, err
	}
	defaults := map[string]any{
		"appid": m.AppIDs[0], "service_id": m.ServiceIDs[0],
		"service_introduction": "共享充电宝租借",
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": 10000, "description": "充电宝预估费用"},
		"time_range":           map[string]any{"start_time": simulator.OnAccept},
		"notify_url":           s.NotifyURL,
	}
	var req simulator.CreateOrderRequest
	if err := remarshal(prune(overlay(defaults, o.Create)), &req); err != nil {
		return false, err
	}
	if o.State == "EXPIRED" {
		return true, s.expired(ctx, svc, m, req)
	}
	ord, err := svc.CreateOrder(ctx, m, req)
	if err != nil {
		return false, fmt.Errorf("create: %w", explain(err))
	}
	step := func(what string, err error) error {
		if err != nil {
			return fmt.Errorf("%s: %w", what, explain(err))
		}
		return nil
	}
	switch o.State {
	case "CREATED":
		return true, nil
	case "REVOKED":
		reason := o.CancelReason
		if reason == "" {
			reason = "用户取消了服务"
		}
		_, err := svc.CancelOrder(ctx, m, no, simulator.CancelRequest{AppID: ord.AppID, ServiceID: ord.ServiceID, Reason: reason})
		return true, step("cancel", err)
	}
	if ord.State == simulator.StateCreated {
		// The user opens the package, confirms, and comes back with the in-page button.
		pkg, _ := json.Marshal(ord.Sim.Package)
		v, err := svc.OpenVisit(ctx, simulator.OpenVisitRequest{
			BusinessType: simulator.BusinessUse, ExtraData: map[string]json.RawMessage{"package": pkg},
		})
		if err != nil {
			return false, step("open the confirmation page", err)
		}
		if _, err := svc.ConfirmVisit(ctx, v.ID); err != nil {
			return false, step("confirm", err)
		}
		if _, err := svc.ReturnVisit(ctx, v.ID); err != nil {
			return false, step("return", err)
		}
	}
	if o.State == "DOING/USER_CONFIRM" {
		return true, nil
	}
	// Completed: awaiting payment, or paid.
	mode := simulator.DeductImmediately
	switch {
	case o.State == "DOING/MCH_COMPLETE":
		mode = simulator.DeductOnPay // the deduction fails until the merchant asks with /pay
	case o.PaidBy == "sync":
		mode = simulator.DeductFail // the merchant collects it itself
	}
	if m.Settings.Deduction != mode && !(mode == simulator.DeductImmediately && m.Settings.Deduction == "") {
		if _, err := svc.SetDeduction(ctx, m.MchID, no, mode); err != nil {
			return false, step("set the deduction mode", err)
		}
	}
	cr, err := s.completeRequest(svc, ord, o.Complete)
	if err != nil {
		return false, err
	}
	ord, err = svc.CompleteOrder(ctx, m, no, cr)
	if err != nil {
		return false, step("complete", err)
	}
	if o.State == "DONE" && ord.State != simulator.StateDone {
		_, err = svc.SyncOrder(ctx, m, no, simulator.SyncRequest{
			AppID: ord.AppID, ServiceID: ord.ServiceID, Type: simulator.SyncTypeOrderPaid,
			Detail: &struct {
				PaidTime string `json:"paid_time"`
			}{PaidTime: simulator.FormatCompact(svc.Clock.Now())},
		})
		return true, step("sync", err)
	}
	return true, nil
}

// completeRequest is the complete call for a seeded order: the file's fields over the order's own
// items, ending now.
func (s *Seed) completeRequest(svc *simulator.Service, ord *simulator.Order, fields map[string]any) (simulator.CompleteRequest, error) {
	var items []any
	for _, p := range ord.PostPayments {
		if p.Amount == nil {
			items = nil
			break
		}
		items = append(items, map[string]any{"name": p.Name, "amount": *p.Amount})
	}
	if _, total := fields["total_amount"]; len(items) == 0 || total {
		items = defaultItems(fields)
	}
	d := map[string]any{
		"appid": ord.AppID, "service_id": ord.ServiceID,
		"post_payments": items,
		"time_range":    map[string]any{"end_time": simulator.FormatCompact(svc.Clock.Now())},
	}
	b := prune(overlay(d, fields))
	withTotal(b, fields)
	var cr simulator.CompleteRequest
	if err := remarshal(b, &cr); err != nil {
		return cr, fmt.Errorf("complete: %w", err)
	}
	return cr, nil
}

// expired creates the order as if thirty days and an hour ago, through a Service whose clock is
// that far behind, then lets the simulator's clock expire it, as it expires every order the user
// never confirmed.
func (s *Seed) expired(ctx context.Context, svc *simulator.Service, m *simulator.Merchant, req simulator.CreateOrderRequest) error {
	past := &simulator.Clock{}
	past.SetOffset(svc.Clock.Offset() - simulator.OrderLifetime - time.Hour)
	if _, err := svc.UsingClock(past).CreateOrder(ctx, m, req); err != nil {
		return fmt.Errorf("create (thirty days ago): %w", explain(err))
	}
	if err := svc.ExpireOrders(ctx); err != nil {
		return fmt.Errorf("expire: %w", err)
	}
	return nil
}
