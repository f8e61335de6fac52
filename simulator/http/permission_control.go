package http

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerPermissionControls serves the user's side of the authorization mode: authorizing on a
// wxpayScoreEnable visit, revoking in WeChat, a test seeding an authorized user, and the list.
func (s *Server) registerPermissionControls(g *echo.Group) {
	g.POST("/visits/:id/authorize", s.userAction((*simulator.Service).AuthorizeVisit))
	g.GET("/permissions", s.handleListPermissions)
	g.POST("/permissions/:mchid/authorize", s.handleSeedPermission)
	g.POST("/permissions/:mchid/:authorization_code/revoke", s.handleRevokePermission)
}

// decodeOptionalBody decodes a JSON body into v when there is one; no body leaves v as it is.
func decodeOptionalBody(c echo.Context, v any) error {
	body, err := requestBody(c)
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	return decodeBody(c, v)
}

func (s *Server) handleListPermissions(c echo.Context) error {
	q, err := queryParams(c, "mchid", "service_id", "appid", "openid", "authorization_code", "state", "limit", "before")
	if err != nil {
		return err
	}
	state, err := queryEnum("state", q["state"], simulator.ParseAuthorizationState)
	if err != nil {
		return err
	}
	ps, next, err := listPage(c, q, func(before string, limit int) ([]*simulator.Permission, error) {
		return s.Service.ListPermissions(c.Request().Context(), simulator.PermissionFilter{
			MchID: q["mchid"], ServiceID: q["service_id"], AppID: q["appid"], OpenID: q["openid"],
			AuthorizationCode: q["authorization_code"], State: state, Limit: limit, Before: before,
		})
	}, func(p *simulator.Permission) string { return p.ID })
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, pageOf(ps, next))
}

func (s *Server) handleSeedPermission(c echo.Context) error {
	var req simulator.SeedPermissionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, err := s.Service.SeedPermission(c.Request().Context(), c.Param("mchid"), req)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, p)
}

// handleRevokePermission is the user ending the authorization in WeChat. The service_id (query
// or body {"service_id"}) is needed only when the authorization_code exists under two services.
func (s *Server) handleRevokePermission(c echo.Context) error {
	code, err := pathParam(c, "authorization_code")
	if err != nil {
		return err
	}
	q, err := queryParams(c, "service_id")
	if err != nil {
		return err
	}
	req := struct {
		ServiceID string `json:"service_id"`
	}{ServiceID: q["service_id"]}
	if err := decodeOptionalBody(c, &req); err != nil {
		return err
	}
	p, err := s.Service.RevokePermission(c.Request().Context(), c.Param("mchid"), code, req.ServiceID)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, p)
}
