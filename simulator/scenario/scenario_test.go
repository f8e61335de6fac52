package scenario_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/fixtures"
	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/app"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const library = "../../fixtures/scenarios"

// runFiles runs files in-process and returns the report and what the runner printed.
func runFiles(t *testing.T, r *scenario.Runner, files []*scenario.File) (*scenario.Report, string) {
	t.Helper()
	var out bytes.Buffer
	r.Out = &out
	if r.Parallel == 0 {
		r.Parallel = 8
	}
	rep, err := r.Run(context.Background(), files)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	return rep, out.String()
}

// parse writes content to a file named name in a temporary folder and parses it.
func parse(t *testing.T, name, content string) (*scenario.File, string, error) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := scenario.Load(path)
	if err != nil {
		return nil, path, err
	}
	return files[0], path, nil
}

// TestLibrary runs every fixture of fixtures/scenarios against fresh in-process simulators, as
// `payscore-sim scenario run fixtures/scenarios` does, and checks its JUnit report.
func TestLibrary(t *testing.T) {
	t.Parallel()
	files, err := scenario.Load(library)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, f := range files {
		total += len(f.Scenarios)
	}
	if total < 40 {
		t.Errorf("the library has %d scenarios; the issue asks for at least 40", total)
	}
	rep, out := runFiles(t, &scenario.Runner{}, files)
	if !rep.OK() || rep.Count(scenario.Pass) != total {
		t.Fatalf("the library is not green: %d passed, %d failed, %d skipped of %d\n%s",
			rep.Count(scenario.Pass), rep.Count(scenario.Fail), rep.Count(scenario.Skip), total, out)
	}
	t.Logf("%d scenarios in %d files passed in %s", total, len(files), rep.Duration.Round(time.Millisecond))

	junit := filepath.Join(t.TempDir(), "scenarios-junit.xml")
	f, err := os.Create(junit)
	if err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJUnit(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var parsed struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Tests int    `xml:"tests,attr"`
			Cases []struct {
				Name    string    `xml:"name,attr"`
				Failure *struct{} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &parsed); err != nil {
		t.Fatalf("the JUnit report does not parse: %v\n%s", err, data)
	}
	cases := 0
	for i, s := range parsed.Suites {
		if s.Name != files[i].Path || s.Tests != len(files[i].Scenarios) || len(s.Cases) != len(files[i].Scenarios) {
			t.Errorf("suite %d = %s with %d tests (%d cases), want %s with %d", i, s.Name, s.Tests, len(s.Cases), files[i].Path, len(files[i].Scenarios))
		}
		for j, c := range s.Cases {
			if j < len(files[i].Scenarios) && c.Name != files[i].Scenarios[j].Name {
				t.Errorf("suite %s case %d = %q, want %q", s.Name, j, c.Name, files[i].Scenarios[j].Name)
			}
			if c.Failure != nil {
				t.Errorf("case %q has a failure", c.Name)
			}
		}
		cases += len(s.Cases)
	}
	if parsed.Tests != total || cases != total || parsed.Failures != 0 {
		t.Errorf("JUnit counts %d tests (%d cases), %d failures; want %d and 0", parsed.Tests, cases, parsed.Failures, total)
	}
}

// TestLibraryCovers checks that the library keeps covering what the issue asks: every error
// code the simulator emits, every notification, the three visit outcomes, the invocation forms,
// the authorization mode, retries and expiry.
func TestLibraryCovers(t *testing.T) {
	t.Parallel()
	files, err := scenario.Load(library)
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

// broken runs one scenario file that must fail and returns the failure.
func broken(t *testing.T, content string) (*scenario.Failure, string) {
	t.Helper()
	f, path, err := parse(t, "broken.yaml", content)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	rep, out := runFiles(t, &scenario.Runner{}, []*scenario.File{f})
	if rep.OK() || rep.Results[0].Failure == nil {
		t.Fatalf("the broken scenario passed:\n%s", out)
	}
	if !strings.Contains(out, "FAIL") || !strings.Contains(out, path) {
		t.Errorf("the output names neither FAIL nor the file:\n%s", out)
	}
	return rep.Results[0].Failure, out
}

func TestWrongExpectedStateNamesTheStepExpectedAndActual(t *testing.T) {
	t.Parallel()
	fail, out := broken(t, `scenarios:
  - name: the QA engineer expects the wrong state
    steps:
      - create: {}
      - query: {}
        expect: {state: DOING}
`)
	if fail.Step == nil || fail.Step.Index != 2 || fail.Step.Pos.Line != 5 {
		t.Errorf("failure step = %v, want step 2 at line 5", fail.Step)
	}
	if fail.Pos.Line != 6 || fail.What != "state" || fail.Expected != `"DOING"` || fail.Actual != `"CREATED"` {
		t.Errorf("failure = %+v, want line 6, state, expected \"DOING\", actual \"CREATED\"", fail)
	}
	for _, want := range []string{"broken.yaml:6:", "step 2 (query, line 5): state", `expected: "DOING"`, `actual:   "CREATED"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestUnexpectedErrorSaysTheCodeAndMessage(t *testing.T) {
	t.Parallel()
	fail, out := broken(t, `scenarios:
  - name: completing too early
    steps:
      - create
      - complete
`)
	if fail.What != "status" || !strings.Contains(fail.Actual, "400 INVALID_REQUEST 当前订单状态不合法") {
		t.Errorf("failure = %+v", fail)
	}
	if !strings.Contains(out, "expected: a success (2xx)") {
		t.Errorf("output:\n%s", out)
	}
}

func TestMissingNotificationSaysWhichEventAndHowLongItWaited(t *testing.T) {
	t.Parallel()
	fail, out := broken(t, `scenarios:
  - name: waiting for a payment that never comes
    steps:
      - create
      - open_visit
      - confirm
      - expect_notification: {event_type: USER_PAID, within: 400ms}
`)
	if fail.Step == nil || fail.Step.Kind != "expect_notification" || fail.Pos.Line != 7 {
		t.Errorf("failure = %+v", fail)
	}
	if ok, _ := regexp.MatchString(`^no PAYSCORE\.USER_PAID notification was received within 400ms \(waited [0-9]+\.[0-9]s\)`, fail.Message); !ok {
		t.Errorf("message %q does not say which event and how long it waited", fail.Message)
	}
	for _, want := range []string{
		"the receiver got: PAYSCORE.USER_CONFIRM",
		"the simulator has queued no PAYSCORE.USER_PAID notification for out_order_no",
	} {
		if !strings.Contains(fail.Message, want) {
			t.Errorf("message %q lacks %q", fail.Message, want)
		}
	}
	if !strings.Contains(out, "broken.yaml:7:") {
		t.Errorf("output:\n%s", out)
	}
}

func TestUnwantedNotificationFails(t *testing.T) {
	t.Parallel()
	fail, _ := broken(t, `scenarios:
  - name: the QA engineer thinks confirming sends nothing
    steps:
      - create
      - open_visit
      - confirm
      - expect_no_notification: {event_type: USER_CONFIRM, for: 2s}
`)
	if !strings.Contains(fail.Message, "a PAYSCORE.USER_CONFIRM notification arrived though none was expected") {
		t.Errorf("failure = %+v", fail)
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

// TestTarget runs library files against one simulator started with app.Open on loopback, as
// --target runs them against docker-compose's: scenarios share it, clock scenarios run alone,
// and those that need merchant settings are skipped.
func TestTarget(t *testing.T) {
	t.Parallel()
	other, err := fixtures.OtherMerchant()
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.Open(context.Background(), app.Options{
		Merchants: []*simulator.Merchant{other}, NotifySchedule: simulator.FastSchedule,
		NotifyClient: simtest.LoopbackClient(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := a.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	files, err := scenario.Load(library+"/confirm.yaml", library+"/expiry.yaml", library+"/notifications.yaml", library+"/authorization.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rep, out := runFiles(t, &scenario.Runner{Target: a.URL()}, files)
	if !rep.OK() {
		t.Fatalf("against --target:\n%s", out)
	}
	var skipped []string
	for _, res := range rep.Results {
		if res.Outcome == scenario.Skip {
			skipped = append(skipped, res.Scenario.Name)
		}
	}
	if len(skipped) != 2 || !strings.Contains(out, "has settings, which only an in-process simulator can be given") {
		t.Errorf("skipped %v, want the two scenarios whose merchants have settings\n%s", skipped, out)
	}
	// The scenarios really ran there: the shared simulator holds their orders, its clock moved.
	orders, err := a.DB.ListOrders(context.Background(), simulator.OrderFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) < 20 {
		t.Errorf("the target holds %d orders", len(orders))
	}
	if a.Server.Service.Clock.Offset() < 30*24*time.Hour {
		t.Errorf("the target's clock moved %s; the expiry scenarios advance it by more than 30 days", a.Server.Service.Clock.Offset())
	}
}

func TestTargetUnreachable(t *testing.T) {
	t.Parallel()
	f, _, err := parse(t, "x.yaml", "scenarios:\n  - name: x\n    steps: [create]\n")
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&scenario.Runner{Target: "http://127.0.0.1:1"}).Run(context.Background(), []*scenario.File{f})
	if err == nil || !strings.Contains(err.Error(), "target http://127.0.0.1:1") {
		t.Fatalf("err = %v", err)
	}
}

func TestFileMerchantWithKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "acme_test_key.pem"), fixtures.OtherMerchantKeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	content := `merchants:
  acme:
    mchid: "1900000777"
    appid: wx1900000777000001
    service_id: "77777777000011"
    serial_no: 7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A7A
    key_file: acme_test_key.pem
    api_v2_key: payscore-sim-TEST-acme-v2-key-32
    api_v3_key: payscore-sim-TEST-acme-v3-key-32
scenarios:
  - name: a merchant of the file confirms and is paid
    merchant: acme
    steps:
      - create
        # signed with key_file's key
      - open_visit: {sign: apiv2}
        expect: {mchid: "1900000777"}
      - confirm
      - complete
      - expect_notification: {event_type: USER_PAID, resource: {mchid: "1900000777", appid: wx1900000777000001}}
`
	path := filepath.Join(dir, "acme.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	files, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, out := runFiles(t, &scenario.Runner{}, files)
	if !rep.OK() {
		t.Fatal(out)
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

// TestREADMEScenario runs the scenario the README shows, so that it stays valid.
func TestREADMEScenario(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "## QA scenarios")
	if !ok {
		t.Fatal("README.md has no QA scenarios section")
	}
	_, rest, ok = strings.Cut(rest, "```yaml\n")
	block, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("the QA scenarios section has no yaml block")
	}
	f, err := scenario.Parse("README.md", []byte(block))
	if err != nil {
		t.Fatal(err)
	}
	rep, out := runFiles(t, &scenario.Runner{}, []*scenario.File{f})
	if !rep.OK() || rep.Count(scenario.Pass) != 1 {
		t.Fatalf("the README's scenario fails:\n%s", out)
	}
}
