package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerTestControls serves what a test decides beyond the user's visit: how deductions go,
// a user paying by themselves, and the clock.
func (s *Server) registerTestControls(g *echo.Group) {
	g.POST("/orders/:mchid/:out_order_no/deduction", s.handleSetDeduction)
	g.POST("/orders/:mchid/:out_order_no/user-pays", s.handleUserPays)
	g.GET("/clock", s.handleClock)
	g.POST("/clock/advance", s.handleAdvanceClock)
}

func (s *Server) handleSetDeduction(c echo.Context) error {
	no, err := pathParam(c, "out_order_no")
	if err != nil {
		return err
	}
	var req struct {
		Mode string `json:"mode"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	mode, err := simulator.ParseDeductionMode(req.Mode)
	if err != nil {
		return err
	}
	o, err := s.Service.SetDeduction(c.Request().Context(), c.Param("mchid"), no, mode)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, viewOf(o))
}

func (s *Server) handleUserPays(c echo.Context) error {
	no, err := pathParam(c, "out_order_no")
	if err != nil {
		return err
	}
	o, err := s.Service.UserPays(c.Request().Context(), c.Param("mchid"), no)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, viewOf(o))
}

// clockView is the simulated time, in WeChat's format and as the offset from the real time.
type clockView struct {
	Now           string  `json:"now"`
	OffsetSeconds float64 `json:"offset_seconds"`
}

func (s *Server) clockView() clockView {
	return clockView{Now: simulator.FormatRFC3339(s.Service.Clock.Now()), OffsetSeconds: s.Service.Clock.Offset().Seconds()}
}

func (s *Server) handleClock(c echo.Context) error {
	return s.respondJSON(c, http.StatusOK, s.clockView())
}

func (s *Server) handleAdvanceClock(c echo.Context) error {
	var req struct {
		Duration string `json:"duration"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	d, err := time.ParseDuration(req.Duration)
	if err != nil {
		return simulator.ParamError("duration", req.Duration, `must be a Go duration such as "90s", "61m" or "720h"`)
	}
	if _, err := s.Service.AdvanceClock(c.Request().Context(), d); err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, s.clockView())
}
