package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/mattn/go-sqlite3"

	"github.com/payscore-sim/payscore-sim/simulator"
)

var _ simulator.PermissionStore = (*DB)(nil)

// The permissions table keeps a permission's JSON in data and copies into columns what the
// lookups and constraints need: the (mchid, service_id, authorization_code) key, the openid and
// state (one AVAILABLE permission per user, appid and service), and the live token.

func permissionNotExist(key, value string) *simulator.Error {
	// Production answers a missing authorization record with ORDER_NOT_EXIST (HTTP 404)
	// "请求操作的授权记录不存在", as merchants have reported on WeChat's developer community.
	return simulator.Errorf(simulator.CodeOrderNotExist, "请求操作的授权记录不存在").With(key, value)
}

// permissionConflict turns the violation of "one AVAILABLE permission per user, appid and
// service" into the client's error; other errors pass unchanged.
func permissionConflict(err error, p *simulator.Permission) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique && strings.Contains(se.Error(), "permissions.openid") {
		return simulator.Errorf(simulator.CodeInvalidRequest, "用户已开启该服务").
			With("openid", p.OpenID).
			With("issue", fmt.Sprintf("openid %s already has an authorization in force for service_id %s under appid %s; a user has one authorization per service: terminate it first",
				p.OpenID, p.ServiceID, p.AppID))
	}
	return err
}

func encodePermission(p *simulator.Permission) (string, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return "", fmt.Errorf("encode permission %s: %w", p.ID, err)
	}
	return string(b), nil
}

func decodePermission(data string) (*simulator.Permission, error) {
	var p simulator.Permission
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		return nil, fmt.Errorf("decode permission: %w", err)
	}
	return &p, nil
}

// loadPermission runs a query selecting one permission's data column, turning no row into
// ORDER_NOT_EXIST naming key=value.
func loadPermission(ctx context.Context, q queryer, key, value, query string, args ...any) (*simulator.Permission, error) {
	var data string
	err := q.QueryRowContext(ctx, query, args...).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, permissionNotExist(key, value)
	}
	if err != nil {
		return nil, err
	}
	return decodePermission(data)
}

const selectPermissionByCode = `SELECT data FROM permissions WHERE mchid = ? AND service_id = ? AND authorization_code = ?`

// CreatePermission stores p unless the merchant already has a permission with its service_id
// and authorization_code; then it returns that one and created false.
func (d *DB) CreatePermission(ctx context.Context, p *simulator.Permission) (*simulator.Permission, bool, error) {
	stored, created, err := d.createPermission(ctx, p)
	if err != nil {
		return nil, false, wrapUnlessDomain(err, "sqlite: create permission %s/%s/%s: %w", p.MchID, p.ServiceID, p.AuthorizationCode)
	}
	return stored, created, nil
}

func (d *DB) createPermission(ctx context.Context, p *simulator.Permission) (*simulator.Permission, bool, error) {
	data, err := encodePermission(p)
	if err != nil {
		return nil, false, err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, false, err
	}
	defer tx.Rollback()
	// The conflict target is the key only, so that a clash on the token or a second
	// AVAILABLE permission of one user still fails.
	res, err := tx.ExecContext(ctx, `
		INSERT INTO permissions (id, mchid, service_id, appid, authorization_code, openid, state, token, created_at, updated_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mchid, service_id, authorization_code) DO NOTHING`,
		p.ID, p.MchID, p.ServiceID, p.AppID, p.AuthorizationCode, p.OpenID, string(p.State), nullIfEmpty(p.Token),
		unixNano(p.CreatedAt), unixNano(p.UpdatedAt), data)
	if err != nil {
		return nil, false, permissionConflict(err, p)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nil, false, err
	}
	if n == 1 {
		if err := insertOutbox(ctx, tx, &p.Outbox); err != nil {
			return nil, false, err
		}
		return p, true, tx.Commit()
	}
	stored, err := loadPermission(ctx, tx, "authorization_code", p.AuthorizationCode, selectPermissionByCode, p.MchID, p.ServiceID, p.AuthorizationCode)
	if err != nil {
		return nil, false, err
	}
	return stored, false, tx.Commit()
}

// FindPermission returns the merchant's permission of a service by authorization_code.
func (d *DB) FindPermission(ctx context.Context, mchid, serviceID, code string) (*simulator.Permission, error) {
	p, err := loadPermission(ctx, d.read, "authorization_code", code, selectPermissionByCode, mchid, serviceID, code)
	return p, wrapUnlessDomain(err, "sqlite: find permission %s/%s/%s: %w", mchid, serviceID, code)
}

// FindPermissionByOpenID returns the user's AVAILABLE permission, else the user's most recently
// changed one.
func (d *DB) FindPermissionByOpenID(ctx context.Context, mchid, appid, serviceID, openid string) (*simulator.Permission, error) {
	p, err := loadPermission(ctx, d.read, "openid", openid, `
		SELECT data FROM permissions WHERE mchid = ? AND appid = ? AND service_id = ? AND openid = ?
		ORDER BY state = 'AVAILABLE' DESC, updated_at DESC, created_at DESC LIMIT 1`,
		mchid, appid, serviceID, openid)
	return p, wrapUnlessDomain(err, "sqlite: find permission of openid %s: %w", openid)
}

// FindPermissionByToken returns the permission whose live token is token.
func (d *DB) FindPermissionByToken(ctx context.Context, token string) (*simulator.Permission, error) {
	p, err := loadPermission(ctx, d.read, "apply_permissions_token", token, `SELECT data FROM permissions WHERE token = ?`, token)
	return p, wrapUnlessDomain(err, "sqlite: find permission by token: %w")
}

// UpdatePermission loads a permission, lets fn change it and saves it with the notifications fn
// queued, in one write transaction.
func (d *DB) UpdatePermission(ctx context.Context, id string, fn func(*simulator.Permission) error) (*simulator.Permission, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update permission %s: %w", id, err)
	}
	defer tx.Rollback()
	p, err := loadPermission(ctx, tx, "id", id, `SELECT data FROM permissions WHERE id = ?`, id)
	if err != nil {
		return nil, wrapUnlessDomain(err, "sqlite: update permission %s: %w", id)
	}
	if err := fn(p); err != nil {
		return nil, err
	}
	if err := savePermission(ctx, tx, id, p); err != nil {
		return nil, wrapUnlessDomain(err, "sqlite: update permission %s: %w", id)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update permission %s: %w", id, err)
	}
	return p, nil
}

func savePermission(ctx context.Context, tx *sql.Tx, id string, p *simulator.Permission) error {
	if p.ID != id {
		return fmt.Errorf("fn changed the permission's id to %s", p.ID)
	}
	data, err := encodePermission(p)
	if err != nil {
		return err
	}
	// The key columns (mchid, service_id, authorization_code) are not rewritten.
	_, err = tx.ExecContext(ctx, `
		UPDATE permissions SET appid = ?, openid = ?, state = ?, token = ?, updated_at = ?, data = ?
		WHERE id = ?`,
		p.AppID, p.OpenID, string(p.State), nullIfEmpty(p.Token), unixNano(p.UpdatedAt), data, id)
	if err != nil {
		return permissionConflict(err, p)
	}
	return insertOutbox(ctx, tx, &p.Outbox)
}

// ListPermissions returns permissions newest first.
func (d *DB) ListPermissions(ctx context.Context, f simulator.PermissionFilter) ([]*simulator.Permission, error) {
	var w where
	w.eq("mchid", f.MchID)
	w.eq("service_id", f.ServiceID)
	w.eq("appid", f.AppID)
	w.eq("openid", f.OpenID)
	w.eq("authorization_code", f.AuthorizationCode)
	w.eq("state", string(f.State))
	w.before("", "permissions", "id", f.Before)
	query, args := w.query("SELECT data FROM permissions", "created_at DESC, rowid DESC", f.Limit)
	return listData(ctx, d, "permissions", query, args, decodePermission)
}
