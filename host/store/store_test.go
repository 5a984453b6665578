package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/internal/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// backends lists the databases every case runs against. Each call of opts
// returns a fresh, empty database.
var backends = []struct {
	name string
	opts func(t *testing.T) Options
}{
	{"sqlite", func(t *testing.T) Options {
		// A nested path: Open must create the parent directory.
		return Options{Driver: DriverSQLite, DSN: filepath.Join(t.TempDir(), "state", "gateway.db")}
	}},
	{"postgres", func(t *testing.T) Options {
		return Options{Driver: DriverPostgres, DSN: pgtest.Start(t)}
	}},
}

func TestStore(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, o Options)
	}{
		{"Migrations", testMigrations},
		{"ConcurrentOpen", testConcurrentOpen},
		{"SchemaTooNew", testSchemaTooNew},
		{"Users", testUsers},
		{"KV", testKV},
		{"KVQuota", testKVQuota},
		{"Contacts", testContacts},
		{"PutContacts", testPutContacts},
		{"Avatars", testAvatars},
		{"Secrets", testSecrets},
		{"MsgMap", testMsgMap},
		{"PruneMsgIDs", testPruneMsgIDs},
		{"Outbox", testOutbox},
		{"OutboxBatch", testOutboxBatch},
		{"Journal", testJournal},
		{"DeleteUser", testDeleteUser},
		{"ConcurrentWriters", testConcurrentWriters},
		{"ConcurrentQuota", testConcurrentQuota},
		{"Later", testLater},
		{"GroupCommit", testGroupCommit},
		{"GroupFailure", testGroupFailure},
		{"CloseCommitsLater", testCloseCommitsLater},
		{"UpgradeJournal", testUpgradeJournal},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					c.run(t, b.opts(t))
				})
			}
		})
	}
}

const (
	gw  = "telegram.example.org"
	gw2 = "other.example.org"
)

func openT(t testing.TB, o Options) *Store {
	t.Helper()
	s, err := Open(context.Background(), o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantNotFound(t testing.TB, err error) {
	t.Helper()
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("err = %v, want ErrNotFound", err)
	}
}

// countRows counts the rows of table that belong to user jid of gateway g.
func countRows(t testing.TB, s *Store, table, g, jid string) int {
	t.Helper()
	var n int
	q := s.rebind("SELECT COUNT(*) FROM " + table + " WHERE gateway = ? AND jid = ?")
	must(t, s.db.QueryRowContext(context.Background(), q, g, jid).Scan(&n))
	return n
}

// tables lists the tables of the database from its catalog.
func tables(t testing.TB, s *Store) []string {
	t.Helper()
	q := `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`
	if s.dialect == postgresDialect {
		q = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`
	}
	rows, err := s.db.QueryContext(context.Background(), q)
	must(t, err)
	defer rows.Close()
	var names []string
	for rows.Next() {
		var n string
		must(t, rows.Scan(&n))
		names = append(names, n)
	}
	must(t, rows.Err())
	return names
}

func testMigrations(t *testing.T, o Options) {
	ctx := context.Background()
	s, err := Open(ctx, o)
	must(t, err)
	v, err := s.SchemaVersion(ctx)
	must(t, err)
	if v != latestVersion() || v != len(migrations) {
		t.Fatalf("SchemaVersion = %d, want %d", v, latestVersion())
	}
	must(t, s.Ping(ctx))
	must(t, s.PutUser(ctx, User{Gateway: gw, JID: "a@x"}))
	if s.dialect == sqliteDialect {
		var mode string
		var fk int
		must(t, s.db.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		must(t, s.db.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
		if mode != "wal" || fk != 1 {
			t.Errorf("journal_mode=%s foreign_keys=%d, want wal 1", mode, fk)
		}
		if _, err := os.Stat(o.DSN); err != nil {
			t.Errorf("database file: %v", err)
		}
	}
	must(t, s.Close())

	// Reopening applies nothing again and keeps the data.
	for range 2 {
		s, err := Open(ctx, o)
		must(t, err)
		v2, err := s.SchemaVersion(ctx)
		must(t, err)
		if v2 != v {
			t.Fatalf("SchemaVersion after reopen = %d, want %d", v2, v)
		}
		var n int
		must(t, s.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
		if n != len(migrations) {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(migrations))
		}
		if _, err := s.User(ctx, gw, "a@x"); err != nil {
			t.Fatalf("data lost on reopen: %v", err)
		}
		must(t, s.Close())
	}
}

// testConcurrentOpen starts several migrators on one empty database at
// once: each migration must be applied exactly once. A SQLite file belongs to
// one of them; the others get ErrInUse.
func testConcurrentOpen(t *testing.T, o Options) {
	ctx := context.Background()
	const n = 4
	stores := make([]*Store, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = Open(ctx, o) })
	}
	wg.Wait()
	if o.Driver == DriverSQLite {
		// One process owns a SQLite file: one Open wins, the others are told why they lost.
		winner := -1
		for i := range n {
			switch {
			case errs[i] == nil && winner < 0:
				winner = i
			case errs[i] == nil:
				t.Fatalf("Open %d and %d both own the file", winner, i)
			case !errors.Is(errs[i], ErrInUse):
				t.Fatalf("Open %d: %v, want ErrInUse", i, errs[i])
			}
		}
		if winner < 0 {
			t.Fatalf("no Open won: %v", errs)
		}
		must(t, stores[winner].Close())
		stores[0] = openT(t, o) // free again once the owner closed it
	} else {
		for i := range n {
			if errs[i] != nil {
				t.Fatalf("Open %d: %v", i, errs[i])
			}
			defer stores[i].Close()
		}
	}
	var rows int
	must(t, stores[0].db.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&rows))
	if rows != len(migrations) {
		t.Fatalf("schema_migrations has %d rows, want %d", rows, len(migrations))
	}
}

func testSchemaTooNew(t *testing.T, o Options) {
	ctx := context.Background()
	s, err := Open(ctx, o)
	must(t, err)
	future := latestVersion() + 2
	_, err = s.db.ExecContext(ctx, s.rebind("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)"), future, now())
	must(t, err)
	must(t, s.Close())

	s, err = Open(ctx, o)
	if err == nil {
		s.Close()
		t.Fatal("Open succeeded on a newer schema")
	}
	if !errors.Is(err, ErrSchemaTooNew) {
		t.Errorf("err = %v, want ErrSchemaTooNew", err)
	}
	want := fmt.Sprintf("database schema version %d is newer than this gateway (%d): upgrade the gateway", future, latestVersion())
	if !strings.Contains(err.Error(), want) {
		t.Errorf("err = %q, want it to contain %q", err, want)
	}
}

func testUsers(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)

	_, err := s.User(ctx, gw, "alice@example.com")
	wantNotFound(t, err)
	if us, err := s.Users(ctx, gw); err != nil || len(us) != 0 {
		t.Fatalf("Users on empty store = %v, %v", us, err)
	}

	const secret = "+33612345678"
	before := time.Now().Add(-time.Second)
	u := User{Gateway: gw, JID: "alice@example.com", Form: []byte(`{"phone":"` + secret + `"}`), State: "active"}
	must(t, s.PutUser(ctx, u))
	got, err := s.User(ctx, gw, u.JID)
	must(t, err)
	if got.Gateway != gw || got.JID != u.JID || string(got.Form) != string(u.Form) || got.State != "active" {
		t.Fatalf("User = %+v", got)
	}
	if got.RegisteredAt.Before(before) || got.RegisteredAt.After(time.Now().Add(time.Second)) {
		t.Fatalf("RegisteredAt = %v, want about now", got.RegisteredAt)
	}
	if strings.Contains(got.String(), secret) || strings.Contains(fmt.Sprintf("%v %+v", got, got), secret) {
		t.Errorf("String leaks the form: %s", got)
	}
	if strings.Contains(got.LogValue().String(), secret) {
		t.Errorf("LogValue leaks the form")
	}

	// Update: form and state change, registered_at stays.
	u2 := User{Gateway: gw, JID: u.JID, Form: []byte(`{"phone":"+1"}`), State: "disabled", RegisteredAt: time.Unix(1, 0)}
	must(t, s.PutUser(ctx, u2))
	got2, err := s.User(ctx, gw, u.JID)
	must(t, err)
	if string(got2.Form) != `{"phone":"+1"}` || got2.State != "disabled" || !got2.RegisteredAt.Equal(got.RegisteredAt) {
		t.Fatalf("after update User = %+v (registered %v), was registered %v", got2, got2.RegisteredAt, got.RegisteredAt)
	}

	// Explicit RegisteredAt on insert, empty form.
	at := time.Date(2024, 5, 6, 7, 8, 9, 123456000, time.UTC)
	must(t, s.PutUser(ctx, User{Gateway: gw, JID: "carol@example.com", RegisteredAt: at}))
	must(t, s.PutUser(ctx, User{Gateway: gw, JID: "bob@example.com"}))
	must(t, s.PutUser(ctx, User{Gateway: gw2, JID: "zed@example.com"}))
	c, err := s.User(ctx, gw, "carol@example.com")
	must(t, err)
	if !c.RegisteredAt.Equal(at) || string(c.Form) != "{}" || c.State != "" {
		t.Fatalf("carol = %+v at %v", c, c.RegisteredAt)
	}

	us, err := s.Users(ctx, gw)
	must(t, err)
	var jids []string
	for _, u := range us {
		if u.Gateway != gw {
			t.Errorf("Users returned gateway %q", u.Gateway)
		}
		jids = append(jids, u.JID)
	}
	if want := []string{"alice@example.com", "bob@example.com", "carol@example.com"}; !slices.Equal(jids, want) {
		t.Fatalf("Users = %v, want %v", jids, want)
	}

	// Invalid JSON is refused, without echoing it.
	err = s.PutUser(ctx, User{Gateway: gw, JID: "dave@example.com", Form: []byte(`{"phone":` + secret)})
	if err == nil || strings.Contains(err.Error(), secret) {
		t.Fatalf("PutUser(invalid form) = %v", err)
	}
}

func testKV(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"

	_, err := s.KVGet(ctx, gw, jid, "missing")
	wantNotFound(t, err)

	bin := []byte{0, 1, 2, 0xff, 0xfe, 0}
	must(t, s.KVSet(ctx, gw, jid, "bin", bin, 0))
	v, err := s.KVGet(ctx, gw, jid, "bin")
	must(t, err)
	if !bytes.Equal(v, bin) {
		t.Fatalf("KVGet = %x, want %x", v, bin)
	}
	must(t, s.KVSet(ctx, gw, jid, "bin", []byte("new"), 0))
	if v, _ := s.KVGet(ctx, gw, jid, "bin"); string(v) != "new" {
		t.Fatalf("after overwrite KVGet = %q", v)
	}

	for _, k := range []string{"empty", "nil"} {
		var val []byte
		if k == "empty" {
			val = []byte{}
		}
		must(t, s.KVSet(ctx, gw, jid, k, val, 0))
		v, err := s.KVGet(ctx, gw, jid, k)
		must(t, err)
		if v == nil || len(v) != 0 {
			t.Fatalf("KVGet(%s) = %#v, want empty non-nil", k, v)
		}
	}

	// Same key for another user and another gateway: separate.
	must(t, s.KVSet(ctx, gw, "bob@example.com", "bin", []byte("bob"), 0))
	must(t, s.KVSet(ctx, gw2, jid, "bin", []byte("gw2"), 0))
	if v, _ := s.KVGet(ctx, gw, jid, "bin"); string(v) != "new" {
		t.Fatalf("isolation: KVGet = %q", v)
	}

	for _, k := range []string{"a/2", "a/1", "a", "b/1", "A/1", "50%off", "50xoff", "é/1", "e/1"} {
		must(t, s.KVSet(ctx, gw, jid, k, []byte("x"), 0))
	}
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"a/", []string{"a/1", "a/2"}},
		{"a", []string{"a", "a/1", "a/2"}},
		{"A/", []string{"A/1"}},     // case-sensitive
		{"50%", []string{"50%off"}}, // no LIKE wildcards
		{"50_", nil},
		{"é", []string{"é/1"}},
		{"zz", nil},
		{"", []string{"50%off", "50xoff", "A/1", "a", "a/1", "a/2", "b/1", "bin", "e/1", "empty", "nil", "é/1"}},
	} {
		keys, err := s.KVKeys(ctx, gw, jid, tc.prefix)
		must(t, err)
		if !slices.Equal(keys, tc.want) {
			t.Errorf("KVKeys(%q) = %q, want %q", tc.prefix, keys, tc.want)
		}
	}

	must(t, s.KVDelete(ctx, gw, jid, "a/1"))
	must(t, s.KVDelete(ctx, gw, jid, "a/1")) // absent: no error
	_, err = s.KVGet(ctx, gw, jid, "a/1")
	wantNotFound(t, err)
	if keys, _ := s.KVKeys(ctx, gw, jid, "a/"); !slices.Equal(keys, []string{"a/2"}) {
		t.Fatalf("after delete KVKeys = %q", keys)
	}
	if v, _ := s.KVGet(ctx, gw, "bob@example.com", "bin"); string(v) != "bob" {
		t.Fatalf("other user's key changed: %q", v)
	}
}

func testKVQuota(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"
	val := func(n int) []byte { return bytes.Repeat([]byte("v"), n) }
	wantQuota := func(err error) {
		t.Helper()
		if !errors.Is(err, ErrQuota) {
			t.Fatalf("err = %v, want ErrQuota", err)
		}
	}

	must(t, s.KVSet(ctx, gw, jid, "k1", val(8), 20)) // 10
	must(t, s.KVSet(ctx, gw, jid, "k2", val(8), 20)) // 20
	wantQuota(s.KVSet(ctx, gw, jid, "k3", val(1), 20))
	_, err := s.KVGet(ctx, gw, jid, "k3")
	wantNotFound(t, err)
	wantQuota(s.KVSet(ctx, gw, jid, "big", val(100), 20)) // alone over quota

	// Overwriting counts the new value, not the old one.
	must(t, s.KVSet(ctx, gw, jid, "k1", val(2), 20)) // 4 + 10
	must(t, s.KVSet(ctx, gw, jid, "k3", val(1), 20)) // 17
	wantQuota(s.KVSet(ctx, gw, jid, "k1", val(6), 20))
	if v, _ := s.KVGet(ctx, gw, jid, "k1"); len(v) != 2 {
		t.Fatalf("refused write changed the value: %q", v)
	}

	// Other users and gateways do not count; quota 0 is unlimited.
	must(t, s.KVSet(ctx, gw, "bob@example.com", "k", val(1000), 0))
	must(t, s.KVSet(ctx, gw2, jid, "k", val(1000), 0))
	wantQuota(s.KVSet(ctx, gw, jid, "k4", val(3), 20)) // 17 + 5 > 20
	must(t, s.KVSet(ctx, gw, jid, "k4", val(3), 0))    // unlimited

	// Usage counts bytes, not characters: "éé" is 4 bytes.
	const carol = "carol@example.com"
	must(t, s.KVSet(ctx, gw, carol, "éé", nil, 100))
	must(t, s.KVSet(ctx, gw, carol, "x", val(1), 6)) // 4 + 2 = 6
	wantQuota(s.KVSet(ctx, gw, carol, "y", nil, 6))  // 7 > 6
	wantQuota(s.KVSet(ctx, gw, carol, "x", val(2), 6))
}

func testContacts(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"

	_, err := s.Contact(ctx, gw, jid, "42")
	wantNotFound(t, err)
	if cs, err := s.Contacts(ctx, gw, jid); err != nil || len(cs) != 0 {
		t.Fatalf("Contacts on empty store = %v, %v", cs, err)
	}

	at := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	must(t, s.PutContact(ctx, Contact{Gateway: gw, JID: jid, LegacyID: "42", Info: []byte(`{"name":"Bob"}`), UpdatedAt: at}))
	c, err := s.Contact(ctx, gw, jid, "42")
	must(t, err)
	if c.Gateway != gw || c.JID != jid || c.LegacyID != "42" || string(c.Info) != `{"name":"Bob"}` || !c.UpdatedAt.Equal(at) {
		t.Fatalf("Contact = %+v", c)
	}

	// Update; zero UpdatedAt means now.
	must(t, s.PutContact(ctx, Contact{Gateway: gw, JID: jid, LegacyID: "42", Info: []byte(`{"name":"Robert"}`)}))
	c, err = s.Contact(ctx, gw, jid, "42")
	must(t, err)
	if string(c.Info) != `{"name":"Robert"}` || time.Since(c.UpdatedAt) > time.Minute {
		t.Fatalf("updated Contact = %+v at %v", c, c.UpdatedAt)
	}

	must(t, s.PutContact(ctx, Contact{Gateway: gw, JID: jid, LegacyID: "17"}))
	must(t, s.PutContact(ctx, Contact{Gateway: gw, JID: jid, LegacyID: "99"}))
	must(t, s.PutContact(ctx, Contact{Gateway: gw, JID: "bob@example.com", LegacyID: "1"}))
	must(t, s.PutContact(ctx, Contact{Gateway: gw2, JID: jid, LegacyID: "2"}))
	cs, err := s.Contacts(ctx, gw, jid)
	must(t, err)
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.LegacyID)
		if c.JID != jid || c.Gateway != gw {
			t.Errorf("Contacts returned %+v", c)
		}
	}
	if !slices.Equal(ids, []string{"17", "42", "99"}) {
		t.Fatalf("Contacts = %v", ids)
	}
	if string(cs[0].Info) != "{}" {
		t.Errorf("empty info stored as %q, want {}", cs[0].Info)
	}

	must(t, s.DeleteContact(ctx, gw, jid, "42"))
	must(t, s.DeleteContact(ctx, gw, jid, "42"))
	_, err = s.Contact(ctx, gw, jid, "42")
	wantNotFound(t, err)
	if cs, _ := s.Contacts(ctx, gw, jid); len(cs) != 2 {
		t.Fatalf("after delete %d contacts, want 2", len(cs))
	}
	if err := s.PutContact(ctx, Contact{Gateway: gw, JID: jid, LegacyID: "1", Info: []byte("{")}); err == nil {
		t.Fatal("PutContact accepted invalid JSON")
	}
}

func testPutContacts(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"
	var batch []Contact
	for i := range 500 {
		batch = append(batch, Contact{Gateway: gw, JID: jid, LegacyID: fmt.Sprintf("%04d", i), Info: []byte(`{"n":1}`)})
	}
	must(t, s.PutContacts(ctx, batch))
	batch[7].Info = []byte(`{"n":2}`)
	must(t, s.PutContacts(ctx, batch[5:10]))
	cs, err := s.Contacts(ctx, gw, jid)
	must(t, err)
	if len(cs) != 500 || string(cs[7].Info) != `{"n":2}` || string(cs[8].Info) != `{"n":1}` {
		t.Fatalf("%d contacts, [7]=%s [8]=%s", len(cs), cs[7].Info, cs[8].Info)
	}
	// One bad row fails the whole batch and writes nothing.
	bad := []Contact{{Gateway: gw, JID: jid, LegacyID: "new"}, {Gateway: gw, JID: jid, LegacyID: "x", Info: []byte("{")}}
	if err := s.PutContacts(ctx, bad); err == nil {
		t.Fatal("PutContacts accepted invalid JSON")
	}
	_, err = s.Contact(ctx, gw, jid, "new")
	wantNotFound(t, err)
}

func testAvatars(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"
	_, _, err := s.Avatar(ctx, gw, jid, "42")
	wantNotFound(t, err)
	must(t, s.PutAvatar(ctx, gw, jid, "42", "image/png", []byte{1, 2, 3}))
	must(t, s.PutAvatar(ctx, gw, jid, "42", "image/jpeg", []byte{4, 5}))
	data, typ, err := s.Avatar(ctx, gw, jid, "42")
	must(t, err)
	if typ != "image/jpeg" || !slices.Equal(data, []byte{4, 5}) {
		t.Fatalf("Avatar = %v %q", data, typ)
	}
	must(t, s.DeleteAvatar(ctx, gw, jid, "42"))
	must(t, s.DeleteAvatar(ctx, gw, jid, "42"))
	_, _, err = s.Avatar(ctx, gw, jid, "42")
	wantNotFound(t, err)
}

func testOutboxBatch(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	first, err := s.Enqueue(ctx, gw, "a@x", "s0", "<m0/>")
	must(t, err)
	items := []OutItem{{JID: "a@x", StanzaID: "s1", Payload: "<m1/>"}, {JID: "b@x", StanzaID: "s2", Payload: "<m2/>"}}
	must(t, s.EnqueueBatch(ctx, gw, items))
	if items[0].Seq <= first || items[1].Seq <= items[0].Seq {
		t.Fatalf("seqs %d, %d after %d", items[0].Seq, items[1].Seq, first)
	}
	got, err := s.Pending(ctx, gw, first, 0)
	must(t, err)
	if len(got) != 2 || got[0].StanzaID != "s1" || got[1].Payload != "<m2/>" || got[1].Seq != items[1].Seq {
		t.Fatalf("Pending = %+v", got)
	}
}

func testSecrets(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	n := 0
	create := func() ([]byte, error) { n++; return []byte(fmt.Sprintf("key-%d", n)), nil }
	a, err := s.Secret(ctx, gw, "a@x", "tdlib", create)
	must(t, err)
	b, err := s.Secret(ctx, gw, "a@x", "tdlib", create)
	must(t, err)
	c, err := s.Secret(ctx, gw, "b@x", "tdlib", create)
	must(t, err)
	if string(a) != "key-1" || string(b) != "key-1" || string(c) != "key-2" {
		t.Fatalf("secrets %q %q %q", a, b, c)
	}
}

func testMsgMap(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid, chat = "alice@example.com", "chat-1"
	wantIDs := func(xmppID, legacyID string) {
		t.Helper()
		l, err := s.LegacyMsgID(ctx, gw, jid, chat, xmppID)
		must(t, err)
		x, err := s.XMPPMsgID(ctx, gw, jid, chat, legacyID)
		must(t, err)
		if l != legacyID || x != xmppID {
			t.Fatalf("LegacyMsgID(%s) = %s, XMPPMsgID(%s) = %s", xmppID, l, legacyID, x)
		}
	}

	_, err := s.LegacyMsgID(ctx, gw, jid, chat, "x1")
	wantNotFound(t, err)
	_, err = s.XMPPMsgID(ctx, gw, jid, chat, "l1")
	wantNotFound(t, err)

	must(t, s.PutMsgID(ctx, gw, jid, chat, "x1", "l1"))
	wantIDs("x1", "l1")
	must(t, s.PutMsgID(ctx, gw, jid, chat, "x1", "l1")) // idempotent
	wantIDs("x1", "l1")

	// The same ids elsewhere do not collide.
	must(t, s.PutMsgID(ctx, gw, jid, "chat-2", "x1", "other"))
	must(t, s.PutMsgID(ctx, gw, "bob@example.com", chat, "x1", "bob"))
	must(t, s.PutMsgID(ctx, gw2, jid, chat, "x1", "gw2"))
	wantIDs("x1", "l1")
	if x, _ := s.XMPPMsgID(ctx, gw, jid, "chat-2", "other"); x != "x1" {
		t.Fatalf("chat-2 mapping = %q", x)
	}

	// One-to-one: a new mapping replaces what shares either id.
	must(t, s.PutMsgID(ctx, gw, jid, chat, "x1", "l2"))
	wantIDs("x1", "l2")
	_, err = s.XMPPMsgID(ctx, gw, jid, chat, "l1")
	wantNotFound(t, err)
	must(t, s.PutMsgID(ctx, gw, jid, chat, "x3", "l2"))
	wantIDs("x3", "l2")
	_, err = s.LegacyMsgID(ctx, gw, jid, chat, "x1")
	wantNotFound(t, err)
	must(t, s.PutMsgID(ctx, gw, jid, chat, "x4", "l4"))
	must(t, s.PutMsgID(ctx, gw, jid, chat, "x3", "l4")) // conflicts on both sides
	wantIDs("x3", "l4")

	var n int
	must(t, s.db.QueryRowContext(ctx, s.rebind("SELECT COUNT(*) FROM msgmap WHERE gateway = ? AND jid = ? AND chat = ?"), gw, jid, chat).Scan(&n))
	if n != 1 {
		t.Fatalf("msgmap holds %d rows for the chat, want 1", n)
	}

	// The unique indexes are really there.
	q := s.rebind("INSERT INTO msgmap (gateway, jid, chat, xmpp_id, legacy_id, created_at) VALUES (?, ?, ?, ?, ?, 0)")
	if _, err := s.db.ExecContext(ctx, q, gw, jid, chat, "x9", "l4"); err == nil {
		t.Error("duplicate legacy_id accepted")
	}
	if _, err := s.db.ExecContext(ctx, q, gw, jid, chat, "x3", "l9"); err == nil {
		t.Error("duplicate xmpp_id accepted")
	}
}

func testPruneMsgIDs(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	users := []struct{ g, jid string }{{gw, "alice@example.com"}, {gw, "bob@example.com"}, {gw2, "alice@example.com"}}
	for _, u := range users {
		must(t, s.PutUser(ctx, User{Gateway: u.g, JID: u.jid}))
		for i := range 4 {
			must(t, s.PutMsgID(ctx, u.g, u.jid, "chat", fmt.Sprintf("x%d", i), fmt.Sprintf("l%d", i)))
		}
	}
	// x0 and x1 of every user are 100 days old.
	old := time.Now().Add(-100 * 24 * time.Hour).UnixMicro()
	_, err := s.db.ExecContext(ctx, s.rebind("UPDATE msgmap SET created_at = ? WHERE xmpp_id IN ('x0', 'x1')"), old)
	must(t, err)

	n, err := s.PruneMsgIDs(ctx, time.Now().Add(-90*24*time.Hour))
	must(t, err)
	if n != 6 {
		t.Fatalf("PruneMsgIDs removed %d mappings, want 6", n)
	}
	for _, u := range users {
		for i := range 4 {
			l, err := s.LegacyMsgID(ctx, u.g, u.jid, "chat", fmt.Sprintf("x%d", i))
			if i < 2 {
				wantNotFound(t, err)
				continue
			}
			must(t, err)
			if l != fmt.Sprintf("l%d", i) {
				t.Fatalf("%s %s: x%d maps to %q after pruning", u.g, u.jid, i, l)
			}
		}
	}
	n, err = s.PruneMsgIDs(ctx, time.Now().Add(-90*24*time.Hour))
	must(t, err)
	if n != 0 {
		t.Fatalf("a second PruneMsgIDs removed %d mappings, want 0", n)
	}
}

func testOutbox(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)

	if items, err := s.Pending(ctx, gw, 0, 10); err != nil || len(items) != 0 {
		t.Fatalf("Pending on empty = %v, %v", items, err)
	}
	var seqs []int64
	for i := range 5 {
		jid := []string{"alice@example.com", "bob@example.com"}[i%2]
		seq, err := s.Enqueue(ctx, gw, jid, "s"+strconv.Itoa(i), "<message id='s"+strconv.Itoa(i)+"'/>")
		must(t, err)
		if len(seqs) > 0 && seq <= seqs[len(seqs)-1] {
			t.Fatalf("seq %d after %d", seq, seqs[len(seqs)-1])
		}
		seqs = append(seqs, seq)
	}
	other, err := s.Enqueue(ctx, gw2, "alice@example.com", "o", "<o/>")
	must(t, err)

	ids := func(items []OutItem) (out []string) {
		for _, it := range items {
			out = append(out, it.StanzaID)
		}
		return out
	}
	all, err := s.Pending(ctx, gw, 0, 0)
	must(t, err)
	if got := ids(all); !slices.Equal(got, []string{"s0", "s1", "s2", "s3", "s4"}) {
		t.Fatalf("Pending = %v", got)
	}
	it := all[1]
	if it.Seq != seqs[1] || it.JID != "bob@example.com" || it.Payload != "<message id='s1'/>" || time.Since(it.CreatedAt) > time.Minute {
		t.Fatalf("item = %+v", it)
	}
	page, err := s.Pending(ctx, gw, 0, 2)
	must(t, err)
	if got := ids(page); !slices.Equal(got, []string{"s0", "s1"}) {
		t.Fatalf("first page = %v", got)
	}
	page, err = s.Pending(ctx, gw, page[1].Seq, 2)
	must(t, err)
	if got := ids(page); !slices.Equal(got, []string{"s2", "s3"}) {
		t.Fatalf("second page = %v", got)
	}

	must(t, s.Ack(ctx, gw, seqs[2]))
	rest, err := s.Pending(ctx, gw, 0, 0)
	must(t, err)
	if got := ids(rest); !slices.Equal(got, []string{"s3", "s4"}) {
		t.Fatalf("after Ack Pending = %v", got)
	}
	if o, _ := s.Pending(ctx, gw2, 0, 0); len(o) != 1 || o[0].Seq != other {
		t.Fatalf("other gateway's queue = %+v", o)
	}

	must(t, s.Ack(ctx, gw, seqs[4]))
	if rest, _ := s.Pending(ctx, gw, 0, 0); len(rest) != 0 {
		t.Fatalf("after full Ack Pending = %v", ids(rest))
	}
	// Sequence numbers never go back, even with the queue empty.
	seq, err := s.Enqueue(ctx, gw, "alice@example.com", "s5", "<m/>")
	must(t, err)
	if seq <= seqs[4] || seq <= other {
		t.Fatalf("seq after full Ack = %d, want > %d", seq, max(seqs[4], other))
	}
	if o, _ := s.Pending(ctx, gw2, 0, 0); len(o) != 1 {
		t.Fatalf("Ack of %s touched %s", gw, gw2)
	}
}

func testJournal(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"
	pending := func(jid string) []string {
		t.Helper()
		items, err := s.JournalPending(ctx, gw, jid)
		must(t, err)
		var out []string
		for _, it := range items {
			out = append(out, it.StanzaID+"="+it.Payload)
			if time.Since(it.CreatedAt) > time.Minute {
				t.Errorf("CreatedAt = %v", it.CreatedAt)
			}
		}
		return out
	}

	if p := pending(jid); len(p) != 0 {
		t.Fatalf("JournalPending on empty = %v", p)
	}
	// Arrival order, not id order.
	for _, id := range []string{"c", "a", "b"} {
		must(t, s.JournalOpen(ctx, gw, jid, id, "p"+id))
	}
	must(t, s.JournalOpen(ctx, gw, jid, "c", "changed")) // idempotent: first payload kept
	must(t, s.JournalOpen(ctx, gw, "bob@example.com", "a", "bob"))
	must(t, s.JournalOpen(ctx, gw2, jid, "a", "gw2"))
	if p := pending(jid); !slices.Equal(p, []string{"c=pc", "a=pa", "b=pb"}) {
		t.Fatalf("JournalPending = %v", p)
	}

	must(t, s.JournalClose(ctx, gw, jid, "a"))
	must(t, s.JournalClose(ctx, gw, jid, "unknown"))
	if p := pending(jid); !slices.Equal(p, []string{"c=pc", "b=pb"}) {
		t.Fatalf("after close JournalPending = %v", p)
	}
	must(t, s.JournalOpen(ctx, gw, jid, "a", "again"))
	if p := pending(jid); !slices.Equal(p, []string{"c=pc", "b=pb", "a=again"}) {
		t.Fatalf("after reopen JournalPending = %v", p)
	}
	for _, id := range []string{"a", "b", "c"} {
		must(t, s.JournalClose(ctx, gw, jid, id))
	}
	if p := pending(jid); len(p) != 0 {
		t.Fatalf("after closing all JournalPending = %v", p)
	}
	if p := pending("bob@example.com"); !slices.Equal(p, []string{"a=bob"}) {
		t.Fatalf("bob's journal = %v", p)
	}
}

// populate writes a row for user jid of gateway g in every table.
func populate(t *testing.T, s *Store, g, jid string) {
	t.Helper()
	ctx := context.Background()
	must(t, s.PutUser(ctx, User{Gateway: g, JID: jid, Form: []byte(`{"phone":"+1"}`)}))
	must(t, s.KVSet(ctx, g, jid, "k", []byte("v"), 0))
	must(t, s.KVSet(ctx, g, jid, "k2", []byte("v"), 0))
	must(t, s.PutContact(ctx, Contact{Gateway: g, JID: jid, LegacyID: "c1"}))
	must(t, s.PutMsgID(ctx, g, jid, "chat", "x", "l"))
	_, err := s.Enqueue(ctx, g, jid, "s", "<m/>")
	must(t, err)
	must(t, s.JournalOpen(ctx, g, jid, "j", "<m/>"))
	must(t, s.PutAvatar(ctx, g, jid, "c1", "image/png", []byte{1}))
	_, err = s.Secret(ctx, g, jid, "k", func() ([]byte, error) { return []byte("v"), nil })
	must(t, err)
}

func testDeleteUser(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const alice, bob = "alice@example.com", "bob@example.com"
	populate(t, s, gw, alice)
	populate(t, s, gw, bob)
	populate(t, s, gw2, alice)

	must(t, s.DeleteUser(ctx, gw, alice))
	must(t, s.DeleteUser(ctx, gw, alice))                // again: no error
	must(t, s.DeleteUser(ctx, gw, "nobody@example.com")) // absent: no error

	_, err := s.User(ctx, gw, alice)
	wantNotFound(t, err)
	ts := tables(t, s)
	if len(ts) != len(userTables)+1 {
		t.Errorf("tables = %v, want %v + schema_migrations", ts, userTables)
	}
	for _, table := range ts {
		if table == "schema_migrations" {
			continue
		}
		// A table without gateway/jid columns fails here: every table
		// must be keyed by user so DeleteUser can wipe it.
		if n := countRows(t, s, table, gw, alice); n != 0 {
			t.Errorf("%s: %d rows left for the deleted user", table, n)
		}
		if n := countRows(t, s, table, gw, bob); n == 0 {
			t.Errorf("%s: other user's rows deleted (or populate misses the table)", table)
		}
		if n := countRows(t, s, table, gw2, alice); n == 0 {
			t.Errorf("%s: same user on another gateway deleted", table)
		}
	}
	if _, err := s.User(ctx, gw, bob); err != nil {
		t.Fatalf("bob: %v", err)
	}
}

// testConcurrentWriters runs 8 goroutines x 100 Enqueue (plus other
// writes) while a reader pages through the queue with a cursor, as the
// sender does: the reader must see every item exactly once, in order.
func testConcurrentWriters(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const writers, per = 8, 100

	var wg sync.WaitGroup
	errc := make(chan error, writers+1)
	for w := range writers {
		wg.Go(func() {
			jid := fmt.Sprintf("user%d@example.com", w)
			for i := range per {
				id := fmt.Sprintf("%d-%03d", w, i)
				if _, err := s.Enqueue(ctx, gw, jid, id, "<message/>"); err != nil {
					errc <- err
					return
				}
				if i%10 == 0 {
					err := errors.Join(
						s.PutMsgID(ctx, gw, jid, "chat", "x"+id, "l"+id),
						s.JournalOpen(ctx, gw, jid, id, "<message/>"),
						s.KVSet(ctx, gw, jid, id, []byte("v"), 1<<20),
					)
					if err != nil {
						errc <- err
						return
					}
				}
			}
		})
	}

	var seen []OutItem
	writersDone := make(chan struct{})
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		var after int64
		for {
			// Read the done flag before querying: once the writers are
			// done, an empty page means the reader has seen everything
			// it ever will.
			var done bool
			select {
			case <-writersDone:
				done = true
			default:
			}
			items, err := s.Pending(ctx, gw, after, 64)
			if err != nil {
				errc <- err
				return
			}
			if len(items) == 0 {
				if done {
					return
				}
				time.Sleep(time.Millisecond)
				continue
			}
			seen = append(seen, items...)
			after = items[len(items)-1].Seq
		}
	}()
	wg.Wait()
	close(writersDone)
	<-readerDone
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}

	if len(seen) != writers*per {
		// A cursor reader skips rows committed after a row with a
		// larger seq: Enqueue must make seq order equal commit order.
		t.Fatalf("reader paging with a cursor saw %d items, want %d", len(seen), writers*per)
	}
	last := make(map[string]string)
	ids := make(map[string]bool)
	for i, it := range seen {
		if i > 0 && it.Seq <= seen[i-1].Seq {
			t.Fatalf("seq %d after %d", it.Seq, seen[i-1].Seq)
		}
		if ids[it.StanzaID] {
			t.Fatalf("%s seen twice", it.StanzaID)
		}
		ids[it.StanzaID] = true
		if prev := last[it.JID]; prev >= it.StanzaID {
			t.Fatalf("%s: %s after %s", it.JID, it.StanzaID, prev)
		}
		last[it.JID] = it.StanzaID
	}
	if items, _ := s.JournalPending(ctx, gw, "user3@example.com"); len(items) != per/10 {
		t.Fatalf("journal has %d items, want %d", len(items), per/10)
	}
	must(t, s.Ack(ctx, gw, seen[len(seen)-1].Seq))
	if items, _ := s.Pending(ctx, gw, 0, 0); len(items) != 0 {
		t.Fatalf("%d items left after Ack", len(items))
	}
}

// testConcurrentQuota races KVSet calls of one user: the quota check must
// be atomic, so exactly quota/entry writes succeed.
func testConcurrentQuota(t *testing.T, o Options) {
	ctx := context.Background()
	s := openT(t, o)
	const jid = "alice@example.com"
	const writers, per, quota = 8, 20, 500 // entries of 10 bytes: 50 fit

	var wg sync.WaitGroup
	var mu sync.Mutex
	ok := 0
	for w := range writers {
		wg.Go(func() {
			for i := range per {
				err := s.KVSet(ctx, gw, jid, fmt.Sprintf("k%d-%03d", w, i), []byte("vvvv"), quota) // 6 + 4 bytes
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, ErrQuota):
					t.Error(err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	keys, err := s.KVKeys(ctx, gw, jid, "")
	must(t, err)
	if ok != quota/10 || len(keys) != ok {
		t.Fatalf("%d writes succeeded, %d keys stored, want %d", ok, len(keys), quota/10)
	}
}

func openBench(b *testing.B) *Store {
	b.Helper()
	return openT(b, Options{Driver: DriverSQLite, DSN: filepath.Join(b.TempDir(), "bench.db")})
}

// BenchmarkEnqueueAck measures one outbound stanza's persistence cost on
// SQLite: Enqueue then Ack.
func BenchmarkEnqueueAck(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	payload := "<message to='alice@example.com' from='123@telegram.example.org' id='abc'><body>hello</body></message>"
	b.ReportAllocs()
	for b.Loop() {
		seq, err := s.Enqueue(ctx, gw, "alice@example.com", "abc", payload)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.Ack(ctx, gw, seq); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPutMsgID measures recording one id mapping on SQLite.
func BenchmarkPutMsgID(b *testing.B) {
	ctx := context.Background()
	s := openBench(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i++
		id := strconv.Itoa(i)
		if err := s.PutMsgID(ctx, gw, "alice@example.com", "chat", "x"+id, id); err != nil {
			b.Fatal(err)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"unknown driver", Options{Driver: "mysql", DSN: "x"}},
		{"empty sqlite path", Options{Driver: DriverSQLite}},
		{"empty postgres DSN", Options{Driver: DriverPostgres}},
		{"bad postgres DSN", Options{Driver: DriverPostgres, DSN: "postgres://gw:s3cret@localhost:notaport/db"}},
		{"sqlite file: URI with parameters", Options{Driver: DriverSQLite, DSN: "file:/tmp/x.db?mode=ro"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := Open(ctx, tc.o)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Fatalf("error leaks the password: %v", err)
			}
		})
	}
}

// The SQLite DSN forms the configuration accepts: a path, a file: URI, ":memory:". A file is
// owned by one Store at a time, and free again once it is closed.
func TestSQLiteDSNForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	for _, dsn := range []string{filepath.Join(dir, "a.db"), "file://" + filepath.Join(dir, "b.db"), ":memory:"} {
		t.Run(dsn, func(t *testing.T) {
			s, err := Open(ctx, Options{DSN: dsn})
			must(t, err)
			must(t, s.PutMsgID(ctx, gw, "alice@example.com", "c", "x", "l"))
			if l, err := s.LegacyMsgID(ctx, gw, "alice@example.com", "c", "x"); err != nil || l != "l" {
				t.Fatalf("LegacyMsgID = %q, %v", l, err)
			}
			if dsn != ":memory:" {
				if s2, err := Open(ctx, Options{DSN: dsn}); !errors.Is(err, ErrInUse) {
					if s2 != nil {
						s2.Close()
					}
					t.Fatalf("second Open: %v, want ErrInUse", err)
				}
			}
			must(t, s.Close())
			if dsn != ":memory:" {
				s, err = Open(ctx, Options{DSN: dsn})
				must(t, err)
				must(t, s.Close())
			}
		})
	}
	for _, name := range []string{"a.db", "b.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
}

// testUpgradeJournal upgrades a database with open journal entries and queued stanzas from
// schema 3: nothing is lost and the order is kept.
func testUpgradeJournal(t *testing.T, o Options) {
	ctx := context.Background()
	s, err := open(ctx, o, migrations[:3])
	must(t, err)
	for _, id := range []string{"m3", "m1", "m2"} {
		must(t, s.JournalOpen(ctx, gw, "a@x", id, "<message id='"+id+"'/>"))
	}
	seq, err := s.Enqueue(ctx, gw, "a@x", "o1", "<message id='o1'/>")
	must(t, err)
	must(t, s.Close())

	s = openT(t, o)
	items, err := s.JournalPending(ctx, gw, "a@x")
	must(t, err)
	var ids []string
	for _, it := range items {
		ids = append(ids, it.StanzaID)
	}
	if !slices.Equal(ids, []string{"m3", "m1", "m2"}) {
		t.Fatalf("journal after upgrade: %v", ids)
	}
	must(t, s.JournalOpen(ctx, gw, "a@x", "m4", "<message id='m4'/>"))
	must(t, s.JournalClose(ctx, gw, "a@x", "m1"))
	items, err = s.JournalPending(ctx, gw, "a@x")
	must(t, err)
	if len(items) != 3 || items[2].StanzaID != "m4" {
		t.Fatalf("journal after upgrade and writes: %+v", items)
	}
	out, err := s.Pending(ctx, gw, 0, 0)
	must(t, err)
	if len(out) != 1 || out[0].Seq != seq || out[0].StanzaID != "o1" {
		t.Fatalf("outbox after upgrade: %+v", out)
	}
	next, err := s.Enqueue(ctx, gw, "a@x", "o2", "<message id='o2'/>")
	must(t, err)
	if next <= seq {
		t.Fatalf("outbox seq went back: %d after %d", next, seq)
	}
}
