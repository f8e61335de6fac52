package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerFaultRoutes serves failure on demand: the fault rules that make a merchant's next
// API requests fail as production sometimes does.
func (s *Server) registerFaultRoutes(g *echo.Group) {
	g.POST("/faults", s.handleAddFault)
	g.GET("/faults", s.handleListFaults)
	g.DELETE("/faults/:id", s.handleDeleteFault)
}

func (s *Server) handleAddFault(c echo.Context) error {
	var req simulator.FaultRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	f, err := s.Service.AddFault(req)
	if err != nil {
		return err
	}
	s.Logger.Info("fault rule set", "id", f.ID, "mchid", f.MchID, "operation", f.Operation, "fault", f.Fault, "times", f.Times)
	return s.respondJSON(c, http.StatusCreated, f)
}

// handleListFaults lists the rules in force, oldest (first to fire) first, of one merchant
// with ?mchid=.
func (s *Server) handleListFaults(c echo.Context) error {
	q, err := queryParams(c, "mchid")
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, listOf(s.Service.Faults.List(q["mchid"])))
}

func (s *Server) handleDeleteFault(c echo.Context) error {
	f, err := s.Service.DeleteFault(c.Param("id"))
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, f)
}
