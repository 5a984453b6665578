//go:build !linux && unix

package prosodytest

import "syscall"

// sysProcAttr puts the child in its own process group so Stop can signal the
// whole group. Parent-death signals are Linux only.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}

// killGroup signals the process group led by pid.
func killGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
