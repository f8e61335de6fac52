package http

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// pageCSP allows the pages nothing but their own stylesheet and forms: they need no script,
// and a merchant's text that escaped html/template still could not run.
const pageCSP = "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'"

// openParams are the parameters of GET /sim/open, in the order the error page lists them.
var openParams = []string{"businessType", "extraData", "queryString", "appId", "path", "openid", "invoker_appid"}

// registerPageRoutes serves the user's side as pages: the Pay Score mini-program at a visit's
// page_url, its buttons as forms that take the same Service actions as the control API, and
// /sim/open, which opens a visit from a link as wx.openBusinessView would.
func (s *Server) registerPageRoutes() {
	s.echo.StaticFS("/static", web.Static)
	s.echo.GET("/sim/open", s.handleOpenPage)
	s.echo.GET("/sim/visits/:id", s.handleVisitPage)
	// The buttons, like the dashboard's, work from the simulator's own pages only.
	for n, step := range visitSteps {
		s.echo.POST("/sim/visits/:id/"+string(n), s.pageAction(step), s.dashSameOrigin)
	}
}

// pageData is what visit.html and error.html render. The layout uses Title, BackAction,
// Warnings and Visit; the rest belongs to one page.
type pageData struct {
	Title string
	// BackAction is where the top-left back icon posts; empty when the visit does not offer it
	// (once the user has left).
	BackAction string
	// AndroidBackAction is where the phone's own back button posts, shown under the page.
	AndroidBackAction string
	Warnings          []string
	Visit             *simulator.Visit
	Order             *simulator.Order

	// Kind is the visit's page: confirm, not_eligible, confirmed, detail, authorize,
	// authorized or result.
	Kind string
	// Buttons are the page's own buttons: the actions the visit offers but the back icon.
	Buttons []pageButton
	// AppShow and H5Callback are what the merchant receives, as indented JSON.
	AppShow, H5Callback string
	// H5 is set when the visit came from an H5 page, whose callback is then shown first.
	H5 bool
	// QueryTarget is the query API call that finds the order after the visit.
	QueryTarget string

	Err *errorPage
}

// errorPage is a rejection as the error page shows it.
type errorPage struct {
	Status        int
	Code, Message string
	Detail        []keyValue
	// Request is what /sim/open was given, so the user sees what was rejected.
	Request  []keyValue
	VisitURL string
}

type keyValue struct{ Key, Value string }

func visitPath(id string) string { return "/sim/visits/" + url.PathEscape(id) }

func (s *Server) handleVisitPage(c echo.Context) error {
	v, err := s.Service.FindVisit(c.Request().Context(), c.Param("id"))
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	p := visitPage(v)
	q := s.tokenQuery(c)
	withToken(q, &p.BackAction)
	withToken(q, &p.AndroidBackAction)
	for i := range p.Buttons {
		withToken(q, &p.Buttons[i].Action)
	}
	return s.render(c, http.StatusOK, "visit.html", p)
}

// pageButton is one of the page's buttons: a form that posts the action.
type pageButton struct {
	ID, Action, LabelZH, LabelEN string
	// Primary is the first button, the one the page leads the user to.
	Primary bool
}

// visitPage chooses what the Pay Score mini-program shows for the visit's state; its buttons are
// the actions the visit offers (Visit.Actions), so the page offers nothing the API refuses.
func visitPage(v *simulator.Visit) *pageData {
	p := &pageData{Warnings: v.Warnings, Visit: v, Order: v.Order}
	for _, a := range v.Actions() {
		action := visitPath(v.ID) + "/" + string(a.Name)
		switch a.Name {
		case simulator.ActionBack:
			p.BackAction = action
			continue
		case simulator.ActionAndroidBack:
			p.AndroidBackAction = action
			continue
		}
		p.Buttons = append(p.Buttons, pageButton{ID: string(a.Name) + "-button", Action: action,
			LabelZH: a.LabelZH(), LabelEN: a.LabelEN(), Primary: len(p.Buttons) == 0})
	}
	switch {
	case v.Ended():
		p.Kind, p.Title = "result", "已返回商户 Back at the merchant"
		p.AppShow, p.H5Callback = web.IndentJSON(v.AppShow()), web.IndentJSON(v.H5Callback())
		p.H5 = v.Form == simulator.FormQueryString
		p.QueryTarget = queryTarget(v)
	case v.BusinessType == simulator.BusinessEnable && v.Authorized:
		p.Kind, p.Title = "authorized", "授权成功 Authorized"
	case v.BusinessType == simulator.BusinessEnable:
		p.Kind, p.Title = "authorize", "开启支付分 Authorize"
	case v.Ineligible:
		p.Kind, p.Title = "not_eligible", "暂不满足 Not eligible"
	case v.BusinessType == simulator.BusinessUse && !v.Confirmed:
		p.Kind, p.Title = "confirm", "确认订单 Confirm the order"
	case v.BusinessType == simulator.BusinessUse:
		p.Kind, p.Title = "confirmed", "确认成功 Confirmed"
	default:
		p.Kind, p.Title = "detail", "订单详情 Order detail"
	}
	return p
}

// queryTarget is the API call that tells the merchant where the visit left things: the order
// (by the returned query_id, or by out_order_no), or for an authorization the permission.
func queryTarget(v *simulator.Visit) string {
	if p := v.Permission; p != nil {
		return "/v3/payscore/permissions/authorization-code/" + url.PathEscape(p.AuthorizationCode) + "?" + url.Values{"service_id": {p.ServiceID}}.Encode()
	}
	o := v.Order
	if o == nil {
		return ""
	}
	q := url.Values{"service_id": {o.ServiceID}, "appid": {o.AppID}}
	if v.QueryID != "" {
		q.Set("query_id", v.QueryID)
	} else {
		q.Set("out_order_no", o.OutOrderNo)
	}
	return "/v3/payscore/serviceorder?" + q.Encode()
}

// pageAction serves a button of the page: it takes the step, then shows the page again
// (303, so that reloading the page does not repeat the step).
func (s *Server) pageAction(step visitStep) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, id := c.Request().Context(), c.Param("id")
		if _, err := step(s.Service, ctx, id); err != nil {
			// The visit, when there is one, gives the error page its link back and warnings.
			v, _ := s.Service.FindVisit(ctx, id)
			return s.renderError(c, err, v, nil)
		}
		return c.Redirect(http.StatusSeeOther, visitPath(id)+s.tokenQuery(c))
	}
}

// handleOpenPage opens a visit from a link: the arguments of wx.openBusinessView
// (businessType, extraData as URL-encoded JSON), of H5's wx.invoke (queryString) or of
// wx.navigateToMiniProgram (appId, path, extraData). A rejection shows its diagnostic.
func (s *Server) handleOpenPage(c echo.Context) error {
	req, given, err := openRequest(c.Request().URL.RawQuery)
	if err == nil {
		var v *simulator.Visit
		if v, err = s.Service.OpenVisit(c.Request().Context(), req); err == nil {
			return c.Redirect(http.StatusSeeOther, visitPath(v.ID)+s.tokenQuery(c))
		}
	}
	return s.renderError(c, err, nil, given)
}

// openRequest reads /sim/open's query strictly, and returns what it was given for the error
// page.
func openRequest(rawQuery string) (simulator.OpenVisitRequest, []keyValue, error) {
	var req simulator.OpenVisitRequest
	values, err := url.ParseQuery(rawQuery)
	if err != nil {
		return req, []keyValue{{"query", rawQuery}}, simulator.Errorf(simulator.CodeParamError, "查询参数格式错误").
			With("location", "query").With("issue", err.Error())
	}
	var given []keyValue
	for _, n := range openParams {
		for _, v := range values[n] {
			given = append(given, keyValue{n, v})
		}
	}
	for _, n := range slices.Sorted(maps.Keys(values)) {
		switch {
		case !slices.Contains(openParams, n):
			return req, given, simulator.ParamError(n, values[n][0],
				"is not a parameter of /sim/open, which takes businessType, extraData (a URL-encoded JSON object), queryString (the H5 form), appId with path (navigateToMiniProgram), and the optional openid (the user) and invoker_appid (the calling mini-program's appid)").
				With("location", "query")
		case len(values[n]) > 1:
			return req, given, simulator.ParamError(n, values[n], "must be given once").With("location", "query")
		}
	}
	req.BusinessType = simulator.BusinessType(values.Get("businessType"))
	req.AppID, req.Path = values.Get("appId"), values.Get("path")
	req.OpenID, req.InvokerAppID = values.Get("openid"), values.Get("invoker_appid")
	if values.Has("queryString") {
		qs := values.Get("queryString")
		req.QueryString = &qs
	}
	if values.Has("extraData") {
		if req.ExtraData, err = extraDataParam(values.Get("extraData")); err != nil {
			return req, given, err
		}
	}
	return req, given, nil
}

// extraDataParam decodes extraData given as URL-encoded JSON, and says exactly how it is
// malformed when it is.
func extraDataParam(raw string) (map[string]json.RawMessage, error) {
	var m map[string]json.RawMessage
	err := json.Unmarshal([]byte(raw), &m)
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var issue string
	switch {
	case strings.TrimSpace(raw) == "":
		issue = `is empty: pass a URL-encoded JSON object, such as {"package":"..."}`
	case errors.As(err, &syntax):
		issue = fmt.Sprintf("is not valid JSON: %v (at byte %d); pass a URL-encoded JSON object, such as {\"package\":\"...\"}", syntax, syntax.Offset)
	case errors.As(err, &typ):
		issue = fmt.Sprintf("must be a JSON object, not a JSON %s", typ.Value)
	case err != nil:
		issue = "is not valid JSON: " + err.Error()
	case m == nil:
		issue = "must be a JSON object, not null"
	default:
		return m, nil
	}
	return nil, simulator.ParamError("extraData", raw, issue).With("location", "query")
}

// renderError shows a rejection as a page with WeChat's status, code and message, and every
// detail the simulator adds. Errors that are not the client's fault are logged and are the only
// ones shown as SYSTEM_ERROR.
func (s *Server) renderError(c echo.Context, err error, v *simulator.Visit, given []keyValue) error {
	var e *simulator.Error
	if !errors.As(err, &e) {
		s.Logger.Error("page failed", "method", c.Request().Method, "target", c.Request().RequestURI, "err", err)
		e = simulator.Errorf(simulator.CodeSystemError, "系统错误").With("issue", err.Error())
	}
	status, ok := statuses[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	ep := &errorPage{Status: status, Code: e.Code, Message: e.Message, Request: given}
	for _, k := range slices.Sorted(maps.Keys(e.Detail)) {
		ep.Detail = append(ep.Detail, keyValue{k, detailText(e.Detail[k])})
	}
	p := &pageData{Title: "出错了 Rejected", Err: ep}
	if v != nil {
		p.Visit, p.Warnings, ep.VisitURL = v, v.Warnings, visitPath(v.ID)+s.tokenQuery(c)
	}
	return s.render(c, status, "error.html", p)
}

// detailText shows a detail value: a string as it is, anything else as JSON.
func detailText(v any) string {
	if s, ok := v.(string); ok {
		return s
	}
	return strings.TrimSpace(web.IndentJSON(v))
}

// render writes a page. The pages change with every action, so none is cached.
func (s *Server) render(c echo.Context, status int, name string, data any) error {
	var buf bytes.Buffer
	if err := web.Templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("render %s: %w", name, err)
	}
	h := c.Response().Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP+"; frame-ancestors "+s.frameAncestors(c.Request().URL.Path))
	h.Set("X-Content-Type-Options", "nosniff")
	// A page's URL may carry the token (see tokenQuery); no request it makes passes it on.
	h.Set("Referrer-Policy", "same-origin")
	if !strings.HasPrefix(c.Request().URL.Path, "/sim/") {
		h.Set("X-Frame-Options", "DENY")
	}
	return c.HTMLBlob(status, buf.Bytes())
}
