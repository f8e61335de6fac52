package http

import (
	"net/http"
	"net/url"
	"sort"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerResetRoutes serves the reset of a long-lived simulator shared by many tests.
func (s *Server) registerResetRoutes(g *echo.Group) {
	g.POST("/reset", s.handleReset)
}

// resetView answers a reset: whose records went (mchid, or "*" for everyone's) and how many.
type resetView struct {
	MchID   string                `json:"mchid"`
	Deleted simulator.ResetCounts `json:"deleted"`
	// Clock is the merchant's simulated time afterwards (the demo merchant's after a full
	// reset): a reset puts the clocks it resets back on the real time.
	Clock clockView `json:"clock"`
}

// handleReset serves POST /sim/v1/reset (everything) and POST /sim/v1/reset?mchid=... (one
// merchant's orders, visits, notifications, permissions, requests and clock). Since a reset cannot be
// undone, a query it does not understand (a misspelt mchid=, an empty one) is refused rather
// than read as "everything".
func (s *Server) handleReset(c echo.Context) error {
	values, err := url.ParseQuery(c.Request().URL.RawQuery)
	if err != nil {
		return simulator.Errorf(simulator.CodeParamError, "查询参数格式错误").
			With("location", "query").With("issue", err.Error())
	}
	var unknown []string
	for name := range values {
		if name != "mchid" {
			unknown = append(unknown, name)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return simulator.ParamError(unknown[0], values.Get(unknown[0]),
			"is not a parameter of reset: POST /sim/v1/reset resets everything, POST /sim/v1/reset?mchid=... one merchant; nothing was reset").
			With("location", "query")
	}
	mchid, given := values["mchid"]
	if given && (len(mchid) != 1 || mchid[0] == "") {
		return simulator.ParamError("mchid", mchid, "must be given once and not empty (leave it out to reset everything); nothing was reset").
			With("location", "query")
	}
	view := resetView{MchID: "*"}
	if given {
		view.MchID = mchid[0]
	}
	counts, err := s.Service.Reset(c.Request().Context(), values.Get("mchid"))
	if err != nil {
		return err
	}
	view.Deleted = counts
	clockOf := view.MchID
	if !given {
		clockOf = s.DefaultMchID
	}
	view.Clock = s.clockView(clockOf)
	s.Logger.Info("reset", "mchid", view.MchID, "deleted", counts)
	return s.respondJSON(c, http.StatusOK, view)
}
