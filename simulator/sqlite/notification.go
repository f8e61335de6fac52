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

var _ simulator.NotificationStore = (*DB)(nil)

// insertOutbox saves the notifications a change queued in *outbox (an order's, a permission's
// or a refund's), in the change's transaction, and empties the outbox so that a later save does
// not queue them again.
func insertOutbox(ctx context.Context, tx *sql.Tx, outbox *[]*simulator.Notification) error {
	for _, n := range *outbox {
		if err := insertNotification(ctx, tx, n); err != nil {
			return err
		}
	}
	*outbox = nil
	return nil
}

func insertNotification(ctx context.Context, tx *sql.Tx, n *simulator.Notification) error {
	data, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("encode notification %s: %w", n.ID, err)
	}
	_, err = tx.ExecContext(ctx, `
		INSERT INTO notifications (id, mchid, event_type, out_order_no, state, next_attempt_at, created_at, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		n.ID, n.MchID, string(n.EventType), n.OutOrderNo, string(n.State), unixNano(n.NextAttemptAt), unixNano(n.CreatedAt), string(data))
	if err != nil {
		return fmt.Errorf("insert notification %s: %w", n.ID, err)
	}
	return nil
}

func notificationNotExist(id string) *simulator.Error {
	return simulator.Errorf(simulator.CodeNotificationNotExist, "通知不存在").With("notification_id", id)
}

// DueNotifications returns pending notifications due at or before their merchant's simulated
// time, oldest first: now, the real time, moved by the merchant's clock offset.
func (d *DB) DueNotifications(ctx context.Context, now time.Time, n int) ([]*simulator.Notification, error) {
	var w where
	w.add("state = 'PENDING'")
	w.add("next_attempt_at <= ? + "+clockOffset("notifications"), unixNano(now))
	query, args := w.query("SELECT data FROM notifications", "next_attempt_at, created_at", n)
	return listData(ctx, d, "due notifications", query, args, decodeJSON[simulator.Notification])
}

// NextNotificationDue returns the real time at which the earliest pending notification comes
// due by its merchant's clock.
func (d *DB) NextNotificationDue(ctx context.Context) (time.Time, bool, error) {
	return d.nextDue(ctx, "next notification", "notifications", "next_attempt_at", "state = 'PENDING'")
}

// SaveAttempt saves n as the attempt left it, and the attempt, together.
func (d *DB) SaveAttempt(ctx context.Context, n *simulator.Notification, a *simulator.DeliveryAttempt) error {
	if err := d.saveAttempt(ctx, n, a); err != nil {
		return fmt.Errorf("sqlite: save attempt of notification %s: %w", n.ID, err)
	}
	return nil
}

func (d *DB) saveAttempt(ctx context.Context, n *simulator.Notification, a *simulator.DeliveryAttempt) error {
	data, err := json.Marshal(n)
	if err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	res, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, next_attempt_at = ?, data = ? WHERE id = ?`,
		string(n.State), unixNano(n.NextAttemptAt), string(data), n.ID)
	if err != nil {
		return err
	}
	if rows, err := res.RowsAffected(); err != nil {
		return err
	} else if rows != 1 {
		// Deleted since it was read, by a reset.
		return notificationNotExist(n.ID)
	}
	a.NotificationID = n.ID
	adata, err := json.Marshal(a)
	if err != nil {
		return err
	}
	res, err = tx.ExecContext(ctx, `INSERT INTO delivery_attempts (notification_id, data) VALUES (?, ?)`, n.ID, string(adata))
	if err != nil {
		return err
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return tx.Commit()
}

// FindNotification returns a notification, or NOTIFICATION_NOT_EXIST.
func (d *DB) FindNotification(ctx context.Context, id string) (*simulator.Notification, error) {
	return findNotification(ctx, d.read, id)
}

func findNotification(ctx context.Context, q queryer, id string) (*simulator.Notification, error) {
	var data string
	err := q.QueryRowContext(ctx, `SELECT data FROM notifications WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notificationNotExist(id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: find notification %s: %w", id, err)
	}
	var n simulator.Notification
	if err := json.Unmarshal([]byte(data), &n); err != nil {
		return nil, fmt.Errorf("sqlite: decode notification %s: %w", id, err)
	}
	return &n, nil
}

// ListNotifications returns notifications newest first.
func (d *DB) ListNotifications(ctx context.Context, f simulator.NotificationFilter) ([]*simulator.Notification, error) {
	var w where
	w.eq("mchid", f.MchID)
	w.eq("out_order_no", f.OutOrderNo)
	w.eq("event_type", string(f.EventType))
	w.before("", "notifications", "id", f.Before)
	query, args := w.query("SELECT data FROM notifications", "created_at DESC, rowid DESC", f.Limit)
	return listData(ctx, d, "notifications", query, args, decodeJSON[simulator.Notification])
}

// FindNotificationAttempts returns a notification and its attempts in order, read in one
// transaction: a delivery saves the state and its attempt together, and a reader must not see
// the attempt without the state it led to.
func (d *DB) FindNotificationAttempts(ctx context.Context, id string) (*simulator.Notification, []*simulator.DeliveryAttempt, error) {
	tx, err := d.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: find notification %s: %w", id, err)
	}
	defer tx.Rollback()
	n, err := findNotification(ctx, tx, id)
	if err != nil {
		return nil, nil, err
	}
	attempts, err := queryRows(ctx, tx, "attempts", `SELECT id, data FROM delivery_attempts WHERE notification_id = ? ORDER BY id`,
		[]any{id}, scanAttempt)
	if err != nil {
		return nil, nil, err
	}
	return n, attempts, nil
}

func scanAttempt(row scanner) (*simulator.DeliveryAttempt, error) {
	var id int64
	var data string
	if err := row.Scan(&id, &data); err != nil {
		return nil, err
	}
	var a simulator.DeliveryAttempt
	if err := json.Unmarshal([]byte(data), &a); err != nil {
		return nil, err
	}
	a.ID = id
	return &a, nil
}

// UpdateNotification loads a notification, lets fn change it and saves it, in one write
// transaction.
func (d *DB) UpdateNotification(ctx context.Context, id string, fn func(*simulator.Notification) error) (*simulator.Notification, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	defer tx.Rollback()
	var data string
	err = tx.QueryRowContext(ctx, `SELECT data FROM notifications WHERE id = ?`, id).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notificationNotExist(id)
	}
	if err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	var n simulator.Notification
	if err := json.Unmarshal([]byte(data), &n); err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	if err := fn(&n); err != nil {
		return nil, err
	}
	if n.ID != id {
		return nil, fmt.Errorf("sqlite: update notification %s: fn changed its id to %s", id, n.ID)
	}
	b, err := json.Marshal(&n)
	if err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	// The columns a lookup needs (state, next_attempt_at) follow the data; the key columns
	// (mchid, event_type, out_order_no) are not rewritten.
	if _, err := tx.ExecContext(ctx, `UPDATE notifications SET state = ?, next_attempt_at = ?, data = ? WHERE id = ?`,
		string(n.State), unixNano(n.NextAttemptAt), string(b), id); err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("sqlite: update notification %s: %w", id, err)
	}
	return &n, nil
}
