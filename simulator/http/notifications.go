package http

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// registerNotificationRoutes serves the notifications the simulator owes merchants, their
// delivery attempts, re-sending on demand and the notification lab.
func (s *Server) registerNotificationRoutes(g *echo.Group) {
	g.GET("/notifications", s.handleListNotifications)
	g.GET("/notifications/:id", s.handleGetNotification)
	g.POST("/notifications/:id/resend", s.handleResendNotification)
	g.POST("/notifications/:id/lab", s.handleNotificationLab)
}

// notificationView is a notification as the control API shows it: resource is the decrypted
// payload, body the envelope as sent (once a first attempt fixed it). attempt_count counts the
// regular attempts (lab deliveries are not among them); attempts, given for a single
// notification, lists every delivery, lab ones included.
type notificationView struct {
	*simulator.Notification
	AttemptCount int                           `json:"attempt_count"`
	Attempts     *[]*simulator.DeliveryAttempt `json:"attempts,omitempty"`
}

func (s *Server) handleListNotifications(c echo.Context) error {
	q, err := queryParams(c, "mchid", "out_order_no", "event_type", "limit", "before")
	if err != nil {
		return err
	}
	event, err := queryEnum("event_type", q["event_type"], simulator.ParseEventType)
	if err != nil {
		return err
	}
	ns, next, err := listPage(c, q, func(before string, limit int) ([]*simulator.Notification, error) {
		return s.Service.Notifications.ListNotifications(c.Request().Context(), simulator.NotificationFilter{
			MchID: q["mchid"], OutOrderNo: q["out_order_no"], EventType: event, Limit: limit, Before: before,
		})
	}, func(n *simulator.Notification) string { return n.ID })
	if err != nil {
		return err
	}
	views := make([]notificationView, len(ns))
	for i, n := range ns {
		views[i] = notificationView{Notification: n, AttemptCount: n.Attempts}
	}
	return s.respondJSON(c, http.StatusOK, pageOf(views, next))
}

// notificationWithAttempts returns the view of the notification id with its attempts.
func (s *Server) notificationWithAttempts(c echo.Context, id string) (notificationView, error) {
	n, attempts, err := s.Service.Notifications.FindNotificationAttempts(c.Request().Context(), id)
	if err != nil {
		return notificationView{}, err
	}
	if attempts == nil {
		attempts = []*simulator.DeliveryAttempt{}
	}
	return notificationView{Notification: n, AttemptCount: n.Attempts, Attempts: &attempts}, nil
}

func (s *Server) handleGetNotification(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	v, err := s.notificationWithAttempts(c, id)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, v)
}

func (s *Server) handleResendNotification(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	if _, err := s.Service.ResendNotification(c.Request().Context(), id); err != nil {
		return err
	}
	v, err := s.notificationWithAttempts(c, id)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, v)
}

func (s *Server) handleNotificationLab(c echo.Context) error {
	id, err := pathParam(c, "id")
	if err != nil {
		return err
	}
	var req struct {
		Variant string `json:"variant"`
	}
	if err := decodeBody(c, &req); err != nil {
		return err
	}
	a, err := s.Service.NotificationLab(c.Request().Context(), id, req.Variant)
	if err != nil {
		return err
	}
	return s.respondJSON(c, http.StatusOK, a)
}
