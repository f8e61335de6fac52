package scenario

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/client"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// kindSpec describes a step kind: the argument it takes and how it runs.
type kindSpec struct {
	usage string
	// mapping: the argument is a mapping of fields. scalar names the field a single value
	// fills instead (for kinds that take no mapping, what the value is).
	mapping  bool
	scalar   string
	required bool
	fields   []string
	// body is the Go type of the API body the step's fields are, checked field by field.
	body       reflect.Type
	fieldCheck map[string]func(any) error
	check      func(any) error
	// response: the step has a response to expect things of and capture from.
	response bool
	// merchantStep: the step acts as a merchant, so `as:` applies.
	merchantStep bool
	// reads: the step changes nothing, so `eventually:` may repeat it.
	reads bool
	run   func(x *run, ctx context.Context, st *Step, arg any) (*response, error)
}

var kinds map[string]*kindSpec

func init() {
	orderFields := []string{"out_order_no", "extra"}
	api := func(usage string, body any, fields []string, fn func(*run, context.Context, *Step, map[string]any) (*response, error)) *kindSpec {
		k := &kindSpec{usage: usage, mapping: true, fields: fields, response: true, merchantStep: true, run: mapRun(fn)}
		if body != nil {
			k.body = reflect.TypeOf(body)
		}
		return k
	}
	visit := func(action string) *kindSpec {
		return &kindSpec{usage: "a visit_id (default: the last visit opened), or {visit_id}", mapping: true, scalar: "visit_id",
			fields: []string{"visit_id"}, response: true,
			run: mapRun(func(x *run, ctx context.Context, st *Step, a map[string]any) (*response, error) {
				return x.visitAction(ctx, a, action)
			})}
	}
	defer func() {
		for _, k := range []string{"query", "query_permission", "get_visit", "get_order", "raw"} {
			kinds[k].reads = true
		}
	}()
	kinds = map[string]*kindSpec{
		"create": api("fields of the create body, over defaults", simulator.CreateOrderRequest{}, []string{"extra"}, (*run).create),
		"query": api("{out_order_no} (default: the current order) or {query_id}, and appid, service_id",
			nil, []string{"out_order_no", "query_id", "appid", "service_id"}, (*run).query),
		"cancel":          api("fields of the cancel body, and out_order_no", simulator.CancelRequest{}, orderFields, orderAction("cancel")),
		"complete":        api("fields of the complete body, and out_order_no", simulator.CompleteRequest{}, orderFields, orderAction("complete")),
		"modify":          api("fields of the modify body, and out_order_no", simulator.ModifyRequest{}, orderFields, orderAction("modify")),
		"pay":             api("fields of the pay body, and out_order_no", simulator.PayRequest{}, orderFields, orderAction("pay")),
		"sync":            api("fields of the sync body, and out_order_no", simulator.SyncRequest{}, orderFields, orderAction("sync")),
		"direct_complete": api("fields of the direct-complete body, over defaults", simulator.DirectCompleteRequest{}, []string{"extra"}, (*run).directComplete),
		"apply_permissions": api("fields of the pre-authorization body (POST /v3/payscore/permissions)",
			simulator.ApplyPermissionRequest{}, []string{"extra"}, (*run).applyPermissions),
		"query_permission": api("{authorization_code} (default: the current one) or {openid}, and service_id, appid",
			nil, []string{"authorization_code", "openid", "service_id", "appid"}, (*run).queryPermission),
		"terminate_permission": api("{authorization_code} (default: the current one) or {openid}, and service_id, appid, reason",
			nil, []string{"authorization_code", "openid", "service_id", "appid", "reason", "extra"}, (*run).terminatePermission),
		"raw": {usage: "{method, path, body or body_text, headers, sign: auto|valid|none|bad|stale|malformed|wrong_key}", mapping: true, required: true,
			fields: []string{"method", "path", "body", "body_text", "headers", "sign"}, response: true, merchantStep: true,
			fieldCheck: map[string]func(any) error{"sign": oneOf("auto", "valid", "none", "bad", "stale", "malformed", "wrong_key")},
			run:        mapRun((*run).raw)},
		"open_visit": {usage: "{businessType: use|detail|enable, form: extraData|queryString|navigate, sign: none|apiv2|apiv3|md5|wrong, extraData: {...}}", mapping: true,
			fields: []string{"businessType", "form", "sign", "extraData", "queryString", "appId", "path"}, response: true, merchantStep: true,
			fieldCheck: map[string]func(any) error{
				"form": oneOf("extraData", "queryString", "navigate"),
				"sign": oneOf("none", "apiv2", "apiv3", "md5", "wrong"),
			},
			run: mapRun((*run).openVisit)},
		"confirm":   visit("confirm"),
		"return":    visit("return"),
		"back":      visit("back"),
		"get_visit": visit(""),
		"authorize": {usage: "a visit_id, or {visit_id, openid}", mapping: true, scalar: "visit_id",
			fields: []string{"visit_id", "openid"}, response: true, run: mapRun((*run).authorize)},
		"revoke_permission": {usage: "an authorization_code (default: the current one), or {authorization_code, service_id}", mapping: true, scalar: "authorization_code",
			fields: []string{"authorization_code", "service_id"}, response: true, merchantStep: true, run: mapRun((*run).revokePermission)},
		"seed_permission": {usage: "{openid, appid, service_id, authorization_code, notify_url}", mapping: true,
			body: reflect.TypeOf(simulator.SeedPermissionRequest{}), response: true, merchantStep: true, run: mapRun((*run).seedPermission)},
		"deduction": {usage: "immediate, fail or on_pay, or {mode, out_order_no}", mapping: true, scalar: "mode", required: true,
			fields: []string{"mode", "out_order_no"}, response: true, merchantStep: true,
			fieldCheck: map[string]func(any) error{"mode": oneOf("immediate", "fail", "on_pay")},
			check:      oneOf("immediate", "fail", "on_pay"),
			run:        mapRun((*run).deduction)},
		"user_pays": {usage: "nothing (the current order), an out_order_no, or {out_order_no}", mapping: true, scalar: "out_order_no",
			fields: []string{"out_order_no"}, response: true, merchantStep: true, run: mapRun(orderControl("user-pays", http.MethodPost))},
		"get_order": {usage: "nothing (the current order), an out_order_no, or {out_order_no}", mapping: true, scalar: "out_order_no",
			fields: []string{"out_order_no"}, response: true, merchantStep: true, run: mapRun(orderControl("", http.MethodGet))},
		"advance_clock": {usage: "a duration: 90s, 61m, 30d", scalar: "duration", required: true, check: durationCheck, response: true, run: (*run).advanceClock},
		"sleep":         {usage: "a duration: 500ms, 2s", scalar: "duration", required: true, check: durationCheck, run: (*run).sleep},
		"receiver": {usage: "{fail: N, status: 500}: answer the next N notifications with status", mapping: true, required: true,
			fields: []string{"fail", "status"}, run: mapRun((*run).receiver)},
		"expect_notification": {usage: "an event type, or {event_type, within: 5s, out_order_no, attempts, resource: {...}}", mapping: true, scalar: "event_type", required: true,
			fields: []string{"event_type", "within", "out_order_no", "attempts", "resource"}, response: true,
			fieldCheck: map[string]func(any) error{"within": durationCheck}, run: mapRun((*run).expectNotification)},
		"expect_no_notification": {usage: "an event type, or {event_type, for: 1s}", mapping: true, scalar: "event_type", required: true,
			fields: []string{"event_type", "for"}, fieldCheck: map[string]func(any) error{"for": durationCheck},
			run: mapRun((*run).expectNoNotification)},
		"resend_notification": {usage: "a notification id (default: the last one expected), or {id}", mapping: true, scalar: "id",
			fields: []string{"id"}, response: true, run: mapRun((*run).resendNotification)},
	}
}

func mapRun(fn func(*run, context.Context, *Step, map[string]any) (*response, error)) func(*run, context.Context, *Step, any) (*response, error) {
	return func(x *run, ctx context.Context, st *Step, arg any) (*response, error) {
		m, _ := arg.(map[string]any)
		if m == nil {
			m = map[string]any{}
		}
		return fn(x, ctx, st, m)
	}
}

func oneOf(allowed ...string) func(any) error {
	return func(v any) error {
		s, ok := v.(string)
		if ok && strings.Contains(s, "${") {
			return nil
		}
		for _, a := range allowed {
			if s == a {
				return nil
			}
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

// run is one scenario being run.
type run struct {
	r       *Runner
	sc      *Scenario
	base    string
	hc      *http.Client
	rcv     *receiver
	inbox   *inbox
	inboxID string
	env     *env
	ctx     context.Context
	unique  string
	// clock is the simulator's time offset for the current step, once asked.
	clock   *time.Duration
	order   *orderRef
	counts  map[string]int
	clients map[string]*client.Client
}

// orderRef is the order the scenario works on: the last one created.
type orderRef struct {
	mchid, outOrderNo, appid, serviceID string
}

func newRun(r *Runner, sc *Scenario, unique, base string, hc *http.Client, rcv *receiver) *run {
	x := &run{r: r, sc: sc, base: base, hc: hc, rcv: rcv, unique: unique, counts: map[string]int{}, clients: map[string]*client.Client{}}
	m := sc.File.Merchants[sc.Merchant]
	apiV3Keys := []string{m.APIv3Key}
	for _, n := range keys(sc.File.Merchants) {
		apiV3Keys = append(apiV3Keys, sc.File.Merchants[n].APIv3Key)
	}
	x.inboxID = unique
	var notifyURL string
	x.inbox, notifyURL = rcv.open(unique, apiV3Keys)
	x.env = &env{
		vars: map[string]any{
			"unique": unique, "notify_url": notifyURL,
			"mchid": m.MchID, "appid": m.AppID, "service_id": m.ServiceID,
		},
		now: x.simNow,
	}
	return x
}

// simNow is the simulator's time: the real time plus how far its clock was advanced.
func (x *run) simNow() (time.Time, error) {
	if x.clock == nil {
		resp, err := x.control(x.ctx, http.MethodGet, "/sim/v1/clock", nil)
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
		x.clock = &d
	}
	return time.Now().Add(*x.clock), nil
}

func (x *run) nowCompact() (string, error) {
	t, err := x.simNow()
	if err != nil {
		return "", err
	}
	return simulator.FormatCompact(t), nil
}

// merchant is the merchant a step acts as.
func (x *run) merchant(st *Step) *Merchant {
	if st.As != "" {
		return x.sc.File.Merchants[st.As]
	}
	return x.sc.File.Merchants[x.sc.Merchant]
}

func (x *run) client(m *Merchant) *client.Client {
	if c, ok := x.clients[m.Name]; ok {
		return c
	}
	c := &client.Client{BaseURL: x.base, MchID: m.MchID, Serial: m.Serial, Key: m.Key, Verify: x.rcv.keys, HTTP: x.hc}
	x.clients[m.Name] = c
	return c
}

// next counts the steps of a kind, for numbering defaults: 1, 2, ...
func (x *run) next(kind string) int {
	x.counts[kind]++
	return x.counts[kind]
}

// numbered is ${unique} for the first of a kind, then ${unique}-2, ${unique}-3, ...
func (x *run) numbered(n int) string {
	if n == 1 {
		return x.unique
	}
	return fmt.Sprintf("%s-%d", x.unique, n)
}

// api sends a signed APIv3 request as m; the response's signature must verify.
func (x *run) api(ctx context.Context, m *Merchant, method, target string, body any) (*response, error) {
	resp, err := x.client(m).Do(ctx, method, target, body)
	if resp == nil {
		return nil, err
	}
	r := newResponse(resp.Status, resp.Header, resp.Body)
	if err != nil {
		return r, fmt.Errorf("%s %s: the response's signature does not verify: %w", method, target, err)
	}
	return r, nil
}

// control calls the control API (/sim/v1), unsigned; its responses are signed too and checked.
func (x *run) control(ctx context.Context, method, path string, body any) (*response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, err
		}
	}
	c := x.client(x.sc.File.Merchants[x.sc.Merchant])
	req, err := c.NewRequest(ctx, method, path, payload)
	if err != nil {
		return nil, err
	}
	resp, err := c.Send(req)
	if resp == nil {
		return nil, err
	}
	r := newResponse(resp.Status, resp.Header, resp.Body)
	if err != nil {
		return r, fmt.Errorf("%s %s: the response's signature does not verify: %w", method, path, err)
	}
	return r, nil
}

// prune removes the nulls a step used to remove defaults.
func prune(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		switch v := v.(type) {
		case nil:
		case map[string]any:
			out[k] = prune(v)
		default:
			out[k] = v
		}
	}
	return out
}

// body lays the step's fields over defaults, drops nulls, then adds the step's extra fields
// (sent as they are, nulls included).
func body(defaults, args map[string]any) map[string]any {
	extra, _ := args["extra"].(map[string]any)
	args = without(args, "extra")
	b := prune(overlay(defaults, args))
	for k, v := range extra {
		b[k] = v
	}
	return b
}

func without(m map[string]any, names ...string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// str returns a field as a string, and whether it was given (a null counts as given).
func str(m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok {
		return "", false
	}
	return text(v), true
}

// ids are the appid and service_id a merchant step uses by default: the current order's when it
// is the merchant's, else the merchant's own.
func (x *run) ids(m *Merchant) map[string]any {
	if x.order != nil && x.order.mchid == m.MchID {
		return map[string]any{"appid": x.order.appid, "service_id": x.order.serviceID}
	}
	return map[string]any{"appid": m.AppID, "service_id": m.ServiceID}
}

// orderNo is the out_order_no a step names, else the current order's.
func (x *run) orderNo(args map[string]any) (string, error) {
	if no, ok := str(args, "out_order_no"); ok {
		return no, nil
	}
	if x.order == nil {
		return "", errors.New("no order yet: create one first, or give out_order_no")
	}
	return x.order.outOrderNo, nil
}

// remember makes the order in a successful create or direct-complete response the current one.
func (x *run) remember(m *Merchant, resp *response) {
	doc, _ := resp.doc.(map[string]any)
	o := &orderRef{mchid: m.MchID}
	o.outOrderNo, _ = doc["out_order_no"].(string)
	o.appid, _ = doc["appid"].(string)
	o.serviceID, _ = doc["service_id"].(string)
	x.order = o
	for _, name := range []string{"out_order_no", "order_id", "package"} {
		if v, ok := doc[name]; ok {
			x.env.vars[name] = v
		}
	}
}

// defaultItems are the post_payments a completing step sends when it names none: one item of
// amount total, or 200 fen.
func defaultItems(args map[string]any) []any {
	amount := any(int64(200))
	if t, ok := args["total_amount"]; ok && t != nil {
		amount = t
	}
	return []any{map[string]any{"name": "租借费", "amount": amount, "description": "按时长计费"}}
}

// withTotal sets total_amount to post_payments minus post_discounts, unless the step gave one.
func withTotal(b, args map[string]any) {
	if _, given := args["total_amount"]; given {
		return
	}
	total := new(big.Rat)
	for _, list := range []struct {
		key  string
		sign int
	}{{"post_payments", 1}, {"post_discounts", -1}} {
		items, _ := b[list.key].([]any)
		for _, item := range items {
			m, _ := item.(map[string]any)
			a, ok := number(m["amount"])
			if !ok {
				if _, has := m["amount"]; has {
					return // not a number: leave total_amount to the step
				}
				continue
			}
			if list.sign < 0 {
				a.Neg(a)
			}
			total.Add(total, a)
		}
	}
	if total.IsInt() {
		b["total_amount"] = total.Num().Int64()
	}
}

func (x *run) create(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	d := map[string]any{
		"out_order_no":         x.numbered(x.next("create")),
		"appid":                m.AppID,
		"service_id":           m.ServiceID,
		"service_introduction": "共享充电宝租借",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": int64(200), "description": "每小时 2 元"}},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": int64(10000), "description": "充电宝预估费用"},
		"time_range":           map[string]any{"start_time": simulator.OnAccept},
		"notify_url":           x.env.vars["notify_url"],
	}
	if nuc, ok := args["need_user_confirm"].(bool); ok && !nuc {
		if openid, ok := x.env.vars["openid"]; ok {
			d["openid"] = openid
		}
	}
	resp, err := x.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder", body(d, args))
	if err == nil && resp.ok() {
		x.remember(m, resp)
	}
	return resp, err
}

func (x *run) directComplete(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	now, err := x.simNow()
	if err != nil {
		return nil, err
	}
	d := map[string]any{
		"out_order_no":         x.numbered(x.next("create")),
		"appid":                m.AppID,
		"service_id":           m.ServiceID,
		"service_introduction": "共享充电宝租借",
		"time_range": map[string]any{
			"start_time": simulator.FormatCompact(now.Add(-time.Hour)),
			"end_time":   simulator.FormatCompact(now),
		},
		"notify_url": x.env.vars["notify_url"],
	}
	if _, given := args["post_payments"]; !given {
		d["post_payments"] = defaultItems(args)
	}
	if openid, ok := x.env.vars["openid"]; ok {
		d["openid"] = openid
	}
	b := body(d, args)
	withTotal(b, args)
	resp, err := x.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", b)
	if err == nil && resp.ok() {
		x.remember(m, resp)
	}
	return resp, err
}

func (x *run) query(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	d := x.ids(m)
	if _, byQueryID := args["query_id"]; !byQueryID && x.order != nil {
		d["out_order_no"] = x.order.outOrderNo
	}
	params := prune(overlay(d, args))
	q := url.Values{}
	for k, v := range params {
		q.Set(k, text(v))
	}
	return x.api(ctx, m, http.MethodGet, "/v3/payscore/serviceorder?"+q.Encode(), nil)
}

// orderAction is a POST to /v3/payscore/serviceorder/{out_order_no}/action.
func orderAction(action string) func(*run, context.Context, *Step, map[string]any) (*response, error) {
	return func(x *run, ctx context.Context, st *Step, args map[string]any) (*response, error) {
		m := x.merchant(st)
		no, err := x.orderNo(args)
		if err != nil {
			return nil, err
		}
		args = without(args, "out_order_no")
		d := x.ids(m)
		switch action {
		case "cancel":
			d["reason"] = "用户取消了服务"
		case "complete":
			now, err := x.nowCompact()
			if err != nil {
				return nil, err
			}
			d["time_range"] = map[string]any{"end_time": now}
			if _, given := args["post_payments"]; !given {
				d["post_payments"] = defaultItems(args)
			}
		case "modify":
			d["reason"] = "费用调整"
			if _, given := args["post_payments"]; !given {
				if _, total := args["total_amount"]; total {
					d["post_payments"] = defaultItems(args)
				}
			}
		case "sync":
			now, err := x.nowCompact()
			if err != nil {
				return nil, err
			}
			d["type"] = simulator.SyncTypeOrderPaid
			d["detail"] = map[string]any{"paid_time": now}
		}
		b := body(d, args)
		if action == "complete" || action == "modify" {
			withTotal(b, args)
		}
		return x.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder/"+url.PathEscape(no)+"/"+action, b)
	}
}

func (x *run) applyPermissions(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	d := map[string]any{
		"appid": m.AppID, "service_id": m.ServiceID,
		"authorization_code": x.numbered(x.next("apply_permissions")),
		"notify_url":         x.env.vars["notify_url"],
	}
	b := body(d, args)
	resp, err := x.api(ctx, m, http.MethodPost, "/v3/payscore/permissions", b)
	if err == nil && resp.ok() {
		doc, _ := resp.doc.(map[string]any)
		if t, ok := doc["apply_permissions_token"]; ok {
			x.env.vars["apply_permissions_token"] = t
		}
		if code, ok := b["authorization_code"]; ok {
			x.env.vars["authorization_code"] = code
		}
	}
	return resp, err
}

// permissionPath is /v3/payscore/permissions/openid/{openid} when the step names an openid, else
// .../authorization-code/{code}.
func (x *run) permissionPath(args map[string]any) (string, bool, error) {
	if openid, ok := str(args, "openid"); ok {
		return "/v3/payscore/permissions/openid/" + url.PathEscape(openid), true, nil
	}
	code, ok := str(args, "authorization_code")
	if !ok {
		v, set := x.env.vars["authorization_code"]
		if !set {
			return "", false, errors.New("no authorization_code yet: apply_permissions or seed_permission first, or give authorization_code or openid")
		}
		code = text(v)
	}
	return "/v3/payscore/permissions/authorization-code/" + url.PathEscape(code), false, nil
}

func (x *run) queryPermission(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	path, byOpenID, err := x.permissionPath(args)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"service_id": m.ServiceID}
	if byOpenID {
		d["appid"] = m.AppID
	}
	params := prune(overlay(d, without(args, "openid", "authorization_code")))
	q := url.Values{}
	for k, v := range params {
		q.Set(k, text(v))
	}
	return x.api(ctx, m, http.MethodGet, path+"?"+q.Encode(), nil)
}

func (x *run) terminatePermission(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	path, byOpenID, err := x.permissionPath(args)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"service_id": m.ServiceID, "reason": "用户申请解除授权"}
	if byOpenID {
		d["appid"] = m.AppID
	}
	return x.api(ctx, m, http.MethodPost, path+"/terminate", body(d, without(args, "openid", "authorization_code")))
}

// raw sends any request, signed or deliberately not, for what the other steps cannot say.
func (x *run) raw(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	path, _ := str(args, "path")
	if path == "" {
		return nil, errors.New("raw needs a path, such as /v3/payscore/serviceorder")
	}
	var payload []byte
	if t, ok := str(args, "body_text"); ok {
		payload = []byte(t)
	} else if b, ok := args["body"]; ok {
		var err error
		if payload, err = json.Marshal(b); err != nil {
			return nil, err
		}
	}
	method, _ := str(args, "method")
	if method == "" {
		method = http.MethodGet
		if payload != nil {
			method = http.MethodPost
		}
	}
	if st.Eventually > 0 && method != http.MethodGet {
		return nil, fmt.Errorf("eventually repeats a step, so it applies to GET requests only, not %s", method)
	}
	sign, _ := str(args, "sign")
	if sign == "" || sign == "auto" {
		sign = "none"
		if strings.HasPrefix(path, "/v3/") {
			sign = "valid"
		}
	}
	c := x.client(m)
	req, err := c.NewRequest(ctx, method, path, payload)
	if err != nil {
		return nil, err
	}
	if sign != "none" {
		auth, err := x.authorization(m, sign, method, path, payload)
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", auth)
	}
	if h, ok := args["headers"].(map[string]any); ok {
		for k, v := range h {
			if v == nil {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, text(v))
			}
		}
	}
	resp, err := c.Send(req)
	if resp == nil {
		return nil, err
	}
	r := newResponse(resp.Status, resp.Header, resp.Body)
	if err != nil {
		return r, fmt.Errorf("%s %s: the response's signature does not verify: %w", method, path, err)
	}
	return r, nil
}

// authorization makes the Authorization header a raw step asks for: valid, or wrong in one
// particular way.
func (x *run) authorization(m *Merchant, mode, method, target string, body []byte) (string, error) {
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
		for _, n := range keys(x.sc.File.Merchants) {
			if other := x.sc.File.Merchants[n]; other.Key != nil && !other.Key.Equal(m.Key) {
				key = other.Key
				break
			}
		}
	}
	return wxcrypto.Authorize(m.MchID, m.Serial, key, method, target, body, now)
}

var businessTypes = map[string]simulator.BusinessType{
	"use": simulator.BusinessUse, "detail": simulator.BusinessDetail, "enable": simulator.BusinessEnable,
}

var navigatePaths = map[simulator.BusinessType]string{
	simulator.BusinessUse: "pages/use/use", simulator.BusinessDetail: "pages/record/detail", simulator.BusinessEnable: "pages/use/enable",
}

// openVisit is the merchant's front end opening the Pay Score mini-program.
func (x *run) openVisit(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	btName, _ := str(args, "businessType")
	bt := simulator.BusinessUse
	if btName != "" {
		bt = simulator.BusinessType(btName)
		if short, ok := businessTypes[btName]; ok {
			bt = short
		}
	}
	form, _ := str(args, "form")
	if form == "" {
		form = "extraData"
	}
	sign, _ := str(args, "sign")
	if sign == "" {
		sign = "none"
		if bt == simulator.BusinessDetail {
			sign = "apiv2"
		}
	}
	d := map[string]any{}
	switch bt {
	case simulator.BusinessUse:
		if p, ok := x.env.vars["package"]; ok {
			d["package"] = p
		}
	case simulator.BusinessDetail:
		ids := x.ids(m)
		d["service_id"] = ids["service_id"]
		if x.order != nil {
			d["out_order_no"] = x.order.outOrderNo
		}
	case simulator.BusinessEnable:
		if t, ok := x.env.vars["apply_permissions_token"]; ok {
			d["apply_permissions_token"] = t
		}
	}
	given, _ := args["extraData"].(map[string]any)
	if sign != "none" {
		d["mch_id"] = m.MchID
		d["timestamp"] = strconv.FormatInt(time.Now().Unix(), 10)
		d["nonce_str"] = randomAlnum(32)
		d["sign_type"] = wxcrypto.SignTypeHMACSHA256
	}
	extra := prune(overlay(d, given))
	if _, own := given["sign"]; sign != "none" && !own {
		s, err := frontendSign(m, sign, extra)
		if err != nil {
			return nil, err
		}
		extra["sign"] = s
	}
	req := map[string]any{}
	switch form {
	case "queryString":
		req["businessType"] = string(bt)
		if qs, ok := str(args, "queryString"); ok {
			req["queryString"] = qs
		} else {
			q := url.Values{}
			for k, v := range extra {
				q.Set(k, text(v))
			}
			req["queryString"] = q.Encode()
		}
	case "navigate":
		req["appId"] = simulator.PayScoreAppID
		req["path"] = navigatePaths[bt]
		req["extraData"] = extra
		if btName != "" {
			req["businessType"] = string(bt)
		}
	default:
		req["businessType"] = string(bt)
		req["extraData"] = extra
	}
	for _, k := range []string{"appId", "path"} {
		if v, ok := str(args, k); ok {
			req[k] = v
		}
	}
	resp, err := x.control(ctx, http.MethodPost, "/sim/v1/visits", req)
	if err == nil && resp.ok() {
		if doc, ok := resp.doc.(map[string]any); ok {
			x.env.vars["visit_id"] = doc["visit_id"]
		}
	}
	return resp, err
}

// frontendSign signs extraData the way mode says: right (apiv2), or wrong in a particular way.
func frontendSign(m *Merchant, mode string, params map[string]any) (string, error) {
	fields := map[string]string{}
	for k, v := range params {
		if k != "sign" {
			fields[k] = text(v)
		}
	}
	key, alg := m.APIv2Key, wxcrypto.SignTypeHMACSHA256
	switch mode {
	case "apiv3":
		key = m.APIv3Key
	case "md5":
		alg = wxcrypto.SignTypeMD5
	case "wrong":
		key = "payscore-sim-scenario-WRONG-key!"
	}
	if key == "" {
		return "", fmt.Errorf("merchant %s has no APIv2 key to sign extraData with (api_v2_key)", m.Name)
	}
	return wxcrypto.SignV2(fields, key, alg)
}

func (x *run) visitID(args map[string]any) (string, error) {
	if id, ok := str(args, "visit_id"); ok {
		return id, nil
	}
	v, ok := x.env.vars["visit_id"]
	if !ok {
		return "", errors.New("no visit yet: open_visit first, or give a visit_id")
	}
	return text(v), nil
}

// visitAction is the user acting on a visit (confirm, return, back), or "" to read it.
func (x *run) visitAction(ctx context.Context, args map[string]any, action string) (*response, error) {
	id, err := x.visitID(args)
	if err != nil {
		return nil, err
	}
	path := "/sim/v1/visits/" + url.PathEscape(id)
	if action == "" {
		return x.control(ctx, http.MethodGet, path, nil)
	}
	resp, err := x.control(ctx, http.MethodPost, path+"/"+action, nil)
	if err == nil && resp.ok() && action == "return" {
		if q, ok := lookupPath(resp.doc, "referrerInfo.extraData.query_id"); ok {
			x.env.vars["query_id"] = q
		}
	}
	return resp, err
}

func (x *run) authorize(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	id, err := x.visitID(args)
	if err != nil {
		return nil, err
	}
	var b any
	if openid, ok := str(args, "openid"); ok {
		b = map[string]any{"openid": openid}
	}
	resp, err := x.control(ctx, http.MethodPost, "/sim/v1/visits/"+url.PathEscape(id)+"/authorize", b)
	if err == nil && resp.ok() {
		for _, name := range []string{"openid", "authorization_code"} {
			if v, ok := lookupPath(resp.doc, name); ok {
				x.env.vars[name] = v
			}
		}
	}
	return resp, err
}

func (x *run) revokePermission(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	code, ok := str(args, "authorization_code")
	if !ok {
		v, set := x.env.vars["authorization_code"]
		if !set {
			return nil, errors.New("no authorization_code yet: apply_permissions or seed_permission first, or give one")
		}
		code = text(v)
	}
	var b any
	if sid, ok := str(args, "service_id"); ok {
		b = map[string]any{"service_id": sid}
	}
	return x.control(ctx, http.MethodPost, "/sim/v1/permissions/"+url.PathEscape(m.MchID)+"/"+url.PathEscape(code)+"/revoke", b)
}

func (x *run) seedPermission(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	m := x.merchant(st)
	d := map[string]any{
		"appid": m.AppID, "service_id": m.ServiceID,
		"openid":     "o" + x.numbered(x.next("seed_permission")),
		"notify_url": x.env.vars["notify_url"],
	}
	resp, err := x.control(ctx, http.MethodPost, "/sim/v1/permissions/"+url.PathEscape(m.MchID)+"/authorize", body(d, args))
	if err == nil && resp.ok() {
		for _, name := range []string{"openid", "authorization_code"} {
			if v, ok := lookupPath(resp.doc, name); ok {
				x.env.vars[name] = v
			}
		}
	}
	return resp, err
}

// orderPath is /sim/v1/orders/{mchid}/{out_order_no} of the order a control step names.
func (x *run) orderPath(st *Step, args map[string]any) (string, error) {
	no, err := x.orderNo(args)
	if err != nil {
		return "", err
	}
	mchid := x.merchant(st).MchID
	if _, named := args["out_order_no"]; !named && st.As == "" && x.order != nil {
		mchid = x.order.mchid
	}
	return "/sim/v1/orders/" + url.PathEscape(mchid) + "/" + url.PathEscape(no), nil
}

func (x *run) deduction(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	path, err := x.orderPath(st, args)
	if err != nil {
		return nil, err
	}
	mode, _ := str(args, "mode")
	return x.control(ctx, http.MethodPost, path+"/deduction", map[string]any{"mode": mode})
}

// orderControl reads an order (action "") or acts on it through the control API.
func orderControl(action, method string) func(*run, context.Context, *Step, map[string]any) (*response, error) {
	return func(x *run, ctx context.Context, st *Step, args map[string]any) (*response, error) {
		path, err := x.orderPath(st, args)
		if err != nil {
			return nil, err
		}
		if action != "" {
			path += "/" + action
		}
		return x.control(ctx, method, path, nil)
	}
}

func (x *run) advanceClock(ctx context.Context, st *Step, arg any) (*response, error) {
	d, err := parseDuration(text(arg))
	if err != nil {
		return nil, err
	}
	return x.control(ctx, http.MethodPost, "/sim/v1/clock/advance", map[string]any{"duration": d.String()})
}

func (x *run) sleep(ctx context.Context, st *Step, arg any) (*response, error) {
	d, err := parseDuration(text(arg))
	if err != nil {
		return nil, err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (x *run) receiver(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	fail, status := 0, http.StatusInternalServerError
	if v, ok := args["fail"]; ok {
		n, ok := number(v)
		if !ok || !n.IsInt() || n.Sign() < 0 {
			return nil, fmt.Errorf("receiver.fail must be a whole number, not %s", show(v))
		}
		fail = int(n.Num().Int64())
	}
	if v, ok := args["status"]; ok {
		n, ok := number(v)
		if !ok || !n.IsInt() || n.Num().Int64() < 100 || n.Num().Int64() > 599 {
			return nil, fmt.Errorf("receiver.status must be an HTTP status, not %s", show(v))
		}
		status = int(n.Num().Int64())
	}
	x.inbox.failNext(fail, status)
	return nil, nil
}

// eventType accepts PAYSCORE.USER_PAID and USER_PAID alike.
func eventType(s string) string {
	if s != "" && !strings.Contains(s, ".") {
		return "PAYSCORE." + s
	}
	return s
}

// notificationFailure is a notification that did not come as expected.
type notificationFailure struct {
	message, what, expected, actual string
}

func (e *notificationFailure) Error() string { return e.message }

func (x *run) expectNotification(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	event, _ := str(args, "event_type")
	event = eventType(event)
	within := 5 * time.Second
	if w, ok := str(args, "within"); ok {
		d, err := parseDuration(w)
		if err != nil {
			return nil, err
		}
		within = d
	}
	orderNo, byOrder := str(args, "out_order_no")
	match := func(n *note) bool {
		if n.EventType != event {
			return false
		}
		if byOrder {
			no, _ := lookupPath(n.Resource, "out_order_no")
			return text(no) == orderNo
		}
		return true
	}
	start := time.Now()
	n, err := x.inbox.wait(ctx, match, within)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, x.missingNotification(ctx, event, orderNo, byOrder, within, time.Since(start), match)
	}
	x.env.vars["notification_id"] = n.ID
	if want, ok := args["attempts"]; ok {
		if !equal(want, json.Number(strconv.Itoa(n.Attempts))) {
			return nil, &notificationFailure{
				message: fmt.Sprintf("%s notification %s was acknowledged after %d deliveries", event, n.ID, n.Attempts),
				what:    "attempts", expected: show(want), actual: strconv.Itoa(n.Attempts),
			}
		}
	}
	return &response{doc: n.doc(), header: n.Header}, nil
}

// missingNotification explains why no notification matched: none came, one came and failed
// verification, others came instead; and what the simulator says it owes.
func (x *run) missingNotification(ctx context.Context, event, orderNo string, byOrder bool, within, waited time.Duration, match func(*note) bool) error {
	what := "notification " + event
	if byOrder {
		what += " for out_order_no " + orderNo
	}
	var lines []string
	for _, n := range x.inbox.snapshot() {
		state := "acknowledged"
		switch {
		case n.Err != "":
			state = fmt.Sprintf("refused %d time(s): %s", n.Attempts, n.Err)
		case n.acked == 0:
			state = fmt.Sprintf("answered with a failure %d time(s), as the receiver was told", n.Attempts)
		case n.consumed >= n.acked:
			state = "acknowledged, and matched by an earlier expect_notification"
		}
		if match(n) && n.Err != "" {
			return &notificationFailure{
				message: fmt.Sprintf("a %s notification (%s) arrived but the receiver refused it: %s", event, n.ID, n.Err),
				what:    what, expected: "a notification that verifies and decrypts", actual: n.Err,
			}
		}
		lines = append(lines, fmt.Sprintf("%s %s (%s)", n.EventType, n.ID, state))
	}
	received := "nothing"
	if len(lines) > 0 {
		received = strings.Join(lines, "; ")
	}
	msg := fmt.Sprintf("no %s notification was received within %s (waited %.1fs); the receiver got: %s", event, within, waited.Seconds(), received)
	if owed := x.owed(ctx, event, orderNo, byOrder); owed != "" {
		msg += "; " + owed
	}
	return &notificationFailure{message: msg, what: what, expected: fmt.Sprintf("received within %s", within), actual: fmt.Sprintf("none after %.1fs", waited.Seconds())}
}

// owed says what the simulator's control API lists for the event, to tell "never queued" from
// "not delivered".
func (x *run) owed(ctx context.Context, event, orderNo string, byOrder bool) string {
	q := url.Values{"event_type": {event}, "limit": {"10"}}
	if byOrder {
		q.Set("out_order_no", orderNo)
	} else if x.order != nil {
		q.Set("out_order_no", x.order.outOrderNo)
		q.Set("mchid", x.order.mchid)
	}
	resp, err := x.control(ctx, http.MethodGet, "/sim/v1/notifications?"+q.Encode(), nil)
	if err != nil || resp.status != http.StatusOK {
		return ""
	}
	list, _ := lookupPath(resp.doc, "data")
	items, _ := list.([]any)
	scope := "in all"
	if q.Get("out_order_no") != "" {
		scope = "for out_order_no " + q.Get("out_order_no")
	}
	if len(items) == 0 {
		return fmt.Sprintf("the simulator has queued no %s notification %s", event, scope)
	}
	var parts []string
	for _, it := range items {
		state, _ := lookupPath(it, "state")
		attempts, _ := lookupPath(it, "attempt_count")
		url, _ := lookupPath(it, "notify_url")
		parts = append(parts, fmt.Sprintf("%s after %s attempt(s) to %s", text(state), text(attempts), text(url)))
	}
	return fmt.Sprintf("the simulator lists %d such notification(s) %s: %s", len(items), scope, strings.Join(parts, "; "))
}

func (x *run) expectNoNotification(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	event, _ := str(args, "event_type")
	event = eventType(event)
	wait := time.Second
	if f, ok := str(args, "for"); ok {
		d, err := parseDuration(f)
		if err != nil {
			return nil, err
		}
		wait = d
	}
	n, err := x.inbox.waitAny(ctx, func(n *note) bool { return n.EventType == event }, wait)
	if err != nil {
		return nil, err
	}
	if n != nil {
		return nil, &notificationFailure{
			message: fmt.Sprintf("a %s notification arrived though none was expected", event),
			what:    "notification " + event, expected: fmt.Sprintf("none within %s", wait),
			actual: fmt.Sprintf("%s with resource %s", n.ID, show(n.Resource)),
		}
	}
	return nil, nil
}

func (x *run) resendNotification(ctx context.Context, st *Step, args map[string]any) (*response, error) {
	id, ok := str(args, "id")
	if !ok {
		v, set := x.env.vars["notification_id"]
		if !set {
			return nil, errors.New("no notification yet: expect_notification first, or give an id")
		}
		id = text(v)
	}
	return x.control(ctx, http.MethodPost, "/sim/v1/notifications/"+url.PathEscape(id)+"/resend", nil)
}
