package simtest

import (
	"context"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// waitLimit bounds how long WaitOrder waits: far beyond any deduction delay a test sets, so
// that reaching it means the order never got there.
const waitLimit = 20 * time.Second

// WaitOrder polls the merchant's order until done reports true, as a merchant's back end polls
// the query API, and returns it. Pay Score deducts after complete answers, so a test that
// wants the paid order waits for it. It fails the test if the order never gets there.
func (s *Sim) WaitOrder(t testing.TB, mchid, outOrderNo string, done func(*simulator.Order) bool) *simulator.Order {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for {
		o, err := s.DB.FindOrder(context.Background(), mchid, simulator.OrderKey{OutOrderNo: outOrderNo})
		if err != nil {
			t.Fatalf("simtest: wait for order %s/%s: %v", mchid, outOrderNo, err)
		}
		if done(o) {
			return o
		}
		if time.Now().After(deadline) {
			t.Fatalf("simtest: order %s/%s is still %s %s after %s", mchid, outOrderNo, o.State, o.StateDescription, waitLimit)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitDeducted waits until Pay Score's deduction of the order is over: the order is DONE, or no
// deduction is pending any more.
func (s *Sim) WaitDeducted(t testing.TB, mchid, outOrderNo string) *simulator.Order {
	t.Helper()
	return s.WaitOrder(t, mchid, outOrderNo, func(o *simulator.Order) bool {
		_, pending := o.DeductionDue()
		return !pending
	})
}
