package simulator_test

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// faultMerchants holds the demo merchant's mchid and one other.
func faultMerchants() *simulator.Merchants {
	ms := &simulator.Merchants{}
	ms.Add(&simulator.Merchant{MchID: testMchID})
	ms.Add(&simulator.Merchant{MchID: "1900000109"})
	return ms
}

func mustFault(t *testing.T, req simulator.FaultRequest) *simulator.FaultRule {
	t.Helper()
	r, err := simulator.NewFaultRule(faultMerchants(), req, testNow)
	if err != nil {
		t.Fatalf("NewFaultRule(%+v): %v", req, err)
	}
	return r
}

func TestNewFaultRuleRefusals(t *testing.T) {
	ok := simulator.FaultRequest{MchID: testMchID, Operation: "create", Fault: "system_error"}
	for _, tc := range []struct {
		name  string
		edit  func(*simulator.FaultRequest)
		field string
	}{
		{"no merchant", func(r *simulator.FaultRequest) { r.MchID = "" }, "mchid"},
		{"unknown merchant", func(r *simulator.FaultRequest) { r.MchID = "1230000190" }, "mchid"},
		{"unknown operation", func(r *simulator.FaultRequest) { r.Operation = "close" }, "operation"},
		{"no operation", func(r *simulator.FaultRequest) { r.Operation = "" }, "operation"},
		{"unknown fault", func(r *simulator.FaultRequest) { r.Fault = "timeout" }, "fault"},
		{"times 0", func(r *simulator.FaultRequest) { r.Times = ptr(0) }, "times"},
		{"times too many", func(r *simulator.FaultRequest) { r.Times = ptr(1001) }, "times"},
		{"order of certificates", func(r *simulator.FaultRequest) { r.Operation, r.OutOrderNo = "certificates", "A1" }, "out_order_no"},
		{"order of a permission", func(r *simulator.FaultRequest) { r.Operation, r.OutOrderNo = "apply_permissions", "A1" }, "out_order_no"},
		{"order of a refund", func(r *simulator.FaultRequest) { r.Operation, r.OutOrderNo = "refund", "A1" }, "out_order_no"},
		{"before_commit of a 500", func(r *simulator.FaultRequest) { r.BeforeCommit = true }, "before_commit"},
		{"delay of a 500", func(r *simulator.FaultRequest) { r.Delay = "3s" }, "delay"},
		{"delay missing", func(r *simulator.FaultRequest) { r.Fault = "delay" }, "delay"},
		{"delay not a duration", func(r *simulator.FaultRequest) { r.Fault, r.Delay = "delay", "3" }, "delay"},
		{"delay negative", func(r *simulator.FaultRequest) { r.Fault, r.Delay = "delay", "-1s" }, "delay"},
		{"delay too long", func(r *simulator.FaultRequest) { r.Fault, r.Delay = "delay", "6m" }, "delay"},
		{"refund_abnormal of create", func(r *simulator.FaultRequest) { r.Fault = "refund_abnormal" }, "operation"},
		{"refund_closed of query_refund", func(r *simulator.FaultRequest) { r.Operation, r.Fault = "query_refund", "refund_closed" }, "operation"},
		{"refund_abnormal of any", func(r *simulator.FaultRequest) { r.Operation, r.Fault = "any", "refund_abnormal" }, "operation"},
		{"delay of refund_closed", func(r *simulator.FaultRequest) { r.Operation, r.Fault, r.Delay = "refund", "refund_closed", "3s" }, "delay"},
		{"before_commit of refund_abnormal", func(r *simulator.FaultRequest) {
			r.Operation, r.Fault, r.BeforeCommit = "refund", "refund_abnormal", true
		}, "before_commit"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := ok
			tc.edit(&req)
			_, err := simulator.NewFaultRule(faultMerchants(), req, testNow)
			e, isErr := err.(*simulator.Error)
			if !isErr || e.Code != simulator.CodeParamError || e.Detail["field"] != tc.field {
				t.Fatalf("err = %v, want a PARAM_ERROR on %s", err, tc.field)
			}
			if issue, _ := e.Detail["issue"].(string); issue == "" {
				t.Errorf("PARAM_ERROR on %s explains nothing: %+v", tc.field, e.Detail)
			}
		})
	}
}

func TestNewFaultRuleDefaultsAndOptions(t *testing.T) {
	r := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "complete", Fault: "system_error_after_commit"})
	if r.Times != 1 || r.Remaining != 1 || !strings.HasPrefix(r.ID, "fault_") || !r.CreatedAt.Equal(testNow) {
		t.Errorf("rule %+v: want times 1, remaining 1, an id fault_..., created at %v", r, testNow)
	}
	d := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "any", Fault: "delay", Delay: "1500ms", Times: ptr(3)})
	if d.DelayDuration() != 1500*time.Millisecond || d.Delay != "1.5s" || d.Times != 3 || d.Remaining != 3 {
		t.Errorf("delay rule %+v (%v): want 1.5s, times 3", d, d.DelayDuration())
	}
	if other := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "query", Fault: "rate_limited"}); other.ID == r.ID {
		t.Errorf("two rules share the id %s", r.ID)
	}
}

// TestFaultTiming: which faults let the work happen, and what each answers.
func TestFaultTiming(t *testing.T) {
	for _, tc := range []struct {
		fault        string
		beforeCommit bool
		afterWork    bool
		code         string
	}{
		{"system_error", false, false, simulator.CodeSystemError},
		{"system_error_after_commit", false, true, simulator.CodeSystemError},
		{"rate_limited", false, false, simulator.CodeFrequencyLimited},
		{"reset", false, true, ""},
		{"reset", true, false, ""},
		{"refund_abnormal", false, false, ""},
		{"refund_closed", false, false, ""},
	} {
		op := "create"
		if simulator.FaultKind(tc.fault).RefundOutcome() != "" {
			op = "refund"
		}
		r := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: op, Fault: tc.fault, BeforeCommit: tc.beforeCommit})
		if r.AfterWork() != tc.afterWork {
			t.Errorf("%s (before_commit %v): AfterWork = %v, want %v", tc.fault, tc.beforeCommit, r.AfterWork(), tc.afterWork)
		}
		e := r.Error()
		switch {
		case tc.code == "" && e != nil:
			t.Errorf("%s answers %v, want no answer", tc.fault, e)
		case tc.code != "" && (e == nil || e.Code != tc.code || e.Detail["fault_rule"] != r.ID):
			t.Errorf("%s answers %v, want %s naming rule %s", tc.fault, e, tc.code, r.ID)
		}
	}
}

func TestFaultsTakeMatchesAndCounts(t *testing.T) {
	var f simulator.Faults
	if f.Any() || f.Take(testMchID, simulator.FaultCreate, "") != nil {
		t.Fatal("an empty Faults matched")
	}
	twice := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "create", Fault: "system_error", Times: ptr(2)})
	oneOrder := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "complete", Fault: "rate_limited", OutOrderNo: "A1"})
	anyOp := mustFault(t, simulator.FaultRequest{MchID: "1900000109", Operation: "any", Fault: "reset"})
	for _, r := range []*simulator.FaultRule{twice, oneOrder, anyOp} {
		f.Add(r)
	}
	for _, step := range []struct {
		mchid string
		op    simulator.FaultOperation
		no    string
		want  string // the rule that fires, "" for none
		left  int
	}{
		{testMchID, simulator.FaultQuery, "", "", 0},          // no rule of query
		{testMchID, simulator.FaultComplete, "A2", "", 0},     // another order
		{testMchID, simulator.FaultComplete, "", "", 0},       // no order named
		{testMchID, simulator.FaultCreate, "B1", twice.ID, 1}, // not narrowed: any order
		{testMchID, simulator.FaultComplete, "A1", oneOrder.ID, 0},
		{testMchID, simulator.FaultComplete, "A1", "", 0},   // fired its one time
		{testMchID, simulator.FaultCreate, "", twice.ID, 0}, // the second time
		{testMchID, simulator.FaultCreate, "", "", 0},       // gone
		{"1900000109", simulator.FaultCertificates, "", anyOp.ID, 0},
	} {
		got := f.Take(step.mchid, step.op, step.no)
		switch {
		case step.want == "" && got != nil:
			t.Errorf("%s %s %q fired %s, want none", step.mchid, step.op, step.no, got.ID)
		case step.want != "" && (got == nil || got.ID != step.want || got.Remaining != step.left):
			t.Errorf("%s %s %q fired %+v, want %s with %d left", step.mchid, step.op, step.no, got, step.want, step.left)
		}
	}
	if f.Any() || len(f.List("")) != 0 {
		t.Errorf("rules left after firing all their times: %+v", f.List(""))
	}
}

// TestFaultsRefundOutcomeRules: a rule that decides refunds' outcomes is never taken for a
// request's answer, and a transport rule of refund never for an outcome.
func TestFaultsRefundOutcomeRules(t *testing.T) {
	var f simulator.Faults
	oneOrder := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "refund", Fault: "refund_closed", OutOrderNo: "A1"})
	abnormal := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "refund", Fault: "refund_abnormal", Times: ptr(2)})
	closed := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "refund", Fault: "refund_closed"})
	transport := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "refund", Fault: "system_error"})
	for _, r := range []*simulator.FaultRule{oneOrder, abnormal, closed, transport} {
		f.Add(r)
	}
	if got := f.TakeRefundOutcome("1900000109", ""); got != nil {
		t.Errorf("another merchant's refund took %s", got.ID)
	}
	if got := f.Take(testMchID, simulator.FaultRefund, ""); got == nil || got.ID != transport.ID {
		t.Errorf("the refund request took %+v, want the transport rule %s", got, transport.ID)
	}
	if got := f.Take(testMchID, simulator.FaultRefund, ""); got != nil {
		t.Errorf("the refund request took the outcome rule %s (%s)", got.ID, got.Fault)
	}
	for i, want := range []struct {
		id      string
		outcome simulator.RefundStatus
	}{{abnormal.ID, simulator.RefundAbnormal}, {abnormal.ID, simulator.RefundAbnormal}, {closed.ID, simulator.RefundClosed}, {"", ""}} {
		got := f.TakeRefundOutcome(testMchID, "B1")
		switch {
		case want.id == "" && got != nil:
			t.Errorf("refund %d took %s, want none left", i+1, got.ID)
		case want.id != "" && (got == nil || got.ID != want.id || got.Fault.RefundOutcome() != want.outcome):
			t.Errorf("refund %d took %+v, want %s ending %s", i+1, got, want.id, want.outcome)
		}
	}
	// The rule narrowed to order A1 was left to a refund of A1.
	if got := f.TakeRefundOutcome(testMchID, "A1"); got == nil || got.ID != oneOrder.ID {
		t.Errorf("a refund of order A1 took %+v, want the rule narrowed to it, %s", got, oneOrder.ID)
	}
}

func TestFaultsOldestFirstListDeleteReset(t *testing.T) {
	var f simulator.Faults
	first := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "any", Fault: "system_error"})
	second := mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "create", Fault: "rate_limited"})
	other := mustFault(t, simulator.FaultRequest{MchID: "1900000109", Operation: "create", Fault: "rate_limited"})
	for _, r := range []*simulator.FaultRule{first, second, other} {
		f.Add(r)
	}
	if got := f.List(testMchID); len(got) != 2 || got[0].ID != first.ID || got[1].ID != second.ID {
		t.Errorf("List(%s) = %+v, want the merchant's two rules, oldest first", testMchID, got)
	}
	if got := f.Take(testMchID, simulator.FaultCreate, ""); got == nil || got.ID != first.ID {
		t.Errorf("Take fired %+v, want the oldest matching rule %s", got, first.ID)
	}
	if _, ok := f.Delete(first.ID); ok {
		t.Error("Delete found a rule that had fired its one time")
	}
	if got, ok := f.Delete(second.ID); !ok || got.ID != second.ID {
		t.Errorf("Delete(%s) = %+v, %v", second.ID, got, ok)
	}
	f.Add(second)
	if n := f.Reset(testMchID); n != 1 || len(f.List("")) != 1 {
		t.Errorf("Reset(%s) removed %d, left %+v; want 1 removed and the other merchant's rule left", testMchID, n, f.List(""))
	}
	if n := f.Reset(""); n != 1 || f.Any() {
		t.Errorf("Reset(\"\") removed %d; want the last rule", n)
	}
}

func TestServiceResetRemovesTheMerchantsFaults(t *testing.T) {
	svc, _, demo := newTestService(t, simulator.WithResetter(noopResetter{}))
	if _, err := svc.AddFault(simulator.FaultRequest{MchID: demo.MchID, Operation: "create", Fault: "reset"}); err != nil {
		t.Fatal(err)
	}
	counts, err := svc.Reset(t.Context(), demo.MchID)
	if err != nil || counts.Faults != 1 || svc.Faults.Any() {
		t.Errorf("Reset = %+v, %v; want the rule removed and counted", counts, err)
	}
}

type noopResetter struct{}

func (noopResetter) Reset(ctx context.Context, mchid string) (simulator.ResetCounts, error) {
	return simulator.ResetCounts{}, nil
}

// TestFaultsTakeConcurrently: a rule fires exactly its times however many requests race for it.
func TestFaultsTakeConcurrently(t *testing.T) {
	var f simulator.Faults
	f.Add(mustFault(t, simulator.FaultRequest{MchID: testMchID, Operation: "any", Fault: "system_error", Times: ptr(50)}))
	var fired atomic.Int64
	var wg sync.WaitGroup
	for range 200 {
		wg.Go(func() {
			if f.Take(testMchID, simulator.FaultQuery, "") != nil {
				fired.Add(1)
			}
		})
	}
	wg.Wait()
	if fired.Load() != 50 || f.Any() {
		t.Errorf("%d of 200 racing requests failed (rules left: %v), want exactly 50", fired.Load(), f.Any())
	}
}

// BenchmarkFaultsTakeNoRule is what every API request pays for failure on demand while no
// rule exists: one atomic load.
func BenchmarkFaultsTakeNoRule(b *testing.B) {
	var f simulator.Faults
	for b.Loop() {
		if f.Take(testMchID, simulator.FaultCreate, "") != nil {
			b.Fatal("a rule fired")
		}
	}
}

// BenchmarkFaultsTakeOtherMerchant is the cost while another merchant's rule is in force.
func BenchmarkFaultsTakeOtherMerchant(b *testing.B) {
	var f simulator.Faults
	r, err := simulator.NewFaultRule(faultMerchants(), simulator.FaultRequest{MchID: "1900000109", Operation: "any", Fault: "reset"}, testNow)
	if err != nil {
		b.Fatal(err)
	}
	f.Add(r)
	for b.Loop() {
		if f.Take(testMchID, simulator.FaultCreate, "") != nil {
			b.Fatal("another merchant's rule fired")
		}
	}
}
