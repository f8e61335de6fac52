package scenario

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

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
	State SeedState
	// Create is the create request; defaults fill what the file leaves out.
	Create map[string]any
	// Complete holds the complete request's fields, for states past DOING/USER_CONFIRM.
	Complete map[string]any
	// CancelReason is the reason of a REVOKED order's cancel.
	CancelReason string
	// PaidBy is how a DONE order was paid.
	PaidBy PaidBy
	// Refunds are refunds of a DONE order's deduction, in the order they were made.
	Refunds []*SeedRefund
}

// SeedState is a state a seeded order is brought to: an order state, with the state description
// where one state has several (DOING).
type SeedState string

// The states a seeded order can be brought to.
const (
	SeedCreated     SeedState = "CREATED"
	SeedConfirmed   SeedState = "DOING/USER_CONFIRM"
	SeedAwaitingPay SeedState = "DOING/MCH_COMPLETE"
	SeedDone        SeedState = "DONE"
	SeedRevoked     SeedState = "REVOKED"
	SeedExpired     SeedState = "EXPIRED"
)

// SeedStates are the seed states, in the order an order passes them.
var SeedStates = []SeedState{SeedCreated, SeedConfirmed, SeedAwaitingPay, SeedDone, SeedRevoked, SeedExpired}

// seedStateNames are the names a seed file may write, case aside: the states, and the state
// descriptions (and USER_PAYING, the collection state of an order awaiting payment) alone.
var seedStateNames = map[string]SeedState{
	"CREATED": SeedCreated, "USER_CONFIRM": SeedConfirmed, "DOING/USER_CONFIRM": SeedConfirmed,
	"MCH_COMPLETE": SeedAwaitingPay, "DOING/MCH_COMPLETE": SeedAwaitingPay, "USER_PAYING": SeedAwaitingPay,
	"DONE": SeedDone, "REVOKED": SeedRevoked, "EXPIRED": SeedExpired,
}

// ParseSeedState reads a seed state; an unknown one is an error that lists the states.
func ParseSeedState(s string) (SeedState, error) {
	if st, ok := seedStateNames[strings.ToUpper(s)]; ok {
		return st, nil
	}
	return "", fmt.Errorf("state %q is not %s", strings.ToUpper(s), seedStateList())
}

// seedStateList is "one of" the seed states, for messages.
func seedStateList() string {
	names := make([]string, len(SeedStates))
	for i, st := range SeedStates {
		names[i] = string(st)
	}
	return "one of " + strings.Join(names, ", ")
}

// completed is whether the order is completed (by the merchant) in this state.
func (s SeedState) completed() bool { return s == SeedAwaitingPay || s == SeedDone }

// PaidBy is how a DONE order was paid.
type PaidBy string

const (
	// PaidByDeduction: Pay Score deducted it (the default).
	PaidByDeduction PaidBy = "deduction"
	// PaidBySync: the merchant collected it itself and synced the order.
	PaidBySync PaidBy = "sync"
)

// ParsePaidBy reads how an order was paid.
func ParsePaidBy(s string) (PaidBy, error) {
	switch p := PaidBy(s); p {
	case PaidByDeduction, PaidBySync:
		return p, nil
	}
	return "", fmt.Errorf("paid_by must be %s or %s, not %q", PaidByDeduction, PaidBySync, s)
}

// DefaultSeedNotifyURL receives nothing: nothing listens on the discard port, so the seeded
// orders' notifications fail and wait on the retry schedule until a notify_url is given.
const DefaultSeedNotifyURL = "http://127.0.0.1:9/payscore-sim/seed-notifications"

var (
	seedFields         = []string{"merchants", "notify_url", "authorizations", "orders"}
	seedOrderFields    = []string{"merchant", "state", "complete", "cancel_reason", "paid_by", "refunds"}
	seedCompleteType   = reflect.TypeOf(simulator.CompleteRequest{})
	seedCreateType     = reflect.TypeOf(simulator.CreateOrderRequest{})
	seedPermissionType = reflect.TypeOf(simulator.SeedPermissionRequest{})
)

// isSeed tells a seed file from a scenario file: a mapping of seed sections, and no scenarios.
// Loading a folder of fixtures uses it to skip the seed files it holds.
func isSeed(data []byte) bool {
	var root map[string]yaml.Node
	if yaml.Unmarshal(data, &root) != nil || len(root) == 0 {
		return false
	}
	if _, ok := root["scenarios"]; ok {
		return false
	}
	seedOnly := false
	for k := range root {
		if !contains(seedFields, k) {
			return false
		}
		// merchants is a section of both kinds of file.
		seedOnly = seedOnly || k != "merchants"
	}
	return seedOnly
}

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
			s.Authorizations = p.seedAuthorizations(pr.val)
		case "orders":
			s.Orders = p.seedOrders(pr.val)
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

func (p *parser) seedAuthorizations(n *yaml.Node) []*SeedAuthorization {
	if !p.want(n, yaml.SequenceNode, "authorizations") {
		return nil
	}
	var out []*SeedAuthorization
	for _, item := range resolve(n).Content {
		if a := p.seedAuthorization(item); a != nil {
			out = append(out, a)
		}
	}
	return out
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

// seedOrders reads the orders; an out_order_no may appear once per merchant, as it identifies
// the order when the file is seeded again.
func (p *parser) seedOrders(n *yaml.Node) []*SeedOrder {
	if !p.want(n, yaml.SequenceNode, "orders") {
		return nil
	}
	var out []*SeedOrder
	seen := map[string]int{}
	for _, item := range resolve(n).Content {
		o := p.seedOrder(item)
		if o == nil {
			continue
		}
		no := text(o.Create["out_order_no"])
		if line, dup := seen[o.MchID+"/"+no]; dup {
			p.add(item, "out_order_no %s appears twice (first at line %d)", no, line)
			continue
		}
		seen[o.MchID+"/"+no] = o.Pos.Line
		out = append(out, o)
	}
	return out
}

func (p *parser) seedOrder(n *yaml.Node) *SeedOrder {
	if !p.want(n, yaml.MappingNode, "an order") {
		return nil
	}
	o := &SeedOrder{Pos: p.pos(n), MchID: fixtures.DemoMchID, Create: map[string]any{}, PaidBy: PaidByDeduction}
	for _, pr := range p.pairs(n) {
		p.seedOrderField(o, pr)
	}
	if o.Create["out_order_no"] == nil {
		p.add(n, "a seeded order needs its out_order_no: seeding the file again finds the order by it and leaves it as it is")
		return nil
	}
	if o.State == "" {
		p.add(n, "a seeded order needs a state: %s", seedStateList())
		return nil
	}
	if o.Complete != nil && !o.State.completed() {
		p.add(n, "complete applies to orders seeded as %s or %s, not %s", SeedAwaitingPay, SeedDone, o.State)
	}
	p.checkRefunds(n, o)
	return o
}

// seedOrderField reads one field of an order: its own fields, or a field of the create body.
func (p *parser) seedOrderField(o *SeedOrder, pr pair) {
	var err error
	switch name := pr.key.Value; name {
	case "merchant":
		o.MchID = p.seedMerchant(pr.val)
	case "state":
		if o.State, err = ParseSeedState(p.str(pr.val, "state")); err != nil {
			p.add(pr.val, "%v", err)
		}
	case "complete":
		o.Complete = p.seedComplete(pr.val)
	case "cancel_reason":
		o.CancelReason = p.str(pr.val, "cancel_reason")
	case "paid_by":
		if o.PaidBy, err = ParsePaidBy(p.str(pr.val, "paid_by")); err != nil {
			p.add(pr.val, "%v", err)
		}
	case "refunds":
		o.Refunds = p.seedRefunds(pr.val)
	default:
		create := fieldsOf(seedCreateType, "json")
		t, ok := create[name]
		if !ok {
			p.unknownKey(pr.key, "an order", append(keys(create), seedOrderFields...))
			return
		}
		p.checkShape(pr.val, t, "json", name)
		o.Create[name] = p.value(pr.val)
	}
}

// seedComplete reads the fields of an order's complete request.
func (p *parser) seedComplete(n *yaml.Node) map[string]any {
	if !p.want(n, yaml.MappingNode, "complete") {
		return nil
	}
	fields := fieldsOf(seedCompleteType, "json")
	for _, f := range p.pairs(n) {
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
	m, _ := p.value(n).(map[string]any)
	return m
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
