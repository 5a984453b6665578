package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
)

// without returns the tiny plugin without the named function export.
func without(m wmodule, name string) wmodule {
	var fs []wfunc
	for _, f := range m.funcs {
		if f.export != name {
			fs = append(fs, f)
		}
	}
	m.funcs = fs
	return m
}

// with returns the tiny plugin with a function replaced or added.
func with(m wmodule, f wfunc) wmodule {
	m = without(m, f.export)
	m.funcs = append(append([]wfunc(nil), m.funcs...), f)
	return m
}

func TestLoadErrors(t *testing.T) {
	checkGoroutines(t)
	tiny := tinyPlugin()
	renamed := func(from, to string) wmodule {
		m := tiny
		m.funcs = append([]wfunc(nil), tiny.funcs...)
		for i := range m.funcs {
			if m.funcs[i].export == from {
				m.funcs[i].export = to
			}
		}
		return m
	}
	withImport := func(im wimport) wmodule {
		m := tiny
		// Append, so that the reply import keeps index 0.
		m.imports = append(append([]wimport(nil), tiny.imports...), im)
		return m
	}
	tests := []struct {
		name string
		bin  []byte
		want string // %s is the file
		is   error
		opts func(*Options)
	}{
		{name: "text", bin: []byte("hello, world\n"), want: "%s: not a WebAssembly module", is: ErrNotWasm},
		{name: "empty", bin: nil, want: "%s: not a WebAssembly module", is: ErrNotWasm},
		{name: "no marker", bin: without(tiny, "gw_abi_v1_0").encode(),
			want: "%s: no ABI marker export gw_abi_v<major>_<minor>: not a gateway plugin", is: ErrNotPlugin},
		{name: "major 2", bin: renamed("gw_abi_v1_0", "gw_abi_v2_0").encode(),
			want: "%s speaks ABI v2.0, this gateway speaks v1.0", is: ErrABIVersion},
		{name: "malformed marker", bin: renamed("gw_abi_v1_0", "gw_abi_v1").encode(),
			want: "%s: malformed ABI marker export gw_abi_v1: want gw_abi_v<major>_<minor>, e.g. gw_abi_v1_0", is: ErrABIVersion},
		{name: "two markers", bin: with(tiny, wfunc{export: "gw_abi_v1_1"}).encode(),
			want: "%s: several ABI marker exports (gw_abi_v1_0, gw_abi_v1_1): a plugin speaks one ABI version", is: ErrABIVersion},
		{name: "marker type", bin: with(tiny, wfunc{export: "gw_abi_v1_0", results: []byte{i32}}).encode(),
			want: "%s: export gw_abi_v1_0 has type func() i32, want func()", is: ErrMissingExport},
		{name: "no gw_event", bin: without(tiny, "gw_event").encode(),
			want: "%s: missing export gw_event (func(i32, i32) i32)", is: ErrMissingExport},
		{name: "no gw_free", bin: without(tiny, "gw_free").encode(),
			want: "%s: missing export gw_free (func(i32, i32))", is: ErrMissingExport},
		{name: "gw_alloc type", bin: with(tiny, wfunc{export: "gw_alloc", params: []byte{i64}, results: []byte{i32}}).encode(),
			want: "%s: export gw_alloc has type func(i64) i32, want func(i32) i32", is: ErrMissingExport},
		{name: "command", bin: with(tiny, wfunc{export: "_start"}).encode(),
			want: "%s: exports _start but not _initialize: build the plugin as a reactor (Go: -buildmode=c-shared)", is: ErrMissingExport},
		{name: "_initialize type", bin: with(tiny, wfunc{export: "_initialize", params: []byte{i32}}).encode(),
			want: "%s: export _initialize has type func(i32), want func()", is: ErrMissingExport},
		{name: "no memory export", bin: func() []byte { m := tiny; m.memName = ""; return m.encode() }(),
			want: "%s: missing export memory (memory)", is: ErrMissingExport},
		{name: "unknown host function", bin: withImport(wimport{module: "gateway_v1", name: "teleport", params: []byte{i32}}).encode(),
			want: "%s: imports gateway_v1.teleport, which this gateway does not provide", is: ErrImport},
		{name: "host function type", bin: withImport(wimport{module: "gateway_v1", name: "log", params: []byte{i32}}).encode(),
			want: "%s: import gateway_v1.log has type func(i32), want func(i32, i32, i32)", is: ErrImport},
		{name: "other module", bin: withImport(wimport{module: "env", name: "abort"}).encode(),
			want: "%s: imports env.abort, but this gateway provides only modules gateway_v1 and wasi_snapshot_preview1", is: ErrImport},
		{name: "unknown wasi function", bin: withImport(wimport{module: "wasi_snapshot_preview1", name: "teleport"}).encode(),
			want: "%s: imports wasi_snapshot_preview1.teleport, which this gateway does not provide", is: ErrImport},
		{name: "wasi function type", bin: withImport(wimport{module: "wasi_snapshot_preview1", name: "proc_exit", params: []byte{i64}}).encode(),
			want: "%s: import wasi_snapshot_preview1.proc_exit has type func(i64), want func(i32)", is: ErrImport},
		{name: "start section", bin: func() []byte { m := with(tiny, wfunc{export: "init_me"}); m.start = len(m.funcs); return m.encode() }(),
			want: "%s: has a start function, which would run outside any deadline: export it as _initialize instead", is: ErrMissingExport},
		{name: "memory over limit", bin: func() []byte { m := tiny; m.memPages = 2000; return m.encode() }(),
			want: "%s: initial memory of 125 MiB exceeds the limit of 64 MiB", opts: func(o *Options) { o.MemoryLimitMB = 64 }},
		{name: "no init reply", bin: with(tiny, wfunc{export: "gw_event", params: []byte{i32, i32}, results: []byte{i32}}).encode(),
			want: `%s: init: reply "": unexpected end of JSON input`},
		{name: "init unhandled", bin: with(tiny, wfunc{export: "gw_event", params: []byte{i32, i32}, results: []byte{i32}, body: i32Const(1)}).encode(),
			want: `%s: init: the plugin does not handle init`},
		{name: "init loops", bin: with(tiny, wfunc{export: "gw_event", params: []byte{i32, i32}, results: []byte{i32},
			body: []byte{0x03, 0x40, 0x0c, 0x00, 0x0b, 0x41, 0x00}}).encode(),
			want: `%s: init: plugin[x] event[init]: event deadline exceeded: wasm error: unreachable`, is: ErrTimeout,
			opts: func(o *Options) { o.EventTimeout = 50 * time.Millisecond }},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "x.wasm")
			if err := os.WriteFile(path, tt.bin, 0o644); err != nil {
				t.Fatal(err)
			}
			o := Options{Instances: 1, Logger: quietLogger()}
			if tt.opts != nil {
				tt.opts(&o)
			}
			p, err := Load(context.Background(), path, &recorder{}, o)
			if err == nil {
				p.Close(context.Background())
				t.Fatal("loaded")
			}
			if want := strings.ReplaceAll(tt.want, "%s", path); err.Error() != want {
				t.Errorf("error\n got: %s\nwant: %s", err, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v) false", tt.is)
			}
			// Check says the same without the file name (and checks no options).
			if tt.opts == nil && !strings.Contains(tt.want, "init") {
				_, cerr := Check(context.Background(), tt.bin)
				want := strings.TrimPrefix(tt.want, "%s: ")
				want = strings.ReplaceAll(want, "%s", "module")
				if cerr == nil || cerr.Error() != want {
					t.Errorf("Check: %v, want %s", cerr, want)
				}
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(context.Background(), "plugins/nope.wasm", &recorder{}, Options{})
	if !errors.Is(err, os.ErrNotExist) || err.Error() != "open plugins/nope.wasm: no such file or directory" {
		t.Fatal(err)
	}
}

func TestLoadInvalidModule(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.wasm")
	os.WriteFile(path, []byte("\x00asm\x01\x00\x00\x00\x01\x05\x01\x60"), 0o644)
	_, err := Load(context.Background(), path, &recorder{}, Options{Logger: quietLogger()})
	if !errors.Is(err, ErrNotWasm) || !strings.HasPrefix(err.Error(), path+": invalid module: ") {
		t.Fatal(err)
	}
}

func TestInitFails(t *testing.T) {
	checkGoroutines(t)
	o := testOptions()
	o.Init.Config = json.RawMessage(`{"fail_init":true}`)
	_, err := Load(context.Background(), guestWasm, &recorder{}, o)
	var ae *abi.Error
	if want := guestWasm + ": init: invalid: told to fail"; err == nil || err.Error() != want || !errors.As(err, &ae) {
		t.Fatalf("got %v, want %s", err, want)
	}
}

func TestCheckGuest(t *testing.T) {
	bin, err := os.ReadFile(guestWasm)
	if err != nil {
		t.Fatal(err)
	}
	info, err := Check(context.Background(), bin)
	if err != nil {
		t.Fatal(err)
	}
	if info.ABIMajor != 1 || info.ABIMinor != 0 || !info.Reactor || info.MemoryMin == 0 {
		t.Errorf("%+v", info)
	}
	imports := map[string]string{}
	for _, f := range info.Imports {
		imports[f.Module+"."+f.Name] = f.Type
	}
	for name, typ := range map[string]string{
		"gateway_v1.call":   "func(i32, i32, i32, i32) i32",
		"gateway_v1.result": "func(i32, i32) i32",
		"gateway_v1.reply":  "func(i32, i32)",
		"gateway_v1.log":    "func(i32, i32, i32)",
	} {
		if imports[name] != typ {
			t.Errorf("import %s: %q, want %q", name, imports[name], typ)
		}
	}
}

// TestTinyPlugin runs a hand-written module: no Go runtime, no WASI, a plain infinite loop.
func TestTinyPlugin(t *testing.T) {
	checkGoroutines(t)
	path := filepath.Join(t.TempDir(), "tiny.wasm")
	os.WriteFile(path, tinyPlugin().encode(), 0o644)
	o := Options{Instances: 1, EventTimeout: 100 * time.Millisecond, Logger: quietLogger()}
	p, err := Load(context.Background(), path, &recorder{}, o)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	if p.Info().Name != "Tiny" || p.Module().MemoryMin != 2 {
		t.Fatalf("%+v %+v", p.Info(), p.Module())
	}
	r, err := p.Do(context.Background(), "a", abi.EventLogout, nil, nil)
	if err != nil || string(r.Reply) != tinyInitReply {
		t.Fatal(r, err)
	}
	start := time.Now()
	_, err = p.Do(context.Background(), "a", abi.EventText, nil, abi.Text{Text: strings.Repeat("x", 1000)})
	var ce *CrashError
	if !errors.Is(err, ErrTimeout) || !errors.As(err, &ce) || ce.Session != "a" || ce.Event != abi.EventText {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("stopped after %s", d)
	}
	if r, err := p.Do(context.Background(), "a", abi.EventLogout, nil, nil); err != nil || string(r.Reply) != tinyInitReply {
		t.Fatal(r, err)
	}
}

// TestInstrumentNoSections instruments a module with neither globals nor exports.
func TestInstrumentNoSections(t *testing.T) {
	m := wmodule{funcs: []wfunc{{body: []byte{0x03, 0x40, 0x0c, 0x00, 0x0b}}}}
	bin := m.encode()
	// The encoder always writes an export section: drop it (id 7, one byte of body: 0).
	bin = []byte(strings.Replace(string(bin), "\x07\x01\x00", "", 1))
	out, _, err := instrument(bin)
	if err != nil {
		t.Fatal(err)
	}
	info, err := checkRaw(out)
	if err != nil {
		t.Fatal(err)
	}
	if info != interruptExport {
		t.Fatal(info)
	}
}
