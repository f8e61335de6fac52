package scenario

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/wxcrypto"
)

// The user in the Pay Score mini-program: the merchant's front end opens it (open_visit), the
// user presses its buttons (confirm, decline, not_eligible, return, back, android_back,
// authorize).

var businessTypes = map[string]simulator.BusinessType{
	"use": simulator.BusinessUse, "detail": simulator.BusinessDetail, "enable": simulator.BusinessEnable,
}

var navigatePaths = map[simulator.BusinessType]string{
	simulator.BusinessUse: "pages/use/use", simulator.BusinessDetail: "pages/record/detail", simulator.BusinessEnable: "pages/use/enable",
}

// openVisitStep is the merchant's front end opening the Pay Score mini-program: with
// wx.openBusinessView's extraData (the default) or queryString, or wx.navigateToMiniProgram.
type openVisitStep struct {
	// btName is the businessType as written ("" when not): navigate sends it only when given.
	btName string
	bt     simulator.BusinessType
	form   string
	sign   string
	// extraData are the step's own extraData fields, over those the step makes.
	extraData map[string]any
	// queryString, appID and path, when given, are sent as they are.
	queryString, appID, path *string
	// openid and invokerAppID name the user and the calling mini-program's appid, when given.
	openid, invokerAppID *string
}

func (o *openVisitStep) set(a args) error {
	o.btName, _ = a.str("businessType")
	o.bt = simulator.BusinessUse
	if o.btName != "" {
		o.bt = simulator.BusinessType(o.btName)
		if short, ok := businessTypes[o.btName]; ok {
			o.bt = short
		}
	}
	o.form, _ = a.str("form")
	if o.form == "" {
		o.form = "extraData"
	}
	o.sign, _ = a.str("sign")
	if o.sign == "" {
		// Only the order-detail page requires a signature in production.
		o.sign = "none"
		if o.bt == simulator.BusinessDetail {
			o.sign = "apiv2"
		}
	}
	o.extraData, _ = a["extraData"].(map[string]any)
	o.queryString, o.appID, o.path = optional(a, "queryString"), optional(a, "appId"), optional(a, "path")
	o.openid, o.invokerAppID = optional(a, "openid"), optional(a, "invoker_appid")
	return nil
}

// optional is a field as text when given.
func optional(a args, key string) *string {
	if v, ok := a.str(key); ok {
		return &v
	}
	return nil
}

func (o *openVisitStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	extra, err := o.extra(s, m)
	if err != nil {
		return nil, err
	}
	req := o.request(s, extra)
	resp, err := s.control(ctx, http.MethodPost, "/sim/v1/visits", req)
	if err == nil && resp.ok() {
		s.setFrom(resp.doc, "visit_id")
	}
	return resp, err
}

// extra is the extraData a merchant's front end passes: what the page needs (the order's
// package, the order, the authorization token), signed as the step says, the step's own fields
// over it.
func (o *openVisitStep) extra(s *session, m *Merchant) (map[string]any, error) {
	d := map[string]any{}
	switch o.bt {
	case simulator.BusinessUse:
		if p, ok := s.env.vars["package"]; ok {
			d["package"] = p
		}
	case simulator.BusinessDetail:
		d["service_id"] = s.ids(m)["service_id"]
		if s.order != nil {
			d["out_order_no"] = s.order.outOrderNo
		}
	case simulator.BusinessEnable:
		if t, ok := s.env.vars["apply_permissions_token"]; ok {
			d["apply_permissions_token"] = t
		}
	}
	if o.sign != "none" {
		d["mch_id"] = m.MchID
		d["timestamp"] = strconv.FormatInt(time.Now().Unix(), 10)
		d["nonce_str"] = randomAlnum(32)
		d["sign_type"] = wxcrypto.SignTypeHMACSHA256
	}
	extra := prune(overlay(d, o.extraData))
	if _, own := o.extraData["sign"]; o.sign != "none" && !own {
		sig, err := frontendSign(m, o.sign, extra)
		if err != nil {
			return nil, err
		}
		extra["sign"] = sig
	}
	return extra, nil
}

// request is the control API's visit request in the step's form. Its user is the scenario's
// own (o${unique}u) unless the step names one: scenarios sharing a simulator are different
// users, as a user authorizes a service once.
func (o *openVisitStep) request(s *session, extra map[string]any) map[string]any {
	req := map[string]any{}
	switch o.form {
	case "queryString":
		req["businessType"] = string(o.bt)
		req["queryString"] = o.encodedExtra(extra)
	case "navigate":
		req["appId"] = simulator.PayScoreAppID
		req["path"] = navigatePaths[o.bt]
		req["extraData"] = extra
		if o.btName != "" {
			req["businessType"] = string(o.bt)
		}
	default:
		req["businessType"] = string(o.bt)
		req["extraData"] = extra
	}
	if o.appID != nil {
		req["appId"] = *o.appID
	}
	if o.path != nil {
		req["path"] = *o.path
	}
	req["openid"] = "o" + s.unique + "u"
	if o.openid != nil {
		req["openid"] = *o.openid // "" asks for the simulator's default user of the appid
	}
	if o.invokerAppID != nil {
		req["invoker_appid"] = *o.invokerAppID
	}
	return req
}

// encodedExtra is the queryString form of extraData, unless the step wrote its own.
func (o *openVisitStep) encodedExtra(extra map[string]any) string {
	if o.queryString != nil {
		return *o.queryString
	}
	q := url.Values{}
	for k, v := range extra {
		q.Set(k, text(v))
	}
	return q.Encode()
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

// visitStep is the user pressing a button of a visit (decline, not_eligible, return, back,
// android_back), or, with no action, reading the visit.
type visitStep struct {
	action  string
	visitID *string
}

func (v *visitStep) set(a args) error {
	v.visitID = optional(a, "visit_id")
	return nil
}

// visitPath is /sim/v1/visits/{visit_id}, of the last visit opened unless the step names one.
func visitPath(s *session, given *string) (string, error) {
	if given != nil {
		return "/sim/v1/visits/" + url.PathEscape(*given), nil
	}
	id, err := s.variable("visit_id", "no visit yet: open_visit first, or give a visit_id")
	if err != nil {
		return "", err
	}
	return "/sim/v1/visits/" + url.PathEscape(id), nil
}

func (v *visitStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	path, err := visitPath(s, v.visitID)
	if err != nil {
		return nil, err
	}
	if v.action == "" {
		return s.control(ctx, http.MethodGet, path, nil)
	}
	resp, err := s.control(ctx, http.MethodPost, path+"/"+v.action, nil)
	if err == nil && resp.ok() && (v.action == "return" || v.action == "decline") {
		// The query_id the merchant's App.onShow receives, to query the order by.
		if q, ok := lookupPath(resp.doc, "referrerInfo.extraData.query_id"); ok {
			s.env.vars["query_id"] = q
		}
	}
	return resp, err
}

// userStep is the user confirming an order or authorizing a service, as openid (by default the
// visit's user: the one open_visit named, else the default user of the appid).
type userStep struct {
	action  string
	visitID *string
	openid  *string
}

func (a *userStep) set(x args) error {
	a.visitID, a.openid = optional(x, "visit_id"), optional(x, "openid")
	return nil
}

func (a *userStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	path, err := visitPath(s, a.visitID)
	if err != nil {
		return nil, err
	}
	var b any
	if a.openid != nil {
		b = map[string]any{"openid": *a.openid}
	}
	resp, err := s.control(ctx, http.MethodPost, path+"/"+a.action, b)
	if err == nil && resp.ok() && a.action == "authorize" {
		// The authorized user's openid, to create orders without confirmation for; a confirm
		// leaves ${openid} as it was (capture: takes the confirming user's).
		s.setFrom(resp.doc, "openid", "authorization_code")
	}
	return resp, err
}
