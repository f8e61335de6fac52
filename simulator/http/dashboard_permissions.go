package http

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's permissions page (/dashboard/permissions): authorizations, and the user's
// revoke.

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
	pp.Merchants = s.Merchants.IDs()
	ps, err := s.Service.ListPermissions(c.Request().Context(), simulator.PermissionFilter{
		MchID: q["mchid"], State: state, Limit: 500,
	})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, p := range ps {
		dp := dashPermission{
			ID: p.ID, MchID: p.MchID, ServiceID: p.ServiceID, AppID: p.AppID, AuthorizationCode: p.AuthorizationCode,
			OpenID: p.OpenID, State: string(p.State), NotifyURL: p.NotifyURL, Created: web.Time(p.CreatedAt),
			Authorized: web.Time(p.AuthorizedAt), Cancelled: web.Time(p.CancelledAt), CancelledBy: p.CancelledBy,
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
