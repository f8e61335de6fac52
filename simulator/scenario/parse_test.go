package scenario_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const library = "../../fixtures/scenarios"

// parse writes content to a file named name in a temporary folder and loads it.
func parse(t *testing.T, name, content string) (*scenario.File, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _, err := scenario.Load(path)
	if err != nil {
		return nil, path, err
	}
	return files[0], path, nil
}

// TestLibraryCovers checks that the library keeps covering what the issue asks: every error
// code the simulator emits, every notification, the three visit outcomes, the invocation forms,
// the authorization mode, retries and expiry.
func TestLibraryCovers(t *testing.T) {
	t.Parallel()
	files, _, err := scenario.Load(library)
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string]bool{}
	events := map[string]bool{}
	kinds := map[string]bool{}
	forms := map[string]bool{}
	attempts := false
	for _, f := range files {
		for _, sc := range f.Scenarios {
			for _, st := range sc.Steps {
				kinds[st.Kind] = true
				arg, _ := st.Arg.(map[string]any)
				switch st.Kind {
				case "expect_notification":
					events[strings.TrimPrefix(fmt.Sprint(arg["event_type"]), "PAYSCORE.")] = true
					if _, ok := arg["attempts"]; ok {
						attempts = true
					}
				case "open_visit":
					if form, ok := arg["form"]; ok {
						forms[fmt.Sprint(form)] = true
					} else {
						forms["extraData"] = true
					}
				}
				if st.Expect != nil {
					for _, c := range st.Expect.Checks {
						if c.Path == "code" && c.M.Op == "eq" {
							codes[fmt.Sprint(c.M.Val)] = true
						}
					}
				}
			}
		}
	}
	for _, code := range []string{
		simulator.CodeParamError, simulator.CodeInvalidRequest, simulator.CodeSignError, simulator.CodeNoAuth,
		simulator.CodeOrderNotExist, simulator.CodeInvalidOrderState, simulator.CodeOrderCanceled, simulator.CodeOrderDone,
		simulator.CodeNotFound, simulator.CodeMethodNotAllowed, simulator.CodeVisitNotExist, simulator.CodeNotificationNotExist,
	} {
		if !codes[code] {
			t.Errorf("no scenario expects the error code %s", code)
		}
	}
	for _, e := range []string{"USER_CONFIRM", "USER_PAID", "USER_OPEN_SERVICE", "USER_CLOSE_SERVICE"} {
		if !events[e] {
			t.Errorf("no scenario expects a %s notification", e)
		}
	}
	for _, k := range []string{"confirm", "return", "back", "authorize", "apply_permissions", "terminate_permission",
		"revoke_permission", "direct_complete", "modify", "pay", "sync", "cancel", "deduction", "user_pays", "advance_clock", "receiver"} {
		if !kinds[k] {
			t.Errorf("no scenario has a %s step", k)
		}
	}
	for _, f := range []string{"extraData", "queryString", "navigate"} {
		if !forms[f] {
			t.Errorf("no scenario opens a visit in the %s form", f)
		}
	}
	if !attempts {
		t.Error("no scenario expects a notification's attempts (retries)")
	}
}

func TestParseErrorsHaveFileLineAndColumn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content string
		want          []string // substrings; "FILE" stands for the file's path
	}{
		{"bad YAML", "scenarios:\n  - name: x\n    steps: [create: {a: 1}: 2]\n",
			[]string{"FILE:3:", "invalid YAML"}},
		{"bare step with expect", "scenarios:\n  - name: x\n    steps:\n      - create\n        expect: {state: CREATED}\n",
			[]string{"FILE:5:15: invalid YAML: mapping values are not allowed in this context", `needs a colon after its name: "- create:" on line 4`}},
		{"flow key with brackets", "scenarios:\n  - name: x\n    steps:\n      - query: {}\n        expect: {collection.details[0].paid_type: MCH}\n",
			[]string{"FILE:5:36: invalid YAML: did not find expected ',' or '}'"}},
		{"unknown step", "scenarios:\n  - name: x\n    steps:\n      - create\n      - confrim: x\n",
			[]string{`FILE:5:9: unknown step "confrim" (did you mean confirm?)`}},
		{"unknown field of a body", "scenarios:\n  - name: x\n    steps:\n      - create: {servce_introduction: x}\n",
			[]string{`FILE:4:18: unknown field "servce_introduction" in create (did you mean service_introduction?)`}},
		{"unknown nested field", "scenarios:\n  - name: x\n    steps:\n      - create:\n          time_range: {start_time: OnAccept, ned_time: x}\n",
			[]string{`FILE:5:46: unknown field "ned_time" in create.time_range (did you mean end_time?)`}},
		{"unknown scenario field", "scenarios:\n  - name: x\n    stpes: [create]\n",
			[]string{`FILE:3:5: unknown field "stpes" in a scenario (did you mean steps?)`, "FILE:2:5: a scenario needs steps"}},
		{"unknown file field", "scenario:\n  - name: x\n",
			[]string{`FILE:1:1: unknown field "scenario" in a fixture file (did you mean scenarios?)`}},
		{"undefined capture", "scenarios:\n  - name: x\n    steps:\n      - confirm: \"${visit}\"\n",
			[]string{"FILE:4:18: ${visit} is not defined before this step (did you mean ${visit_id}?)"}},
		{"two actions in a step", "scenarios:\n  - name: x\n    steps:\n      - create: {}\n        query: {}\n",
			[]string{"FILE:5:9: a step takes one action; this one has create (line 4) and query"}},
		{"step option on the wrong kind", "scenarios:\n  - name: x\n    steps:\n      - sleep: 1s\n        expect: {status: 200}\n",
			[]string{"FILE:5:17: sleep has no response to expect anything of"}},
		{"bad matcher", "scenarios:\n  - name: x\n    steps:\n      - query:\n        expect: {state: {regexp: \"(\"}}\n",
			[]string{"FILE:5:34: regexp: error parsing regexp"}},
		{"bad duration", "scenarios:\n  - name: x\n    steps:\n      - advance_clock: soon\n",
			[]string{`FILE:4:24: advance_clock: "soon" is not a duration`}},
		{"unknown merchant", "scenarios:\n  - name: x\n    merchant: acme\n    steps: [create]\n",
			[]string{`FILE:3:15: merchant "acme" is not demo, other or a merchant of this file's merchants:`}},
		{"duplicate key", "scenarios:\n  - name: x\n    name: y\n    steps: [create]\n",
			[]string{`FILE:3:5: duplicate key "name" (first at line 2)`}},
		{"eventually on a step that changes things", "scenarios:\n  - name: x\n    steps:\n      - create: {}\n        eventually: 1s\n",
			[]string{"FILE:5:9: eventually repeats a step until its expectations hold"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, path, err := parse(t, "bad.yaml", tt.content)
			if err == nil {
				t.Fatal("the file parsed")
			}
			for _, w := range tt.want {
				w = strings.ReplaceAll(w, "FILE", path)
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%v\nlacks\n%s", err, w)
				}
			}
		})
	}
}

func TestParseErrorIsTyped(t *testing.T) {
	t.Parallel()
	_, path, err := parse(t, "bad.yaml", "scenarios:\n  - name: x\n    steps:\n      - confrim\n")
	var e *scenario.Error
	if !asError(err, &e) || e.Pos.File != path || e.Pos.Line != 4 || e.Pos.Col != 9 {
		t.Fatalf("err = %#v", err)
	}
}

func asError(err error, target **scenario.Error) bool {
	type unwrapper interface{ Unwrap() []error }
	if e, ok := err.(*scenario.Error); ok {
		*target = e
		return true
	}
	if u, ok := err.(unwrapper); ok {
		for _, inner := range u.Unwrap() {
			if asError(inner, target) {
				return true
			}
		}
	}
	return false
}

func TestClockScenariosAreExclusive(t *testing.T) {
	t.Parallel()
	f, _, err := parse(t, "clock.yaml", "scenarios:\n  - name: a\n    steps: [create, {advance_clock: 1h}]\n  - name: b\n    steps: [create]\n  - name: c\n    exclusive: true\n    steps: [create]\n")
	if err != nil {
		t.Fatal(err)
	}
	if !f.Scenarios[0].Exclusive || f.Scenarios[1].Exclusive || !f.Scenarios[2].Exclusive {
		t.Errorf("exclusive = %v %v %v, want true false true", f.Scenarios[0].Exclusive, f.Scenarios[1].Exclusive, f.Scenarios[2].Exclusive)
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
	path := "../../fixtures/seed/example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := scenario.ParseSeed(path, data)
	if err != nil {
		t.Fatal(err)
	}
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
		"SEED-DONE-0001":             "DONE/MCH_COMPLETE USER_PAID NEWTON",
		"SEED-DONE-SYNC-0001":        "DONE/MCH_COMPLETE USER_PAID MCH",
		"SEED-REVOKED-0001":          "REVOKED",
		"SEED-EXPIRED-0001":          "EXPIRED",
	}
	for no, state := range want {
		o, err := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: no})
		if err != nil {
			t.Errorf("%s: %v", no, err)
			continue
		}
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
		if got != state {
			t.Errorf("%s is %s, want %s (history %+v)", no, got, state, o.Sim.History)
		}
	}
	expired, _ := svc.Orders.FindOrder(context.Background(), fixtures.DemoMchID, simulator.OrderKey{OutOrderNo: "SEED-EXPIRED-0001"})
	if h := expired.Sim.History; len(h) != 2 || h[1].Cause != "clock: 30 days unconfirmed" || svc.Clock.Now().Sub(expired.Sim.CreatedAt) < simulator.OrderLifetime {
		t.Errorf("the expired order's history = %+v, created %s", h, expired.Sim.CreatedAt)
	}
	if svc.Clock.Offset() != 0 {
		t.Errorf("seeding moved the clock by %s", svc.Clock.Offset())
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
