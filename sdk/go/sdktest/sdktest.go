// Package sdktest is a fake gateway host for unit tests of Go plugins: it runs a plugin in the
// test process (no XMPP server, no Wasm), drives its handlers with events, records every host
// call with its decoded request, and answers them as the host would (contacts, storage, timers,
// bridge calls and file fetches are kept in memory, and the test answers the asynchronous ones).
//
//	h := sdktest.New(t, myPlugin{})
//	s := h.Session("romeo@example.org")
//	s.Login(abi.Values{"name": "Romeo"})
//	res := s.Text("eve", abi.Text{ID: "m1", Text: "hello"})
//	for _, c := range res.Calls { ... }           // or h.Calls(abi.CallContactText)
//
// The same host drives a compiled module too (package wasmtest), so that one test suite can
// check the plugin both in process and as the .wasm the gateway loads.
package sdktest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
	"github.com/xmppgw/gateway/sdk/go/internal/hostcall"
)

// HostFuncs is the host side of ABI v1 that an Instance calls: the four imports of module
// "gateway_v1". *Host implements it.
type HostFuncs interface {
	Call(method string, req []byte) int32
	Result(buf []byte) int32
	Reply(b []byte)
	Log(level int32, msg string)
}

// Instance is one plugin instance: it handles an event envelope and returns its status (an
// error if it trapped). If it implements io.Closer, Restart and Close close it.
type Instance interface {
	Event(env []byte) (abi.Status, error)
}

// Starter makes a fresh instance whose host calls go to h.
type Starter func(h HostFuncs) (Instance, error)

// InProcess runs p in the test process: the default.
func InProcess(p gateway.Plugin) Starter {
	return func(h HostFuncs) (Instance, error) {
		return inProcess{hostcall.NewInstance(p, h)}, nil
	}
}

type inProcess struct{ i hostcall.Instance }

func (p inProcess) Event(env []byte) (abi.Status, error) { return abi.Status(p.i.Event(env)), nil }

// Option configures a Host.
type Option func(*Host)

// WithGateway sets the component JID (default "echo.example.org").
func WithGateway(jid string) Option { return func(h *Host) { h.gateway = jid } }

// WithConfig sets the gateway's config table, given as a value marshalled to JSON.
func WithConfig(v any) Option {
	return func(h *Host) {
		b, err := json.Marshal(v)
		if err != nil {
			panic(err)
		}
		h.config = b
	}
}

// WithBridges grants bridges; a bridge.call to another is refused (abi.CodeForbidden). Without
// it, any bridge name is accepted.
func WithBridges(names ...string) Option { return func(h *Host) { h.bridges = names } }

// WithStarter runs the plugin with s instead of in process (see package wasmtest).
func WithStarter(s Starter) Option { return func(h *Host) { h.start = s } }

// Host is the fake host. It is not safe for concurrent use (neither is a plugin instance).
type Host struct {
	t       testing.TB
	start   Starter
	inst    Instance
	gateway string
	config  json.RawMessage
	bridges []string

	// InitReply is what the plugin answered to init.
	InitReply abi.InitReply

	sessions map[string]*Session
	order    []*Session
	cur      *Session
	calls    []Call
	logs     []LogLine
	pending  []byte
	reply    []byte
	seq      int
	failNext map[abi.Method]*abi.Error
}

// LogLine is a line the plugin logged.
type LogLine struct {
	Level abi.LogLevel
	Msg   string
}

// New starts the plugin p (in process, unless WithStarter says otherwise) and sends it init;
// the test fails if init fails.
func New(t testing.TB, p gateway.Plugin, opts ...Option) *Host {
	t.Helper()
	h := &Host{t: t, gateway: "echo.example.org", sessions: map[string]*Session{}}
	if p != nil {
		h.start = InProcess(p)
	}
	for _, o := range opts {
		o(h)
	}
	if h.start == nil {
		t.Fatal("sdktest: no plugin and no starter")
	}
	h.boot()
	t.Cleanup(func() { h.closeInstance() })
	return h
}

func (h *Host) boot() {
	h.t.Helper()
	inst, err := h.start(h)
	if err != nil {
		h.t.Fatalf("sdktest: starting the plugin: %v", err)
	}
	h.inst = inst
	res := h.send(nil, abi.EventInit, nil, abi.Init{Gateway: h.gateway, ABI: fmt.Sprintf("%d.%d", abi.Major, abi.Minor), Config: h.config, Bridges: h.bridges})
	if res.Status != abi.StatusOK {
		h.t.Fatalf("sdktest: init: status %d: %v", res.Status, res.Err())
	}
	h.InitReply = abi.InitReply{}
	if err := json.Unmarshal(res.Reply, &h.InitReply); err != nil {
		h.t.Fatalf("sdktest: init reply %s: %v", res.Reply, err)
	}
}

func (h *Host) closeInstance() {
	if c, ok := h.inst.(io.Closer); ok {
		_ = c.Close()
	}
	h.inst = nil
}

// Restart replaces the plugin instance with a fresh one, as the host does after a crash: init,
// then session.restored for every logged-in session. What the host holds (contacts, storage,
// timers, pending bridge calls and fetches) is kept; what the plugin held in memory is gone.
func (h *Host) Restart() []Result {
	h.t.Helper()
	h.closeInstance()
	h.boot()
	var out []Result
	for _, s := range h.order {
		if s.LoggedIn {
			out = append(out, s.Send(abi.EventRestored, nil, nil))
		}
	}
	return out
}

// Send delivers an event without a session (payload is marshalled to JSON).
func (h *Host) Send(typ abi.EventType, payload any) Result {
	h.t.Helper()
	return h.send(nil, typ, nil, payload)
}

// Session returns the fake host's session of user jid (a bare JID), creating it.
func (h *Host) Session(jid string) *Session {
	if s := h.sessions[jid]; s != nil {
		return s
	}
	s := &Session{h: h, JID: jid, kv: map[string]string{}, contacts: map[string]*abi.Contact{},
		roster: map[string]bool{}, timers: map[string]abi.TimerSet{}, bridges: map[string]PendingCall{}, fetches: map[string]PendingCall{}}
	h.sessions[jid] = s
	h.order = append(h.order, s)
	return s
}

// Calls returns the host calls recorded so far (since Reset), all of them or those of the
// given methods.
func (h *Host) Calls(methods ...abi.Method) []Call { return filter(h.calls, methods) }

// Logs returns the lines the plugin logged.
func (h *Host) Logs() []LogLine { return slices.Clone(h.logs) }

// Reset forgets the recorded calls and logs.
func (h *Host) Reset() { h.calls, h.logs = nil, nil }

// FailNext makes the next call of method fail with code and msg.
func (h *Host) FailNext(method abi.Method, code abi.Code, msg string) {
	if h.failNext == nil {
		h.failNext = map[abi.Method]*abi.Error{}
	}
	h.failNext[method] = &abi.Error{Code: code, Message: msg}
}

func filter(calls []Call, methods []abi.Method) []Call {
	if len(methods) == 0 {
		return slices.Clone(calls)
	}
	var out []Call
	for _, c := range calls {
		if slices.Contains(methods, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Call is a recorded host call.
type Call struct {
	Session string // the session of the event during which it was made ("" for init)
	Method  abi.Method
	Request json.RawMessage // as the plugin sent it
	// Req is Request decoded into its abi type (a pointer, e.g. *abi.ContactText), or a
	// map[string]any for a method this package does not know.
	Req      any
	Response json.RawMessage // what the host answered (an abi.ErrorReply when Err is set)
	Err      *abi.Error
}

// As decodes a call's request into T, e.g. sdktest.As[abi.ContactText](c).
func As[T any](c Call) T {
	var v T
	if err := json.Unmarshal(c.Request, &v); err != nil {
		panic(fmt.Sprintf("sdktest: %s request %s as %T: %v", c.Method, c.Request, v, err))
	}
	return v
}

func (c Call) String() string { return string(c.Method) + " " + string(c.Request) }

// Result is the outcome of one event.
type Result struct {
	Status abi.Status
	Reply  json.RawMessage
	Calls  []Call // the host calls made during the event
}

// Err returns the event's error (decoded from its reply) when its status is StatusError.
func (r Result) Err() error {
	if r.Status != abi.StatusError {
		return nil
	}
	var er abi.ErrorReply
	if err := json.Unmarshal(r.Reply, &er); err != nil || er.Error == nil {
		return fmt.Errorf("sdktest: status error with reply %q", r.Reply)
	}
	return er.Error
}

// Methods lists the methods of the event's calls, in order.
func (r Result) Methods() []abi.Method {
	out := make([]abi.Method, len(r.Calls))
	for i, c := range r.Calls {
		out[i] = c.Method
	}
	return out
}

// Filter returns the event's calls of the given methods.
func (r Result) Filter(methods ...abi.Method) []Call { return filter(r.Calls, methods) }

// send delivers one event.
func (h *Host) send(s *Session, typ abi.EventType, chat *abi.Chat, payload any) Result {
	h.t.Helper()
	env := abi.Envelope{Type: typ, Chat: chat}
	if s != nil {
		env.Session = s.JID
	}
	if payload != nil {
		b, err := json.Marshal(payload)
		if err != nil {
			h.t.Fatalf("sdktest: payload of %s: %v", typ, err)
		}
		env.Payload = b
	}
	b, err := json.Marshal(env)
	if err != nil {
		h.t.Fatalf("sdktest: envelope of %s: %v", typ, err)
	}
	if h.inst == nil {
		h.t.Fatalf("sdktest: %s: no instance", typ)
	}
	h.cur, h.reply, h.pending = s, nil, nil
	first := len(h.calls)
	st, err := h.inst.Event(b)
	h.cur = nil
	if err != nil {
		h.t.Errorf("sdktest: %s: the instance trapped: %v", typ, err)
	}
	return Result{Status: st, Reply: h.reply, Calls: slices.Clone(h.calls[first:])}
}

// Call implements HostFuncs.
func (h *Host) Call(method string, req []byte) int32 {
	m := abi.Method(method)
	c := Call{Method: m, Request: bytes.Clone(req)}
	if !json.Valid(req) {
		h.t.Errorf("sdktest: %s: the request is not valid JSON: %q", m, req)
	}
	c.Req = decodeReq(h.t, m, req)
	var resp any
	var e *abi.Error
	switch {
	case h.failNext[m] != nil:
		e = h.failNext[m]
		delete(h.failNext, m)
	case h.cur == nil:
		e = abi.Errorf(abi.CodeNoSession, "%s needs a session", m)
	default:
		c.Session = h.cur.JID
		resp, e = h.cur.handle(m, c.Req)
	}
	if e != nil {
		c.Err = e
		resp = abi.ErrorReply{Error: e}
	}
	if resp == nil {
		resp = struct{}{}
	}
	b, err := json.Marshal(resp)
	if err != nil {
		h.t.Fatalf("sdktest: %s response: %v", m, err)
	}
	c.Response = b
	h.calls = append(h.calls, c)
	h.pending = b
	if e != nil {
		return -int32(e.Code)
	}
	return int32(len(b))
}

// Result implements HostFuncs.
func (h *Host) Result(buf []byte) int32 {
	copy(buf, h.pending)
	return int32(len(h.pending))
}

// Reply implements HostFuncs.
func (h *Host) Reply(b []byte) { h.reply = bytes.Clone(b) }

// Log implements HostFuncs. A logged plugin panic fails the test.
func (h *Host) Log(level int32, msg string) {
	h.logs = append(h.logs, LogLine{Level: abi.LogLevel(level), Msg: msg})
	if strings.HasPrefix(msg, "gateway: plugin panic") {
		h.t.Errorf("sdktest: %s", msg)
	}
	if testing.Verbose() {
		h.t.Logf("plugin log [%d]: %s", level, msg)
	}
}

// reqTypes are the request types of the host calls of ABI v1.
var reqTypes = map[abi.Method]func() any{
	abi.CallContactGet:         func() any { return new(abi.ContactRef) },
	abi.CallContactList:        func() any { return new(struct{}) },
	abi.CallContactUpdate:      func() any { return new(abi.ContactUpdate) },
	abi.CallContactAdd:         func() any { return new(abi.ContactRef) },
	abi.CallContactReady:       func() any { return new(abi.ContactRef) },
	abi.CallContactFailed:      func() any { return new(abi.ContactFailed) },
	abi.CallContactText:        func() any { return new(abi.ContactText) },
	abi.CallContactFile:        func() any { return new(abi.ContactFile) },
	abi.CallContactCorrect:     func() any { return new(abi.ContactCorrect) },
	abi.CallContactRetract:     func() any { return new(abi.ContactMsgRef) },
	abi.CallContactReact:       func() any { return new(abi.ContactReact) },
	abi.CallContactDisplayed:   func() any { return new(abi.ContactMsgRef) },
	abi.CallContactReceived:    func() any { return new(abi.ContactMsgRef) },
	abi.CallContactState:       func() any { return new(abi.ContactState) },
	abi.CallMessageSent:        func() any { return new(abi.MessageSent) },
	abi.CallMessageFailed:      func() any { return new(abi.MessageFailed) },
	abi.CallLoggedIn:           func() any { return new(abi.SessionStatus) },
	abi.CallLoginFailed:        func() any { return new(abi.SessionError) },
	abi.CallLogout:             func() any { return new(abi.SessionError) },
	abi.CallStatus:             func() any { return new(abi.SessionStatus) },
	abi.CallGatewayMessage:     func() any { return new(abi.GatewayMessage) },
	abi.CallPrompt:             func() any { return new(abi.Prompt) },
	abi.CallRegistrationResult: func() any { return new(abi.RegistrationResult) },
	abi.CallSearchResult:       func() any { return new(abi.SearchResult) },
	abi.CallKVGet:              func() any { return new(abi.KVKey) },
	abi.CallKVSet:              func() any { return new(abi.KVSet) },
	abi.CallKVDelete:           func() any { return new(abi.KVKey) },
	abi.CallKVKeys:             func() any { return new(abi.KVKey) },
	abi.CallTimerSet:           func() any { return new(abi.TimerSet) },
	abi.CallTimerCancel:        func() any { return new(abi.TimerRef) },
	abi.CallBridgeCall:         func() any { return new(abi.BridgeCall) },
	abi.CallFileFetch:          func() any { return new(abi.FileFetch) },
	abi.CallFileRelease:        func() any { return new(abi.FileRef) },
}

// decodeReq decodes a request strictly: an unknown field fails the test (a misspelt field
// would be ignored by the real host).
func decodeReq(t testing.TB, m abi.Method, req []byte) any {
	mk, ok := reqTypes[m]
	if !ok {
		var v map[string]any
		_ = json.Unmarshal(req, &v)
		return v
	}
	v := mk()
	d := json.NewDecoder(bytes.NewReader(req))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		t.Errorf("sdktest: %s: request %s: %v", m, req, err)
	}
	return v
}

// Session is the fake host's side of one user's session: it sends the user's events and keeps
// what the host holds for the user.
type Session struct {
	h   *Host
	JID string

	// LoggedIn and Status are set by session.logged_in; LoginError by session.login_failed.
	LoggedIn   bool
	Status     string
	LoginError string

	kv       map[string]string
	contacts map[string]*abi.Contact
	corder   []string
	roster   map[string]bool
	timers   map[string]abi.TimerSet
	bridges  map[string]PendingCall
	fetches  map[string]PendingCall
	seq      int
}

// PendingCall is a bridge call or file fetch the host has not answered yet.
type PendingCall struct {
	Token   string
	Bridge  string          // for a bridge call
	Request json.RawMessage // for a bridge call
	URL     string          // for a file fetch
	Context json.RawMessage
}

// handle answers a host call as the real host would, for the tests' purposes.
func (s *Session) handle(m abi.Method, req any) (any, *abi.Error) {
	h := s.h
	switch m {
	case abi.CallContactGet:
		return *s.contact(req.(*abi.ContactRef).LegacyID), nil
	case abi.CallContactList:
		l := abi.ContactList{Contacts: []abi.Contact{}}
		for _, id := range s.corder {
			l.Contacts = append(l.Contacts, *s.contacts[id])
		}
		return l, nil
	case abi.CallContactUpdate:
		u := req.(*abi.ContactUpdate)
		c := s.contact(u.LegacyID)
		if u.Name != nil {
			c.Name = *u.Name
		}
		if u.VCard != nil {
			c.VCard = u.VCard
		}
		if u.Presence != nil {
			c.Presence = u.Presence
		}
		if u.ClientType != nil {
			c.ClientType = *u.ClientType
		}
		if u.Friend != nil {
			c.Friend = *u.Friend
		}
		if u.Avatar != nil {
			c.AvatarID = u.Avatar.ID
		}
	case abi.CallContactAdd:
		s.roster[s.contact(req.(*abi.ContactRef).LegacyID).LegacyID] = true
	case abi.CallContactReady:
		s.contact(req.(*abi.ContactRef).LegacyID).Ready = true
	case abi.CallLoggedIn:
		s.LoggedIn, s.Status = true, req.(*abi.SessionStatus).Status
	case abi.CallLoginFailed:
		s.LoggedIn, s.LoginError = false, req.(*abi.SessionError).Error
	case abi.CallLogout:
		s.LoggedIn = false
	case abi.CallStatus:
		s.Status = req.(*abi.SessionStatus).Status
	case abi.CallKVGet:
		v, ok := s.kv[req.(*abi.KVKey).Key]
		if !ok {
			return nil, abi.Errorf(abi.CodeNotFound, "no key %q", req.(*abi.KVKey).Key)
		}
		return abi.KVValue{Value: v}, nil
	case abi.CallKVSet:
		r := req.(*abi.KVSet)
		s.kv[r.Key] = r.Value
	case abi.CallKVDelete:
		delete(s.kv, req.(*abi.KVKey).Key)
	case abi.CallKVKeys:
		keys := []string{}
		for k := range s.kv {
			if strings.HasPrefix(k, req.(*abi.KVKey).Key) {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		return abi.KVKeys{Keys: keys}, nil
	case abi.CallTimerSet:
		r := req.(*abi.TimerSet)
		s.timers[r.Timer] = *r
	case abi.CallTimerCancel:
		delete(s.timers, req.(*abi.TimerRef).Timer)
	case abi.CallBridgeCall:
		r := req.(*abi.BridgeCall)
		if h.bridges != nil && !slices.Contains(h.bridges, r.Bridge) {
			return nil, abi.Errorf(abi.CodeForbidden, "bridge %q is not granted", r.Bridge)
		}
		h.seq++
		tok := "b" + strconv.Itoa(h.seq)
		s.bridges[tok] = PendingCall{Token: tok, Bridge: r.Bridge, Request: r.Request, Context: r.Context}
		return abi.Token{Token: tok}, nil
	case abi.CallFileFetch:
		r := req.(*abi.FileFetch)
		h.seq++
		tok := "f" + strconv.Itoa(h.seq)
		s.fetches[tok] = PendingCall{Token: tok, URL: r.URL, Context: r.Context}
		return abi.Token{Token: tok}, nil
	default:
		if _, ok := reqTypes[m]; !ok {
			return nil, abi.Errorf(abi.CodeUnknownMethod, "unknown method %q", m)
		}
	}
	return nil, nil
}

func (s *Session) contact(id abi.LegacyID) *abi.Contact {
	if c := s.contacts[id]; c != nil {
		return c
	}
	c := &abi.Contact{LegacyID: id, JID: EscapeJID(id) + "@" + s.h.gateway}
	s.contacts[id] = c
	s.corder = append(s.corder, id)
	return c
}

// EscapeJID escapes a JID local part as XEP-0106 does (the host's default mapping).
func EscapeJID(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case ' ', '"', '&', '\'', '/', ':', '<', '>', '@', '\\':
			fmt.Fprintf(&b, `\%02x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Send delivers any event of this session (chat may be nil; payload is marshalled to JSON).
func (s *Session) Send(typ abi.EventType, chat *abi.Chat, payload any) Result {
	s.h.t.Helper()
	return s.h.send(s, typ, chat, payload)
}

// direct is the chat of a contact; the host knows the contacts the user talks to.
func (s *Session) direct(id abi.LegacyID) *abi.Chat {
	s.contact(id)
	return &abi.Chat{ID: id, Kind: abi.ChatDirect}
}

// Login sends session.login with the user's registration answers.
func (s *Session) Login(reg abi.Values) Result {
	return s.Send(abi.EventLogin, nil, abi.Login{Registration: reg})
}

// Logout sends session.logout.
func (s *Session) Logout() Result { return s.Send(abi.EventLogout, nil, nil) }

// Unregister sends session.unregister.
func (s *Session) Unregister() Result { return s.Send(abi.EventUnregister, nil, nil) }

// Restored sends session.restored.
func (s *Session) Restored() Result { return s.Send(abi.EventRestored, nil, nil) }

// Input sends session.input.
func (s *Session) Input(prompt, text string) Result {
	return s.Send(abi.EventInput, nil, abi.Input{Prompt: prompt, Text: text})
}

// InputExpired sends session.input for a prompt the user did not answer in time.
func (s *Session) InputExpired(prompt string) Result {
	return s.Send(abi.EventInput, nil, abi.Input{Prompt: prompt, Expired: true})
}

func (s *Session) request() string { s.seq++; return "r" + strconv.Itoa(s.seq) }

// Validate sends registration.validate (with a fresh request id).
func (s *Session) Validate(values abi.Values) Result {
	return s.Send(abi.EventValidate, nil, abi.Validate{Request: s.request(), Values: values})
}

// Search sends search (with a fresh request id).
func (s *Session) Search(query string) Result {
	return s.Send(abi.EventSearch, nil, abi.Search{Request: s.request(), Query: query})
}

// Fill sends roster.fill.
func (s *Session) Fill() Result { return s.Send(abi.EventFill, nil, nil) }

// UpdateInfo sends contact.update_info for a contact.
func (s *Session) UpdateInfo(id abi.LegacyID) Result {
	s.contact(id)
	return s.Send(abi.EventUpdateInfo, nil, abi.ContactRef{LegacyID: id})
}

// FriendRequest sends contact.friend_request.
func (s *Session) FriendRequest(id abi.LegacyID) Result {
	s.contact(id)
	return s.Send(abi.EventFriendRequest, nil, abi.ContactRef{LegacyID: id})
}

// JIDToLegacy sends contact.jid_username_to_legacy_id.
func (s *Session) JIDToLegacy(username string) Result {
	return s.Send(abi.EventJIDToLegacy, nil, abi.JIDToLegacy{Username: username})
}

// LegacyToJID sends contact.legacy_id_to_jid_username.
func (s *Session) LegacyToJID(id abi.LegacyID) Result {
	return s.Send(abi.EventLegacyToJID, nil, abi.LegacyToJID{LegacyID: id})
}

// Text sends message.text to contact.
func (s *Session) Text(contact abi.LegacyID, m abi.Text) Result {
	return s.Send(abi.EventText, s.direct(contact), m)
}

// File sends message.file to contact.
func (s *Session) File(contact abi.LegacyID, m abi.FileMessage) Result {
	return s.Send(abi.EventFile, s.direct(contact), m)
}

// Correct sends message.correct to contact.
func (s *Session) Correct(contact abi.LegacyID, m abi.Correct) Result {
	return s.Send(abi.EventCorrect, s.direct(contact), m)
}

// Retract sends message.retract to contact.
func (s *Session) Retract(contact abi.LegacyID, m abi.Retract) Result {
	return s.Send(abi.EventRetract, s.direct(contact), m)
}

// React sends message.react to contact.
func (s *Session) React(contact abi.LegacyID, m abi.React) Result {
	return s.Send(abi.EventReact, s.direct(contact), m)
}

// Displayed sends message.displayed to contact.
func (s *Session) Displayed(contact abi.LegacyID, target abi.LegacyMsgID) Result {
	return s.Send(abi.EventDisplayed, s.direct(contact), abi.Displayed{Target: target})
}

// ChatState sends chat.state to contact.
func (s *Session) ChatState(contact abi.LegacyID, st abi.State) Result {
	return s.Send(abi.EventChatState, s.direct(contact), abi.ChatState{State: st})
}

// BridgeEvent sends bridge.event (ev is marshalled to JSON).
func (s *Session) BridgeEvent(bridge string, ev any) Result {
	b, err := json.Marshal(ev)
	if err != nil {
		s.h.t.Fatalf("sdktest: bridge event: %v", err)
	}
	return s.Send(abi.EventBridgeEvent, nil, abi.BridgeEvent{Bridge: bridge, Event: b})
}

// Bridges returns the bridge calls not answered yet, oldest first.
func (s *Session) Bridges() []PendingCall { return sortedPending(s.bridges) }

// Fetches returns the file fetches not answered yet, oldest first.
func (s *Session) Fetches() []PendingCall { return sortedPending(s.fetches) }

func sortedPending(m map[string]PendingCall) []PendingCall {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b PendingCall) int {
		x, _ := strconv.Atoi(a.Token[1:])
		y, _ := strconv.Atoi(b.Token[1:])
		return x - y
	})
	return out
}

// RespondBridge answers the bridge call token with resp (marshalled to JSON).
func (s *Session) RespondBridge(token string, resp any) Result {
	s.h.t.Helper()
	p, ok := s.bridges[token]
	if !ok {
		s.h.t.Fatalf("sdktest: no pending bridge call %q", token)
	}
	delete(s.bridges, token)
	b, err := json.Marshal(resp)
	if err != nil {
		s.h.t.Fatalf("sdktest: bridge response: %v", err)
	}
	return s.Send(abi.EventBridgeResponse, nil, abi.BridgeResponse{Token: token, Context: p.Context, Response: b})
}

// FailBridge answers the bridge call token with an error.
func (s *Session) FailBridge(token string, code abi.Code, msg string) Result {
	s.h.t.Helper()
	p, ok := s.bridges[token]
	if !ok {
		s.h.t.Fatalf("sdktest: no pending bridge call %q", token)
	}
	delete(s.bridges, token)
	return s.Send(abi.EventBridgeResponse, nil, abi.BridgeResponse{Token: token, Context: p.Context, Error: &abi.Error{Code: code, Message: msg}})
}

// CompleteFetch answers the file fetch token with a file (its handle is made up if empty).
func (s *Session) CompleteFetch(token string, f abi.File) Result {
	s.h.t.Helper()
	p, ok := s.fetches[token]
	if !ok {
		s.h.t.Fatalf("sdktest: no pending fetch %q", token)
	}
	delete(s.fetches, token)
	if f.Handle == "" {
		f.Handle = "h-" + token
	}
	return s.Send(abi.EventFileFetched, nil, abi.FileFetched{Token: token, Context: p.Context, File: &f})
}

// FailFetch answers the file fetch token with an error.
func (s *Session) FailFetch(token string, code abi.Code, msg string) Result {
	s.h.t.Helper()
	p, ok := s.fetches[token]
	if !ok {
		s.h.t.Fatalf("sdktest: no pending fetch %q", token)
	}
	delete(s.fetches, token)
	return s.Send(abi.EventFileFetched, nil, abi.FileFetched{Token: token, Context: p.Context, Error: &abi.Error{Code: code, Message: msg}})
}

// Timers returns the names of the timers set and not fired or cancelled, sorted.
func (s *Session) Timers() []string { return slices.Sorted(maps.Keys(s.timers)) }

// Timer returns a timer as the plugin set it.
func (s *Session) Timer(name string) (abi.TimerSet, bool) {
	t, ok := s.timers[name]
	return t, ok
}

// FireTimer fires the timer name now.
func (s *Session) FireTimer(name string) Result {
	s.h.t.Helper()
	t, ok := s.timers[name]
	if !ok {
		s.h.t.Fatalf("sdktest: no timer %q", name)
	}
	delete(s.timers, name)
	return s.Send(abi.EventTimer, nil, abi.Timer{Timer: name, Context: t.Context})
}

// KV returns a copy of the plugin's storage for this user.
func (s *Session) KV() map[string]string { return maps.Clone(s.kv) }

// SetKV stores a value as if the plugin had.
func (s *Session) SetKV(key, value string) { s.kv[key] = value }

// Contact returns the host's record of a contact (false if the host has none).
func (s *Session) Contact(id abi.LegacyID) (abi.Contact, bool) {
	c, ok := s.contacts[id]
	if !ok {
		return abi.Contact{}, false
	}
	return *c, true
}

// Contacts returns the host's contact records, in the order they were created.
func (s *Session) Contacts() []abi.Contact {
	out := make([]abi.Contact, 0, len(s.corder))
	for _, id := range s.corder {
		out = append(out, *s.contacts[id])
	}
	return out
}

// InRoster reports whether the plugin added the contact to the roster (contact.add).
func (s *Session) InRoster(id abi.LegacyID) bool { return s.roster[id] }
