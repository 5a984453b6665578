package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
)

// cacheDir is wazero's compilation cache, shared by the tests of this package.
var cacheDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "checker-test-cache")
	if err != nil {
		panic(err)
	}
	cacheDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var allSteps = []string{"module", "init", "validate", "login", "fill", "update_info", "text", "jid_mapping", "logout"}

func run(t *testing.T, wasm string, o Options) *Report {
	t.Helper()
	if o.CacheDir == "" {
		o.CacheDir = cacheDir
	}
	var trace bytes.Buffer
	o.Trace = &trace
	r, err := Run(context.Background(), wasm, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			var text bytes.Buffer
			r.WriteText(&text)
			t.Logf("report:\n%s\ntrace:\n%s", text.String(), trace.String())
		}
	})
	return r
}

func names(r *Report) []string {
	var out []string
	for _, s := range r.Steps {
		out = append(out, s.Name)
	}
	return out
}

func step(t *testing.T, r *Report, name string) Step {
	t.Helper()
	for _, s := range r.Steps {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no step %s in %v", name, names(r))
	return Step{}
}

// wantStep checks a step's verdict and that its detail contains each of want.
func wantStep(t *testing.T, r *Report, name string, ok bool, want ...string) {
	t.Helper()
	s := step(t, r, name)
	if s.OK != ok {
		t.Errorf("step %s: ok=%v, want %v (%s)", name, s.OK, ok, s.Detail)
	}
	for _, w := range want {
		if !strings.Contains(s.Detail, w) {
			t.Errorf("step %s: detail %q lacks %q", name, s.Detail, w)
		}
	}
}

// The echo plugin passes every step, with no fixture.
func TestEcho(t *testing.T) {
	wasm := wasmtest.Build(t, "plugins/echo")
	r := run(t, wasm, Options{})
	if !reflect.DeepEqual(names(r), allSteps) {
		t.Fatalf("steps %v, want %v", names(r), allSteps)
	}
	if !r.OK() {
		t.Error("report not OK")
	}
	if r.Module == nil || r.Module.ABIMajor != 1 || !r.Module.Reactor || r.Name != "Echo" {
		t.Errorf("module %+v, name %q", r.Module, r.Name)
	}
	wantStep(t, r, "init", true, `"Echo"; registration: name (required); features: search`)
	wantStep(t, r, "validate", true, `accepted name="checker"`)
	wantStep(t, r, "login", true, `logged in: "Echo network: logged in as checker"`)
	wantStep(t, r, "fill", true, "5 contacts created (eve, dora, liam, bot, plain), 5 added to the roster")
	wantStep(t, r, "update_info", true, `contact "eve" ready, name "Eve Echo", online, jid eve@checker.invalid`)
	wantStep(t, r, "text", true, `sent to "eve", legacy id "u-1"; the contact answered "echo: Hello from the plugin checker"`)
	wantStep(t, r, "jid_mapping", true, "jid_username_to_legacy_id unhandled")
	wantStep(t, r, "logout", true, "handled")

	var text bytes.Buffer
	r.WriteText(&text)
	for _, w := range []string{"ABI v1.0, WASI reactor", "gw_event", "func(i32, i32) i32", "gateway_v1.call", "PASS text: ", "ok: all 9 steps passed"} {
		if !strings.Contains(text.String(), w) {
			t.Errorf("text report lacks %q:\n%s", w, text.String())
		}
	}
}

// A plugin that works through a bridge, with prompts and timers, passes with its fixture: the
// canned bridge answers, the prompt's answer, the contact to test.
func TestBridgedFixture(t *testing.T) {
	wasm := wasmtest.Build(t, "host/checker/testdata/bridged")
	fx, err := LoadFixture("testdata/bridged.toml")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, wasm, Options{Fixture: fx})
	if !r.OK() || len(r.Steps) != len(allSteps) {
		t.Fatalf("report not OK: %+v", r.Steps)
	}
	wantStep(t, r, "validate", true, `accepted device="checker-device", phone="+15550000001"`)
	wantStep(t, r, "login", true, `logged in: "Logged in as +15550000001" (after 1 prompts answered from the fixture)`)
	wantStep(t, r, "fill", true, "2 contacts created (1001, 1002), 2 added to the roster")
	wantStep(t, r, "update_info", true, `contact "1001" ready, name "Ada"`)
	wantStep(t, r, "text", true, `sent to "1001", legacy id "4398046511104"`)
}

// A prompt the fixture cannot answer fails the login with the prompt's text; a bridge call with
// no canned answer is named in the failure.
func TestBridgedMissingAnswers(t *testing.T) {
	wasm := wasmtest.Build(t, "host/checker/testdata/bridged")
	fx, err := LoadFixture("testdata/bridged.toml")
	if err != nil {
		t.Fatal(err)
	}
	fx.Prompts = nil
	fx.Bridge = fx.Bridge[:3] // no getUser, no sendMessage
	r := run(t, wasm, Options{Fixture: fx})
	wantStep(t, r, "login", false, `the plugin asked "Enter the code Telegram sent you." (prompt "code") and the fixture has no answer`)
	wantStep(t, r, "update_info", true, `contact "1001" failed: "no such user"`)
	wantStep(t, r, "text", true, `message.failed: "not sent"`)

	// Without the bridge granted, bridge.call fails, and the plugin (which ignores the error)
	// never ends the login: the failed call is named.
	r = run(t, wasm, Options{})
	wantStep(t, r, "login", false, "the plugin called neither session.logged_in nor session.login_failed, and nothing else is pending",
		`(failed host calls: bridge.call {"bridge":"tdlib"`, `forbidden: bridge "tdlib" is not granted to this gateway`)
}

// The test guest of host/plugin handles neither session.login nor message.sent: the checker says
// so, step by step.
func TestGuest(t *testing.T) {
	wasm := wasmtest.Build(t, "host/plugin/testdata/guest")
	r := run(t, wasm, Options{Fixture: &Fixture{Contact: "bob"}})
	if r.OK() {
		t.Error("report OK")
	}
	wantStep(t, r, "init", true, `"Test checker.invalid"; registration: none; features: echo`)
	wantStep(t, r, "validate", true, "unhandled: the gateway accepts the empty form")
	wantStep(t, r, "login", false, `session.login unhandled: the gateway's default fails every login ("not supported by this network")`)
	wantStep(t, r, "fill", true, "unhandled; 0 contacts created, 0 added to the roster")
	wantStep(t, r, "update_info", true, `unhandled: the gateway makes contact "bob" ready as it is`)
	wantStep(t, r, "text", false, `the plugin called neither message.sent nor message.failed with id "checker-msg-1", and nothing else is pending`)
	wantStep(t, r, "jid_mapping", true, "unhandled")
	wantStep(t, r, "logout", true, "unhandled")

	// Without a contact, update_info and text cannot run.
	r = run(t, wasm, Options{})
	wantStep(t, r, "update_info", false, `no contact to test: the plugin created none, and the fixture names none (set "contact" in the fixture)`)
	wantStep(t, r, "text", false, "no contact to write to")
}

// A trap and a deadline overrun fail their step with the runtime's reason; the next steps run on
// a fresh instance.
func TestGuestCrashes(t *testing.T) {
	wasm := wasmtest.Build(t, "host/plugin/testdata/guest")
	for _, tc := range []struct{ text, want string }{
		{"panic", "message.text: instance trapped"},
		{"sleep", "message.text: event deadline exceeded"},
		{"error", `message.text: status 2 (error): network: the network said no`},
		{"badstatus", "message.text: returned status 7, not 0, 1 or 2"},
	} {
		t.Run(tc.text, func(t *testing.T) {
			r := run(t, wasm, Options{Fixture: &Fixture{Contact: "bob", Text: tc.text}, EventTimeout: 500 * time.Millisecond})
			wantStep(t, r, "text", false, tc.want)
			wantStep(t, r, "logout", true)
			if tc.text == "panic" {
				wantStep(t, r, "text", false, "plugin log: panic: boom")
			}
		})
	}
}

// A module without gw_event fails the module step with the precise reason, and nothing runs.
func TestNoEventExport(t *testing.T) {
	path := filepath.Join(t.TempDir(), "noevent.wasm")
	if err := os.WriteFile(path, noEventModule(), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, path, Options{})
	want := []Step{{Name: "module", OK: false, Detail: "missing export gw_event (func(i32, i32) i32)"}}
	if !reflect.DeepEqual(r.Steps, want) || r.Module != nil || r.OK() {
		t.Errorf("steps %+v, module %+v", r.Steps, r.Module)
	}
	var text bytes.Buffer
	r.WriteText(&text)
	if !strings.Contains(text.String(), "FAIL module: missing export gw_event") || !strings.Contains(text.String(), "FAIL: 1 of 1 steps failed") {
		t.Errorf("text:\n%s", text.String())
	}
}

// noEventModule is a minimal module with memory, the ABI marker, gw_alloc and gw_free, but no
// gw_event. Every length fits in one LEB128 byte.
func noEventModule() []byte {
	sec := func(id byte, body ...byte) []byte { return append([]byte{id, byte(len(body))}, body...) }
	name := func(s string) []byte { return append([]byte{byte(len(s))}, s...) }
	var exports []byte
	exports = append(exports, 4)
	exports = append(append(exports, name("memory")...), 0x02, 0)
	exports = append(append(exports, name("gw_abi_v1_0")...), 0x00, 0)
	exports = append(append(exports, name("gw_alloc")...), 0x00, 1)
	exports = append(append(exports, name("gw_free")...), 0x00, 2)
	m := []byte("\x00asm\x01\x00\x00\x00")
	m = append(m, sec(1, 3, 0x60, 0, 0, 0x60, 1, 0x7f, 1, 0x7f, 0x60, 2, 0x7f, 0x7f, 0)...) // types
	m = append(m, sec(3, 3, 0, 1, 2)...)                                                    // functions
	m = append(m, sec(5, 1, 0, 1)...)                                                       // memory: 1 page
	m = append(m, sec(7, exports...)...)
	m = append(m, sec(10, 3, 2, 0, 0x0b, 4, 0, 0x41, 0, 0x0b, 2, 0, 0x0b)...) // code
	return m
}

// A file that is not WebAssembly fails the module step; a missing file is an error.
func TestNotWasm(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plugin.wasm")
	if err := os.WriteFile(path, []byte("#!/bin/sh\necho not a module\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, path, Options{})
	if len(r.Steps) != 1 || r.Steps[0].OK || r.Steps[0].Detail != "not a WebAssembly module" {
		t.Errorf("steps %+v", r.Steps)
	}
	if _, err := Run(context.Background(), filepath.Join(t.TempDir(), "missing.wasm"), Options{}); !os.IsNotExist(err) {
		t.Errorf("missing file: %v", err)
	}
}

func TestReportJSON(t *testing.T) {
	wasm := wasmtest.Build(t, "plugins/echo")
	r := run(t, wasm, Options{})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		OK     bool   `json:"ok"`
		File   string `json:"file"`
		Name   string `json:"name"`
		Module struct {
			ABI     string `json:"abi"`
			Reactor bool   `json:"reactor"`
			Exports []struct{ Name, Type string }
			Imports []struct{ Module, Name, Type string }
			Min     uint32 `json:"memory_min_pages"`
		} `json:"module"`
		Steps []Step `json:"steps"`
	}
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	if !got.OK || got.File != wasm || got.Name != "Echo" || got.Module.ABI != "1.0" || !got.Module.Reactor ||
		len(got.Module.Exports) == 0 || len(got.Module.Imports) == 0 || got.Module.Min == 0 || len(got.Steps) != len(allSteps) {
		t.Errorf("JSON report: %s", b)
	}
}

func TestLoadFixture(t *testing.T) {
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	js := write("f.json", `{"config": {"api_id": 1}, "registration": {"phone": "+1"}, "prompts": [{"id": "code", "answer": "1"}],
		"contact": "42", "bridge": [{"bridge": "tdlib", "type": "getMe", "response": {"@type": "user", "id": 7}, "once": true},
		{"type": "x", "error": {"code": "unavailable", "message": "down"}}]}`)
	tm := write("f.toml", `config = {api_id = 1}
registration = {phone = "+1"}
contact = "42"
[[prompts]]
id = "code"
answer = "1"
[[bridge]]
bridge = "tdlib"
type = "getMe"
response = {"@type" = "user", id = 7}
once = true
[[bridge]]
type = "x"
error = {code = "unavailable", message = "down"}
`)
	a, err := LoadFixture(js)
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadFixture(tm)
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	_ = json.Unmarshal(ja, &va)
	_ = json.Unmarshal(jb, &vb)
	if !reflect.DeepEqual(va, vb) {
		t.Errorf("JSON and TOML differ:\n%s\n%s", ja, jb)
	}
	if a.Bridge[1].Error.Code != abi.CodeUnavailable {
		t.Errorf("error code %v", a.Bridge[1].Error.Code)
	}

	for name, s := range map[string]string{
		"typo.json":   `{"contcat": "42"}`,
		"both.json":   `{"bridge": [{"response": {}, "error": {"code": "internal", "message": "x"}}]}`,
		"config.toml": `config = 3`,
		"bad.toml":    `contact = `,
	} {
		if _, err := LoadFixture(write(name, s)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

// The fixture bridge answers the first matching entry, once entries only once, and anything else
// with unavailable; events follow their answer.
func TestFixtureBridge(t *testing.T) {
	b := NewFixtureBridge([]BridgeAnswer{
		{Bridge: "tdlib", Type: "getMe", Once: true, Response: json.RawMessage(`{"n":1}`)},
		{Type: "getMe", Contains: `"x":2`, Response: json.RawMessage(`{"n":2}`)},
		{Type: "getMe", Events: []json.RawMessage{json.RawMessage(`{"e":1}`)}},
	})
	ctx := context.Background()
	for i, tc := range []struct{ bridge, req, want string }{
		{"other", `{"@type":"getMe","x":2}`, `other t0 {"n":2}`},
		{"tdlib", `{"@type":"getMe"}`, `tdlib t1 {"n":1}`},
		{"tdlib", `{"@type":"getMe"}`, `tdlib t2 {}|tdlib event {"e":1}`},
		{"tdlib", `{"@type": "getMe", "x": 2}`, `tdlib t3 {"n":2}`},
		{"tdlib", `{"type":"getMe"}`, `tdlib t4 {}|tdlib event {"e":1}`},
		{"tdlib", `{"@type":"close"}`, "tdlib t5 unavailable: no canned response in the fixture"},
	} {
		if err := b.Call(ctx, Session, tc.bridge, fmt.Sprint("t", i), json.RawMessage(tc.req)); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			m, ok := b.Next(ctx, time.Second)
			if !ok {
				break
			}
			switch {
			case m.Token == "":
				got = append(got, m.Bridge+" event "+string(m.Event))
			case m.Error != nil:
				got = append(got, m.Bridge+" "+m.Token+" "+m.Error.Error())
			default:
				got = append(got, m.Bridge+" "+m.Token+" "+string(m.Response))
			}
		}
		if g := strings.Join(got, "|"); g != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.bridge, tc.req, g, tc.want)
		}
	}
}

// The recording host answers as the gateway does.
func TestHost(t *testing.T) {
	ctx := context.Background()
	h := newHost(ctx, 20, []string{"tdlib"}, NewFixtureBridge(nil), time.Second, nil)
	call := func(session string, m abi.Method, req string) string {
		resp, err := h.Call(ctx, session, m, []byte(req))
		if err != nil {
			return "error " + err.Error()
		}
		return string(resp)
	}
	for _, tc := range []struct {
		session  string
		method   abi.Method
		req, out string
	}{
		{"", abi.CallKVGet, `{"key":"a"}`, "error no_session: kv.get needs a session; it was called during an event without one"},
		{Session, abi.CallContactGet, `{"legacy_id":"a b"}`, `{"legacy_id":"a b","jid":"a\\20b@checker.invalid","friend":false,"ready":false}`},
		{Session, abi.CallContactGet, `{"legacy_id":"x","username":"A\\20B"}`, `error invalid: username "A\\20B" is already contact "a b"'s`},
		{Session, abi.CallContactReady, `{"legacy_id":"nobody"}`, `error not_found: no contact "nobody": call contact.get first`},
		{Session, abi.CallContactUpdate, `{"legacy_id":"c","name":"C","presence":{"show":"away"}}`, `{}`},
		{Session, abi.CallContactList, `{}`, `{"contacts":[{"legacy_id":"a b","jid":"a\\20b@checker.invalid","friend":false,"ready":false},{"legacy_id":"c","jid":"c@checker.invalid","name":"C","friend":false,"presence":{"show":"away"},"ready":false}]}`},
		{Session, abi.CallKVSet, `{"key":"k","value":"0123456789"}`, `{}`},
		{Session, abi.CallKVSet, `{"key":"k2","value":"0123456789"}`, `error quota: storage quota of 20 bytes exceeded`},
		{Session, abi.CallKVSet, `{"key":"k","value":"01234567890123456"}`, `{}`},
		{Session, abi.CallKVKeys, `{"key":""}`, `{"keys":["k"]}`},
		{Session, abi.CallKVGet, `{"key":"k"}`, `{"value":"01234567890123456"}`},
		{Session, abi.CallKVDelete, `{"key":"k"}`, `{}`},
		{Session, abi.CallKVGet, `{"key":"k"}`, `error not_found: no key "k"`},
		{Session, abi.CallMessageSent, `{"id":"m1","legacy_id":"1"}`, `error not_found: no pending message "m1"`},
		{Session, abi.CallRegistrationResult, `{"request":"r1"}`, `error not_found: no pending request "r1" (answered already, or timed out)`},
		{Session, abi.CallBridgeCall, `{"bridge":"signal","request":{}}`, `error forbidden: bridge "signal" is not granted to this gateway (grant it with the fixture's bridges)`},
		{Session, abi.CallBridgeCall, `{"bridge":"tdlib","request":{"@type":"getMe"},"context":{"op":1}}`, `{"token":"b-1"}`},
		{Session, abi.CallFileFetch, `{"url":"https://example.org/x"}`, `error forbidden: the plugin checker fetches no files`},
		{Session, abi.CallTimerSet, `{"timer":"late","after_ms":5000}`, `{}`},
		{Session, abi.CallTimerSet, `{"timer":"soon","after_ms":10,"context":7}`, `{}`},
		{Session, "no.such", `{}`, `error unknown_method: unknown host call "no.such"`},
	} {
		if got := call(tc.session, tc.method, tc.req); got != tc.out {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.method, tc.req, got, tc.out)
		}
	}
	h.expectMessage("m1")
	if got := call(Session, abi.CallMessageSent, `{"id":"m1","legacy_id":"1"}`); got != "{}" {
		t.Errorf("message.sent of a pending message: %s", got)
	}

	// What the host delivers next: update_info of the contacts created, the bridge's answer,
	// then the timers by due time; settle takes neither update_info nor timers.
	var got []string
	if ev, ok := h.next(true); ok {
		b, _ := json.Marshal(ev.payload)
		got = append(got, "settle "+string(ev.ev)+" "+string(b))
	}
	if _, ok := h.next(true); ok {
		t.Error("settle takes more than the bridge answer")
	}
	for {
		ev, ok := h.next(false)
		if !ok {
			break
		}
		b, _ := json.Marshal(ev.payload)
		got = append(got, string(ev.ev)+" "+string(b))
	}
	want := []string{
		`settle bridge.response {"token":"b-1","context":{"op":1},"error":{"code":"unavailable","message":"no canned response in the fixture"}}`,
		`contact.update_info {"legacy_id":"a b"}`,
		`contact.update_info {"legacy_id":"c"}`,
		`timer.fired {"timer":"soon","context":7}`,
		`timer.fired {"timer":"late"}`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("deliveries:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if h.now != 5000 {
		t.Errorf("virtual clock %d, want 5000", h.now)
	}
}
