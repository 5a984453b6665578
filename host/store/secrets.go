package store

import (
	"context"
	"fmt"
)

// Secret returns the named secret of user jid, creating it with create() the first time. It is
// for values the host keeps from plugins, such as a bridge's database encryption key; never log
// them. Concurrent first calls agree on one value.
func (s *Store) Secret(ctx context.Context, gw, jid, name string, create func() ([]byte, error)) ([]byte, error) {
	var v []byte
	err := s.getSecret.QueryRowContext(ctx, gw, jid, name).Scan(&v)
	if err == nil {
		return v, nil
	}
	if err = notFound(err); err != ErrNotFound {
		return nil, fmt.Errorf("store: secret %s of %s: %w", name, jid, err)
	}
	nv, err := create()
	if err != nil {
		return nil, fmt.Errorf("store: secret %s of %s: %w", name, jid, err)
	}
	if _, err := s.putSecret.ExecContext(ctx, gw, jid, name, nv); err != nil {
		return nil, fmt.Errorf("store: secret %s of %s: %w", name, jid, err)
	}
	if err := s.getSecret.QueryRowContext(ctx, gw, jid, name).Scan(&v); err != nil {
		return nil, fmt.Errorf("store: secret %s of %s: %w", name, jid, err)
	}
	return v, nil
}
