package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
)

// errClosed is returned by writes queued after Close.
var errClosed = errors.New("store: closed")

// The writer commits the frequent writes (id mappings, journal, outbox, plugin storage) in groups: every
// write queued while a transaction commits joins the next one, so under load many sessions share
// one commit instead of paying one each. A write either waits for its commit (the durability
// points: a journalled message before the plugin sees it, an outbound stanza before it is sent)
// or is queued with Later and committed with the next group. Reads of those tables first wait
// until the user's queued writes are committed, so every caller reads its own writes.
type writer struct {
	s    *Store
	kick chan struct{}
	stop chan struct{}
	done chan struct{}

	mu     sync.Mutex
	cur    *batch            // being filled; nil when nothing is queued
	last   map[string]*batch // per key (a user's JID, or "" for the whole gateway queue): the batch holding its latest write
	closed bool

	commits, writes atomic.Int64 // transactions committed and writes queued, for Stats
}

// batch is one group of writes committed in one transaction.
type batch struct {
	ops  []op
	done chan struct{} // closed once every op has its result
}

// op is one queued write.
type op struct {
	key   string
	run   func(ctx context.Context, tx *sql.Tx) error
	err   *error      // where a waiting caller gets the op's result
	onErr func(error) // a Later write's error handler
	what  string      // a Later write's name and subject, for its error
	who   string
}

func newWriter(s *Store) *writer {
	w := &writer{s: s, kick: make(chan struct{}, 1), stop: make(chan struct{}), done: make(chan struct{}),
		last: map[string]*batch{}}
	go w.loop()
	return w
}

// queue adds o to the batch being filled and returns that batch.
func (w *writer) queue(o op) (*batch, error) {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return nil, errClosed
	}
	if w.cur == nil {
		w.cur = &batch{done: make(chan struct{})}
	}
	b := w.cur
	b.ops = append(b.ops, o)
	w.writes.Add(1)
	w.last[o.key] = b
	w.last[""] = b
	w.mu.Unlock()
	select {
	case w.kick <- struct{}{}:
	default:
	}
	return b, nil
}

// write queues run and waits for its commit. If ctx ends first the write may still commit.
func (w *writer) write(ctx context.Context, key string, run func(ctx context.Context, tx *sql.Tx) error) error {
	var err error
	b, qerr := w.queue(op{key: key, run: run, err: &err})
	if qerr != nil {
		return qerr
	}
	select {
	case <-b.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// later queues o without waiting; a failure goes to o.onErr (if not nil) on the writer's goroutine.
func (w *writer) later(o op) {
	if _, err := w.queue(o); err != nil {
		o.result(err)
	}
}

// barrier waits until every write queued so far under key is committed; key "" waits for all.
func (w *writer) barrier(ctx context.Context, key string) error {
	w.mu.Lock()
	b := w.last[key]
	w.mu.Unlock()
	if b == nil {
		return nil
	}
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *writer) loop() {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
		case <-w.stop:
			w.drain()
			return
		}
		w.drain()
	}
}

// drain commits batches until nothing is queued.
func (w *writer) drain() {
	for {
		w.mu.Lock()
		b := w.cur
		w.cur = nil
		w.mu.Unlock()
		if b == nil {
			return
		}
		w.commit(b)
		w.mu.Lock()
		for _, o := range b.ops {
			if w.last[o.key] == b {
				delete(w.last, o.key)
			}
		}
		if w.last[""] == b {
			delete(w.last, "")
		}
		w.mu.Unlock()
		close(b.done)
	}
}

// commit runs b in one transaction. If anything fails, the transaction is rolled back and every
// op runs again in a transaction of its own, so one bad write cannot take the others down
// (PostgreSQL aborts a whole transaction on the first error).
func (w *writer) commit(b *batch) {
	ctx := context.Background()
	if len(b.ops) > 1 {
		if err := w.s.inTx(ctx, func(tx *sql.Tx) error {
			for _, o := range b.ops {
				if err := o.run(ctx, tx); err != nil {
					return err
				}
			}
			return nil
		}); err == nil {
			w.commits.Add(1)
			for _, o := range b.ops {
				o.result(nil)
			}
			return
		}
	}
	for _, o := range b.ops {
		err := w.s.inTx(ctx, func(tx *sql.Tx) error { return o.run(ctx, tx) })
		if err == nil {
			w.commits.Add(1)
		}
		o.result(err)
	}
}

func (o op) result(err error) {
	if o.err != nil {
		*o.err = err
	}
	if err != nil && o.onErr != nil {
		o.onErr(fmt.Errorf("store: %s %s: %w", o.what, o.who, err))
	}
}

// close commits what is queued and stops the writer; later writes fail.
func (w *writer) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		return
	}
	w.closed = true
	w.mu.Unlock()
	close(w.stop)
	<-w.done
}

// inTx runs fn in a transaction and commits it.
func (s *Store) inTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Later is a view of the store whose writes return at once and commit with the next group of
// writes, in the order they were made, before any later read of the same user's data. Use it
// where a write need not be durable before the caller goes on: a crash may lose the last few
// milliseconds of them.
type Later struct {
	s     *Store
	onErr func(error)
}

// Later returns a view of s for writes that do not wait for their commit. onErr, if not nil,
// receives every such write's error (on the store's writer goroutine: it must not block).
func (s *Store) Later(onErr func(error)) Later { return Later{s: s, onErr: onErr} }

// PutMsgID is Store.PutMsgID without waiting.
func (l Later) PutMsgID(gw, jid, chat, xmppID, legacyID string) {
	l.s.w.later(op{key: jid, run: l.s.putMsgOp(gw, jid, chat, xmppID, legacyID), onErr: l.onErr, what: "put msg id", who: jid})
}

// JournalClose is Store.JournalClose without waiting.
func (l Later) JournalClose(gw, jid, id string) {
	l.s.w.later(op{key: jid, run: l.s.journalCloseOp(gw, jid, id), onErr: l.onErr, what: "journal close", who: jid})
}

// Ack is Store.Ack without waiting.
func (l Later) Ack(gw string, uptoSeq int64) {
	l.s.w.later(op{run: l.s.ackOp(gw, uptoSeq), onErr: l.onErr, what: "ack", who: gw})
}

// Stats counts the frequent writes and the transactions that committed them; their ratio
// shows how well writes are grouped under the current load.
type Stats struct {
	// Writes is the number of writes queued (waited for or Later).
	Writes int64
	// Commits is the number of transactions committed.
	Commits int64
}

// Stats returns the counts since Open.
func (s *Store) Stats() Stats {
	return Stats{Writes: s.w.writes.Load(), Commits: s.w.commits.Load()}
}
