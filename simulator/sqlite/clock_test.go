package sqlite_test

import (
	"context"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// dueKinds are the three kinds of work that come due by their merchant's clock: what is due at
// a real time (the mchids of the records), and the real time the earliest comes due.
var dueKinds = []struct {
	name string
	due  func(db *sqlite.DB, now time.Time) ([]string, error)
	next func(db *sqlite.DB) (time.Time, bool, error)
}{
	{"notifications", func(db *sqlite.DB, now time.Time) ([]string, error) {
		ns, err := db.DueNotifications(context.Background(), now, 10)
		return mchidsOf(ns, func(n *simulator.Notification) string { return n.MchID }), err
	}, func(db *sqlite.DB) (time.Time, bool, error) { return db.NextNotificationDue(context.Background()) }},
	{"deductions", func(db *sqlite.DB, now time.Time) ([]string, error) {
		os, err := db.ListOrders(context.Background(), simulator.OrderFilter{DeductionDueBy: now})
		return mchidsOf(os, func(o *simulator.Order) string { return o.MchID }), err
	}, func(db *sqlite.DB) (time.Time, bool, error) { return db.NextDeductionDue(context.Background()) }},
	{"refunds", func(db *sqlite.DB, now time.Time) ([]string, error) {
		rs, err := db.DueRefunds(context.Background(), now, 10)
		return mchidsOf(rs, func(r *simulator.Refund) string { return r.Sim.MchID }), err
	}, func(db *sqlite.DB) (time.Time, bool, error) { return db.NextRefundDue(context.Background()) }},
}

func mchidsOf[T any](records []T, mchid func(T) string) []string {
	var out []string
	for _, r := range records {
		out = append(out, mchid(r))
	}
	return out
}

// TestWorkComesDueByItsMerchantsClock: two merchants each have a notification, a deduction and
// a refund outcome due in an hour of their own time; only the work of the merchant whose clock
// is two hours ahead is due now, and the next is due an hour ago in real time.
func TestWorkComesDueByItsMerchantsClock(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		ctx := t.Context()
		now := time.Now()
		for _, mchid := range []string{"1230000109", "1900000001"} {
			o := minimalOrder(mchid, "DUE-1")
			o.Sim.DeductAt = now.Add(time.Hour)
			o.Sim.Deductions = []simulator.Deduction{{Seq: 1, Amount: 100, TransactionID: "t-" + mchid, OutTradeNo: "ot-" + mchid, Time: now}}
			o.Sim.Outbox = []*simulator.Notification{{ID: "n-" + mchid, MchID: mchid, EventType: simulator.EventUserConfirm,
				OutOrderNo: "DUE-1", State: simulator.NotificationPending, CreatedAt: now, NextAttemptAt: now.Add(time.Hour)}}
			if _, _, err := db.CreateOrder(ctx, o); err != nil {
				t.Fatal(err)
			}
			if _, _, err := db.CreateRefund(ctx, mchid, "rf-"+mchid, simulator.TransactionKey{TransactionID: "t-" + mchid}, func(c simulator.RefundCandidate) (*simulator.Refund, error) {
				return &simulator.Refund{RefundID: "rf-" + mchid, OutRefundNo: "rf-" + mchid, TransactionID: c.Transaction.TransactionID,
					Status: simulator.RefundProcessing, Sim: simulator.RefundRecord{MchID: mchid, OutOrderNo: "DUE-1", CreatedAt: now, DueAt: now.Add(time.Hour)}}, nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		for _, k := range dueKinds {
			if due, err := k.due(db, now); err != nil || len(due) != 0 {
				t.Errorf("%s due with every clock on the real time: %v, %v; want none", k.name, due, err)
			}
		}
		if err := db.SaveClockOffset(ctx, "1900000001", 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		for _, k := range dueKinds {
			if due, err := k.due(db, now); err != nil || len(due) != 1 || due[0] != "1900000001" {
				t.Errorf("%s due with 1900000001 two hours ahead: %v, %v; want its own only", k.name, due, err)
			}
			if next, ok, err := k.next(db); err != nil || !ok || next.UnixNano() != now.Add(-time.Hour).UnixNano() {
				t.Errorf("next %s due = %s, %v, %v; want an hour ago, when the merchant two hours ahead reached it", k.name, next, ok, err)
			}
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
