package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var _ simulator.RefundStore = (*DB)(nil)

// refundsMigration adds the transactions refunds name and the refunds. A transaction row is
// written with its order whenever a save finds a new deduction in it, so the refund API finds a
// transaction by transaction_id or out_trade_no without reading every order.
const refundsMigration = `CREATE TABLE transactions (
		transaction_id TEXT    PRIMARY KEY,
		mchid          TEXT    NOT NULL,
		out_trade_no   TEXT    NOT NULL,
		order_rowid    INTEGER NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
		data           TEXT    NOT NULL,
		UNIQUE (mchid, out_trade_no)
	);
	CREATE INDEX transactions_order_rowid ON transactions (order_rowid);

	CREATE TABLE refunds (
		id             INTEGER PRIMARY KEY,
		mchid          TEXT    NOT NULL,
		out_refund_no  TEXT    NOT NULL,
		refund_id      TEXT    NOT NULL UNIQUE,
		transaction_id TEXT    NOT NULL,
		out_order_no   TEXT    NOT NULL,
		status         TEXT    NOT NULL,
		due_at         INTEGER NOT NULL,
		created_at     INTEGER NOT NULL,
		data           TEXT    NOT NULL,
		UNIQUE (mchid, out_refund_no)
	);
	CREATE INDEX refunds_transaction_id ON refunds (mchid, transaction_id, created_at);
	-- The refund runner asks for due outcomes with this very condition.
	CREATE INDEX refunds_due ON refunds (due_at) WHERE due_at > 0;
	CREATE INDEX refunds_created_at ON refunds (created_at);
	CREATE INDEX refunds_mchid_created_at ON refunds (mchid, created_at);`

// saveTransactions records the order's deductions through Pay Score; those already recorded
// are kept as they are.
func saveTransactions(ctx context.Context, tx *sql.Tx, o *simulator.Order) error {
	for _, t := range o.Transactions() {
		data, err := json.Marshal(t)
		if err != nil {
			return fmt.Errorf("encode transaction %s: %w", t.TransactionID, err)
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO transactions (transaction_id, mchid, out_trade_no, order_rowid, data)
			SELECT ?, ?, ?, id, ? FROM orders WHERE mchid = ? AND out_order_no = ?
			ON CONFLICT (transaction_id) DO NOTHING`,
			t.TransactionID, t.MchID, t.OutTradeNo, string(data), o.MchID, o.OutOrderNo)
		if err != nil {
			return fmt.Errorf("save transaction %s: %w", t.TransactionID, err)
		}
	}
	return nil
}

// refundData is what a refund's data column holds: the wire form and Sim beside it.
type refundData struct {
	simulator.Refund
	Sim simulator.RefundRecord `json:"sim"`
}

func encodeRefund(r *simulator.Refund) (string, error) {
	b, err := json.Marshal(refundData{Refund: *r, Sim: r.Sim})
	if err != nil {
		return "", fmt.Errorf("encode refund %s: %w", r.OutRefundNo, err)
	}
	return string(b), nil
}

func decodeRefund(data string) (*simulator.Refund, error) {
	var d refundData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("decode refund: %w", err)
	}
	r := d.Refund
	r.Sim = d.Sim
	return &r, nil
}

func refundNotExist(outRefundNo string) *simulator.Error {
	return simulator.Errorf(simulator.CodeResourceNotExists, "退款单不存在").With("out_refund_no", outRefundNo)
}

// loadRefund returns the merchant's refund numbered outRefundNo, or nil.
func loadRefund(ctx context.Context, q queryer, mchid, outRefundNo string) (*simulator.Refund, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM refunds WHERE mchid = ? AND out_refund_no = ?`, mchid, outRefundNo).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeRefund(data)
}

// loadTransaction returns the merchant's transaction named by key, or nil.
func loadTransaction(ctx context.Context, q queryer, mchid string, key simulator.TransactionKey) (*simulator.Transaction, error) {
	column, value := "transaction_id", key.TransactionID
	if value == "" {
		column, value = "out_trade_no", key.OutTradeNo
	}
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM transactions WHERE mchid = ? AND `+column+` = ?`, mchid, value).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return decodeJSON[simulator.Transaction](data)
}

// CreateRefund reads what decide needs and stores what it decides, in one write transaction,
// so that concurrent refunds of one transaction are decided one after another.
func (d *DB) CreateRefund(ctx context.Context, mchid, outRefundNo string, key simulator.TransactionKey, decide func(simulator.RefundCandidate) (*simulator.Refund, error)) (*simulator.Refund, bool, error) {
	r, created, err := d.createRefund(ctx, mchid, outRefundNo, key, decide)
	return r, created, wrapUnlessDomain(err, "sqlite: create refund %s/%s: %w", mchid, outRefundNo)
}

func (d *DB) createRefund(ctx context.Context, mchid, outRefundNo string, key simulator.TransactionKey, decide func(simulator.RefundCandidate) (*simulator.Refund, error)) (*simulator.Refund, bool, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	var c simulator.RefundCandidate
	if c.Existing, err = loadRefund(ctx, tx, mchid, outRefundNo); err != nil {
		return nil, false, err
	}
	if c.Transaction, err = loadTransaction(ctx, tx, mchid, key); err != nil {
		return nil, false, err
	}
	if c.Transaction != nil {
		if c.Refunds, err = transactionRefunds(ctx, tx, mchid, c.Transaction.TransactionID); err != nil {
			return nil, false, err
		}
	}
	r, err := decide(c)
	if err != nil {
		return nil, false, err
	}
	if r == c.Existing {
		return r, false, tx.Commit()
	}
	data, err := encodeRefund(r)
	if err != nil {
		return nil, false, err
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO refunds (mchid, out_refund_no, refund_id, transaction_id, out_order_no, status, due_at, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.Sim.MchID, r.OutRefundNo, r.RefundID, r.TransactionID, r.Sim.OutOrderNo, string(r.Status),
		unixNano(r.Sim.DueAt), unixNano(r.Sim.CreatedAt), data)
	if err != nil {
		return nil, false, err
	}
	if err := insertOutbox(ctx, tx, &r.Sim.Outbox); err != nil {
		return nil, false, err
	}
	return r, true, tx.Commit()
}

// transactionRefunds returns the refunds of a transaction, oldest first, as tx sees them.
func transactionRefunds(ctx context.Context, tx *sql.Tx, mchid, transactionID string) ([]*simulator.Refund, error) {
	return queryRows(ctx, tx, "refunds of transaction "+transactionID,
		`SELECT data FROM refunds WHERE mchid = ? AND transaction_id = ? ORDER BY created_at, id`,
		[]any{mchid, transactionID}, dataColumn(decodeRefund))
}

// FindRefund returns the merchant's refund numbered outRefundNo, or RESOURCE_NOT_EXISTS.
func (d *DB) FindRefund(ctx context.Context, mchid, outRefundNo string) (*simulator.Refund, error) {
	r, err := loadRefund(ctx, d.read, mchid, outRefundNo)
	if err != nil {
		return nil, fmt.Errorf("sqlite: find refund %s/%s: %w", mchid, outRefundNo, err)
	}
	if r == nil {
		return nil, refundNotExist(outRefundNo)
	}
	return r, nil
}

// UpdateRefund loads the merchant's refund, lets fn change it and saves it, in one write
// transaction.
func (d *DB) UpdateRefund(ctx context.Context, mchid, outRefundNo string, fn func(*simulator.Refund) error) (*simulator.Refund, error) {
	r, err := d.updateRefund(ctx, mchid, outRefundNo, fn)
	return r, wrapUnlessDomain(err, "sqlite: update refund %s/%s: %w", mchid, outRefundNo)
}

func (d *DB) updateRefund(ctx context.Context, mchid, outRefundNo string, fn func(*simulator.Refund) error) (*simulator.Refund, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := loadRefund(ctx, tx, mchid, outRefundNo)
	if err != nil {
		return nil, err
	}
	if r == nil {
		return nil, refundNotExist(outRefundNo)
	}
	if err := fn(r); err != nil {
		return nil, err
	}
	if r.Sim.MchID != mchid || r.OutRefundNo != outRefundNo {
		return nil, fmt.Errorf("fn changed the refund's mchid or out_refund_no to %s/%s", r.Sim.MchID, r.OutRefundNo)
	}
	data, err := encodeRefund(r)
	if err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE refunds SET status = ?, due_at = ?, data = ? WHERE mchid = ? AND out_refund_no = ?`,
		string(r.Status), unixNano(r.Sim.DueAt), data, mchid, outRefundNo); err != nil {
		return nil, err
	}
	if err := insertOutbox(ctx, tx, &r.Sim.Outbox); err != nil {
		return nil, err
	}
	return r, tx.Commit()
}

// ListRefunds returns refunds newest first.
func (d *DB) ListRefunds(ctx context.Context, f simulator.RefundFilter) ([]*simulator.Refund, error) {
	var w where
	w.eq("mchid", f.MchID)
	w.eq("out_order_no", f.OutOrderNo)
	w.eq("transaction_id", f.TransactionID)
	w.eq("status", string(f.Status))
	w.before("", "refunds", "refund_id", f.Before)
	query, args := w.query("SELECT data FROM refunds", "created_at DESC, id DESC", f.Limit)
	return listData(ctx, d, "refunds", query, args, decodeRefund)
}

// DueRefunds returns refunds whose outcome is due by their merchant's clock at the real time
// now, earliest first.
func (d *DB) DueRefunds(ctx context.Context, now time.Time, n int) ([]*simulator.Refund, error) {
	var w where
	w.add("due_at > 0")
	w.add("due_at <= ? + "+clockOffset("refunds"), unixNano(now))
	query, args := w.query("SELECT data FROM refunds", "due_at, id", n)
	return listData(ctx, d, "due refunds", query, args, decodeRefund)
}

// NextRefundDue returns the real time at which the earliest pending refund outcome comes due by
// its merchant's clock.
func (d *DB) NextRefundDue(ctx context.Context) (time.Time, bool, error) {
	return d.nextDue(ctx, "next refund due", "refunds", "due_at", "due_at > 0")
}
