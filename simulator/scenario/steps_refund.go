package scenario

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
)

// Refunds: the domestic refund API, through which a merchant refunds a Pay Score deduction, and
// the control API's decision of a refund's outcome. A refund step remembers out_refund_no and
// refund_id, which the later refund steps use by default.

// refundStep is POST /v3/refund/domestic/refunds: by default the whole of the current order's
// last deduction, to the runner's receiver.
type refundStep struct{ apiStep }

func (r *refundStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	d := map[string]any{
		"out_refund_no": s.numbered("refund"),
		"notify_url":    s.env.vars["notify_url"],
		"amount":        map[string]any{"currency": "CNY"},
	}
	_, byTransaction := r.args["transaction_id"]
	_, byTradeNo := r.args["out_trade_no"]
	named := byTransaction || byTradeNo
	tid, amount, err := s.lastDeduction(ctx, st, r.args)
	switch {
	case err == nil:
		if !named {
			d["transaction_id"] = tid
		}
		d["amount"] = map[string]any{"refund": amount, "total": amount, "currency": "CNY"}
	case !named:
		return nil, err
	}
	resp, err := s.api(ctx, m, http.MethodPost, "/v3/refund/domestic/refunds", body(d, r.args.without("out_order_no")))
	if err == nil && resp.ok() {
		s.setFrom(resp.doc, "out_refund_no", "refund_id", "transaction_id", "out_trade_no")
	}
	return resp, err
}

// lastDeduction is the transaction_id and amount of the last deduction through Pay Score of the
// order a step names (the current one by default), as the control API shows the order.
func (s *session) lastDeduction(ctx context.Context, st *Step, a args) (string, any, error) {
	path, err := s.orderPath(st, a)
	if err != nil {
		return "", nil, err
	}
	resp, err := s.control(ctx, http.MethodGet, path, nil)
	if err != nil {
		return "", nil, err
	}
	if resp.status != http.StatusOK {
		return "", nil, fmt.Errorf("read the order to refund: %s", resp.summary())
	}
	details, _ := lookupPath(resp.doc, "order.collection.details")
	list, _ := details.([]any)
	for i := len(list) - 1; i >= 0; i-- {
		tid, _ := lookupPath(list[i], "transaction_id")
		paidType, _ := lookupPath(list[i], "paid_type")
		if tid != nil && text(paidType) == "NEWTON" {
			amount, _ := lookupPath(list[i], "amount")
			return text(tid), amount, nil
		}
	}
	return "", nil, errors.New("the order has no deduction through Pay Score to refund yet: complete it and wait for USER_PAID, or give transaction_id")
}

// queryRefundStep is GET /v3/refund/domestic/refunds/{out_refund_no}.
type queryRefundStep struct{ apiStep }

func (q *queryRefundStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	no, err := s.refundNo(q.args)
	if err != nil {
		return nil, err
	}
	return s.api(ctx, s.merchant(st), http.MethodGet, "/v3/refund/domestic/refunds/"+url.PathEscape(no), nil)
}

// applyAbnormalRefundStep is POST /v3/refund/domestic/refunds/{refund_id}/apply-abnormal-refund:
// by default the last refund, to the merchant's bank card.
type applyAbnormalRefundStep struct{ apiStep }

func (a *applyAbnormalRefundStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	no, err := s.refundNo(a.args)
	if err != nil {
		return nil, err
	}
	id, ok := a.args.str("refund_id")
	if !ok {
		if id, err = s.variable("refund_id", "no refund yet: refund first, or give refund_id"); err != nil {
			return nil, err
		}
	}
	d := map[string]any{"out_refund_no": no, "type": "MERCHANT_BANK_CARD"}
	path := "/v3/refund/domestic/refunds/" + url.PathEscape(id) + "/apply-abnormal-refund"
	return s.api(ctx, s.merchant(st), http.MethodPost, path, body(d, a.args.without("refund_id")))
}

// refundOutcomeStep decides now how a refund ends, through the control API.
type refundOutcomeStep struct {
	status string
	args   args
}

func (r *refundOutcomeStep) set(a args) error {
	r.status, _ = a.str("status")
	r.args = a
	return nil
}

func (r *refundOutcomeStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	no, err := s.refundNo(r.args)
	if err != nil {
		return nil, err
	}
	path := "/sim/v1/refunds/" + url.PathEscape(s.merchant(st).MchID) + "/" + url.PathEscape(no) + "/outcome"
	return s.control(ctx, http.MethodPost, path, map[string]any{"status": r.status})
}

// refundNo is the out_refund_no a step names, else the last refund's.
func (s *session) refundNo(a args) (string, error) {
	if no, ok := a.str("out_refund_no"); ok {
		return no, nil
	}
	return s.variable("out_refund_no", "no refund yet: refund first, or give out_refund_no")
}
