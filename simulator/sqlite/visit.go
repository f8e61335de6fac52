package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var _ simulator.VisitStore = (*DB)(nil)

func visitNotExist(id string) *simulator.Error {
	return simulator.Errorf(simulator.CodeVisitNotExist, "访问不存在").With("visit_id", id)
}

// CreateVisit stores v, tied to its order.
func (d *DB) CreateVisit(ctx context.Context, v *simulator.Visit) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("sqlite: create visit: %w", err)
	}
	res, err := d.db.ExecContext(ctx, `
		INSERT INTO visits (id, order_rowid, mchid, created_at, data)
		SELECT ?, id, ?, ?, ? FROM orders WHERE mchid = ? AND out_order_no = ?`,
		v.ID, v.MchID, unixNano(v.CreatedAt), string(data), v.MchID, v.OutOrderNo)
	if err != nil {
		return fmt.Errorf("sqlite: create visit: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("sqlite: create visit: order %s/%s not found (%v)", v.MchID, v.OutOrderNo, err)
	}
	return nil
}

// loadVisitWith loads a visit and what it acts on (its order, or for wxpayScoreEnable its
// permission) with query, which selects the two data columns of the visit id.
func loadVisitWith[T any](ctx context.Context, q queryer, id, query string, decode func(string) (T, error)) (*simulator.Visit, T, error) {
	var zero T
	var vdata, odata string
	err := q.QueryRowContext(ctx, query, id).Scan(&vdata, &odata)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, zero, visitNotExist(id)
	}
	if err != nil {
		return nil, zero, fmt.Errorf("sqlite: load visit %s: %w", id, err)
	}
	var v simulator.Visit
	if err := json.Unmarshal([]byte(vdata), &v); err != nil {
		return nil, zero, fmt.Errorf("sqlite: decode visit %s: %w", id, err)
	}
	o, err := decode(odata)
	if err != nil {
		return nil, zero, fmt.Errorf("sqlite: load visit %s: %w", id, err)
	}
	return &v, o, nil
}

func loadVisit(ctx context.Context, q queryer, id string) (*simulator.Visit, *simulator.Order, error) {
	return loadVisitWith(ctx, q, id, `SELECT v.data, o.data FROM visits v JOIN orders o ON o.id = v.order_rowid WHERE v.id = ?`, decodeOrder)
}

// FindVisit returns the visit and its order, or VISIT_NOT_EXIST.
func (d *DB) FindVisit(ctx context.Context, id string) (*simulator.Visit, *simulator.Order, error) {
	return loadVisit(ctx, d.read, id)
}

// UpdateVisit changes a visit and its order in one write transaction, so that the user's
// action and the order's transition are saved together or not at all.
func (d *DB) UpdateVisit(ctx context.Context, id string, fn func(*simulator.Visit, *simulator.Order) error) (*simulator.Visit, *simulator.Order, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	defer tx.Rollback()
	v, o, err := loadVisit(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	mchid, outOrderNo := o.MchID, o.OutOrderNo
	if err := fn(v, o); err != nil {
		return nil, nil, err
	}
	data, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE visits SET data = ? WHERE id = ?`, string(data), id); err != nil {
		return nil, nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	if err := saveOrder(ctx, tx, mchid, outOrderNo, o); err != nil {
		return nil, nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	return v, o, nil
}

// ListVisits returns visits newest first: those of orders and those of authorizations
// (wxpayScoreEnable), which are kept apart because they have no order.
func (d *DB) ListVisits(ctx context.Context, f simulator.VisitFilter) ([]*simulator.Visit, error) {
	var w where
	w.eq("mchid", f.MchID)
	w.eq("out_order_no", f.OutOrderNo)
	query, args := w.query(`SELECT data FROM (
		SELECT v.data, v.mchid, o.out_order_no, v.created_at, v.rowid AS n FROM visits v JOIN orders o ON o.id = v.order_rowid
		UNION ALL
		SELECT data, mchid, '' AS out_order_no, created_at, rowid AS n FROM permission_visits)`, "created_at DESC, n DESC", f.Limit)
	return listData(ctx, d, "visits", query, args, decodeJSON[simulator.Visit])
}
