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

var _ simulator.MerchantStore = (*DB)(nil)

// CreateMerchant stores a registration unless its mchid is stored already, in which case it
// returns the stored one with created false.
func (d *DB) CreateMerchant(ctx context.Context, r *simulator.MerchantRegistration, at time.Time) (*simulator.MerchantRegistration, bool, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create merchant %s: %w", r.MchID, err)
	}
	res, err := d.db.ExecContext(ctx, `INSERT INTO merchants (mchid, created_at, data) VALUES (?, ?, ?)
		ON CONFLICT (mchid) DO NOTHING`, r.MchID, unixNano(at), string(data))
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create merchant %s: %w", r.MchID, err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return r, n == 1, err
	}
	var stored string
	err = d.db.QueryRowContext(ctx, `SELECT data FROM merchants WHERE mchid = ?`, r.MchID).Scan(&stored)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, fmt.Errorf("sqlite: create merchant %s: it vanished as it was created", r.MchID)
	}
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create merchant %s: %w", r.MchID, err)
	}
	got, err := decodeJSON[simulator.MerchantRegistration](stored)
	if err != nil {
		return nil, false, fmt.Errorf("sqlite: create merchant %s: %w", r.MchID, err)
	}
	return got, false, nil
}

// ListMerchants returns every registration, oldest first.
func (d *DB) ListMerchants(ctx context.Context) ([]*simulator.MerchantRegistration, error) {
	return listData(ctx, d, "merchants", `SELECT data FROM merchants ORDER BY created_at, rowid`, nil,
		decodeJSON[simulator.MerchantRegistration])
}
