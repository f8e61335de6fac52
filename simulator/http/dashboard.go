package http

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard shows QA and developers what the simulator recorded and why, and offers the
// user's and the test's actions as buttons. It is server-rendered like the user's pages: no
// script, every action a plain form that takes the same Service (or notification worker) step
// as the control API and answers 303 back to a page, every rejection WeChat-shaped. This file
// holds the routes and the frame; each page has a file of its own (dashboard_overview.go,
// dashboard_order.go, dashboard_requests.go, dashboard_notification.go,
// dashboard_permissions.go), and every value is shown through the web package's formatting.
func (s *Server) registerDashboardRoutes() {
	post := func(path string, h echo.HandlerFunc) { s.echo.POST(path, h, s.dashSameOrigin) }
	s.echo.GET("/", s.handleDashboard)
	s.echo.GET("/dashboard", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/") })
	post("/dashboard/clock/advance", s.handleDashAdvanceClock)
	s.echo.GET("/dashboard/orders/:mchid/:out_order_no", s.handleDashOrder)
	post("/dashboard/orders/:mchid/:out_order_no/deduction", s.handleDashDeduction)
	post("/dashboard/orders/:mchid/:out_order_no/user-pays", s.handleDashUserPays)
	post("/dashboard/visits/:id/:action", s.handleDashVisitAction)
	s.echo.GET("/dashboard/requests", s.handleDashRequests)
	s.echo.GET("/dashboard/notifications/:id", s.handleDashNotification)
	post("/dashboard/notifications/:id/resend", s.handleDashResend)
	post("/dashboard/notifications/:id/lab", s.handleDashLab)
	s.echo.GET("/dashboard/permissions", s.handleDashPermissions)
	post("/dashboard/permissions/:mchid/:authorization_code/revoke", s.handleDashRevoke)
	s.registerDashFaultRoutes(post)
}

// dashCrossOrigin refuses form posts that a browser says come from another site, so that a
// web page open beside the dashboard cannot press its buttons. Clients that are not browsers
// send no such headers and pass.
var dashCrossOrigin = http.NewCrossOriginProtection()

func (s *Server) dashSameOrigin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := dashCrossOrigin.Check(c.Request()); err != nil {
			return s.renderError(c, simulator.Errorf(simulator.CodeNoAuth, "跨站请求被拒绝").
				With("issue", "the dashboard's buttons work only from the simulator's own pages: "+err.Error()), nil, nil)
		}
		return next(c)
	}
}

// How much each dashboard list shows.
const (
	dashRecentOrders        = 25
	dashRecentFailures      = 10
	dashRecentNotifications = 15
	dashOrderRequests       = 200
	// dashOrderNotifications holds an order's own notifications and those of its refunds
	// (50 refunds of a deduction, each notified once or twice).
	dashOrderNotifications = 500
	dashRequestsDefault    = 100
)

// dashPage is what every dashboard template renders: the frame (title, current section, the
// clock) and one section's data.
type dashPage struct {
	Title string
	// Nav is the current section: overview, requests, permissions or faults.
	Nav   string
	Clock dashClock

	Overview     *dashOverview
	Order        *dashOrderPage
	Requests     *dashRequestsPage
	Notification *dashNotificationPage
	Permissions  *dashPermissionsPage
	Faults       *dashFaultsPage
}

// dashClock is one merchant's clock: the demo merchant's on every page, or the one the
// overview's clock card was asked for.
type dashClock struct {
	MchID, Now, NowRFC3339, Offset string
	Shifted                        bool
}

func (s *Server) dashClock(mchid string) dashClock {
	now, offset := s.Service.Clocks.Now(mchid), s.Service.Clocks.Offset(mchid)
	return dashClock{MchID: mchid, Now: web.Time(now), NowRFC3339: simulator.FormatRFC3339(now), Offset: web.Offset(offset), Shifted: offset != 0}
}

func (s *Server) dashPage(title, nav string) *dashPage {
	return &dashPage{Title: title, Nav: nav, Clock: s.dashClock(s.DefaultMchID)}
}

// orderPath is an order's dashboard page.
func orderPath(mchid, outOrderNo string) string {
	return "/dashboard/orders/" + url.PathEscape(mchid) + "/" + url.PathEscape(outOrderNo)
}

func notificationPath(id string) string { return "/dashboard/notifications/" + url.PathEscape(id) }

// dashFormError is a form field the dashboard cannot use, worded like the API's errors.
func dashFormError(field, value, issue string) error {
	return simulator.ParamError(field, value, issue).With("location", "form")
}

// dashGiven is what a form sent, for the error page's "what you passed".
func dashGiven(c echo.Context, names ...string) []keyValue {
	var given []keyValue
	for _, n := range names {
		if v := c.FormValue(n); v != "" {
			given = append(given, keyValue{n, v})
		}
	}
	return given
}
