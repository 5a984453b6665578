// Package wasmtest runs a compiled plugin module (.wasm) under wazero for tests: it builds a Go
// plugin for wasip1, checks its exports, and gives sdktest a Starter, so that the fake host
// drives the module exactly as it drives a plugin in process.
//
//	path := wasmtest.Build(t, "./plugins/echo")
//	h := sdktest.New(t, nil, sdktest.WithStarter(wasmtest.MustLoad(t, path).Starter()))
//
// It is a minimal host for tests and benchmarks, not the gateway's runtime.
package wasmtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

// Build compiles the Go plugin package pkg (a path as go build takes it, relative to the test's
// directory) for wasip1 into a temporary .wasm and returns its path. Extra go build flags (such
// as "-tags=gw_stdjson") may follow. The test is skipped if no go command is found.
func Build(t testing.TB, pkg string, flags ...string) string {
	t.Helper()
	gobin := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skip("wasmtest: no go command")
		}
	}
	name := filepath.Base(pkg)
	if name == "." || name == ".." || name == "/" {
		name = "plugin"
	}
	out := filepath.Join(t.TempDir(), name+".wasm")
	args := append([]string{"build", "-buildmode=c-shared", "-o", out}, flags...)
	cmd := exec.Command(gobin, append(args, pkg)...)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("wasmtest: go build %s: %v\n%s", pkg, err, b)
	}
	return out
}

// Module is a compiled plugin module; each Start makes a fresh instance of it.
type Module struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule

	mu    sync.Mutex
	hosts map[api.Module]*instance
}

// Load compiles the module at path.
func Load(path string) (*Module, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	cfg := wazero.NewRuntimeConfigCompiler()
	if dir, err := os.UserCacheDir(); err == nil {
		// Compiling a Go module takes seconds; a cached one, tens of milliseconds.
		if cache, err := wazero.NewCompilationCacheWithDir(filepath.Join(dir, "xmppgw-wasmtest")); err == nil {
			cfg = cfg.WithCompilationCache(cache)
		}
	}
	rt := wazero.NewRuntimeWithConfig(ctx, cfg)
	m := &Module{rt: rt, hosts: map[api.Module]*instance{}}
	if _, err := wasi_snapshot_preview1.Instantiate(ctx, rt); err != nil {
		return nil, err
	}
	i32 := api.ValueTypeI32
	hb := rt.NewHostModuleBuilder(abi.ImportModule)
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(m.call), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export(abi.ImportCall)
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(m.result), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(abi.ImportResult)
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(m.reply), []api.ValueType{i32, i32}, nil).Export(abi.ImportReply)
	hb.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(m.log), []api.ValueType{i32, i32, i32}, nil).Export(abi.ImportLog)
	if _, err := hb.Instantiate(ctx); err != nil {
		return nil, err
	}
	if m.compiled, err = rt.CompileModule(ctx, b); err != nil {
		return nil, fmt.Errorf("wasmtest: compiling %s: %w", path, err)
	}
	return m, nil
}

// MustLoad is Load that fails the test on error and closes the module when the test ends.
func MustLoad(t testing.TB, path string) *Module {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Close releases the runtime and every instance.
func (m *Module) Close() error { return m.rt.Close(context.Background()) }

// Exports lists the names of the functions the module exports, sorted.
func (m *Module) Exports() []string {
	var out []string
	for name := range m.compiled.ExportedFunctions() {
		out = append(out, name)
	}
	slices.Sort(out)
	return out
}

// Starter returns an sdktest.Starter that instantiates the module.
func (m *Module) Starter() sdktest.Starter {
	return func(h sdktest.HostFuncs) (sdktest.Instance, error) { return m.Start(h) }
}

// Start makes a fresh instance whose host calls go to h (its _initialize runs now).
func (m *Module) Start(h sdktest.HostFuncs) (*Instance, error) {
	ctx := context.Background()
	cfg := wazero.NewModuleConfig().WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader).
		WithStartFunctions(). // a reactor: _initialize is called below, once the host is bound
		WithStdout(os.Stderr).WithStderr(os.Stderr)
	mod, err := m.rt.InstantiateModule(ctx, m.compiled, cfg)
	if err != nil {
		return nil, err
	}
	in := &instance{h: h, mod: mod}
	m.mu.Lock()
	m.hosts[mod] = in
	m.mu.Unlock()
	if f := mod.ExportedFunction(abi.ExportInitialize); f != nil {
		if _, err := f.Call(ctx); err != nil {
			return nil, fmt.Errorf("wasmtest: _initialize: %w", err)
		}
	}
	inst := &Instance{m: m, in: in, alloc: mod.ExportedFunction(abi.ExportAlloc), free: mod.ExportedFunction(abi.ExportFree), event: mod.ExportedFunction(abi.ExportEvent)}
	if inst.alloc == nil || inst.free == nil || inst.event == nil {
		return nil, fmt.Errorf("wasmtest: the module lacks %s, %s or %s", abi.ExportAlloc, abi.ExportFree, abi.ExportEvent)
	}
	return inst, nil
}

type instance struct {
	h   sdktest.HostFuncs
	mod api.Module
}

// Instance is a running instance of a Module.
type Instance struct {
	m                  *Module
	in                 *instance
	alloc, free, event api.Function
	stack              [2]uint64
}

// Event writes env into a block from gw_alloc, calls gw_event and frees the block, as the host
// does. An error means the instance trapped and must be discarded.
func (i *Instance) Event(env []byte) (abi.Status, error) {
	ctx := context.Background()
	st := i.stack[:]
	st[0] = uint64(len(env))
	if err := i.alloc.CallWithStack(ctx, st); err != nil {
		return abi.StatusError, err
	}
	ptr := uint32(st[0])
	if !i.in.mod.Memory().Write(ptr, env) {
		return abi.StatusError, fmt.Errorf("wasmtest: gw_alloc returned %d, out of memory", ptr)
	}
	st[0], st[1] = uint64(ptr), uint64(len(env))
	if err := i.event.CallWithStack(ctx, st); err != nil {
		return abi.StatusError, err
	}
	status := abi.Status(int32(uint32(st[0])))
	st[0], st[1] = uint64(ptr), uint64(len(env))
	if err := i.free.CallWithStack(ctx, st); err != nil {
		return abi.StatusError, err
	}
	return status, nil
}

// Memory returns the size of the instance's linear memory in bytes.
func (i *Instance) Memory() uint32 { return i.in.mod.Memory().Size() }

// Close discards the instance.
func (i *Instance) Close() error {
	i.m.mu.Lock()
	delete(i.m.hosts, i.in.mod)
	i.m.mu.Unlock()
	return i.in.mod.Close(context.Background())
}

func (m *Module) host(mod api.Module) *instance {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.hosts[mod]
}

func (m *Module) call(ctx context.Context, mod api.Module, stack []uint64) {
	in := m.host(mod)
	mem := mod.Memory()
	method, ok1 := mem.Read(uint32(stack[0]), uint32(stack[1]))
	req, ok2 := mem.Read(uint32(stack[2]), uint32(stack[3]))
	if !ok1 || !ok2 {
		panic("wasmtest: call: out of bounds")
	}
	stack[0] = uint64(uint32(in.h.Call(string(method), req)))
}

func (m *Module) result(ctx context.Context, mod api.Module, stack []uint64) {
	in := m.host(mod)
	buf, ok := mod.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	if !ok {
		panic("wasmtest: result: out of bounds")
	}
	stack[0] = uint64(uint32(in.h.Result(buf)))
}

func (m *Module) reply(ctx context.Context, mod api.Module, stack []uint64) {
	in := m.host(mod)
	b, ok := mod.Memory().Read(uint32(stack[0]), uint32(stack[1]))
	if !ok {
		panic("wasmtest: reply: out of bounds")
	}
	in.h.Reply(b)
}

func (m *Module) log(ctx context.Context, mod api.Module, stack []uint64) {
	in := m.host(mod)
	b, ok := mod.Memory().Read(uint32(stack[1]), uint32(stack[2]))
	if !ok {
		panic("wasmtest: log: out of bounds")
	}
	in.h.Log(int32(uint32(stack[0])), string(b))
}
