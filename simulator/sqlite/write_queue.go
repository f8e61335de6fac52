package sqlite

import (
	"context"
	"errors"
	"sync"

	"github.com/mattn/go-sqlite3"
)

// writeQueue commits concurrent writes together (group commit): a new order's insert and
// every API call's request-log record. Each caller waits for its write (a call is answered
// once its record is stored). Written one by one, each took the one writing connection for a
// statement and a commit of its own, the calls queued behind one another, and each commit
// wrote the tables' and their indexes' last pages again. Instead, writes that arrive while a
// batch is being written wait in the queue and go in the next batch, one transaction.
//
// There is no writer goroutine: the caller that finds no batch being written writes one, and
// hands the next to the first write that queued meanwhile, so a lone caller runs its own
// statement with no hand-over, and no caller writes more than one batch.
type writeQueue struct {
	mu      sync.Mutex
	writing bool
	pending []*queuedWrite
}

// queuedWrite is one statement waiting for the writing connection.
type queuedWrite struct {
	// exec runs the statement on e: the database when it is written alone, else the batch's
	// transaction.
	exec func(ctx context.Context, e execer) error
	// logged is the request-log record the statement inserts, if any: the log's retention
	// counts it once it is committed.
	logged *loggedRequest
	err    error
	// done receives the write's outcome, or errLead.
	done chan error
}

// errLead tells a queued write's caller to write the next batch.
var errLead = errors.New("sqlite: write the next batch")

// write queues w and returns once its batch is committed, with w's outcome. The batch is
// written even if ctx ends meanwhile: it holds other callers' writes too.
func (q *writeQueue) write(ctx context.Context, d *DB, w *queuedWrite) error {
	w.done = make(chan error, 1)
	q.mu.Lock()
	q.pending = append(q.pending, w)
	lead := !q.writing
	q.writing = true
	q.mu.Unlock()
	if !lead {
		if err := <-w.done; err != errLead {
			return err
		}
	}
	q.writeBatch(context.WithoutCancel(ctx), d)
	return <-w.done
}

// writeBatch writes what is queued, then passes the lead on to the first write that queued
// meanwhile, if any.
func (q *writeQueue) writeBatch(ctx context.Context, d *DB) {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()

	if err := d.commit(ctx, batch); err != nil {
		for _, w := range batch {
			w.err = err
		}
	} else {
		d.countLogged(ctx, batch)
	}
	for _, w := range batch {
		w.done <- w.err
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.writing = false
		return
	}
	q.pending[0].done <- errLead
}

// commit runs batch, a lone write as a statement of its own, more in one transaction, and sets
// each write's outcome. A statement refused by a constraint fails alone, as SQLite undoes just
// that statement; any other failure fails the batch, which it returns.
func (d *DB) commit(ctx context.Context, batch []*queuedWrite) error {
	if len(batch) == 1 {
		batch[0].err = batch[0].exec(ctx, d.db)
		return nil
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, w := range batch {
		w.err = w.exec(ctx, tx)
		var se sqlite3.Error
		if w.err != nil && !(errors.As(w.err, &se) && se.Code == sqlite3.ErrConstraint) {
			return w.err
		}
	}
	return tx.Commit()
}

// countLogged counts the batch's committed request-log records against the log's retention;
// a failure to trim the log is the outcome of those records' writes.
func (d *DB) countLogged(ctx context.Context, batch []*queuedWrite) {
	var (
		n    int
		size int64
	)
	for _, w := range batch {
		if w.logged != nil && w.err == nil {
			n++
			size += w.logged.size
		}
	}
	if n == 0 {
		return
	}
	if err := d.trimRequests(ctx, n, size); err != nil {
		for _, w := range batch {
			if w.logged != nil && w.err == nil {
				w.err = err
			}
		}
	}
}
