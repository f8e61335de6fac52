package simulator_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// Helpers shared by the tests of package simulator.

// The ids of the orders and permissions the domain tests build. The domain checks that a call
// names the order's own appid and service_id, not that they are a merchant's.
const (
	testMchID     = "1230000109"
	testAppID     = "wxd678efh567hg6787"
	testServiceID = "500001"
	testOpenID    = "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"
)

// testNow is the time of the domain tests: fixed, so that a row's outcome does not depend on
// when it runs.
var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, simulator.ChinaTime)

func ptr[T any](v T) *T { return &v }

// codeOf is the WeChat code of err ("" for success, SYSTEM_ERROR for an error that is not an
// *simulator.Error).
func codeOf(err error) string {
	if err == nil {
		return ""
	}
	return simulator.ErrorCode(err)
}

// newOrder is a CREATED 先享 (ESTIMATE_ORDER_COST) order of 300 fen created an hour before
// testNow, for a service that started two hours before it.
func newOrder() *simulator.Order {
	created := testNow.Add(-time.Hour)
	return &simulator.Order{
		AppID: testAppID, MchID: testMchID, OutOrderNo: "ORDER-1", ServiceID: testServiceID,
		ServiceIntroduction: "共享充电宝", State: simulator.StateCreated,
		PostPayments: []simulator.PostPayment{{Name: "租借费", Amount: ptr[int64](300)}},
		RiskFund:     simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900},
		TotalAmount:  300,
		TimeRange:    simulator.TimeRange{StartTime: simulator.FormatCompact(testNow.Add(-2 * time.Hour))},
		NotifyURL:    "https://merchant.example.com/notify", OrderID: "1000000000202603011100000000001",
		Sim: simulator.OrderRecord{NeedUserConfirm: true, CreatedAt: created, UpdatedAt: created},
	}
}

// onAcceptRequest creates a confirm-mode order of the demo merchant numbered no, starting when
// the user confirms.
func onAcceptRequest(no string) simulator.CreateOrderRequest {
	return simulator.CreateOrderRequest{
		OutOrderNo: no, AppID: fixtures.DemoAppID, ServiceID: fixtures.DemoServiceID,
		ServiceIntroduction: "共享充电宝",
		PostPayments:        []simulator.PostPayment{{Name: "租借费", Amount: ptr[int64](300)}},
		TimeRange:           &simulator.TimeRange{StartTime: simulator.OnAccept},
		RiskFund:            &simulator.RiskFund{Name: "ESTIMATE_ORDER_COST", Amount: 9900},
		NotifyURL:           "https://merchant.example.com/notify",
	}
}

// completeRequest completes the order of newOrder with total fen.
func completeRequest(total int64) simulator.CompleteRequest {
	return simulator.CompleteRequest{
		AppID: testAppID, ServiceID: testServiceID,
		PostPayments: []simulator.PostPayment{{Name: "租借费", Amount: ptr(total)}},
		TotalAmount:  ptr(total),
		TimeRange:    &simulator.TimeRange{EndTime: simulator.FormatCompact(testNow.Add(-time.Minute))},
	}
}

// orderStates build an order in each state the state machine knows, from newOrder through the
// domain's own transitions, so that the states are the ones the operations reach.
var orderStates = map[string]func(o *simulator.Order) error{
	"CREATED":            func(*simulator.Order) error { return nil },
	"DOING/USER_CONFIRM": func(o *simulator.Order) error { return o.Confirm(testOpenID, testNow) },
	"DOING/MCH_COMPLETE USER_PAYING": func(o *simulator.Order) error {
		if err := o.Confirm(testOpenID, testNow); err != nil {
			return err
		}
		return o.Complete(completeRequest(300), testNow, plan(simulator.DeductFail))
	},
	"DOING/MCH_COMPLETE USER_PAYING deducting": func(o *simulator.Order) error {
		if err := o.Confirm(testOpenID, testNow); err != nil {
			return err
		}
		return o.Complete(completeRequest(300), testNow, plan(simulator.DeductImmediately))
	},
	"DONE USER_PAID": func(o *simulator.Order) error {
		if err := o.Confirm(testOpenID, testNow); err != nil {
			return err
		}
		if err := o.Complete(completeRequest(300), testNow, plan(simulator.DeductImmediately)); err != nil {
			return err
		}
		_, err := o.RunDeduction(testNow.Add(time.Hour), simulator.DeductImmediately)
		return err
	},
	"REVOKED": func(o *simulator.Order) error {
		return o.Cancel(simulator.CancelRequest{AppID: testAppID, Reason: "用户取消"}, false)
	},
	"EXPIRED": func(o *simulator.Order) error {
		o.Expire(testNow.Add(simulator.OrderLifetime))
		return nil
	},
}

// orderIn returns newOrder brought to state (a key of orderStates), with its outbox emptied as
// a store would.
func orderIn(t *testing.T, state string) *simulator.Order {
	t.Helper()
	reach, ok := orderStates[state]
	if !ok {
		t.Fatalf("no order state %q", state)
	}
	o := newOrder()
	if err := reach(o); err != nil {
		t.Fatalf("reach %s: %v", state, err)
	}
	if got := stateOf(o); got != state {
		t.Fatalf("reached %s, want %s", got, state)
	}
	o.Sim.Outbox = nil
	return o
}

// stateOf names an order's state as orderStates does: state, state_description, the
// collection's state, and whether a deduction is in flight.
func stateOf(o *simulator.Order) string {
	s := string(o.State)
	if o.StateDescription != "" {
		s += "/" + string(o.StateDescription)
	}
	if o.Collection != nil {
		s += " " + string(o.Collection.State)
	}
	if _, ok := o.DeductionDue(); ok {
		s += " deducting"
	}
	return s
}

// plan is the deduction plan of mode, with the default delay.
func plan(mode simulator.DeductionMode) simulator.DeductionPlan {
	return simulator.DeductionPlan{Mode: mode, Delay: simulator.DefaultDeductionDelay}
}

// events lists the event types of the notifications an outbox holds, in order.
func events(outbox []*simulator.Notification) []simulator.EventType {
	var out []simulator.EventType
	for _, n := range outbox {
		out = append(out, n.EventType)
	}
	return out
}

// jsonOf is v's JSON, to compare a value before and after a refused operation.
func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// newTestService is a Service on a fresh in-memory database, for the demo merchant, with opts.
func newTestService(tb testing.TB, opts ...simulator.Option) (*simulator.Service, *sqlite.DB, *simulator.Merchant) {
	tb.Helper()
	db, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() })
	demo, err := fixtures.DemoMerchant()
	if err != nil {
		tb.Fatal(err)
	}
	merchants := &simulator.Merchants{}
	merchants.Add(demo)
	svc, err := simulator.NewService(simulator.Stores{
		Orders: db, Visits: db, Permissions: db, Notifications: db, ClockStore: db, MerchantStore: db,
	}, merchants, opts...)
	if err != nil {
		tb.Fatal(err)
	}
	return svc, db, demo
}

// checkCovers fails unless pairs holds every (operation, state) pair of ops and states exactly
// once: a table of transitions must grow with the operations and states it tests.
func checkCovers[Op, State any](t *testing.T, pairs [][2]string, ops map[string]Op, states map[string]State) {
	t.Helper()
	rows := map[[2]string]int{}
	for _, p := range pairs {
		rows[p]++
	}
	for op := range ops {
		for from := range states {
			if n := rows[[2]string{op, from}]; n != 1 {
				t.Errorf("%d rows for %s from %s, want 1", n, op, from)
			}
		}
	}
	if len(rows) != len(ops)*len(states) {
		t.Errorf("%d (operation, state) pairs in the table, want %d: a row names an unknown operation or state", len(rows), len(ops)*len(states))
	}
}
