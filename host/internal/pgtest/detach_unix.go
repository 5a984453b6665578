//go:build unix

package pgtest

import "syscall"

// detached puts the watchdog in its own session, so that a Ctrl-C aimed at
// the test does not kill it before it has cleaned up.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
