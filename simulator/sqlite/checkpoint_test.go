package sqlite_test

import (
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// The WAL is copied into the database file in the background, so that no API call pays for
// the copy and its fsyncs: orders written well under the writer's own checkpoint threshold
// still reach the database file soon.
func TestWALCheckpointedInBackground(t *testing.T) {
	t.Parallel()
	db, path := openFile(t)
	if got := pragma(t, db.SQL(), "wal_autocheckpoint"); got != "4000" {
		t.Errorf("PRAGMA wal_autocheckpoint = %s, want 4000 (the writer's backstop)", got)
	}
	before := fileSize(t, path)
	for i := range 20 {
		if _, _, err := db.CreateOrder(t.Context(), fullOrder("1230000109", fmt.Sprintf("CKPT-%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if wal := fileSize(t, path+"-wal"); wal == 0 {
		t.Fatal("the orders are not in the WAL")
	}
	deadline := time.Now().Add(5 * time.Second)
	for fileSize(t, path) == before {
		if time.Now().After(deadline) {
			t.Fatalf("database file still %d bytes 5 s after the writes: the WAL was not checkpointed", before)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Closing twice is harmless, as before.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db.Close()
	// And what was written is there after a reopen.
	db = mustOpen(t, path)
	if _, err := db.FindOrder(t.Context(), "1230000109", simulator.OrderKey{OutOrderNo: "CKPT-19"}); err != nil {
		t.Fatalf("order written before Close: %v", err)
	}
}

// A new file is built without fsync, then runs with synchronous = NORMAL like any other.
func TestNewFileSettingsAfterCreation(t *testing.T) {
	t.Parallel()
	db, path := openFile(t)
	if got := pragma(t, db.SQL(), "synchronous"); got != "1" {
		t.Errorf("PRAGMA synchronous = %s after creating %s, want 1 (NORMAL)", got, path)
	}
	db.Close()
	db = mustOpen(t, path)
	for name, want := range map[string]string{"synchronous": "1", "journal_mode": "wal"} {
		if got := pragma(t, db.SQL(), name); got != want {
			t.Errorf("PRAGMA %s = %s after reopening, want %s", name, got, want)
		}
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}
