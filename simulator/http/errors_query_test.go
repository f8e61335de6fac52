package http_test

// Table tests for the errors of query, and of unknown paths and wrong methods.

import (
	"net/http"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

// TestErrorsQuery covers GET /v3/payscore/serviceorder.
func TestErrorsQuery(t *testing.T) {
	t.Parallel()
	other, otherKey := errOtherMerchant(t)
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	demo := sim.DemoClient(t)
	oc := sim.Client(t, errOtherMchID, errOtherSerial, otherKey)

	svc, appid := "&service_id="+fixtures.DemoServiceID, "&appid="+fixtures.DemoAppID
	cases := []errCase{
		{
			name:   "both out_order_no and query_id",
			setup:  []errStep{errCreateOrder("Q-BOTH")},
			req:    errGet(errQuery("out_order_no=Q-BOTH&query_id=QID-1" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("location", "query"), errDetailHas("issue", "query_id", "not both")},
		},
		{
			name:   "neither out_order_no nor query_id",
			req:    errGet(errQuery("service_id=" + fixtures.DemoServiceID + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("location", "query"), errDetailHas("issue", "query_id is required")},
		},
		{
			name:   "service_id missing",
			req:    errGet(errQuery("out_order_no=Q-NOSVC" + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "service_id"), errDetailIs("location", "query"), errDetailHas("issue", "required")},
		},
		{
			name:   "appid missing",
			req:    errGet(errQuery("out_order_no=Q-NOAPPID" + svc)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailIs("location", "query"), errDetailHas("issue", "required")},
		},
		{
			name:   "repeated parameter",
			req:    errGet(errQuery("out_order_no=Q-REPEAT" + svc + appid + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailIs("location", "query"), errDetailHas("issue", "once")},
		},
		{
			name:   "out_order_no bad characters",
			req:    errGet(errQuery("out_order_no=Q%20BAD" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("field", "out_order_no"), errDetailIs("value", "Q BAD"), errDetailIs("location", "query")},
		},
		{
			name:   "malformed percent-encoding",
			req:    errGet(errQuery("out_order_no=Q%zz" + svc + appid)),
			status: 400,
			code:   "PARAM_ERROR",
			facts:  []errFact{errDetailIs("location", "query"), errDetailHas("issue", "%zz")},
		},
		{
			name:   "appid not bound",
			req:    errGet(errQuery("out_order_no=Q-NOAUTH" + svc + "&appid=wx0000000000000000")),
			status: 403,
			code:   "NO_AUTH",
			facts:  []errFact{errDetailIs("field", "appid"), errDetailHas("issue", "not bound")},
		},
		{
			name:   "unknown order",
			req:    errGet(errQueryOf("Q-UNKNOWN")),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "Q-UNKNOWN")},
		},
		{
			name:   "unknown query_id",
			req:    errGet(errQuery("query_id=QID-UNKNOWN" + svc + appid)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("query_id", "QID-UNKNOWN")},
		},
		{
			name:   "appid bound but not the order's",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("Q-OTHER-APPID", errOtherAppID)}},
			req:    errStep{as: oc, method: http.MethodGet, target: errQuery("out_order_no=Q-OTHER-APPID&service_id=" + errOtherServiceID + "&appid=" + errOtherAppID2)},
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailHas("issue", "appid "+errOtherAppID)},
		},
		{
			name:   "service_id bound but not the order's",
			setup:  []errStep{errCreateOrder("Q-OTHER-SVC")},
			req:    errGet(errQuery("out_order_no=Q-OTHER-SVC&service_id=" + fixtures.DemoServiceIDLong + appid)),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailHas("issue", "service_id "+fixtures.DemoServiceID)},
		},
		{
			name:   "order of another merchant",
			setup:  []errStep{{as: oc, method: http.MethodPost, target: errOrders, body: errOtherCreate("Q-OTHER-MCH", errOtherAppID)}},
			req:    errGet(errQueryOf("Q-OTHER-MCH")),
			status: 404,
			code:   "ORDER_NOT_EXIST",
			facts:  []errFact{errDetailIs("out_order_no", "Q-OTHER-MCH")},
		},
	}
	errRunCases(t, demo, cases)
}

// TestErrorsRouting covers unknown paths and wrong methods.
func TestErrorsRouting(t *testing.T) {
	t.Parallel()
	sim := simtest.Start(t, app.Options{})
	demo := sim.DemoClient(t)

	cases := []errCase{
		{
			name:   "unknown /v3 path",
			req:    errGet("/v3/payscore/nothing"),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "no Pay Score API at GET /v3/payscore/nothing")},
		},
		{
			name:   "unknown path outside /v3",
			req:    errGet("/nothing"),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "/nothing")},
		},
		{
			name:   "gopay's direct-complete path without /v3",
			req:    errPost("/payscore/serviceorder/direct-complete", map[string]any{"out_order_no": "DC-1"}),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "did you mean /v3/payscore/serviceorder/direct-complete")},
		},
		{
			name:   "unknown action on an order",
			req:    errPost(errAction("R-ORDER", "refund"), errRef(nil)),
			status: 404,
			code:   "NOT_FOUND",
			facts:  []errFact{errDetailHas("issue", "/v3/payscore/serviceorder/R-ORDER/refund")},
		},
		{
			name:   "POST on /healthz",
			req:    errPost("/healthz", map[string]any{}),
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "POST is not allowed on /healthz")},
		},
		// SERVER BUG found at e19d8bd (the three rows below failed there): under /v3 a wrong
		// method was answered 404 NOT_FOUND, never 405. s.echo.Group("/v3", s.logRequests,
		// s.authenticate) makes echo's Group.Use register a catch-all RouteNotFound("/v3/*"),
		// and echo's router prefers a RouteNotFound handler to its 405 handler.
		{
			name:   "DELETE on the order collection",
			req:    errStep{method: http.MethodDelete, target: errOrders},
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "DELETE is not allowed on "+errOrders)},
		},
		{
			name:   "GET on cancel",
			req:    errGet(errAction("R-ORDER", "cancel")),
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "GET is not allowed")},
		},
		{
			name:   "PUT on complete",
			req:    errStep{method: http.MethodPut, target: errAction("R-ORDER", "complete"), body: errRef(nil)},
			status: 405,
			code:   "METHOD_NOT_ALLOWED",
			facts:  []errFact{errDetailHas("issue", "PUT is not allowed")},
		},
	}
	errRunCases(t, demo, cases)
}
