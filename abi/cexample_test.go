package abi_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
)

// TestCExample compiles the C walkthrough of README.md (section 10) to wasm32-wasi with clang and
// checks its exports and imports against the documented signatures. It is skipped where clang or
// wasi-libc is not installed.
func TestCExample(t *testing.T) {
	clang, err := exec.LookPath("clang")
	if err != nil {
		t.Skip("clang is not installed")
	}
	const sysroot = "/usr"
	if !hasWASILibc(sysroot) {
		t.Skip("wasi-libc is not installed under " + sysroot)
	}
	src := cExample(t)
	dir := t.TempDir()
	cfile, wasm := filepath.Join(dir, "echo.c"), filepath.Join(dir, "echo.wasm")
	if err := os.WriteFile(cfile, src, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(clang, "--target=wasm32-wasi", "--sysroot="+sysroot, "-O2",
		"-mexec-model=reactor", "-Wall", "-Werror", "-o", wasm, cfile)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", cmd, err, out)
	}
	bin, err := os.ReadFile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	mod, err := readWasm(bin)
	if err != nil {
		t.Fatal(err)
	}
	checkABIModule(t, mod)
}

// checkABIModule checks a module's ABI v1 exports and imports against section 3 of README.md.
func checkABIModule(t *testing.T, mod *wasmModule) {
	t.Helper()
	wantExports := map[string]string{
		fmt.Sprintf("%s%d_%d", abi.MarkerPrefix, abi.Major, abi.Minor): "()->()",
		abi.ExportAlloc: "(i32)->(i32)",
		abi.ExportFree:  "(i32,i32)->()",
		abi.ExportEvent: "(i32,i32)->(i32)",
	}
	for name, sig := range wantExports {
		got, ok := mod.exports[name]
		if !ok {
			t.Errorf("export %s is missing (exports: %v)", name, mod.exports)
		} else if got != sig {
			t.Errorf("export %s has type %s, want %s", name, got, sig)
		}
	}
	if got, ok := mod.exports[abi.ExportInitialize]; ok && got != "()->()" {
		t.Errorf("export %s has type %s, want ()->()", abi.ExportInitialize, got)
	}
	if got := mod.exports["memory"]; got != "memory" {
		t.Errorf("export memory is missing")
	}
	wantImports := map[string]string{
		abi.ImportCall:   "(i32,i32,i32,i32)->(i32)",
		abi.ImportResult: "(i32,i32)->(i32)",
		abi.ImportReply:  "(i32,i32)->()",
		abi.ImportLog:    "(i32,i32,i32)->()",
	}
	for key, sig := range mod.imports {
		module, name, _ := strings.Cut(key, ".")
		if module != abi.ImportModule {
			continue
		}
		want, ok := wantImports[name]
		if !ok {
			t.Errorf("import %s is not part of ABI v1", key)
		} else if sig != want {
			t.Errorf("import %s has type %s, want %s", key, sig, want)
		}
	}
}

func hasWASILibc(sysroot string) bool {
	for _, d := range []string{"wasm32-wasi", "wasm32-wasip1"} {
		if _, err := os.Stat(filepath.Join(sysroot, "include", d, "stdlib.h")); err == nil {
			return true
		}
	}
	return false
}

// cExample returns the one ```c block of README.md.
func cExample(t *testing.T) []byte {
	t.Helper()
	readme := readREADME(t)
	_, rest, ok := strings.Cut(readme, "\n```c\n")
	if !ok {
		t.Fatal("README.md has no ```c block")
	}
	src, _, ok := strings.Cut(rest, "\n```\n")
	if !ok {
		t.Fatal("README.md: unterminated ```c block")
	}
	if strings.Contains(rest, "\n```c\n") {
		t.Fatal("README.md has more than one ```c block")
	}
	return []byte(src + "\n")
}

// wasmModule is what the test needs of a Wasm binary: its exports (name -> function signature
// such as "(i32)->(i32)", or the kind for non-functions) and its imports ("module.name" ->
// signature or kind).
type wasmModule struct {
	exports map[string]string
	imports map[string]string
}

// readWasm reads the type, import, function and export sections of a Wasm binary.
func readWasm(bin []byte) (*wasmModule, error) {
	if len(bin) < 8 || !bytes.Equal(bin[:4], []byte("\x00asm")) {
		return nil, errors.New("not a Wasm binary")
	}
	r := &wasmReader{b: bin[8:]}
	var types []string
	var funcTypes []uint32 // type index of every function, imported ones first
	mod := &wasmModule{exports: map[string]string{}, imports: map[string]string{}}
	kinds := map[byte]string{0: "func", 1: "table", 2: "memory", 3: "global", 4: "tag"}
	for len(r.b) > 0 && r.err == nil {
		id := r.byte()
		sec := &wasmReader{b: r.bytes(int(r.u32()))}
		switch id {
		case 1: // types
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				if sec.byte() != 0x60 {
					return nil, errors.New("type section: not a function type")
				}
				params, results := sec.valtypes(), sec.valtypes()
				types = append(types, "("+params+")->("+results+")")
			}
		case 2: // imports
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				key := sec.name() + "." + sec.name()
				kind := sec.byte()
				switch kind {
				case 0:
					ti := sec.u32()
					funcTypes = append(funcTypes, ti)
					mod.imports[key] = sigOf(types, ti)
				case 1:
					sec.byte()
					sec.limits()
					mod.imports[key] = "table"
				case 2:
					sec.limits()
					mod.imports[key] = "memory"
				case 3:
					sec.byte()
					sec.byte()
					mod.imports[key] = "global"
				case 4:
					sec.byte()
					sec.u32()
					mod.imports[key] = "tag"
				default:
					return nil, fmt.Errorf("import %s: unknown kind %d", key, kind)
				}
			}
		case 3: // functions
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				funcTypes = append(funcTypes, sec.u32())
			}
		case 7: // exports
			for n := sec.u32(); n > 0 && sec.err == nil; n-- {
				name, kind, idx := sec.name(), sec.byte(), sec.u32()
				if kind == 0 {
					if int(idx) >= len(funcTypes) {
						return nil, fmt.Errorf("export %s: function %d out of range", name, idx)
					}
					mod.exports[name] = sigOf(types, funcTypes[idx])
				} else {
					mod.exports[name] = kinds[kind]
				}
			}
		}
		if sec.err != nil {
			return nil, fmt.Errorf("section %d: %w", id, sec.err)
		}
	}
	return mod, r.err
}

func sigOf(types []string, i uint32) string {
	if int(i) < len(types) {
		return types[i]
	}
	return "?"
}

type wasmReader struct {
	b   []byte
	err error
}

func (r *wasmReader) fail() {
	if r.err == nil {
		r.err = errors.New("truncated")
	}
	r.b = nil
}

func (r *wasmReader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *wasmReader) bytes(n int) []byte {
	if n < 0 || n > len(r.b) {
		r.fail()
		return nil
	}
	b := r.b[:n]
	r.b = r.b[n:]
	return b
}

func (r *wasmReader) u32() uint32 {
	var v uint32
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		v |= uint32(c&0x7f) << shift
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail()
	return 0
}

func (r *wasmReader) name() string { return string(r.bytes(int(r.u32()))) }

func (r *wasmReader) limits() {
	flags := r.byte()
	r.u32() // min
	if flags&1 != 0 {
		r.u32() // max
	}
}

func (r *wasmReader) valtypes() string {
	names := map[byte]string{0x7f: "i32", 0x7e: "i64", 0x7d: "f32", 0x7c: "f64", 0x7b: "v128", 0x70: "funcref", 0x6f: "externref"}
	var out []string
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		c := r.byte()
		if s, ok := names[c]; ok {
			out = append(out, s)
		} else {
			out = append(out, fmt.Sprintf("0x%02x", c))
		}
	}
	return strings.Join(out, ",")
}
