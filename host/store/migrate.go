package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one step of the schema. Steps are applied in slice order,
// each in its own transaction, and recorded in schema_migrations. A step
// must never be edited once released: add a new one instead.
type migration struct {
	version int
	// sqlite and postgres hold the statements for each dialect. When
	// postgres is nil the sqlite statements are used for both, with '?'
	// placeholders rebound.
	sqlite, postgres []string
}

// Timestamps are stored as BIGINT unix microseconds in both dialects, so the
// code reads and writes them identically. Text keys in PostgreSQL use the
// "C" collation so that ORDER BY is bytewise, as in SQLite.
var migrations = []migration{
	{
		version: 1,
		sqlite: []string{
			`CREATE TABLE users (
				gateway       TEXT NOT NULL,
				jid           TEXT NOT NULL,
				registered_at INTEGER NOT NULL,
				form          TEXT NOT NULL,
				state         TEXT NOT NULL,
				PRIMARY KEY (gateway, jid)
			) STRICT, WITHOUT ROWID`,
			`CREATE TABLE kv (
				gateway TEXT NOT NULL,
				jid     TEXT NOT NULL,
				key     TEXT NOT NULL,
				value   BLOB NOT NULL,
				PRIMARY KEY (gateway, jid, key)
			) STRICT, WITHOUT ROWID`,
			`CREATE TABLE contacts (
				gateway    TEXT NOT NULL,
				jid        TEXT NOT NULL,
				legacy_id  TEXT NOT NULL,
				info       TEXT NOT NULL,
				updated_at INTEGER NOT NULL,
				PRIMARY KEY (gateway, jid, legacy_id)
			) STRICT, WITHOUT ROWID`,
			`CREATE TABLE msgmap (
				gateway    TEXT NOT NULL,
				jid        TEXT NOT NULL,
				chat       TEXT NOT NULL,
				xmpp_id    TEXT NOT NULL,
				legacy_id  TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				PRIMARY KEY (gateway, jid, chat, xmpp_id)
			) STRICT, WITHOUT ROWID`,
			`CREATE UNIQUE INDEX msgmap_legacy ON msgmap (gateway, jid, chat, legacy_id)`,
			// AUTOINCREMENT: seq never goes back, even after every row
			// was acknowledged, so a reader's cursor stays valid.
			`CREATE TABLE outbox (
				seq        INTEGER PRIMARY KEY AUTOINCREMENT,
				gateway    TEXT NOT NULL,
				jid        TEXT NOT NULL,
				stanza_id  TEXT NOT NULL,
				payload    TEXT NOT NULL,
				created_at INTEGER NOT NULL
			) STRICT`,
			`CREATE INDEX outbox_gateway_seq ON outbox (gateway, seq)`,
			// seq records arrival order; (gateway, jid, stanza_id) is
			// the key.
			`CREATE TABLE journal (
				seq        INTEGER PRIMARY KEY AUTOINCREMENT,
				gateway    TEXT NOT NULL,
				jid        TEXT NOT NULL,
				stanza_id  TEXT NOT NULL,
				payload    TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				UNIQUE (gateway, jid, stanza_id)
			) STRICT`,
		},
		postgres: []string{
			`CREATE TABLE users (
				gateway       TEXT COLLATE "C" NOT NULL,
				jid           TEXT COLLATE "C" NOT NULL,
				registered_at BIGINT NOT NULL,
				form          TEXT NOT NULL,
				state         TEXT NOT NULL,
				PRIMARY KEY (gateway, jid)
			)`,
			`CREATE TABLE kv (
				gateway TEXT COLLATE "C" NOT NULL,
				jid     TEXT COLLATE "C" NOT NULL,
				key     TEXT COLLATE "C" NOT NULL,
				value   BYTEA NOT NULL,
				PRIMARY KEY (gateway, jid, key)
			)`,
			`CREATE TABLE contacts (
				gateway    TEXT COLLATE "C" NOT NULL,
				jid        TEXT COLLATE "C" NOT NULL,
				legacy_id  TEXT COLLATE "C" NOT NULL,
				info       TEXT NOT NULL,
				updated_at BIGINT NOT NULL,
				PRIMARY KEY (gateway, jid, legacy_id)
			)`,
			`CREATE TABLE msgmap (
				gateway    TEXT COLLATE "C" NOT NULL,
				jid        TEXT COLLATE "C" NOT NULL,
				chat       TEXT COLLATE "C" NOT NULL,
				xmpp_id    TEXT COLLATE "C" NOT NULL,
				legacy_id  TEXT COLLATE "C" NOT NULL,
				created_at BIGINT NOT NULL,
				PRIMARY KEY (gateway, jid, chat, xmpp_id)
			)`,
			`CREATE UNIQUE INDEX msgmap_legacy ON msgmap (gateway, jid, chat, legacy_id)`,
			`CREATE TABLE outbox (
				seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				gateway    TEXT COLLATE "C" NOT NULL,
				jid        TEXT COLLATE "C" NOT NULL,
				stanza_id  TEXT NOT NULL,
				payload    TEXT NOT NULL,
				created_at BIGINT NOT NULL
			)`,
			`CREATE INDEX outbox_gateway_seq ON outbox (gateway, seq)`,
			`CREATE TABLE journal (
				seq        BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
				gateway    TEXT COLLATE "C" NOT NULL,
				jid        TEXT COLLATE "C" NOT NULL,
				stanza_id  TEXT COLLATE "C" NOT NULL,
				payload    TEXT NOT NULL,
				created_at BIGINT NOT NULL,
				UNIQUE (gateway, jid, stanza_id)
			)`,
		},
	},
	{
		// Contacts' avatar images, served to the user on request (vCard, XEP-0084).
		version: 2,
		sqlite: []string{
			`CREATE TABLE avatars (
				gateway   TEXT NOT NULL,
				jid       TEXT NOT NULL,
				legacy_id TEXT NOT NULL,
				type      TEXT NOT NULL,
				data      BLOB NOT NULL,
				PRIMARY KEY (gateway, jid, legacy_id)
			) STRICT, WITHOUT ROWID`,
		},
		postgres: []string{
			`CREATE TABLE avatars (
				gateway   TEXT COLLATE "C" NOT NULL,
				jid       TEXT COLLATE "C" NOT NULL,
				legacy_id TEXT COLLATE "C" NOT NULL,
				type      TEXT NOT NULL,
				data      BYTEA NOT NULL,
				PRIMARY KEY (gateway, jid, legacy_id)
			)`,
		},
	},
	{
		// Host-held secrets per user, never shown to plugins (e.g. a bridge's database key).
		version: 3,
		sqlite: []string{
			`CREATE TABLE secrets (
				gateway TEXT NOT NULL,
				jid     TEXT NOT NULL,
				name    TEXT NOT NULL,
				value   BLOB NOT NULL,
				PRIMARY KEY (gateway, jid, name)
			) STRICT, WITHOUT ROWID`,
		},
		postgres: []string{
			`CREATE TABLE secrets (
				gateway TEXT COLLATE "C" NOT NULL,
				jid     TEXT COLLATE "C" NOT NULL,
				name    TEXT COLLATE "C" NOT NULL,
				value   BYTEA NOT NULL,
				PRIMARY KEY (gateway, jid, name)
			)`,
		},
	},
	{
		// Fewer pages written per message on SQLite: the outbox is read and acknowledged by
		// seq (its rowid), so its second index only cost a page per commit; the journal's
		// seq only orders the open entries, so it needs no AUTOINCREMENT bookkeeping.
		version: 4,
		sqlite: []string{
			`DROP INDEX outbox_gateway_seq`,
			`CREATE TABLE journal_v4 (
				seq        INTEGER PRIMARY KEY,
				gateway    TEXT NOT NULL,
				jid        TEXT NOT NULL,
				stanza_id  TEXT NOT NULL,
				payload    TEXT NOT NULL,
				created_at INTEGER NOT NULL,
				UNIQUE (gateway, jid, stanza_id)
			) STRICT`,
			`INSERT INTO journal_v4 SELECT seq, gateway, jid, stanza_id, payload, created_at FROM journal`,
			`DROP TABLE journal`,
			`ALTER TABLE journal_v4 RENAME TO journal`,
		},
		postgres: []string{},
	},
}

// latestVersion is the newest schema version this binary knows.
func latestVersion() int { return migrations[len(migrations)-1].version }

// migrationLock is the PostgreSQL advisory lock key that serialises
// migrators (several gateway processes starting at once on one database).
const migrationLock int64 = 0x786d_7070_6777_0001 // "xmppgw" + 1

// tooNewError is the error for a database migrated by a newer gateway.
type tooNewError struct{ db, known int }

func (e *tooNewError) Error() string {
	return fmt.Sprintf("store: database schema version %d is newer than this gateway (%d): upgrade the gateway", e.db, e.known)
}

func (e *tooNewError) Is(target error) bool { return target == ErrSchemaTooNew }

// migrate brings the schema up to latestVersion. Every step runs in its own
// transaction, which first takes the migration lock (PostgreSQL: a
// transaction-level advisory lock; SQLite: BEGIN IMMEDIATE) and then
// re-reads the current version, so concurrent migrators apply each step
// exactly once and a failed step leaves the previous version intact.
func (s *Store) migrate(ctx context.Context, steps []migration) error {
	latest := steps[len(steps)-1].version
	err := s.migrationTx(ctx, func(tx *sql.Tx) error {
		q := `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    INTEGER PRIMARY KEY,
			applied_at INTEGER NOT NULL
		) STRICT`
		if s.dialect == postgresDialect {
			q = `CREATE TABLE IF NOT EXISTS schema_migrations (
				version    INTEGER PRIMARY KEY,
				applied_at BIGINT NOT NULL
			)`
		}
		_, err := tx.ExecContext(ctx, q)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: create schema_migrations: %w", err)
	}
	for {
		var applied int
		err := s.migrationTx(ctx, func(tx *sql.Tx) error {
			cur, err := currentVersion(ctx, tx)
			if err != nil {
				return err
			}
			if cur > latest {
				return &tooNewError{db: cur, known: latest}
			}
			for _, m := range steps {
				if m.version <= cur {
					continue
				}
				stmts := m.postgres
				if s.dialect == sqliteDialect || stmts == nil {
					stmts = m.sqlite
				}
				for _, q := range stmts {
					if _, err := tx.ExecContext(ctx, s.rebind(q)); err != nil {
						return fmt.Errorf("migration %d: %w", m.version, err)
					}
				}
				if _, err := tx.ExecContext(ctx, s.rebind(`INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`),
					m.version, now()); err != nil {
					return fmt.Errorf("migration %d: record: %w", m.version, err)
				}
				applied = m.version
				return nil // one step per transaction
			}
			return nil
		})
		if err != nil {
			var tooNew *tooNewError
			if errors.As(err, &tooNew) {
				return err
			}
			return fmt.Errorf("store: migrate: %w", err)
		}
		if applied == 0 {
			return nil
		}
	}
}

// migrationTx runs fn in a transaction holding the migration lock.
func (s *Store) migrationTx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("migration lock: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

func currentVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// SchemaVersion returns the schema version recorded in the database, the
// number of the last migration applied. After a successful Open it equals
// the newest version this gateway knows.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	v, err := currentVersion(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}
