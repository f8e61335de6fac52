package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerRefundRoutes serves the domestic refund API at production's paths: Pay Score has no
// refund API of its own, and merchants refund a deduction through this one.
func (s *Server) registerRefundRoutes(api func(op simulator.FaultOperation, method, path string, h echo.HandlerFunc)) {
	api(simulator.FaultRefund, http.MethodPost, "/refund/domestic/refunds", s.handleCreateRefund)
	api(simulator.FaultQueryRefund, http.MethodGet, "/refund/domestic/refunds/:out_refund_no", s.handleQueryRefund)
	api(simulator.FaultApplyAbnormalRefund, http.MethodPost, "/refund/domestic/refunds/:refund_id/apply-abnormal-refund", s.handleApplyAbnormalRefund)
}

func (s *Server) handleCreateRefund(c echo.Context) error {
	var req simulator.CreateRefundRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	r, warnings, fault, err := s.Refunds.CreateRefund(c.Request().Context(), merchantOf(c), req)
	if err != nil {
		return err
	}
	c.Set(keyWarnings, warnings)
	if _, ok := c.Get(keyFault).(*simulator.FaultRule); fault != nil && !ok {
		// The answer is the usual one; the mark in the request log says the refund's outcome
		// was injected. A transport fault on the same request (a delay, a committed 500) keeps
		// its place: it still has the answer to make.
		c.Set(keyFault, fault)
	}
	return s.respondJSON(c, http.StatusOK, r)
}

func (s *Server) handleQueryRefund(c echo.Context) error {
	no, err := pathParam(c, "out_refund_no")
	if err != nil {
		return err
	}
	r, err := s.Refunds.QueryRefund(c.Request().Context(), merchantOf(c), no)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, r)
}

func (s *Server) handleApplyAbnormalRefund(c echo.Context) error {
	id, err := pathParam(c, "refund_id")
	if err != nil {
		return err
	}
	var req simulator.ApplyAbnormalRefundRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	r, err := s.Refunds.ApplyAbnormalRefund(c.Request().Context(), merchantOf(c), id, req)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, r)
}
