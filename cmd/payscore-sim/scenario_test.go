package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const passingScenarios = `scenarios:
  - name: the user confirms and is charged
    steps:
      - create
      - open_visit
      - confirm
      - complete:
        expect: {state: DOING, state_description: MCH_COMPLETE}
      - expect_notification: {event_type: USER_PAID, resource: {state: DONE}}
`

const failingScenario = `scenarios:
  - name: the QA engineer expects the wrong state
    steps:
      - create: {}
      - query: {}
        expect: {state: DOING}
`

func runScenarioCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := run(context.Background(), append([]string{"scenario", "run"}, args...), &out, func(string) string { return "" })
	return out.String(), err
}

func TestScenarioRunPrintsOneLinePerScenarioAndWritesJUnit(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", passingScenarios)
	writeFile(t, dir, "b.yaml", failingScenario)
	junit := filepath.Join(dir, "reports", "junit.xml")

	// Flags may follow the paths.
	out, err := runScenarioCmd(t, dir, "--junit", junit, "-parallel", "2")
	if err == nil || err.Error() != "1 of 2 scenarios failed" {
		t.Fatalf("err = %v, want 1 of 2 scenarios failed\n%s", err, out)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "PASS ") || !strings.HasSuffix(lines[0], "a.yaml: the user confirms and is charged") {
		t.Errorf("first line = %q", lines[0])
	}
	if !strings.HasPrefix(lines[1], "FAIL ") || !strings.HasSuffix(lines[1], "b.yaml: the QA engineer expects the wrong state") {
		t.Errorf("second line = %q", lines[1])
	}
	for _, want := range []string{"b.yaml:6:25: step 2 (query, line 5): state", `expected: "DOING"`, `actual:   "CREATED"`, "scenarios: 1 passed, 1 failed, 0 skipped"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var report struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Suites   []struct {
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
				} `xml:"failure"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &report); err != nil {
		t.Fatalf("junit: %v\n%s", err, data)
	}
	if report.Tests != 2 || report.Failures != 1 || len(report.Suites) != 2 {
		t.Fatalf("junit = %+v", report)
	}
	if f := report.Suites[1].Cases[0].Failure; f == nil || !strings.Contains(f.Message, `state: expected "DOING", actual "CREATED"`) {
		t.Errorf("junit failure = %+v", f)
	}

	if out, err := runScenarioCmd(t, filepath.Join(dir, "a.yaml")); err != nil {
		t.Errorf("a passing file: %v\n%s", err, out)
	}
}

func TestScenarioRunRefusesBadFilesBeforeRunning(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "bad.yaml", "scenarios:\n  - name: x\n    steps:\n      - confrim\n")
	out, err := runScenarioCmd(t, path)
	if err == nil || !strings.Contains(err.Error(), path+`:4:9: unknown step "confrim" (did you mean confirm?)`) {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(out, "PASS") || strings.Contains(out, "FAIL") {
		t.Errorf("scenarios ran:\n%s", out)
	}
	for _, args := range [][]string{{}, {"--junit", "x.xml"}, {filepath.Join(dir, "missing.yaml")}} {
		if _, err := runScenarioCmd(t, args...); err == nil {
			t.Errorf("scenario run %v succeeded", args)
		}
	}
	if err := run(context.Background(), []string{"scenario"}, &bytes.Buffer{}, func(string) string { return "" }); err == nil || !strings.Contains(err.Error(), "usage: payscore-sim scenario run") {
		t.Errorf("scenario without run: %v", err)
	}
}

// TestScenarioRunTarget runs scenarios against `payscore-sim serve`, as against docker-compose.
func TestScenarioRunTarget(t *testing.T) {
	url := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", ":memory:", "--notify-schedule", "fast")
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", passingScenarios+`  - name: a clock scenario runs alone
    steps:
      - create
      - advance_clock: 30d1m
      - query:
        expect: {state: EXPIRED}
`)
	out, err := runScenarioCmd(t, "--target", url, "--notify-host", "127.0.0.1", dir)
	if err != nil {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.Contains(out, "scenarios: 2 passed, 0 failed") {
		t.Errorf("output:\n%s", out)
	}
	// The environment names the target too.
	var buf bytes.Buffer
	env := map[string]string{"PAYSCORE_SIM_TARGET": url}
	if err := run(context.Background(), []string{"scenario", "run", dir}, &buf, func(k string) string { return env[k] }); err != nil {
		t.Fatalf("PAYSCORE_SIM_TARGET: %v\n%s", err, buf.String())
	}
}

// TestScenarioRunTargetControlToken: against `serve --control-token`, scenario run takes the
// token by flag or by the environment variable serve reads it from, and without it says so.
func TestScenarioRunTargetControlToken(t *testing.T) {
	url := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", ":memory:", "--notify-schedule", "fast", "--control-token", "tok-123")
	dir := t.TempDir()
	writeFile(t, dir, "a.yaml", passingScenarios)
	out, err := runScenarioCmd(t, "--target", url, dir)
	if err == nil || !strings.Contains(err.Error(), "--control-token") {
		t.Errorf("without the token: err = %v; want one that names --control-token\n%s", err, out)
	}
	if out, err := runScenarioCmd(t, "--target", url, "--control-token", "tok-123", dir); err != nil {
		t.Errorf("--control-token: %v\n%s", err, out)
	}
	var buf bytes.Buffer
	env := map[string]string{"PAYSCORE_SIM_TARGET": url, "PAYSCORE_SIM_CONTROL_TOKEN": "tok-123"}
	if err := run(context.Background(), []string{"scenario", "run", dir}, &buf, func(k string) string { return env[k] }); err != nil {
		t.Errorf("PAYSCORE_SIM_CONTROL_TOKEN: %v\n%s", err, buf.String())
	}
}

// TestScenarioRunSkipsSeedFiles: `scenario run fixtures` meets the seed file beside the
// library; it runs the scenarios and says what it skipped, and a seed file named alone says
// where the scenarios are.
func TestScenarioRunSkipsSeedFiles(t *testing.T) {
	out, err := runScenarioCmd(t, "../../fixtures")
	if err != nil {
		t.Fatalf("err = %v\n%s", err, out)
	}
	if !strings.HasPrefix(out, "skipped ../../fixtures/seed/example.yaml: a seed file (for serve --seed), not scenarios\n") ||
		!strings.Contains(out, "failed, 0 skipped") || !strings.Contains(out, " 0 failed") {
		t.Errorf("output:\n%s", out)
	}
	_, err = runScenarioCmd(t, "../../fixtures/seed/example.yaml")
	if err == nil || !strings.Contains(err.Error(), "is a seed file (payscore-sim serve --seed ../../fixtures/seed/example.yaml), not a scenario file; the scenario library is fixtures/scenarios") {
		t.Errorf("err = %v", err)
	}
}
