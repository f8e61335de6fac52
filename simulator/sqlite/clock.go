package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var _ simulator.ClockStore = (*DB)(nil)

// clockOffset is the SQL of the clock offset of the merchant of a row of table (which has an
// mchid column): a due time in the merchant's simulated time is due at the real time now when
// due <= now + clockOffset.
func clockOffset(table string) string {
	return `COALESCE((SELECT offset_ns FROM merchant_clocks WHERE merchant_clocks.mchid = ` + table + `.mchid), 0)`
}

// ClockOffsets returns the saved clock offsets by mchid.
func (d *DB) ClockOffsets(ctx context.Context) (map[string]time.Duration, error) {
	rows, err := d.read.QueryContext(ctx, `SELECT mchid, offset_ns FROM merchant_clocks`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: clock offsets: %w", err)
	}
	defer rows.Close()
	offsets := map[string]time.Duration{}
	for rows.Next() {
		var mchid string
		var ns int64
		if err := rows.Scan(&mchid, &ns); err != nil {
			return nil, fmt.Errorf("sqlite: clock offsets: %w", err)
		}
		offsets[mchid] = time.Duration(ns)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: clock offsets: %w", err)
	}
	return offsets, nil
}

// SaveClockOffset saves merchant mchid's clock offset.
func (d *DB) SaveClockOffset(ctx context.Context, mchid string, offset time.Duration) error {
	_, err := d.db.ExecContext(ctx, `INSERT INTO merchant_clocks (mchid, offset_ns) VALUES (?, ?)
		ON CONFLICT (mchid) DO UPDATE SET offset_ns = excluded.offset_ns`, mchid, int64(offset))
	if err != nil {
		return fmt.Errorf("sqlite: save clock offset of merchant %s: %w", mchid, err)
	}
	return nil
}

// nextDue returns the real time at which the earliest row of table matching cond comes due by
// its merchant's clock, its due column being in the merchant's simulated time; false when no
// row matches. what names the query in errors.
func (d *DB) nextDue(ctx context.Context, what, table, due, cond string) (time.Time, bool, error) {
	var next sql.NullInt64
	err := d.read.QueryRowContext(ctx, `SELECT MIN(`+due+` - `+clockOffset(table)+`) FROM `+table+` WHERE `+cond).Scan(&next)
	if err != nil {
		return time.Time{}, false, fmt.Errorf("sqlite: %s: %w", what, err)
	}
	if !next.Valid {
		return time.Time{}, false, nil
	}
	return time.Unix(0, next.Int64), true, nil
}
