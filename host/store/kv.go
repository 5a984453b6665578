package store

import (
	"context"
	"database/sql"
	"fmt"
)

// KVGet returns the value a plugin stored under key for user jid of gateway
// gw, or an error wrapping ErrNotFound. An empty stored value is returned
// as a non-nil empty slice.
func (s *Store) KVGet(ctx context.Context, gw, jid, key string) ([]byte, error) {
	var v []byte
	if err := s.kvGet.QueryRowContext(ctx, gw, jid, key).Scan(&v); err != nil {
		return nil, fmt.Errorf("store: kv get %s: %w", jid, notFound(err))
	}
	if v == nil {
		v = []byte{}
	}
	return v, nil
}

// KVSet stores value under key for user jid of gateway gw, replacing any
// previous value. When quota > 0, the user's whole key-value storage
// (the sum of len(key)+len(value) over all keys, counting this write) must
// stay within quota bytes, otherwise nothing is written and the error wraps
// ErrQuota. The check and the write are atomic, also against concurrent
// KVSet calls for the same user.
func (s *Store) KVSet(ctx context.Context, gw, jid, key string, value []byte, quota int64) error {
	if value == nil {
		value = []byte{} // the column is NOT NULL
	}
	size := int64(len(key) + len(value))
	if quota > 0 && size > quota {
		return fmt.Errorf("store: kv set %s: %w (%d > %d bytes)", jid, ErrQuota, size, quota)
	}
	// Through the writer: concurrent sessions' writes share commits, and the writer runs one
	// write at a time, so the quota check and the write are atomic in this process (PostgreSQL
	// also takes the user's lock, against other processes).
	var over error
	err := s.w.write(ctx, jid, func(ctx context.Context, tx *sql.Tx) error {
		over = nil // the op runs again alone if its group fails
		if quota > 0 {
			if s.kvLock != nil {
				if _, err := tx.StmtContext(ctx, s.kvLock).ExecContext(ctx, gw, jid); err != nil {
					return fmt.Errorf("lock: %w", err)
				}
			}
			var used int64
			if err := tx.StmtContext(ctx, s.kvUsage).QueryRowContext(ctx, gw, jid, key).Scan(&used); err != nil {
				return fmt.Errorf("usage: %w", err)
			}
			if used+size > quota {
				// Nothing written: not a failure of the group the write is in.
				over = fmt.Errorf("%w (%d > %d bytes)", ErrQuota, used+size, quota)
				return nil
			}
		}
		_, err := tx.StmtContext(ctx, s.kvSet).ExecContext(ctx, gw, jid, key, value)
		return err
	})
	if err == nil {
		err = over
	}
	if err != nil {
		return fmt.Errorf("store: kv set %s: %w", jid, err)
	}
	return nil
}

// KVDelete removes key for user jid of gateway gw. Removing an absent key
// is not an error.
func (s *Store) KVDelete(ctx context.Context, gw, jid, key string) error {
	err := s.w.write(ctx, jid, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.StmtContext(ctx, s.kvDelete).ExecContext(ctx, gw, jid, key)
		return err
	})
	if err != nil {
		return fmt.Errorf("store: kv delete %s: %w", jid, err)
	}
	return nil
}

// KVKeys lists the keys of user jid of gateway gw that start with prefix
// (all keys when prefix is empty), in bytewise order.
func (s *Store) KVKeys(ctx context.Context, gw, jid, prefix string) ([]string, error) {
	var (
		rows *sql.Rows
		err  error
	)
	if s.dialect == postgresDialect {
		rows, err = s.kvKeys.QueryContext(ctx, gw, jid, prefix)
	} else {
		rows, err = s.kvKeys.QueryContext(ctx, gw, jid, prefix, prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("store: kv keys %s: %w", jid, err)
	}
	defer rows.Close()
	var keys []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, fmt.Errorf("store: kv keys %s: %w", jid, err)
		}
		keys = append(keys, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: kv keys %s: %w", jid, err)
	}
	return keys, nil
}
