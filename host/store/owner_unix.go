//go:build unix

package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
)

// lockFile makes this process the only user of the SQLite file at path, with an advisory lock
// on path+".lock" held until the returned Closer is closed (or the process ends). Another
// holder gets ErrInUse at once.
func lockFile(path string) (io.Closer, error) {
	f, err := os.OpenFile(path+".lock", os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("store: sqlite: lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%w: %s is locked", ErrInUse, path+".lock")
		}
		return nil, fmt.Errorf("store: sqlite: lock %s: %w", path+".lock", err)
	}
	return f, nil
}
