package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's order page (/dashboard/orders/{mchid}/{out_order_no}): the order in words and
// as JSON, its history, visits, notifications and requests, and the test's and user's actions.

type dashOrderPage struct {
	dashOrderRow
	Summary  []keyValue
	Warnings []string
	WireJSON string
	// CreateParams is the create (or direct-complete) request as the simulator kept it.
	CreateParams  string
	History       []dashHistoryRow
	Visits        []dashVisit
	QueryIDs      []string
	Notifications []dashNotificationRow
	Refunds       []dashRefund
	RefundsEmpty  string
	Requests      []dashRequest

	Deduction       string // the mode in force, and where it comes from
	DeductionModes  []dashMode
	DeductionAction string
	UserPaysAction  string
	AwaitingPayment bool
}

type dashHistoryRow struct{ Time, From, To, Cause string }

type dashMode struct {
	Mode, Description string
	Current           bool
}

type dashVisit struct {
	ID, PageURL, BusinessType, Form, Outcome, QueryID, Created, Updated string
	Confirmed, Signed                                                   bool
	Actions                                                             []dashVisitAction
}

type dashVisitAction struct{ ID, URL, Label, Effect string }

func (s *Server) handleDashOrder(c echo.Context) error {
	no, err := pathParam(c, "out_order_no")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ctx, mchid := c.Request().Context(), c.Param("mchid")
	o, err := s.Service.Orders.FindOrder(ctx, mchid, simulator.OrderKey{OutOrderNo: no})
	if err != nil {
		return s.renderError(c, explainMissingOrder(err, mchid, no), nil, nil)
	}
	op := &dashOrderPage{
		dashOrderRow: dashOrderRowOf(o), Warnings: o.Sim.Warnings, QueryIDs: o.Sim.QueryIDs,
		WireJSON: web.IndentJSON(o), CreateParams: web.PrettyJSON(string(o.Sim.CreateParams)),
		DeductionAction: orderPath(o.MchID, o.OutOrderNo) + "/deduction",
		UserPaysAction:  orderPath(o.MchID, o.OutOrderNo) + "/user-pays",
		AwaitingPayment: o.AwaitingPayment(),
	}
	op.Summary = dashOrderSummary(o)
	for _, h := range o.Sim.History {
		op.History = append(op.History, dashHistoryRow{web.Time(h.Time), h.From, h.To, h.Cause})
	}
	op.Deduction, op.DeductionModes = s.dashDeduction(o)

	visits, err := s.Service.Visits.ListVisits(ctx, simulator.VisitFilter{MchID: o.MchID, OutOrderNo: o.OutOrderNo})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, v := range visits {
		op.Visits = append(op.Visits, dashVisitOf(v))
	}
	refunds, err := s.Refunds.Refunds.ListRefunds(ctx, simulator.RefundFilter{MchID: o.MchID, OutOrderNo: o.OutOrderNo, Limit: dashOrderRefunds})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	// The refunds' notifications are listed with the order's, and shown under their refund.
	ns, err := s.Service.Notifications.ListNotifications(ctx, simulator.NotificationFilter{
		MchID: o.MchID, OutOrderNo: o.OutOrderNo, Limit: dashOrderNotifications,
	})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	op.Refunds, ns = dashRefunds(refunds, ns)
	op.RefundsEmpty = dashRefundsEmpty(o)
	op.Notifications = dashNotificationRows(ns)
	requests, err := s.orderRequests(ctx, orderNamesOf(o, refunds), o.MchID)
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	op.Requests = dashRequests(requests)
	for i := range op.Requests {
		op.Requests[i].OrderURL = "" // this page
	}

	p := s.dashPage("Order "+o.OutOrderNo, "overview")
	p.Order = op
	return s.render(c, http.StatusOK, "dashboard-order.html", p)
}

// explainMissingOrder says which order was not found.
func explainMissingOrder(err error, mchid, no string) error {
	return explainNotExistIssue(err, fmt.Sprintf("merchant %s has no order with out_order_no %s", mchid, no))
}

// explainNotExistIssue adds an issue to a not-found error that has none.
func explainNotExistIssue(err error, issue string) error {
	var e *simulator.Error
	if !errors.As(err, &e) || e.Code != simulator.CodeOrderNotExist || e.Detail["issue"] != nil {
		return err
	}
	return e.With("issue", issue)
}

// dashOrderSummary is the order as a person reads it: what the wire JSON says, in words.
func dashOrderSummary(o *simulator.Order) []keyValue {
	add := func(list []keyValue, k, v string) []keyValue {
		if v == "" {
			return list
		}
		return append(list, keyValue{k, v})
	}
	var sum []keyValue
	sum = add(sum, "service_introduction", o.ServiceIntroduction)
	sum = add(sum, "appid", o.AppID)
	sum = add(sum, "service_id", o.ServiceID)
	sum = add(sum, "order_id", o.OrderID)
	sum = add(sum, "openid", o.OpenID)
	sum = add(sum, "total_amount", web.Yuan(o.TotalAmount))
	fund := web.Yuan(o.RiskFund.Amount) + " " + o.RiskFund.Name
	sum = add(sum, "risk_fund", fund)
	if o.Collection != nil {
		col := o.Collection
		sum = add(sum, "collection", fmt.Sprintf("%s · paid %s of %s, paying %s", col.State,
			web.Yuan(col.PaidAmount), web.Yuan(col.TotalAmount), web.Yuan(col.PayingAmount)))
		for _, d := range col.Details {
			pay := fmt.Sprintf("%s %s at %s", web.Yuan(d.Amount), d.PaidType, web.WeChatTime(d.PaidTime))
			if d.TransactionID != "" {
				pay += " · transaction_id " + d.TransactionID
			}
			sum = add(sum, fmt.Sprintf("payment #%d", d.Seq), pay)
		}
	}
	tr := web.WeChatTime(o.TimeRange.StartTime)
	if o.TimeRange.EndTime != "" {
		tr += " → " + web.WeChatTime(o.TimeRange.EndTime)
	}
	sum = add(sum, "time_range", tr)
	sum = add(sum, "notify_url", o.NotifyURL)
	sum = add(sum, "need_user_confirm", strconv.FormatBool(o.Sim.NeedUserConfirm))
	sum = add(sum, "cancel_reason", o.Sim.CancelReason)
	sum = add(sum, "package", o.Sim.Package)
	sum = add(sum, "created", web.Time(o.Sim.CreatedAt))
	sum = add(sum, "updated", web.Time(o.Sim.UpdatedAt))
	if due, ok := o.DeductionDue(); ok {
		sum = add(sum, "deduction pending, due", web.Time(due))
	}
	return sum
}

// dashDeduction says which deduction mode applies to the order and why, and offers the modes.
func (s *Server) dashDeduction(o *simulator.Order) (string, []dashMode) {
	d := o.DeductionInForce(s.Merchants.Merchant(o.MchID))
	var modes []dashMode
	for _, m := range simulator.DeductionModes {
		modes = append(modes, dashMode{Mode: string(m), Description: m.Describe(), Current: m == d.Mode})
	}
	return fmt.Sprintf("%s (%s)", d.Mode, d.From.Describe()), modes
}

func dashVisitOf(v *simulator.Visit) dashVisit {
	dv := dashVisit{
		ID: v.ID, PageURL: visitPath(v.ID), BusinessType: string(v.BusinessType), Form: v.Form,
		Outcome: string(v.Outcome), QueryID: v.QueryID, Confirmed: v.Confirmed, Signed: v.Signed,
		Created: web.Time(v.CreatedAt), Updated: web.Time(v.UpdatedAt),
	}
	for _, a := range v.Actions() {
		dv.Actions = append(dv.Actions, dashVisitAction{
			ID: "visit-" + v.ID + "-" + string(a.Name), URL: "/dashboard/visits/" + url.PathEscape(v.ID) + "/" + string(a.Name),
			Label: a.LabelEN(), Effect: a.Effect,
		})
	}
	return dv
}

// orderRequests returns the merchant's API requests about the order, newest first: those that
// name its out_order_no in the path, the query or the body, queries by its query_ids, and refund
// requests naming its transactions or refunds. The store finds those that mention the names;
// requestAbout keeps the ones that name them exactly.
func (s *Server) orderRequests(ctx context.Context, names orderNames, mchid string) ([]*simulator.RequestRecord, error) {
	records, err := s.Requests.ListRequests(ctx, simulator.RequestFilter{MchID: mchid, Mentions: names.mentions(), Limit: dashOrderRequests})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(records, func(r *simulator.RequestRecord) bool { return !requestAbout(r, names) }), nil
}

// requestAbout reports whether the request names the order: out_order_no as a path segment
// after /serviceorder/ (encoded or not), as a query parameter or as a member of the JSON body,
// query_id as a query parameter, or, in the refund API, one of its transactions or refunds.
func requestAbout(r *simulator.RequestRecord, names orderNames) bool {
	if refundRequestAbout(r, names.Refund) {
		return true
	}
	no := names.OutOrderNo
	path, rawQuery, _ := strings.Cut(r.Target, "?")
	if rest, ok := strings.CutPrefix(path, "/v3/payscore/serviceorder/"); ok {
		seg, _, _ := strings.Cut(rest, "/")
		if u, err := url.PathUnescape(seg); seg == no || (err == nil && u == no) {
			return true
		}
	}
	// ParseQuery keeps the well-formed parameters of a query that also has malformed ones.
	q, _ := url.ParseQuery(rawQuery)
	if q.Get("out_order_no") == no {
		return true
	}
	if qid := q.Get("query_id"); qid != "" && slices.Contains(names.QueryIDs, qid) {
		return true
	}
	var body struct {
		OutOrderNo string `json:"out_order_no"`
	}
	return json.Unmarshal([]byte(r.RequestBody), &body) == nil && body.OutOrderNo == no
}

// dashOrderAction takes a control step on the order named by the path and shows its page again.
func (s *Server) dashOrderAction(c echo.Context, step func(ctx context.Context, mchid, no string) error, given []keyValue) error {
	no, err := pathParam(c, "out_order_no")
	if err == nil {
		err = step(c.Request().Context(), c.Param("mchid"), no)
	}
	if err != nil {
		return s.renderError(c, err, nil, given)
	}
	return c.Redirect(http.StatusSeeOther, orderPath(c.Param("mchid"), no))
}

func (s *Server) handleDashDeduction(c echo.Context) error {
	return s.dashOrderAction(c, func(ctx context.Context, mchid, no string) error {
		v := c.FormValue("mode")
		if v == "" {
			return dashFormError("mode", v, "must be one of immediate, fail, on_pay")
		}
		mode, err := simulator.ParseDeductionMode(v)
		if err != nil {
			return err
		}
		_, err = s.Service.SetDeduction(ctx, mchid, no, mode)
		return err
	}, dashGiven(c, "mode"))
}

func (s *Server) handleDashUserPays(c echo.Context) error {
	return s.dashOrderAction(c, func(ctx context.Context, mchid, no string) error {
		_, err := s.Service.UserPays(ctx, mchid, no)
		return err
	}, nil)
}

// handleDashVisitAction takes the user's step on a visit, as the page at page_url would, and
// shows the visit's order (or, for an authorization, the permissions).
func (s *Server) handleDashVisitAction(c echo.Context) error {
	ctx, id := c.Request().Context(), c.Param("id")
	action, err := simulator.ParseVisitActionName(c.Param("action"))
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	v, err := visitSteps[action](s.Service, ctx, id)
	if err != nil {
		found, _ := s.Service.FindVisit(ctx, id)
		return s.renderError(c, err, found, nil)
	}
	if v.OutOrderNo == "" {
		return c.Redirect(http.StatusSeeOther, "/dashboard/permissions")
	}
	return c.Redirect(http.StatusSeeOther, orderPath(v.MchID, v.OutOrderNo))
}
