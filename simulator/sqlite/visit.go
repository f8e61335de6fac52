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

// The visits table keeps a visit's JSON in data and ties it to its subject: order_rowid for a
// visit of an order, permission_id for a wxpayScoreEnable visit; a CHECK keeps exactly one set.
// The subject is loaded with the visit by a join and saved with it, never stored in data.

func visitNotExist(id string) *simulator.Error {
	return simulator.Errorf(simulator.CodeVisitNotExist, "访问不存在").With("visit_id", id)
}

// CreateVisit stores v, tied to its order or its permission.
func (d *DB) CreateVisit(ctx context.Context, v *simulator.Visit) error {
	if err := d.createVisit(ctx, v); err != nil {
		return fmt.Errorf("sqlite: create visit %s: %w", v.ID, err)
	}
	return nil
}

func (d *DB) createVisit(ctx context.Context, v *simulator.Visit) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var res sql.Result
	switch o, p := v.Order, v.Permission; {
	case o != nil && p == nil:
		res, err = d.db.ExecContext(ctx, `
			INSERT INTO visits (id, order_rowid, mchid, created_at, data)
			SELECT ?, id, mchid, ?, ? FROM orders WHERE mchid = ? AND out_order_no = ?`,
			v.ID, unixNano(v.CreatedAt), string(data), o.MchID, o.OutOrderNo)
	case p != nil && o == nil:
		res, err = d.db.ExecContext(ctx, `
			INSERT INTO visits (id, permission_id, mchid, created_at, data)
			SELECT ?, id, mchid, ?, ? FROM permissions WHERE id = ?`,
			v.ID, unixNano(v.CreatedAt), string(data), p.ID)
	default:
		return errors.New("a visit needs exactly one subject, an order or a permission")
	}
	if err != nil {
		return err
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("its subject is not stored (%v)", err)
	}
	return nil
}

// selectVisits selects a visit's data and its subject's: one of the two is NULL.
const selectVisits = `
	SELECT v.data, o.data, p.data FROM visits v
	LEFT JOIN orders o ON o.id = v.order_rowid
	LEFT JOIN permissions p ON p.id = v.permission_id`

// scanVisit decodes a row of selectVisits.
func scanVisit(row scanner) (*simulator.Visit, error) {
	var vdata string
	var odata, pdata sql.NullString
	if err := row.Scan(&vdata, &odata, &pdata); err != nil {
		return nil, err
	}
	var v simulator.Visit
	if err := json.Unmarshal([]byte(vdata), &v); err != nil {
		return nil, fmt.Errorf("decode visit: %w", err)
	}
	var err error
	switch {
	case odata.Valid:
		v.Order, err = decodeOrder(odata.String)
	case pdata.Valid:
		v.Permission, err = decodePermission(pdata.String)
	default:
		err = fmt.Errorf("visit %s has no subject", v.ID)
	}
	return &v, err
}

func loadVisit(ctx context.Context, q queryer, id string) (*simulator.Visit, error) {
	v, err := scanVisit(q.QueryRowContext(ctx, selectVisits+` WHERE v.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, visitNotExist(id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: load visit %s: %w", id, err)
	}
	return v, nil
}

// FindVisit returns the visit with its subject, or VISIT_NOT_EXIST.
func (d *DB) FindVisit(ctx context.Context, id string) (*simulator.Visit, error) {
	return loadVisit(ctx, d.read, id)
}

// UpdateVisit changes a visit and its subject in one write transaction, so that the user's
// action and the order's or permission's transition (with its notifications) are saved
// together or not at all.
func (d *DB) UpdateVisit(ctx context.Context, id string, fn func(*simulator.Visit) error) (*simulator.Visit, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	defer tx.Rollback()
	v, err := loadVisit(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	saveSubject := subjectSaver(v)
	if err := fn(v); err != nil {
		return nil, err
	}
	if err := saveVisit(ctx, tx, id, v, saveSubject); err != nil {
		return nil, wrapUnlessDomain(err, "sqlite: update visit %s: %w", id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update visit %s: %w", id, err)
	}
	return v, nil
}

// subjectSaver returns what saves the visit's subject as loaded, under the key it was loaded
// by: the save refuses an fn that changed the key, and a subject fn swapped for another is
// not saved.
func subjectSaver(v *simulator.Visit) func(context.Context, *sql.Tx) error {
	if o := v.Order; o != nil {
		mchid, outOrderNo := o.MchID, o.OutOrderNo
		return func(ctx context.Context, tx *sql.Tx) error { return saveOrder(ctx, tx, mchid, outOrderNo, o) }
	}
	p := v.Permission
	id := p.ID
	return func(ctx context.Context, tx *sql.Tx) error { return savePermission(ctx, tx, id, p) }
}

// saveVisit saves visit id as v and its subject with saveSubject.
func saveVisit(ctx context.Context, tx *sql.Tx, id string, v *simulator.Visit, saveSubject func(context.Context, *sql.Tx) error) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE visits SET data = ? WHERE id = ?`, string(data), id); err != nil {
		return err
	}
	return saveSubject(ctx, tx)
}

// ListVisits returns visits newest first, each with its subject.
func (d *DB) ListVisits(ctx context.Context, f simulator.VisitFilter) ([]*simulator.Visit, error) {
	var w where
	w.eq("v.mchid", f.MchID)
	w.eq("o.out_order_no", f.OutOrderNo)
	w.before("v.", "visits", "id", f.Before)
	query, args := w.query(selectVisits, "v.created_at DESC, v.rowid DESC", f.Limit)
	return listRows(ctx, d, "visits", query, args, scanVisit)
}
