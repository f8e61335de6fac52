package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var _ simulator.Resetter = (*DB)(nil)

// resetStep deletes one table's rows: where is the condition for one merchant's (it takes the
// mchid as its only parameter) and all is used for a full reset. count names the ResetCounts
// field the deleted rows add to, if any.
type resetStep struct {
	table string
	where string
	count func(*simulator.ResetCounts) *int64
}

// resetSteps delete children before their parents, so the foreign keys hold at every
// statement and nothing depends on ON DELETE CASCADE. A table added by a migration must be
// added here too; TestResetEmptiesEveryTable fails until it is.
var resetSteps = []resetStep{
	{"delivery_attempts", `notification_id IN (SELECT id FROM notifications WHERE mchid = ?)`, nil},
	{"notifications", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Notifications }},
	{"refunds", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Refunds }},
	{"transactions", `mchid = ?`, nil},
	{"visits", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Visits }},
	{"query_ids", `order_rowid IN (SELECT id FROM orders WHERE mchid = ?)`, nil},
	{"orders", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Orders }},
	{"permissions", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Permissions }},
	{"requests", `mchid = ?`, func(c *simulator.ResetCounts) *int64 { return &c.Requests }},
	{"merchant_clocks", `mchid = ?`, nil},
}

// Reset deletes merchant mchid's visits, refunds, orders (with their query_ids and
// transactions), notifications (with their delivery attempts), permissions, logged requests and
// clock offset, in one transaction. mchid "" deletes every merchant's, and requests that named
// no merchant. Registered merchants stay: they are configuration, not records.
func (d *DB) Reset(ctx context.Context, mchid string) (simulator.ResetCounts, error) {
	counts, err := d.reset(ctx, mchid)
	if err != nil {
		return simulator.ResetCounts{}, fmt.Errorf("sqlite: reset: %w", err)
	}
	return counts, nil
}

func (d *DB) reset(ctx context.Context, mchid string) (simulator.ResetCounts, error) {
	var counts simulator.ResetCounts
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return counts, err
	}
	defer tx.Rollback()
	for _, step := range resetSteps {
		var res sql.Result
		if mchid == "" {
			res, err = tx.ExecContext(ctx, `DELETE FROM `+step.table)
		} else {
			res, err = tx.ExecContext(ctx, `DELETE FROM `+step.table+` WHERE `+step.where, mchid)
		}
		if err != nil {
			return counts, fmt.Errorf("%s: %w", step.table, err)
		}
		n, err := res.RowsAffected()
		if err != nil {
			return counts, fmt.Errorf("%s: %w", step.table, err)
		}
		if step.count != nil {
			*step.count(&counts) += n
		}
	}
	return counts, tx.Commit()
}
