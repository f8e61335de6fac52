package sqlite_test

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// TestCheckWritableOnFullDatabase fills the database as a full disk would (max_page_count
// makes SQLite answer SQLITE_FULL, "database or disk is full", exactly as it does when the
// disk is) and checks that CheckWritable says so, then recovers once there is room again.
func TestCheckWritableOnFullDatabase(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.CheckWritable(ctx); err != nil {
		t.Fatalf("a new database: %v", err)
	}
	// No free pages left (the probe freed some), and no room for more.
	if _, err := db.SQL().ExecContext(ctx, `VACUUM`); err != nil {
		t.Fatal(err)
	}
	var pages int
	if err := db.SQL().QueryRowContext(ctx, `PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	// The pool has one connection, whose limit this sets.
	if _, err := db.SQL().ExecContext(ctx, "PRAGMA max_page_count = "+strconv.Itoa(pages)); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckWritable(ctx); err == nil || !strings.Contains(err.Error(), "full") {
		t.Fatalf("a full database: CheckWritable = %v, want an error naming it full", err)
	}
	if _, err := db.SQL().ExecContext(ctx, `PRAGMA max_page_count = 1000000`); err != nil {
		t.Fatal(err)
	}
	if err := db.CheckWritable(ctx); err != nil {
		t.Fatalf("with room again: %v", err)
	}
}

// TestOpenRefusesLockedDatabase: a second simulator on the same file refuses to start, naming
// the process that holds it.
func TestOpenRefusesLockedDatabase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "locked.db")
	first, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	_, err = sqlite.Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "in use by another payscore-sim (pid ") {
		t.Fatalf("a second Open of a file in use: %v, want a refusal naming the process", err)
	}
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatalf("Open once the first closed: %v", err)
	}
	second.Close()
}
