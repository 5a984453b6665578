package gateway_test

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/gateway"
	"github.com/xmppgw/gateway/host/internal/fakexmpp"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// received records the message ids a fake server got, in order.
type received struct {
	mu  sync.Mutex
	ids []string
}

func (r *received) add(e *xmpp.Element) {
	if e.Name.Local == xmpp.KindMessage {
		r.mu.Lock()
		r.ids = append(r.ids, e.Get("id"))
		r.mu.Unlock()
	}
}

// count returns how many distinct ids arrived and how many arrived more than once.
func (r *received) count() (distinct, dups int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := map[string]bool{}
	for _, id := range r.ids {
		if seen[id] {
			dups++
		}
		seen[id] = true
	}
	return len(seen), dups
}

func startGateway(t *testing.T, srv *fakexmpp.Server, st *store.Store) (*gateway.Gateway, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	g, err := gateway.New(ctx, gateway.Options{
		JID: "telegram.localhost", Type: "telegram", Name: "T", Addr: srv.Addr(), Secret: "s",
		Logger: slog.New(slog.DiscardHandler), Store: st, MinBackoff: 10 * time.Millisecond, MaxBackoff: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = g.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return g, func() { cancel(); <-done }
}

func waitUp(t *testing.T, g *gateway.Gateway) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !g.Status().Connected; {
		if time.Now().After(deadline) {
			t.Fatal("link never came up")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func message(i int) *xmpp.Element {
	id := fmt.Sprintf("m%d", i)
	return xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", id, "from", "1@telegram.localhost", "to", "alice@localhost").
		Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(id))
}

// outboxSetup opens a store, starts a fake server that records the messages it gets, and a
// gateway connected to it; crash stops the gateway as a dying process would.
func outboxSetup(t *testing.T) (st *store.Store, srv *fakexmpp.Server, got *received, g *gateway.Gateway, crash context.CancelFunc) {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{DSN: filepath.Join(t.TempDir(), "gw.db")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv, err = fakexmpp.Start("localhost")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	got = &received{}
	srv.OnStanza(got.add)
	g, crash = startGateway(t, srv, st)
	waitUp(t, g)
	return st, srv, got, g, crash
}

// Messages sent while the link breaks, before the server confirmed them, and while it is down,
// all arrive after the reconnect; so do those left unconfirmed by a crashed process.
func TestOutboxLosesNothing(t *testing.T) {
	st, srv, got, g, crash := outboxSetup(t)
	ctx := context.Background()

	// 1. Normal: confirmed and deleted from the store.
	for i := range 100 {
		if err := g.Send(ctx, message(i)); err != nil {
			t.Fatal(err)
		}
	}
	// 2. The server takes messages but dies before confirming them.
	srv.HoldPings.Store(true)
	for i := 100; i < 200; i++ {
		_ = g.Send(ctx, message(i))
	}
	time.Sleep(100 * time.Millisecond)
	srv.Drop()
	// 3. Sent while the link is down.
	for i := 200; i < 300; i++ {
		_ = g.Send(ctx, message(i))
	}
	srv.HoldPings.Store(false)
	waitUp(t, g)
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := got.count(); n < 300; n, _ = got.count() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of 300 messages arrived", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, dups := got.count()
	t.Logf("after a broken link: 300 of 300 arrived, %d duplicates (same id, dropped by clients)", dups)

	// 4. The process dies with messages unconfirmed; the next one sends them.
	srv.HoldPings.Store(true)
	for i := 300; i < 400; i++ {
		_ = g.Send(ctx, message(i))
	}
	time.Sleep(100 * time.Millisecond)
	crash()
	srv.HoldPings.Store(false)
	g2, _ := startGateway(t, srv, st)
	waitUp(t, g2)
	for n, _ := got.count(); n < 400; n, _ = got.count() {
		if time.Now().After(deadline.Add(10 * time.Second)) {
			t.Fatalf("only %d of 400 messages arrived after the restart", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Everything confirmed is gone from the store.
	for deadline := time.Now().Add(5 * time.Second); ; {
		left, err := st.Pending(ctx, "telegram.localhost", 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d messages still unconfirmed", len(left))
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, dups = got.count()
	t.Logf("after a crash: 400 of 400 arrived, %d duplicates in all", dups)
}

// A ping answered on a new connection confirms only what that connection carried: messages
// lost with the old one arrive even when newer ones, sent while the link comes back, are
// confirmed first.
func TestOutboxReconnectConfirmsOnlyWhatItCarried(t *testing.T) {
	_, srv, got, g, _ := outboxSetup(t)
	ctx := context.Background()

	// A steady stream of messages while the link breaks and comes back.
	stop := make(chan struct{})
	sent := make(chan int)
	go func() {
		n := 0
		defer func() { sent <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			_ = g.Send(ctx, message(n))
			n++
			time.Sleep(100 * time.Microsecond)
		}
	}()
	const cycles = 10
	for range cycles {
		time.Sleep(20 * time.Millisecond)
		// What the server reads from now on is lost with the connection, never confirmed.
		srv.HoldPings.Store(true)
		srv.LoseMessages.Store(true)
		time.Sleep(10 * time.Millisecond)
		srv.Drop()
		srv.LoseMessages.Store(false)
		srv.HoldPings.Store(false)
		waitUp(t, g)
	}
	close(stop)
	total := <-sent
	deadline := time.Now().Add(10 * time.Second)
	for n, _ := got.count(); n < total; n, _ = got.count() {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d messages arrived", n, total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	_, dups := got.count()
	t.Logf("%d of %d arrived over %d reconnects, %d duplicates", total, total, cycles, dups)
}
