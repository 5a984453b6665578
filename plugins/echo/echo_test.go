package main

import (
	"bytes"
	"encoding/json"
	"image/png"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
	"github.com/xmppgw/gateway/sdk/go/sdktest/wasmtest"
)

const user = "romeo@example.org"

var fixedNow = time.Date(2025, 11, 25, 12, 0, 0, 0, time.UTC)

func init() { now = func() time.Time { return fixedNow } }

// starters runs each behaviour test in process and, unless -short, against echo.wasm too.
func starters(t *testing.T) map[string]sdktest.Option {
	out := map[string]sdktest.Option{"inprocess": func(*sdktest.Host) {}}
	if !testing.Short() {
		out["wasm"] = sdktest.WithStarter(wasmModule(t).Starter())
	}
	return out
}

var built struct {
	mod    *wasmtest.Module
	failed bool
}

// wasmModule builds and compiles echo.wasm once per test binary.
func wasmModule(t *testing.T) *wasmtest.Module {
	t.Helper()
	if built.mod == nil && !built.failed {
		built.failed = true
		// Build into a directory that outlives the test that happened to build it.
		path := wasmtest.Build(&keepTemp{T: t}, ".")
		m, err := wasmtest.Load(path)
		if err != nil {
			t.Fatal(err)
		}
		built.mod, built.failed = m, false
	}
	if built.failed {
		t.Fatal("echo.wasm did not build")
	}
	return built.mod
}

// keepTemp gives wasmtest.Build a temporary directory removed at the end of the test binary
// (TestMain) rather than at the end of one test.
type keepTemp struct{ *testing.T }

func (k *keepTemp) TempDir() string { return sharedTemp }

var sharedTemp string

func TestMain(m *testing.M) {
	d, err := os.MkdirTemp("", "echo-test-")
	if err != nil {
		panic(err)
	}
	sharedTemp = d
	code := m.Run()
	if built.mod != nil {
		_ = built.mod.Close()
	}
	_ = os.RemoveAll(d)
	os.Exit(code)
}

func run(t *testing.T, f func(t *testing.T, h *sdktest.Host, s *sdktest.Session)) {
	for name, opt := range starters(t) {
		t.Run(name, func(t *testing.T) {
			var h *sdktest.Host
			if name == "inprocess" {
				h = sdktest.New(t, echo{})
			} else {
				h = sdktest.New(t, nil, opt)
			}
			s := h.Session(user)
			if res := s.Login(abi.Values{"name": "Romeo"}); res.Status != abi.StatusOK {
				t.Fatalf("login: %d %v", res.Status, res.Err())
			}
			h.Reset()
			f(t, h, s)
		})
	}
}

func methods(ms ...abi.Method) []abi.Method { return ms }

func checkMethods(t *testing.T, res sdktest.Result, want ...abi.Method) {
	t.Helper()
	if res.Status != abi.StatusOK {
		t.Fatalf("status %d: %v", res.Status, res.Err())
	}
	if got := res.Methods(); !slices.Equal(got, want) {
		t.Fatalf("calls:\n got %v\nwant %v\n%v", got, want, res.Calls)
	}
}

func TestInit(t *testing.T) {
	h := sdktest.New(t, echo{})
	r := h.InitReply
	if r.Name != "Echo" || len(r.Registration.Fields) != 1 {
		t.Fatalf("%+v", r)
	}
	f := r.Registration.Fields[0]
	if f.Var != "name" || !f.Required || f.Label != "Your name on the echo network" {
		t.Errorf("field %+v", f)
	}
}

func TestValidate(t *testing.T) {
	h := sdktest.New(t, echo{})
	s := h.Session("juliet@example.org")
	cases := []struct {
		name, err string
	}{
		{"Juliet", ""},
		{strings.Repeat("é", 64), ""},
		{"", errEmptyName},
		{"   ", errEmptyName},
		{strings.Repeat("x", 65), errLongName},
	}
	for _, c := range cases {
		res := s.Validate(abi.Values{"name": c.name})
		checkMethods(t, res, abi.CallRegistrationResult)
		got := sdktest.As[abi.RegistrationResult](res.Calls[0])
		if got.Error != c.err || got.Request == "" {
			t.Errorf("name %q: %+v, want error %q", c.name, got, c.err)
		}
	}
}

func TestLogin(t *testing.T) {
	h := sdktest.New(t, echo{})
	s := h.Session(user)
	res := s.Login(abi.Values{"name": "Romeo M."})
	checkMethods(t, res, abi.CallKVGet, abi.CallKVSet, abi.CallLoggedIn)
	if got := sdktest.As[abi.SessionStatus](res.Calls[2]); got.Status != "Echo network: logged in as Romeo M." {
		t.Errorf("%+v", got)
	}
	if !s.LoggedIn {
		t.Error("not logged in")
	}
}

func TestFill(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		res := s.Fill()
		var want []abi.Method
		for range roster {
			want = append(want, abi.CallContactGet, abi.CallContactUpdate, abi.CallContactAdd)
		}
		checkMethods(t, res, want...)
		type exp struct {
			name, client string
			pres         abi.Presence
			color        [3]uint8
		}
		wants := map[string]exp{
			"eve":   {"Eve Echo", "phone", abi.Presence{Show: abi.ShowOnline}, [3]uint8{0xe0, 0x40, 0x40}},
			"dora":  {"Dora Away", "", abi.Presence{Show: abi.ShowAway, Status: "out for lunch"}, [3]uint8{0xf0, 0xa0, 0x20}},
			"liam":  {"Liam Lastweek", "", abi.Presence{Show: abi.ShowXA, LastSeen: fixedNow.Add(-7 * 24 * time.Hour).Unix()}, [3]uint8{0x40, 0x80, 0xe0}},
			"bot":   {"Helper Bot", "bot", abi.Presence{Show: abi.ShowOnline}, [3]uint8{0x50, 0xb0, 0x50}},
			"plain": {"Plain Echo", "", abi.Presence{Show: abi.ShowOnline}, [3]uint8{0x90, 0x60, 0xc0}},
		}
		avatarIDs := map[string]bool{}
		for _, c := range res.Filter(abi.CallContactUpdate) {
			u := sdktest.As[abi.ContactUpdate](c)
			w, ok := wants[u.LegacyID]
			if !ok {
				t.Fatalf("unexpected contact %q", u.LegacyID)
			}
			if p := u.Presence; p.LastSeen != w.pres.LastSeen && w.pres.LastSeen != 0 {
				// In the wasm module the clock is the real one.
				if ago := time.Since(time.Unix(p.LastSeen, 0)); ago < 7*24*time.Hour-time.Minute || ago > 7*24*time.Hour+time.Minute {
					t.Errorf("%s: last seen %v ago", u.LegacyID, ago)
				}
				p.LastSeen = w.pres.LastSeen
			}
			if *u.Name != w.name || !*u.Friend || !reflect.DeepEqual(*u.Presence, w.pres) {
				t.Errorf("%s: name %q friend %v presence %+v", u.LegacyID, *u.Name, *u.Friend, *u.Presence)
			}
			if (u.ClientType == nil && w.client != "") || (u.ClientType != nil && *u.ClientType != w.client) {
				t.Errorf("%s: client type %v", u.LegacyID, u.ClientType)
			}
			given, family, _ := strings.Cut(w.name, " ")
			if v := u.VCard; v == nil || v.FullName != w.name || v.Given != given || v.Family != family || v.Note == "" {
				t.Errorf("%s: vcard %+v", u.LegacyID, v)
			}
			a := u.Avatar
			if a == nil || a.Type != "image/png" || a.ID == "" || len(a.Data) < 100 || len(a.Data) > 1000 {
				t.Fatalf("%s: avatar %+v", u.LegacyID, a)
			}
			img, err := png.Decode(bytes.NewReader(a.Data))
			if err != nil {
				t.Fatalf("%s: avatar: %v", u.LegacyID, err)
			}
			b := img.Bounds()
			r, g, bl, _ := img.At(b.Dx()/2, b.Dy()/2).RGBA()
			if got := [3]uint8{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8)}; got != w.color {
				t.Errorf("%s: avatar colour %x, want %x", u.LegacyID, got, w.color)
			}
			avatarIDs[a.ID] = true
		}
		if len(avatarIDs) != len(roster) {
			t.Errorf("avatar ids not distinct: %v", avatarIDs)
		}
		for id := range wants {
			if c, ok := s.Contact(id); !ok || !c.Friend || !s.InRoster(id) {
				t.Errorf("%s: %+v in roster %v", id, c, s.InRoster(id))
			}
		}
	})
}

func TestUpdateInfo(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		res := s.UpdateInfo("dora")
		checkMethods(t, res, abi.CallContactUpdate, abi.CallContactReady)
		u := sdktest.As[abi.ContactUpdate](res.Calls[0])
		if *u.Name != "Dora Away" || u.Avatar == nil || u.VCard.FullName != "Dora Away" || u.Presence.Status != "out for lunch" || !*u.Friend {
			t.Errorf("%+v", u)
		}
		if c, _ := s.Contact("dora"); !c.Ready {
			t.Error("dora not ready")
		}

		res = s.UpdateInfo("stranger 42")
		checkMethods(t, res, abi.CallContactUpdate, abi.CallContactReady)
		u = sdktest.As[abi.ContactUpdate](res.Calls[0])
		if *u.Name != "stranger 42" || u.Avatar != nil || u.Presence.Show != abi.ShowOnline || u.Friend != nil {
			t.Errorf("%+v", u)
		}
	})
}

func TestText(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		for i, id := range []string{"eve", "dora", "liam", "bot", "someone"} {
			n := string(rune('1' + i))
			res := s.Text(id, abi.Text{ID: "x" + n, Text: "hello " + id})
			checkMethods(t, res, abi.CallMessageSent, abi.CallContactState, abi.CallContactDisplayed, abi.CallContactText, abi.CallKVSet)
			want := []any{
				&abi.MessageSent{ID: "x" + n, LegacyID: "u-" + n},
				&abi.ContactState{MsgMeta: abi.MsgMeta{LegacyID: id}, State: abi.StateComposing},
				&abi.ContactMsgRef{MsgMeta: abi.MsgMeta{LegacyID: id}, ID: "u-" + n},
				&abi.ContactText{MsgMeta: abi.MsgMeta{LegacyID: id}, ID: "e-" + n, Text: "echo: hello " + id},
				&abi.KVSet{Key: "reply/u-" + n, Value: "e-" + n},
			}
			for j, c := range res.Calls {
				if !reflect.DeepEqual(c.Req, want[j]) {
					t.Errorf("%s call %d: %s, want %+v", id, j, c, want[j])
				}
			}
		}
	})
}

func TestPlain(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		res := s.Text("plain", abi.Text{ID: "p1", Text: "hi"})
		checkMethods(t, res, abi.CallMessageSent, abi.CallContactText)
		if got := sdktest.As[abi.MessageSent](res.Calls[0]); got != (abi.MessageSent{ID: "p1", LegacyID: "u-1"}) {
			t.Errorf("%+v", got)
		}
		if got := sdktest.As[abi.ContactText](res.Calls[1]); got.LegacyID != "plain" || got.Text != "echo: hi" || got.ID != "e-1" {
			t.Errorf("%+v", got)
		}
		// No corrections, retractions or reactions from plain.
		checkMethods(t, s.Correct("plain", abi.Correct{ID: "c", Target: "u-1", Text: "x"}))
		checkMethods(t, s.Retract("plain", abi.Retract{ID: "r", Target: "u-1"}))
		checkMethods(t, s.React("plain", abi.React{ID: "r", Target: "u-1", Reactions: []string{"👍"}}))
	})
}

func TestFail(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		for _, id := range []string{"eve", "plain"} {
			res := s.Text(id, abi.Text{ID: "f-" + id, Text: "fail"})
			checkMethods(t, res, abi.CallMessageFailed)
			if got := sdktest.As[abi.MessageFailed](res.Calls[0]); got != (abi.MessageFailed{ID: "f-" + id, Error: "the echo network refuses this message"}) {
				t.Errorf("%+v", got)
			}
		}
	})
}

func TestCorrectRetractReact(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		s.Text("eve", abi.Text{ID: "x1", Text: "helo"})

		res := s.Correct("eve", abi.Correct{ID: "x2", Target: "u-1", Text: "hello"})
		checkMethods(t, res, abi.CallKVGet, abi.CallContactCorrect)
		if got := sdktest.As[abi.ContactCorrect](res.Calls[1]); got != (abi.ContactCorrect{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "e-1", Text: "echo: hello"}) {
			t.Errorf("%+v", got)
		}

		res = s.React("eve", abi.React{ID: "x3", Target: "u-1", Reactions: []string{"👍", "🎉"}})
		checkMethods(t, res, abi.CallContactReact)
		if got := sdktest.As[abi.ContactReact](res.Calls[0]); got.ID != "u-1" || !slices.Equal(got.Reactions, []string{"👍", "🎉"}) || got.Carbon {
			t.Errorf("%+v", got)
		}
		res = s.React("eve", abi.React{ID: "x4", Target: "u-1", Reactions: []string{}})
		if got := sdktest.As[abi.ContactReact](res.Calls[0]); got.Reactions == nil || len(got.Reactions) != 0 {
			t.Errorf("removing reactions: %s", res.Calls[0])
		}

		res = s.Retract("eve", abi.Retract{ID: "x5", Target: "u-1"})
		checkMethods(t, res, abi.CallKVGet, abi.CallContactRetract, abi.CallKVDelete)
		if got := sdktest.As[abi.ContactMsgRef](res.Calls[1]); got.ID != "e-1" || got.LegacyID != "eve" {
			t.Errorf("%+v", got)
		}
		// A message the network does not know: nothing to do.
		checkMethods(t, s.Correct("eve", abi.Correct{ID: "x6", Target: "u-99", Text: "?"}), abi.CallKVGet)
	})
}

func TestFile(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		res := s.File("bot", abi.FileMessage{ID: "f1", URL: "https://up.example.org/a.png", Name: "a.png", Size: 10})
		checkMethods(t, res, abi.CallMessageSent, abi.CallContactState, abi.CallContactDisplayed, abi.CallContactText, abi.CallKVSet)
		if got := sdktest.As[abi.ContactText](res.Calls[3]); got.Text != "echo: https://up.example.org/a.png" {
			t.Errorf("%+v", got)
		}
	})
}

func TestFileBack(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		res := s.Text("eve", abi.Text{ID: "x1", Text: "file http://up.example.org/a.png"})
		checkMethods(t, res, abi.CallMessageSent, abi.CallFileFetch)
		if got := sdktest.As[abi.MessageSent](res.Calls[0]); got != (abi.MessageSent{ID: "x1", LegacyID: "u-1"}) {
			t.Errorf("%+v", got)
		}
		f := s.Fetches()
		if len(f) != 1 || f[0].URL != "http://up.example.org/a.png" {
			t.Fatalf("fetches: %+v", f)
		}
		res = s.CompleteFetch(f[0].Token, abi.File{Handle: "f-3", Size: 3, Type: "image/png", Name: "a.png"})
		checkMethods(t, res, abi.CallContactFile, abi.CallFileRelease)
		want := abi.ContactFile{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "e-1",
			File: abi.File{Handle: "f-3", Size: 3, Type: "image/png", Name: "a.png"}, Caption: "echo: file"}
		if got := sdktest.As[abi.ContactFile](res.Calls[0]); got != want {
			t.Errorf("%+v", got)
		}
		if got := sdktest.As[abi.FileRef](res.Calls[1]); got.Handle != "f-3" {
			t.Errorf("%+v", got)
		}

		// A failed download is answered with a text.
		s.Text("eve", abi.Text{ID: "x2", Text: "file http://10.0.0.5/b"})
		f = s.Fetches()
		res = s.FailFetch(f[0].Token, abi.CodeForbidden, "10.0.0.5 is a private address")
		checkMethods(t, res, abi.CallContactText)
		if got := sdktest.As[abi.ContactText](res.Calls[0]); got.ID != "e-2" ||
			got.Text != "echo: could not fetch http://10.0.0.5/b: forbidden: 10.0.0.5 is a private address" {
			t.Errorf("%+v", got)
		}
	})
}

func TestSearch(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		for q, want := range map[string]abi.SearchResult{
			"liam":       {LegacyID: "liam"},
			"Eve Echo":   {LegacyID: "eve"},
			"helper bot": {LegacyID: "bot"},
			"nobody":     {Error: "no such echo user"},
		} {
			res := s.Search(q)
			checkMethods(t, res, abi.CallSearchResult)
			got := sdktest.As[abi.SearchResult](res.Calls[0])
			got.Request = ""
			if got != want {
				t.Errorf("%q: %+v, want %+v", q, got, want)
			}
		}
	})
}

func TestQuietEvents(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		checkMethods(t, s.Displayed("eve", "e-1"))
		checkMethods(t, s.ChatState("eve", abi.StateComposing))
		res := s.FriendRequest("newfriend")
		checkMethods(t, res, abi.CallContactUpdate)
		if got := sdktest.As[abi.ContactUpdate](res.Calls[0]); got.Friend == nil || !*got.Friend {
			t.Errorf("%+v", got)
		}
		// The JID mapping is the host's default.
		if res := s.JIDToLegacy("eve"); res.Status != abi.StatusUnhandled {
			t.Errorf("jid mapping: %d", res.Status)
		}
	})
}

// TestRestart: the reply map and the message numbers live in the host's storage, so a fresh
// instance (after a crash) still corrects and retracts its echoes, and never reuses an id.
func TestRestart(t *testing.T) {
	run(t, func(t *testing.T, h *sdktest.Host, s *sdktest.Session) {
		s.Text("eve", abi.Text{ID: "x1", Text: "one"})
		for _, res := range h.Restart() {
			checkMethods(t, res, abi.CallKVGet, abi.CallKVSet)
		}
		res := s.Correct("eve", abi.Correct{ID: "x2", Target: "u-1", Text: "uno"})
		checkMethods(t, res, abi.CallKVGet, abi.CallContactCorrect)
		if got := sdktest.As[abi.ContactCorrect](res.Calls[1]); got.ID != "e-1" || got.Text != "echo: uno" {
			t.Errorf("%+v", got)
		}
		res = s.Text("eve", abi.Text{ID: "x3", Text: "two"})
		if got := sdktest.As[abi.MessageSent](res.Calls[0]); got.LegacyID != "u-101" {
			t.Errorf("after restart: %+v", got)
		}
		checkMethods(t, s.Retract("eve", abi.Retract{ID: "x4", Target: "u-1"}), abi.CallKVGet, abi.CallContactRetract, abi.CallKVDelete)
	})
}

// TestIDBlocks: ids are reserved in storage a block at a time.
func TestIDBlocks(t *testing.T) {
	h := sdktest.New(t, echo{})
	s := h.Session(user)
	s.Login(abi.Values{"name": "R"})
	for i := 1; i <= seqBlock+1; i++ {
		res := s.Text("plain", abi.Text{ID: "x", Text: "t"})
		want := methods(abi.CallMessageSent, abi.CallContactText)
		if i == seqBlock+1 {
			want = methods(abi.CallKVSet, abi.CallMessageSent, abi.CallContactText)
		}
		checkMethods(t, res, want...)
	}
	if got := s.KV()[keySeq]; got != "200" {
		t.Errorf("seq %q", got)
	}
}

func TestAvatarsEmbedded(t *testing.T) {
	for _, p := range roster {
		a, ok := avatar(p.id)
		if !ok || len(a.Data) > 1000 {
			t.Errorf("%s: %v %d bytes", p.id, ok, len(a.Data))
		}
	}
}

// TestWasmModule builds echo.wasm as the gateway does and checks its exports.
func TestWasmModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm module")
	}
	m := wasmModule(t)
	exports := m.Exports()
	for _, name := range []string{"gw_abi_v1_0", abi.ExportAlloc, abi.ExportFree, abi.ExportEvent, abi.ExportInitialize} {
		if !slices.Contains(exports, name) {
			t.Errorf("echo.wasm does not export %s (exports: %v)", name, exports)
		}
	}
	// A bad envelope is refused with an error reply, not a trap.
	var h nopHost
	inst, err := m.Start(&h)
	if err != nil {
		t.Fatal(err)
	}
	defer inst.Close()
	st, err := inst.Event([]byte(`{"type":"init",`))
	if err != nil || st != abi.StatusError {
		t.Fatalf("bad envelope: %d %v", st, err)
	}
	var er abi.ErrorReply
	if err := json.Unmarshal(h.reply, &er); err != nil || er.Error.Code != abi.CodeBadRequest {
		t.Errorf("reply %s: %v", h.reply, err)
	}
}

type nopHost struct{ reply []byte }

func (*nopHost) Call(string, []byte) int32 { return -int32(abi.CodeNoSession) }
func (*nopHost) Result([]byte) int32       { return 0 }
func (h *nopHost) Reply(b []byte)          { h.reply = bytes.Clone(b) }
func (*nopHost) Log(int32, string)         {}
