package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// TestStartupRefuses: what cannot work is refused at start, with one line that says why,
// rather than started and failing later (issue 15).
func TestStartupRefuses(t *testing.T) {
	dir := t.TempDir()
	locked := filepath.Join(dir, "locked.db")
	holder, err := sqlite.Open(context.Background(), locked)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	zeroCert := writeFile(t, dir, "zero-cert.yaml", `merchants:
  - mchid: "1900000001"
    appids: [wx0000000000000001]
    service_ids: ["500001"]
    api_v3_key: 0123456789abcdef0123456789abcdef
    certificates:
      - certificate: /dev/zero
`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--db", ""}, "--db is empty"},
		{[]string{"--db", ":memory:", "--control-token", ""}, "--control-token is empty"},
		{[]string{"--db", locked}, "in use by another payscore-sim (pid "},
		{[]string{"--db", ":memory:", "--config", "/dev/zero"}, "larger than"},
		{[]string{"--db", ":memory:", "--config", zeroCert}, "larger than"},
		{[]string{"--db", ":memory:", "--seed", "/dev/zero"}, "larger than"},
		{[]string{"--db", ":memory:", "--cors-origin", "evil.test"}, "must start with http"},
		{[]string{"--db", ":memory:", "--cors-origin", "http://a.test/path"}, "scheme://host[:port] alone"},
		{[]string{"--db", ":memory:", "--max-connections", "0"}, "at least 1"},
	} {
		err := run(context.Background(), append([]string{"serve", "--addr", "127.0.0.1:0"}, tc.args...), io.Discard, func(string) string { return "" })
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("serve %q: %v; want one line with %q", tc.args, err, tc.want)
		}
	}
}

// TestHelpExitsZero: asking for the usage is not a failure.
func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"serve", "--help"}, {"healthcheck", "-h"}} {
		cmd := exec.Command(binBuild(t), args...)
		cmd.Env = binEnviron()
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "Usage") {
			t.Errorf("payscore-sim %q: %v; want exit 0 and the usage, got:\n%s", args, err, out)
		}
	}
}

// TestStartupRefusesReadOnlyDatabase: a database the process cannot write is refused at start.
func TestStartupRefusesReadOnlyDatabase(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes read-only files")
	}
	path := filepath.Join(t.TempDir(), "ro.db")
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := os.Chmod(path, 0o444); err != nil {
		t.Fatal(err)
	}
	err = run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", path}, io.Discard, func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "readonly") {
		t.Fatalf("serve on a read-only database: %v, want a refusal", err)
	}
}
