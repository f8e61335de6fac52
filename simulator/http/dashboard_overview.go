package http

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's overview (/): merchants, demo credentials, recent orders, failed requests and
// notifications, and the clock's advance buttons.

type dashOverview struct {
	Merchants []dashMerchant
	// Demo are the demo merchant's identifiers; DemoSecrets its keys, shown on demand.
	Demo, DemoSecrets []keyValue
	AdvancePresets    []dashPreset
	Orders            []dashOrderRow
	Failures          []dashRequest
	Notifications     []dashNotificationRow
}

type dashPreset struct{ ID, Label, Duration string }

type dashMerchant struct {
	MchID                       string
	AppIDs, ServiceIDs, Serials []string
	Settings                    []keyValue
}

type dashOrderRow struct {
	URL, MchID, OutOrderNo, ServiceIntroduction string
	State, StateDescription, Collection         string
	TotalAmount, RiskFund                       string
	Created, Updated                            string
}

func dashOrderRowOf(o *simulator.Order) dashOrderRow {
	r := dashOrderRow{
		URL: orderPath(o.MchID, o.OutOrderNo), MchID: o.MchID, OutOrderNo: o.OutOrderNo,
		ServiceIntroduction: o.ServiceIntroduction,
		State:               string(o.State), StateDescription: string(o.StateDescription),
		TotalAmount: web.Yuan(o.TotalAmount), RiskFund: web.Yuan(o.RiskFund.Amount),
		Created: web.Time(o.Sim.CreatedAt), Updated: web.Time(o.Sim.UpdatedAt),
	}
	if o.Collection != nil {
		r.Collection = string(o.Collection.State)
	}
	return r
}

func (s *Server) handleDashboard(c echo.Context) error {
	ctx := c.Request().Context()
	p := s.dashPage("Overview", "overview")
	// ?clock=MCHID shows (and advances) that merchant's clock.
	if mchid := c.QueryParam("clock"); mchid != "" && s.Merchants.Merchant(mchid) != nil {
		p.Clock = s.dashClock(mchid)
	}
	ov := &dashOverview{AdvancePresets: []dashPreset{
		{"advance-1h", "+1h", "1h"}, {"advance-1d", "+1d", "24h"}, {"advance-30d", "+30d", "720h"},
	}}
	p.Overview = ov
	for _, m := range s.Merchants.All() {
		dm := dashMerchant{MchID: m.MchID, AppIDs: m.AppIDs, ServiceIDs: m.ServiceIDs, Serials: m.KeySerials()}
		dm.Settings = dashFields(m.Settings)
		ov.Merchants = append(ov.Merchants, dm)
	}
	ov.Demo, ov.DemoSecrets = s.dashDemoCredentials()

	orders, err := s.Service.Orders.ListOrders(ctx, simulator.OrderFilter{Limit: dashRecentOrders})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	for _, o := range orders {
		ov.Orders = append(ov.Orders, dashOrderRowOf(o))
	}
	failures, err := s.Requests.ListRequests(ctx, simulator.RequestFilter{Failed: true, Limit: dashRecentFailures})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ov.Failures = dashRequests(failures)
	ns, err := s.Service.Notifications.ListNotifications(ctx, simulator.NotificationFilter{Limit: dashRecentNotifications})
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ov.Notifications = dashNotificationRows(ns)
	return s.render(c, http.StatusOK, "dashboard.html", p)
}

// dashFields lists the members of v's JSON form, by name.
func dashFields(v any) []keyValue {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return nil
	}
	var fields []keyValue
	for _, k := range slices.Sorted(maps.Keys(m)) {
		fields = append(fields, keyValue{k, detailText(m[k])})
	}
	return fields
}

// dashDemoCredentials splits the demo credentials into identifiers and secrets (keys and
// PEMs), in the order of GET /sim/v1/demo-credentials.
func (s *Server) dashDemoCredentials() (ids, secrets []keyValue) {
	if s.DemoCredentials == nil {
		return nil, nil
	}
	b, err := json.Marshal(s.DemoCredentials)
	if err != nil {
		return nil, nil
	}
	// Decode in document order: a map would lose it.
	dec := json.NewDecoder(strings.NewReader(string(b)))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return ids, secrets
		}
		k, _ := t.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return ids, secrets
		}
		kv := keyValue{k, detailText(v)}
		if strings.HasSuffix(k, "_key") || strings.HasSuffix(k, "_pem") {
			secrets = append(secrets, kv)
		} else {
			ids = append(ids, kv)
		}
	}
	return ids, secrets
}

// dashDurationPattern is a number of days, optionally followed by a Go duration: "30d", "1d12h".
var dashDurationPattern = regexp.MustCompile(`^(\d{1,5})d(.*)$`)

// dashDuration reads a duration typed by a person: a Go duration ("90s", "61m", "12h"), days
// ("30d"), or both ("1d12h").
func dashDuration(v string) (time.Duration, error) {
	v = strings.TrimSpace(v)
	bad := dashFormError("duration", v, `must be a duration such as "90s", "61m", "12h", "30d" or "1d12h"`)
	var d time.Duration
	if m := dashDurationPattern.FindStringSubmatch(v); m != nil {
		days, _ := strconv.Atoi(m[1])
		d, v = time.Duration(days)*24*time.Hour, m[2]
		if v == "" {
			return d, nil
		}
	}
	rest, err := time.ParseDuration(v)
	if err != nil {
		return 0, bad
	}
	return d + rest, nil
}

func (s *Server) handleDashAdvanceClock(c echo.Context) error {
	mchid, err := s.clockMerchant(c.FormValue("mchid"), "form")
	var d time.Duration
	if err == nil {
		d, err = dashDuration(c.FormValue("duration"))
	}
	if err == nil {
		_, err = s.Service.AdvanceClock(c.Request().Context(), mchid, d)
	}
	if err != nil {
		return s.renderError(c, err, nil, dashGiven(c, "mchid", "duration"))
	}
	if mchid == s.DefaultMchID {
		return c.Redirect(http.StatusSeeOther, "/")
	}
	return c.Redirect(http.StatusSeeOther, "/?clock="+url.QueryEscape(mchid))
}
