package checker

// Tests of the example plugins written in C, Rust and AssemblyScript (examples/echo-*, on
// sdk/c, sdk/rust and sdk/assemblyscript), built from source into build/examples by
// scripts/build-examples.sh (through wasmtest.Example; the toolchains come from
// scripts/wasm-toolchains.sh, which `make deps` runs).
//
//   - TestExamplesCheck: every example passes the plugin checker.
//   - TestExamplesParity: each example, driven through host/plugin with a recording host, makes
//     exactly the host calls, statuses and replies of the Go echo network (plugins/echo) over a
//     scripted conversation: registration, search, login, roster, texts, files, corrections,
//     retractions, reactions, refusals, storage errors, a relogin and an instance restart.
//   - BenchmarkExamples: module size, instance start, a 1 KiB event round trip and memory per
//     session, per language (Go included), for BENCHMARKS.md.

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/plugin"
)

// exExample is one example plugin.
type exExample struct {
	lang string // "c", "rust", "assemblyscript"
	file string // in build/examples
}

var exExamples = []exExample{
	{"c", "echo-c.wasm"},
	{"rust", "echo-rust.wasm"},
	{"assemblyscript", "echo-assemblyscript.wasm"},
}

// exPath returns the example's module, built from source.
func exPath(t testing.TB, e exExample) string {
	t.Helper()
	return wasmtest.Example(t, strings.TrimSuffix(e.file, ".wasm"))
}

// exGoEcho builds the reference: the Go echo network.
func exGoEcho(t testing.TB) string { return wasmtest.Build(t, "plugins/echo") }

func TestExamplesCheck(t *testing.T) {
	for _, e := range exExamples {
		t.Run(e.lang, func(t *testing.T) {
			wasm := exPath(t, e)
			var trace strings.Builder
			r, err := Run(context.Background(), wasm, Options{CacheDir: wasmtest.CacheDir(), Trace: &trace})
			if err != nil {
				t.Fatal(err)
			}
			if !r.OK() || r.Name != "Echo" {
				var text strings.Builder
				r.WriteText(&text)
				t.Errorf("the checker fails %s (name %q):\n%s\ntrace:\n%s", wasm, r.Name, text.String(), trace.String())
			}
		})
	}
}

// ---- The recording host ----

// exHost is a plugin.Host that answers from memory like the gateway would, for what the echo
// network uses, and records every call.
type exHost struct {
	mu       sync.Mutex
	kv       map[string]map[string]string // session -> key -> value
	quota    bool                         // kv.set fails with quota
	forbid   bool                         // file.fetch fails with forbidden
	fetches  []json.RawMessage            // the contexts of file.fetch, in order
	record   bool
	calls    []string
	lastSeen int64 // the expected last_seen of liam (now - 7 days), for normalising
}

func newExHost() *exHost {
	return &exHost{kv: map[string]map[string]string{}, record: true}
}

func (h *exHost) Call(_ context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.record {
		h.calls = append(h.calls, "   call "+string(method)+" "+h.normalize(req))
	}
	var r struct {
		LegacyID string `json:"legacy_id"`
	}
	var kv struct{ Key, Value string }
	switch method {
	case abi.CallFileFetch:
		var f abi.FileFetch
		if err := json.Unmarshal(req, &f); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
		}
		if h.forbid {
			return nil, &abi.Error{Code: abi.CodeForbidden, Message: "file.fetch: 10.0.0.1 is a private address"}
		}
		h.fetches = append(h.fetches, f.Context)
		return json.Marshal(abi.Token{Token: fmt.Sprintf("f-%d", len(h.fetches))})
	case abi.CallContactGet:
		if err := json.Unmarshal(req, &r); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
		}
		return json.Marshal(abi.Contact{LegacyID: r.LegacyID, JID: r.LegacyID + "@echo.test"})
	case abi.CallKVGet, abi.CallKVSet, abi.CallKVDelete:
		if err := json.Unmarshal(req, &kv); err != nil {
			return nil, &abi.Error{Code: abi.CodeBadRequest, Message: err.Error()}
		}
		m := h.kv[session]
		if m == nil {
			m = map[string]string{}
			h.kv[session] = m
		}
		switch method {
		case abi.CallKVGet:
			v, ok := m[kv.Key]
			if !ok {
				return nil, &abi.Error{Code: abi.CodeNotFound, Message: "no key " + kv.Key}
			}
			return json.Marshal(abi.KVValue{Value: v})
		case abi.CallKVSet:
			if h.quota {
				return nil, &abi.Error{Code: abi.CodeQuota, Message: "storage quota exceeded"}
			}
			m[kv.Key] = kv.Value
		default:
			delete(m, kv.Key)
		}
	}
	return nil, nil
}

func (h *exHost) Log(string, abi.LogLevel, string) {}

// normalize re-encodes JSON with sorted keys, replaces a last_seen within ten minutes of the
// expected one (now - 7 days, at whatever second each plugin ran) with "~7d", and a context
// made by the Go SDK ({"gw": nonce, "id": n, "c": the plugin's}) with the plugin's own.
func (h *exHost) normalize(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return "INVALID JSON " + string(b)
	}
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if n, ok := e.(float64); ok && k == "last_seen" && math.Abs(n-float64(h.lastSeen)) < 600 {
					x[k] = "~7d"
					continue
				}
				if c, ok := e.(map[string]any); ok && k == "context" && c["gw"] != nil {
					e = c["c"]
				}
				x[k] = walk(e)
			}
		case []any:
			for i := range x {
				x[i] = walk(x[i])
			}
		}
		return v
	}
	out, _ := json.Marshal(walk(v))
	return string(out)
}

// ---- The conversation ----

// exStep is one event of the scripted conversation, or (with do) a change of the host or of
// the plugin between events.
type exStep struct {
	session string
	ev      abi.EventType
	chat    string // "" for none
	payload any
	do      func(*exRun) error
}

// exRun is one plugin going through the conversation.
type exRun struct {
	t    *testing.T
	wasm string
	h    *exHost
	p    *plugin.Plugin
	init json.RawMessage
	out  []string
}

func (r *exRun) load() error {
	p, err := plugin.Load(context.Background(), r.wasm, r.h, plugin.Options{
		CacheDir:             wasmtest.CacheDir(),
		Instances:            1,
		Init:                 abi.Init{Gateway: "echo.test", Config: r.init},
		MaxCrashesPerSession: -1,
		MaxCrashedSessions:   -1,
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err != nil {
		return err
	}
	r.p = p
	info, _ := json.Marshal(p.Info())
	r.out = append(r.out, "init: "+string(info))
	return nil
}

func (r *exRun) close() {
	if r.p != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = r.p.Close(ctx)
		r.p = nil
	}
}

func (r *exRun) step(s exStep) {
	if s.do != nil {
		if err := s.do(r); err != nil {
			r.t.Fatalf("%s: %v", r.wasm, err)
		}
		return
	}
	var chat *abi.Chat
	head := "-> " + string(s.ev) + " " + s.session
	if s.chat != "" {
		chat = &abi.Chat{ID: s.chat, Kind: abi.ChatDirect}
		head += " chat " + s.chat
	}
	r.h.mu.Lock()
	r.h.calls = nil
	r.h.mu.Unlock()
	res, err := r.p.Do(context.Background(), s.session, s.ev, chat, s.payload)
	var crash *plugin.CrashError
	if res.Status == abi.StatusOK || res.Status == abi.StatusUnhandled || res.Status == abi.StatusError && !asCrash(err, &crash) {
		err = nil // the status and reply say it all
	}
	r.h.mu.Lock()
	lines := append([]string{head}, r.h.calls...)
	r.h.mu.Unlock()
	tail := fmt.Sprintf("<- status %d", res.Status)
	if len(res.Reply) > 0 {
		tail += " reply " + r.h.normalize(res.Reply)
	}
	if err != nil {
		tail += " error " + err.Error()
	}
	r.out = append(r.out, append(lines, tail)...)
}

func asCrash(err error, c **plugin.CrashError) bool {
	e, ok := err.(*plugin.CrashError)
	if ok {
		*c = e
	}
	return ok
}

// exConversation runs the steps on a plugin and returns its transcript.
func exConversation(t *testing.T, wasm string, config string, steps []exStep) []string {
	r := &exRun{t: t, wasm: wasm, h: newExHost(), init: json.RawMessage(config)}
	r.h.lastSeen = time.Now().Add(-7 * 24 * time.Hour).Unix()
	if err := r.load(); err != nil {
		t.Fatalf("load %s: %v", wasm, err)
	}
	defer r.close()
	for _, s := range steps {
		r.step(s)
	}
	return r.out
}

// exM is a JSON object, for payloads.
type exM = map[string]any

func exSteps() []exStep {
	const alice, bob, carol = "alice@example.org", "bob@example.org", "carol@example.org"
	ev := func(session string, e abi.EventType, chat string, payload any) exStep {
		return exStep{session: session, ev: e, chat: chat, payload: payload}
	}
	steps := []exStep{
		// Registration: the name's validation messages.
		ev(alice, abi.EventValidate, "", exM{"request": "r1", "values": exM{"name": " \t\u00a0 "}}),
		ev(alice, abi.EventValidate, "", exM{"request": "r2", "values": exM{}}),
		ev(alice, abi.EventValidate, "", exM{"request": "r3", "values": exM{"name": strings.Repeat("é", 65)}}),
		ev(alice, abi.EventValidate, "", exM{"request": "r4", "values": exM{"name": strings.Repeat("😀", 64)}}),
		ev(alice, abi.EventValidate, "", exM{"request": "r5", "values": exM{"name": "  Alice \u3000"}}),
		// Search by id or name.
		ev(alice, abi.EventSearch, "", exM{"request": "s1", "query": "EVE"}),
		ev(alice, abi.EventSearch, "", exM{"request": "s2", "query": "  helper bot\n"}),
		ev(alice, abi.EventSearch, "", exM{"request": "s3", "query": "Dora Away"}),
		ev(alice, abi.EventSearch, "", exM{"request": "s4", "query": "nobody"}),
		ev(alice, abi.EventSearch, "", exM{"request": "s5", "query": ""}),
		// Login and the roster.
		ev(alice, abi.EventLogin, "", exM{"registration": exM{"name": "Alice \"A\" Liddell"}}),
		ev(alice, abi.EventFill, "", nil),
		ev(alice, abi.EventUpdateInfo, "", exM{"legacy_id": "eve"}),
		ev(alice, abi.EventUpdateInfo, "", exM{"legacy_id": "liam"}),
		ev(alice, abi.EventUpdateInfo, "", exM{"legacy_id": "zed"}),
		ev(alice, abi.EventFriendRequest, "", exM{"legacy_id": "zed"}),
		// Messages.
		ev(alice, abi.EventText, "eve", exM{"id": "m1", "text": "hello \"world\" é 👍 \u0001\n\t<&> \\ /"}),
		ev(alice, abi.EventText, "plain", exM{"id": "m2", "text": "hi plain"}),
		ev(alice, abi.EventText, "eve", exM{"id": "m3", "text": "fail"}),
		ev(alice, abi.EventText, "eve", exM{"id": "m3b", "text": "fail "}),
		ev(alice, abi.EventFile, "dora", exM{"id": "m4", "url": "https://upload.example.org/a b.png", "name": "a b.png", "type": "image/png", "size": 12, "caption": "look"}),
		ev(alice, abi.EventText, "zed", exM{"id": "m5", "text": "to someone else", "reply_to": "u-1", "origin_id": "o5"}),
		// "file <url>": the contact downloads it and sends it back, or says why it could not.
		ev(alice, abi.EventText, "eve", exM{"id": "f1", "text": "file https://files.example.org/cat.png"}),
		exFetched(alice, -1, exM{"handle": "f-7", "size": 3, "type": "image/png", "name": "cat.png", "extra": true}, nil),
		ev(alice, abi.EventText, "dora", exM{"id": "f2", "text": "file   https://files.example.org/x \t"}),
		exFetched(alice, -1, nil, exM{"code": "unavailable", "message": "server down"}),
		ev(alice, abi.EventText, "zed", exM{"id": "f2b", "text": "file https://files.example.org/y"}),
		exFetched(alice, -1, exM{"handle": "f-8", "size": 0}, nil),
		exStep{do: func(r *exRun) error { r.h.forbid = true; return nil }},
		ev(alice, abi.EventText, "plain", exM{"id": "f3", "text": "file http://10.0.0.1/x"}),
		exStep{do: func(r *exRun) error { r.h.forbid = false; return nil }},
		ev(alice, abi.EventText, "eve", exM{"id": "f3b", "text": "files are fun"}),
		ev(alice, abi.EventFileFetched, "", exM{"token": "f-x", "context": exM{"x": 1}, "file": exM{"handle": "f-9", "size": 1}}),
		ev(alice, abi.EventFileFetched, "", exM{"token": "f-y", "file": exM{"handle": "f-9", "size": 1}}),
		// Corrections, reactions, markers, retractions.
		ev(alice, abi.EventCorrect, "eve", exM{"id": "c1", "target": "u-1", "text": "hello again"}),
		ev(alice, abi.EventCorrect, "plain", exM{"id": "c2", "target": "u-2", "text": "x"}),
		ev(alice, abi.EventCorrect, "eve", exM{"id": "c3", "target": "u-999", "text": "x"}),
		ev(alice, abi.EventReact, "eve", exM{"id": "r1", "target": "u-1", "reactions": []string{"👍", "❤️"}}),
		ev(alice, abi.EventReact, "eve", exM{"id": "r2", "target": "u-1", "reactions": []string{}}),
		ev(alice, abi.EventReact, "plain", exM{"id": "r3", "target": "u-2", "reactions": []string{"👍"}}),
		ev(alice, abi.EventDisplayed, "eve", exM{"target": "e-1"}),
		ev(alice, abi.EventChatState, "eve", exM{"state": "composing"}),
		ev(alice, abi.EventInput, "", exM{"prompt": "p", "text": "t"}),
		ev(alice, abi.EventRetract, "eve", exM{"id": "d1", "target": "u-1"}),
		ev(alice, abi.EventRetract, "eve", exM{"id": "d2", "target": "u-1"}),
		ev(alice, abi.EventRetract, "plain", exM{"id": "d3", "target": "u-2"}),
		// What the echo network leaves to the host's defaults.
		ev(alice, abi.EventBridgeResponse, "", exM{"token": "b-1", "context": exM{"x": 1}, "response": exM{}}),
		ev(alice, abi.EventTimer, "", exM{"timer": "t", "context": exM{"y": []int{1}}}),
		ev(alice, abi.EventFileFetched, "", exM{"token": "f-1", "error": exM{"code": "forbidden", "message": "no"}}),
		ev(alice, "some.future.event", "", exM{"x": 1}),
		ev(alice, abi.EventJIDToLegacy, "", exM{"username": "eve"}),
		ev(alice, abi.EventLegacyToJID, "", exM{"legacy_id": "eve"}),
		// A message event without its chat is a bad request.
		ev(alice, abi.EventText, "", exM{"id": "m6", "text": "no chat"}),
		// Sessions are separate; a session's first event may be a message.
		ev(bob, abi.EventLogin, "", exM{"registration": exM{"name": "Bob"}}),
		ev(bob, abi.EventText, "bot", exM{"id": "b1", "text": "for bob"}),
		ev(carol, abi.EventText, "eve", exM{"id": "k1", "text": "carol first"}),
	}
	// Past the block of 100 ids reserved in storage.
	for i := 0; i < 100; i++ {
		steps = append(steps, ev(alice, abi.EventText, "plain", exM{"id": fmt.Sprintf("n%d", i), "text": fmt.Sprint(i)}))
	}
	steps = append(steps,
		// A relogin reserves a new block.
		ev(alice, abi.EventLogout, "", nil),
		ev(alice, abi.EventLogin, "", exM{"registration": exM{"name": "Alice"}}),
		ev(alice, abi.EventText, "eve", exM{"id": "m7", "text": "after relogin"}),
		// A download pending across a restart.
		ev(alice, abi.EventText, "bot", exM{"id": "f4", "text": "file https://files.example.org/late.png"}),
		// A new instance (the old one is gone with its memory): session.restored, and the reply
		// id kept in storage still retracts the echo.
		exStep{do: func(r *exRun) error { r.close(); return r.load() }},
		ev(alice, abi.EventRestored, "", nil),
		exFetched(alice, -1, exM{"handle": "f-10", "size": 10, "name": "late.png"}, nil),
		ev(alice, abi.EventRetract, "eve", exM{"id": "d4", "target": "u-201"}),
		ev(alice, abi.EventText, "eve", exM{"id": "m8", "text": "after restart"}),
		// Storage errors: a login that cannot reserve ids fails; a message that cannot keep its
		// reply fails after it was sent.
		exStep{do: func(r *exRun) error { r.h.quota = true; return nil }},
		ev(bob, abi.EventLogout, "", nil),
		ev(bob, abi.EventLogin, "", exM{"registration": exM{"name": "Bob"}}),
		ev(bob, abi.EventText, "eve", exM{"id": "b2", "text": "quota"}),
		ev(carol, abi.EventRestored, "", nil),
		exStep{do: func(r *exRun) error { r.h.quota = false; return nil }},
		ev(bob, abi.EventUnregister, "", nil),
		ev(alice, abi.EventLogout, "", nil),
	)
	return steps
}

// exFetched delivers the file.fetched answering the plugin's i-th file.fetch (-1: the last),
// with its context, and a file or an error.
func exFetched(session string, i int, file, err exM) exStep {
	return exStep{do: func(r *exRun) error {
		r.h.mu.Lock()
		if i < 0 {
			i += len(r.h.fetches)
		}
		if i < 0 || i >= len(r.h.fetches) {
			r.h.mu.Unlock()
			return fmt.Errorf("no file.fetch %d to answer", i)
		}
		ctx := r.h.fetches[i]
		r.h.mu.Unlock()
		p := exM{"token": fmt.Sprintf("f-%d", i+1), "context": ctx}
		if file != nil {
			p["file"] = file
		}
		if err != nil {
			p["error"] = err
		}
		r.step(exStep{session: session, ev: abi.EventFileFetched, payload: p})
		return nil
	}}
}

// exCompare reports the first difference between two transcripts.
func exCompare(t *testing.T, lang string, want, got []string) {
	t.Helper()
	for i := 0; i < len(want) || i < len(got); i++ {
		var w, g string
		if i < len(want) {
			w = want[i]
		}
		if i < len(got) {
			g = got[i]
		}
		if w != g {
			from := max(0, i-8)
			t.Errorf("%s differs from Go at line %d:\n  go:   %s\n  %s: %s\ncontext (go):\n%s\ncontext (%s):\n%s", lang, i+1, exClip(w), lang, exClip(g),
				strings.Join(want[from:min(len(want), i+1)], "\n"), lang, strings.Join(got[from:min(len(got), i+1)], "\n"))
			return
		}
	}
}

func exClip(s string) string {
	if len(s) > 600 {
		return s[:600] + "..."
	}
	return s
}

func TestExamplesParity(t *testing.T) {
	goWasm := exGoEcho(t)
	steps := exSteps()
	want := exConversation(t, goWasm, `{}`, steps)
	if len(want) < 400 || !strings.Contains(strings.Join(want, "\n"), `"echo: after restart"`) {
		t.Fatalf("the Go transcript is too short:\n%s", strings.Join(want, "\n"))
	}
	// A roster with generated contacts ([gateway.config] contacts = N).
	extra := []exStep{
		{session: "dave@example.org", ev: abi.EventLogin, payload: exM{"registration": exM{"name": "Dave"}}},
		{session: "dave@example.org", ev: abi.EventFill},
		{session: "dave@example.org", ev: abi.EventUpdateInfo, payload: exM{"legacy_id": "c1"}},
	}
	wantExtra := exConversation(t, goWasm, `{"contacts":3}`, extra)
	if os.Getenv("GATEWAY_EXAMPLES_TRANSCRIPT") != "" {
		t.Logf("Go transcript:\n%s", strings.Join(want, "\n"))
	}
	for _, e := range exExamples {
		t.Run(e.lang, func(t *testing.T) {
			wasm := exPath(t, e)
			exCompare(t, e.lang, want, exConversation(t, wasm, `{}`, steps))
			exCompare(t, e.lang, wantExtra, exConversation(t, wasm, `{"contacts":3}`, extra))
			// A bad config is refused at init, with the same message.
			h := newExHost()
			_, err := plugin.Load(context.Background(), wasm, h, plugin.Options{
				CacheDir: wasmtest.CacheDir(), Instances: 1, Logger: slog.New(slog.DiscardHandler),
				Init: abi.Init{Gateway: "echo.test", Config: json.RawMessage(`{"contacts":-1}`)},
			})
			if err == nil || !strings.Contains(err.Error(), "[gateway.config] contacts = -1: expected 0 to 100000") {
				t.Errorf("contacts = -1: got %v", err)
			}
		})
	}
}

// ---- Benchmarks ----

// exBenchHost answers every call at once, as fast as possible, keeping kv in memory.
type exBenchHost struct {
	mu sync.Mutex
	kv map[string]string
}

func (h *exBenchHost) Call(_ context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	switch method {
	case abi.CallKVGet, abi.CallKVSet:
		var kv struct{ Key, Value string }
		_ = json.Unmarshal(req, &kv)
		h.mu.Lock()
		defer h.mu.Unlock()
		if method == abi.CallKVSet {
			h.kv[session+"\x00"+kv.Key] = kv.Value
			return nil, nil
		}
		v, ok := h.kv[session+"\x00"+kv.Key]
		if !ok {
			return nil, &abi.Error{Code: abi.CodeNotFound, Message: "no key"}
		}
		return json.Marshal(abi.KVValue{Value: v})
	case abi.CallContactGet:
		return []byte(`{"legacy_id":"x","jid":"x@echo.test","friend":false,"ready":false}`), nil
	}
	return nil, nil
}

func (h *exBenchHost) Log(string, abi.LogLevel, string) {}

// exDirect runs a plugin's instances with wazero directly (no pool, no deadline
// instrumentation), to time instantiation and read the linear memory's size.
type exDirect struct {
	rt      wazero.Runtime
	cm      wazero.CompiledModule
	host    *exBenchHost
	session string
	pending []byte
}

func newExDirect(b *testing.B, wasm string) *exDirect {
	ctx := context.Background()
	bin, err := os.ReadFile(wasm)
	if err != nil {
		b.Fatal(err)
	}
	cache, err := wazero.NewCompilationCacheWithDir(wasmtest.CacheDir())
	if err != nil {
		b.Fatal(err)
	}
	d := &exDirect{host: &exBenchHost{kv: map[string]string{}}}
	d.rt = wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigCompiler().WithCompilationCache(cache))
	b.Cleanup(func() { d.rt.Close(ctx); cache.Close(ctx) })
	wasi_snapshot_preview1.MustInstantiate(ctx, d.rt)
	i32 := api.ValueTypeI32
	read := func(m api.Module, p, n uint64) []byte {
		buf, _ := m.Memory().Read(uint32(p), uint32(n))
		return buf
	}
	_, err = d.rt.NewHostModuleBuilder(abi.ImportModule).
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		method := string(read(m, s[0], s[1]))
		resp, err := d.host.Call(ctx, d.session, abi.Method(method), read(m, s[2], s[3]))
		if err != nil {
			ae := err.(*abi.Error)
			d.pending, _ = json.Marshal(abi.ErrorReply{Error: ae})
			s[0] = uint64(uint32(-int32(ae.Code)))
			return
		}
		if resp == nil {
			resp = []byte("{}")
		}
		d.pending = resp
		s[0] = uint64(len(resp))
	}), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).Export("call").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {
		n := min(uint32(s[1]), uint32(len(d.pending)))
		if n > 0 {
			m.Memory().Write(uint32(s[0]), d.pending[:n])
		}
		s[0] = uint64(len(d.pending))
	}), []api.ValueType{i32, i32}, []api.ValueType{i32}).Export("result").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}),
		[]api.ValueType{i32, i32}, nil).Export("reply").
		NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(func(ctx context.Context, m api.Module, s []uint64) {}),
		[]api.ValueType{i32, i32, i32}, nil).Export("log").
		Instantiate(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if d.cm, err = d.rt.CompileModule(ctx, bin); err != nil {
		b.Fatal(err)
	}
	return d
}

// start instantiates the module, calls _initialize and sends init.
func (d *exDirect) start(b *testing.B) api.Module {
	ctx := context.Background()
	mod, err := d.rt.InstantiateModule(ctx, d.cm, wazero.NewModuleConfig().WithName("").
		WithSysWalltime().WithSysNanotime().WithSysNanosleep().WithRandSource(rand.Reader).
		WithStdout(io.Discard).WithStderr(io.Discard).WithStartFunctions())
	if err != nil {
		b.Fatal(err)
	}
	if f := mod.ExportedFunction("_initialize"); f != nil {
		if _, err := f.Call(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if st := d.event(b, mod, "", "init", "", `{"gateway":"echo.test","abi":"1.0","config":{}}`); st != 0 {
		b.Fatalf("init: status %d", st)
	}
	return mod
}

// event delivers one envelope as host/plugin does: gw_alloc, write, gw_event, gw_free.
func (d *exDirect) event(b *testing.B, mod api.Module, session string, ev abi.EventType, chat, payload string) uint64 {
	ctx := context.Background()
	env := `{"type":"` + string(ev) + `"`
	if session != "" {
		env += `,"session":"` + session + `"`
	}
	if chat != "" {
		env += `,"chat":{"id":"` + chat + `","kind":"direct"}`
	}
	if payload != "" {
		env += `,"payload":` + payload
	}
	env += "}"
	d.session = session
	r, err := mod.ExportedFunction(abi.ExportAlloc).Call(ctx, uint64(len(env)))
	if err != nil || r[0] == 0 {
		b.Fatalf("gw_alloc: %v", err)
	}
	mod.Memory().Write(uint32(r[0]), []byte(env))
	st, err := mod.ExportedFunction(abi.ExportEvent).Call(ctx, r[0], uint64(len(env)))
	if err != nil {
		b.Fatalf("%s: %v", ev, err)
	}
	if _, err := mod.ExportedFunction(abi.ExportFree).Call(ctx, r[0], uint64(len(env))); err != nil {
		b.Fatal(err)
	}
	return st[0]
}

// BenchmarkExamples measures each language's echo network:
//
//   - start: instantiate + _initialize + init, on a compiled module (wazero directly); the
//     module's size on disk is reported with it (module-bytes).
//   - event1KiB: a message.text with a 1 KiB body to "plain" (answered by message.sent and
//     contact.text) through host/plugin's Do: envelope, session queue, deadline, the guest's
//     JSON decoding and encoding, two host calls.
//   - session: per logged-in session (login, roster.fill of five contacts with avatars, one
//     message to eve), the growth of the instance's linear memory (bytes/session), after the
//     memory the instance starts with (instance-bytes).
func BenchmarkExamples(b *testing.B) {
	langs := []struct {
		lang string
		path func(testing.TB) string
	}{{"go", exGoEcho}}
	for _, e := range exExamples {
		langs = append(langs, struct {
			lang string
			path func(testing.TB) string
		}{e.lang, func(t testing.TB) string { return exPath(t, e) }})
	}
	for _, l := range langs {
		b.Run(l.lang+"/start", func(b *testing.B) {
			wasm := l.path(b)
			st, _ := os.Stat(wasm)
			d := newExDirect(b, wasm)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d.start(b).Close(context.Background())
			}
			b.ReportMetric(float64(st.Size()), "module-bytes")
		})
		b.Run(l.lang+"/event1KiB", func(b *testing.B) {
			wasm := l.path(b)
			p, err := plugin.Load(context.Background(), wasm, &exBenchHost{kv: map[string]string{}}, plugin.Options{
				CacheDir: wasmtest.CacheDir(), Instances: 1, QueueSize: 16, Logger: slog.New(slog.DiscardHandler),
			})
			if err != nil {
				b.Fatal(err)
			}
			defer p.Close(context.Background())
			ctx, session := context.Background(), "bench@example.org"
			if _, err := p.Do(ctx, session, abi.EventLogin, nil, exM{"registration": exM{"name": "Bench"}}); err != nil {
				b.Fatal(err)
			}
			payload, _ := json.Marshal(abi.Text{ID: "x", Text: strings.Repeat("abcdefgh", 128)})
			chat := &abi.Chat{ID: "plain", Kind: abi.ChatDirect}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if r, err := p.Do(ctx, session, abi.EventText, chat, json.RawMessage(payload)); err != nil || r.Status != abi.StatusOK {
					b.Fatal(r.Status, err)
				}
			}
		})
		b.Run(l.lang+"/session", func(b *testing.B) {
			wasm := l.path(b)
			d := newExDirect(b, wasm)
			mod := d.start(b)
			defer mod.Close(context.Background())
			before := mod.Memory().Size()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				s := fmt.Sprintf("user%d@example.org", i)
				for _, e := range []struct {
					ev            abi.EventType
					chat, payload string
				}{
					{abi.EventLogin, "", `{"registration":{"name":"U"}}`},
					{abi.EventFill, "", ""},
					{abi.EventText, "eve", `{"id":"x","text":"hello"}`},
				} {
					if st := d.event(b, mod, s, e.ev, e.chat, e.payload); st != 0 {
						b.Fatalf("%s: status %d", e.ev, st)
					}
				}
			}
			b.StopTimer()
			after := mod.Memory().Size()
			b.ReportMetric(float64(after-before)/float64(b.N), "bytes/session")
			b.ReportMetric(float64(before), "instance-bytes")
		})
	}
}
