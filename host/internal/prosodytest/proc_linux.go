//go:build linux

package prosodytest

import "syscall"

// sysProcAttr puts the child in its own process group (so Stop can signal the
// whole group) and has the kernel SIGKILL it if the thread that started it
// dies. The process is started from a goroutine locked to its OS thread that
// stays alive until the child exits, so the signal fires only when the test
// binary itself dies.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// killGroup signals the process group led by pid.
func killGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
