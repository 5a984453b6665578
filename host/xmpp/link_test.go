package xmpp_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/internal/fakexmpp"
	"github.com/xmppgw/gateway/host/xmpp"
)

type nopHandler struct{}

func (nopHandler) HandleStanza(*xmpp.Element) {}

// waitConn waits until the link is up on a connection other than old, and returns it.
func waitConn(t *testing.T, l *xmpp.Link, old int64) int64 {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		if c := l.Current(); c != 0 && c != old {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("the link did not come up again after connection %d", old)
		}
	}
}

// A connection reset while stanzas are being written ends that connection whichever side
// notices first, and the link comes up again; SendRawOn refuses a connection that is gone.
func TestLinkReconnectsAfterResetWhileWriting(t *testing.T) {
	srv, err := fakexmpp.Start("localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	l := xmpp.NewLink(xmpp.LinkConfig{
		JID: "gw.localhost", Addr: srv.Addr(), Secret: "s", Logger: slog.New(slog.DiscardHandler),
		MinBackoff: time.Millisecond, MaxBackoff: 5 * time.Millisecond,
	}, nopHandler{})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = l.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("the link did not stop")
		}
	}()

	payload := []byte(`<message to='a@localhost' from='1@gw.localhost'><body>` + string(make([]byte, 2000)) + `</body></message>`)
	for i := range payload {
		if payload[i] == 0 {
			payload[i] = 'x'
		}
	}
	conn := waitConn(t, l, 0)
	for range 30 {
		stop := make(chan struct{})
		writing := make(chan struct{})
		go func() {
			defer close(writing)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if l.SendRawOn(ctx, conn, xmpp.KindMessage, payload) != nil {
					return
				}
			}
		}()
		time.Sleep(2 * time.Millisecond)
		srv.Reset()
		next := waitConn(t, l, conn)
		close(stop)
		<-writing
		if err := l.SendRawOn(ctx, conn, xmpp.KindMessage, payload); err == nil {
			t.Fatalf("SendRawOn accepted connection %d while %d is up", conn, next)
		}
		conn = next
	}
}
