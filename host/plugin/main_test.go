package plugin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
)

// Paths set by TestMain.
var (
	guestWasm string // the Go test guest, testdata/guest
	cacheDir  string // wazero's compilation cache, kept across runs
)

func TestMain(m *testing.M) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "gateway-test-wasm")
	cacheDir = filepath.Join(dir, "wazero")
	if guestWasm, err = buildGuest(dir, "testdata/guest"); err != nil {
		fmt.Fprintln(os.Stderr, "building the test guest:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

// buildGuest builds a Go guest with GOOS=wasip1, caching the result by a hash of its sources
// (and of abi/, which it imports, and of the Go version).
func buildGuest(cache, src string) (string, error) {
	h := sha256.New()
	fmt.Fprintln(h, runtime.Version())
	for _, pattern := range []string{filepath.Join(src, "*.go"), "../../abi/*.go"} {
		files, _ := filepath.Glob(pattern)
		sort.Strings(files)
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(b))
			h.Write(b)
		}
	}
	out := filepath.Join(cache, filepath.Base(src)+"-"+hex.EncodeToString(h.Sum(nil))[:16]+".wasm")
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cache, "build-*.wasm")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	// go test puts the running toolchain's bin folder first in PATH.
	cmd := exec.Command("go", "build", "-buildmode=c-shared", "-o", tmp.Name(), "./"+src)
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%v: %s", err, b)
	}
	return out, os.Rename(tmp.Name(), out)
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
