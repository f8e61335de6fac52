package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
)

// where collects the conditions of a list query. A filter field left empty matches everything.
type where struct {
	conds []string
	args  []any
}

// eq adds "column = value" unless value is empty.
func (w *where) eq(column, value string) {
	if value != "" {
		w.add(column+" = ?", value)
	}
}

// before keeps the rows listed after the row whose idColumn is id in a list ordered newest
// first by created_at then rowid: the next page of a listing whose previous page ended at id.
// alias is the listed table's alias in the query with its dot ("v."), or "". An id that names
// no row (deleted since) matches nothing, which ends the listing.
func (w *where) before(alias, table, idColumn, id string) {
	if id != "" {
		w.add("("+alias+"created_at, "+alias+"rowid) < (SELECT created_at, rowid FROM "+table+" WHERE "+idColumn+" = ?)", id)
	}
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

// query is selectFrom with the conditions, then order and the limit n.
func (w *where) query(selectFrom, order string, n int) (string, []any) {
	q := selectFrom
	if len(w.conds) > 0 {
		q += " WHERE " + strings.Join(w.conds, " AND ")
	}
	return q + " ORDER BY " + order + " LIMIT ?", append(w.args, limit(n))
}

// listRows runs a query on the read pool and makes a T of each row with scan.
func listRows[T any](ctx context.Context, d *DB, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	return queryRows(ctx, d.read, what, query, args, scan)
}

// rowsQueryer is what queryRows needs of a *sql.DB or a *sql.Tx.
type rowsQueryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// queryRows runs a query on q (the read pool, or a transaction that reads what it decides on)
// and makes a T of each row with scan.
func queryRows[T any](ctx context.Context, q rowsQueryer, what, query string, args []any, scan func(scanner) (T, error)) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: list %s: %w", what, err)
	}
	return out, nil
}

// listData runs a query that selects one data column and decodes each row with decode.
func listData[T any](ctx context.Context, d *DB, what, query string, args []any, decode func(string) (T, error)) ([]T, error) {
	return listRows(ctx, d, what, query, args, dataColumn(decode))
}

// dataColumn scans a row's one data column and decodes it with decode.
func dataColumn[T any](decode func(string) (T, error)) func(scanner) (T, error) {
	return func(row scanner) (T, error) {
		var data string
		if err := row.Scan(&data); err != nil {
			var zero T
			return zero, err
		}
		return decode(data)
	}
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// decodeJSON decodes a data column holding the JSON of a T.
func decodeJSON[T any](data string) (*T, error) {
	var v T
	if err := json.Unmarshal([]byte(data), &v); err != nil {
		return nil, err
	}
	return &v, nil
}
