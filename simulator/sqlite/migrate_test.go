package sqlite_test

import (
	"encoding/json"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
	"github.com/payscore-sim/payscore-sim/simulator/sqlite"
)

// schemaV4 is the release that kept wxpayScoreEnable visits in a table of their own.
const schemaV4 = 4

// oldVisitsDB builds a file database as schema version 4 left it, with the migrations as they
// were released: an order with a visit in visits, and a permission with a visit in
// permission_visits.
func oldVisitsDB(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "v4.db")
	raw := rawOpen(t, path)
	for _, m := range sqlite.Migrations[:schemaV4] {
		if _, err := raw.ExecContext(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(schemaV4)); err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_700_000_000, 0)
	o := minimalOrder("1230000109", "OLD-1")
	odata, err := sqlite.EncodeOrder(o)
	if err != nil {
		t.Fatal(err)
	}
	p := &simulator.Permission{ID: "perm-1", MchID: "1230000109", ServiceID: "s", AppID: "a", AuthorizationCode: "code-1",
		State: simulator.AuthorizationUnbindUser, Token: "token-1", CreatedAt: now, UpdatedAt: now}
	pdata, err := sqlite.EncodePermission(p)
	if err != nil {
		t.Fatal(err)
	}
	visit := func(v simulator.Visit) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for _, stmt := range []struct {
		query string
		args  []any
	}{
		{`INSERT INTO orders (id, mchid, out_order_no, order_id, package, state, created_at, updated_at, data)
			VALUES (7, ?, ?, ?, 'pkg-1', 'CREATED', ?, ?, ?)`, []any{o.MchID, o.OutOrderNo, o.OrderID, now.UnixNano(), now.UnixNano(), odata}},
		{`INSERT INTO visits (id, order_rowid, mchid, created_at, data) VALUES ('visit-order', 7, ?, ?, ?)`,
			[]any{o.MchID, now.UnixNano(), visit(simulator.Visit{ID: "visit-order", BusinessType: simulator.BusinessUse, MchID: o.MchID, OutOrderNo: o.OutOrderNo})}},
		{`INSERT INTO permissions (id, mchid, service_id, appid, authorization_code, openid, state, token, created_at, updated_at, data)
			VALUES (?, ?, 's', 'a', 'code-1', '', 'UNBINDUSER', 'token-1', ?, ?, ?)`, []any{p.ID, p.MchID, now.UnixNano(), now.UnixNano(), pdata}},
		{`INSERT INTO permission_visits (id, permission_id, mchid, created_at, data) VALUES ('visit-enable', ?, ?, ?, ?)`,
			[]any{p.ID, p.MchID, now.Add(time.Second).UnixNano(), visit(simulator.Visit{ID: "visit-enable", BusinessType: simulator.BusinessEnable, MchID: p.MchID, PermissionID: p.ID})}},
	} {
		if _, err := raw.ExecContext(ctx, stmt.query, stmt.args...); err != nil {
			t.Fatalf("%s: %v", stmt.query, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestMigrateVisitsIntoOneTable opens a version 4 database: the visits of both tables end up in
// the one visits table, each with its subject, and permission_visits is gone.
func TestMigrateVisitsIntoOneTable(t *testing.T) {
	db := mustOpen(t, oldVisitsDB(t))
	ctx := t.Context()
	if v := pragma(t, db.SQL(), "user_version"); v != strconv.Itoa(sqlite.SchemaVersion) {
		t.Errorf("user_version = %s, want %d", v, sqlite.SchemaVersion)
	}
	var tables int
	if err := db.SQL().QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema WHERE name = 'permission_visits'`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("permission_visits after the migration: %d tables, %v; want it dropped", tables, err)
	}
	ov, err := db.FindVisit(ctx, "visit-order")
	if err != nil || ov.Order == nil || ov.Order.OutOrderNo != "OLD-1" || ov.Permission != nil {
		t.Fatalf("order visit = %+v, %v; want it with order OLD-1 only", ov, err)
	}
	ev, err := db.FindVisit(ctx, "visit-enable")
	if err != nil || ev.Permission == nil || ev.Permission.ID != "perm-1" || ev.Order != nil {
		t.Fatalf("enable visit = %+v, %v; want it with permission perm-1 only", ev, err)
	}
	all, err := db.ListVisits(ctx, simulator.VisitFilter{MchID: "1230000109"})
	if err != nil || len(all) != 2 || all[0].ID != "visit-enable" || all[1].ID != "visit-order" {
		t.Errorf("ListVisits = %d visits, %v; want the enable visit, then the order visit", len(all), err)
	}
	ofOrder, err := db.ListVisits(ctx, simulator.VisitFilter{OutOrderNo: "OLD-1"})
	if err != nil || len(ofOrder) != 1 || ofOrder[0].ID != "visit-order" {
		t.Errorf("ListVisits of OLD-1 = %d visits, %v; want the order's one", len(ofOrder), err)
	}
	// The moved visit is written like any other, together with its permission.
	if _, err := db.UpdateVisit(ctx, "visit-enable", func(v *simulator.Visit) error {
		v.Outcome = simulator.BackWithoutParams
		v.Permission.Warnings = append(v.Permission.Warnings, "migrated")
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if p, err := db.FindPermission(ctx, "1230000109", "s", "code-1"); err != nil || len(p.Warnings) != 1 {
		t.Errorf("permission after updating its migrated visit = %+v, %v", p, err)
	}
	// A visit belongs to exactly one subject.
	for _, q := range []string{
		`INSERT INTO visits (id, mchid, created_at, data) VALUES ('none', 'm', 0, '{}')`,
		`INSERT INTO visits (id, order_rowid, permission_id, mchid, created_at, data) VALUES ('both', 7, 'perm-1', 'm', 0, '{}')`,
	} {
		if _, err := db.SQL().ExecContext(ctx, q); err == nil {
			t.Errorf("%s: accepted; want the CHECK to refuse it", q)
		}
	}
	resetForeignKeysHold(t, db.SQL())
}
