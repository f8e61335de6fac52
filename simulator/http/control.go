package http

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerControlRoutes serves /sim/v1: what the simulator records, as JSON, and the actions it
// takes on the user's behalf.
func (s *Server) registerControlRoutes() {
	g := s.echo.Group("/sim/v1")
	g.GET("/demo-credentials", func(c echo.Context) error {
		return s.respondJSON(c, http.StatusOK, s.DemoCredentials)
	})
	g.GET("/merchants", s.handleListMerchants)
	g.POST("/merchants", s.handleRegisterMerchant)
	g.GET("/orders", s.handleListOrders)
	g.GET("/orders/:mchid/:out_order_no", s.handleGetOrder)
	g.GET("/requests", s.handleListRequests)
	s.registerVisitRoutes(g)
	s.registerTestControls(g)
	s.registerPermissionControls(g)
	s.registerNotificationRoutes(g)
	s.registerRefundControls(g)
	s.registerResetRoutes(g)
	s.registerFaultRoutes(g)
}

// orderView is an order with the simulator's record of it.
type orderView struct {
	Order *simulator.Order      `json:"order"`
	Sim   simulator.OrderRecord `json:"sim"`
}

func viewOf(o *simulator.Order) orderView { return orderView{Order: o, Sim: o.Sim} }

func (s *Server) handleListOrders(c echo.Context) error {
	q, err := queryParams(c, "mchid", "state", "limit", "before")
	if err != nil {
		return err
	}
	state, err := queryEnum("state", q["state"], simulator.ParseOrderState)
	if err != nil {
		return err
	}
	orders, next, err := listPage(c, q, func(before string, limit int) ([]*simulator.Order, error) {
		return s.Service.Orders.ListOrders(c.Request().Context(), simulator.OrderFilter{
			MchID: q["mchid"], State: state, Limit: limit, Before: before,
		})
	}, func(o *simulator.Order) string { return o.OrderID })
	if err != nil {
		return err
	}
	views := make([]orderView, len(orders))
	for i, o := range orders {
		views[i] = viewOf(o)
	}
	return s.respondJSON(c, http.StatusOK, pageOf(views, next))
}

func (s *Server) handleGetOrder(c echo.Context) error {
	no, err := pathParam(c, "out_order_no")
	if err != nil {
		return err
	}
	o, err := s.Service.Orders.FindOrder(c.Request().Context(), c.Param("mchid"), simulator.OrderKey{OutOrderNo: no})
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, viewOf(o))
}

// requestPageBytes bounds the text of one page of /sim/v1/requests: a thousand records of large
// bodies would otherwise be an answer of hundreds of megabytes.
const requestPageBytes = 8 << 20

// handleListRequests serves the request log newest first, a page at a time: when more records
// follow, "next" is the URL of the next page.
func (s *Server) handleListRequests(c echo.Context) error {
	q, err := queryParams(c, "mchid", "failed", "limit", "before")
	if err != nil {
		return err
	}
	limit, err := limitParam(q["limit"])
	if err != nil {
		return err
	}
	var before int64
	if v := q["before"]; v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return simulator.ParamError("before", v, "must be the id of a record, as the previous page's next gives it").With("location", "query")
		}
	}
	f := simulator.RequestFilter{MchID: q["mchid"], Failed: q["failed"] == "true", Limit: limit, BeforeID: before, MaxBytes: requestPageBytes}
	records, err := s.Requests.ListRequests(c.Request().Context(), f)
	if err != nil {
		return err
	}
	page := listOf(records)
	if n := len(records); n > 0 && s.moreRequests(c, f, records[n-1].ID) {
		page["next"] = nextPage(c, strconv.FormatInt(records[n-1].ID, 10))
	}
	return s.respondJSON(c, http.StatusOK, page)
}

// moreRequests reports whether records follow the one of id.
func (s *Server) moreRequests(c echo.Context, f simulator.RequestFilter, id int64) bool {
	f.BeforeID, f.Limit, f.MaxBytes = id, 1, 0
	more, err := s.Requests.ListRequests(c.Request().Context(), f)
	return err == nil && len(more) > 0
}

// listOf is the answer of a list endpoint: {"data": [...]}, an empty array rather than null.
func listOf[T any](items []T) map[string]any {
	if items == nil {
		items = []T{}
	}
	return map[string]any{"data": items}
}

// queryEnum reads an optional query parameter that filters by one of a closed set of values
// (parse is the domain's Parse function); "" is no filter.
func queryEnum[T ~string](name, v string, parse func(field, s string) (T, error)) (T, error) {
	if v == "" {
		return "", nil
	}
	t, err := parse(name, v)
	var e *simulator.Error
	if errors.As(err, &e) {
		return "", e.With("location", "query")
	}
	return t, err
}

func limitParam(v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 1000 {
		return 0, simulator.ParamError("limit", v, "must be a whole number from 1 to 1000").With("location", "query")
	}
	return n, nil
}
