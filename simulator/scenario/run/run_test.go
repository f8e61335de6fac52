package run_test

import (
	"bytes"
	"context"
	"encoding/xml"
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
	"github.com/payscore-sim/payscore-sim/simulator/scenario/run"
	"github.com/payscore-sim/payscore-sim/simulator/simtest"
)

const library = "../../../fixtures/scenarios"

// runFiles runs files in-process and returns the report and what the runner printed.
func runFiles(t *testing.T, r *run.Runner, files []*scenario.File) (*run.Report, string) {
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

// parse writes content to a file named name in a temporary folder and loads it.
func parse(t *testing.T, name, content string) (*scenario.File, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	files, _, err := scenario.Load(path)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return files[0], path
}

// TestLibrary runs every fixture of fixtures/scenarios against fresh in-process simulators, as
// `payscore-sim scenario run fixtures/scenarios` does, and checks its JUnit report.
func TestLibrary(t *testing.T) {
	t.Parallel()
	files, _, err := scenario.Load(library)
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
	rep, out := runFiles(t, &run.Runner{}, files)
	if !rep.OK() || rep.Count(run.Pass) != total {
		t.Fatalf("the library is not green: %d passed, %d failed, %d skipped of %d\n%s",
			rep.Count(run.Pass), rep.Count(run.Fail), rep.Count(run.Skip), total, out)
	}
	t.Logf("%d scenarios in %d files passed in %s", total, len(files), rep.Duration.Round(time.Millisecond))

	checkJUnit(t, rep, files, total)
}

// checkJUnit writes the report as JUnit XML and reads it back: a suite per file, a case per
// scenario, in order, none failed.
func checkJUnit(t *testing.T, rep *run.Report, files []*scenario.File, total int) {
	t.Helper()
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	data := junit.Bytes()
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

// broken runs one scenario file that must fail and returns the failure.
func broken(t *testing.T, content string) (*scenario.Failure, string) {
	t.Helper()
	f, path := parse(t, "broken.yaml", content)
	rep, out := runFiles(t, &run.Runner{}, []*scenario.File{f})
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

// target starts a simulator with app.Open on loopback, as serve starts one (the demo merchant
// only, no seed), with the fast notification schedule, and closes it with the test.
func target(t *testing.T, token string) *app.App {
	t.Helper()
	a, err := app.Open(context.Background(), app.Options{
		NotifySchedule: simulator.FastSchedule, NotifyClient: simtest.LoopbackClient(),
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), ControlToken: token,
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
	return a
}

// TestTargetTwice runs the whole library twice against one simulator, as --target runs it
// against docker-compose's: every scenario passes both times (each run acts as merchants of its
// own, so the second does not trip over the first's users, and no merchant needs a seed), and
// the demo merchant's clock never moves, though the expiry scenarios advance their merchant's.
func TestTargetTwice(t *testing.T) {
	t.Parallel()
	a := target(t, "")
	files, _, err := scenario.Load(library)
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		rep, out := runFiles(t, &run.Runner{Target: a.URL()}, files)
		if !rep.OK() || rep.Count(run.Skip) != 0 {
			t.Fatalf("run %d against --target:\n%s", i, out)
		}
	}
	// The scenarios really ran there, as merchants of their own whose clocks moved.
	orders, err := a.DB.ListOrders(context.Background(), simulator.OrderFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(orders) < 40 {
		t.Errorf("the target holds %d orders", len(orders))
	}
	for _, o := range orders {
		if o.MchID == fixtures.DemoMchID {
			t.Errorf("a run acted as the demo merchant itself: order %s", o.OutOrderNo)
			break
		}
	}
	offsets := a.Server.Service.Clocks.Offsets()
	if offsets[fixtures.DemoMchID] != 0 || len(offsets) < 2 {
		t.Errorf("clocks after two runs: %v; want the demo merchant's untouched and each run's own moved", offsets)
	}
}

// TestTargetControlToken: a target with a control token is refused without it, with a message
// that names the flag, and runs with it.
func TestTargetControlToken(t *testing.T) {
	t.Parallel()
	a := target(t, "s3cret")
	files, _, err := scenario.Load(library + "/expiry.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = (&run.Runner{Target: a.URL()}).Run(context.Background(), files)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "--control-token") {
		t.Errorf("without the token: %v; want a 403 that names --control-token", err)
	}
	rep, out := runFiles(t, &run.Runner{Target: a.URL(), ControlToken: "s3cret"}, files)
	if !rep.OK() || rep.Count(run.Pass) == 0 {
		t.Fatalf("with the token:\n%s", out)
	}
}

func TestTargetUnreachable(t *testing.T) {
	t.Parallel()
	f, _ := parse(t, "x.yaml", "scenarios:\n  - name: x\n    steps: [create]\n")
	_, err := (&run.Runner{Target: "http://127.0.0.1:1"}).Run(context.Background(), []*scenario.File{f})
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
	files, _, err := scenario.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	rep, out := runFiles(t, &run.Runner{}, files)
	if !rep.OK() {
		t.Fatal(out)
	}
}

// TestREADMEScenario runs the scenario the README shows, so that it stays valid.
func TestREADMEScenario(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../../README.md")
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
	rep, out := runFiles(t, &run.Runner{}, []*scenario.File{f})
	if !rep.OK() || rep.Count(run.Pass) != 1 {
		t.Fatalf("the README's scenario fails:\n%s", out)
	}
}

// TestOutputEscapesControlCharacters: a scenario's name, note and the responses it shows cannot
// drive the terminal of whoever runs it; the JUnit report stays well-formed XML.
func TestOutputEscapesControlCharacters(t *testing.T) {
	t.Parallel()
	f, _ := parse(t, "esc.yaml", "scenarios:\n"+
		"  - name: \"clear \\e[2J title \\e]0;pwned\\a bidi \\u202E\"\n"+
		"    steps:\n"+
		"      - create:\n"+
		"        note: \"\\e[31mred\"\n"+
		"        expect: {service_introduction: \"\\e[5mblink\"}\n")
	rep, out := runFiles(t, &run.Runner{}, []*scenario.File{f})
	if rep.OK() {
		t.Fatalf("the scenario passed:\n%s", out)
	}
	if strings.ContainsAny(out, "\x1b\x07\u202e") {
		t.Errorf("the output holds control characters: %q", out)
	}
	for _, want := range []string{`clear \x1b[2J title \x1b]0;pwned\a bidi \u202e`, `"\x1b[31mred"`, `expected: "\u001b[5mblink"`} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s:\n%s", want, out)
		}
	}
	var junit bytes.Buffer
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	var parsed struct{}
	if err := xml.Unmarshal(junit.Bytes(), &parsed); err != nil {
		t.Errorf("the JUnit report does not parse: %v\n%s", err, junit.String())
	}
}
