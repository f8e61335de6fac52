package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// LogRequest stores r and sets r.ID.
func (d *DB) LogRequest(ctx context.Context, r *simulator.RequestRecord) error {
	diagnostic, err := jsonOrNull(r.Diagnostic, r.Diagnostic == nil)
	if err != nil {
		return fmt.Errorf("sqlite: log request: diagnostic: %w", err)
	}
	warnings, err := jsonOrNull(r.Warnings, r.Warnings == nil)
	if err != nil {
		return fmt.Errorf("sqlite: log request: warnings: %w", err)
	}
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO requests (time, mchid, method, target, request_body, status, code, message,
			response_body, diagnostic, warnings, duration_ns)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		unixNano(r.Time), r.MchID, r.Method, r.Target, r.RequestBody, r.Status, r.Code, r.Message,
		r.ResponseBody, diagnostic, warnings, int64(r.Duration))
	if err != nil {
		return fmt.Errorf("sqlite: log request: %w", err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return fmt.Errorf("sqlite: log request: %w", err)
	}
	r.ID = id
	return nil
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
	query, args := w.query(`SELECT id, time, mchid, method, target, request_body, status, code, message,
		response_body, diagnostic, warnings, duration_ns FROM requests`, "time DESC, id DESC", f.Limit)

	rows, err := d.read.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list requests: %w", err)
	}
	defer rows.Close()
	var records []*simulator.RequestRecord
	for rows.Next() {
		var (
			r                    simulator.RequestRecord
			at, duration         int64
			diagnostic, warnings sql.NullString
		)
		if err := rows.Scan(&r.ID, &at, &r.MchID, &r.Method, &r.Target, &r.RequestBody,
			&r.Status, &r.Code, &r.Message, &r.ResponseBody, &diagnostic, &warnings, &duration); err != nil {
			return nil, fmt.Errorf("sqlite: list requests: %w", err)
		}
		r.Time = fromUnixNano(at)
		r.Duration = time.Duration(duration)
		if diagnostic.Valid {
			if err := json.Unmarshal([]byte(diagnostic.String), &r.Diagnostic); err != nil {
				return nil, fmt.Errorf("sqlite: list requests: request %d diagnostic: %w", r.ID, err)
			}
		}
		if warnings.Valid {
			if err := json.Unmarshal([]byte(warnings.String), &r.Warnings); err != nil {
				return nil, fmt.Errorf("sqlite: list requests: request %d warnings: %w", r.ID, err)
			}
		}
		records = append(records, &r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list requests: %w", err)
	}
	return records, nil
}
