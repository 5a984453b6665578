package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"log/slog"
	"time"
)

// User is a registered user of one gateway: what the registration form
// (XEP-0077) collected and the session state needed to bring the user's
// legacy session back after a restart.
type User struct {
	// Gateway is the component JID of the gateway the user registered with.
	Gateway string
	// JID is the user's bare JID.
	JID string
	// RegisteredAt is when the user first registered. PutUser sets it on
	// the first insert (the zero time means now) and keeps it on updates.
	RegisteredAt time.Time
	// Form is the JSON text of the registration form answers. It may hold
	// secrets (a phone number, a password): never log it. String and
	// LogValue redact it. Empty means "{}".
	Form json.RawMessage
	// State is the user's session state as the gateway defines it (for
	// example "active" or "disabled").
	State string
}

// String describes u for humans with Form redacted, so that printing a
// User with %v does not leak the registration answers.
func (u User) String() string {
	return fmt.Sprintf("{gateway=%s jid=%s state=%q registered_at=%s form=<%d bytes redacted>}",
		u.Gateway, u.JID, u.State, u.RegisteredAt.Format(time.RFC3339), len(u.Form))
}

// LogValue implements slog.LogValuer with Form redacted, so that logging a
// User does not leak the registration answers.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("gateway", u.Gateway),
		slog.String("jid", u.JID),
		slog.String("state", u.State),
		slog.Time("registered_at", u.RegisteredAt),
		slog.Int("form_bytes", len(u.Form)),
	)
}

// PutUser inserts u, or updates Form and State of an existing user
// (RegisteredAt of an existing user is kept). Form must be valid JSON.
func (s *Store) PutUser(ctx context.Context, u User) error {
	form := []byte(u.Form)
	if len(form) == 0 {
		form = []byte("{}")
	} else if !json.Valid(form) {
		// Never echo the form: it may hold secrets.
		return fmt.Errorf("store: put user %s: form is not valid JSON", u.JID)
	}
	if _, err := s.putUser.ExecContext(ctx, u.Gateway, u.JID, micros(u.RegisteredAt), string(form), u.State); err != nil {
		return fmt.Errorf("store: put user %s: %w", u.JID, err)
	}
	return nil
}

// User returns the user jid of gateway gw, or an error wrapping ErrNotFound
// when that user is not registered.
func (s *Store) User(ctx context.Context, gw, jid string) (User, error) {
	u := User{Gateway: gw, JID: jid}
	var at int64
	var form string
	if err := s.getUser.QueryRowContext(ctx, gw, jid).Scan(&at, &form, &u.State); err != nil {
		return User{}, fmt.Errorf("store: user %s: %w", jid, notFound(err))
	}
	u.RegisteredAt = fromMicros(at)
	u.Form = json.RawMessage(form)
	return u, nil
}

// Users returns every user of gateway gw, ordered by JID (bytewise), so the
// gateway can bring all sessions back at start-up.
func (s *Store) Users(ctx context.Context, gw string) ([]User, error) {
	rows, err := s.listUsers.QueryContext(ctx, gw)
	if err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u := User{Gateway: gw}
		var at int64
		var form string
		if err := rows.Scan(&u.JID, &at, &form, &u.State); err != nil {
			return nil, fmt.Errorf("store: users: %w", err)
		}
		u.RegisteredAt = fromMicros(at)
		u.Form = json.RawMessage(form)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: users: %w", err)
	}
	return out, nil
}

// DeleteUser removes user jid of gateway gw and every row of every table
// keyed by that user (kv, contacts, msgmap, outbox, journal), in one
// transaction, so unregistering leaves nothing behind. Deleting a user that
// does not exist is not an error (leftover rows are still removed).
func (s *Store) DeleteUser(ctx context.Context, gw, jid string) error {
	// Through the writer, so no queued write of the user's lands after the wipe.
	err := s.w.write(ctx, jid, func(ctx context.Context, tx *sql.Tx) error {
		for _, q := range s.deleteUser {
			if _, err := tx.ExecContext(ctx, q, gw, jid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("store: delete user %s: %w", jid, err)
	}
	return nil
}
