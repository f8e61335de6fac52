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

// orderData is what the data column holds: the wire form, whose JSON leaves out Sim, and Sim
// beside it, so one column restores the whole Order.
type orderData struct {
	simulator.Order
	Sim simData `json:"sim"`
}

// simData stores OrderRecord under its own tags, except where those would lose the difference
// between nil and empty.
type simData struct {
	simulator.OrderRecord
	// As bytes (base64), so that they come back exactly: as JSON a RawMessage is compacted
	// and HTML-escaped, and nil comes back as "null".
	CreateParams   []byte `json:"create_params"`
	CompleteParams []byte `json:"complete_params,omitempty"`
	// omitempty would bring [] back as nil.
	Warnings []string `json:"warnings"`
}

func encodeOrder(o *simulator.Order) (string, error) {
	b, err := json.Marshal(orderData{
		Order: *o,
		Sim: simData{
			OrderRecord:    o.Sim,
			CreateParams:   o.Sim.CreateParams,
			CompleteParams: o.Sim.CompleteParams,
			Warnings:       o.Sim.Warnings,
		},
	})
	if err != nil {
		return "", fmt.Errorf("encode order %s: %w", o.OutOrderNo, err)
	}
	return string(b), nil
}

func decodeOrder(data string) (*simulator.Order, error) {
	var d orderData
	if err := json.Unmarshal([]byte(data), &d); err != nil {
		return nil, fmt.Errorf("decode order: %w", err)
	}
	o := d.Order
	o.Sim = d.Sim.OrderRecord
	o.Sim.CreateParams = d.Sim.CreateParams
	o.Sim.CompleteParams = d.Sim.CompleteParams
	o.Sim.Warnings = d.Sim.Warnings
	return &o, nil
}

// nullIfEmpty stores an order without a package as NULL, which the UNIQUE constraint lets
// repeat.
func nullIfEmpty(s string) sql.NullString {
	return sql.NullString{String: s, Valid: s != ""}
}

func orderNotExist(key, value string) *simulator.Error {
	return simulator.Errorf(simulator.CodeOrderNotExist, "订单不存在").With(key, value)
}

// queryer is what the order lookups need from either a *sql.DB or a *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// loadOrder runs a query selecting one order's data column, turning no row into
// ORDER_NOT_EXIST naming key=value.
func loadOrder(ctx context.Context, q queryer, key, value, query string, args ...any) (*simulator.Order, error) {
	var data string
	err := q.QueryRowContext(ctx, query, args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, orderNotExist(key, value)
	}
	if err != nil {
		return nil, err
	}
	return decodeOrder(data)
}

const selectByOutOrderNo = `SELECT data FROM orders WHERE mchid = ? AND out_order_no = ?`

// CreateOrder stores o unless the merchant already has an order numbered o.OutOrderNo; then it
// returns that order and created false. An order_id or package that another order already has
// is an error.
func (d *DB) CreateOrder(ctx context.Context, o *simulator.Order) (*simulator.Order, bool, error) {
	stored, created, err := d.createOrder(ctx, o)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create order %s/%s: %w", o.MchID, o.OutOrderNo, err)
	}
	return stored, created, nil
}

func (d *DB) createOrder(ctx context.Context, o *simulator.Order) (*simulator.Order, bool, error) {
	data, err := encodeOrder(o)
	if err != nil {
		return nil, false, err
	}
	if len(o.Sim.Outbox) == 0 && len(o.Sim.Deductions) == 0 {
		// Most new orders queue no notification and hold no deduction: then the insert alone is
		// the whole write, which goes in the queue of writes committed together (see
		// writeQueue); alone, it is a transaction of its own, one call into SQLite instead of
		// three (BEGIN, INSERT, COMMIT) on the one writing connection. A repeated out_order_no
		// falls through to the transaction, which reads the stored order.
		var n int64
		err := d.writes.write(ctx, d, &queuedWrite{exec: func(ctx context.Context, e execer) (err error) {
			n, err = insertOrder(ctx, e, o, data)
			return err
		}})
		if err != nil {
			return nil, false, err
		}
		if n == 1 {
			o.Sim.Outbox = nil
			return o, true, nil
		}
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()

	n, err := insertOrder(ctx, tx, o, data)
	if err != nil {
		return nil, false, err
	}
	if n == 1 {
		if err := insertOutbox(ctx, tx, &o.Sim.Outbox); err != nil {
			return nil, false, err
		}
		if err := saveTransactions(ctx, tx, o); err != nil {
			return nil, false, err
		}
		return o, true, tx.Commit()
	}
	stored, err := loadOrder(ctx, tx, "out_order_no", o.OutOrderNo, selectByOutOrderNo, o.MchID, o.OutOrderNo)
	if err != nil {
		return nil, false, err
	}
	return stored, false, tx.Commit()
}

// execer is what an insert needs from either a *sql.DB or a *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// insertOrder inserts o, whose data column is data, unless the merchant already has an order
// numbered o.OutOrderNo, and returns the rows inserted: 1, or 0 for that repeat. The conflict
// target is (mchid, out_order_no) only, so a clash on order_id or package still fails.
func insertOrder(ctx context.Context, e execer, o *simulator.Order, data string) (int64, error) {
	res, err := e.ExecContext(ctx, `
		INSERT INTO orders (mchid, out_order_no, order_id, package, state, created_at, updated_at, deduct_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mchid, out_order_no) DO NOTHING`,
		o.MchID, o.OutOrderNo, o.OrderID, nullIfEmpty(o.Sim.Package), string(o.State),
		unixNano(o.Sim.CreatedAt), unixNano(o.Sim.UpdatedAt), deductAt(o), data)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// FindOrder returns the merchant's order named by key, or an ORDER_NOT_EXIST *simulator.Error
// whose detail names the out_order_no or query_id. A query_id of another merchant's order is
// not found.
func (d *DB) FindOrder(ctx context.Context, mchid string, key simulator.OrderKey) (*simulator.Order, error) {
	var (
		o   *simulator.Order
		err error
	)
	switch {
	case key.OutOrderNo != "" && key.QueryID == "":
		o, err = loadOrder(ctx, d.read, "out_order_no", key.OutOrderNo, selectByOutOrderNo, mchid, key.OutOrderNo)
	case key.QueryID != "" && key.OutOrderNo == "":
		o, err = loadOrder(ctx, d.read, "query_id", key.QueryID, `
			SELECT o.data FROM query_ids q JOIN orders o ON o.id = q.order_rowid
			WHERE q.query_id = ? AND o.mchid = ?`,
			key.QueryID, mchid)
	default:
		err = fmt.Errorf("key must give exactly one of out_order_no and query_id, got %+v", key)
	}
	return o, wrapUnlessDomain(err, "sqlite: find order %s: %w", mchid)
}

// FindOrderByPackage returns the order whose package is pkg, or an ORDER_NOT_EXIST
// *simulator.Error whose detail names the package. The front end knows only the package.
func (d *DB) FindOrderByPackage(ctx context.Context, pkg string) (*simulator.Order, error) {
	o, err := loadOrder(ctx, d.read, "package", pkg, `SELECT data FROM orders WHERE package = ?`, pkg)
	return o, wrapUnlessDomain(err, "sqlite: find order by package: %w")
}

// UpdateOrder loads the merchant's order, lets fn change it and saves it, in one write
// transaction, so concurrent updates of an order apply one after another. If fn returns an
// error nothing is saved and the error is returned as it is.
func (d *DB) UpdateOrder(ctx context.Context, mchid, outOrderNo string, fn func(*simulator.Order) error) (*simulator.Order, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update order %s/%s: %w", mchid, outOrderNo, err)
	}
	defer tx.Rollback()

	o, err := loadOrder(ctx, tx, "out_order_no", outOrderNo, selectByOutOrderNo, mchid, outOrderNo)
	if err != nil {
		return nil, wrapUnlessDomain(err, "sqlite: update order %s/%s: %w", mchid, outOrderNo)
	}
	if err := fn(o); err != nil {
		return nil, err
	}
	if err := saveOrder(ctx, tx, mchid, outOrderNo, o); err != nil {
		return nil, fmt.Errorf("sqlite: update order %s/%s: %w", mchid, outOrderNo, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update order %s/%s: %w", mchid, outOrderNo, err)
	}
	return o, nil
}

func saveOrder(ctx context.Context, tx *sql.Tx, mchid, outOrderNo string, o *simulator.Order) error {
	// The key columns are not rewritten, so an fn that changed them would leave data saying
	// one thing and the columns another.
	if o.MchID != mchid || o.OutOrderNo != outOrderNo {
		return fmt.Errorf("fn changed the order's mchid or out_order_no to %s/%s", o.MchID, o.OutOrderNo)
	}
	data, err := encodeOrder(o)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `
		UPDATE orders SET order_id = ?, state = ?, updated_at = ?, package = ?, deduct_at = ?, data = ?
		WHERE mchid = ? AND out_order_no = ?`,
		o.OrderID, string(o.State), unixNano(o.Sim.UpdatedAt), nullIfEmpty(o.Sim.Package), deductAt(o), data,
		mchid, outOrderNo)
	if err != nil {
		return err
	}
	if err := insertOutbox(ctx, tx, &o.Sim.Outbox); err != nil {
		return err
	}
	if err := saveTransactions(ctx, tx, o); err != nil {
		return err
	}
	// Query IDs are only ever added, so the ones saved before are skipped.
	for _, q := range o.Sim.QueryIDs {
		_, err := tx.ExecContext(ctx, `
			INSERT INTO query_ids (query_id, order_rowid)
			SELECT ?, id FROM orders WHERE mchid = ? AND out_order_no = ?
			ON CONFLICT (query_id) DO NOTHING`,
			q, mchid, outOrderNo)
		if err != nil {
			return fmt.Errorf("save query_id %s: %w", q, err)
		}
	}
	return nil
}

// ListOrders returns orders newest first by CreatedAt.
func (d *DB) ListOrders(ctx context.Context, f simulator.OrderFilter) ([]*simulator.Order, error) {
	query, args := ordersQuery(f)
	return listData(ctx, d, "orders", query, args, decodeOrder)
}

// ordersQuery is the query of ListOrders.
func ordersQuery(f simulator.OrderFilter) (string, []any) {
	var w where
	w.eq("mchid", f.MchID)
	w.eq("state", string(f.State))
	w.before("", "orders", "order_id", f.Before)
	if !f.CreatedBefore.IsZero() {
		w.add("created_at < ?", unixNano(f.CreatedBefore))
	}
	if !f.DeductionDueBy.IsZero() {
		// Due by its merchant's clock, a correlated bound no index can search by. So the query
		// also says what the partial index orders_deduct_at holds (deduct_at IS NOT NULL) and a
		// bound for every merchant (the latest clock), which SQLite searches that index by:
		// given the merchant's bound alone, it read every order, by orders_created_at, each
		// time the deductions' runner looked (every second at least).
		due := unixNano(f.DeductionDueBy)
		w.add("deduct_at IS NOT NULL AND deduct_at <= ? + (SELECT max(0, coalesce(max(offset_ns), 0)) FROM merchant_clocks) AND deduct_at <= ? + "+clockOffset("orders"), due, due)
	}
	return w.query("SELECT data FROM orders", "created_at DESC, id DESC", f.Limit)
}

// NextDeductionDue returns the real time at which the earliest pending deduction comes due by
// its merchant's clock.
func (d *DB) NextDeductionDue(ctx context.Context) (time.Time, bool, error) {
	return d.nextDue(ctx, "next deduction due", "orders", "deduct_at", "deduct_at IS NOT NULL")
}

// deductAt is the deduct_at column of o: its pending deduction's due time, or NULL.
func deductAt(o *simulator.Order) sql.NullInt64 {
	t, ok := o.DeductionDue()
	return sql.NullInt64{Int64: unixNano(t), Valid: ok}
}

// wrapUnlessDomain adds context to err, except to a *simulator.Error, which the caller hands to
// the client as it is.
func wrapUnlessDomain(err error, format string, args ...any) error {
	var e *simulator.Error
	if err == nil || errors.As(err, &e) {
		return err
	}
	return fmt.Errorf(format, append(args, err)...)
}
