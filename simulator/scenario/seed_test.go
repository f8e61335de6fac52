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
	rep, err := seed.Apply(context.Background(), svc)
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
		"SEED-DONE-SYNC-0001":        "DONE USER_PAID MCH",
		"SEED-REVOKED-0001":          "REVOKED",
		"SEED-EXPIRED-0001":          "EXPIRED",
	}
	for no, state := range want {
		checkOrderState(t, svc, no, state)
	}
	expired, _ := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: "SEED-EXPIRED-0001"})
	if h := expired.Sim.History; len(h) != 2 || h[1].Cause != "clock: 30 days unconfirmed" || svc.Clocks.Now(expired.MchID).Sub(expired.Sim.CreatedAt) < simulator.OrderLifetime {
		t.Errorf("the expired order's history = %+v, created %s", h, expired.Sim.CreatedAt)
	}
	if offsets := svc.Clocks.Offsets(); len(offsets) != 0 {
		t.Errorf("seeding moved clocks: %v", offsets)
	}
	again, err := seed.Apply(context.Background(), svc)
	if err != nil {
		t.Fatalf("seeding again: %v", err)
	}
	if again.Present != len(seed.Orders) || again.PresentAuthorizations != 2 || again.Authorizations != 0 {
		t.Errorf("seeding again: %s", again)
	}
	if ok, _ := regexp.MatchString(`^0 authorizations, 0 orders; already present: 2 authorizations, 9 orders$`, again.String()); !ok {
		t.Errorf("report = %q", again.String())
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
