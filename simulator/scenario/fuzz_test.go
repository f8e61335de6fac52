package scenario_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/scenario"
)

// FuzzParse: any bytes parse into scenarios or into an error that names the file, never a
// panic. The library's files are the seeds.
func FuzzParse(f *testing.F) {
	paths, err := filepath.Glob("../../fixtures/scenarios/*.yaml")
	if err != nil || len(paths) == 0 {
		f.Fatalf("no library files to seed from: %v", err)
	}
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{"", "scenarios:", "scenarios: [", "scenarios:\n  - name: x\n    steps:\n      - create: {out_order_no: \"${nope}\"}\n", "\t- :"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := scenario.Parse("fuzz.yaml", data)
		switch {
		case err != nil && !strings.HasPrefix(err.Error(), "fuzz.yaml"):
			t.Fatalf("error without the file's name: %v", err)
		case err == nil && file == nil:
			t.Fatal("no file and no error")
		}
	})
}
