package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// This file serves the authorization (no-confirm, 免确认) mode of APIv3: pre-authorization,
// the two queries and two terminates of a permission, and direct-complete. api.go registers
// the routes behind authentication.

// appliedPermission is the answer of POST /v3/payscore/permissions.
type appliedPermission struct {
	ApplyPermissionsToken string `json:"apply_permissions_token"`
}

// permissionRecord is a permission as the query APIs answer it. Times are RFC3339 in China
// Standard Time and appear only once they happened; notify_url only in the query by
// authorization_code, as documented.
type permissionRecord struct {
	ServiceID                string `json:"service_id"`
	AppID                    string `json:"appid"`
	MchID                    string `json:"mchid"`
	OpenID                   string `json:"openid,omitempty"`
	AuthorizationCode        string `json:"authorization_code"`
	AuthorizationState       string `json:"authorization_state"`
	NotifyURL                string `json:"notify_url,omitempty"`
	CancelAuthorizationTime  string `json:"cancel_authorization_time,omitempty"`
	AuthorizationSuccessTime string `json:"authorization_success_time,omitempty"`
	// UserRiskLevel and RiskLevelVersion (用户分层, 分层版本) are numbers in the documentation
	// (WPIM permissions/openid/{openid}.md), which gives no values: the simulator gives every
	// user level 1 of version 1, once the permission has a user.
	UserRiskLevel    *int `json:"user_risk_level,omitempty"`
	RiskLevelVersion *int `json:"risk_level_version,omitempty"`
}

// simulatedRiskLevel is the user_risk_level and risk_level_version of every user.
var simulatedRiskLevel = 1

func recordOf(p *simulator.Permission, withNotifyURL bool) permissionRecord {
	r := permissionRecord{
		ServiceID: p.ServiceID, AppID: p.AppID, MchID: p.MchID, OpenID: p.OpenID,
		AuthorizationCode: p.AuthorizationCode, AuthorizationState: string(p.State),
	}
	if withNotifyURL {
		r.NotifyURL = p.NotifyURL
	}
	if p.OpenID != "" {
		r.UserRiskLevel, r.RiskLevelVersion = &simulatedRiskLevel, &simulatedRiskLevel
	}
	if !p.CancelledAt.IsZero() {
		r.CancelAuthorizationTime = simulator.FormatRFC3339(p.CancelledAt)
	}
	if !p.AuthorizedAt.IsZero() {
		r.AuthorizationSuccessTime = simulator.FormatRFC3339(p.AuthorizedAt)
	}
	return r
}

func (s *Server) handleApplyPermission(c echo.Context) error {
	var req simulator.ApplyPermissionRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	p, err := s.Service.ApplyPermission(c.Request().Context(), merchantOf(c), req)
	if err != nil {
		return err
	}
	c.Set(keyWarnings, p.Warnings)
	return s.respondJSON(c, http.StatusOK, appliedPermission{ApplyPermissionsToken: p.Token})
}

func (s *Server) handleQueryPermission(c echo.Context) error {
	code, err := pathParam(c, "authorization_code")
	if err != nil {
		return err
	}
	q, err := queryParams(c, "service_id")
	if err != nil {
		return err
	}
	p, err := s.Service.QueryPermission(c.Request().Context(), merchantOf(c), code, q["service_id"])
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, recordOf(p, true))
}

func (s *Server) handleQueryPermissionByOpenID(c echo.Context) error {
	openid, err := pathParam(c, "openid")
	if err != nil {
		return err
	}
	q, err := queryParams(c, "appid", "service_id")
	if err != nil {
		return err
	}
	p, err := s.Service.QueryPermissionByOpenID(c.Request().Context(), merchantOf(c), openid, q["appid"], q["service_id"])
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, recordOf(p, false))
}

// permissionTerminate is TerminatePermission or TerminatePermissionByOpenID.
type permissionTerminate func(*simulator.Service, echo.Context, *simulator.Merchant, string, simulator.TerminatePermissionRequest) (*simulator.Permission, error)

// terminateAction serves POST .../{param}/terminate: 204 No Content, signed like every answer.
func (s *Server) terminateAction(param string, step permissionTerminate) echo.HandlerFunc {
	return func(c echo.Context) error {
		key, err := pathParam(c, param)
		if err != nil {
			return err
		}
		var req simulator.TerminatePermissionRequest
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		p, err := step(s.Service, c, merchantOf(c), key, req)
		if err != nil {
			return err
		}
		c.Set(keyWarnings, p.Warnings)
		return s.respond(c, http.StatusNoContent, nil)
	}
}

func terminateByCode(svc *simulator.Service, c echo.Context, m *simulator.Merchant, code string, r simulator.TerminatePermissionRequest) (*simulator.Permission, error) {
	return svc.TerminatePermission(c.Request().Context(), m, code, r)
}

func terminateByOpenID(svc *simulator.Service, c echo.Context, m *simulator.Merchant, openid string, r simulator.TerminatePermissionRequest) (*simulator.Permission, error) {
	return svc.TerminatePermissionByOpenID(c.Request().Context(), m, openid, r)
}

// directCompleted is the answer of direct-complete, with the fields its documentation lists.
type directCompleted struct {
	OutOrderNo          string                     `json:"out_order_no"`
	AppID               string                     `json:"appid"`
	ServiceID           string                     `json:"service_id"`
	PostPayments        []simulator.PostPayment    `json:"post_payments,omitzero"`
	PostDiscounts       []simulator.PostDiscount   `json:"post_discounts,omitzero"`
	TimeRange           simulator.TimeRange        `json:"time_range"`
	Location            *simulator.Location        `json:"location,omitempty"`
	ServiceIntroduction string                     `json:"service_introduction"`
	MchID               string                     `json:"mchid"`
	OrderID             string                     `json:"order_id"`
	State               simulator.OrderState       `json:"state"`
	StateDescription    simulator.StateDescription `json:"state_description"`
	Attach              *string                    `json:"attach,omitempty"`
	NotifyURL           string                     `json:"notify_url,omitempty"`
	TotalAmount         int64                      `json:"total_amount"`
}

func (s *Server) handleDirectComplete(c echo.Context) error {
	var req simulator.DirectCompleteRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	o, err := s.Service.DirectComplete(c.Request().Context(), merchantOf(c), req)
	if err != nil {
		return err
	}
	c.Set(keyWarnings, o.Sim.Warnings)
	// Like complete, direct-complete answers before Pay Score deducts.
	o = o.CompleteAnswer()
	return s.respondJSON(c, http.StatusOK, directCompleted{
		OutOrderNo: o.OutOrderNo, AppID: o.AppID, ServiceID: o.ServiceID,
		PostPayments: o.PostPayments, PostDiscounts: o.PostDiscounts,
		TimeRange: o.TimeRange, Location: o.Location, ServiceIntroduction: o.ServiceIntroduction,
		MchID: o.MchID, OrderID: o.OrderID, State: o.State, StateDescription: o.StateDescription,
		Attach: o.Attach, NotifyURL: o.NotifyURL, TotalAmount: o.TotalAmount,
	})
}
