package http

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerTestControls serves what a test decides beyond the user's visit: how deductions go,
// a user paying by themselves, and the merchants' clocks.
func (s *Server) registerTestControls(g *echo.Group) {
	g.POST("/orders/:mchid/:out_order_no/deduction", s.handleSetDeduction)
	g.POST("/orders/:mchid/:out_order_no/user-pays", s.handleUserPays)
	g.GET("/clock", s.handleClock)
	g.POST("/clock/advance", s.handleAdvanceClock)
}

// handleSetDeduction sets how an order's deductions go: {"mode": ...} and, to keep a deduction
// in flight, {"delay": "1h"}. A body with a delay and no mode leaves the mode as it is.
func (s *Server) handleSetDeduction(c echo.Context) error {
	no, err := pathParam(c, "out_order_no")
	if err != nil {
		return err
	}
	var req struct {
		Mode  *string `json:"mode"`
		Delay string  `json:"delay"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	ctx, mchid := c.Request().Context(), c.Param("mchid")
	var o *simulator.Order
	if req.Mode != nil || req.Delay == "" {
		if o, err = s.setDeductionMode(c, mchid, no, req.Mode); err != nil {
			return err
		}
	}
	if req.Delay != "" {
		d, err := time.ParseDuration(req.Delay)
		if err != nil {
			return simulator.ParamError("delay", req.Delay, `must be a Go duration such as "90s" or "1h"`)
		}
		if o, err = s.Service.SetDeductionDelay(ctx, mchid, no, d); err != nil {
			return err
		}
	}
	return s.respondJSON(c, http.StatusOK, viewOf(o))
}

// setDeductionMode sets an order's deduction mode; no mode is the default, immediate.
func (s *Server) setDeductionMode(c echo.Context, mchid, no string, given *string) (*simulator.Order, error) {
	var name string
	if given != nil {
		name = *given
	}
	mode, err := simulator.ParseDeductionMode(name)
	if err != nil {
		return nil, err
	}
	return s.Service.SetDeduction(c.Request().Context(), mchid, no, mode)
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

// clockView is a merchant's simulated time, in WeChat's format and as the offset from the real
// time.
type clockView struct {
	MchID         string  `json:"mchid"`
	Now           string  `json:"now"`
	OffsetSeconds float64 `json:"offset_seconds"`
}

func (s *Server) clockView(mchid string) clockView {
	return clockView{MchID: mchid, Now: simulator.FormatRFC3339(s.Service.Clocks.Now(mchid)), OffsetSeconds: s.Service.Clocks.Offset(mchid).Seconds()}
}

// clockMerchant is the merchant whose clock a request means: the one it names, else the demo
// merchant (DefaultMchID), as before clocks were per merchant.
func (s *Server) clockMerchant(mchid, location string) (string, error) {
	if mchid == "" {
		return s.DefaultMchID, nil
	}
	if s.Merchants.Merchant(mchid) == nil {
		return "", simulator.ParamError("mchid", mchid, "is not a merchant of this simulator (GET /sim/v1/merchants lists them)").With("location", location)
	}
	return mchid, nil
}

// handleClock serves GET /sim/v1/clock?mchid=...: the merchant's clock, the demo merchant's
// when none is named.
func (s *Server) handleClock(c echo.Context) error {
	q, err := queryParams(c, "mchid")
	if err != nil {
		return err
	}
	mchid, err := s.clockMerchant(q["mchid"], "query")
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, s.clockView(mchid))
}

// handleAdvanceClock serves POST /sim/v1/clock/advance {"mchid", "duration"}: it moves the
// merchant's clock only, the demo merchant's when none is named.
func (s *Server) handleAdvanceClock(c echo.Context) error {
	var req struct {
		MchID    string `json:"mchid"`
		Duration string `json:"duration"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	mchid, err := s.clockMerchant(req.MchID, "body")
	if err != nil {
		return err
	}
	d, err := time.ParseDuration(req.Duration)
	if err != nil {
		return simulator.ParamError("duration", req.Duration, `must be a Go duration such as "90s", "61m" or "720h"`)
	}
	if _, err := s.Service.AdvanceClock(c.Request().Context(), mchid, d); err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, s.clockView(mchid))
}
