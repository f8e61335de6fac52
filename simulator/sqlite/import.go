package sqlite

import (
	"context"
	"fmt"

	"github.com/payscore-sim/payscore-sim/simulator"
)

// ImportOrders stores new orders, and the notifications in their outboxes, in one transaction:
// for tools that fill a database fast, such as the benchmarks' million-order database, where a
// transaction per order would spend most of its time committing. An order whose merchant
// already has its out_order_no (or whose order_id or package another order has) fails the
// whole import. The API stores orders one at a time, through CreateOrder.
func (d *DB) ImportOrders(ctx context.Context, orders []*simulator.Order) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: import orders: %w", err)
	}
	defer tx.Rollback()
	for _, o := range orders {
		data, err := encodeOrder(o)
		if err != nil {
			return fmt.Errorf("sqlite: import orders: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `
			INSERT INTO orders (mchid, out_order_no, order_id, package, state, created_at, updated_at, deduct_at, data)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			o.MchID, o.OutOrderNo, o.OrderID, nullIfEmpty(o.Sim.Package), string(o.State),
			unixNano(o.Sim.CreatedAt), unixNano(o.Sim.UpdatedAt), deductAt(o), data); err != nil {
			return fmt.Errorf("sqlite: import order %s/%s: %w", o.MchID, o.OutOrderNo, err)
		}
		if err := insertOutbox(ctx, tx, &o.Sim.Outbox); err != nil {
			return fmt.Errorf("sqlite: import order %s/%s: %w", o.MchID, o.OutOrderNo, err)
		}
		if err := saveTransactions(ctx, tx, o); err != nil {
			return fmt.Errorf("sqlite: import order %s/%s: %w", o.MchID, o.OutOrderNo, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: import orders: %w", err)
	}
	return nil
}
