// Package sqlite keeps the simulator's orders and request log in SQLite, through
// github.com/mattn/go-sqlite3.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"sync/atomic"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var (
	_ simulator.OrderStore = (*DB)(nil)
	_ simulator.RequestLog = (*DB)(nil)
)

// migrations build the schema. migrations[i] takes a database from user_version i to i+1; append
// to the list, never edit what is already released.
var migrations = []string{
	`CREATE TABLE orders (
		id           INTEGER PRIMARY KEY,
		mchid        TEXT    NOT NULL,
		out_order_no TEXT    NOT NULL,
		order_id     TEXT    NOT NULL UNIQUE,
		package      TEXT    UNIQUE,
		state        TEXT    NOT NULL,
		created_at   INTEGER NOT NULL,
		updated_at   INTEGER NOT NULL,
		data         TEXT    NOT NULL,
		UNIQUE (mchid, out_order_no)
	);
	CREATE INDEX orders_created_at ON orders (created_at);
	CREATE INDEX orders_mchid_created_at ON orders (mchid, created_at);
	CREATE INDEX orders_state_created_at ON orders (state, created_at);

	CREATE TABLE query_ids (
		query_id    TEXT    PRIMARY KEY,
		order_rowid INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE
	);
	CREATE INDEX query_ids_order_rowid ON query_ids (order_rowid);

	CREATE TABLE requests (
		id            INTEGER PRIMARY KEY,
		time          INTEGER NOT NULL,
		mchid         TEXT    NOT NULL,
		method        TEXT    NOT NULL,
		target        TEXT    NOT NULL,
		request_body  TEXT    NOT NULL,
		status        INTEGER NOT NULL,
		code          TEXT    NOT NULL,
		message       TEXT    NOT NULL,
		response_body TEXT    NOT NULL,
		diagnostic    TEXT,
		warnings      TEXT,
		duration_ns   INTEGER NOT NULL
	);
	CREATE INDEX requests_time ON requests (time);
	CREATE INDEX requests_mchid_time ON requests (mchid, time);
	-- ListRequests asks for failures with this very condition, so the planner can use it.
	CREATE INDEX requests_failed_time ON requests (time) WHERE status >= 400;`,

	`CREATE TABLE visits (
		id          TEXT    PRIMARY KEY,
		order_rowid INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
		mchid       TEXT    NOT NULL,
		created_at  INTEGER NOT NULL,
		data        TEXT    NOT NULL
	);
	CREATE INDEX visits_order_rowid ON visits (order_rowid);
	CREATE INDEX visits_mchid_created_at ON visits (mchid, created_at);
	CREATE INDEX visits_created_at ON visits (created_at);`,

	`CREATE TABLE notifications (
		id              TEXT    PRIMARY KEY,
		mchid           TEXT    NOT NULL,
		event_type      TEXT    NOT NULL,
		out_order_no    TEXT    NOT NULL,
		state           TEXT    NOT NULL,
		next_attempt_at INTEGER NOT NULL,
		created_at      INTEGER NOT NULL,
		data            TEXT    NOT NULL
	);
	-- The worker asks for due notifications with this very condition.
	CREATE INDEX notifications_due ON notifications (next_attempt_at) WHERE state = 'PENDING';
	CREATE INDEX notifications_created_at ON notifications (created_at);
	CREATE INDEX notifications_mchid_created_at ON notifications (mchid, created_at);

	CREATE TABLE delivery_attempts (
		id              INTEGER PRIMARY KEY,
		notification_id TEXT    NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
		data            TEXT    NOT NULL
	);
	CREATE INDEX delivery_attempts_notification_id ON delivery_attempts (notification_id, id);

	CREATE TABLE meta (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);`,

	`CREATE TABLE permissions (
		id                 TEXT    PRIMARY KEY,
		mchid              TEXT    NOT NULL,
		service_id         TEXT    NOT NULL,
		appid              TEXT    NOT NULL,
		authorization_code TEXT    NOT NULL,
		openid             TEXT    NOT NULL,
		state              TEXT    NOT NULL,
		token              TEXT    UNIQUE,
		created_at         INTEGER NOT NULL,
		updated_at         INTEGER NOT NULL,
		data               TEXT    NOT NULL,
		UNIQUE (mchid, service_id, authorization_code)
	);
	CREATE INDEX permissions_openid ON permissions (mchid, appid, service_id, openid, updated_at);
	-- A user has one authorization in force per appid and service.
	CREATE UNIQUE INDEX permissions_available_openid ON permissions (mchid, appid, service_id, openid)
		WHERE state = 'AVAILABLE';
	CREATE INDEX permissions_created_at ON permissions (created_at);
	CREATE INDEX permissions_mchid_created_at ON permissions (mchid, created_at);

	-- wxpayScoreEnable visits belong to a permission, not an order.
	CREATE TABLE permission_visits (
		id            TEXT    PRIMARY KEY,
		permission_id TEXT    NOT NULL REFERENCES permissions (id) ON DELETE CASCADE,
		mchid         TEXT    NOT NULL,
		created_at    INTEGER NOT NULL,
		data          TEXT    NOT NULL
	);
	CREATE INDEX permission_visits_permission_id ON permission_visits (permission_id);
	CREATE INDEX permission_visits_mchid_created_at ON permission_visits (mchid, created_at);`,
}

// DB is a SQLite database holding orders, visits and requests. It implements
// simulator.OrderStore, simulator.VisitStore and simulator.RequestLog and is safe for
// concurrent use.
type DB struct {
	db *sql.DB
	// keep holds an in-memory database open: it would vanish with its last connection.
	keep *sql.Conn
}

var memoryDBs atomic.Int64

// Open opens the database at dsn, a file path or ":memory:", creating it and bringing its
// schema up to date as needed. Each ":memory:" Open gets a database of its own.
func Open(ctx context.Context, dsn string) (*DB, error) {
	d, err := open(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", dsn, err)
	}
	return d, nil
}

func open(ctx context.Context, dsn string) (*DB, error) {
	if dsn == "" {
		// SQLite would give every pooled connection a temporary database of its own.
		return nil, errors.New("no file path given")
	}
	params := url.Values{
		// Every write here reads first (insert-or-get, load-change-save). A deferred
		// transaction that must upgrade its read lock fails with SQLITE_BUSY at once instead of
		// waiting, so take the write lock up front and let busy_timeout queue writers.
		"_txlock":       {"immediate"},
		"_busy_timeout": {"5000"},
		"_foreign_keys": {"1"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"NORMAL"},
	}
	memory := dsn == ":memory:"
	// go-sqlite3 cuts a plain path at its first '?'; as a file: URI the path is escaped, so any
	// file name works.
	u := url.URL{Scheme: "file", OmitHost: true, Path: dsn}
	if memory {
		// A named shared-cache database is what lets the pool's connections see one database,
		// and the unique name keeps simulators in one process apart.
		u.Path = fmt.Sprintf("payscore-sim-%d", memoryDBs.Add(1))
		params.Set("mode", "memory")
		params.Set("cache", "shared")
		params.Del("_journal_mode")
	}
	u.RawQuery = params.Encode()

	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		return nil, err
	}
	d := &DB{db: db}
	if memory {
		// Shared-cache connections do not wait for one another's locks (SQLITE_LOCKED ignores
		// busy_timeout), so beside keep the pool has a single connection, which callers take in
		// turn.
		db.SetMaxOpenConns(2)
		if d.keep, err = db.Conn(ctx); err != nil {
			db.Close()
			return nil, err
		}
	}
	if err := d.migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

// Close closes the database; an in-memory database is gone afterwards.
func (d *DB) Close() error {
	if d.keep != nil {
		d.keep.Close()
	}
	return d.db.Close()
}

// migrate applies the migrations the database lacks. Each runs in its own transaction together
// with the user_version bump, and the version is read inside that transaction, so two processes
// opening one file cannot both apply a migration.
func (d *DB) migrate(ctx context.Context) error {
	for {
		done, err := d.migrateOne(ctx)
		if err != nil || done {
			return err
		}
	}
}

func (d *DB) migrateOne(ctx context.Context) (done bool, err error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return false, err
	}
	defer tx.Rollback()

	var version int
	if err := tx.QueryRowContext(ctx, `PRAGMA user_version`).Scan(&version); err != nil {
		return false, err
	}
	switch {
	case version > len(migrations):
		return false, fmt.Errorf("schema version %d is newer than this program knows (%d); use a newer payscore-sim", version, len(migrations))
	case version == len(migrations):
		return true, nil
	}
	if _, err := tx.ExecContext(ctx, migrations[version]); err != nil {
		return false, fmt.Errorf("migration %d: %w", version+1, err)
	}
	// PRAGMA takes no parameters; version is an int.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA user_version = %d`, version+1)); err != nil {
		return false, err
	}
	return false, tx.Commit()
}

// unixNano and fromUnixNano map the zero time to 0 and back, which time.UnixNano does not.
func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// limit applies the filters' rule: 0 means 100, and no caller gets more than 1000.
func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 1000:
		return 1000
	}
	return n
}
