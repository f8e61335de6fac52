package simulator_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestClocksArePerMerchant advances merchants' clocks step by step: each step moves only the
// named merchant's time, expires only its orders, and the offsets are saved per merchant.
func TestClocksArePerMerchant(t *testing.T) {
	svc, db, demo := newTestService(t)
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	svc.Merchants.Add(other)
	ctx := t.Context()
	for i, mchid := range []string{demo.MchID, other.MchID} {
		o := newOrder()
		o.MchID, o.OrderID = mchid, o.OrderID[:len(o.OrderID)-1]+string(rune('1'+i))
		o.Sim.CreatedAt, o.Sim.UpdatedAt = time.Now(), time.Now()
		if _, _, err := db.CreateOrder(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	const day = 24 * time.Hour
	steps := []struct {
		name       string
		mchid      string
		d          time.Duration
		code       string
		offsets    map[string]time.Duration
		demoState  simulator.OrderState
		otherState simulator.OrderState
	}{
		{"29 days of the other merchant", other.MchID, 29 * day, "",
			map[string]time.Duration{other.MchID: 29 * day}, simulator.StateCreated, simulator.StateCreated},
		{"2 more days expire the other merchant's order only", other.MchID, 2 * day, "",
			map[string]time.Duration{other.MchID: 31 * day}, simulator.StateCreated, simulator.StateExpired},
		{"an hour of the demo merchant leaves the other at 31 days", demo.MchID, time.Hour, "",
			map[string]time.Duration{demo.MchID: time.Hour, other.MchID: 31 * day}, simulator.StateCreated, simulator.StateExpired},
		{"an unknown merchant has no clock to move", "1999999999", time.Hour, simulator.CodeParamError,
			map[string]time.Duration{demo.MchID: time.Hour, other.MchID: 31 * day}, simulator.StateCreated, simulator.StateExpired},
		{"the clock only moves forward", demo.MchID, -time.Hour, simulator.CodeParamError,
			map[string]time.Duration{demo.MchID: time.Hour, other.MchID: 31 * day}, simulator.StateCreated, simulator.StateExpired},
	}
	for _, st := range steps {
		_, err := svc.AdvanceClock(ctx, st.mchid, st.d)
		if codeOf(err) != st.code {
			t.Fatalf("%s: err = %v, want %q", st.name, err, st.code)
		}
		for _, m := range []string{demo.MchID, other.MchID, "1999999999"} {
			if got := svc.Clocks.Offset(m); got != st.offsets[m] {
				t.Errorf("%s: merchant %s is %s ahead, want %s", st.name, m, got, st.offsets[m])
			}
		}
		saved, err := db.ClockOffsets(ctx)
		if err != nil || len(saved) != len(st.offsets) {
			t.Errorf("%s: saved offsets %v, %v; want %v", st.name, saved, err, st.offsets)
		}
		for m, d := range st.offsets {
			if saved[m] != d {
				t.Errorf("%s: saved offset of %s = %s, want %s", st.name, m, saved[m], d)
			}
		}
		for m, want := range map[string]simulator.OrderState{demo.MchID: st.demoState, other.MchID: st.otherState} {
			if o, err := db.FindOrder(ctx, m, simulator.OrderKey{OutOrderNo: "ORDER-1"}); err != nil || o.State != want {
				t.Errorf("%s: merchant %s's order is %v (%v), want %s", st.name, m, o.State, err, want)
			}
		}
	}
	// Resetting one merchant puts its clock back and leaves the other's.
	svc2, err := simulator.NewService(simulator.Stores{Orders: db, Visits: db, Permissions: db, Notifications: db, ClockStore: db, MerchantStore: db},
		svc.Merchants, simulator.WithClocks(svc.Clocks), simulator.WithResetter(db))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc2.Reset(ctx, other.MchID); err != nil {
		t.Fatal(err)
	}
	if a, b := svc.Clocks.Offset(other.MchID), svc.Clocks.Offset(demo.MchID); a != 0 || b != time.Hour {
		t.Errorf("after resetting the other merchant: its clock %s ahead, the demo's %s; want 0 and 1h", a, b)
	}
}

// TestVisitTimeIsItsMerchants: an order is created, and its visit opens, on the clock of the
// order's merchant, not on the real time.
func TestVisitTimeIsItsMerchants(t *testing.T) {
	svc, _, demo := newTestService(t)
	ctx := t.Context()
	if _, err := svc.AdvanceClock(ctx, demo.MchID, 10*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	o, err := svc.CreateOrder(ctx, demo, onAcceptRequest("CLOCK-VISIT"))
	if err != nil {
		t.Fatal(err)
	}
	pkg, _ := json.Marshal(o.Sim.Package)
	v, err := svc.OpenVisit(ctx, simulator.OpenVisitRequest{BusinessType: simulator.BusinessUse, ExtraData: map[string]json.RawMessage{"package": pkg}})
	if err != nil {
		t.Fatal(err)
	}
	if ahead := time.Until(v.CreatedAt); ahead < 9*24*time.Hour {
		t.Errorf("the visit opened %s ahead of the real time; want its merchant's 10 days", ahead)
	}
	if ahead := time.Until(o.Sim.CreatedAt); ahead < 9*24*time.Hour {
		t.Errorf("the order was created %s ahead of the real time; want its merchant's 10 days", ahead)
	}
}
