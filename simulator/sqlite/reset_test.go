package sqlite_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// resetFill gives merchant mchid one of everything a merchant has: an order with a query_id, a
// visit, a notification with an attempt and a deduction with a refund; a permission with a
// notification and an enable visit; and a logged request.
func resetFill(t *testing.T, db *sqlite.DB, mchid string) {
	t.Helper()
	ctx := t.Context()
	now := time.Now()
	if err := db.SaveClockOffset(ctx, mchid, time.Hour); err != nil {
		t.Fatal(err)
	}
	o := minimalOrder(mchid, "R-1")
	o.Sim.Outbox = []*simulator.Notification{{ID: "n-order-" + mchid, MchID: mchid, EventType: simulator.EventUserConfirm,
		OutOrderNo: "R-1", State: simulator.NotificationPending, CreatedAt: now, NextAttemptAt: now.Add(time.Hour)}}
	o, _, err := db.CreateOrder(ctx, o)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateOrder(ctx, mchid, "R-1", func(o *simulator.Order) error {
		o.Sim.QueryIDs = append(o.Sim.QueryIDs, "q-"+mchid)
		o.Sim.Deductions = []simulator.Deduction{{Seq: 1, Amount: 100, TransactionID: "t-" + mchid, OutTradeNo: "ot-" + mchid, Time: now}}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateRefund(ctx, mchid, "rf-"+mchid, simulator.TransactionKey{TransactionID: "t-" + mchid}, func(c simulator.RefundCandidate) (*simulator.Refund, error) {
		return &simulator.Refund{RefundID: "rf-" + mchid, OutRefundNo: "rf-" + mchid, TransactionID: c.Transaction.TransactionID,
			Status: simulator.RefundProcessing, Sim: simulator.RefundRecord{MchID: mchid, OutOrderNo: "R-1", CreatedAt: now}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateVisit(ctx, &simulator.Visit{ID: "v-" + mchid, MchID: mchid, OutOrderNo: "R-1", CreatedAt: now, Order: o}); err != nil {
		t.Fatal(err)
	}
	n, err := db.FindNotification(ctx, "n-order-"+mchid)
	if err != nil {
		t.Fatal(err)
	}
	n.Attempted(false, now, simulator.RetrySchedule{time.Hour, time.Hour})
	if err := db.SaveAttempt(ctx, n, &simulator.DeliveryAttempt{Time: now, Error: "refused"}); err != nil {
		t.Fatal(err)
	}
	p := &simulator.Permission{ID: "p-" + mchid, MchID: mchid, ServiceID: "s", AppID: "a", AuthorizationCode: "code",
		State: simulator.AuthorizationUnbindUser, Token: "token-" + mchid, CreatedAt: now, UpdatedAt: now,
		Outbox: []*simulator.Notification{{ID: "n-perm-" + mchid, MchID: mchid, EventType: simulator.EventUserOpenService,
			State: simulator.NotificationPending, CreatedAt: now, NextAttemptAt: now.Add(time.Hour)}}}
	if _, _, err := db.CreatePermission(ctx, p); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateVisit(ctx, &simulator.Visit{ID: "pv-" + mchid, MchID: mchid, PermissionID: p.ID, CreatedAt: now, Permission: p}); err != nil {
		t.Fatal(err)
	}
	if err := db.LogRequest(ctx, &simulator.RequestRecord{Time: now, MchID: mchid, Method: "GET", Target: "/", Status: 200}); err != nil {
		t.Fatal(err)
	}
}

// resetRows counts the rows of every table of the schema, as sqlite_master lists them, so a
// table added later is counted too.
func resetRows(t *testing.T, db *sql.DB) map[string]int {
	t.Helper()
	ctx := context.Background()
	rows, err := db.QueryContext(ctx, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, table := range tables {
		var n int
		if err := db.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+table+`"`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		counts[table] = n
	}
	return counts
}

// resetForeignKeysHold fails the test when a row refers to one that is gone.
func resetForeignKeysHold(t *testing.T, db *sql.DB) {
	t.Helper()
	rows, err := db.QueryContext(context.Background(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports rows whose parents are gone")
	}
}

func TestResetEmptiesEveryTable(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		resetFill(t, db, "1230000109")
		resetFill(t, db, "1900000001")
		if _, _, err := db.CreateMerchant(t.Context(), &simulator.MerchantRegistration{MchID: "9000000001"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		for table, n := range resetRows(t, db.SQL()) {
			if n == 0 && table != "meta" {
				t.Errorf("before the reset, table %s is empty: resetFill must fill every table", table)
			}
		}
		counts, err := db.Reset(t.Context(), "")
		if err != nil {
			t.Fatal(err)
		}
		if want := (simulator.ResetCounts{Orders: 2, Visits: 4, Notifications: 4, Permissions: 2, Requests: 2, Refunds: 2}); counts != want {
			t.Errorf("Reset counts = %+v, want %+v", counts, want)
		}
		for table, n := range resetRows(t, db.SQL()) {
			// Registered merchants are configuration, not records: they stay.
			if table == "merchants" && n != 1 {
				t.Errorf("after a full reset, %d registered merchants; want the one kept", n)
			}
			if n != 0 && table != "merchants" {
				t.Errorf("after a full reset, table %s has %d rows; add it to resetSteps", table, n)
			}
		}
		if offsets, err := db.ClockOffsets(t.Context()); err != nil || len(offsets) != 0 {
			t.Errorf("clock offsets after a full reset = %v, %v; want none", offsets, err)
		}
		resetForeignKeysHold(t, db.SQL())
		// The database works as a fresh one: the same keys can be used again.
		resetFill(t, db, "1230000109")
	})
}

func TestResetOneMerchantKeepsTheOthers(t *testing.T) {
	eachDB(t, func(t *testing.T, db *sqlite.DB) {
		resetFill(t, db, "1230000109")
		resetFill(t, db, "1900000001")
		before := resetRows(t, db.SQL())
		counts, err := db.Reset(t.Context(), "1230000109")
		if err != nil {
			t.Fatal(err)
		}
		if want := (simulator.ResetCounts{Orders: 1, Visits: 2, Notifications: 2, Permissions: 1, Requests: 1, Refunds: 1}); counts != want {
			t.Errorf("Reset counts = %+v, want %+v", counts, want)
		}
		after := resetRows(t, db.SQL())
		for table, n := range before {
			want := n / 2 // resetFill gave both merchants the same rows
			if table == "meta" {
				want = n
			}
			if after[table] != want {
				t.Errorf("table %s: %d rows after resetting one merchant, want %d of %d", table, after[table], want, n)
			}
		}
		resetForeignKeysHold(t, db.SQL())
		ctx := t.Context()
		if _, err := db.FindOrder(ctx, "1230000109", simulator.OrderKey{OutOrderNo: "R-1"}); err == nil {
			t.Error("the reset merchant's order is still there")
		}
		if _, err := db.FindOrder(ctx, "1900000001", simulator.OrderKey{QueryID: "q-1900000001"}); err != nil {
			t.Errorf("the other merchant's order by query_id: %v", err)
		}
		if v, err := db.FindVisit(ctx, "v-1900000001"); err != nil || v.Order == nil {
			t.Errorf("the other merchant's visit: %+v, %v", v, err)
		}
		if v, err := db.FindVisit(ctx, "pv-1900000001"); err != nil || v.Permission == nil {
			t.Errorf("the other merchant's enable visit: %+v, %v", v, err)
		}
		if _, as, err := db.FindNotificationAttempts(ctx, "n-order-1900000001"); err != nil || len(as) != 1 {
			t.Errorf("the other merchant's attempts: %d, %v", len(as), err)
		}
		if offsets, err := db.ClockOffsets(ctx); err != nil || len(offsets) != 1 || offsets["1900000001"] != time.Hour {
			t.Errorf("clock offsets after resetting one merchant = %v, %v; want the other's 1h kept, the reset one's gone", offsets, err)
		}
		// The merchant starts afresh: the same out_order_no, ids and token are free again.
		resetFill(t, db, "1230000109")
	})
}
