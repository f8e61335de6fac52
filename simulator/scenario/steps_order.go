package scenario

import (
	"context"
	"math/big"
	"net/http"
	"net/url"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// The merchant's order API. Each step sends a body of defaults that make a valid call, with the
// step's fields laid over them: a scenario writes only what its story is about.

// createDefaults are the fields of a create that neither a scenario step nor a seed names: a
// valid order of the merchant's appid and service_id, one item of 200 fen.
func createDefaults(appid, serviceID string, notifyURL any) map[string]any {
	return map[string]any{
		"appid":                appid,
		"service_id":           serviceID,
		"service_introduction": "共享充电宝租借",
		"post_payments":        []any{map[string]any{"name": "租借费", "amount": int64(200), "description": "每小时 2 元"}},
		"risk_fund":            map[string]any{"name": "ESTIMATE_ORDER_COST", "amount": int64(10000), "description": "充电宝预估费用"},
		"time_range":           map[string]any{"start_time": simulator.OnAccept},
		"notify_url":           notifyURL,
	}
}

// createStep is POST /v3/payscore/serviceorder.
type createStep struct{ apiStep }

func (c *createStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	d := createDefaults(m.AppID, m.ServiceID, s.env.vars["notify_url"])
	d["out_order_no"] = s.numbered("create")
	// An order without confirmation is for a user who authorized: the last one, by default.
	if nuc, ok := c.args["need_user_confirm"].(bool); ok && !nuc {
		if openid, ok := s.env.vars["openid"]; ok {
			d["openid"] = openid
		}
	}
	resp, err := s.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder", body(d, c.args))
	if err == nil && resp.ok() {
		s.remember(m, resp)
	}
	return resp, err
}

// directCompleteStep is POST /v3/payscore/serviceorder/direct-complete: an order that ended an
// hour of service just now.
type directCompleteStep struct{ apiStep }

func (c *directCompleteStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	now, err := s.simNow(ctx)
	if err != nil {
		return nil, err
	}
	d := map[string]any{
		// Numbered with create's: both make the current order.
		"out_order_no":         s.numbered("create"),
		"appid":                m.AppID,
		"service_id":           m.ServiceID,
		"service_introduction": "共享充电宝租借",
		"time_range": map[string]any{
			"start_time": simulator.FormatCompact(now.Add(-time.Hour)),
			"end_time":   simulator.FormatCompact(now),
		},
		"notify_url": s.env.vars["notify_url"],
	}
	if _, given := c.args["post_payments"]; !given {
		d["post_payments"] = defaultItems(c.args)
	}
	if openid, ok := s.env.vars["openid"]; ok {
		d["openid"] = openid
	}
	b := body(d, c.args)
	withTotal(b, c.args)
	resp, err := s.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder/direct-complete", b)
	if err == nil && resp.ok() {
		s.remember(m, resp)
	}
	return resp, err
}

// queryStep is GET /v3/payscore/serviceorder, of the current order unless it names another.
type queryStep struct{ apiStep }

func (q *queryStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	d := s.ids(m)
	if _, byQueryID := q.args["query_id"]; !byQueryID && s.order != nil {
		d["out_order_no"] = s.order.outOrderNo
	}
	return s.api(ctx, m, http.MethodGet, "/v3/payscore/serviceorder?"+queryOf(overlay(d, q.args)), nil)
}

// queryOf is a query string of the fields, nulls left out.
func queryOf(fields map[string]any) string {
	q := url.Values{}
	for k, v := range prune(fields) {
		q.Set(k, text(v))
	}
	return q.Encode()
}

// orderActionStep is a POST to /v3/payscore/serviceorder/{out_order_no}/{action}: cancel,
// complete, modify, pay or sync.
type orderActionStep struct {
	apiStep
	action string
}

func (o *orderActionStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	no, err := s.orderNo(o.args)
	if err != nil {
		return nil, err
	}
	a := o.args.without("out_order_no")
	d := s.ids(m)
	if err := o.defaults(ctx, s, d, a); err != nil {
		return nil, err
	}
	b := body(d, a)
	if o.action == "complete" || o.action == "modify" {
		withTotal(b, a)
	}
	return s.api(ctx, m, http.MethodPost, "/v3/payscore/serviceorder/"+url.PathEscape(no)+"/"+o.action, b)
}

// defaults adds to d what each action needs to be valid: a reason, the end of the service, the
// amounts, the payment's time.
func (o *orderActionStep) defaults(ctx context.Context, s *session, d map[string]any, a args) error {
	_, itemsGiven := a["post_payments"]
	switch o.action {
	case "cancel":
		d["reason"] = "用户取消了服务"
	case "complete":
		now, err := s.nowCompact(ctx)
		if err != nil {
			return err
		}
		d["time_range"] = map[string]any{"end_time": now}
		if !itemsGiven {
			d["post_payments"] = defaultItems(a)
		}
	case "modify":
		d["reason"] = "费用调整"
		if _, total := a["total_amount"]; total && !itemsGiven {
			d["post_payments"] = defaultItems(a)
		}
	case "sync":
		now, err := s.nowCompact(ctx)
		if err != nil {
			return err
		}
		d["type"] = simulator.SyncTypeOrderPaid
		d["detail"] = map[string]any{"paid_time": now}
	}
	return nil
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
// (sent as they are, nulls included: extra is how a scenario sends what the API refuses).
func body(defaults map[string]any, a args) map[string]any {
	extra, _ := a["extra"].(map[string]any)
	b := prune(overlay(defaults, a.without("extra")))
	for k, v := range extra {
		b[k] = v
	}
	return b
}

// overlay lays over on base, mappings merged key by key, but keeps nulls, so that a step's null
// can still remove a built-in default.
func overlay(base, over map[string]any) map[string]any {
	out := make(map[string]any, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		bm, bok := out[k].(map[string]any)
		om, ook := v.(map[string]any)
		if bok && ook {
			out[k] = overlay(bm, om)
		} else {
			out[k] = v
		}
	}
	return out
}

// defaultItems are the post_payments a completing step sends when it names none: one item of
// amount total, or 200 fen.
func defaultItems(fields map[string]any) []any {
	amount := any(int64(200))
	if t, ok := fields["total_amount"]; ok && t != nil {
		amount = t
	}
	return []any{map[string]any{"name": "租借费", "amount": amount, "description": "按时长计费"}}
}

// withTotal sets total_amount to post_payments minus post_discounts, unless the step gave one:
// production refuses a total that does not add up, and a scenario should not have to add.
func withTotal(b, given map[string]any) {
	if _, ok := given["total_amount"]; ok {
		return
	}
	total := new(big.Rat)
	for _, list := range []struct {
		key  string
		sign int
	}{{"post_payments", 1}, {"post_discounts", -1}} {
		sum, ok := sumAmounts(b[list.key])
		if !ok {
			return // an amount that is not a number: leave total_amount to the step
		}
		if list.sign < 0 {
			sum.Neg(sum)
		}
		total.Add(total, sum)
	}
	if total.IsInt() {
		b["total_amount"] = total.Num().Int64()
	}
}

// sumAmounts adds the amounts of a list of items; false when one is not a number.
func sumAmounts(list any) (*big.Rat, bool) {
	sum := new(big.Rat)
	items, _ := list.([]any)
	for _, item := range items {
		m, _ := item.(map[string]any)
		a, ok := number(m["amount"])
		if !ok {
			if _, has := m["amount"]; has {
				return nil, false
			}
			continue
		}
		sum.Add(sum, a)
	}
	return sum, true
}
