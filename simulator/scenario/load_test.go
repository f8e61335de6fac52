package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

const seedContent = "orders:\n  - {out_order_no: A, state: CREATED}\n"

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestLoadSkipsSeedFilesInFolders: `scenario run fixtures` meets fixtures/seed beside
// fixtures/scenarios; it runs the scenarios and says it skipped the seed.
func TestLoadSkipsSeedFilesInFolders(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"scenarios/a.yaml":  "scenarios:\n  - name: x\n    steps: [create]\n",
		"seed/example.yaml": seedContent,
		// merchants is a section of both kinds of file: beside notify_url, it is a seed.
		"seed/merchants.yml": "merchants: []\nnotify_url: http://127.0.0.1:9/\n",
		"keys/a.pem":         "not yaml",
	})
	files, notes, err := scenario.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0].Path != filepath.Join(dir, "scenarios/a.yaml") {
		t.Errorf("files = %v", files)
	}
	want := []string{
		"skipped " + filepath.Join(dir, "seed/example.yaml") + ": a seed file (for serve --seed), not scenarios",
		"skipped " + filepath.Join(dir, "seed/merchants.yml") + ": a seed file (for serve --seed), not scenarios",
	}
	if strings.Join(notes, "\n") != strings.Join(want, "\n") {
		t.Errorf("notes = %q, want %q", notes, want)
	}
}

func TestLoadSaysWhereTheScenariosAre(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{"example.yaml": seedContent})
	_, notes, err := scenario.Load(dir)
	if err == nil || !strings.Contains(err.Error(), dir+" holds no scenario files, only seed files (for serve --seed); the scenario library is fixtures/scenarios") {
		t.Errorf("a folder of seeds: err = %v", err)
	}
	if len(notes) != 1 {
		t.Errorf("notes = %q", notes)
	}
	path := filepath.Join(dir, "example.yaml")
	_, _, err = scenario.Load(path)
	if err == nil || !strings.Contains(err.Error(), path+" is a seed file (payscore-sim serve --seed "+path+"), not a scenario file; the scenario library is fixtures/scenarios") {
		t.Errorf("a seed file: err = %v", err)
	}
}

func TestLoadReportsEveryBrokenFile(t *testing.T) {
	t.Parallel()
	dir := writeFiles(t, map[string]string{
		"a.yaml": "scenarios:\n  - name: x\n    steps: [confrim]\n",
		"b.yaml": "scenarios:\n  - name: y\n    stpes: [create]\n",
		"c.yaml": "scenarios:\n  - name: z\n    steps: [create]\n",
	})
	files, _, err := scenario.Load(dir)
	if err == nil || !strings.Contains(err.Error(), "a.yaml:3:13: unknown step") || !strings.Contains(err.Error(), `b.yaml:3:5: unknown field "stpes"`) {
		t.Errorf("err = %v", err)
	}
	if len(files) != 1 {
		t.Errorf("the good file is not loaded: %v", files)
	}
	if _, _, err := scenario.Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing path loaded")
	}
	if _, _, err := scenario.Load(t.TempDir()); err == nil || !strings.Contains(err.Error(), "holds no *.yaml fixture files") {
		t.Errorf("an empty folder: err = %v", err)
	}
}
