//go:build !unix

package store

import "io"

// lockFile leaves ownership to SQLite's own locking (locking_mode EXCLUSIVE) where advisory
// file locks are not available.
func lockFile(string) (io.Closer, error) { return nopCloser{}, nil }
