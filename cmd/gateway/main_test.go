package main

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommands(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.toml")
	bad := filepath.Join(dir, "bad.toml")
	write(t, good, "[[gateway]]\njid = \"telegram.example.org\"\nsecret = \"s3cr3t-value\"\ntype = \"telegram\"\n")
	write(t, bad, "[xmpp]\nprot = 5347\n")

	tests := []struct {
		name     string
		args     []string
		code     int
		stdout   string // substring expected on stdout
		stderr   string // substring expected on stderr
		noOutput string // must not appear anywhere
	}{
		{"no args", nil, exitUsage, "", "Usage:", ""},
		{"help", []string{"help"}, exitOK, "gateway run -c FILE", "", ""},
		{"unknown", []string{"frobnicate"}, exitUsage, "", `unknown command "frobnicate"`, ""},
		{"version", []string{"version"}, exitOK, "xmppgw ", "", ""},
		{"run help", []string{"run", "--help"}, exitOK, "", "-c file", ""},
		{"check help", []string{"check-config", "-h"}, exitOK, "", "Validates FILE", ""},
		{"check good", []string{"check-config", "-c", good}, exitOK, "configuration is valid", "", "s3cr3t-value"},
		{"check bad", []string{"check-config", "-c", bad}, exitConfig, "", `bad.toml:2: unknown key "xmpp.prot"`, ""},
		{"check missing", []string{"check-config", "-c", filepath.Join(dir, "nope.toml")}, exitConfig, "", "nope.toml", ""},
		{"run bad config", []string{"run", "-c", bad}, exitConfig, "", "invalid configuration", ""},
		{"extra args", []string{"version", "x"}, exitUsage, "", "unexpected arguments: x", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tc.args, &out, &errb)
			if code != tc.code {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String(), tc.stdout) {
				t.Errorf("stdout %q lacks %q", out.String(), tc.stdout)
			}
			if !strings.Contains(errb.String(), tc.stderr) {
				t.Errorf("stderr %q lacks %q", errb.String(), tc.stderr)
			}
			if tc.noOutput != "" && strings.Contains(out.String()+errb.String(), tc.noOutput) {
				t.Errorf("output leaks %q", tc.noOutput)
			}
		})
	}
}

// The built binary stops cleanly on SIGTERM with exit 0, even while its server is unreachable,
// and never logs the component secret.
func TestRunStopsOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "gateway")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	adminAddr := freeAddr(t)
	cfg := filepath.Join(dir, "gateway.toml")
	write(t, cfg, "data_dir = \"data\"\n[xmpp]\nport = "+freePort(t)+"\n[admin]\nlisten = \""+adminAddr+"\"\n"+
		"[[gateway]]\njid = \"telegram.example.org\"\nsecret = \"s3cr3t-value\"\ntype = \"telegram\"\n")

	var logs bytes.Buffer
	cmd := exec.Command(bin, "run", "-c", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the admin listener answers: the process is fully up (healthz is 503: no server).
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + adminAddr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable {
				t.Fatalf("healthz = %d with no XMPP server, want 503", resp.StatusCode)
			}
			break
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("admin listener never came up: %v\n%s", err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatalf("did not stop within 10 s of SIGTERM\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("no clean stop in the log:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "s3cr3t-value") {
		t.Errorf("the log contains the component secret")
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "gateway.db")); err != nil {
		t.Errorf("store file: %v", err)
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func freePort(t *testing.T) string {
	_, p, _ := net.SplitHostPort(freeAddr(t))
	return p
}

// A plugin that cannot load stops the start with a clear error, not a crash.
func TestRunWithBrokenPlugin(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.wasm")
	write(t, bad, "not wasm")
	cfg := filepath.Join(dir, "gateway.toml")
	write(t, cfg, "data_dir = \"data\"\n[admin]\nlisten = \"\"\n[[gateway]]\njid = \"telegram.example.org\"\nsecret = \"s\"\ntype = \"telegram\"\nplugin = \"bad.wasm\"\n")
	var out, errb bytes.Buffer
	if code := run([]string{"run", "-c", cfg}, &out, &errb); code != exitFailure {
		t.Fatalf("exit %d, want %d\n%s", code, exitFailure, errb.String())
	}
	if !strings.Contains(errb.String(), "bad.wasm") {
		t.Errorf("the error does not name the file:\n%s", errb.String())
	}
}
