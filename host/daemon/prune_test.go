package daemon_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/fakexmpp"
	"github.com/xmppgw/gateway/host/store"
)

// The daemon forgets message-id mappings older than [store] keep_message_ids_days, and keeps
// the newer ones.
func TestOldMessageIDsArePruned(t *testing.T) {
	srv, err := fakexmpp.Start("localhost")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	cfg := loadConfig(t, dir, srv.Addr(), "[admin]\nlisten = \"\"\n[store]\nkeep_message_ids_days = 1\n"+
		fmt.Sprintf("[[gateway]]\njid = %q\nsecret = \"s\"\ntype = \"echo\"\n", gwJID))
	// Two mappings in the store before the daemon starts; the old one is made two days old
	// straight in the SQLite file.
	ctx := context.Background()
	const jid = "alice@localhost"
	st, err := store.Open(ctx, store.Options{DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutUser(ctx, store.User{Gateway: gwJID, JID: jid}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"old", "new"} {
		if err := st.PutMsgID(ctx, gwJID, jid, "1", "x-"+id, "l-"+id); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", cfg.Store.DSN.Reveal())
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, "UPDATE msgmap SET created_at = ? WHERE xmpp_id = 'x-old'", time.Now().Add(-48*time.Hour).UnixMicro())
	db.Close()
	if err != nil {
		t.Fatal(err)
	}

	d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: slog.New(slog.DiscardHandler), PruneEvery: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := d.Store.LegacyMsgID(ctx, gwJID, jid, "1", "x-old")
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the two-day-old mapping is still there (err %v)", err)
		}
	}
	if l, err := d.Store.LegacyMsgID(ctx, gwJID, jid, "1", "x-new"); err != nil || l != "l-new" {
		t.Fatalf("the new mapping: %q, %v", l, err)
	}
}
