package simulator

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// EventType is a notification's event_type.
type EventType string

const (
	EventUserConfirm      EventType = "PAYSCORE.USER_CONFIRM"
	EventUserPaid         EventType = "PAYSCORE.USER_PAID"
	EventUserOpenService  EventType = "PAYSCORE.USER_OPEN_SERVICE"
	EventUserCloseService EventType = "PAYSCORE.USER_CLOSE_SERVICE"
)

// summaries are the notifications' summary texts, as the documentation's examples give them.
var summaries = map[EventType]string{
	EventUserConfirm:      "确认订单",
	EventUserPaid:         "支付成功",
	EventUserOpenService:  "授权成功",
	EventUserCloseService: "解除授权成功",
}

// NotificationState is where a notification is in its delivery.
type NotificationState string

const (
	NotificationPending   NotificationState = "PENDING"   // waiting for its next attempt
	NotificationDelivered NotificationState = "DELIVERED" // the merchant answered 200 or 204
	NotificationFailed    NotificationState = "FAILED"    // every attempt of the schedule failed
)

// Notification is a callback WeChat owes a merchant. It is created in the same transaction as
// the state change that causes it, so none is lost and none is sent for a change that did not
// happen.
type Notification struct {
	ID         string    `json:"id"`
	MchID      string    `json:"mchid"`
	EventType  EventType `json:"event_type"`
	Summary    string    `json:"summary"`
	NotifyURL  string    `json:"notify_url"`
	OutOrderNo string    `json:"out_order_no,omitempty"`
	// AuthorizationCode and OpenID name the permission of an open or close service event.
	AuthorizationCode string `json:"authorization_code,omitempty"`
	OpenID            string `json:"openid,omitempty"`
	// Resource is the plaintext the merchant finds after decrypting resource.ciphertext.
	Resource json.RawMessage `json:"resource"`
	// Body is the envelope as sent, fixed at the first attempt so that retries repeat it.
	Body          json.RawMessage   `json:"body,omitempty"`
	CreatedAt     time.Time         `json:"create_time"`
	State         NotificationState `json:"state"`
	Attempts      int               `json:"attempts"`
	NextAttemptAt time.Time         `json:"next_attempt_at"`
}

// DeliveryAttempt is one try at delivering a notification.
type DeliveryAttempt struct {
	ID             int64         `json:"id"`
	NotificationID string        `json:"notification_id"`
	Time           time.Time     `json:"time"`
	Status         int           `json:"status,omitempty"`
	Error          string        `json:"error,omitempty"`
	ResponseBody   string        `json:"response_body,omitempty"`
	Latency        time.Duration `json:"latency_ns"`
	Success        bool          `json:"success"`
	// Lab names the fault a notification lab delivery carried on purpose; empty for a
	// regular attempt.
	Lab LabVariant `json:"lab,omitempty"`
}

// newNotification makes a pending notification whose resource is payload, due now.
func newNotification(mchid string, event EventType, notifyURL string, payload any, now time.Time) (*Notification, error) {
	resource, err := json.Marshal(payload)
	if err != nil {
		return nil, fmt.Errorf("notification %s: encode resource: %w", event, err)
	}
	return &Notification{
		ID: uuid.NewString(), MchID: mchid, EventType: event, Summary: summaries[event],
		NotifyURL: notifyURL, Resource: resource, CreatedAt: now,
		State: NotificationPending, NextAttemptAt: now,
	}, nil
}

// notify queues a notification of the order's current state; the store saves it with the order.
func (o *Order) notify(event EventType, now time.Time) error {
	return o.notifyResource(event, o, now)
}

// paidResource is the resource of PAYSCORE.USER_PAID: the order and the deduction's
// out_trade_no, which the documentation marks required there.
type paidResource struct {
	*Order
	OutTradeNo string `json:"out_trade_no"`
}

// notifyPaid queues the USER_PAID notification of deduction d.
func (o *Order) notifyPaid(d Deduction, now time.Time) error {
	return o.notifyResource(EventUserPaid, paidResource{Order: o, OutTradeNo: d.OutTradeNo}, now)
}

// notifyResource queues a notification whose resource is payload. An order without a
// notify_url (direct-complete may leave it out) is told nothing.
func (o *Order) notifyResource(event EventType, payload any, now time.Time) error {
	if o.NotifyURL == "" {
		return nil
	}
	n, err := newNotification(o.MchID, event, o.NotifyURL, payload, now)
	if err != nil {
		return err
	}
	n.OutOrderNo = o.OutOrderNo
	o.Sim.Outbox = append(o.Sim.Outbox, n)
	return nil
}

// RetrySchedule is the wait before each retry of a notification that was not acknowledged.
type RetrySchedule []time.Duration

// Retry schedules. The official Pay Score notification pages give PayScoreSchedule; the older
// APIv3 documentation gives APIv3Schedule (24h4m in all).
var (
	PayScoreSchedule = RetrySchedule{15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute,
		30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute}
	APIv3Schedule = RetrySchedule{15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute,
		10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute, 30 * time.Minute, 60 * time.Minute,
		3 * time.Hour, 3 * time.Hour, 3 * time.Hour, 6 * time.Hour, 6 * time.Hour}
	// FastSchedule keeps the official schedule's shape at a hundredth of its length, for tests.
	FastSchedule = RetrySchedule{150 * time.Millisecond, 150 * time.Millisecond, 300 * time.Millisecond, 1800 * time.Millisecond,
		18 * time.Second, 18 * time.Second, 18 * time.Second, 18 * time.Second, 36 * time.Second}
)

// ParseRetrySchedule reads a schedule by name (payscore, apiv3, fast) or as a comma-separated
// list of durations ("1s,5s,30s").
func ParseRetrySchedule(s string) (RetrySchedule, error) {
	switch s {
	case "", "payscore":
		return PayScoreSchedule, nil
	case "apiv3":
		return APIv3Schedule, nil
	case "fast":
		return FastSchedule, nil
	}
	var sched RetrySchedule
	for _, part := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(part))
		if err != nil || d < 0 {
			return nil, fmt.Errorf("retry schedule %q: %q is not a duration (want payscore, apiv3, fast or a list like 1s,5s,30s)", s, part)
		}
		sched = append(sched, d)
	}
	return sched, nil
}

// Attempted records an attempt's outcome on n and schedules the next one: a success ends the
// delivery, a failure waits for the schedule's next step, and one failure after the last step
// gives up.
func (n *Notification) Attempted(success bool, at time.Time, schedule RetrySchedule) {
	n.Attempts++
	switch {
	case success:
		n.State = NotificationDelivered
	case n.Attempts > len(schedule):
		n.State = NotificationFailed
	default:
		n.State = NotificationPending
		n.NextAttemptAt = at.Add(schedule[n.Attempts-1])
	}
}

// Resend makes the notification pending and due at now, whatever its state: the merchant
// receives it again, with the same id and body. Its attempts so far stay counted, so a resent
// notification that fails again is retried on the schedule's later steps, or not at all once
// past the last.
func (n *Notification) Resend(now time.Time) {
	n.State, n.NextAttemptAt = NotificationPending, now
}

// Notifier delivers the notifications a Service queues: the outbox worker. The wiring gives one
// to a Service with WithNotifier.
type Notifier interface {
	// Wake says notifications may have become due: after a change that queued one, and after
	// the clock moved.
	Wake()
	// Resend resends the notification id (Notification.Resend) and delivers it at once.
	Resend(ctx context.Context, id string) (*Notification, error)
	// Lab delivers the notification id once with the fault variant names, for testing a
	// merchant's verifier, leaving its state and schedule as they are.
	Lab(ctx context.Context, id string, variant LabVariant) (*DeliveryAttempt, error)
}

// ResendNotification makes a notification due again now (Notification.Resend): the notifier
// delivers it at once; without one it waits in the store for whoever delivers next.
func (s *Service) ResendNotification(ctx context.Context, id string) (*Notification, error) {
	if s.notifier != nil {
		return s.notifier.Resend(ctx, id)
	}
	return s.Notifications.UpdateNotification(ctx, id, func(n *Notification) error {
		n.Resend(s.Clocks.Now(n.MchID))
		return nil
	})
}

// LabAvailable reports whether NotificationLab can deliver: whether the Service has a notifier.
func (s *Service) LabAvailable() bool { return s.notifier != nil }

// NotificationLab delivers a notification once with a fault; only a notifier can.
func (s *Service) NotificationLab(ctx context.Context, id, variant string) (*DeliveryAttempt, error) {
	if s.notifier == nil {
		return nil, Errorf(CodeInvalidRequest, "通知实验室不可用").
			With("issue", "this simulator runs without a notification worker, so the lab cannot deliver")
	}
	v, err := ParseLabVariant(variant)
	if err != nil {
		return nil, err
	}
	return s.notifier.Lab(ctx, id, v)
}

// NotificationStore keeps notifications and their delivery attempts. Notifications are created
// by the order and permission stores, inside the transaction of the change that causes them.
type NotificationStore interface {
	// DueNotifications returns pending notifications whose next attempt is at or before their
	// merchant's simulated time, oldest first. now is the real time: a notification's merchant
	// is that far ahead of it as the ClockStore's offset says, so a store that keeps
	// notifications keeps the clocks too (a sqlite.DB does).
	DueNotifications(ctx context.Context, now time.Time, limit int) ([]*Notification, error)
	// NextNotificationDue returns the real time at which the earliest pending notification
	// comes due by its merchant's clock.
	NextNotificationDue(ctx context.Context) (t time.Time, ok bool, err error)
	// SaveAttempt saves n as the attempt left it, and a.
	SaveAttempt(ctx context.Context, n *Notification, a *DeliveryAttempt) error
	// FindNotification returns a notification, or NOTIFICATION_NOT_EXIST.
	FindNotification(ctx context.Context, id string) (*Notification, error)
	// ListNotifications returns notifications newest first.
	ListNotifications(ctx context.Context, f NotificationFilter) ([]*Notification, error)
	// FindNotificationAttempts returns a notification and its attempts in order, as they were
	// at one moment (a reader never sees an attempt without the state it led to), or
	// NOTIFICATION_NOT_EXIST.
	FindNotificationAttempts(ctx context.Context, id string) (*Notification, []*DeliveryAttempt, error)
	// UpdateNotification loads a notification, lets fn change it and saves it, in one
	// transaction; if fn fails nothing is saved and its error is returned. A notification that
	// does not exist is NOTIFICATION_NOT_EXIST.
	UpdateNotification(ctx context.Context, id string, fn func(*Notification) error) (*Notification, error)
}

// NotificationFilter narrows ListNotifications. Zero fields match everything; Limit 0 means 100.
type NotificationFilter struct {
	MchID      string
	OutOrderNo string
	EventType  EventType
	// Before keeps the notifications listed after the one of this ID (its id): the next page of a
	// listing whose previous page ended there.
	Before string
	Limit  int
}
