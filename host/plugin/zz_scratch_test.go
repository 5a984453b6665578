package plugin

import (
	"context"
	"crypto/rand"
	"os"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/xmppgw/gateway/abi"
)

func TestScratchInstrCost(t *testing.T) {
	bin, _ := os.ReadFile(guestWasm)
	inst, _, _ := instrument(bin)
	if os.Getenv("FLAGONLY") != "" {
		testFlagOnly = true
		inst, _, _ = instrument(bin)
		testFlagOnly = false
	}
	ctx := context.Background()
	mk := func(bin []byte) (api.Function, uint64, int, func()) {
		cache, _ := wazero.NewCompilationCacheWithDir(cacheDir)
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache))
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		hb := rt.NewHostModuleBuilder(abi.ImportModule)
		nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
		i32 := api.ValueTypeI32
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export(abi.ImportCall)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(abi.ImportResult)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, nil).Export(abi.ImportReply)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export(abi.ImportLog)
		hb.Instantiate(ctx)
		mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithSysNanotime().
			WithSysWalltime().WithSysNanosleep().WithRandSource(rand.Reader).WithStartFunctions("_initialize"))
		if err != nil {
			t.Fatal(err)
		}
		env := appendEnvelope(nil, abi.EventType(os.Getenv("EV")), "bench@x", nil, []byte(`{"data":"`+kib+`"}`))
		stack := []uint64{uint64(len(env)), 0}
		mod.ExportedFunction(abi.ExportAlloc).CallWithStack(ctx, stack)
		mod.Memory().Write(uint32(stack[0]), env)
		return mod.ExportedFunction(abi.ExportEvent), stack[0], len(env), func() { rt.Close(ctx); cache.Close(ctx) }
	}
	fp, pp, pn, c1 := mk(bin)
	defer c1()
	fi, pi, ni, c2 := mk(inst)
	defer c2()
	run := func(f api.Function, p uint64, n int) time.Duration {
		st := []uint64{0, 0}
		start := time.Now()
		for i := 0; i < 20; i++ {
			st[0], st[1] = p, uint64(n)
			if err := f.CallWithStack(ctx, st); err != nil {
				t.Fatal(err)
			}
		}
		return time.Since(start) / 20
	}
	minP, minI := time.Hour, time.Hour
	for r := 0; r < 100; r++ {
		minP = min(minP, run(fp, pp, pn))
		minI = min(minI, run(fi, pi, ni))
	}
	t.Logf("plain %v instrumented %v (+%.1f%%)", minP, minI, 100*(float64(minI)/float64(minP)-1))
}
