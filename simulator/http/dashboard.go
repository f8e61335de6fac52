package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// The dashboard shows QA and developers what the simulator recorded and why, and offers the
// user's and the test's actions as buttons. It is server-rendered like the user's pages: no
// script, every action a plain form that takes the same Service (or notification worker) step
// as the control API and answers 303 back to a page, every rejection WeChat-shaped.
func (s *Server) registerDashboardRoutes() {
	post := func(path string, h echo.HandlerFunc) { s.echo.POST(path, h, s.dashSameOrigin) }
	s.echo.GET("/", s.handleDashboard)
	s.echo.GET("/dashboard", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/") })
	post("/dashboard/clock/advance", s.handleDashAdvanceClock)
	s.echo.GET("/dashboard/orders/:mchid/:out_order_no", s.handleDashOrder)
	post("/dashboard/orders/:mchid/:out_order_no/deduction", s.handleDashDeduction)
	post("/dashboard/orders/:mchid/:out_order_no/user-pays", s.handleDashUserPays)
	post("/dashboard/visits/:id/:action", s.handleDashVisitAction)
	s.echo.GET("/dashboard/requests", s.handleDashRequests)
	s.echo.GET("/dashboard/notifications/:id", s.handleDashNotification)
	post("/dashboard/notifications/:id/resend", s.handleDashResend)
	post("/dashboard/notifications/:id/lab", s.handleDashLab)
	s.echo.GET("/dashboard/permissions", s.handleDashPermissions)
	post("/dashboard/permissions/:mchid/:authorization_code/revoke", s.handleDashRevoke)
}

// dashCrossOrigin refuses form posts that a browser says come from another site, so that a
// web page open beside the dashboard cannot press its buttons. Clients that are not browsers
// send no such headers and pass.
var dashCrossOrigin = http.NewCrossOriginProtection()

func (s *Server) dashSameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := dashCrossOrigin.Check(c.Request()); err != nil {
			return s.renderError(c, simulator.Errorf(simulator.CodeNoAuth, "跨站请求被拒绝").
				With("issue", "the dashboard's buttons work only from the simulator's own pages: "+err.Error()), nil, nil)
		}
		return next(c)
	}
}

// How much each dashboard list shows.
const (
	dashRecentOrders        = 25
	dashRecentFailures      = 10
	dashRecentNotifications = 15
	dashOrderRequests       = 200
	dashRequestsDefault     = 100
)

// dashPage is what every dashboard template renders: the frame (title, current section, the
// clock) and one section's data.
type dashPage struct {
	Title string
	// Nav is the current section: overview, requests or permissions.
	Nav   string
	Clock dashClock

	Overview     *dashOverview
	Order        *dashOrderPage
	Requests     *dashRequestsPage
	Notification *dashNotificationPage
	Permissions  *dashPermissionsPage
}

type dashClock struct {
	Now, NowRFC3339, Offset string
	Shifted                 bool
}

func (s *Server) dashPage(title, nav string) *dashPage {
	now, offset := s.Service.Clock.Now(), s.Service.Clock.Offset()
	return &dashPage{Title: title, Nav: nav, Clock: dashClock{
		Now: dashTime(now), NowRFC3339: simulator.FormatRFC3339(now), Offset: dashOffset(offset), Shifted: offset != 0,
	}}
}

// dashTime shows a time in China Standard Time, as WeChat's times are; the zero time is "".
func dashTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(simulator.ChinaTime).Format("2006-01-02 15:04:05")
}

// dashOffset shows how far the clock is ahead of the real time: "+30d 1h", or "0" when it is
// not.
func dashOffset(d time.Duration) string {
	if d <= 0 {
		return "0"
	}
	var parts []string
	for _, u := range []struct {
		unit time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}} {
		if n := d / u.unit; n > 0 {
			parts = append(parts, fmt.Sprintf("%d%s", n, u.name))
			d -= n * u.unit
		}
	}
	if len(parts) == 0 {
		return "+<1s"
	}
	return "+" + strings.Join(parts, " ")
}

// dashWeChatTime shows a yyyyMMddHHmmss or yyyyMMdd time (China Standard Time) for reading;
// anything else, such as OnAccept, as it is.
func dashWeChatTime(s string) string {
	for _, layout := range []struct{ in, out string }{{"20060102150405", "2006-01-02 15:04:05"}, {"20060102", "2006-01-02"}} {
		if t, err := time.Parse(layout.in, s); err == nil {
			return t.Format(layout.out)
		}
	}
	return s
}

// dashLatency shows a duration to the millisecond, or to the microsecond below one.
func dashLatency(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(time.Millisecond).String()
}

// orderPath is an order's dashboard page.
func orderPath(mchid, outOrderNo string) string {
	return "/dashboard/orders/" + url.PathEscape(mchid) + "/" + url.PathEscape(outOrderNo)
}

func notificationPath(id string) string { return "/dashboard/notifications/" + url.PathEscape(id) }

// dashPrettyJSON indents a JSON document for reading; what is not JSON is shown as it is.
func dashPrettyJSON(raw string) string {
	if strings.TrimSpace(raw) == "" {
		return ""
	}
	var v any
	if err := json.Unmarshal([]byte(raw), &v); err != nil {
		return raw
	}
	return indentJSON(v)
}

// dashFormError is a form field the dashboard cannot use, worded like the API's errors.
func dashFormError(field, value, issue string) error {
	return simulator.ParamError(field, value, issue).With("location", "form")
}

// dashGiven is what a form sent, for the error page's "what you passed".
func dashGiven(c echo.Context, names ...string) []keyValue {
	var given []keyValue
	for _, n := range names {
		if v := c.FormValue(n); v != "" {
			given = append(given, keyValue{n, v})
		}
	}
	return given
}

// ---- overview -------------------------------------------------------------------------------

type dashOverview struct {
	Merchants []dashMerchant
	// Demo are the demo merchant's identifiers; DemoSecrets its keys, shown on demand.
	Demo, DemoSecrets []keyValue
	AdvancePresets    []dashPreset
	Orders            []dashOrderRow
	Failures          []dashRequest
	Notifications     []dashNotificationRow
}

type dashPreset struct{ ID, Label, Duration string }

type dashMerchant struct {
	MchID                       string
	AppIDs, ServiceIDs, Serials []string
	Settings                    []keyValue
}

type dashOrderRow struct {
	URL, MchID, OutOrderNo, ServiceIntroduction string
	State, StateDescription, Collection         string
	TotalAmount, RiskFund                       string
	Created, Updated                            string
}

func dashOrderRowOf(o *simulator.Order) dashOrderRow {
	r := dashOrderRow{
		URL: orderPath(o.MchID, o.OutOrderNo), MchID: o.MchID, OutOrderNo: o.OutOrderNo,
		ServiceIntroduction: o.ServiceIntroduction,
		State:               string(o.State), StateDescription: string(o.StateDescription),
		TotalAmount: yuanText(o.TotalAmount), RiskFund: yuanText(o.RiskFund.Amount),
		Created: dashTime(o.Sim.CreatedAt), Updated: dashTime(o.Sim.UpdatedAt),
	}
	if o.Collection != nil {
		r.Collection = string(o.Collection.State)
	}
	return r
}

// yuanText shows fen as yuan: 10000 → "¥100.00".
func yuanText(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s¥%d.%02d", sign, fen/100, fen%100)
}

func (s *Server) handleDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	p := s.dashPage("Overview", "overview")
	ov := &dashOverview{AdvancePresets: []dashPreset{
		{"advance-1h", "+1h", "1h"}, {"advance-1d", "+1d", "24h"}, {"advance-30d", "+30d", "720h"},
	}}
	p.Overview = ov
	for _, m := range s.Merchants.All() {
		dm := dashMerchant{MchID: m.MchID, AppIDs: m.AppIDs, ServiceIDs: m.ServiceIDs, Serials: m.KeySerials()}
		dm.Settings = dashFields(m.Settings)
		ov.Merchants = append(ov.Merchants, dm)
	}
	ov.Demo, ov.DemoSecrets = s.dashDemoCredentials()

	orders, err := s.Service.Orders.ListOrders(ctx, simulator.OrderFilter{Limit: dashRecentOrders})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, o := range orders {
		ov.Orders = append(ov.Orders, dashOrderRowOf(o))
	}
	failures, err := s.Requests.ListRequests(ctx, simulator.RequestFilter{Failed: true, Limit: dashRecentFailures})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ov.Failures = dashRequests(failures)
	ns, err := s.Service.Notifications.ListNotifications(ctx, simulator.NotificationFilter{Limit: dashRecentNotifications})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ov.Notifications = dashNotificationRows(ns)
	return s.render(c, http.StatusOK, "dashboard.html", p)
}

// dashFields lists the members of v's JSON form, by name.
func dashFields(v any) []keyValue {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	var fields []keyValue
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fields = append(fields, keyValue{k, detailText(m[k])})
	}
	return fields
}

// dashDemoCredentials splits the demo credentials into identifiers and secrets (keys and
// PEMs), in the order of GET /sim/v1/demo-credentials.
func (s *Server) dashDemoCredentials() (ids, secrets []keyValue) {
	if s.DemoCredentials == nil {
		return nil, nil
	}
	b, err := json.Marshal(s.DemoCredentials)
	if err != nil {
		return nil, nil
	}
	// Decode in document order: a map would lose it.
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ids, secrets
		}
		k, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return ids, secrets
		}
		kv := keyValue{k, detailText(v)}
		if strings.HasSuffix(k, "_key") || strings.HasSuffix(k, "_pem") {
			secrets = append(secrets, kv)
		} else {
			ids = append(ids, kv)
		}
	}
	return ids, secrets
}

// dashDurationPattern is a number of days, optionally followed by a Go duration: "30d", "1d12h".
var dashDurationPattern = regexp.MustCompile(`^(\d{1,5})d(.*)$`)

// dashDuration reads a duration typed by a person: a Go duration ("90s", "61m", "12h"), days
// ("30d"), or both ("1d12h").
func dashDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	bad := dashFormError("duration", v, `must be a duration such as "90s", "61m", "12h", "30d" or "1d12h"`)
	var d time.Duration
	if m := dashDurationPattern.FindStringSubmatch(v); m != nil {
		days, _ := strconv.Atoi(m[1])
		d, v = time.Duration(days)*24*time.Hour, m[2]
		if v == "" {
			return d, nil
		}
	}
	rest, err := time.ParseDuration(v)
	if err != nil {
		return 0, bad
	}
	return d + rest, nil
}

func (s *Server) handleDashAdvanceClock(c echo.Context) error {
	d, err := dashDuration(c.FormValue("duration"))
	if err == nil {
		_, err = s.Service.AdvanceClock(c.Request().Context(), d)
	}
	if err != nil {
		return s.renderError(c, err, nil, dashGiven(c, "duration"))
	}
	return c.Redirect(http.StatusSeeOther, "/")
}

// ---- one order ------------------------------------------------------------------------------

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
		WireJSON: indentJSON(o), CreateParams: dashPrettyJSON(string(o.Sim.CreateParams)),
		DeductionAction: orderPath(o.MchID, o.OutOrderNo) + "/deduction",
		UserPaysAction:  orderPath(o.MchID, o.OutOrderNo) + "/user-pays",
		AwaitingPayment: o.AwaitingPayment(),
	}
	op.Summary = dashOrderSummary(o)
	for _, h := range o.Sim.History {
		op.History = append(op.History, dashHistoryRow{dashTime(h.Time), h.From, h.To, h.Cause})
	}
	op.Deduction, op.DeductionModes = s.dashDeduction(o)

	visits, err := s.Service.Visits.ListVisits(ctx, simulator.VisitFilter{MchID: o.MchID, OutOrderNo: o.OutOrderNo})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, v := range visits {
		op.Visits = append(op.Visits, dashVisitOf(v))
	}
	ns, err := s.Service.Notifications.ListNotifications(ctx, simulator.NotificationFilter{MchID: o.MchID, OutOrderNo: o.OutOrderNo})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	op.Notifications = dashNotificationRows(ns)
	requests, err := s.orderRequests(ctx, o)
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
	sum = add(sum, "total_amount", yuanText(o.TotalAmount))
	fund := yuanText(o.RiskFund.Amount) + " " + o.RiskFund.Name
	sum = add(sum, "risk_fund", fund)
	if o.Collection != nil {
		col := o.Collection
		sum = add(sum, "collection", fmt.Sprintf("%s · paid %s of %s, paying %s", col.State,
			yuanText(col.PaidAmount), yuanText(col.TotalAmount), yuanText(col.PayingAmount)))
		for _, d := range col.Details {
			pay := fmt.Sprintf("%s %s at %s", yuanText(d.Amount), d.PaidType, dashWeChatTime(d.PaidTime))
			if d.TransactionID != "" {
				pay += " · transaction_id " + d.TransactionID
			}
			sum = add(sum, fmt.Sprintf("payment #%d", d.Seq), pay)
		}
	}
	tr := dashWeChatTime(o.TimeRange.StartTime)
	if o.TimeRange.EndTime != "" {
		tr += " → " + dashWeChatTime(o.TimeRange.EndTime)
	}
	sum = add(sum, "time_range", tr)
	sum = add(sum, "notify_url", o.NotifyURL)
	sum = add(sum, "need_user_confirm", strconv.FormatBool(o.Sim.NeedUserConfirm))
	sum = add(sum, "cancel_reason", o.Sim.CancelReason)
	sum = add(sum, "package", o.Sim.Package)
	sum = add(sum, "created", dashTime(o.Sim.CreatedAt))
	sum = add(sum, "updated", dashTime(o.Sim.UpdatedAt))
	if due, ok := o.DeductionDue(); ok {
		sum = add(sum, "deduction pending, due", dashTime(due))
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
		Created: dashTime(v.CreatedAt), Updated: dashTime(v.UpdatedAt),
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
// name its out_order_no in the path, the query or the body, and queries by its query_ids. The
// store finds those that mention them; requestAbout keeps the ones that name them exactly.
func (s *Server) orderRequests(ctx context.Context, o *simulator.Order) ([]*simulator.RequestRecord, error) {
	no := o.OutOrderNo
	mentions := []string{no}
	for _, m := range append([]string{url.PathEscape(no), url.QueryEscape(no)}, o.Sim.QueryIDs...) {
		if !slices.Contains(mentions, m) {
			mentions = append(mentions, m)
		}
	}
	records, err := s.Requests.ListRequests(ctx, simulator.RequestFilter{MchID: o.MchID, Mentions: mentions, Limit: dashOrderRequests})
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(records, func(r *simulator.RequestRecord) bool { return !requestAbout(r, no, o.Sim.QueryIDs) }), nil
}

// requestAbout reports whether the request names the order: out_order_no as a path segment
// after /serviceorder/ (encoded or not), as a query parameter or as a member of the JSON body,
// or query_id as a query parameter.
func requestAbout(r *simulator.RequestRecord, no string, queryIDs []string) bool {
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
	if qid := q.Get("query_id"); qid != "" && slices.Contains(queryIDs, qid) {
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

// ---- requests -------------------------------------------------------------------------------

type dashRequestsPage struct {
	MchID     string
	Failed    bool
	Limit     int
	Merchants []string
	Requests  []dashRequest
}

// dashRequest is a logged API request as the dashboard shows it.
type dashRequest struct {
	ID                              int64
	Time, MchID, Method, Target     string
	Status                          int
	Failed                          bool
	Code, Message, Duration         string
	RequestBody, ResponseBody       string
	Warnings                        []string
	Diagnostic                      []dashDiag
	SignedString, WouldMatch, Issue string
	OrderURL                        string
}

// dashDiag is one member of a request's diagnostic.
type dashDiag struct {
	Key, Value string
	// Block is set for a value that reads better on lines of its own.
	Block bool
}

// dashDiagFirst are the diagnostic members shown first, in this order; the rest follow by name.
var dashDiagFirst = []string{"issue", "field", "value", "location", "would_match", "key_tried", "serial_no",
	"expected_serials", "timestamp_skew_seconds", "mchid"}

func dashRequests(records []*simulator.RequestRecord) []dashRequest {
	out := make([]dashRequest, 0, len(records))
	for _, r := range records {
		out = append(out, dashRequestOf(r))
	}
	return out
}

func dashRequestOf(r *simulator.RequestRecord) dashRequest {
	d := dashRequest{
		ID: r.ID, Time: dashTime(r.Time), MchID: r.MchID, Method: r.Method, Target: r.Target,
		Status: r.Status, Failed: r.Status >= 400, Code: r.Code, Message: r.Message,
		Duration: dashLatency(r.Duration), Warnings: r.Warnings,
		RequestBody: dashPrettyJSON(r.RequestBody), ResponseBody: dashPrettyJSON(r.ResponseBody),
	}
	if no := requestOrderNo(r); no != "" && r.MchID != "" {
		d.OrderURL = orderPath(r.MchID, no)
	}
	keys := slices.Sorted(maps.Keys(r.Diagnostic))
	slices.SortStableFunc(keys, func(a, b string) int { return dashRank(a) - dashRank(b) })
	for _, k := range keys {
		v := detailText(r.Diagnostic[k])
		switch k {
		case "signed_string":
			d.SignedString = v
			continue
		case "would_match":
			d.WouldMatch = v
		case "issue":
			d.Issue = v
		}
		d.Diagnostic = append(d.Diagnostic, dashDiag{Key: k, Value: v, Block: strings.Contains(v, "\n")})
	}
	return d
}

// requestOrderNo is the out_order_no a request names, in its path, its query or its body; ""
// when it names none.
func requestOrderNo(r *simulator.RequestRecord) string {
	path, rawQuery, _ := strings.Cut(r.Target, "?")
	if rest, ok := strings.CutPrefix(path, "/v3/payscore/serviceorder/"); ok {
		if seg, _, _ := strings.Cut(rest, "/"); seg != "direct-complete" {
			if u, err := url.PathUnescape(seg); err == nil {
				return u
			}
			return seg
		}
	}
	q, _ := url.ParseQuery(rawQuery)
	if no := q.Get("out_order_no"); no != "" {
		return no
	}
	var body struct {
		OutOrderNo string `json:"out_order_no"`
	}
	if json.Unmarshal([]byte(r.RequestBody), &body) == nil {
		return body.OutOrderNo
	}
	return ""
}

func dashRank(key string) int {
	if i := slices.Index(dashDiagFirst, key); i >= 0 {
		return i
	}
	return len(dashDiagFirst)
}

func (s *Server) handleDashRequests(c echo.Context) error {
	q, err := queryParams(c, "mchid", "failed", "limit")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	rp := &dashRequestsPage{MchID: q["mchid"], Limit: dashRequestsDefault}
	switch q["failed"] {
	case "", "0", "false":
	case "1", "true", "on":
		rp.Failed = true
	default:
		return s.renderError(c, simulator.ParamError("failed", q["failed"], "must be 1 or true to keep only failed requests").With("location", "query"), nil, nil)
	}
	if q["limit"] != "" {
		if rp.Limit, err = limitParam(q["limit"]); err != nil {
			return s.renderError(c, err, nil, nil)
		}
	}
	for _, m := range s.Merchants.All() {
		rp.Merchants = append(rp.Merchants, m.MchID)
	}
	records, err := s.Requests.ListRequests(c.Request().Context(), simulator.RequestFilter{MchID: rp.MchID, Failed: rp.Failed, Limit: rp.Limit})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	rp.Requests = dashRequests(records)
	p := s.dashPage("Requests", "requests")
	p.Requests = rp
	return s.render(c, http.StatusOK, "dashboard-requests.html", p)
}

// ---- notifications --------------------------------------------------------------------------

type dashNotificationRow struct {
	ID, URL, EventType, State, Created, NextAttempt string
	MchID, OutOrderNo, OrderURL, NotifyURL          string
	AuthorizationCode                               string
	Attempts                                        int
}

func dashNotificationRows(ns []*simulator.Notification) []dashNotificationRow {
	rows := make([]dashNotificationRow, 0, len(ns))
	for _, n := range ns {
		r := dashNotificationRow{
			ID: n.ID, URL: notificationPath(n.ID), EventType: string(n.EventType), State: string(n.State),
			Created: dashTime(n.CreatedAt), MchID: n.MchID, OutOrderNo: n.OutOrderNo, NotifyURL: n.NotifyURL,
			AuthorizationCode: n.AuthorizationCode, Attempts: n.Attempts,
		}
		if n.State == simulator.NotificationPending {
			r.NextAttempt = dashTime(n.NextAttemptAt)
		}
		if n.OutOrderNo != "" {
			r.OrderURL = orderPath(n.MchID, n.OutOrderNo)
		}
		rows = append(rows, r)
	}
	return rows
}

type dashNotificationPage struct {
	dashNotificationRow
	Summary            string
	Envelope, Resource string
	// Deliveries are every attempt, lab ones included.
	Deliveries   []dashAttempt
	ResendAction string
	LabAction    string
	Lab          []dashLabVariant
	// Worker is false when the simulator runs without a notification worker: the lab cannot
	// deliver then.
	Worker bool
}

type dashAttempt struct {
	N                                          int
	Time, Latency, Error, Response, Lab, Class string
	Status                                     int
	Success                                    bool
}

type dashLabVariant struct{ Variant, Description string }

func (s *Server) handleDashNotification(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ctx := c.Request().Context()
	n, err := s.Service.Notifications.FindNotification(ctx, id)
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	attempts, err := s.Service.Notifications.ListAttempts(ctx, n.ID)
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	np := &dashNotificationPage{
		dashNotificationRow: dashNotificationRows([]*simulator.Notification{n})[0],
		Summary:             n.Summary,
		Envelope:            dashPrettyJSON(string(n.Body)), Resource: dashPrettyJSON(string(n.Resource)),
		ResendAction: notificationPath(n.ID) + "/resend", LabAction: notificationPath(n.ID) + "/lab",
		Worker: s.Service.LabAvailable(),
	}
	for i, a := range attempts {
		da := dashAttempt{
			N: i + 1, Time: dashTime(a.Time), Status: a.Status, Success: a.Success, Latency: dashLatency(a.Latency),
			Error: a.Error, Response: a.ResponseBody, Lab: string(a.Lab), Class: "attempt-failed",
		}
		if a.Success {
			da.Class = "attempt-ok"
		}
		np.Deliveries = append(np.Deliveries, da)
	}
	for _, v := range simulator.LabVariants {
		np.Lab = append(np.Lab, dashLabVariant{string(v), v.Describe()})
	}
	p := s.dashPage("Notification "+n.ID, "overview")
	p.Notification = np
	return s.render(c, http.StatusOK, "dashboard-notification.html", p)
}

// handleDashResend sends the notification again as POST /sim/v1/notifications/{id}/resend does:
// through the worker, which delivers it at once. The attempt appears when it is made.
func (s *Server) handleDashResend(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	if _, err := s.Service.ResendNotification(c.Request().Context(), id); err != nil {
		return s.renderError(c, err, nil, nil)
	}
	return c.Redirect(http.StatusSeeOther, notificationPath(id))
}

// handleDashLab delivers a notification lab variant, as POST /sim/v1/notifications/{id}/lab
// does; the attempt is recorded before the answer.
func (s *Server) handleDashLab(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	if _, err := s.Service.NotificationLab(c.Request().Context(), id, c.FormValue("variant")); err != nil {
		return s.renderError(c, err, nil, dashGiven(c, "variant"))
	}
	return c.Redirect(http.StatusSeeOther, notificationPath(id))
}

// ---- permissions ----------------------------------------------------------------------------

type dashPermissionsPage struct {
	MchID, State string
	States       []string
	Merchants    []string
	Permissions  []dashPermission
}

type dashPermission struct {
	ID, MchID, ServiceID, AppID, AuthorizationCode, OpenID, State string
	NotifyURL, Created, Authorized, Cancelled, CancelledBy        string
	CancelReason                                                  string
	Warnings                                                      []string
	RevokeAction, RevokeID                                        string
}

func (s *Server) handleDashPermissions(c echo.Context) error {
	q, err := queryParams(c, "mchid", "state")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	state, err := queryEnum("state", q["state"], simulator.ParseAuthorizationState)
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	pp := &dashPermissionsPage{MchID: q["mchid"], State: q["state"]}
	for _, st := range simulator.AuthorizationStates {
		pp.States = append(pp.States, string(st))
	}
	for _, m := range s.Merchants.All() {
		pp.Merchants = append(pp.Merchants, m.MchID)
	}
	ps, err := s.Service.ListPermissions(c.Request().Context(), simulator.PermissionFilter{
		MchID: q["mchid"], State: state, Limit: 500,
	})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, p := range ps {
		dp := dashPermission{
			ID: p.ID, MchID: p.MchID, ServiceID: p.ServiceID, AppID: p.AppID, AuthorizationCode: p.AuthorizationCode,
			OpenID: p.OpenID, State: string(p.State), NotifyURL: p.NotifyURL, Created: dashTime(p.CreatedAt),
			Authorized: dashTime(p.AuthorizedAt), Cancelled: dashTime(p.CancelledAt), CancelledBy: p.CancelledBy,
			CancelReason: p.CancelReason, Warnings: p.Warnings,
		}
		if p.State == simulator.AuthorizationAvailable {
			dp.RevokeAction = "/dashboard/permissions/" + url.PathEscape(p.MchID) + "/" + url.PathEscape(p.AuthorizationCode) + "/revoke"
			dp.RevokeID = "revoke-" + p.ID
		}
		pp.Permissions = append(pp.Permissions, dp)
	}
	p := s.dashPage("Permissions", "permissions")
	p.Permissions = pp
	return s.render(c, http.StatusOK, "dashboard-permissions.html", p)
}

// handleDashRevoke is the user ending an authorization in WeChat, as
// POST /sim/v1/permissions/{mchid}/{authorization_code}/revoke.
func (s *Server) handleDashRevoke(c echo.Context) error {
	code, err := pathParam(c, "authorization_code")
	if err == nil {
		_, err = s.Service.RevokePermission(c.Request().Context(), c.Param("mchid"), code, c.FormValue("service_id"))
	}
	if err != nil {
		return s.renderError(c, err, nil, dashGiven(c, "service_id"))
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard/permissions")
}
