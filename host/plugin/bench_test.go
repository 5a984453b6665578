package plugin

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/xmppgw/gateway/abi"
)

// benchPlugin loads the Go guest with one instance and the per-event deadline on.
func benchPlugin(b *testing.B) *Plugin {
	o := testOptions()
	o.Instances = 1
	o.EventTimeout = 10 * time.Second
	o.QueueSize = 1024
	return loadGuest(b, &recorder{}, o)
}

// roundTrip submits events one after the other through the session queue.
func roundTrip(b *testing.B, p *Plugin, ev abi.EventType, payload any) {
	ch := make(chan Result, 1)
	done := func(r Result) { ch <- r }
	data, _ := payloadBytes(payload)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := p.Submit("bench@x", ev, nil, data, done); err != nil {
			b.Fatal(err)
		}
		if r := <-ch; r.Err != nil || r.Status != abi.StatusOK {
			b.Fatal(r.Status, r.Err)
		}
	}
}

// BenchmarkEventEmpty is an empty event's round trip through Submit: envelope, session queue,
// worker wake-up, deadline, gw_alloc + write + gw_event + gw_free, done.
func BenchmarkEventEmpty(b *testing.B) {
	roundTrip(b, benchPlugin(b), "bench.empty", nil)
}

// BenchmarkEventEmptyDo is the same through Do (a channel and a closure per event).
func BenchmarkEventEmptyDo(b *testing.B) {
	p := benchPlugin(b)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Do(ctx, "bench@x", "bench.empty", nil, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEventEmptyInstance is the same event entered on the calling goroutine (no queue):
// envelope, deadline, gw_alloc + write + gw_event + gw_free.
func BenchmarkEventEmptyInstance(b *testing.B) {
	p := benchPlugin(b)
	in := p.workers[0].inst // the worker is idle: nothing is submitted
	t := task{ev: "bench.empty"}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r, crash := in.handle("bench@x", &t); crash != nil || r.Err != nil {
			b.Fatal(crash, r.Err)
		}
	}
}

// BenchmarkEventEmptyDirect calls gw_event alone on an envelope already in guest memory: the
// guest's own cost, the baseline of the host overhead.
func BenchmarkEventEmptyDirect(b *testing.B) {
	p := benchPlugin(b)
	in := p.workers[0].inst
	env := appendEnvelope(nil, "bench.empty", "bench@x", nil, nil)
	stack := []uint64{uint64(len(env)), 0}
	ctx := context.Background()
	if err := in.alloc.CallWithStack(ctx, stack); err != nil {
		b.Fatal(err)
	}
	ptr := uint32(stack[0])
	in.mem.Write(ptr, env)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		stack[0], stack[1] = uint64(ptr), uint64(len(env))
		if err := in.event.CallWithStack(ctx, stack); err != nil {
			b.Fatal(err)
		}
	}
}

var kib = strings.Repeat("abcdefgh", 128)

// BenchmarkEvent1KiB: a 1 KiB payload the guest decodes with encoding/json, and a 1 KiB reply.
func BenchmarkEvent1KiB(b *testing.B) {
	roundTrip(b, benchPlugin(b), "bench.kib", map[string]string{"data": kib})
}

// BenchmarkHostCall: one host call (guest -> host -> result -> guest), 1000 per event.
func BenchmarkHostCall(b *testing.B) {
	p := benchPlugin(b)
	ch := make(chan Result, 1)
	done := func(r Result) { ch <- r }
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i += 1000 {
		n := min(1000, b.N-i)
		if err := p.Submit("bench@x", "bench.calls", nil, []byte(`{"n":`+itoa(n)+`}`), done); err != nil {
			b.Fatal(err)
		}
		if r := <-ch; r.Err != nil {
			b.Fatal(r.Err)
		}
	}
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}

// BenchmarkInstanceStart: instantiate + _initialize + init event, and close.
func BenchmarkInstanceStart(b *testing.B) {
	p := benchPlugin(b)
	w := p.workers[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		in, err := p.newInstance(w)
		if err != nil {
			b.Fatal(err)
		}
		in.close(context.Background())
	}
}

// BenchmarkDeadline compares the per-event cost of the two ways to bound an event, outside
// Plugin: the three export calls of an empty event (gw_alloc, gw_event, gw_free) on the
// instrumented guest with the interrupt global and a reusable timer (what Plugin does), on the
// plain guest with nothing (no deadline at all), and on the plain guest compiled with
// WithCloseOnContextDone(true) and called with a context.WithTimeout per event.
func BenchmarkDeadline(b *testing.B) {
	bin, err := os.ReadFile(guestWasm)
	if err != nil {
		b.Fatal(err)
	}
	inst, _, err := instrument(bin)
	if err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, bin []byte, closeOnDone bool, per func() (context.Context, func())) {
		ctx := context.Background()
		cache, _ := wazero.NewCompilationCacheWithDir(cacheDir)
		defer cache.Close(ctx)
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().
			WithCompilationCache(cache).WithCloseOnContextDone(closeOnDone))
		defer rt.Close(ctx)
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		hb := rt.NewHostModuleBuilder(abi.ImportModule)
		nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
		i32 := api.ValueTypeI32
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export(abi.ImportCall)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(abi.ImportResult)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, nil).Export(abi.ImportReply)
		hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export(abi.ImportLog)
		if _, err := hb.Instantiate(ctx); err != nil {
			b.Fatal(err)
		}
		mod, err := rt.InstantiateWithConfig(ctx, bin, wazero.NewModuleConfig().WithSysNanotime().
			WithSysWalltime().WithSysNanosleep().WithRandSource(rand.Reader).WithStartFunctions("_initialize"))
		if err != nil {
			b.Fatal(err)
		}
		alloc, event, free := mod.ExportedFunction(abi.ExportAlloc), mod.ExportedFunction(abi.ExportEvent), mod.ExportedFunction(abi.ExportFree)
		env := appendEnvelope(nil, "bench.empty", "bench@x", nil, nil)
		stack := make([]uint64, 2)
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c, end := per()
			stack[0] = uint64(len(env))
			if err := alloc.CallWithStack(c, stack); err != nil {
				b.Fatal(err)
			}
			ptr := stack[0]
			mod.Memory().Write(uint32(ptr), env)
			stack[0], stack[1] = ptr, uint64(len(env))
			if err := event.CallWithStack(c, stack); err != nil {
				b.Fatal(err)
			}
			stack[0], stack[1] = ptr, uint64(len(env))
			if err := free.CallWithStack(c, stack); err != nil {
				b.Fatal(err)
			}
			end()
		}
	}
	background := func() (context.Context, func()) { return context.Background(), func() {} }
	b.Run("none", func(b *testing.B) { run(b, bin, false, background) })
	b.Run("interrupt", func(b *testing.B) {
		// What Plugin pays: arm and disarm a reusable timer around the calls.
		timer := time.AfterFunc(time.Hour, func() {})
		defer timer.Stop()
		var in instance
		in.timer = timer
		in.p = &Plugin{opts: Options{EventTimeout: 10 * time.Second}}
		in.sleepWake = make(chan struct{}, 1)
		run(b, inst, false, func() (context.Context, func()) {
			in.arm()
			return context.Background(), in.disarm
		})
	})
	b.Run("closeOnContextDone", func(b *testing.B) {
		run(b, bin, true, func() (context.Context, func()) {
			return context.WithTimeout(context.Background(), 10*time.Second)
		})
	})
}

// BenchmarkInstrumentation measures what the loop checks cost a busy Go guest: the 1 KiB event
// (encoding/json both ways) entered directly on the instrumented and the plain module.
func BenchmarkInstrumentation(b *testing.B) {
	bin, err := os.ReadFile(guestWasm)
	if err != nil {
		b.Fatal(err)
	}
	inst, _, err := instrument(bin)
	if err != nil {
		b.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"data": kib})
	for _, c := range []struct {
		name string
		bin  []byte
		env  []byte
	}{
		{"json/plain", bin, appendEnvelope(nil, "bench.kib", "bench@x", nil, payload)},
		{"json/instrumented", inst, appendEnvelope(nil, "bench.kib", "bench@x", nil, payload)},
		{"work/plain", bin, appendEnvelope(nil, "bench.work", "bench@x", nil, nil)},
		{"work/instrumented", inst, appendEnvelope(nil, "bench.work", "bench@x", nil, nil)},
	} {
		env := c.env
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			cache, _ := wazero.NewCompilationCacheWithDir(cacheDir)
			defer cache.Close(ctx)
			rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache))
			defer rt.Close(ctx)
			wasi_snapshot_preview1.MustInstantiate(ctx, rt)
			hb := rt.NewHostModuleBuilder(abi.ImportModule)
			nop := api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
			i32 := api.ValueTypeI32
			hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export(abi.ImportCall)
			hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, []api.ValueType{i32}).Export(abi.ImportResult)
			hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32}, nil).Export(abi.ImportReply)
			hb.NewFunctionBuilder().WithGoModuleFunction(nop, []api.ValueType{i32, i32, i32}, nil).Export(abi.ImportLog)
			if _, err := hb.Instantiate(ctx); err != nil {
				b.Fatal(err)
			}
			mod, err := rt.InstantiateWithConfig(ctx, c.bin, wazero.NewModuleConfig().WithSysNanotime().
				WithSysWalltime().WithSysNanosleep().WithRandSource(rand.Reader).WithStartFunctions("_initialize"))
			if err != nil {
				b.Fatal(err)
			}
			alloc, event := mod.ExportedFunction(abi.ExportAlloc), mod.ExportedFunction(abi.ExportEvent)
			stack := []uint64{uint64(len(env)), 0}
			if err := alloc.CallWithStack(ctx, stack); err != nil {
				b.Fatal(err)
			}
			ptr := stack[0]
			mod.Memory().Write(uint32(ptr), env)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				stack[0], stack[1] = ptr, uint64(len(env))
				if err := event.CallWithStack(ctx, stack); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkLoad: Load (read, instrument, compile from the cache, check, one instance) and Close.
func BenchmarkLoad(b *testing.B) {
	o := testOptions()
	o.Instances = 1
	for i := 0; i < b.N; i++ {
		p, err := Load(context.Background(), guestWasm, &recorder{}, o)
		if err != nil {
			b.Fatal(err)
		}
		p.Close(context.Background())
	}
}

// BenchmarkInstrument: rewriting the Go guest (3.4 MB).
func BenchmarkInstrument(b *testing.B) {
	bin, err := os.ReadFile(guestWasm)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(bin)))
	for i := 0; i < b.N; i++ {
		if _, _, err := instrument(bin); err != nil {
			b.Fatal(err)
		}
	}
}
