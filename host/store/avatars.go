package store

import (
	"context"
	"fmt"
)

// PutAvatar stores the avatar image of contact legacyID of user jid, replacing an older one.
func (s *Store) PutAvatar(ctx context.Context, gw, jid, legacyID, typ string, data []byte) error {
	if _, err := s.putAvatar.ExecContext(ctx, gw, jid, legacyID, typ, data); err != nil {
		return fmt.Errorf("store: put avatar of %s: %w", jid, err)
	}
	return nil
}

// Avatar returns the avatar image and its MIME type, or an error wrapping ErrNotFound.
func (s *Store) Avatar(ctx context.Context, gw, jid, legacyID string) ([]byte, string, error) {
	var typ string
	var data []byte
	if err := s.getAvatar.QueryRowContext(ctx, gw, jid, legacyID).Scan(&typ, &data); err != nil {
		return nil, "", fmt.Errorf("store: avatar of %s: %w", jid, notFound(err))
	}
	return data, typ, nil
}

// DeleteAvatar removes a contact's avatar; a missing one is not an error.
func (s *Store) DeleteAvatar(ctx context.Context, gw, jid, legacyID string) error {
	if _, err := s.delAvatar.ExecContext(ctx, gw, jid, legacyID); err != nil {
		return fmt.Errorf("store: delete avatar of %s: %w", jid, err)
	}
	return nil
}
