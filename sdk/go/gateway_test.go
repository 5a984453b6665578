package gateway_test

import (
	"encoding/json"
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

// testPlugin's handlers are set per test.
type testPlugin struct {
	init     func(gateway.Config) (abi.InitReply, error)
	sessions map[string]*testSession
	mk       func(s *gateway.Session) *testSession
}

func (p *testPlugin) Init(cfg gateway.Config) (abi.InitReply, error) {
	if p.init != nil {
		return p.init(cfg)
	}
	return abi.InitReply{Name: "Test"}, nil
}

func (p *testPlugin) NewSession(s *gateway.Session) gateway.SessionHandler {
	ts := &testSession{s: s}
	if p.mk != nil {
		ts = p.mk(s)
	}
	if p.sessions == nil {
		p.sessions = map[string]*testSession{}
	}
	p.sessions[s.JID()] = ts
	return ts
}

type testSession struct {
	gateway.BaseSession
	s *gateway.Session

	login    func(abi.Values) (string, error)
	text     func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error)
	update   func(*gateway.Contact) error
	validate func(string, abi.Values) error
	search   func(string, string) (abi.LegacyID, error)
	restored int
	lost     []string
}

func (t *testSession) OnLogin(v abi.Values) (string, error) {
	if t.login != nil {
		return t.login(v)
	}
	return "ok", nil
}

func (t *testSession) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	if t.text != nil {
		return t.text(c, m)
	}
	return "", gateway.ErrUnhandled
}

func (t *testSession) OnUpdateInfo(c *gateway.Contact) error {
	if t.update != nil {
		return t.update(c)
	}
	return gateway.ErrUnhandled
}

func (t *testSession) OnValidate(r string, v abi.Values) error {
	if t.validate != nil {
		return t.validate(r, v)
	}
	return gateway.ErrUnhandled
}

func (t *testSession) OnSearch(r, q string) (abi.LegacyID, error) {
	if t.search != nil {
		return t.search(r, q)
	}
	return "", gateway.ErrUnhandled
}

func (t *testSession) OnRestored() error { t.restored++; return nil }

func (t *testSession) OnBridgeResponse(r gateway.BridgeResult) error {
	t.lost = append(t.lost, "bridge "+string(r.Context)+" "+string(r.Response))
	return nil
}

func (t *testSession) OnTimer(name string, ctx json.RawMessage) error {
	t.lost = append(t.lost, "timer "+name+" "+string(ctx))
	return nil
}

func (t *testSession) OnFileFetched(r gateway.FetchResult) error {
	t.lost = append(t.lost, "fetch "+string(r.Context)+" "+r.File.Handle)
	return nil
}

func setup(t *testing.T, mk func(s *gateway.Session) *testSession) (*testPlugin, *sdktest.Host, *sdktest.Session) {
	t.Helper()
	p := &testPlugin{mk: mk}
	h := sdktest.New(t, p)
	s := h.Session("romeo@example.org")
	return p, h, s
}

func wantMethods(t *testing.T, res sdktest.Result, st abi.Status, want ...abi.Method) {
	t.Helper()
	if res.Status != st {
		t.Fatalf("status %d, want %d (%v)", res.Status, st, res.Err())
	}
	if got := res.Methods(); !slices.Equal(got, want) {
		t.Fatalf("calls %v, want %v", got, want)
	}
}

func TestInitConfig(t *testing.T) {
	var got gateway.Config
	var dec struct{ Level int }
	p := &testPlugin{init: func(c gateway.Config) (abi.InitReply, error) {
		got = c
		if err := c.Decode(&dec); err != nil {
			return abi.InitReply{}, err
		}
		c.Log(abi.LogInfo, "configured")
		return abi.InitReply{Name: "T", Features: []string{"search"}}, nil
	}}
	h := sdktest.New(t, p, sdktest.WithConfig(map[string]int{"level": 3}), sdktest.WithBridges("telegram"), sdktest.WithGateway("t.example"))
	if got.Gateway != "t.example" || got.ABI != "1.0" || !slices.Equal(got.Bridges, []string{"telegram"}) || dec.Level != 3 {
		t.Errorf("%+v %+v", got, dec)
	}
	if h.InitReply.Name != "T" || h.Logs()[0].Msg != "configured" {
		t.Errorf("%+v %v", h.InitReply, h.Logs())
	}
}

func TestLoginAnswers(t *testing.T) {
	_, _, s := setup(t, nil)
	res := s.Login(nil)
	wantMethods(t, res, abi.StatusOK, abi.CallLoggedIn)
	if got := sdktest.As[abi.SessionStatus](res.Calls[0]); got.Status != "ok" {
		t.Errorf("%+v", got)
	}

	_, _, s = setup(t, func(s *gateway.Session) *testSession {
		return &testSession{s: s, login: func(abi.Values) (string, error) { return "", errors.New("bad password") }}
	})
	res = s.Login(nil)
	wantMethods(t, res, abi.StatusOK, abi.CallLoginFailed)
	if s.LoginError != "bad password" {
		t.Errorf("%q", s.LoginError)
	}

	// A prompt first, then the answer later.
	_, _, s = setup(t, func(s *gateway.Session) *testSession {
		return &testSession{s: s, login: func(abi.Values) (string, error) {
			return "", errors.Join(s.Prompt("code", "Code?", true), gateway.ErrLater)
		}}
	})
	res = s.Login(nil)
	wantMethods(t, res, abi.StatusOK, abi.CallPrompt)

	// An explicit answer is not repeated.
	_, _, s = setup(t, func(s *gateway.Session) *testSession {
		return &testSession{s: s, login: func(abi.Values) (string, error) { return "ignored", s.LoggedIn("explicit") }}
	})
	wantMethods(t, s.Login(nil), abi.StatusOK, abi.CallLoggedIn)
	if s.Status != "explicit" {
		t.Errorf("%q", s.Status)
	}
}

func TestTextAnswers(t *testing.T) {
	cases := []struct {
		name   string
		text   func(s *gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error)
		status abi.Status
		want   []abi.Method
	}{
		{"id", func(*gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) {
			return func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) { return "L1", nil }
		}, abi.StatusOK, []abi.Method{abi.CallMessageSent}},
		{"error", func(*gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) {
			return func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) { return "", errors.New("no") }
		}, abi.StatusOK, []abi.Method{abi.CallMessageFailed}},
		{"later", func(*gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) {
			return func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) { return "", gateway.ErrLater }
		}, abi.StatusOK, nil},
		{"unhandled", func(*gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) {
			return nil
		}, abi.StatusUnhandled, nil},
		{"explicit then error", func(s *gateway.Session) func(*gateway.Contact, abi.Text) (abi.LegacyMsgID, error) {
			return func(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
				s.MessageSent(m.ID, "L2")
				return "", abi.Errorf(abi.CodeQuota, "full")
			}
		}, abi.StatusError, []abi.Method{abi.CallMessageSent}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, s := setup(t, func(s *gateway.Session) *testSession { return &testSession{s: s, text: c.text(s)} })
			s.Login(nil)
			res := s.Text("eve", abi.Text{ID: "x1", Text: "hi"})
			wantMethods(t, res, c.status, c.want...)
			if c.status == abi.StatusError {
				if err := res.Err(); !gateway.IsCode(err, abi.CodeQuota) {
					t.Errorf("%v", err)
				}
			}
			if len(res.Calls) > 0 {
				if m := res.Calls[0].Req; c.name == "error" && !reflect.DeepEqual(m, &abi.MessageFailed{ID: "x1", Error: "no"}) {
					t.Errorf("%+v", m)
				}
			}
		})
	}
}

func TestValidateSearchAnswers(t *testing.T) {
	_, h, _ := setup(t, func(s *gateway.Session) *testSession {
		return &testSession{s: s,
			validate: func(r string, v abi.Values) error {
				if v["ok"] == "" {
					return errors.New("say ok")
				}
				return nil
			},
			search: func(r, q string) (abi.LegacyID, error) {
				if q == "later" {
					return "", gateway.ErrLater
				}
				return "id-" + q, nil
			},
		}
	})
	s := h.Session("new@example.org")
	res := s.Validate(abi.Values{})
	wantMethods(t, res, abi.StatusOK, abi.CallRegistrationResult)
	if got := sdktest.As[abi.RegistrationResult](res.Calls[0]); got.Error != "say ok" || got.Request != "r1" {
		t.Errorf("%+v", got)
	}
	res = s.Validate(abi.Values{"ok": "1"})
	if got := sdktest.As[abi.RegistrationResult](res.Calls[0]); got.Error != "" || got.Request != "r2" {
		t.Errorf("%+v", got)
	}
	res = s.Search("x")
	if got := sdktest.As[abi.SearchResult](res.Calls[0]); got.LegacyID != "id-x" {
		t.Errorf("%+v", got)
	}
	wantMethods(t, s.Search("later"), abi.StatusOK)
}

func TestUpdateInfoAndBatching(t *testing.T) {
	_, _, s := setup(t, func(s *gateway.Session) *testSession {
		return &testSession{s: s, update: func(c *gateway.Contact) error {
			switch c.ID() {
			case "gone":
				return errors.New("deleted account")
			case "later":
				return gateway.ErrLater
			}
			c.SetName("Eve")
			c.Away("lunch")
			c.SetClientType("phone")
			c.SetFriend(true)
			c.SetVCard(abi.VCard{FullName: "Eve E."})
			c.SetAvatar(abi.Avatar{Data: []byte{1, 2, 3}, Type: "image/png", ID: "a1"})
			return nil
		}}
	})
	s.Login(nil)
	res := s.UpdateInfo("eve")
	wantMethods(t, res, abi.StatusOK, abi.CallContactUpdate, abi.CallContactReady)
	u := sdktest.As[abi.ContactUpdate](res.Calls[0])
	if *u.Name != "Eve" || u.Presence.Show != abi.ShowAway || *u.ClientType != "phone" || !*u.Friend || u.VCard.FullName != "Eve E." || string(u.Avatar.Data) != "\x01\x02\x03" {
		t.Errorf("%+v", u)
	}
	if c, _ := s.Contact("eve"); !c.Ready || c.Name != "Eve" || c.AvatarID != "a1" {
		t.Errorf("%+v", c)
	}
	res = s.UpdateInfo("gone")
	wantMethods(t, res, abi.StatusOK, abi.CallContactFailed)
	if got := sdktest.As[abi.ContactFailed](res.Calls[0]); got.Error != "deleted account" {
		t.Errorf("%+v", got)
	}
	wantMethods(t, s.UpdateInfo("later"), abi.StatusOK)
}

// handlerFunc lets a test run code during an event of a session.
type scripted struct {
	gateway.BaseSession
	s  *gateway.Session
	fn func(s *gateway.Session, c *gateway.Contact) error
}

func (x *scripted) OnLogin(abi.Values) (string, error) { return "", gateway.ErrLater }
func (x *scripted) OnChatState(c *gateway.Contact, _ abi.State) error {
	return x.fn(x.s, c)
}

type scriptPlugin struct {
	fn       func(s *gateway.Session, c *gateway.Contact) error
	handlers []*scripted
}

func (p *scriptPlugin) Init(gateway.Config) (abi.InitReply, error) {
	return abi.InitReply{Name: "S"}, nil
}
func (p *scriptPlugin) NewSession(s *gateway.Session) gateway.SessionHandler {
	x := &scripted{s: s, fn: func(s *gateway.Session, c *gateway.Contact) error { return p.fn(s, c) }}
	p.handlers = append(p.handlers, x)
	return x
}

// script runs fn during a chat.state event of the contact "eve".
func script(t *testing.T, fn func(s *gateway.Session, c *gateway.Contact) error) (*scriptPlugin, *sdktest.Host, *sdktest.Session) {
	p := &scriptPlugin{fn: fn}
	h := sdktest.New(t, p)
	s := h.Session("romeo@example.org")
	s.Login(nil)
	s.LoggedIn = true
	return p, h, s
}

func TestMessageOptionsAndOrder(t *testing.T) {
	at := time.UnixMilli(1700000000123)
	_, _, s := script(t, func(s *gateway.Session, c *gateway.Contact) error {
		c.Online("here") // batched: sent before the next call
		return errors.Join(
			c.Text("m1", "hi", gateway.Carbon(), gateway.At(at), gateway.ReplyTo("m0", "quoted")),
			c.File("m2", abi.File{Handle: "h", Size: 3}, gateway.Caption("cap")),
			c.Correct("m1", "hi!"),
			c.React("m1", nil),
			c.Displayed("m0", gateway.Carbon()),
			c.Received("m0"),
			c.State(abi.StatePaused),
			c.Retract("m2"),
			s.Status(abi.ShowDND, "busy"),
			s.Message("gateway says"),
		)
	})
	res := s.ChatState("eve", abi.StateActive)
	wantMethods(t, res, abi.StatusOK, abi.CallContactUpdate, abi.CallContactText, abi.CallContactFile, abi.CallContactCorrect,
		abi.CallContactReact, abi.CallContactDisplayed, abi.CallContactReceived, abi.CallContactState, abi.CallContactRetract,
		abi.CallStatus, abi.CallGatewayMessage)
	want := []any{
		&abi.ContactUpdate{LegacyID: "eve", Presence: &abi.Presence{Show: abi.ShowOnline, Status: "here"}},
		&abi.ContactText{MsgMeta: abi.MsgMeta{LegacyID: "eve", Carbon: true, When: 1700000000123}, ID: "m1", Text: "hi", ReplyTo: "m0", ReplyText: "quoted"},
		&abi.ContactFile{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "m2", File: abi.File{Handle: "h", Size: 3}, Caption: "cap"},
		&abi.ContactCorrect{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "m1", Text: "hi!"},
		&abi.ContactReact{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "m1", Reactions: []string{}},
		&abi.ContactMsgRef{MsgMeta: abi.MsgMeta{LegacyID: "eve", Carbon: true}, ID: "m0"},
		&abi.ContactMsgRef{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "m0"},
		&abi.ContactState{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, State: abi.StatePaused},
		&abi.ContactMsgRef{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "m2"},
		&abi.SessionStatus{Show: abi.ShowDND, Status: "busy"},
		&abi.GatewayMessage{Text: "gateway says"},
	}
	for i, c := range res.Calls {
		if !reflect.DeepEqual(c.Req, want[i]) {
			t.Errorf("call %d: %s\nwant %+v", i, c, want[i])
		}
	}
}

func TestContactsAndKV(t *testing.T) {
	step := 0
	_, _, s := script(t, func(s *gateway.Session, _ *gateway.Contact) error {
		step++
		switch step {
		case 1:
			a := s.Contact("a")
			if a != s.Contact("a") {
				t.Error("contact not cached")
			}
			a.SetName("A")
			s.Contact("b").SetName("B")
			if err := a.AddToRoster(); err != nil {
				return err
			}
			if err := s.KVSet("k1", "v1"); err != nil {
				return err
			}
			s.KVSet("k2", "v2")
			v, ok, err := s.KVGet("k1")
			if v != "v1" || !ok || err != nil {
				t.Errorf("kv get: %q %v %v", v, ok, err)
			}
			if _, ok, err := s.KVGet("nope"); ok || err != nil {
				t.Errorf("kv get missing: %v %v", ok, err)
			}
			keys, err := s.KVKeys("k")
			if !slices.Equal(keys, []string{"k1", "k2"}) || err != nil {
				t.Errorf("keys %v %v", keys, err)
			}
			return s.KVDelete("k2")
		case 2:
			cs, err := s.Contacts()
			if err != nil {
				return err
			}
			var names []string
			for _, c := range cs {
				r, _ := c.Record()
				names = append(names, c.ID()+"="+r.Name)
			}
			if !slices.Equal(names, []string{"eve=", "a=A", "b=B"}) {
				t.Errorf("contacts %v", names)
			}
		}
		return nil
	})
	res := s.ChatState("eve", abi.StateActive)
	// A's update goes before the lookup of b: calls reach the host in the order they were made.
	wantMethods(t, res, abi.StatusOK, abi.CallContactGet, abi.CallContactUpdate, abi.CallContactGet, abi.CallContactUpdate,
		abi.CallContactAdd, abi.CallKVSet, abi.CallKVSet, abi.CallKVGet, abi.CallKVGet, abi.CallKVKeys, abi.CallKVDelete)
	if !s.InRoster("a") || s.KV()["k1"] != "v1" || len(s.KV()) != 1 {
		t.Errorf("roster %v kv %v", s.InRoster("a"), s.KV())
	}
	wantMethods(t, s.ChatState("eve", abi.StateActive), abi.StatusOK, abi.CallContactList)
}

func TestBridgeTimerFetchCallbacks(t *testing.T) {
	var got []string
	step := 0
	p, h, s := script(t, func(s *gateway.Session, _ *gateway.Contact) error {
		step++
		if step > 1 {
			return nil
		}
		tg := s.Bridge("telegram")
		err := errors.Join(
			tg.Call(json.RawMessage(`{"@type":"getMe"}`), func(resp json.RawMessage, err error) {
				got = append(got, "getMe "+string(resp))
				s.Contact("eve").Text("t1", "from callback") // the callback may use the session
			}),
			tg.CallWith(map[string]string{"@type": "getChats"}, "chats", func(resp json.RawMessage, err error) {
				got = append(got, "getChats err "+err.Error())
			}),
			tg.CallWith(json.RawMessage(`{"@type":"x"}`), map[string]int{"n": 1}, nil), // to the hook
			s.After(time.Second, "tick", func() { got = append(got, "tick") }),
			s.After(2*time.Second, "reset", func() { got = append(got, "reset old") }),
			s.AfterWith(3*time.Second, "reset", "again", func() { got = append(got, "reset new") }),
			s.After(time.Second, "cancelled", func() { got = append(got, "cancelled!") }),
			s.CancelTimer("cancelled"),
			s.Fetch("https://x/a.png", 1000, func(f *abi.File, err error) { got = append(got, "fetched "+f.Handle) }),
			s.FetchWith("https://x/b.png", 0, 7, func(f *abi.File, err error) { got = append(got, "fetch failed "+err.Error()) }),
			s.ReleaseFile("old"),
		)
		return err
	})
	res := s.ChatState("eve", abi.StateActive)
	if res.Status != abi.StatusOK {
		t.Fatal(res.Err())
	}
	bc := res.Filter(abi.CallBridgeCall)
	if r := sdktest.As[abi.BridgeCall](bc[1]); string(r.Request) != `{"@type":"getChats"}` || r.Bridge != "telegram" {
		t.Errorf("%+v", r)
	}
	if ts, _ := s.Timer("reset"); ts.AfterMS != 3000 {
		t.Errorf("%+v", ts)
	}
	pend := s.Bridges()
	if len(pend) != 3 || !slices.Equal(s.Timers(), []string{"reset", "tick"}) || len(s.Fetches()) != 2 {
		t.Fatalf("pending %v timers %v fetches %v", pend, s.Timers(), s.Fetches())
	}
	wantMethods(t, s.RespondBridge(pend[0].Token, map[string]int{"id": 1}), abi.StatusOK, abi.CallContactText)
	s.FailBridge(pend[1].Token, abi.CodeUnavailable, "down")
	s.RespondBridge(pend[2].Token, "x")
	s.FireTimer("tick")
	s.FireTimer("reset")
	f := s.Fetches()
	s.CompleteFetch(f[0].Token, abi.File{Handle: "H1", Size: 5})
	s.FailFetch(f[1].Token, abi.CodeForbidden, "private address")
	want := []string{`getMe {"id":1}`, "getChats err unavailable: down", "tick", "reset new", "fetched H1", "fetch failed forbidden: private address"}
	if !slices.Equal(got, want) {
		t.Errorf("callbacks:\n got %q\nwant %q", got, want)
	}
	if len(p.handlers) != 1 {
		t.Errorf("%d handlers", len(p.handlers))
	}
	if logs := h.Logs(); len(logs) != 1 || logs[0].Level != abi.LogWarn {
		t.Errorf("the response without a callback or hook should be logged: %v", logs)
	}
}

// TestRestoredLosesCallbacks: after a restart the answers of the old instance's calls come with
// the plugin's context to the hooks, and the session is restored.
func TestRestoredLosesCallbacks(t *testing.T) {
	p, h, s := setup(t, nil)
	s.Login(nil)
	s.LoggedIn = true
	ts := p.sessions[s.JID]
	// Make calls from a chat state handler of the first instance.
	ts.text = func(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
		s := c.Session()
		return "L", errors.Join(
			s.Bridge("telegram").CallWith(json.RawMessage(`{}`), map[string]string{"chat": "42"}, func(json.RawMessage, error) { t.Error("old callback ran") }),
			s.AfterWith(time.Minute, "t", "ctx", func() { t.Error("old timer ran") }),
			s.FetchWith("https://x", 0, []byte(`[1]`), func(*abi.File, error) { t.Error("old fetch ran") }),
		)
	}
	s.Text("eve", abi.Text{ID: "x", Text: "go"})
	res := h.Restart()
	if len(res) != 1 || res[0].Status != abi.StatusOK {
		t.Fatalf("%+v", res)
	}
	ts2 := p.sessions[s.JID]
	if ts2 == ts || ts2.restored != 1 {
		t.Fatalf("restored %d", ts2.restored)
	}
	s.RespondBridge(s.Bridges()[0].Token, "r")
	s.FireTimer("t")
	s.CompleteFetch(s.Fetches()[0].Token, abi.File{Handle: "h"})
	want := []string{`bridge {"chat":"42"} "r"`, `timer t "ctx"`, `fetch [1] h`}
	if !slices.Equal(ts2.lost, want) {
		t.Errorf("lost:\n got %q\nwant %q", ts2.lost, want)
	}
}

func TestWrongSessionAndPanic(t *testing.T) {
	var first *gateway.Session
	_, h, s := script(t, func(s *gateway.Session, c *gateway.Contact) error {
		if first == nil {
			first = s
			return nil
		}
		if err := first.Message("x"); !errors.Is(err, gateway.ErrWrongSession) {
			t.Errorf("call on another session: %v", err)
		}
		return nil
	})
	s.ChatState("eve", abi.StateActive)
	s2 := h.Session("juliet@example.org")
	s2.Login(nil)
	wantMethods(t, s2.ChatState("eve", abi.StateActive), abi.StatusOK)
	if err := first.Message("x"); !errors.Is(err, gateway.ErrWrongSession) {
		t.Errorf("call outside an event: %v", err)
	}
}

func TestUnhandledAndErrors(t *testing.T) {
	_, h, s := setup(t, nil)
	s.Login(nil)
	for _, res := range []sdktest.Result{
		s.Fill(), s.Logout(),
	} {
		if res.Status != abi.StatusUnhandled {
			t.Errorf("status %d", res.Status)
		}
	}
	s.Login(nil)
	if res := s.Send("future.event", nil, map[string]int{"x": 1}); res.Status != abi.StatusUnhandled {
		t.Errorf("unknown event: %d", res.Status)
	}
	if res := s.Send(abi.EventText, nil, abi.Text{ID: "x"}); res.Status != abi.StatusError || !gateway.IsCode(res.Err(), abi.CodeBadRequest) {
		t.Errorf("text without chat: %d %v", res.Status, res.Err())
	}
	if res := h.Send(abi.EventJIDToLegacy, abi.JIDToLegacy{Username: "x"}); res.Status != abi.StatusUnhandled {
		t.Errorf("jid mapping: %d", res.Status)
	}
	// A failing host call surfaces as an *abi.Error.
	h.FailNext(abi.CallLoggedIn, abi.CodeInternal, "store down")
	res := s.Login(nil)
	if res.Status != abi.StatusError || res.Err().Error() != "internal: store down" {
		t.Errorf("%d %v", res.Status, res.Err())
	}
}

type mapper struct {
	gateway.BaseSession
}

func (mapper) JIDUsernameToLegacyID(u string) (abi.LegacyID, error) {
	if u == "bad" {
		return "", errors.New("not a number")
	}
	return "+" + u, nil
}

func (mapper) LegacyIDToJIDUsername(id abi.LegacyID) (string, error) { return id[1:], nil }

type mapperPlugin struct{ mapper }

func (mapperPlugin) Init(gateway.Config) (abi.InitReply, error)         { return abi.InitReply{Name: "M"}, nil }
func (mapperPlugin) NewSession(*gateway.Session) gateway.SessionHandler { return mapper{} }

func TestJIDMapping(t *testing.T) {
	h := sdktest.New(t, mapperPlugin{})
	s := h.Session("romeo@example.org")
	for _, send := range []func(string) sdktest.Result{
		s.JIDToLegacy,
		func(u string) sdktest.Result { return h.Send(abi.EventJIDToLegacy, abi.JIDToLegacy{Username: u}) },
	} {
		res := send("123")
		if res.Status != abi.StatusOK || string(res.Reply) != `{"legacy_id":"+123"}` {
			t.Errorf("%d %s", res.Status, res.Reply)
		}
		res = send("bad")
		if res.Status != abi.StatusError || !gateway.IsCode(res.Err(), abi.CodeInvalid) {
			t.Errorf("%d %v", res.Status, res.Err())
		}
	}
	if res := s.LegacyToJID("+9"); string(res.Reply) != `{"username":"9"}` {
		t.Errorf("%s", res.Reply)
	}
}

// TestRestoredOnSameInstance: a session.restored for a session this instance still has keeps its
// handler and its callbacks.
func TestRestoredOnSameInstance(t *testing.T) {
	ran := false
	p, _, s := script(t, func(s *gateway.Session, _ *gateway.Contact) error {
		return s.Bridge("b").Call(nil, func(json.RawMessage, error) { ran = true })
	})
	s.ChatState("eve", abi.StateActive)
	if res := s.Restored(); res.Status != abi.StatusOK {
		t.Fatalf("%d", res.Status)
	}
	s.RespondBridge(s.Bridges()[0].Token, 1)
	if !ran || len(p.handlers) != 1 {
		t.Errorf("callback ran %v, %d handlers", ran, len(p.handlers))
	}
}

// inputSession records answers to prompts; expiring also sees expired prompts.
type inputSession struct {
	gateway.BaseSession
	got []string
}

func (s *inputSession) OnInput(prompt, text string) error {
	s.got = append(s.got, "input "+prompt+"="+text)
	return nil
}

type expiringSession struct{ inputSession }

func (s *expiringSession) OnInputExpired(prompt string) error {
	s.got = append(s.got, "expired "+prompt)
	return nil
}

func TestInputExpired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler interface {
			gateway.SessionHandler
			answers() []string
		}
		want []string
	}{
		{"without the hook an expired prompt is an empty answer", &inputSession{}, []string{"input code=12345", "input code="}},
		{"with the hook", &expiringSession{}, []string{"input code=12345", "expired code"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := sdktest.New(t, &handlerPlugin{h: tc.handler})
			s := h.Session("a@example.org")
			if res := s.Input("code", "12345"); res.Status != abi.StatusOK {
				t.Fatalf("input: %+v", res)
			}
			if res := s.InputExpired("code"); res.Status != abi.StatusOK {
				t.Fatalf("expired: %+v", res)
			}
			if got := tc.handler.answers(); !slices.Equal(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

func (s *inputSession) answers() []string { return s.got }

// handlerPlugin gives every session the same handler.
type handlerPlugin struct{ h gateway.SessionHandler }

func (handlerPlugin) Init(gateway.Config) (abi.InitReply, error) {
	return abi.InitReply{Name: "Test"}, nil
}
func (p *handlerPlugin) NewSession(*gateway.Session) gateway.SessionHandler { return p.h }
