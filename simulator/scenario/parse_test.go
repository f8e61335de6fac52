package scenario_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/scenario"
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
	c := coverageOf(files)
	codes, events, kinds, forms := c.codes, c.events, c.kinds, c.forms
	for _, code := range []string{
		simulator.CodeParamError, simulator.CodeInvalidRequest, simulator.CodeSignError, simulator.CodeNoAuth,
		simulator.CodeOrderNotExist, simulator.CodeInvalidOrderState, simulator.CodeOrderCanceled, simulator.CodeOrderDone,
		simulator.CodeNotFound, simulator.CodeMethodNotAllowed, simulator.CodeVisitNotExist, simulator.CodeNotificationNotExist,
		simulator.CodeSystemError, simulator.CodeFrequencyLimited,
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
	if !c.attempts {
		t.Error("no scenario expects a notification's attempts (retries)")
	}
}

// coverage is what a library's scenarios exercise.
type coverage struct {
	codes, events, kinds, forms map[string]bool
	attempts                    bool
}

func coverageOf(files []*scenario.File) *coverage {
	c := &coverage{codes: map[string]bool{}, events: map[string]bool{}, kinds: map[string]bool{}, forms: map[string]bool{}}
	for _, f := range files {
		for _, sc := range f.Scenarios {
			for _, st := range sc.Steps {
				c.add(st)
			}
		}
	}
	return c
}

func (c *coverage) add(st *scenario.Step) {
	c.kinds[st.Kind] = true
	arg, _ := st.Arg.(map[string]any)
	switch st.Kind {
	case "expect_notification":
		c.events[strings.TrimPrefix(fmt.Sprint(arg["event_type"]), "PAYSCORE.")] = true
		if _, ok := arg["attempts"]; ok {
			c.attempts = true
		}
	case "open_visit":
		form, ok := arg["form"]
		if !ok {
			form = "extraData"
		}
		c.forms[fmt.Sprint(form)] = true
	}
	if st.Expect == nil {
		return
	}
	for _, ch := range st.Expect.Checks {
		if ch.Path == "code" && ch.M.Op == "eq" {
			c.codes[fmt.Sprint(ch.M.Val)] = true
		}
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

// TestParseRefusesWhatAStepDoesNotTake: the step table says what each step takes; the parser
// refuses the rest, at its place.
func TestParseRefusesWhatAStepDoesNotTake(t *testing.T) {
	t.Parallel()
	step := func(s string) string { return "scenarios:\n  - name: x\n    steps:\n      - " + s + "\n" }
	tests := []struct{ content, want string }{
		{step("advance_clock"), "4:9: advance_clock needs an argument: a duration"},
		{step("raw:"), "4:13: raw needs an argument: {method, path"},
		{step("advance_clock: {duration: 1h}"), "4:24: advance_clock takes a single value, not a mapping"},
		{step("create: CREATED"), "4:17: create takes a mapping of fields, not a single value"},
		{step("confirm: [a]"), "4:18: confirm takes a mapping of fields, not a list"},
		{step("sleep: [1s]"), "4:16: sleep takes a single value, not a list"},
		{step("deduction: sometimes"), `4:20: deduction: "sometimes" is not one of immediate, fail, on_pay`},
		{step("deduction: {mode: never}"), `4:27: deduction.mode: "never" is not one of immediate, fail, on_pay`},
		{step("open_visit: {form: popup}"), `4:28: open_visit.form: "popup" is not one of extraData, queryString, navigate`},
		{step("raw: {path: /x, sign: maybe}"), `4:31: raw.sign: "maybe" is not one of auto, valid`},
		{step("fault: {operation: close, fault: reset}"), `4:28: fault.operation: "close" is not one of create, query`},
		{step("fault: {operation: any, fault: timeout}"), `4:40: fault.fault: "timeout" is not one of system_error,`},
		{step("fault: {operation: any, fault: reset, time: 2}"), `4:47: unknown field "time" in fault (did you mean times?)`},
		{step("expect_notification: {event_type: USER_PAID, within: soon}"), "4:62: expect_notification.within: \"soon\" is not a duration"},
		{step("expect_no_notification: USER_PAYED"), `4:33: expect_no_notification: "USER_PAYED" is not one of PAYSCORE.USER_CONFIRM, PAYSCORE.USER_PAID,`},
		{step("expect_notification: {event_type: payscore.user_paid}"), `4:43: expect_notification.event_type: "payscore.user_paid" is not one of PAYSCORE.USER_CONFIRM`},
		{step("confirm: {visit: x}"), `4:19: unknown field "visit" in confirm (did you mean visit_id?)`},
		{step("cancel: {reson: x}"), `4:18: unknown field "reson" in cancel (did you mean reason?)`},
		{step("sleep: 1s\n        as: other"), "4:9: as: applies to the merchant's API calls, not to sleep"},
		{step("create\n      - confirm:\n        as: other"), "5:9: as: applies to the merchant's API calls, not to confirm"},
		{step("create:\n        as: acme"), `5:13: as: "acme" is not demo, other or a merchant`},
		{step("receiver: {fail: 1}\n        capture: {x: y}"), "5:18: receiver has no response to capture from"},
		{step("create:\n        capture: {now: out_order_no}"), `5:19: "now" is a built-in name`},
		{step("create:\n        capture: {a-b: out_order_no}"), `5:19: capture name "a-b" must be letters, digits and _`},
		{step("{expect: {state: DONE}}"), "4:9: this step has no action: start it with one of advance_clock,"},
		{step("create:\n        eventually: soon"), `5:21: eventually: "soon" is not a duration`},
		{"defaults:\n  sleep: 1s\nscenarios: []\n", "2:3: sleep takes no mapping of arguments, so it has no defaults"},
		{"defaults:\n  create: {servce_introduction: x}\nscenarios: []\n", `2:12: unknown field "servce_introduction" in create`},
		{"defaults:\n  crate: {}\nscenarios: []\n", `2:3: unknown step "crate" (did you mean create?)`},
		{"scenarios:\n  - name: x\n    steps: []\n", "3:12: a scenario needs at least one step"},
		{"scenarios:\n  - name: x\n    steps: [create]\n  - name: x\n    steps: [create]\n", `4:5: another scenario of this file is named "x" (line 2)`},
		{"scenarios:\n  - steps: [create]\n", "2:5: a scenario needs a name"},
		{"scenarios:\n  - name: x\n    exclusive: sometimes\n    steps: [create]\n", "3:16: exclusive must be true or false"},
		{"merchants:\n  demo: {}\nscenarios: []\n", `2:3: "demo" is a built-in merchant`},
		{"merchants:\n  acme: {base: third}\nscenarios: []\n", "2:16: base must be demo or other"},
		{"merchants:\n  acme: {mchid: \"1\"}\nscenarios: []\n", "2:3: merchant acme needs appid (or base: demo|other)"},
		{"merchants:\n  acme: {base: demo, key_file: nope.pem}\nscenarios: []\n", "2:32: key_file: open"},
		{"merchants:\n  acme: {base: demo, settings: {deduction: sometimes}}\nscenarios: []\n", `2:32: deduction "sometimes" must be one of immediate, fail, on_pay`},
		{"merchants:\n  acme: {base: demo, color: red}\nscenarios: []\n", `2:22: unknown field "color" in merchant acme`},
		// What the file says is quoted with its control characters escaped: errors go to a terminal.
		{"merchants:\n  \"\\e[2J\": {mchid: \"1\"}\nscenarios: []\n", `2:3: merchant \x1b[2J needs appid`},
	}
	for _, tt := range tests {
		_, path, err := parse(t, "bad.yaml", tt.content)
		if err == nil || !strings.Contains(err.Error(), path+":"+tt.want) {
			t.Errorf("%q:\nerr  %v\nwant %s", tt.content, err, tt.want)
		}
	}
}

func TestFileMerchantsAndDefaults(t *testing.T) {
	t.Parallel()
	f, _, err := parse(t, "ok.yaml", `merchants:
  acme:
    base: other
    mchid: "1900000777"
    serial_no: 7a7a
    settings: {deduction: on_pay}
defaults:
  create: {service_introduction: 共享单车}
scenarios:
  - name: x
    merchant: acme
    steps:
      - create
      - query:
        as: demo
`)
	if err != nil {
		t.Fatal(err)
	}
	checkAcme(t, f)
	sc := f.Scenarios[0]
	if sc.Merchant != "acme" || sc.Steps[1].As != "demo" {
		t.Errorf("merchant %s, as %s", sc.Merchant, sc.Steps[1].As)
	}
	used := sc.UsedMerchants()
	if len(used) != 2 || used[0].Name != "acme" || used[1].Name != "demo" {
		t.Errorf("used merchants = %v", used)
	}
	// An in-process simulator serves the other merchant and acme (with its settings).
	sims := sc.SimMerchants()
	if len(sims) != 2 || sims[0].MchID != f.Merchants["other"].MchID || sims[1].MchID != "1900000777" || sims[1].Settings.Deduction != "on_pay" {
		t.Errorf("simulator merchants = %+v", sims)
	}
}

// checkAcme checks the merchant of TestFileMerchantsAndDefaults, and the file's defaults.
func checkAcme(t *testing.T, f *scenario.File) {
	t.Helper()
	acme := f.Merchants["acme"]
	// base gives what the merchant does not say; serial numbers are upper case.
	if acme.MchID != "1900000777" || acme.AppID != f.Merchants["other"].AppID || acme.Serial != "7A7A" || acme.Key == nil || acme.Settings == nil {
		t.Errorf("acme = %+v", acme)
	}
	if f.Defaults["create"]["service_introduction"] != "共享单车" {
		t.Errorf("defaults = %v", f.Defaults)
	}
}
