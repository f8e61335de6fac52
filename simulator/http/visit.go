package http

import (
	"context"
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerVisitRoutes serves the user's visit to the Pay Score mini-program as a control API,
// for shims, tests and scenarios that drive it headlessly. The page at page_url takes the same
// actions through the same Service methods.
func (s *Server) registerVisitRoutes(g *echo.Group) {
	g.POST("/visits", s.handleOpenVisit)
	g.GET("/visits", s.handleListVisits)
	g.GET("/visits/:id", s.handleGetVisit)
	// confirm and authorize take an optional openid, so they have handlers of their own.
	g.POST("/visits/:id/"+string(simulator.ActionConfirm), s.userAction((*simulator.Service).ConfirmVisit))
	for n, step := range visitSteps {
		if n != simulator.ActionConfirm && n != simulator.ActionAuthorize {
			g.POST("/visits/:id/"+string(n), s.visitAction(step, n.Leaves()))
		}
	}
}

// visitView is a visit as the control API shows it: where its page is, what the user may do
// now (the page's buttons, as the domain lists them), its subject (order, null for a
// wxpayScoreEnable visit, which has a permission instead), and, once the user has left, what
// the merchant's front end receives.
type visitView struct {
	*simulator.Visit
	PageURL    string                  `json:"page_url"`
	Actions    []simulator.VisitAction `json:"actions"`
	Order      *simulator.Order        `json:"order"`
	Permission *simulator.Permission   `json:"permission,omitempty"`
	AppShow    *simulator.AppShow      `json:"appShow,omitempty"`
	H5Callback *simulator.H5Callback   `json:"h5Callback,omitempty"`
}

func (s *Server) visitView(c echo.Context, v *simulator.Visit) visitView {
	return visitView{
		Visit: v, PageURL: s.pageURL(c, v.ID), Actions: v.Actions(), Order: v.Order, Permission: v.Permission,
		AppShow: v.AppShow(), H5Callback: v.H5Callback(),
	}
}

// pageURL is the visit's page on the host the client reached us by, so it works behind a
// container's port mapping too. With a control token it carries the token, so that a shim's
// web-view or iframe can open it.
func (s *Server) pageURL(c echo.Context, id string) string {
	u := c.Scheme() + "://" + c.Request().Host + "/sim/visits/" + id
	if s.ControlToken != "" {
		u += "?token=" + url.QueryEscape(s.ControlToken)
	}
	return u
}

func (s *Server) handleOpenVisit(c echo.Context) error {
	var req simulator.OpenVisitRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	v, err := s.Service.OpenVisit(c.Request().Context(), req)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusCreated, s.visitView(c, v))
}

func (s *Server) handleGetVisit(c echo.Context) error {
	v, err := s.Service.FindVisit(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, s.visitView(c, v))
}

func (s *Server) handleListVisits(c echo.Context) error {
	q, err := queryParams(c, "mchid", "out_order_no", "limit", "before")
	if err != nil {
		return err
	}
	visits, next, err := listPage(c, q, func(before string, limit int) ([]*simulator.Visit, error) {
		return s.Service.Visits.ListVisits(c.Request().Context(), simulator.VisitFilter{
			MchID: q["mchid"], OutOrderNo: q["out_order_no"], Limit: limit, Before: before,
		})
	}, func(v *simulator.Visit) string { return v.ID })
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, pageOf(visits, next))
}

// visitStep is a Service method that acts for the user on a visit.
type visitStep func(*simulator.Service, context.Context, string) (*simulator.Visit, error)

// visitSteps take each of the page's actions (simulator.VisitActionName) for the user: the
// page's forms, the dashboard's buttons and the control API all go through them. Authorizing here
// is as the visit's default user.
var visitSteps = map[simulator.VisitActionName]visitStep{
	simulator.ActionConfirm:     asVisitUser((*simulator.Service).ConfirmVisit),
	simulator.ActionAuthorize:   asVisitUser((*simulator.Service).AuthorizeVisit),
	simulator.ActionDecline:     (*simulator.Service).DeclineVisit,
	simulator.ActionNotEligible: (*simulator.Service).NotEligibleVisit,
	simulator.ActionReturn:      (*simulator.Service).ReturnVisit,
	simulator.ActionBack:        (*simulator.Service).BackVisit,
	simulator.ActionAndroidBack: (*simulator.Service).AndroidBackVisit,
}

// userStep is a Service method that acts for the user as an openid ("" is the visit's user).
type userStep func(*simulator.Service, context.Context, string, string) (*simulator.Visit, error)

// asVisitUser takes a userStep as the visit's own user.
func asVisitUser(step userStep) visitStep {
	return func(svc *simulator.Service, ctx context.Context, id string) (*simulator.Visit, error) {
		return step(svc, ctx, id, "")
	}
}

// userAction serves confirm and authorize: the user, as the openid of the optional body
// {"openid": "..."} or the visit's user. It answers with the visit, as GET
// /sim/v1/visits/{id} shows it.
func (s *Server) userAction(step userStep) echo.HandlerFunc {
	return func(c echo.Context) error {
		var req struct {
			OpenID string `json:"openid"`
		}
		if err := decodeOptionalBody(c, &req); err != nil {
			return err
		}
		v, err := step(s.Service, c.Request().Context(), c.Param("id"), req.OpenID)
		if err != nil {
			return err
		}
		return s.respondJSON(c, http.StatusOK, s.visitView(c, v))
	}
}

// visitAction serves a user action. Leaving the page answers with exactly what the merchant's
// App.onShow receives; confirming answers with the visit.
func (s *Server) visitAction(step visitStep, leaves bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		v, err := step(s.Service, c.Request().Context(), c.Param("id"))
		if err != nil {
			return err
		}
		if leaves {
			return s.respondJSON(c, http.StatusOK, v.AppShow())
		}
		return s.respondJSON(c, http.StatusOK, s.visitView(c, v))
	}
}
