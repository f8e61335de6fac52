package sqlite_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// openFile opens a fresh database file in a temporary directory.
func openFile(t *testing.T) (*sqlite.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sim.db")
	return mustOpen(t, path), path
}

func mustOpen(t *testing.T, dsn string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(t.Context(), dsn)
	if err != nil {
		t.Fatalf("Open(%q): %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// eachDB runs f against a file database and an in-memory one.
func eachDB(t *testing.T, f func(t *testing.T, db *sqlite.DB)) {
	t.Run("file", func(t *testing.T) {
		t.Parallel()
		db, _ := openFile(t)
		f(t, db)
	})
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		f(t, mustOpen(t, ":memory:"))
	})
}

func pragma(t *testing.T, db *sql.DB, name string) string {
	t.Helper()
	var v string
	if err := db.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&v); err != nil {
		t.Fatalf("PRAGMA %s: %v", name, err)
	}
	return v
}

func TestOpenFileSettings(t *testing.T) {
	t.Parallel()
	// Characters that mean something in a URI must still name the file.
	path := filepath.Join(t.TempDir(), "a b?c%20d#e&f.db")
	db := mustOpen(t, path)
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database file not created at %s: %v", path, err)
	}
	for name, want := range map[string]string{
		"journal_mode": "wal",
		"synchronous":  "1", // NORMAL
		"busy_timeout": "5000",
		"foreign_keys": "1",
		"user_version": strconv.Itoa(sqlite.SchemaVersion),
	} {
		if got := pragma(t, db.SQL(), name); got != want {
			t.Errorf("PRAGMA %s = %s, want %s", name, got, want)
		}
	}
}

func TestOpenRelativePath(t *testing.T) {
	t.Chdir(t.TempDir())
	db := mustOpen(t, "relative.db")
	if _, err := db.FindOrder(t.Context(), "m", simulator.OrderKey{QueryID: "q"}); simulator.ErrorCode(err) != simulator.CodeOrderNotExist {
		t.Fatalf("FindOrder on empty database: %v", err)
	}
	if _, err := os.Stat("relative.db"); err != nil {
		t.Fatalf("relative path not created in the working directory: %v", err)
	}
}

func TestOpenEmptyDSN(t *testing.T) {
	t.Parallel()
	if db, err := sqlite.Open(t.Context(), ""); err == nil {
		db.Close()
		t.Fatal("Open accepted an empty dsn")
	}
}

func TestMemoryDatabasesAreIsolated(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	a := mustOpen(t, ":memory:")
	b := mustOpen(t, ":memory:")
	if _, _, err := a.CreateOrder(ctx, minimalOrder("m1", "o1")); err != nil {
		t.Fatal(err)
	}
	if _, err := b.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"}); simulator.ErrorCode(err) != simulator.CodeOrderNotExist {
		t.Fatalf("second in-memory database sees the first's order: err = %v", err)
	}
	if orders, err := b.ListOrders(ctx, simulator.OrderFilter{}); err != nil || len(orders) != 0 {
		t.Fatalf("second in-memory database lists %d orders, err %v", len(orders), err)
	}
	if _, err := a.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"}); err != nil {
		t.Fatalf("first in-memory database lost its order: %v", err)
	}
	if got := pragma(t, a.SQL(), "foreign_keys"); got != "1" {
		t.Errorf("in-memory PRAGMA foreign_keys = %s, want 1", got)
	}
}

func TestMemoryDatabaseOutlivesIdleConnections(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db := mustOpen(t, ":memory:")
	if _, _, err := db.CreateOrder(ctx, minimalOrder("m1", "o1")); err != nil {
		t.Fatal(err)
	}
	// Were the pool to close its last connection, the database would be gone.
	db.SQL().SetMaxIdleConns(0)
	if _, err := db.FindOrder(ctx, "m1", simulator.OrderKey{OutOrderNo: "o1"}); err != nil {
		t.Fatalf("in-memory database lost its order when the pool went idle: %v", err)
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	db, path := openFile(t)
	want := fullOrder("m1", "o1")
	if _, _, err := db.CreateOrder(ctx, want); err != nil {
		t.Fatal(err)
	}
	addQueryIDs(t, db, want, "q1")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	// The migrations create tables without IF NOT EXISTS: had they run again, Open would fail.
	db = mustOpen(t, path)
	got, err := db.FindOrder(ctx, "m1", simulator.OrderKey{QueryID: "q1"})
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	assertSameOrder(t, got, want)
	if v := pragma(t, db.SQL(), "user_version"); v != strconv.Itoa(sqlite.SchemaVersion) {
		t.Errorf("user_version = %s after reopening, want %d", v, sqlite.SchemaVersion)
	}
	db.Close()

	// And migrations follow user_version: claiming none were applied makes them run again.
	setUserVersion(t, path, 0)
	if _, err := sqlite.Open(ctx, path); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("Open with user_version 0 on a built schema: err = %v, want the migration to be re-applied and fail", err)
	}
}

func TestOpenRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	db, path := openFile(t)
	db.Close()
	setUserVersion(t, path, sqlite.SchemaVersion+1)

	_, err := sqlite.Open(t.Context(), path)
	if err == nil {
		t.Fatal("Open accepted a database with a newer schema")
	}
	for _, want := range []string{"sqlite: open " + path, "newer", strconv.Itoa(sqlite.SchemaVersion + 1)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	// Refusing must not have touched the file.
	raw := rawOpen(t, path)
	if v := pragma(t, raw, "user_version"); v != strconv.Itoa(sqlite.SchemaVersion+1) {
		t.Errorf("user_version = %s after the refused Open", v)
	}
}

func rawOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	raw, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return raw
}

func setUserVersion(t *testing.T, path string, v int) {
	t.Helper()
	raw := rawOpen(t, path)
	if _, err := raw.ExecContext(context.Background(), "PRAGMA user_version = "+strconv.Itoa(v)); err != nil {
		t.Fatal(err)
	}
	raw.Close()
}
