package http

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's fault rules page: the rules in force, a form that sets one as
// POST /sim/v1/faults does, and a button that removes one. The requests a rule failed are
// marked "injected" in every request list.

func (s *Server) registerDashFaultRoutes(post func(string, echo.HandlerFunc)) {
	s.echo.GET("/dashboard/faults", s.handleDashFaults)
	post("/dashboard/faults", s.handleDashAddFault)
	post("/dashboard/faults/:id/delete", s.handleDashDeleteFault)
}

type dashFaultsPage struct {
	Rules      []dashFaultRule
	Merchants  []string
	Operations []simulator.FaultOperation
	Kinds      []simulator.FaultKind
}

type dashFaultRule struct {
	simulator.FaultRule
	Created, DeleteAction string
}

func (s *Server) handleDashFaults(c echo.Context) error {
	fp := &dashFaultsPage{Operations: simulator.FaultOperations, Kinds: simulator.FaultKinds}
	fp.Merchants = s.Merchants.IDs()
	for _, r := range s.Service.Faults.List("") {
		fp.Rules = append(fp.Rules, dashFaultRule{
			FaultRule: r, Created: web.Time(r.CreatedAt),
			DeleteAction: "/dashboard/faults/" + url.PathEscape(r.ID) + "/delete",
		})
	}
	p := s.dashPage("Faults", "faults")
	p.Faults = fp
	return s.render(c, http.StatusOK, "dashboard-faults.html", p)
}

// handleDashAddFault sets a rule from the form, as POST /sim/v1/faults.
func (s *Server) handleDashAddFault(c echo.Context) error {
	given := dashGiven(c, "mchid", "operation", "fault", "times", "delay", "out_order_no", "before_commit")
	req := simulator.FaultRequest{
		MchID: c.FormValue("mchid"), Operation: c.FormValue("operation"), Fault: c.FormValue("fault"),
		Delay: c.FormValue("delay"), OutOrderNo: c.FormValue("out_order_no"), BeforeCommit: c.FormValue("before_commit") != "",
	}
	if t := c.FormValue("times"); t != "" {
		n, err := strconv.Atoi(t)
		if err != nil {
			return s.renderError(c, dashFormError("times", t, "must be a whole number"), nil, given)
		}
		req.Times = &n
	}
	if _, err := s.Service.AddFault(req); err != nil {
		return s.renderError(c, err, nil, given)
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard/faults")
}

func (s *Server) handleDashDeleteFault(c echo.Context) error {
	if _, err := s.Service.DeleteFault(c.Param("id")); err != nil {
		return s.renderError(c, err, nil, nil)
	}
	return c.Redirect(http.StatusSeeOther, "/dashboard/faults")
}
