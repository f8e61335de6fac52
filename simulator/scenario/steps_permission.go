package scenario

import (
	"context"
	"net/http"
	"net/url"
)

// Authorization (pre-authorization) steps: the merchant's permissions API, and the control API
// for what only the user or WeChat does.

// applyPermissionsStep is POST /v3/payscore/permissions: the merchant asks for a token with which
// the user opens the authorization page.
type applyPermissionsStep struct{ apiStep }

func (a *applyPermissionsStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	d := map[string]any{
		"appid": m.AppID, "service_id": m.ServiceID,
		"authorization_code": s.numbered("apply_permissions"),
		"notify_url":         s.env.vars["notify_url"],
	}
	b := body(d, a.args)
	resp, err := s.api(ctx, m, http.MethodPost, "/v3/payscore/permissions", b)
	if err == nil && resp.ok() {
		s.setFrom(resp.doc, "apply_permissions_token")
		// The code is the merchant's own: the response does not repeat it.
		if code, ok := b["authorization_code"]; ok {
			s.env.vars["authorization_code"] = code
		}
	}
	return resp, err
}

// permissionStep is query_permission (GET) or terminate_permission (POST .../terminate), of a
// permission named by openid, or by authorization_code (the current one by default).
type permissionStep struct {
	apiStep
	terminate bool
}

func (p *permissionStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	path, byOpenID, err := p.path(s)
	if err != nil {
		return nil, err
	}
	d := map[string]any{"service_id": m.ServiceID}
	if byOpenID {
		// Only the openid form names the appid the openid belongs to.
		d["appid"] = m.AppID
	}
	a := p.args.without("openid", "authorization_code")
	if !p.terminate {
		return s.api(ctx, m, http.MethodGet, path+"?"+queryOf(overlay(d, a)), nil)
	}
	d["reason"] = "用户申请解除授权"
	return s.api(ctx, m, http.MethodPost, path+"/terminate", body(d, a))
}

// path is /v3/payscore/permissions/openid/{openid} when the step names an openid, else
// .../authorization-code/{code}.
func (p *permissionStep) path(s *session) (string, bool, error) {
	if openid, ok := p.args.str("openid"); ok {
		return "/v3/payscore/permissions/openid/" + url.PathEscape(openid), true, nil
	}
	code, err := s.authorizationCode(p.args, "no authorization_code yet: apply_permissions or seed_permission first, or give authorization_code or openid")
	if err != nil {
		return "", false, err
	}
	return "/v3/payscore/permissions/authorization-code/" + url.PathEscape(code), false, nil
}

// authorizationCode is the code a step names, else the current one.
func (s *session) authorizationCode(a args, missing string) (string, error) {
	if code, ok := a.str("authorization_code"); ok {
		return code, nil
	}
	return s.variable("authorization_code", missing)
}

// revokePermissionStep is the user closing the service in WeChat (the control API).
type revokePermissionStep struct {
	code      string
	codeGiven bool
	serviceID *string
}

func (r *revokePermissionStep) set(a args) error {
	r.code, r.codeGiven = a.str("authorization_code")
	if sid, ok := a.str("service_id"); ok {
		r.serviceID = &sid
	}
	return nil
}

func (r *revokePermissionStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	code := r.code
	if !r.codeGiven {
		var err error
		if code, err = s.variable("authorization_code", "no authorization_code yet: apply_permissions or seed_permission first, or give one"); err != nil {
			return nil, err
		}
	}
	var b any
	if r.serviceID != nil {
		b = map[string]any{"service_id": *r.serviceID}
	}
	return s.control(ctx, http.MethodPost, "/sim/v1/permissions/"+url.PathEscape(m.MchID)+"/"+url.PathEscape(code)+"/revoke", b)
}

// seedPermissionStep makes a user who authorized the merchant already, without the pages.
type seedPermissionStep struct{ apiStep }

func (p *seedPermissionStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	m := s.merchant(st)
	d := map[string]any{
		"appid": m.AppID, "service_id": m.ServiceID,
		"openid":     "o" + s.numbered("seed_permission"),
		"notify_url": s.env.vars["notify_url"],
	}
	resp, err := s.control(ctx, http.MethodPost, "/sim/v1/permissions/"+url.PathEscape(m.MchID)+"/authorize", body(d, p.args))
	if err == nil && resp.ok() {
		s.setFrom(resp.doc, "openid", "authorization_code")
	}
	return resp, err
}
