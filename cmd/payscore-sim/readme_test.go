package main

// The README's shell and Go examples, run as a reader would run them: each is the code block
// after a `<!-- readme-test:NAME -->` marker, taken from README.md as it stands, so the README
// cannot drift from what works. (scripts/container-test.sh runs the compose section's blocks
// the same way; simulator/http/readme_test.go keeps the SDK snippets.)

import (
	"encoding/json"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// readmeBlock returns the code block after <!-- readme-test:name --> in README.md, without the
// indentation its first line has (a block inside a list item is indented).
func readmeBlock(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	marker := "<!-- readme-test:" + name + " -->"
	_, rest, ok := strings.Cut(string(b), marker+"\n")
	if !ok {
		t.Fatalf("README.md has no %s", marker)
	}
	lines := strings.Split(rest, "\n")
	fence := strings.TrimLeft(lines[0], " ")
	if !strings.HasPrefix(fence, "```") {
		t.Fatalf("README.md: %s is not followed by a code block but by %q", marker, lines[0])
	}
	indent := lines[0][:len(lines[0])-len(fence)]
	var block []string
	for _, l := range lines[1:] {
		if strings.TrimSpace(l) == "```" {
			return strings.Join(block, "\n") + "\n"
		}
		block = append(block, strings.TrimPrefix(l, indent))
	}
	t.Fatalf("README.md: the code block after %s does not end", marker)
	return ""
}

// needCommands fails (in CI) or skips the test when a command the README's shell examples use
// is missing; scripts/test.sh installs them.
func needCommands(t *testing.T, names ...string) {
	t.Helper()
	for _, name := range names {
		if _, err := exec.LookPath(name); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed to run the README's shell examples: %v", name, err)
			}
			t.Skipf("%s is not installed (scripts/test.sh installs it): %v", name, err)
		}
	}
}

// The README's first visit, from a shell: against `serve --seed fixtures/seed/example.yaml`, the
// block takes a CREATED order's package from the control API and opens a visit with it. Only
// the address is the test's own (a free port instead of localhost:8080).
func TestREADMEFirstVisitFromAShell(t *testing.T) {
	needCommands(t, "bash", "curl", "jq")
	url := startServe(t, nil, "--addr", "127.0.0.1:0", "--db", ":memory:", "--seed", exampleSeed)
	block := readmeBlock(t, "first-visit")
	if !strings.Contains(block, "localhost:8080") {
		t.Fatalf("the first-visit block does not talk to localhost:8080:\n%s", block)
	}
	script := strings.ReplaceAll(block, "localhost:8080", strings.TrimPrefix(url, "http://"))
	out, err := exec.Command("bash", "-euo", "pipefail", "-c", script).CombinedOutput()
	if err != nil {
		t.Fatalf("the README's first visit failed: %v\n%s\n--- the block:\n%s", err, out, script)
	}
	var visit struct {
		VisitID    string `json:"visit_id"`
		PageURL    string `json:"page_url"`
		OutOrderNo string `json:"out_order_no"`
	}
	if err := json.Unmarshal(out, &visit); err != nil || visit.VisitID == "" || !strings.Contains(visit.PageURL, "/sim/visits/") {
		t.Fatalf("the README's first visit printed %s (%v); want the visit, with visit_id and page_url", out, err)
	}
}

// The README's simtest example compiles and passes as pasted: the block is a whole test file,
// compiled as a package of this module of its own (through an overlay, so nothing is written
// into the repository) and run.
func TestREADMESimtestExampleCompilesAndPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go command is needed to compile the README's example: %v", err)
	}
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	example := readmeBlock(t, "simtest")
	if formatted, err := format.Source([]byte(example)); err != nil || string(formatted) != example {
		t.Errorf("the README's simtest example is not gofmt-formatted (%v); gofmt makes it:\n%s", err, formatted)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "rental_test.go")
	if err := os.WriteFile(src, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	// A package directory that does not exist, inside the module: the overlay provides its one
	// file.
	pkgDir := filepath.Join(root, "simulator", "simtest", "readme-example-"+filepath.Base(dir))
	overlay, err := json.Marshal(map[string]any{"Replace": map[string]string{filepath.Join(pkgDir, "rental_test.go"): src}})
	if err != nil {
		t.Fatal(err)
	}
	overlayFile := filepath.Join(dir, "overlay.json")
	if err := os.WriteFile(overlayFile, overlay, 0o644); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "rental.test")
	// -vet=off: vet runs in the package's directory, which the overlay does not make.
	build := exec.Command(gobin, "test", "-c", "-vet=off", "-overlay", overlayFile, "-o", bin, "./"+mustRel(t, root, pkgDir))
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("the README's simtest example does not compile as pasted: %v\n%s", err, out)
	}
	run := exec.Command(bin, "-test.v")
	run.Dir = dir
	out, err := run.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS") {
		t.Fatalf("the README's simtest example fails: %v\n%s", err, out)
	}
}

func mustRel(t *testing.T, base, target string) string {
	t.Helper()
	rel, err := filepath.Rel(base, target)
	if err != nil {
		t.Fatal(fmt.Errorf("%s relative to %s: %w", target, base, err))
	}
	return filepath.ToSlash(rel)
}
