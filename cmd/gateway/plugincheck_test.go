package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/sdk/go/sdktest/wasmtest"
)

var checkSteps = []string{"module", "init", "validate", "login", "fill", "update_info", "text", "jid_mapping", "logout"}

// "gateway plugin check" on the echo plugin: exit 0, every step PASS, in text and in JSON.
func TestPluginCheckEcho(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the echo plugin")
	}
	wasm := wasmtest.Build(t, "../../plugins/echo")

	var out, errb bytes.Buffer
	if code := run([]string{"plugin", "check", wasm}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	for _, s := range checkSteps {
		if !strings.Contains(out.String(), "\nPASS "+s) {
			t.Errorf("no PASS %s in:\n%s", s, out.String())
		}
	}
	if strings.Contains(out.String(), "FAIL") || !strings.Contains(out.String(), "ok: all 9 steps passed") {
		t.Errorf("output:\n%s", out.String())
	}

	// Flags after the file; an empty JSON fixture; a JSON report.
	fixture := filepath.Join(t.TempDir(), "echo.json")
	if err := os.WriteFile(fixture, []byte(`{"contact": "dora", "registration": {"name": "Ann"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"plugin", "check", wasm, "--json", "--fixture", fixture}, &out, &errb); code != exitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	var rep struct {
		OK    bool `json:"ok"`
		Steps []struct {
			Name   string `json:"name"`
			OK     bool   `json:"ok"`
			Detail string `json:"detail"`
		} `json:"steps"`
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v:\n%s", err, out.String())
	}
	if !rep.OK || len(rep.Steps) != len(checkSteps) {
		t.Fatalf("report: %s", out.String())
	}
	for i, s := range rep.Steps {
		if s.Name != checkSteps[i] || !s.OK {
			t.Errorf("step %d: %+v", i, s)
		}
	}
	if d := rep.Steps[6].Detail; !strings.Contains(d, `sent to "dora"`) {
		t.Errorf("text step: %s", d)
	}
}

func TestPluginCheckErrors(t *testing.T) {
	dir := t.TempDir()
	notWasm := filepath.Join(dir, "plugin.wasm")
	badFixture := filepath.Join(dir, "fixture.json")
	if err := os.WriteFile(notWasm, []byte("this is not WebAssembly\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badFixture, []byte(`{"contcat": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{"not wasm", []string{"plugin", "check", notWasm}, exitFailure, "FAIL module: not a WebAssembly module\nFAIL: 1 of 1 steps failed", ""},
		{"not wasm json", []string{"plugin", "check", "--json", notWasm}, exitFailure, `"detail": "not a WebAssembly module"`, ""},
		{"missing", []string{"plugin", "check", filepath.Join(dir, "nope.wasm")}, exitFailure, "", "nope.wasm: no such file or directory"},
		{"bad fixture", []string{"plugin", "check", "--fixture", badFixture, notWasm}, exitUsage, "", `unknown field "contcat"`},
		{"no file", []string{"plugin", "check"}, exitUsage, "", "want one FILE.wasm, got 0 arguments"},
		{"two files", []string{"plugin", "check", notWasm, notWasm}, exitUsage, "", "want one FILE.wasm, got 2 arguments"},
		{"help", []string{"plugin", "check", "--help"}, exitOK, "", "The fixture (JSON, or TOML"},
		{"no subcommand", []string{"plugin"}, exitUsage, "", "Usage: gateway plugin check"},
		{"unknown subcommand", []string{"plugin", "lint"}, exitUsage, "", `unknown subcommand "lint"`},
		{"main usage", []string{"help"}, exitOK, "gateway plugin check FILE.wasm", ""},
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
		})
	}
}
