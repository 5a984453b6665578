package plugin

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
)

// Paths set by TestMain.
var (
	guestWasm string // the Go test guest, testdata/guest
	cacheDir  string // wazero's compilation cache, kept across runs
)

func TestMain(m *testing.M) {
	var err error
	cacheDir = wasmtest.CacheDir()
	if guestWasm, err = wasmtest.BuildPath("host/plugin/testdata/guest"); err != nil {
		fmt.Fprintln(os.Stderr, "building the test guest:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// recorder is the test Host: it records calls and logs, and answers contact.text with
// {"ok":true} and kv.get with not_found.
type recorder struct {
	mu      sync.Mutex
	calls   []hostCallRec
	logs    []string
	crashes []string
}

type hostCallRec struct {
	session string
	method  abi.Method
	req     string
}

func (r *recorder) Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	if method == abi.CallKVGet && string(req) == `{"key":"k"}` {
		return benchValue, nil // benchmarks: not recorded
	}
	r.mu.Lock()
	r.calls = append(r.calls, hostCallRec{session, method, string(req)})
	r.mu.Unlock()
	switch method {
	case abi.CallContactText:
		return []byte(`{"ok":true}`), nil
	case abi.CallKVGet:
		return nil, abi.Errorf(abi.CodeNotFound, "no key %s", req)
	case abi.CallGatewayMessage:
		return nil, nil
	}
	return nil, fmt.Errorf("recorder: unknown method %s", method)
}

var benchValue = []byte(`{"value":"v"}`)

func (r *recorder) Log(session string, level abi.LogLevel, msg string) {
	r.mu.Lock()
	r.logs = append(r.logs, fmt.Sprintf("%s %d %s", session, level, msg))
	r.mu.Unlock()
}

func (r *recorder) PluginCrashed(session string, ev abi.EventType, err error) {
	r.mu.Lock()
	r.crashes = append(r.crashes, fmt.Sprintf("%s %s %v", session, ev, err))
	r.mu.Unlock()
}

// callsOf returns the recorded calls of a session, as "method req".
func (r *recorder) callsOf(session string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, c := range r.calls {
		if c.session == session {
			out = append(out, string(c.method)+" "+c.req)
		}
	}
	return out
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// testOptions are small, fast options for the Go guest.
func testOptions() Options {
	return Options{
		Name:          "test",
		CacheDir:      cacheDir,
		Instances:     2,
		MemoryLimitMB: 64,
		EventTimeout:  2 * time.Second,
		QueueSize:     16,
		Init:          abi.Init{Gateway: "test.localhost"},
		Logger:        quietLogger(),
	}
}

func loadGuest(t testing.TB, host Host, o Options) *Plugin {
	t.Helper()
	p, err := Load(context.Background(), guestWasm, host, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close(context.Background()) })
	return p
}

// text is a message.text payload.
func text(id, s string) abi.Text { return abi.Text{ID: id, Text: s} }

func chat(id string) *abi.Chat { return &abi.Chat{ID: id, Kind: abi.ChatDirect} }

// checkGoroutines fails if goroutines started during the test outlive it.
func checkGoroutines(t *testing.T) {
	t.Helper()
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		var n int
		for i := 0; i < 100; i++ {
			if n = runtime.NumGoroutine(); n <= before {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		t.Errorf("goroutines: %d before, %d after\n%s", before, n, buf)
	})
}
