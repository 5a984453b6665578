package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Contact is what the gateway knows about one legacy-network contact of a
// user (its roster entry), so the roster and avatars can be served without
// asking the plugin again.
type Contact struct {
	// Gateway is the component JID of the gateway.
	Gateway string
	// JID is the bare JID of the user whose contact this is.
	JID string
	// LegacyID is the contact's identifier on the legacy network.
	LegacyID string
	// Info is the JSON text describing the contact (name, avatar, ...).
	// Empty means "{}".
	Info json.RawMessage
	// UpdatedAt is when the contact was last written; PutContact sets it to
	// now when it is zero.
	UpdatedAt time.Time
}

// PutContact inserts or replaces contact c. Info must be valid JSON.
func (s *Store) PutContact(ctx context.Context, c Contact) error {
	info := []byte(c.Info)
	if len(info) == 0 {
		info = []byte("{}")
	} else if !json.Valid(info) {
		return fmt.Errorf("store: put contact %s: info is not valid JSON", c.JID)
	}
	if _, err := s.putContact.ExecContext(ctx, c.Gateway, c.JID, c.LegacyID, string(info), micros(c.UpdatedAt)); err != nil {
		return fmt.Errorf("store: put contact %s: %w", c.JID, err)
	}
	return nil
}

// Contact returns contact legacyID of user jid of gateway gw, or an error
// wrapping ErrNotFound.
func (s *Store) Contact(ctx context.Context, gw, jid, legacyID string) (Contact, error) {
	c := Contact{Gateway: gw, JID: jid, LegacyID: legacyID}
	var info string
	var at int64
	if err := s.getContact.QueryRowContext(ctx, gw, jid, legacyID).Scan(&info, &at); err != nil {
		return Contact{}, fmt.Errorf("store: contact %s: %w", jid, notFound(err))
	}
	c.Info = json.RawMessage(info)
	c.UpdatedAt = fromMicros(at)
	return c, nil
}

// Contacts returns every contact of user jid of gateway gw, ordered by
// LegacyID (bytewise).
func (s *Store) Contacts(ctx context.Context, gw, jid string) ([]Contact, error) {
	rows, err := s.listContacts.QueryContext(ctx, gw, jid)
	if err != nil {
		return nil, fmt.Errorf("store: contacts %s: %w", jid, err)
	}
	defer rows.Close()
	var out []Contact
	for rows.Next() {
		c := Contact{Gateway: gw, JID: jid}
		var info string
		var at int64
		if err := rows.Scan(&c.LegacyID, &info, &at); err != nil {
			return nil, fmt.Errorf("store: contacts %s: %w", jid, err)
		}
		c.Info = json.RawMessage(info)
		c.UpdatedAt = fromMicros(at)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: contacts %s: %w", jid, err)
	}
	return out, nil
}

// DeleteContact removes contact legacyID of user jid of gateway gw.
// Removing an absent contact is not an error.
func (s *Store) DeleteContact(ctx context.Context, gw, jid, legacyID string) error {
	if _, err := s.delContact.ExecContext(ctx, gw, jid, legacyID); err != nil {
		return fmt.Errorf("store: delete contact %s: %w", jid, err)
	}
	return nil
}

// PutContacts inserts or replaces several contacts in one transaction: a roster fill writes
// thousands of them at once.
func (s *Store) PutContacts(ctx context.Context, cs []Contact) error {
	if len(cs) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: put contacts: %w", err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, s.putContact)
	for _, c := range cs {
		info := []byte(c.Info)
		if len(info) == 0 {
			info = []byte("{}")
		} else if !json.Valid(info) {
			return fmt.Errorf("store: put contacts: contact of %s: info is not valid JSON", c.JID)
		}
		if _, err := st.ExecContext(ctx, c.Gateway, c.JID, c.LegacyID, string(info), micros(c.UpdatedAt)); err != nil {
			return fmt.Errorf("store: put contacts: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: put contacts: %w", err)
	}
	return nil
}
