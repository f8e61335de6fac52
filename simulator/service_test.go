package simulator_test

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// recordingNotifier is a Notifier that records what the Service asked of it.
type recordingNotifier struct {
	mu    sync.Mutex
	wakes int
	calls []string
}

func (n *recordingNotifier) Wake() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.wakes++
}

func (n *recordingNotifier) Resend(_ context.Context, id string) (*simulator.Notification, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "resend "+id)
	return &simulator.Notification{ID: id}, nil
}

func (n *recordingNotifier) Lab(_ context.Context, id string, variant simulator.LabVariant) (*simulator.DeliveryAttempt, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.calls = append(n.calls, "lab "+id+" "+string(variant))
	return &simulator.DeliveryAttempt{NotificationID: id, Lab: variant}, nil
}

func (n *recordingNotifier) woken() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.wakes
}

func TestNewServiceRequiresEveryStore(t *testing.T) {
	_, db, _ := newTestService(t)
	_, err := simulator.NewService(simulator.Stores{Orders: db, Visits: db, Notifications: db}, nil)
	if err == nil {
		t.Fatal("NewService without the permission and clock stores and merchants: no error")
	}
	for _, name := range []string{"Permissions", "ClockStore", "merchants"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name the missing %s", err, name)
		}
	}
}

// seedNotification gives the demo merchant an authorized user, which queues USER_OPEN_SERVICE,
// and returns that notification.
func seedNotification(t *testing.T, svc *simulator.Service) *simulator.Notification {
	t.Helper()
	ctx := t.Context()
	if _, err := svc.SeedPermission(ctx, fixtures.DemoMchID, simulator.SeedPermissionRequest{
		ServiceID: fixtures.DemoServiceID, AppID: fixtures.DemoAppID, OpenID: testOpenID,
		NotifyURL: "https://merchant.example.com/notify",
	}); err != nil {
		t.Fatal(err)
	}
	ns, err := svc.Notifications.ListNotifications(ctx, simulator.NotificationFilter{MchID: fixtures.DemoMchID})
	if err != nil || len(ns) != 1 {
		t.Fatalf("notifications after seeding a permission: %d, %v; want 1", len(ns), err)
	}
	return ns[0]
}

// TestServiceWithoutNotifier: notifications wait in the store, a resend makes one due there,
// and the lab is refused with a reason.
func TestServiceWithoutNotifier(t *testing.T) {
	svc, db, _ := newTestService(t)
	ctx := t.Context()
	n := seedNotification(t, svc)
	n.Attempted(true, time.Now(), simulator.PayScoreSchedule)
	if err := db.SaveAttempt(ctx, n, &simulator.DeliveryAttempt{Time: time.Now(), Status: 200, Success: true}); err != nil {
		t.Fatal(err)
	}
	before := svc.Clocks.Now(n.MchID)
	resent, err := svc.ResendNotification(ctx, n.ID)
	if err != nil {
		t.Fatal(err)
	}
	if resent.State != simulator.NotificationPending || resent.Attempts != 1 || resent.NextAttemptAt.Before(before) {
		t.Errorf("resent = %s, %d attempts, due %s; want PENDING, the attempt kept, due now", resent.State, resent.Attempts, resent.NextAttemptAt)
	}
	if due, err := db.DueNotifications(ctx, time.Now(), 10); err != nil || len(due) != 1 || due[0].ID != n.ID {
		t.Errorf("due after the resend: %d, %v; want the resent one", len(due), err)
	}
	if svc.LabAvailable() {
		t.Error("LabAvailable without a notifier")
	}
	if _, err := svc.NotificationLab(ctx, n.ID, "bad_signature"); codeOf(err) != simulator.CodeInvalidRequest {
		t.Errorf("lab without a notifier: %v, want INVALID_REQUEST", err)
	}
	if _, err := svc.ResendNotification(ctx, "no-such-notification"); codeOf(err) != simulator.CodeNotificationNotExist {
		t.Errorf("resend of an unknown notification: %v, want NOTIFICATION_NOT_EXIST", err)
	}
}

// TestServiceWithNotifier: changes wake the notifier, and resend and the lab are its.
func TestServiceWithNotifier(t *testing.T) {
	notifier := &recordingNotifier{}
	svc, _, _ := newTestService(t, simulator.WithNotifier(notifier))
	ctx := t.Context()
	n := seedNotification(t, svc)
	if notifier.woken() == 0 {
		t.Error("queueing USER_OPEN_SERVICE did not wake the notifier")
	}
	if !svc.LabAvailable() {
		t.Error("LabAvailable is false with a notifier")
	}
	if _, err := svc.ResendNotification(ctx, n.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NotificationLab(ctx, n.ID, "bad_signature"); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.NotificationLab(ctx, n.ID, "bad-signature"); codeOf(err) != simulator.CodeParamError {
		t.Errorf("lab of an unknown variant: %v, want PARAM_ERROR before the notifier is asked", err)
	}
	want := []string{"resend " + n.ID, "lab " + n.ID + " bad_signature"}
	if strings.Join(notifier.calls, "; ") != strings.Join(want, "; ") {
		t.Errorf("notifier calls = %v, want %v", notifier.calls, want)
	}
}

// TestServiceReset: only a Service given a resetter resets.
func TestServiceReset(t *testing.T) {
	svc, _, _ := newTestService(t)
	if _, err := svc.Reset(t.Context(), ""); codeOf(err) != simulator.CodeInvalidRequest {
		t.Errorf("reset without a resetter: %v, want INVALID_REQUEST", err)
	}
	base, db, _ := newTestService(t)
	clocks := &simulator.Clocks{}
	clocks.SetOffset(fixtures.DemoMchID, time.Hour)
	svc, err := simulator.NewService(simulator.Stores{Orders: db, Visits: db, Permissions: db, Notifications: db, ClockStore: db, MerchantStore: db},
		base.Merchants, simulator.WithResetter(db), simulator.WithClocks(clocks))
	if err != nil {
		t.Fatal(err)
	}
	seedNotification(t, svc)
	counts, err := svc.Reset(t.Context(), "")
	if err != nil {
		t.Fatal(err)
	}
	if counts.Permissions != 1 || counts.Notifications != 1 || clocks.Offset(fixtures.DemoMchID) != 0 {
		t.Errorf("reset: %+v, clock %s ahead; want the permission and its notification gone and the clock back", counts, clocks.Offset(fixtures.DemoMchID))
	}
}

// TestUsingClocks: a Service on other clocks shares the stores, so what it creates in the past
// the simulator's own Service expires.
func TestUsingClocks(t *testing.T) {
	svc, _, demo := newTestService(t)
	ctx := t.Context()
	past := &simulator.Clocks{}
	past.SetOffset(demo.MchID, -simulator.OrderLifetime-time.Hour)
	then := past.Now(demo.MchID).In(simulator.ChinaTime)
	o, err := svc.UsingClocks(past).CreateOrder(ctx, demo, simulator.CreateOrderRequest{
		OutOrderNo: "PAST-1", AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
		ServiceIntroduction: "共享充电宝",
		PostPayments:        []simulator.PostPayment{{Name: "租借费", Amount: ptr[int64](300)}},
		TimeRange:           &simulator.TimeRange{StartTime: simulator.FormatCompact(then.Add(time.Hour))},
		RiskFund:            &simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900},
		NotifyURL:           "https://merchant.example.com/notify",
	})
	if err != nil {
		t.Fatal(err)
	}
	if o.Sim.CreatedAt.After(time.Now().Add(-simulator.OrderLifetime)) {
		t.Fatalf("created at %s, not more than 30 days ago", o.Sim.CreatedAt)
	}
	if err := svc.ExpireOrders(ctx, demo.MchID); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Orders.FindOrder(ctx, demo.MchID, simulator.OrderKey{OutOrderNo: "PAST-1"}); err != nil || got.State != simulator.StateExpired {
		t.Errorf("the past order after ExpireOrders: %+v, %v; want EXPIRED", got, err)
	}
}

// TestVisitsShareOneStore opens a visit of an order and one of a permission: both are found,
// listed and changed through the one VisitStore, each with its own subject, and an action the
// visit's kind lacks is refused as such, not as a missing visit.
func TestVisitsShareOneStore(t *testing.T) {
	svc, _, demo := newTestService(t)
	ctx := t.Context()
	o, err := svc.CreateOrder(ctx, demo, onAcceptRequest("VISITS-1"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.ApplyPermission(ctx, demo, simulator.ApplyPermissionRequest{
		ServiceID: fixtures.DemoServiceID, AppID: fixtures.DemoAppID, AuthorizationCode: "VISITS-AUTH-1",
		NotifyURL: "https://merchant.example.com/notify",
	})
	if err != nil {
		t.Fatal(err)
	}
	use, err := svc.OpenVisit(ctx, simulator.OpenVisitRequest{BusinessType: simulator.BusinessUse, ExtraData: map[string]json.RawMessage{"package": json.RawMessage(jsonOf(t, o.Sim.Package))}})
	if err != nil {
		t.Fatal(err)
	}
	enable, err := svc.OpenVisit(ctx, simulator.OpenVisitRequest{BusinessType: simulator.BusinessEnable, ExtraData: map[string]json.RawMessage{"apply_permissions_token": json.RawMessage(jsonOf(t, p.Token))}})
	if err != nil {
		t.Fatal(err)
	}
	listed, err := svc.Visits.ListVisits(ctx, simulator.VisitFilter{MchID: demo.MchID})
	if err != nil || len(listed) != 2 || listed[0].Permission == nil || listed[1].Order == nil {
		t.Fatalf("ListVisits = %d visits, %v; want the enable visit with its permission, then the order's with its order", len(listed), err)
	}
	if _, err := svc.AuthorizeVisit(ctx, use.ID, ""); codeOf(err) != simulator.CodeInvalidRequest {
		t.Errorf("authorize on an order's visit: %v, want INVALID_REQUEST", err)
	}
	if _, err := svc.ConfirmVisit(ctx, enable.ID, ""); codeOf(err) != simulator.CodeInvalidRequest {
		t.Errorf("confirm on an authorization's visit: %v, want INVALID_REQUEST", err)
	}
	if v, err := svc.ConfirmVisit(ctx, use.ID, ""); err != nil || v.Order.State != simulator.StateDoing {
		t.Fatalf("confirm: %+v, %v", v, err)
	}
	if _, err := svc.AuthorizeVisit(ctx, enable.ID, testOpenID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.BackVisit(ctx, enable.ID); err != nil {
		t.Fatal(err)
	}
	found, err := svc.FindVisit(ctx, enable.ID)
	if err != nil || found.Outcome != simulator.BackWithoutParams || !found.Authorized ||
		found.Permission.State != simulator.AuthorizationAvailable || found.Permission.OpenID != testOpenID {
		t.Errorf("the authorization's visit afterwards = %+v (permission %+v), %v", found, found.Permission, err)
	}
	if o, err := svc.Orders.FindOrder(ctx, demo.MchID, simulator.OrderKey{OutOrderNo: "VISITS-1"}); err != nil || o.State != simulator.StateDoing {
		t.Errorf("the order afterwards = %+v, %v; want DOING", o, err)
	}
	if _, err := svc.FindVisit(ctx, "no-such-visit"); codeOf(err) != simulator.CodeVisitNotExist {
		t.Errorf("FindVisit of an unknown id: %v, want VISIT_NOT_EXIST", err)
	}
}
