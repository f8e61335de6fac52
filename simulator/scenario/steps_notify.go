package scenario

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The merchant's notification endpoint: the runner's receiver, which verifies and decrypts
// each notification as a careful merchant does.

// receiverStep tells the scenario's notify_url to answer the next notifications with a failure,
// to make the simulator retry.
type receiverStep struct {
	fail, status int
}

func (r *receiverStep) set(a args) error {
	r.fail, r.status = 0, http.StatusInternalServerError
	if v, ok := a["fail"]; ok {
		n, ok := number(v)
		if !ok || !n.IsInt() || n.Sign() < 0 {
			return fmt.Errorf("receiver.fail must be a whole number, not %s", show(v))
		}
		r.fail = int(n.Num().Int64())
	}
	if v, ok := a["status"]; ok {
		n, ok := number(v)
		if !ok || !n.IsInt() || n.Num().Int64() < 100 || n.Num().Int64() > 599 {
			return fmt.Errorf("receiver.status must be an HTTP status, not %s", show(v))
		}
		r.status = int(n.Num().Int64())
	}
	return nil
}

func (r *receiverStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	s.inbox.failNext(r.fail, r.status)
	return nil, nil
}

// eventType accepts PAYSCORE.USER_PAID and USER_PAID alike.
func eventType(s string) string {
	if s != "" && !strings.Contains(s, ".") {
		return "PAYSCORE." + s
	}
	return s
}

// notificationFailure is a notification that did not come as expected.
type notificationFailure struct {
	message, what, expected, actual string
}

func (e *notificationFailure) Error() string { return e.message }

// expectNotificationStep waits for a notification of an event (of an order) that the receiver
// verified, decrypted and acknowledged; its response is the notification.
type expectNotificationStep struct {
	event   string
	within  time.Duration
	orderNo *string
	// attempts, when given, is how many deliveries it must have taken.
	attempts      any
	attemptsGiven bool
}

func (e *expectNotificationStep) set(a args) error {
	event, _ := a.str("event_type")
	e.event, e.within = eventType(event), 5*time.Second
	if w, ok := a.str("within"); ok {
		d, err := parseDuration(w)
		if err != nil {
			return err
		}
		e.within = d
	}
	e.orderNo = optional(a, "out_order_no")
	e.attempts, e.attemptsGiven = a["attempts"]
	return nil
}

// match is whether a notification is of the event (and order) expected.
func (e *expectNotificationStep) match(n *note) bool {
	if n.EventType != e.event {
		return false
	}
	if e.orderNo != nil {
		no, _ := lookupPath(n.Resource, "out_order_no")
		return text(no) == *e.orderNo
	}
	return true
}

func (e *expectNotificationStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	start := time.Now()
	n, err := s.inbox.wait(ctx, e.match, e.within)
	if err != nil {
		return nil, err
	}
	if n == nil {
		return nil, e.missing(ctx, s, time.Since(start))
	}
	s.env.vars["notification_id"] = n.ID
	if e.attemptsGiven && !equal(e.attempts, json.Number(strconv.Itoa(n.Attempts))) {
		return nil, &notificationFailure{
			message: fmt.Sprintf("%s notification %s was acknowledged after %d deliveries", e.event, n.ID, n.Attempts),
			what:    "attempts", expected: show(e.attempts), actual: strconv.Itoa(n.Attempts),
		}
	}
	return &response{doc: n.doc(), header: n.Header}, nil
}

// missing explains why no notification matched: none came, one came and failed verification,
// others came instead; and what the simulator says it owes.
func (e *expectNotificationStep) missing(ctx context.Context, s *session, waited time.Duration) error {
	what := "notification " + e.event
	if e.orderNo != nil {
		what += " for out_order_no " + *e.orderNo
	}
	var lines []string
	for _, n := range s.inbox.snapshot() {
		if e.match(n) && n.Err != "" {
			return &notificationFailure{
				message: fmt.Sprintf("a %s notification (%s) arrived but the receiver refused it: %s", e.event, n.ID, n.Err),
				what:    what, expected: "a notification that verifies and decrypts", actual: n.Err,
			}
		}
		lines = append(lines, fmt.Sprintf("%s %s (%s)", n.EventType, n.ID, n.state()))
	}
	received := "nothing"
	if len(lines) > 0 {
		received = strings.Join(lines, "; ")
	}
	msg := fmt.Sprintf("no %s notification was received within %s (waited %.1fs); the receiver got: %s", e.event, e.within, waited.Seconds(), received)
	if owed := e.owed(ctx, s); owed != "" {
		msg += "; " + owed
	}
	return &notificationFailure{message: msg, what: what, expected: fmt.Sprintf("received within %s", e.within), actual: fmt.Sprintf("none after %.1fs", waited.Seconds())}
}

// owed says what the simulator's control API lists for the event, to tell "never queued" from
// "not delivered".
func (e *expectNotificationStep) owed(ctx context.Context, s *session) string {
	q := url.Values{"event_type": {e.event}, "limit": {"10"}}
	if e.orderNo != nil {
		q.Set("out_order_no", *e.orderNo)
	} else if s.order != nil {
		q.Set("out_order_no", s.order.outOrderNo)
		q.Set("mchid", s.order.mchid)
	}
	resp, err := s.control(ctx, http.MethodGet, "/sim/v1/notifications?"+q.Encode(), nil)
	if err != nil || resp.status != http.StatusOK {
		return ""
	}
	list, _ := lookupPath(resp.doc, "data")
	items, _ := list.([]any)
	scope := "in all"
	if q.Get("out_order_no") != "" {
		scope = "for out_order_no " + q.Get("out_order_no")
	}
	if len(items) == 0 {
		return fmt.Sprintf("the simulator has queued no %s notification %s", e.event, scope)
	}
	var parts []string
	for _, it := range items {
		state, _ := lookupPath(it, "state")
		attempts, _ := lookupPath(it, "attempt_count")
		to, _ := lookupPath(it, "notify_url")
		parts = append(parts, fmt.Sprintf("%s after %s attempt(s) to %s", text(state), text(attempts), text(to)))
	}
	return fmt.Sprintf("the simulator lists %d such notification(s) %s: %s", len(items), scope, strings.Join(parts, "; "))
}

// expectNoNotificationStep fails when a notification of the event arrives within a while.
type expectNoNotificationStep struct {
	event string
	wait  time.Duration
}

func (e *expectNoNotificationStep) set(a args) error {
	event, _ := a.str("event_type")
	e.event, e.wait = eventType(event), time.Second
	if f, ok := a.str("for"); ok {
		d, err := parseDuration(f)
		if err != nil {
			return err
		}
		e.wait = d
	}
	return nil
}

func (e *expectNoNotificationStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	n, err := s.inbox.waitAny(ctx, func(n *note) bool { return n.EventType == e.event }, e.wait)
	if err != nil {
		return nil, err
	}
	if n != nil {
		return nil, &notificationFailure{
			message: fmt.Sprintf("a %s notification arrived though none was expected", e.event),
			what:    "notification " + e.event, expected: fmt.Sprintf("none within %s", e.wait),
			actual: fmt.Sprintf("%s with resource %s", n.ID, show(n.Resource)),
		}
	}
	return nil, nil
}

// resendNotificationStep asks the simulator to deliver a notification again.
type resendNotificationStep struct {
	id *string
}

func (r *resendNotificationStep) set(a args) error {
	r.id = optional(a, "id")
	return nil
}

func (r *resendNotificationStep) run(ctx context.Context, s *session, st *Step) (*response, error) {
	id := ""
	if r.id != nil {
		id = *r.id
	} else {
		var err error
		if id, err = s.variable("notification_id", "no notification yet: expect_notification first, or give an id"); err != nil {
			return nil, err
		}
	}
	return s.control(ctx, http.MethodPost, "/sim/v1/notifications/"+url.PathEscape(id)+"/resend", nil)
}
