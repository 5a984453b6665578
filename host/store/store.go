// Package store is the gateway's persistence layer, built on database/sql.
//
// SQLite (pure Go, modernc.org/sqlite) is the embedded default, so a gateway
// runs with no external service; PostgreSQL (through pgx) is available for
// deployments that already operate one or want several gateway processes on
// one database.
//
// Every row is keyed by gateway (its component JID) and user (a bare JID), so
// a user's state can be rebuilt from the store after a restart and wiped
// completely with DeleteUser when the user unregisters.
//
// The schema is versioned: Open applies, in order, each migration the
// database has not seen yet, each in its own transaction, and refuses a
// database written by a newer gateway.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// ErrNotFound is returned (wrapped; test with errors.Is) by lookups whose row
// does not exist, so callers can tell "absent" from a failing database.
var ErrNotFound = errors.New("not found")

// ErrQuota is returned (wrapped; test with errors.Is) by KVSet when the write
// would take the user's key-value storage over its quota, so a runaway plugin
// cannot fill the disk. Nothing is written in that case.
var ErrQuota = errors.New("kv quota exceeded")

// ErrSchemaTooNew is returned (wrapped; test with errors.Is) by Open when the
// database was migrated by a newer gateway than this one: running an older
// binary against a newer schema could corrupt data, so the gateway must be
// upgraded instead.
var ErrSchemaTooNew = errors.New("database schema is newer than this gateway")

// ErrInUse is returned (wrapped; test with errors.Is) by Open when another
// process holds the SQLite file: a gateway owns its SQLite database while it
// runs, so two gateways cannot both serve the same users from one file.
var ErrInUse = errors.New("database file in use by another process (one gateway per SQLite file; PostgreSQL can be shared)")

// Driver names accepted in Options.Driver.
const (
	// DriverSQLite selects the embedded SQLite backend (the default).
	DriverSQLite = "sqlite"
	// DriverPostgres selects the PostgreSQL backend.
	DriverPostgres = "postgres"
)

// Options says which database Open connects to.
type Options struct {
	// Driver is "sqlite" (the default when empty) or "postgres".
	Driver string
	// DSN locates the database. For sqlite it is a file path (the parent
	// directory is created; the file is created on first open). For postgres
	// it is a URL (postgres://user@host:port/db?sslmode=disable) or a
	// key=value connection string, as understood by pgx.
	DSN string
}

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// Store is an open, migrated database. It is safe for concurrent use by
// multiple goroutines. Create it with Open and release it with Close.
type Store struct {
	db      *sql.DB
	dialect dialect
	owner   io.Closer // SQLite: the lock that makes this process the file's only user

	// Prepared statements, prepared once by Open after migrating.
	putUser, getUser, listUsers                      *sql.Stmt
	kvGet, kvSet, kvUsage, kvLock, kvDelete, kvKeys  *sql.Stmt
	putContact, getContact, listContacts, delContact *sql.Stmt
	putMsg, legacyMsg, xmppMsg, pruneMsg             *sql.Stmt
	enqueue, pending, ack                            *sql.Stmt
	jOpen, jClose, jPending                          *sql.Stmt
	putAvatar, getAvatar, delAvatar                  *sql.Stmt
	putSecret, getSecret                             *sql.Stmt
	stmts                                            []*sql.Stmt // all of the above, for Close

	// deleteUser holds one DELETE per user-keyed table, run in one
	// transaction by DeleteUser.
	deleteUser []string

	// w commits the message path's writes in groups.
	w *writer
}

// Open connects to the database described by o, checks that it answers and
// applies any pending schema migrations, so the returned Store is ready for
// use. For SQLite it creates the parent directory, enables WAL, a busy
// timeout and foreign keys, and uses a single connection so that writers
// never contend (no SQLITE_BUSY inside the process).
func Open(ctx context.Context, o Options) (*Store, error) { return open(ctx, o, migrations) }

// open is Open applying only the given migration steps (tests upgrade from older schemas).
func open(ctx context.Context, o Options, steps []migration) (*Store, error) {
	var (
		s   = &Store{}
		db  *sql.DB
		err error
	)
	switch o.Driver {
	case "", DriverSQLite:
		s.dialect = sqliteDialect
		db, s.owner, err = openSQLite(o.DSN)
	case DriverPostgres:
		s.dialect = postgresDialect
		db, err = openPostgres(o.DSN)
	default:
		return nil, fmt.Errorf("store: unknown driver %q (want %q or %q)", o.Driver, DriverSQLite, DriverPostgres)
	}
	if err != nil {
		return nil, err
	}
	s.db = db
	if err := db.PingContext(ctx); err != nil {
		s.closeDB()
		return nil, fmt.Errorf("store: connect: %w", s.inUse(err))
	}
	if err := s.migrate(ctx, steps); err != nil {
		s.closeDB()
		return nil, s.inUse(err)
	}
	s.w = newWriter(s)
	if err := s.prepare(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// sqlitePragmas run on every new SQLite connection; see openSQLite.
const sqlitePragmas = "_pragma=busy_timeout(2000)" +
	"&_pragma=locking_mode(EXCLUSIVE)" +
	"&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)" +
	"&_pragma=foreign_keys(1)" +
	"&_txlock=immediate"

// openSQLite opens path: a file path, a "file:" URI without parameters, or ":memory:" (a
// database that lives as long as the Store).
func openSQLite(path string) (*sql.DB, io.Closer, error) {
	switch {
	case path == "":
		return nil, nil, errors.New("store: sqlite: empty DSN (want a file path)")
	case path == ":memory:":
		db, err := sql.Open("sqlite", "file::memory:?"+sqlitePragmas)
		if err != nil {
			return nil, nil, fmt.Errorf("store: sqlite: %w", err)
		}
		oneConn(db)
		return db, nopCloser{}, nil
	case strings.HasPrefix(path, "file:"):
		u, err := url.Parse(path)
		if err != nil || u.RawQuery != "" || u.Fragment != "" {
			return nil, nil, fmt.Errorf("store: sqlite: %q: want a file: URI with a path and no parameters (the gateway sets its own)", path)
		}
		path = u.Path
		if path == "" {
			path = u.Opaque
		}
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, nil, fmt.Errorf("store: sqlite path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(abs), 0o750); err != nil {
		return nil, nil, fmt.Errorf("store: sqlite: create directory: %w", err)
	}
	// Ownership is settled before SQLite opens the file: several openers at once could
	// otherwise each hold a shared lock that stops the others' writes until all time out.
	owner, err := lockFile(abs)
	if err != nil {
		return nil, nil, err
	}
	// A file: URI, so that '?', '#' and '%' in the path are escaped and not
	// mistaken for the parameter list. The pragmas run on every new
	// connection. synchronous=NORMAL is durable across process crashes in
	// WAL mode; a power loss may lose the last transactions but never
	// corrupts the database. The gateway owns the file while it runs
	// (locking_mode EXCLUSIVE): no lock and unlock system calls per
	// transaction, no shared-memory index; a second process is refused
	// with ErrInUse by the lock file, or else by SQLite after the busy
	// timeout, instead of serving the same users.
	// _txlock=immediate takes the write lock at BEGIN.
	dsn := (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String() + "?" + sqlitePragmas
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		owner.Close()
		return nil, nil, fmt.Errorf("store: sqlite: %w", err)
	}
	oneConn(db)
	return db, owner, nil
}

// oneConn makes db use a single connection, kept forever: SQLite allows one writer at a time
// anyway, and one connection serialises all access inside the process instead of surfacing
// SQLITE_BUSY (and keeps a ":memory:" database alive).
func oneConn(db *sql.DB) {
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// inUse adds ErrInUse to a SQLite "busy" error: another process holds the file.
func (s *Store) inUse(err error) error {
	var coded interface{ Code() int }
	if s.dialect == sqliteDialect && errors.As(err, &coded) && coded.Code()&0xff == sqliteBusy {
		return fmt.Errorf("%w: %w", ErrInUse, err)
	}
	return err
}

// sqliteBusy is SQLITE_BUSY, the primary result code of a locked file.
const sqliteBusy = 5

func openPostgres(dsn string) (*sql.DB, error) {
	if dsn == "" {
		return nil, errors.New("store: postgres: empty DSN")
	}
	// Parsed here rather than at first connect: pgx's parse errors quote
	// the DSN, and a DSN can hold a password, so the error stays generic.
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, errors.New("store: postgres: invalid DSN (want a postgres:// URL or key=value string)")
	}
	db := stdlib.OpenDB(*cfg)
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(8)
	db.SetConnMaxIdleTime(5 * time.Minute)
	return db, nil
}

// Close releases the prepared statements and the database connections.
// The Store must not be used afterwards.
func (s *Store) Close() error {
	if s.w != nil {
		s.w.close()
	}
	for _, st := range s.stmts {
		st.Close()
	}
	s.stmts = nil
	if err := s.closeDB(); err != nil {
		return fmt.Errorf("store: close: %w", err)
	}
	return nil
}

// closeDB closes the database, then gives up the ownership of a SQLite file.
func (s *Store) closeDB() error {
	err := s.db.Close()
	if s.owner != nil {
		err = errors.Join(err, s.owner.Close())
		s.owner = nil
	}
	return err
}

// Ping reports whether the database answers; it backs the /healthz
// endpoint.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.db.PingContext(ctx); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// rebind rewrites the '?' placeholders of q into PostgreSQL's $1, $2, ...
// for the postgres dialect. The queries in this package never contain '?'
// inside literals, so a plain scan is enough.
func (s *Store) rebind(q string) string {
	if s.dialect != postgresDialect || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// pick returns the query for the store's dialect, rebound.
func (s *Store) pick(sqliteQ, postgresQ string) string {
	if s.dialect == postgresDialect {
		return s.rebind(postgresQ)
	}
	return sqliteQ
}

// userTables lists every table keyed by (gateway, jid). DeleteUser wipes
// each of them; a new per-user table must be added here (the test suite
// fails when a table is missing from this list).
var userTables = []string{"users", "kv", "contacts", "msgmap", "outbox", "journal", "avatars", "secrets"}

func (s *Store) prepare(ctx context.Context) error {
	var err error
	p := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var st *sql.Stmt
		st, err = s.db.PrepareContext(ctx, q)
		if err != nil {
			err = fmt.Errorf("store: prepare %q: %w", q, err)
			return nil
		}
		s.stmts = append(s.stmts, st)
		return st
	}
	both := func(q string) *sql.Stmt { return p(s.rebind(q)) }
	dia := func(sqliteQ, postgresQ string) *sql.Stmt { return p(s.pick(sqliteQ, postgresQ)) }

	// users
	s.putUser = both(`INSERT INTO users (gateway, jid, registered_at, form, state) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (gateway, jid) DO UPDATE SET form = excluded.form, state = excluded.state`)
	s.getUser = both(`SELECT registered_at, form, state FROM users WHERE gateway = ? AND jid = ?`)
	s.listUsers = both(`SELECT jid, registered_at, form, state FROM users WHERE gateway = ? ORDER BY jid`)

	// kv
	s.kvGet = both(`SELECT value FROM kv WHERE gateway = ? AND jid = ? AND key = ?`)
	s.kvSet = both(`INSERT INTO kv (gateway, jid, key, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (gateway, jid, key) DO UPDATE SET value = excluded.value`)
	s.kvUsage = dia(
		`SELECT COALESCE(SUM(LENGTH(CAST(key AS BLOB)) + LENGTH(value)), 0) FROM kv WHERE gateway = ? AND jid = ? AND key <> ?`,
		`SELECT COALESCE(SUM(OCTET_LENGTH(key) + OCTET_LENGTH(value)), 0) FROM kv WHERE gateway = ? AND jid = ? AND key <> ?`)
	if s.dialect == postgresDialect {
		// Serialises quota-checked writes of one user across connections
		// (and processes), so two concurrent KVSet cannot both pass the
		// check. Hash collisions only cost extra serialisation.
		s.kvLock = both(`SELECT pg_advisory_xact_lock(hashtextextended('kv ' || ?::text || ' ' || ?::text, 0))`)
	}
	s.kvDelete = both(`DELETE FROM kv WHERE gateway = ? AND jid = ? AND key = ?`)
	s.kvKeys = dia(
		`SELECT key FROM kv WHERE gateway = ? AND jid = ? AND substr(key, 1, length(?)) = ? ORDER BY key`,
		`SELECT key FROM kv WHERE gateway = ? AND jid = ? AND starts_with(key, ?) ORDER BY key`)

	// contacts
	s.putContact = both(`INSERT INTO contacts (gateway, jid, legacy_id, info, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (gateway, jid, legacy_id) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at`)
	s.getContact = both(`SELECT info, updated_at FROM contacts WHERE gateway = ? AND jid = ? AND legacy_id = ?`)
	s.listContacts = both(`SELECT legacy_id, info, updated_at FROM contacts WHERE gateway = ? AND jid = ? ORDER BY legacy_id`)
	s.delContact = both(`DELETE FROM contacts WHERE gateway = ? AND jid = ? AND legacy_id = ?`)

	// avatars
	s.putAvatar = both(`INSERT INTO avatars (gateway, jid, legacy_id, type, data) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (gateway, jid, legacy_id) DO UPDATE SET type = excluded.type, data = excluded.data`)
	s.getAvatar = both(`SELECT type, data FROM avatars WHERE gateway = ? AND jid = ? AND legacy_id = ?`)
	s.delAvatar = both(`DELETE FROM avatars WHERE gateway = ? AND jid = ? AND legacy_id = ?`)

	// secrets: first writer wins, so concurrent creators agree on one value.
	s.putSecret = both(`INSERT INTO secrets (gateway, jid, name, value) VALUES (?, ?, ?, ?)
		ON CONFLICT (gateway, jid, name) DO NOTHING`)
	s.getSecret = both(`SELECT value FROM secrets WHERE gateway = ? AND jid = ? AND name = ?`)

	// msgmap: a new mapping replaces any row that conflicts with it on
	// either side, keeping both directions one-to-one, in one statement.
	s.putMsg = dia(
		`INSERT OR REPLACE INTO msgmap (gateway, jid, chat, xmpp_id, legacy_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		// The INSERT reads the DELETE's output, which forces the delete to
		// run first (a data-modifying CTE that nobody reads runs last).
		`WITH d AS (
			DELETE FROM msgmap WHERE gateway = $1 AND jid = $2 AND chat = $3 AND (xmpp_id = $4 OR legacy_id = $5) RETURNING 1
		)
		INSERT INTO msgmap (gateway, jid, chat, xmpp_id, legacy_id, created_at)
		SELECT $1, $2, $3, $4, $5, $6::bigint WHERE (SELECT count(*) FROM d) >= 0`)
	s.legacyMsg = both(`SELECT legacy_id FROM msgmap WHERE gateway = ? AND jid = ? AND chat = ? AND xmpp_id = ?`)
	s.xmppMsg = both(`SELECT xmpp_id FROM msgmap WHERE gateway = ? AND jid = ? AND chat = ? AND legacy_id = ?`)
	s.pruneMsg = both(`DELETE FROM msgmap WHERE gateway = ? AND jid = ? AND created_at < ?`)

	// outbox
	s.enqueue = dia(
		`INSERT INTO outbox (gateway, jid, stanza_id, payload, created_at) VALUES (?, ?, ?, ?, ?)`,
		// The per-gateway transaction lock, taken before the sequence
		// number is drawn and held until commit, makes seq order equal
		// commit order, so a reader paging with Pending(afterSeq) never
		// skips a row committed late with a smaller seq.
		`WITH l AS (SELECT pg_advisory_xact_lock(hashtextextended('outbox ' || $1::text, 0)))
		INSERT INTO outbox (gateway, jid, stanza_id, payload, created_at)
		SELECT $1::text, $2::text, $3::text, $4::text, $5::bigint FROM l RETURNING seq`)
	s.pending = both(`SELECT seq, jid, stanza_id, payload, created_at FROM outbox WHERE gateway = ? AND seq > ? ORDER BY seq LIMIT ?`)
	s.ack = both(`DELETE FROM outbox WHERE gateway = ? AND seq <= ?`)

	// journal
	s.jOpen = both(`INSERT INTO journal (gateway, jid, stanza_id, payload, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (gateway, jid, stanza_id) DO NOTHING`)
	s.jClose = both(`DELETE FROM journal WHERE gateway = ? AND jid = ? AND stanza_id = ?`)
	s.jPending = both(`SELECT stanza_id, payload, created_at FROM journal WHERE gateway = ? AND jid = ? ORDER BY seq`)

	for _, t := range userTables {
		s.deleteUser = append(s.deleteUser, s.rebind("DELETE FROM "+t+" WHERE gateway = ? AND jid = ?"))
	}
	return err
}

// now is the time source for stored timestamps (unix microseconds).
func now() int64 { return time.Now().UnixMicro() }

// micros converts t for storage; the zero time means "now".
func micros(t time.Time) int64 {
	if t.IsZero() {
		return now()
	}
	return t.UnixMicro()
}

// fromMicros converts a stored timestamp back, in UTC.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// notFound maps sql.ErrNoRows to ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	return err
}
