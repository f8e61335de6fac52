package scenario_test

import (
	"context"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

func TestParseSeedState(t *testing.T) {
	for in, want := range map[string]scenario.SeedState{
		"CREATED": scenario.SeedCreated, "created": scenario.SeedCreated,
		"USER_CONFIRM": scenario.SeedConfirmed, "doing/user_confirm": scenario.SeedConfirmed,
		"MCH_COMPLETE": scenario.SeedAwaitingPay, "USER_PAYING": scenario.SeedAwaitingPay,
		"DONE": scenario.SeedDone, "REVOKED": scenario.SeedRevoked, "EXPIRED": scenario.SeedExpired,
	} {
		if got, err := scenario.ParseSeedState(in); err != nil || got != want {
			t.Errorf("ParseSeedState(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "DOING", "PAID", "DONE/MCH_COMPLETE"} {
		_, err := scenario.ParseSeedState(in)
		if err == nil || !strings.Contains(err.Error(), "is not one of CREATED, DOING/USER_CONFIRM, DOING/MCH_COMPLETE, DONE, REVOKED, EXPIRED") {
			t.Errorf("ParseSeedState(%q): err = %v", in, err)
		}
	}
	for _, in := range []string{"deduction", "sync"} {
		if got, err := scenario.ParsePaidBy(in); err != nil || string(got) != in {
			t.Errorf("ParsePaidBy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := scenario.ParsePaidBy("cash"); err == nil || err.Error() != `paid_by must be deduction or sync, not "cash"` {
		t.Errorf("ParsePaidBy(cash): err = %v", err)
	}
}

func TestSeedParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ content, want string }{
		{"orders:\n  - out_order_no: A\n    state: DOING\n", `seed.yaml:3:12: state "DOING" is not one of CREATED`},
		{"orders:\n  - out_order_no: A\n    state: CREATED\n    servce_introduction: x\n", `seed.yaml:4:5: unknown field "servce_introduction" in an order (did you mean service_introduction?)`},
		{"orders:\n  - state: CREATED\n", "seed.yaml:2:5: a seeded order needs its out_order_no"},
		{"orders:\n  - {out_order_no: A, state: CREATED}\n  - {out_order_no: A, state: DONE}\n", "seed.yaml:3:5: out_order_no A appears twice (first at line 2)"},
		{"authorizations:\n  - appid: x\n", "seed.yaml:2:5: an authorization needs the openid"},
		{"orders:\n  - {out_order_no: A, state: CREATED, complete: {total_amount: 1}}\n", "complete applies to orders seeded as DOING/MCH_COMPLETE or DONE"},
		{"order:\n  - {}\n", `seed.yaml:1:1: unknown field "order" in a seed file (did you mean orders?)`},
		{"orders:\n  - {out_order_no: A}\n", "seed.yaml:2:5: a seeded order needs a state: one of CREATED, DOING/USER_CONFIRM"},
		{"orders:\n  - {out_order_no: A, state: DONE, paid_by: cash}\n", `seed.yaml:2:45: paid_by must be deduction or sync, not "cash"`},
		{"orders:\n  - {out_order_no: A, state: DONE, complete: {appid: x}}\n", "complete uses the order's appid and service_id; leave appid out"},
		{"orders:\n  - {out_order_no: A, state: CREATED, refunds: [{amount: 1}]}\n", "seed.yaml:2:5: refunds apply to orders seeded as DONE and paid by deduction"},
		{"orders:\n  - {out_order_no: A, state: DONE, paid_by: sync, refunds: [{amount: 1}]}\n", "refunds apply to orders seeded as DONE and paid by deduction"},
		{"orders:\n  - {out_order_no: A, state: DONE, refunds: [{status: SUCCESS}]}\n", "seed.yaml:2:46: a seeded refund needs its amount, in fen"},
		{"orders:\n  - {out_order_no: A, state: DONE, refunds: [{amount: 1.5}]}\n", "a refund's amount is a whole number of fen, at least 1"},
		{"orders:\n  - {out_order_no: A, state: DONE, refunds: [{amount: 1, status: PROCESSING}]}\n", "a seeded refund's status must be SUCCESS, ABNORMAL or CLOSED"},
		{"orders:\n  - {out_order_no: A, state: DONE, refunds: [{amount: 1, amout: 2}]}\n", `unknown field "amout" in a refund (did you mean amount?)`},
	}
	for _, tt := range tests {
		_, err := scenario.ParseSeed("seed.yaml", []byte(tt.content))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseSeed(%q) = %v, want %q", tt.content, err, tt.want)
		}
	}
}

// TestSeedApply seeds the example file into a simulator through its Service and checks each
// order's state and history, and that seeding again changes nothing.
func TestSeedApply(t *testing.T) {
	t.Parallel()
	seed := exampleSeed(t)
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{Merchants: []*simulator.Merchant{other}})
	svc := sim.Server.Service
	rep, err := seed.Apply(context.Background(), svc, sim.Server.Refunds)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Authorizations != 2 || rep.Present != 0 {
		t.Errorf("report = %s", rep)
	}
	want := map[string]string{
		"SEED-CREATED-0001":          "CREATED",
		"SEED-CONFIRMED-0001":        "DOING/USER_CONFIRM",
		"SEED-NOCONFIRM-0001":        "DOING/USER_CONFIRM",
		"SEED-AWAITING-PAYMENT-0001": "DOING/MCH_COMPLETE USER_PAYING",
		"SEED-DONE-0001":             "DONE USER_PAID NEWTON",
		"SEED-DONE-REFUNDED-0001":    "DONE USER_PAID NEWTON",
		"SEED-DONE-SYNC-0001":        "DONE USER_PAID MCH",
		"SEED-REVOKED-0001":          "REVOKED",
		"SEED-EXPIRED-0001":          "EXPIRED",
	}
	for no, state := range want {
		checkOrderState(t, svc, no, state)
	}
	// An order whose file names no items gets the scenario create's one item of 200, as
	// fixtures/README.md says, not a total of 0.
	plain, err := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: "SEED-CONFIRMED-0001"})
	if err != nil {
		t.Fatal(err)
	}
	if plain.TotalAmount != 200 || len(plain.PostPayments) != 1 {
		t.Errorf("SEED-CONFIRMED-0001: total_amount %d, post_payments %+v; want the default item of 200", plain.TotalAmount, plain.PostPayments)
	}
	expired, _ := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: "SEED-EXPIRED-0001"})
	if h := expired.Sim.History; len(h) != 2 || h[1].Cause != "clock: 30 days unconfirmed" || svc.Clocks.Now(expired.MchID).Sub(expired.Sim.CreatedAt) < simulator.OrderLifetime {
		t.Errorf("the expired order's history = %+v, created %s", h, expired.Sim.CreatedAt)
	}
	if offsets := svc.Clocks.Offsets(); len(offsets) != 0 {
		t.Errorf("seeding moved clocks: %v", offsets)
	}
	checkSeededRefunds(t, sim)
	again, err := seed.Apply(context.Background(), svc, sim.Server.Refunds)
	if err != nil {
		t.Fatalf("seeding again: %v", err)
	}
	if again.Present != len(seed.Orders) || again.PresentAuthorizations != 2 || again.Authorizations != 0 {
		t.Errorf("seeding again: %s", again)
	}
	if ok, _ := regexp.MatchString(`^0 authorizations, 0 orders; already present: 2 authorizations, 10 orders$`, again.String()); !ok {
		t.Errorf("report = %q", again.String())
	}
}

// checkSeededRefunds: the example's refunded order has its two refunds, in their statuses,
// made after the deduction, a minute apart and before now, each with its notification.
func checkSeededRefunds(t *testing.T, sim *simtest.Sim) {
	t.Helper()
	ctx := context.Background()
	const no = "SEED-DONE-REFUNDED-0001"
	o, err := sim.DB.FindOrder(ctx, fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: no})
	if err != nil || len(o.Transactions()) != 1 {
		t.Fatalf("%s: %v, transactions %v", no, err, o)
	}
	paid := o.Transactions()[0]
	refunds, err := sim.Server.Refunds.Refunds.ListRefunds(ctx, simulator.RefundFilter{MchID: fixtures.DemoMchID, OutOrderNo: no})
	if err != nil || len(refunds) != 2 {
		t.Fatalf("refunds of %s: %v %d", no, err, len(refunds))
	}
	abnormal, first := refunds[0], refunds[1] // newest first
	for _, c := range []struct {
		r          *simulator.Refund
		no, reason string
		status     simulator.RefundStatus
		amount     int64
	}{
		{first, no + "-R1", "充电宝提前归还", simulator.RefundSuccess, 100},
		{abnormal, "SEED-REFUND-ABNORMAL-0001", "", simulator.RefundAbnormal, 50},
	} {
		r := c.r
		if r.OutRefundNo != c.no || r.Status != c.status || r.Amount.Refund != c.amount || r.Amount.Total != 300 ||
			r.TransactionID != paid.TransactionID || r.Sim.Reason != c.reason || len(r.Sim.Notifications) != 1 ||
			(r.SuccessTime != "") != (c.status == simulator.RefundSuccess) {
			t.Errorf("refund %+v (sim %+v), want %s %s of 100 fen", r, r.Sim, c.no, c.status)
		}
		if h := r.Sim.History; len(h) != 2 || h[1].Cause != "seed: refund outcome "+string(c.status) {
			t.Errorf("refund %s history %+v", r.OutRefundNo, h)
		}
		if !r.Sim.CreatedAt.After(paid.PaidAt) || !r.Sim.CreatedAt.Before(sim.Server.Service.Clocks.Now(fixtures.DemoMchID)) {
			t.Errorf("refund %s made at %s; the deduction was at %s", r.OutRefundNo, r.Sim.CreatedAt, paid.PaidAt)
		}
	}
	if gap := abnormal.Sim.CreatedAt.Sub(first.Sim.CreatedAt); gap < simulator.RefundInterval {
		t.Errorf("the refunds were made %s apart, less than a minute", gap)
	}
}

// exampleSeed is fixtures/seed/example.yaml.
func exampleSeed(t *testing.T) *scenario.Seed {
	t.Helper()
	path := "../../fixtures/seed/example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := scenario.ParseSeed(path, data)
	if err != nil {
		t.Fatal(err)
	}
	return seed
}

func checkOrderState(t *testing.T, svc *simulator.Service, no, want string) {
	t.Helper()
	o, err := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: no})
	if err != nil {
		t.Errorf("%s: %v", no, err)
		return
	}
	if got := orderState(o); got != want {
		t.Errorf("%s is %s, want %s (history %+v)", no, got, want, o.Sim.History)
	}
}

// orderState is an order's state as the test writes it: state/description, the collection's
// state and who collected.
func orderState(o *simulator.Order) string {
	got := string(o.State)
	if o.StateDescription != "" {
		got += "/" + string(o.StateDescription)
	}
	if c := o.Collection; c != nil {
		got += " " + string(c.State)
		if len(c.Details) > 0 {
			got += " " + c.Details[0].PaidType
		}
	}
	return got
}

// TestSeedRefundRefused: a refund the refund API refuses stops the seed at its order, with
// production's message and why.
func TestSeedRefundRefused(t *testing.T) {
	t.Parallel()
	seed, err := scenario.ParseSeed("seed.yaml", []byte("orders:\n  - out_order_no: TOO-MUCH\n    state: DONE\n    complete: {total_amount: 300}\n    refunds: [{amount: 200}, {amount: 200}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	sim := simtest.Start(t, app.Options{})
	_, err = seed.Apply(context.Background(), sim.Server.Service, sim.Server.Refunds)
	if err == nil || !strings.Contains(err.Error(), "seed.yaml:2:5: seed: order TOO-MUCH (DONE): refund TOO-MUCH-R2: INVALID_REQUEST 申请退款金额超过订单可退金额") ||
		!strings.Contains(err.Error(), "at most 100 can still be refunded") {
		t.Errorf("err = %v", err)
	}
}
