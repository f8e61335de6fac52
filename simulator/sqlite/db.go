// Package sqlite keeps the simulator's records (orders, visits, permissions, notifications,
// the merchants' clock offsets, registered merchants and the request log) in SQLite, through github.com/mattn/go-sqlite3.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
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

	// One table for every visit: a visit belongs to an order or, for wxpayScoreEnable, to a
	// permission. SQLite cannot make a column nullable in place, so visits is rebuilt, and
	// permission_visits moves into it. The rows keep their order (rowid breaks ties of
	// created_at in lists): order visits first, as the list's UNION ALL put them.
	`CREATE TABLE visits_v5 (
		id            TEXT    PRIMARY KEY,
		order_rowid   INTEGER REFERENCES orders (id) ON DELETE CASCADE,
		permission_id TEXT    REFERENCES permissions (id) ON DELETE CASCADE,
		mchid         TEXT    NOT NULL,
		created_at    INTEGER NOT NULL,
		data          TEXT    NOT NULL,
		CHECK ((order_rowid IS NULL) <> (permission_id IS NULL))
	);
	INSERT INTO visits_v5 (id, order_rowid, mchid, created_at, data)
		SELECT id, order_rowid, mchid, created_at, data FROM visits ORDER BY rowid;
	INSERT INTO visits_v5 (id, permission_id, mchid, created_at, data)
		SELECT id, permission_id, mchid, created_at, data FROM permission_visits ORDER BY rowid;
	DROP TABLE visits;
	DROP TABLE permission_visits;
	ALTER TABLE visits_v5 RENAME TO visits;
	CREATE INDEX visits_order_rowid ON visits (order_rowid);
	CREATE INDEX visits_permission_id ON visits (permission_id);
	CREATE INDEX visits_mchid_created_at ON visits (mchid, created_at);
	CREATE INDEX visits_created_at ON visits (created_at);`,

	refundsMigration,

	// Complete answers before Pay Score deducts: the due time of an order's pending deduction,
	// NULL when none is pending, for the deductions' runner to find.
	`ALTER TABLE orders ADD COLUMN deduct_at INTEGER;
	CREATE INDEX orders_deduct_at ON orders (deduct_at) WHERE deduct_at IS NOT NULL;`,

	// The request log is bounded in bytes as well as rows; each record knows its share.
	`ALTER TABLE requests ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
	UPDATE requests SET size = length(mchid) + length(method) + length(target) + length(request_body)
		+ length(code) + length(message) + length(response_body)
		+ coalesce(length(diagnostic), 0) + coalesce(length(warnings), 0);`,

	// Each merchant has a clock of its own. The one clock of earlier versions becomes the
	// clock of every merchant with records, so that their times do not jump back; a merchant
	// without records starts on the real time. Registered merchants (POST /sim/v1/merchants)
	// are kept as they were registered.
	`CREATE TABLE merchant_clocks (
		mchid     TEXT    PRIMARY KEY,
		offset_ns INTEGER NOT NULL
	);
	INSERT INTO merchant_clocks (mchid, offset_ns)
		SELECT m.mchid, CAST(meta.value AS INTEGER)
		FROM meta, (SELECT mchid FROM orders UNION SELECT mchid FROM permissions UNION SELECT mchid FROM notifications) AS m
		WHERE meta.key = 'clock_offset_ns' AND CAST(meta.value AS INTEGER) > 0;
	DELETE FROM meta WHERE key = 'clock_offset_ns';

	CREATE TABLE merchants (
		mchid      TEXT    PRIMARY KEY,
		created_at INTEGER NOT NULL,
		data       TEXT    NOT NULL
	);`,

	// The fault rule that made a request's answer, as JSON, or NULL.
	`ALTER TABLE requests ADD COLUMN fault TEXT;`,
}

// DB is a SQLite database holding the simulator's records. It implements every store of
// package simulator, its RequestLog and its Resetter, and is safe for concurrent use.
type DB struct {
	db *sql.DB
	// keep holds an in-memory database open: it would vanish with its last connection.
	keep *sql.Conn
	// checkpointer copies a file's WAL into the database in the background: see checkpoints.
	checkpointer *sql.DB
	stop         chan struct{}
	stopped      chan struct{}
	stopOnce     sync.Once
	// read serves the queries that change nothing. In WAL mode readers do not wait for the
	// writer, so a query need not queue behind the one writing connection. An in-memory
	// database has just the one connection, and read is db.
	read *sql.DB
	// log tracks the request log's size against its retention (see request.go).
	log requestLogSize
	// writes gathers concurrent inserts (new orders, request-log records) into one commit.
	writes writeQueue
	// lock is the file whose exclusive lock keeps other simulators off a file database.
	lock *os.File
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
		// WAL, which persists in the file, is set by migrate: it knows whether the file is new.
		"_synchronous": {"NORMAL"},
		// Each connection keeps its prepared statements: every API call runs the same few.
		"_stmt_cache_size": {"32"},
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
	}
	u.RawQuery = params.Encode()

	var lock *os.File
	if !memory {
		var err error
		if lock, err = lockFile(dsn); err != nil {
			return nil, err
		}
	}
	db, err := sql.Open("sqlite3", u.String())
	if err != nil {
		closeLock(lock)
		return nil, err
	}
	d := &DB{db: db, lock: lock}
	if !memory {
		// SQLite lets one connection write at a time, and a connection that finds the write lock
		// taken polls for it, sleeping up to 100 ms between tries, until busy_timeout ends: under
		// a steady stream of writes (every API call logs itself) a caller can miss the lock for
		// the whole 5 s and fail with "database is locked", a 500. With one connection,
		// database/sql queues the process's callers instead; busy_timeout still covers other
		// processes using the file. Queries take microseconds beside a request's RSA work, so
		// queueing them too costs little, and the in-memory database already works this way.
		db.SetMaxOpenConns(1)
	}
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
	if err := d.migrate(ctx, !memory); err != nil {
		d.Close()
		return nil, err
	}
	// A read-only file opens and reads: refuse it now rather than fail every write.
	if err := d.CheckWritable(ctx); err != nil {
		d.Close()
		return nil, err
	}
	if err := d.log.count(ctx, d.db); err != nil {
		d.Close()
		return nil, err
	}
	d.read = db
	if !memory {
		ro := u
		roParams := url.Values{"_query_only": {"1"}, "_busy_timeout": {"5000"}, "_stmt_cache_size": {"32"}}
		ro.RawQuery = roParams.Encode()
		if d.read, err = sql.Open("sqlite3", ro.String()); err != nil {
			d.Close()
			return nil, err
		}
		d.read.SetMaxOpenConns(readConns)
		if d.checkpointer, err = sql.Open("sqlite3", u.String()); err != nil {
			d.Close()
			return nil, err
		}
		d.checkpointer.SetMaxOpenConns(1)
		d.stop, d.stopped = make(chan struct{}), make(chan struct{})
		go d.checkpoints()
	}
	return d, nil
}

// Close closes the database; an in-memory database is gone afterwards.
func (d *DB) Close() error {
	if d.checkpointer != nil {
		d.stopOnce.Do(func() {
			close(d.stop)
			<-d.stopped
			d.checkpointer.Close()
		})
	}
	if d.keep != nil {
		d.keep.Close()
	}
	if d.read != nil && d.read != d.db {
		d.read.Close()
	}
	err := d.db.Close()
	closeLock(d.lock)
	return err
}

// closeLock releases the lock, which closing its file does.
func closeLock(f *os.File) {
	if f != nil {
		f.Close()
	}
}

// readConns bounds the connections that serve queries of a file database.
const readConns = 4

// Checkpoints: SQLite copies the WAL into the database in the connection whose commit takes
// the WAL past wal_autocheckpoint pages, with two fsyncs and a few MB written: that call took
// 5-20 ms longer, every hundred or so creates (the p99), and the calls queued for the one
// connection waited with it. So a connection of its own checkpoints every checkpointEvery,
// PASSIVE, beside the writer and without blocking it, and the writer's own checkpoint stays
// only as a backstop, at writerCheckpointPages, for when writes never pause long enough for
// the background checkpoint to catch up and the WAL to start over. Durability is unchanged:
// a commit is in the WAL either way, and checkpoints now come at least as often.
const (
	checkpointEvery       = 100 * time.Millisecond
	writerCheckpointPages = 4000
)

// checkpoints runs until Close; a failed checkpoint is left to the next one and the backstop.
func (d *DB) checkpoints() {
	defer close(d.stopped)
	tick := time.NewTicker(checkpointEvery)
	defer tick.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-tick.C:
		}
		var busy, logged, copied int
		_ = d.checkpointer.QueryRow(`PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &logged, &copied)
	}
}

// migrate puts a file in WAL mode and applies the migrations the database lacks. Each runs in
// its own transaction together with the user_version bump, and the version is read inside that
// transaction, so two processes opening one file cannot both apply a migration.
func (d *DB) migrate(ctx context.Context, file bool) (err error) {
	// One connection for all of it, since PRAGMA synchronous is a connection's own setting.
	conn, err := d.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if file {
		var objects int
		if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&objects); err != nil {
			return err
		}
		if objects == 0 {
			// A new file holds nothing to lose, so it is built without fsync: switching it to
			// WAL and creating the schema otherwise costs 6 fsyncs, 5 to 20 ms of a start-up
			// that should take a few. Back to NORMAL before anything is stored; should that
			// fail, Open fails and the connection is closed.
			if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = OFF`); err != nil {
				return err
			}
			defer func() {
				if _, e := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); e != nil && err == nil {
					err = e
				}
			}()
		}
		var mode string
		if err := conn.QueryRowContext(ctx, `PRAGMA journal_mode = WAL`).Scan(&mode); err != nil {
			return err
		}
		if mode != "wal" {
			return fmt.Errorf("journal_mode is %s, not wal", mode)
		}
		// A connection's own setting; a connection the pool opens later has SQLite's default
		// of 1000 pages, which only means checkpoints on the request path again.
		if _, err := conn.ExecContext(ctx, fmt.Sprintf(`PRAGMA wal_autocheckpoint = %d`, writerCheckpointPages)); err != nil {
			return err
		}
	}
	for {
		done, err := migrateOne(ctx, conn)
		if err != nil || done {
			return err
		}
	}
}

func migrateOne(ctx context.Context, conn *sql.Conn) (done bool, err error) {
	tx, err := conn.BeginTx(ctx, nil)
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
