package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/web"
)

// The dashboard's notification page (/dashboard/notifications/{id}): the envelope, every
// delivery attempt, resend and the lab.

type dashNotificationRow struct {
	ID, URL, EventType, State, Created, NextAttempt string
	MchID, OutOrderNo, OrderURL, NotifyURL          string
	AuthorizationCode                               string
	Attempts                                        int
}

func dashNotificationRows(ns []*simulator.Notification) []dashNotificationRow {
	rows := make([]dashNotificationRow, 0, len(ns))
	for _, n := range ns {
		r := dashNotificationRow{
			ID: n.ID, URL: notificationPath(n.ID), EventType: string(n.EventType), State: string(n.State),
			Created: web.Time(n.CreatedAt), MchID: n.MchID, OutOrderNo: n.OutOrderNo, NotifyURL: n.NotifyURL,
			AuthorizationCode: n.AuthorizationCode, Attempts: n.Attempts,
		}
		if n.State == simulator.NotificationPending {
			r.NextAttempt = web.Time(n.NextAttemptAt)
		}
		if n.OutOrderNo != "" {
			r.OrderURL = orderPath(n.MchID, n.OutOrderNo)
		}
		rows = append(rows, r)
	}
	return rows
}

type dashNotificationPage struct {
	dashNotificationRow
	Summary            string
	Envelope, Resource string
	// Deliveries are every attempt, lab ones included.
	Deliveries   []dashAttempt
	ResendAction string
	LabAction    string
	Lab          []dashLabVariant
	// Worker is false when the simulator runs without a notification worker: the lab cannot
	// deliver then.
	Worker bool
}

type dashAttempt struct {
	N                                          int
	Time, Latency, Error, Response, Lab, Class string
	Status                                     int
	Success                                    bool
}

type dashLabVariant struct{ Variant, Description string }

func (s *Server) handleDashNotification(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	ctx := c.Request().Context()
	n, attempts, err := s.Service.Notifications.FindNotificationAttempts(ctx, id)
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	np := &dashNotificationPage{
		dashNotificationRow: dashNotificationRows([]*simulator.Notification{n})[0],
		Summary:             n.Summary,
		Envelope:            web.PrettyJSON(string(n.Body)), Resource: web.PrettyJSON(string(n.Resource)),
		ResendAction: notificationPath(n.ID) + "/resend", LabAction: notificationPath(n.ID) + "/lab",
		Worker: s.Service.LabAvailable(),
	}
	for i, a := range attempts {
		da := dashAttempt{
			N: i + 1, Time: web.Time(a.Time), Status: a.Status, Success: a.Success, Latency: web.Latency(a.Latency),
			Error: a.Error, Response: a.ResponseBody, Lab: string(a.Lab), Class: "attempt-failed",
		}
		if a.Success {
			da.Class = "attempt-ok"
		}
		np.Deliveries = append(np.Deliveries, da)
	}
	for _, v := range simulator.LabVariants {
		np.Lab = append(np.Lab, dashLabVariant{string(v), v.Describe()})
	}
	p := s.dashPage("Notification "+n.ID, "overview")
	p.Notification = np
	return s.render(c, http.StatusOK, "dashboard-notification.html", p)
}

// handleDashResend sends the notification again as POST /sim/v1/notifications/{id}/resend does:
// through the worker, which delivers it at once. The attempt appears when it is made.
func (s *Server) handleDashResend(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	if _, err := s.Service.ResendNotification(c.Request().Context(), id); err != nil {
		return s.renderError(c, err, nil, nil)
	}
	return c.Redirect(http.StatusSeeOther, notificationPath(id))
}

// handleDashLab delivers a notification lab variant, as POST /sim/v1/notifications/{id}/lab
// does; the attempt is recorded before the answer.
func (s *Server) handleDashLab(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return s.renderError(c, err, nil, nil)
	}
	if _, err := s.Service.NotificationLab(c.Request().Context(), id, c.FormValue("variant")); err != nil {
		return s.renderError(c, err, nil, dashGiven(c, "variant"))
	}
	return c.Redirect(http.StatusSeeOther, notificationPath(id))
}
