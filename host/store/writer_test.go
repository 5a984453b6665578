package store

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// testLater checks that writes which do not wait are seen by the next read.
func testLater(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	var errs []error
	l := s.Later(func(err error) { errs = append(errs, err) })

	must(t, s.JournalOpen(ctx, gw, "a@x", "m1", "<message/>"))
	l.JournalClose(gw, "a@x", "m1")
	l.PutMsgID(gw, "a@x", "chat", "x1", "n1")
	if got, err := s.XMPPMsgID(ctx, gw, "a@x", "chat", "n1"); err != nil || got != "x1" {
		t.Fatalf("XMPPMsgID after Later.PutMsgID = %q, %v; want x1", got, err)
	}
	if got, err := s.LegacyMsgID(ctx, gw, "a@x", "chat", "x1"); err != nil || got != "n1" {
		t.Fatalf("LegacyMsgID after Later.PutMsgID = %q, %v; want n1", got, err)
	}
	if p, err := s.JournalPending(ctx, gw, "a@x"); err != nil || len(p) != 0 {
		t.Fatalf("JournalPending after Later.JournalClose = %v, %v; want none", p, err)
	}
	seq, err := s.Enqueue(ctx, gw, "a@x", "o1", "<message/>")
	must(t, err)
	l.Ack(gw, seq)
	if p, err := s.Pending(ctx, gw, 0, 0); err != nil || len(p) != 0 {
		t.Fatalf("Pending after Later.Ack = %v, %v; want none", p, err)
	}
	if errs != nil {
		t.Fatalf("Later errors: %v", errs)
	}
}

// hold occupies the writer until the returned function is called, so that the writes queued
// meanwhile form one group.
func hold(t *testing.T, s *Store) (release func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	go s.w.write(context.Background(), "hold", func(context.Context, *sql.Tx) error {
		close(started)
		<-gate
		return nil
	})
	<-started
	return func() { close(gate) }
}

// queued waits until n writes wait for the writer.
func queued(t *testing.T, s *Store, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		s.w.mu.Lock()
		got := 0
		if s.w.cur != nil {
			got = len(s.w.cur.ops)
		}
		s.w.mu.Unlock()
		if got >= n {
			return
		}
	}
	t.Fatalf("fewer than %d writes queued", n)
}

// testGroupCommit checks that writes queued while a transaction commits share the next one.
func testGroupCommit(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	release := hold(t, s)
	before := s.w.commits.Load()
	const n = 20
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			id := strconv.Itoa(i)
			errs[i] = s.PutMsgID(ctx, gw, "u"+id+"@x", "chat", "x"+id, "n"+id)
		})
	}
	s.Later(nil).PutMsgID(gw, "a@x", "chat", "x", "n")
	queued(t, s, n+1)
	release()
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("PutMsgID %d: %v", i, err)
		}
	}
	// The held write's transaction and one for all the others.
	if got := s.w.commits.Load() - before; got != 2 {
		t.Fatalf("%d commits for %d writes, want 2", got, n+2)
	}
	for i := range n {
		id := strconv.Itoa(i)
		if got, err := s.XMPPMsgID(ctx, gw, "u"+id+"@x", "chat", "n"+id); err != nil || got != "x"+id {
			t.Fatalf("XMPPMsgID %d = %q, %v", i, got, err)
		}
	}
}

// testGroupFailure checks that a failing write fails alone: the others in its group commit.
func testGroupFailure(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	release := hold(t, s)
	boom := errors.New("boom")
	var laterErr error
	failed := make(chan error, 1)
	go func() {
		failed <- s.w.write(ctx, "b@x", func(ctx context.Context, tx *sql.Tx) error {
			// A write that reached the database before failing must be rolled back.
			if _, err := tx.StmtContext(ctx, s.putMsg).ExecContext(ctx, gw, "b@x", "chat", "xb", "nb", now()); err != nil {
				return err
			}
			return boom
		})
	}()
	queued(t, s, 1)
	s.Later(func(err error) { laterErr = err }).PutMsgID(gw, "a@x", "chat", "x1", "n1")
	ok := make(chan error, 1)
	go func() { ok <- s.PutMsgID(ctx, gw, "a@x", "chat", "x2", "n2") }()
	queued(t, s, 3)
	release()
	if err := <-failed; !errors.Is(err, boom) {
		t.Fatalf("failing write: %v, want boom", err)
	}
	must(t, <-ok)
	for _, id := range []string{"1", "2"} {
		if got, err := s.XMPPMsgID(ctx, gw, "a@x", "chat", "n"+id); err != nil || got != "x"+id {
			t.Fatalf("XMPPMsgID n%s = %q, %v", id, got, err)
		}
	}
	if _, err := s.XMPPMsgID(ctx, gw, "b@x", "chat", "nb"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("failed write left a row: %v", err)
	}
	if laterErr != nil {
		t.Fatalf("Later write failed: %v", laterErr)
	}
}

// testCloseCommitsLater checks that Close commits what is queued and refuses later writes.
func testCloseCommitsLater(t *testing.T, o Options) {
	ctx := context.Background()
	s, err := Open(ctx, o)
	must(t, err)
	s.Later(nil).PutMsgID(gw, "a@x", "chat", "x1", "n1")
	must(t, s.Close())
	var afterClose error
	s.Later(func(err error) { afterClose = err }).PutMsgID(gw, "a@x", "chat", "x2", "n2")
	if !errors.Is(afterClose, errClosed) {
		t.Fatalf("write after Close: %v, want %v", afterClose, errClosed)
	}
	s = openT(t, o)
	if got, err := s.XMPPMsgID(ctx, gw, "a@x", "chat", "n1"); err != nil || got != "x1" {
		t.Fatalf("after reopen XMPPMsgID = %q, %v; want x1", got, err)
	}
}

// BenchmarkRoundTripWrites measures the store's share of one echo round trip on SQLite: the
// writes the gateway makes for a message in and its echo out (journal open and close, two id
// mappings, the outbox entry, an acknowledgement every third message), by 1 user at a time and
// by 20 users at once, whose writes share commits. cpu-µs/rt is the process's CPU time (user +
// system) per round trip, so it counts the commits' system calls too.
func BenchmarkRoundTripWrites(b *testing.B) {
	for _, users := range []int{1, 20} {
		b.Run(strconv.Itoa(users)+"users", func(b *testing.B) {
			ctx := context.Background()
			s := openBench(b)
			l := s.Later(func(err error) { b.Error(err) })
			payload := "<message to='alice@example.com' from='123@telegram.example.org' id='abc'><body>hello</body></message>"
			var next atomic.Int64
			s0, c0 := s.Stats(), cpuTime()
			b.ResetTimer()
			var wg sync.WaitGroup
			for u := range users {
				jid := "u" + strconv.Itoa(u) + "@example.com"
				wg.Go(func() {
					for {
						i := next.Add(1)
						if i > int64(b.N) {
							return
						}
						id := strconv.FormatInt(i, 10)
						if err := s.JournalOpen(ctx, gw, jid, "m"+id, payload); err != nil {
							b.Error(err)
							return
						}
						l.JournalClose(gw, jid, "m"+id)
						l.PutMsgID(gw, jid, "plain", "m"+id, "u-"+id)
						l.PutMsgID(gw, jid, "plain", "x"+id, "e-"+id)
						seq, err := s.Enqueue(ctx, gw, jid, "x"+id, payload)
						if err != nil {
							b.Error(err)
							return
						}
						if i%3 == 0 {
							l.Ack(gw, seq)
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			st := s.Stats()
			b.ReportMetric(float64(cpuTime()-c0)/1e3/float64(b.N), "cpu-µs/rt")
			b.ReportMetric(float64(st.Commits-s0.Commits)/float64(b.N), "commits/rt")
		})
	}
}

// cpuTime is the process's CPU time so far, in nanoseconds.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
