package sqlite

import (
	"context"
	"errors"
	"sync"
)

// requestQueue commits concurrent request-log records together (group commit). Every API
// call logs itself and waits for its record (see LogRequest), and every write waits for the
// one writing connection: one insert each, the calls queued behind one another and each
// record's commit wrote the table's and its indexes' last pages again. Records that arrive
// while a batch is being written wait in the queue and go in the next batch, one transaction.
//
// There is no writer goroutine: the caller that finds no batch being written writes one, and
// hands the next to the first record that queued meanwhile, so a lone caller writes its own
// record with no hand-over, and no caller writes more than one batch.
type requestQueue struct {
	mu      sync.Mutex
	writing bool
	pending []*loggedRequest
}

// errLead tells a queued record's caller to write the next batch.
var errLead = errors.New("sqlite: write the next batch of the request log")

// log queues l and returns once its batch is committed, with the batch's outcome. The batch is
// written even if ctx ends meanwhile: it holds other callers' records too.
func (q *requestQueue) log(ctx context.Context, d *DB, l *loggedRequest) error {
	l.done = make(chan error, 1)
	q.mu.Lock()
	q.pending = append(q.pending, l)
	lead := !q.writing
	q.writing = true
	q.mu.Unlock()
	if !lead {
		if err := <-l.done; err != errLead {
			return err
		}
	}
	q.write(context.WithoutCancel(ctx), d)
	return <-l.done
}

// write writes what is queued, then passes the lead on to the first record that queued
// meanwhile, if any.
func (q *requestQueue) write(ctx context.Context, d *DB) {
	q.mu.Lock()
	batch := q.pending
	q.pending = nil
	q.mu.Unlock()

	err := d.writeRequests(ctx, batch)
	for _, l := range batch {
		l.done <- err
	}

	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		q.writing = false
		return
	}
	q.pending[0].done <- errLead
}
