package sqlite

import (
	"context"
	"fmt"
	"strings"
)

// healthProbeKey is the meta row CheckWritable writes and deletes.
const healthProbeKey = "health-probe"

// CheckWritable writes to the database, as every API call does, and reports why it cannot:
// a read-only file, a full disk. The probe inserts a few pages' worth and deletes them in one
// committed transaction, so it needs pages and WAL space like a real write, and leaves nothing.
func (d *DB) CheckWritable(ctx context.Context) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: the database cannot be written: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)`, healthProbeKey, strings.Repeat("x", 8<<10)); err != nil {
		return fmt.Errorf("sqlite: the database cannot be written: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = ?`, healthProbeKey); err != nil {
		return fmt.Errorf("sqlite: the database cannot be written: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: the database cannot be written: %w", err)
	}
	return nil
}
