package http

import (
	"context"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerAPIRoutes serves Pay Score APIv3 at production's paths, so an SDK only swaps the host.
func (s *Server) registerAPIRoutes() {
	// echo workaround: middleware per route rather than per group, since a group's catch-all
	// route would answer a wrong method with 404 instead of the router's 405. logRequests
	// comes first, so that it logs what authenticate refuses; injectFaults last, so that a
	// fault meets only requests that production would have served.
	api := func(op simulator.FaultOperation, method, path string, h echo.HandlerFunc) {
		s.echo.Add(method, "/v3"+path, h, s.logRequests, s.authenticate, s.injectFaults(op))
	}
	// echo workaround: echo answers OPTIONS on a route's path by itself (204, unsigned).
	// Browsers never call /v3 and production answers no CORS there, so it is a method like any
	// other the API lacks.
	s.echo.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if r := c.Request(); r.Method == http.MethodOptions && strings.HasPrefix(r.URL.Path, "/v3/") {
				return echo.ErrMethodNotAllowed
			}
			return next(c)
		}
	})
	api(simulator.FaultCertificates, http.MethodGet, "/certificates", s.handleCertificates)
	api(simulator.FaultCreate, http.MethodPost, "/payscore/serviceorder", s.handleCreateOrder)
	api(simulator.FaultQuery, http.MethodGet, "/payscore/serviceorder", s.handleQueryOrder)
	api(simulator.FaultCancel, http.MethodPost, "/payscore/serviceorder/:out_order_no/cancel", orderAction(s, (*simulator.Service).CancelOrder, refOf))
	api(simulator.FaultComplete, http.MethodPost, "/payscore/serviceorder/:out_order_no/complete", orderAction(s, (*simulator.Service).CompleteOrder, completeAnswer))
	api(simulator.FaultModify, http.MethodPost, "/payscore/serviceorder/:out_order_no/modify", orderAction(s, (*simulator.Service).ModifyOrder, wholeOrder))
	api(simulator.FaultPay, http.MethodPost, "/payscore/serviceorder/:out_order_no/pay", orderAction(s, (*simulator.Service).RequestPayment, refOf))
	api(simulator.FaultSync, http.MethodPost, "/payscore/serviceorder/:out_order_no/sync", orderAction(s, (*simulator.Service).SyncOrder, wholeOrder))
	api(simulator.FaultDirectComplete, http.MethodPost, "/payscore/serviceorder/direct-complete", s.handleDirectComplete)
	// gopay posts direct-complete without the /v3 prefix; production answers 404, and so do
	// we, with a hint (see pathHint).
	api(simulator.FaultApplyPermissions, http.MethodPost, "/payscore/permissions", s.handleApplyPermission)
	api(simulator.FaultQueryPermission, http.MethodGet, "/payscore/permissions/authorization-code/:authorization_code", s.handleQueryPermission)
	api(simulator.FaultTerminatePermission, http.MethodPost, "/payscore/permissions/authorization-code/:authorization_code/terminate", s.terminateAction("authorization_code", terminateByCode))
	api(simulator.FaultQueryPermission, http.MethodGet, "/payscore/permissions/openid/:openid", s.handleQueryPermissionByOpenID)
	api(simulator.FaultTerminatePermission, http.MethodPost, "/payscore/permissions/openid/:openid/terminate", s.terminateAction("openid", terminateByOpenID))
	s.registerRefundRoutes(api)
}

// createdOrder is the create response: the order and its package. Production's create
// response has no total_amount or need_collection; the nil fields here hide the order's.
type createdOrder struct {
	*simulator.Order
	Package        string `json:"package,omitempty"`
	TotalAmount    *int64 `json:"total_amount,omitempty"`
	NeedCollection *bool  `json:"need_collection,omitempty"`
}

func (s *Server) handleCreateOrder(c echo.Context) error {
	var req simulator.CreateOrderRequest
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	o, err := s.Service.CreateOrder(c.Request().Context(), merchantOf(c), req)
	if err != nil {
		return err
	}
	c.Set(keyWarnings, o.Sim.Warnings)
	resp := createdOrder{Order: o}
	if o.State == simulator.StateCreated {
		resp.Package = o.Sim.Package
	}
	return s.respondJSON(c, http.StatusOK, resp)
}

func (s *Server) handleQueryOrder(c echo.Context) error {
	q, err := queryParams(c, "out_order_no", "query_id", "service_id", "appid")
	if err != nil {
		return err
	}
	o, err := s.Service.QueryOrder(c.Request().Context(), merchantOf(c), simulator.QueryRequest{
		OutOrderNo: q["out_order_no"], QueryID: q["query_id"], ServiceID: q["service_id"], AppID: q["appid"],
	})
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, o)
}

// orderStep is a Service method that changes an order: CancelOrder, CompleteOrder, ...
type orderStep[Req any] func(*simulator.Service, context.Context, *simulator.Merchant, string, Req) (*simulator.Order, error)

// orderAction serves POST .../{out_order_no}/ACTION: decode the body, take the step, answer
// with view(order).
func orderAction[Req any](s *Server, step orderStep[Req], view func(*simulator.Order) any) echo.HandlerFunc {
	return func(c echo.Context) error {
		no, err := pathParam(c, "out_order_no")
		if err != nil {
			return err
		}
		var req Req
		if err := decodeBody(c, &req); err != nil {
			return err
		}
		o, err := step(s.Service, c.Request().Context(), merchantOf(c), no, req)
		if err != nil {
			return err
		}
		return s.respondJSON(c, http.StatusOK, view(o))
	}
}

// orderRef is the short answer of cancel and pay.
type orderRef struct {
	AppID      string `json:"appid"`
	MchID      string `json:"mchid"`
	OutOrderNo string `json:"out_order_no"`
	ServiceID  string `json:"service_id"`
	OrderID    string `json:"order_id"`
}

func refOf(o *simulator.Order) any {
	return orderRef{AppID: o.AppID, MchID: o.MchID, OutOrderNo: o.OutOrderNo, ServiceID: o.ServiceID, OrderID: o.OrderID}
}

func wholeOrder(o *simulator.Order) any { return o }

func completeAnswer(o *simulator.Order) any { return o.CompleteAnswer() }
