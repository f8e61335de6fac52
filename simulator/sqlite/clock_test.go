package sqlite_test

import (
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// TestNotificationsComeDueByTheirMerchantsClock: two merchants' notifications are due in an
// hour of their own time; only the one whose merchant's clock is two hours ahead is due now.
func TestNotificationsComeDueByTheirMerchantsClock(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		now := time.Now()
		for _, mchid := range []string{"1230000109", "1900000001"} {
			o := minimalOrder(mchid, "DUE-1")
			o.Sim.Outbox = []*simulator.Notification{{ID: "n-" + mchid, MchID: mchid, EventType: simulator.EventUserConfirm,
				OutOrderNo: "DUE-1", State: simulator.NotificationPending, CreatedAt: now, NextAttemptAt: now.Add(time.Hour)}}
			if _, _, err := db.CreateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if due, err := db.DueNotifications(ctx, now, 10); err != nil || len(due) != 0 {
			t.Fatalf("due with every clock on the real time: %d, %v; want none", len(due), err)
		}
		if err := db.SaveClockOffset(ctx, "1900000001", 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		due, err := db.DueNotifications(ctx, now, 10)
		if err != nil || len(due) != 1 || due[0].MchID != "1900000001" {
			t.Fatalf("due with 1900000001 two hours ahead: %v, %v; want its notification only", due, err)
		}
		next, ok, err := db.NextNotificationDue(ctx)
		if want := now.Add(-time.Hour); err != nil || !ok || next.UnixNano() != want.UnixNano() {
			t.Errorf("next due = %s, %v, %v; want %s, the real time of the merchant two hours ahead", next, ok, err, want)
		}
	})
}

// TestMigrationGivesTheOneClockToMerchantsWithRecords: a database of the release with one clock
// for everyone keeps its merchants' time: each merchant with records gets the old offset, and
// the old one goes.
func TestMigrationGivesTheOneClockToMerchantsWithRecords(t *testing.T) {
	const schemaOneClock = 5
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v5.db")
	raw := rawOpen(t, path)
	for _, m := range sqlite.Migrations[:schemaOneClock] {
		if _, err := raw.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	o := minimalOrder("1900000001", "OLD-1")
	odata, err := sqlite.EncodeOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		"PRAGMA user_version = " + strconv.Itoa(schemaOneClock),
		`INSERT INTO meta (key, value) VALUES ('clock_offset_ns', '` + strconv.FormatInt(int64(time.Hour), 10) + `')`,
		`INSERT INTO orders (mchid, out_order_no, order_id, state, created_at, updated_at, data)
			VALUES ('1900000001', 'OLD-1', 'o-1', 'CREATED', 1, 1, '` + odata + `')`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	db := mustOpen(t, path)
	offsets, err := db.ClockOffsets(ctx)
	if err != nil || len(offsets) != 1 || offsets["1900000001"] != time.Hour {
		t.Errorf("offsets after the migration = %v, %v; want 1900000001 an hour ahead, no one else", offsets, err)
	}
	var left int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM meta WHERE key = 'clock_offset_ns'`).Scan(&left); err != nil || left != 0 {
		t.Errorf("the old offset after the migration: %d rows, %v; want gone", left, err)
	}
}

// TestMerchantsAreKept: a registration is stored once; the same mchid again returns the stored
// one; a reopened database lists it.
func TestMerchantsAreKept(t *testing.T) {
	db, path := openFile(t)
	ctx := t.Context()
	r := &simulator.MerchantRegistration{MchID: "9000000001", AppIDs: []string{"wx1"}, ServiceIDs: []string{"s1"}}
	if _, created, err := db.CreateMerchant(ctx, r, time.Now()); err != nil || !created {
		t.Fatalf("create: %v, %v", created, err)
	}
	again := &simulator.MerchantRegistration{MchID: "9000000001", AppIDs: []string{"wx2"}}
	stored, created, err := db.CreateMerchant(ctx, again, time.Now())
	if err != nil || created || stored.AppIDs[0] != "wx1" {
		t.Errorf("create again = %+v, %v, %v; want the first one, not created", stored, created, err)
	}
	db.Close()
	list, err := mustOpen(t, path).ListMerchants(ctx)
	if err != nil || len(list) != 1 || list[0].MchID != "9000000001" || list[0].AppIDs[0] != "wx1" {
		t.Errorf("after reopening: %+v, %v", list, err)
	}
}
