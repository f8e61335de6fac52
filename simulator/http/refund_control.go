package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerRefundControls serves the refunds as the simulator records them, and the outcome a
// test decides for one.
func (s *Server) registerRefundControls(g *echo.Group) {
	g.GET("/refunds", s.handleListRefunds)
	g.GET("/refunds/:mchid/:out_refund_no", s.handleGetRefund)
	g.POST("/refunds/:mchid/:out_refund_no/outcome", s.handleRefundOutcome)
}

// refundView is a refund with the simulator's record of it.
type refundView struct {
	Refund *simulator.Refund      `json:"refund"`
	Sim    simulator.RefundRecord `json:"sim"`
}

func refundViewOf(r *simulator.Refund) refundView { return refundView{Refund: r, Sim: r.Sim} }

func (s *Server) handleListRefunds(c echo.Context) error {
	q, err := queryParams(c, "mchid", "out_order_no", "transaction_id", "status", "limit", "before")
	if err != nil {
		return err
	}
	status, err := queryEnum("status", q["status"], simulator.ParseRefundStatus)
	if err != nil {
		return err
	}
	refunds, next, err := listPage(c, q, func(before string, limit int) ([]*simulator.Refund, error) {
		return s.Refunds.Refunds.ListRefunds(c.Request().Context(), simulator.RefundFilter{
			MchID: q["mchid"], OutOrderNo: q["out_order_no"], TransactionID: q["transaction_id"],
			Status: status, Limit: limit, Before: before,
		})
	}, func(r *simulator.Refund) string { return r.RefundID })
	if err != nil {
		return err
	}
	views := make([]refundView, len(refunds))
	for i, r := range refunds {
		views[i] = refundViewOf(r)
	}
	return s.respondJSON(c, http.StatusOK, pageOf(views, next))
}

func (s *Server) handleGetRefund(c echo.Context) error {
	no, err := pathParam(c, "out_refund_no")
	if err != nil {
		return err
	}
	r, err := s.Refunds.Refunds.FindRefund(c.Request().Context(), c.Param("mchid"), no)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, refundViewOf(r))
}

func (s *Server) handleRefundOutcome(c echo.Context) error {
	no, err := pathParam(c, "out_refund_no")
	if err != nil {
		return err
	}
	var req struct {
		Status string `json:"status"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	if req.Status == "" {
		return simulator.ParamError("status", "", "is required: SUCCESS, ABNORMAL or CLOSED")
	}
	status, err := simulator.ParseRefundOutcome(req.Status)
	if err != nil {
		return err
	}
	r, err := s.Refunds.SetRefundOutcome(c.Request().Context(), c.Param("mchid"), no, status)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, refundViewOf(r))
}
