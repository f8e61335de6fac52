package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// requestLogSize is what the request log holds, kept beside the table so that LogRequest need
// not count it each time; the exclusive lock on the file (see lockFile) makes this process its
// only writer. A reset that deletes requests leaves the counts high, which only brings the next
// trim, which counts afresh, sooner.
type requestLogSize struct {
	mu        sync.Mutex
	retention simulator.RequestRetention
	rows      int
	bytes     int64
}

// count counts what the table holds; call it with mu held, or before serving.
func (l *requestLogSize) count(ctx context.Context, db *sql.DB) error {
	if err := db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(size), 0) FROM requests`).Scan(&l.rows, &l.bytes); err != nil {
		return fmt.Errorf("sqlite: count requests: %w", err)
	}
	return nil
}

// limits are the retention, defaults applied.
func (l *requestLogSize) limits() (rows int, bytes int64) {
	rows, bytes = l.retention.Rows, l.retention.Bytes
	if rows <= 0 {
		rows = simulator.DefaultRequestLogRows
	}
	if bytes <= 0 {
		bytes = simulator.DefaultRequestLogBytes
	}
	return rows, bytes
}

// SetRequestRetention bounds the request log from now on; call it before serving.
func (d *DB) SetRequestRetention(r simulator.RequestRetention) {
	d.log.mu.Lock()
	d.log.retention = r
	d.log.mu.Unlock()
}

// LogRequest stores r and sets r.ID. Once the log holds more than its retention, the oldest
// records go, down to nine tenths of it, so that trimming comes once in many requests. It
// returns once r is committed, which may be together with concurrent writes (see writeQueue).
func (d *DB) LogRequest(ctx context.Context, r *simulator.RequestRecord) error {
	diagnostic, err := jsonOrNull(r.Diagnostic, r.Diagnostic == nil)
	if err != nil {
		return fmt.Errorf("sqlite: log request: diagnostic: %w", err)
	}
	warnings, err := jsonOrNull(r.Warnings, r.Warnings == nil)
	if err != nil {
		return fmt.Errorf("sqlite: log request: warnings: %w", err)
	}
	fault, err := jsonOrNull(r.Fault, r.Fault == nil)
	if err != nil {
		return fmt.Errorf("sqlite: log request: fault: %w", err)
	}
	size := int64(len(r.MchID) + len(r.Method) + len(r.Target) + len(r.RequestBody) + len(r.Code) + len(r.Message) +
		len(r.ResponseBody) + len(diagnostic.String) + len(warnings.String) + len(fault.String))
	l := &loggedRequest{record: r, diagnostic: diagnostic, warnings: warnings, fault: fault, size: size}
	if err := d.writes.write(ctx, d, &queuedWrite{exec: l.insert, logged: l}); err != nil {
		return fmt.Errorf("sqlite: log request: %w", err)
	}
	return nil
}

// loggedRequest is a record on its way into the table, with what its columns need.
type loggedRequest struct {
	record                      *simulator.RequestRecord
	diagnostic, warnings, fault sql.NullString
	size                        int64
}

// insert inserts the record and sets its ID.
func (l *loggedRequest) insert(ctx context.Context, e execer) error {
	r := l.record
	res, err := e.ExecContext(ctx, `
		INSERT INTO requests (time, mchid, method, target, request_body, status, code, message,
			response_body, diagnostic, warnings, duration_ns, size, fault)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		unixNano(r.Time), r.MchID, r.Method, r.Target, r.RequestBody, r.Status, r.Code, r.Message,
		r.ResponseBody, l.diagnostic, l.warnings, int64(r.Duration), l.size, l.fault)
	if err != nil {
		return err
	}
	r.ID, err = res.LastInsertId()
	return err
}

// trimRequests counts n new records of size bytes in all, and deletes the oldest records when
// the log is over its retention.
func (d *DB) trimRequests(ctx context.Context, n int, size int64) error {
	l := &d.log
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows += n
	l.bytes += size
	maxRows, maxBytes := l.limits()
	if l.rows <= maxRows && l.bytes <= maxBytes {
		return nil
	}
	// Keep the newest records that fit in nine tenths of each bound, and the newest one always.
	_, err := d.db.ExecContext(ctx, `
		DELETE FROM requests WHERE id < coalesce((
			SELECT min(id) FROM (
				SELECT id, sum(size) OVER newest AS total, row_number() OVER newest AS n
				FROM requests WINDOW newest AS (ORDER BY id DESC)
			) WHERE total <= ? AND n <= ?
		), (SELECT max(id) FROM requests))`, maxBytes/10*9, max(1, maxRows/10*9))
	if err != nil {
		return fmt.Errorf("sqlite: trim the request log: %w", err)
	}
	return l.count(ctx, d.db)
}

// jsonOrNull stores a nil map or slice as NULL, so that it comes back nil rather than empty.
func jsonOrNull(v any, isNil bool) (sql.NullString, error) {
	if isNil {
		return sql.NullString{}, nil
	}
	b, err := json.Marshal(v)
	return sql.NullString{String: string(b), Valid: true}, err
}

// ListRequests returns records newest first by Time, the later logged first among equal times.
// Diagnostic values come back as JSON decodes them (numbers as float64).
func (d *DB) ListRequests(ctx context.Context, f simulator.RequestFilter) ([]*simulator.RequestRecord, error) {
	query, args := requestQuery(f)
	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list requests: %w", err)
	}
	defer rows.Close()
	var records []*simulator.RequestRecord
	var total int64
	for rows.Next() {
		r, size, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list requests: %w", err)
		}
		records = append(records, r)
		// The first record always comes, so that a listing moves on whatever the sizes.
		if total += size; f.MaxBytes > 0 && total >= f.MaxBytes {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list requests: %w", err)
	}
	return records, nil
}

// requestQuery is the SELECT of ListRequests for f.
func requestQuery(f simulator.RequestFilter) (string, []any) {
	var w where
	w.eq("mchid", f.MchID)
	if f.Failed {
		// Written as in the partial index requests_failed_time, which SQLite then uses.
		w.add("status >= 400")
	}
	var mentions []string
	var mentionArgs []any
	for _, m := range f.Mentions {
		if m != "" {
			mentions = append(mentions, "instr(target, ?) > 0 OR instr(request_body, ?) > 0")
			mentionArgs = append(mentionArgs, m, m)
		}
	}
	if len(mentions) > 0 {
		w.add("("+strings.Join(mentions, " OR ")+")", mentionArgs...)
	}
	if f.BeforeID > 0 {
		// After that record in the listing's order; nothing once it was trimmed, as were the
		// records before it.
		w.add("(time, id) < (SELECT time, id FROM requests WHERE id = ?)", f.BeforeID)
	}
	return w.query(`SELECT id, time, mchid, method, target, request_body, status, code, message,
		response_body, diagnostic, warnings, duration_ns, size, fault FROM requests`, "time DESC, id DESC", f.Limit)
}

// scanRequest reads one row of requestQuery, and returns the record with its stored size.
func scanRequest(rows *sql.Rows) (*simulator.RequestRecord, int64, error) {
	var (
		r                           simulator.RequestRecord
		at, duration, size          int64
		diagnostic, warnings, fault sql.NullString
	)
	if err := rows.Scan(&r.ID, &at, &r.MchID, &r.Method, &r.Target, &r.RequestBody,
		&r.Status, &r.Code, &r.Message, &r.ResponseBody, &diagnostic, &warnings, &duration, &size, &fault); err != nil {
		return nil, 0, err
	}
	r.Time = fromUnixNano(at)
	r.Duration = time.Duration(duration)
	for _, c := range []struct {
		name string
		col  sql.NullString
		into any
	}{{"diagnostic", diagnostic, &r.Diagnostic}, {"warnings", warnings, &r.Warnings}, {"fault", fault, &r.Fault}} {
		if !c.col.Valid {
			continue
		}
		if err := json.Unmarshal([]byte(c.col.String), c.into); err != nil {
			return nil, 0, fmt.Errorf("request %d %s: %w", r.ID, c.name, err)
		}
	}
	return &r, size, nil
}
