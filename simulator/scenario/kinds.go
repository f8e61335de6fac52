package scenario

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// action is what a step does. Each kind of step is a small type that implements it: its fields
// are the step's arguments, which set reads when the step runs (${...} expanded, the file's
// defaults laid under them), and run does the step.
type action interface {
	set(a args) error
	run(ctx context.Context, s *session, st *Step) (*response, error)
}

// kind is one row of the step table: a step's name, the argument the parser accepts, what the
// common fields may do with it, and the type that runs it.
type kind struct {
	name  string
	usage string
	arg   argShape
	// response: the step has a response to expect things of and capture from.
	response bool
	// merchant: the step acts as a merchant, so `as:` applies.
	merchant bool
	// reads: the step changes nothing, so `eventually:` may repeat it.
	reads bool
	// newAction makes a fresh action for one run of the step.
	newAction func() action
}

// argShape is how a step's argument is written.
type argShape struct {
	// mapping: the argument is a mapping of fields. scalar names the field a single value fills
	// instead (for kinds that take no mapping, what the value is).
	mapping  bool
	scalar   string
	required bool
	fields   []string
	// body is a zero value of the API body the step's other fields are, checked field by field
	// against its Go type.
	body any
	// checks check fields (and the scalar) as written; ${...} is let through, to be checked
	// when the step runs.
	checks map[string]func(any) error
}

func (a argShape) bodyFields() map[string]reflect.Type {
	if a.body == nil {
		return nil
	}
	return fieldsOf(reflect.TypeOf(a.body), "json")
}

// The shapes most steps share.
var (
	orderNoArg  = argShape{mapping: true, scalar: "out_order_no", fields: []string{"out_order_no"}}
	visitArg    = argShape{mapping: true, scalar: "visit_id", fields: []string{"visit_id"}}
	durationArg = argShape{scalar: "duration", required: true, checks: map[string]func(any) error{"duration": durationCheck}}
)

// apiBody is the shape of a merchant API call's argument: the fields of its body, and those the
// step reads itself.
func apiBody(body any, fields ...string) argShape {
	return argShape{mapping: true, body: body, fields: append([]string{"extra"}, fields...)}
}

// kinds is the step table, in the order fixtures/README.md documents the steps. Adding a step is
// one type that implements action and one row here. Nothing writes to it after initialization.
var kinds = []kind{
	// The merchant's API (signed APIv3 calls).
	{name: "create", usage: "fields of the create body, over defaults", arg: apiBody(simulator.CreateOrderRequest{}),
		response: true, merchant: true, newAction: func() action { return &createStep{} }},
	{name: "query", usage: "{out_order_no} (default: the current order) or {query_id}, and appid, service_id",
		arg:      argShape{mapping: true, fields: []string{"out_order_no", "query_id", "appid", "service_id"}},
		response: true, merchant: true, reads: true, newAction: func() action { return &queryStep{} }},
	orderActionKind("cancel", simulator.CancelRequest{}),
	orderActionKind("complete", simulator.CompleteRequest{}),
	orderActionKind("modify", simulator.ModifyRequest{}),
	orderActionKind("pay", simulator.PayRequest{}),
	orderActionKind("sync", simulator.SyncRequest{}),
	{name: "direct_complete", usage: "fields of the direct-complete body, over defaults", arg: apiBody(simulator.DirectCompleteRequest{}),
		response: true, merchant: true, newAction: func() action { return &directCompleteStep{} }},
	{name: "apply_permissions", usage: "fields of the pre-authorization body (POST /v3/payscore/permissions)",
		arg: apiBody(simulator.ApplyPermissionRequest{}), response: true, merchant: true, newAction: func() action { return &applyPermissionsStep{} }},
	{name: "query_permission", usage: "{authorization_code} (default: the current one) or {openid}, and service_id, appid",
		arg:      argShape{mapping: true, fields: []string{"authorization_code", "openid", "service_id", "appid"}},
		response: true, merchant: true, reads: true, newAction: func() action { return &permissionStep{} }},
	{name: "terminate_permission", usage: "{authorization_code} (default: the current one) or {openid}, and service_id, appid, reason",
		arg:      argShape{mapping: true, fields: []string{"authorization_code", "openid", "service_id", "appid", "reason", "extra"}},
		response: true, merchant: true, newAction: func() action { return &permissionStep{terminate: true} }},
	{name: "raw", usage: "{method, path, body or body_text, headers, sign: auto|valid|none|bad|stale|malformed|wrong_key}",
		arg: argShape{mapping: true, required: true, fields: []string{"method", "path", "body", "body_text", "headers", "sign"},
			checks: map[string]func(any) error{"sign": oneOf(rawSigns...)}},
		response: true, merchant: true, reads: true, newAction: func() action { return &rawStep{} }},

	// The user, in the Pay Score mini-program (the control API's visits).
	{name: "open_visit", usage: "{businessType: use|detail|enable, form: extraData|queryString|navigate, sign: none|apiv2|apiv3|md5|wrong, extraData: {...}, openid, invoker_appid}",
		arg: argShape{mapping: true, fields: []string{"businessType", "form", "sign", "extraData", "queryString", "appId", "path", "openid", "invoker_appid"},
			checks: map[string]func(any) error{"form": oneOf(visitForms...), "sign": oneOf(frontendSigns...)}},
		response: true, merchant: true, newAction: func() action { return &openVisitStep{} }},
	userKind("confirm"),
	visitKind("decline"),
	visitKind("not_eligible"),
	visitKind("return"),
	visitKind("back"),
	visitKind("android_back"),
	{name: "get_visit", usage: "a visit_id (default: the last visit opened), or {visit_id}", arg: visitArg,
		response: true, reads: true, newAction: func() action { return &visitStep{} }},
	userKind("authorize"),

	// The simulator's control API: what production does on its own, or lets no client do.
	{name: "revoke_permission", usage: "an authorization_code (default: the current one), or {authorization_code, service_id}",
		arg:      argShape{mapping: true, scalar: "authorization_code", fields: []string{"authorization_code", "service_id"}},
		response: true, merchant: true, newAction: func() action { return &revokePermissionStep{} }},
	{name: "seed_permission", usage: "{openid, appid, service_id, authorization_code, notify_url}",
		arg:      argShape{mapping: true, body: simulator.SeedPermissionRequest{}},
		response: true, merchant: true, newAction: func() action { return &seedPermissionStep{} }},
	{name: "deduction", usage: "immediate, fail or on_pay, or {mode, delay, out_order_no}",
		arg: argShape{mapping: true, scalar: "mode", required: true, fields: []string{"mode", "delay", "out_order_no"},
			checks: map[string]func(any) error{"mode": oneOf(deductionModes...), "delay": durationCheck}},
		response: true, merchant: true, newAction: func() action { return &deductionStep{} }},
	{name: "user_pays", usage: "nothing (the current order), an out_order_no, or {out_order_no}", arg: orderNoArg,
		response: true, merchant: true, newAction: func() action { return &orderControlStep{action: "user-pays"} }},
	{name: "get_order", usage: "nothing (the current order), an out_order_no, or {out_order_no}", arg: orderNoArg,
		response: true, merchant: true, reads: true, newAction: func() action { return &orderControlStep{} }},
	{name: "fault", usage: "{operation, fault, times, delay, out_order_no, before_commit}: the merchant's next requests fail (or, with refund_abnormal or refund_closed, its next refunds end so)",
		arg: argShape{mapping: true, required: true, fields: []string{"operation", "fault", "times", "delay", "out_order_no", "before_commit"}, checks: map[string]func(any) error{
			"operation": oneOf(names(simulator.FaultOperations)...), "fault": oneOf(names(simulator.FaultKinds)...),
		}},
		response: true, merchant: true, newAction: func() action { return &faultStep{} }},
	{name: "advance_clock", usage: "a duration: 90s, 61m, 30d", arg: durationArg,
		response: true, newAction: func() action { return &advanceClockStep{} }},
	{name: "sleep", usage: "a duration: 500ms, 2s", arg: durationArg, newAction: func() action { return &sleepStep{} }},

	// Refunds of deductions: the domestic refund API, and the control API's outcome.
	{name: "refund", usage: "fields of the refund body over defaults (the whole of the current order's last deduction), and out_order_no",
		arg: apiBody(simulator.CreateRefundRequest{}, "out_order_no"), response: true, merchant: true, newAction: func() action { return &refundStep{} }},
	{name: "query_refund", usage: "an out_refund_no (default: the last refund), or {out_refund_no}",
		arg:      argShape{mapping: true, scalar: "out_refund_no", fields: []string{"out_refund_no"}},
		response: true, merchant: true, reads: true, newAction: func() action { return &queryRefundStep{} }},
	{name: "apply_abnormal_refund", usage: "fields of the apply-abnormal-refund body, and refund_id (default: the last refund, to the merchant's bank card)",
		arg: apiBody(simulator.ApplyAbnormalRefundRequest{}, "refund_id"), response: true, merchant: true, newAction: func() action { return &applyAbnormalRefundStep{} }},
	{name: "refund_outcome", usage: "SUCCESS, ABNORMAL or CLOSED, or {status, out_refund_no}",
		arg: argShape{mapping: true, scalar: "status", required: true, fields: []string{"status", "out_refund_no"},
			checks: map[string]func(any) error{"status": oneOf(refundOutcomes...)}},
		response: true, merchant: true, newAction: func() action { return &refundOutcomeStep{} }},

	// The merchant's notification endpoint (the runner's receiver).
	{name: "receiver", usage: "{fail: N, status: 500}: answer the next N notifications with status",
		arg: argShape{mapping: true, required: true, fields: []string{"fail", "status"}}, newAction: func() action { return &receiverStep{} }},
	{name: "expect_notification", usage: "an event type, or {event_type, within: 5s, out_order_no, attempts, resource: {...}}",
		arg: argShape{mapping: true, scalar: "event_type", required: true, fields: []string{"event_type", "within", "out_order_no", "attempts", "resource"},
			checks: map[string]func(any) error{"event_type": eventTypeCheck, "within": durationCheck}},
		response: true, newAction: func() action { return &expectNotificationStep{} }},
	{name: "expect_no_notification", usage: "an event type, or {event_type, for: 1s}",
		arg: argShape{mapping: true, scalar: "event_type", required: true, fields: []string{"event_type", "for"},
			checks: map[string]func(any) error{"event_type": eventTypeCheck, "for": durationCheck}},
		newAction: func() action { return &expectNoNotificationStep{} }},
	{name: "resend_notification", usage: "a notification id (default: the last one expected), or {id}",
		arg:      argShape{mapping: true, scalar: "id", fields: []string{"id"}},
		response: true, newAction: func() action { return &resendNotificationStep{} }},
}

// orderActionKind is cancel, complete, modify, pay or sync: a POST to
// /v3/payscore/serviceorder/{out_order_no}/{name}.
func orderActionKind(name string, body any) kind {
	return kind{name: name, usage: "fields of the " + name + " body, and out_order_no", arg: apiBody(body, "out_order_no"),
		response: true, merchant: true, newAction: func() action { return &orderActionStep{action: name} }}
}

// visitKind is the user pressing a button of the Pay Score page.
func visitKind(name string) kind {
	return kind{name: name, usage: "a visit_id (default: the last visit opened), or {visit_id}", arg: visitArg,
		response: true, newAction: func() action { return &visitStep{action: name} }}
}

// userKind is the user pressing a button of the Pay Score page as an openid (by default the
// visit's user).
func userKind(name string) kind {
	return kind{name: name, usage: "a visit_id, or {visit_id, openid}",
		arg:      argShape{mapping: true, scalar: "visit_id", fields: []string{"visit_id", "openid"}},
		response: true, newAction: func() action { return &userStep{action: name} }}
}

// lookupKind finds a step kind by name.
func lookupKind(name string) (*kind, bool) {
	for i := range kinds {
		if kinds[i].name == name {
			return &kinds[i], true
		}
	}
	return nil, false
}

// kindNames lists the steps, sorted, for messages.
func kindNames() []string {
	names := make(map[string]bool, len(kinds))
	for _, k := range kinds {
		names[k.name] = true
	}
	return keys(names)
}

// The values of the enumerated arguments.
var (
	rawSigns       = []string{"auto", "valid", "none", "bad", "stale", "malformed", "wrong_key"}
	visitForms     = []string{"extraData", "queryString", "navigate"}
	frontendSigns  = []string{"none", "apiv2", "apiv3", "md5", "wrong"}
	deductionModes = names(simulator.DeductionModes)
	refundOutcomes = []string{"SUCCESS", "ABNORMAL", "CLOSED"}
)

// names lists a domain enum's values as strings.
func names[T ~string](set []T) []string {
	out := make([]string, len(set))
	for i, v := range set {
		out[i] = string(v)
	}
	return out
}

// eventTypeCheck refuses an event the simulator never sends, with or without the PAYSCORE.
// prefix, so that expect_no_notification cannot pass on a typo.
func eventTypeCheck(v any) error {
	s, _ := v.(string)
	if strings.Contains(s, "${") {
		return nil
	}
	if _, err := simulator.ParseEventType("event_type", eventType(s)); err != nil {
		return fmt.Errorf("%s is not one of %s (the PAYSCORE. prefix may be left out)", show(v), strings.Join(names(simulator.EventTypes), ", "))
	}
	return nil
}

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if ok && strings.Contains(s, "${") {
			return nil
		}
		if contains(allowed, s) {
			return nil
		}
		return fmt.Errorf("%s is not one of %s", show(v), strings.Join(allowed, ", "))
	}
}

func durationCheck(v any) error {
	s := text(v)
	if strings.Contains(s, "${") {
		return nil
	}
	_, err := parseDuration(s)
	return err
}

// args are a step's arguments as it runs: ${...} expanded, over the file's defaults.
type args map[string]any

// str returns a field as a string, and whether it was given (a null counts as given).
func (a args) str(key string) (string, bool) {
	v, ok := a[key]
	if !ok {
		return "", false
	}
	return text(v), true
}

// without is a copy of a without the named fields: those a step reads itself, not sent.
func (a args) without(names ...string) args {
	out := make(args, len(a))
	for k, v := range a {
		out[k] = v
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// apiStep is the common part of the steps whose argument is an API body or query: it keeps the
// arguments, to lay over the step's defaults when it runs.
type apiStep struct {
	args args
}

func (s *apiStep) set(a args) error {
	s.args = a
	return nil
}
