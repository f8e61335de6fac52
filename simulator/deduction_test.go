package simulator_test

import (
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// TestSetDeductionDelay: a test keeps an order's deduction in flight for as long as it says,
// and the order's delay governs its later deductions too.
func TestSetDeductionDelay(t *testing.T) {
	svc, db, _ := newTestService(t)
	ctx := t.Context()
	o := orderIn(t, "DOING/MCH_COMPLETE USER_PAYING deducting")
	if _, _, err := db.CreateOrder(ctx, o); err != nil {
		t.Fatal(err)
	}
	before := svc.Clocks.Now(o.MchID)
	held, err := svc.SetDeductionDelay(ctx, o.MchID, o.OutOrderNo, time.Hour)
	after := svc.Clocks.Now(o.MchID)
	if err != nil {
		t.Fatal(err)
	}
	due, ok := held.DeductionDue()
	if !ok || due.Before(before.Add(time.Hour)) || due.After(after.Add(time.Hour)) {
		t.Errorf("deduction due %v (pending %v), want an hour after %v", due, ok, before)
	}
	if d := held.Sim.DeductionDelay; d == nil || time.Duration(*d) != time.Hour {
		t.Errorf("the order's deduction delay is %v, want 1h for its later deductions", d)
	}
	if _, err := svc.SetDeductionDelay(ctx, o.MchID, o.OutOrderNo, -time.Second); codeOf(err) != simulator.CodeParamError {
		t.Errorf("a negative delay: %v, want PARAM_ERROR", err)
	}
}
