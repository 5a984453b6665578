package gateway

import (
	"errors"
	"fmt"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/internal/wire"
)

// Session is one XMPP user's session on the network (the host side of slidge's BaseSession):
// what the plugin can do for that user. Its methods are host calls and act immediately; they may
// only be called while an event of this session is being handled (a handler method or a
// callback), and return ErrWrongSession otherwise.
type Session struct {
	rt       *runtime
	jid      string
	handler  SessionHandler
	contacts map[abi.LegacyID]*Contact
	dirty    []*Contact
	active   bool
	ended    bool

	bridges map[uint64]func(abi.Raw, error)
	fetches map[uint64]func(*abi.File, error)
	timers  map[string]timer

	// The answer the host waits for in the event being handled: its kind and request id, and
	// whether the plugin already sent it.
	want     abi.Method
	wantID   string
	answered bool
}

type timer struct {
	id uint64
	fn func()
}

func newSession(rt *runtime, jid string) *Session {
	return &Session{rt: rt, jid: jid, contacts: map[abi.LegacyID]*Contact{}}
}

// JID is the bare JID of the XMPP user.
func (s *Session) JID() string { return s.jid }

// Handler returns the SessionHandler that the plugin's NewSession returned.
func (s *Session) Handler() SessionHandler { return s.handler }

func (s *Session) check() error {
	if s.rt.cur != s || s.ended {
		return ErrWrongSession
	}
	return nil
}

// call is a host call on this session; pending contact updates go first, so that the host sees
// the calls in the order the plugin made them.
func (s *Session) call(m abi.Method, req, resp any) error {
	if err := s.check(); err != nil {
		return err
	}
	if len(s.dirty) > 0 && m != abi.CallContactUpdate {
		if err := s.flushDirty(); err != nil {
			return err
		}
	}
	return s.rt.call(m, req, resp)
}

// Call makes any host call: req is encoded as JSON (nil: {}), and the response decoded into resp
// unless it is nil. The typed methods are easier; this one reaches methods newer than this SDK.
func (s *Session) Call(method abi.Method, req, resp any) error { return s.call(method, req, resp) }

func (s *Session) idle() bool {
	return len(s.bridges) == 0 && len(s.fetches) == 0 && len(s.timers) == 0
}

func (s *Session) end() {
	s.ended = true
	delete(s.rt.sessions, s.jid)
}

// answer records that the plugin sent the answer the host waits for.
func (s *Session) answer(m abi.Method, id string) {
	if s.want == m && s.wantID == id {
		s.answered = true
	}
}

func (s *Session) expect(m abi.Method, id string) {
	s.want, s.wantID, s.answered = m, id, false
}

// Log writes a line to the gateway's log (it needs no session; it names none).
func (s *Session) Log(level abi.LogLevel, msg string) { s.rt.log(level, msg) }

// Logf is Log with a format.
func (s *Session) Logf(level abi.LogLevel, format string, args ...any) {
	s.rt.log(level, fmt.Sprintf(format, args...))
}

// LoggedIn tells the host that login succeeded; status is shown as the gateway's status.
func (s *Session) LoggedIn(status string) error {
	s.answer(abi.CallLoggedIn, "")
	return s.call(abi.CallLoggedIn, &abi.SessionStatus{Status: status}, nil)
}

// LoginFailed tells the host that login failed, and the user why.
func (s *Session) LoginFailed(reason string) error {
	s.answer(abi.CallLoggedIn, "")
	return s.call(abi.CallLoginFailed, &abi.SessionError{Error: reason}, nil)
}

// Logout tells the host that the network ended the session (revoked from elsewhere).
func (s *Session) Logout(reason string) error {
	return s.call(abi.CallLogout, &abi.SessionError{Error: reason}, nil)
}

// Status sets the gateway's presence for the user.
func (s *Session) Status(show abi.Show, status string) error {
	return s.call(abi.CallStatus, &abi.SessionStatus{Show: show, Status: status}, nil)
}

// Message sends the user a chat message from the gateway's JID.
func (s *Session) Message(text string) error {
	return s.call(abi.CallGatewayMessage, &abi.GatewayMessage{Text: text}, nil)
}

// Prompt asks the user for input (a code, a password: secret); the answer comes to
// SessionHandler.OnInput with the same id.
func (s *Session) Prompt(id, text string, secret bool) error {
	return s.call(abi.CallPrompt, &abi.Prompt{Prompt: id, Text: text, Secret: secret}, nil)
}

// MessageSent tells the host that the network accepted the user's message xmppID, under the
// network's id legacyID (used later by receipts, corrections, retractions and markers).
func (s *Session) MessageSent(xmppID string, legacyID abi.LegacyMsgID) error {
	s.answer(abi.CallMessageSent, xmppID)
	return s.call(abi.CallMessageSent, &abi.MessageSent{ID: xmppID, LegacyID: legacyID}, nil)
}

// MessageFailed tells the host that the network refused the user's message xmppID; the user
// gets an error with reason.
func (s *Session) MessageFailed(xmppID, reason string) error {
	s.answer(abi.CallMessageSent, xmppID)
	return s.call(abi.CallMessageFailed, &abi.MessageFailed{ID: xmppID, Error: reason}, nil)
}

// RegistrationResult answers OnValidate's request: an empty errText accepts the form.
func (s *Session) RegistrationResult(request, errText string) error {
	s.answer(abi.CallRegistrationResult, request)
	return s.call(abi.CallRegistrationResult, &abi.RegistrationResult{Request: request, Error: errText}, nil)
}

// SearchResult answers OnSearch's request with a contact, or an error text.
func (s *Session) SearchResult(request string, id abi.LegacyID, errText string) error {
	s.answer(abi.CallSearchResult, request)
	return s.call(abi.CallSearchResult, &abi.SearchResult{Request: request, LegacyID: id, Error: errText}, nil)
}

// KVGet reads the plugin's stored value for key (per user, in the host's store).
func (s *Session) KVGet(key string) (value string, ok bool, err error) {
	var v abi.KVValue
	err = s.call(abi.CallKVGet, &abi.KVKey{Key: key}, &v)
	if IsCode(err, abi.CodeNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return v.Value, true, nil
}

// KVSet stores value under key (abi.CodeQuota past the gateway's storage quota).
func (s *Session) KVSet(key, value string) error {
	return s.call(abi.CallKVSet, &abi.KVSet{Key: key, Value: value}, nil)
}

// KVDelete removes key.
func (s *Session) KVDelete(key string) error {
	return s.call(abi.CallKVDelete, &abi.KVKey{Key: key}, nil)
}

// KVKeys lists the keys that start with prefix.
func (s *Session) KVKeys(prefix string) ([]string, error) {
	var v abi.KVKeys
	if err := s.call(abi.CallKVKeys, &abi.KVKey{Key: prefix}, &v); err != nil {
		return nil, err
	}
	return v.Keys, nil
}

// IsCode reports whether err is an *abi.Error with the given code.
func IsCode(err error, code abi.Code) bool {
	var e *abi.Error
	return errors.As(err, &e) && e != nil && e.Code == code
}

// dispatch runs the handler of one event of this session.
func (s *Session) dispatch(typ abi.EventType, env *wire.Envelope) (abi.Status, error) {
	h := s.handler
	p := env.Payload
	bad := func(err error) (abi.Status, error) {
		return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", typ, err)
	}
	switch typ {
	case abi.EventLogin:
		var in abi.Login
		if err := wire.UnmarshalEvent(p, &in); err != nil {
			return bad(err)
		}
		s.expect(abi.CallLoggedIn, "")
		status, err := h.OnLogin(in.Registration)
		return s.finish(err, func() error { return s.LoggedIn(status) }, func(e error) error { return s.LoginFailed(e.Error()) })
	case abi.EventLogout:
		return status(h.OnLogout())
	case abi.EventUnregister:
		return status(h.OnUnregister())
	case abi.EventRestored:
		if r, ok := h.(Restorer); ok {
			return status(r.OnRestored())
		}
		return abi.StatusOK, nil
	case abi.EventInput:
		var in abi.Input
		if err := wire.UnmarshalEvent(p, &in); err != nil {
			return bad(err)
		}
		if x, ok := h.(InputExpiredHandler); ok && in.Expired {
			return status(x.OnInputExpired(in.Prompt))
		}
		return status(h.OnInput(in.Prompt, in.Text))
	case abi.EventValidate:
		var in abi.Validate
		if err := wire.UnmarshalEvent(p, &in); err != nil {
			return bad(err)
		}
		s.expect(abi.CallRegistrationResult, in.Request)
		err := h.OnValidate(in.Request, in.Values)
		return s.finish(err, func() error { return s.RegistrationResult(in.Request, "") },
			func(e error) error { return s.RegistrationResult(in.Request, e.Error()) })
	case abi.EventSearch:
		var in abi.Search
		if err := wire.UnmarshalEvent(p, &in); err != nil {
			return bad(err)
		}
		s.expect(abi.CallSearchResult, in.Request)
		id, err := h.OnSearch(in.Request, in.Query)
		return s.finish(err, func() error { return s.SearchResult(in.Request, id, "") },
			func(e error) error { return s.SearchResult(in.Request, "", e.Error()) })
	case abi.EventFill:
		return status(h.OnFill())
	case abi.EventJIDToLegacy, abi.EventLegacyToJID:
		st, err := mapJID(s.rt, h, typ, p)
		switch {
		case err == nil && st == abi.StatusUnhandled:
			return s.raw(typ, env)
		case errors.Is(err, ErrUnhandled):
			return abi.StatusUnhandled, nil
		case err != nil:
			return 0, toABIError(err, abi.CodeInvalid)
		}
		return st, nil
	case abi.EventUpdateInfo, abi.EventFriendRequest:
		var in abi.ContactRef
		if err := wire.UnmarshalEvent(p, &in); err != nil {
			return bad(err)
		}
		c := s.known(in.LegacyID)
		if typ == abi.EventFriendRequest {
			return status(h.OnFriendRequest(c))
		}
		s.expect(abi.CallContactReady, in.LegacyID)
		err := h.OnUpdateInfo(c)
		return s.finish(err, c.Ready, func(e error) error { return c.Failed(e.Error()) })
	case abi.EventText:
		var m abi.Text
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		s.expect(abi.CallMessageSent, m.ID)
		id, err := h.OnText(s.chat(env), m)
		return s.finishSent(m.ID, id, err)
	case abi.EventFile:
		var m abi.FileMessage
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		s.expect(abi.CallMessageSent, m.ID)
		id, err := h.OnFile(s.chat(env), m)
		return s.finishSent(m.ID, id, err)
	case abi.EventCorrect:
		var m abi.Correct
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		return status(h.OnCorrect(s.chat(env), m))
	case abi.EventRetract:
		var m abi.Retract
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		return status(h.OnRetract(s.chat(env), m))
	case abi.EventReact:
		var m abi.React
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		return status(h.OnReact(s.chat(env), m))
	case abi.EventDisplayed:
		var m abi.Displayed
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		return status(h.OnDisplayed(s.chat(env), m.Target))
	case abi.EventChatState:
		var m abi.ChatState
		if err := wire.UnmarshalEvent(p, &m); err != nil {
			return bad(err)
		}
		if !env.HasChat {
			return bad(errNoChat)
		}
		return status(h.OnChatState(s.chat(env), m.State))
	case abi.EventBridgeResponse:
		return s.bridgeResponse(env)
	case abi.EventBridgeEvent:
		if bh, ok := h.(BridgeEventHandler); ok {
			var m abi.BridgeEvent
			if err := wire.UnmarshalEvent(p, &m); err != nil {
				return bad(err)
			}
			return status(bh.OnBridgeEvent(m.Bridge, m.Event))
		}
		return s.raw(typ, env)
	case abi.EventTimer:
		return s.timerFired(env)
	case abi.EventFileFetched:
		return s.fileFetched(env)
	}
	return s.raw(typ, env)
}

// finish sends the answer the host waits for, unless the handler sent it or deferred it.
func (s *Session) finish(err error, ok func() error, fail func(error) error) (abi.Status, error) {
	switch {
	case errors.Is(err, ErrUnhandled):
		return abi.StatusUnhandled, nil
	case errors.Is(err, ErrLater):
		return abi.StatusOK, nil
	case s.answered:
		return status(err) // answered: a later error fails the event
	case err != nil:
		return abi.StatusOK, fail(err)
	}
	return abi.StatusOK, ok()
}

// finishSent is finish for OnText and OnFile (without closures: this is the hot path). A
// handler that returns no id and no error, and sent nothing, is taken to answer later.
func (s *Session) finishSent(xmppID string, id abi.LegacyMsgID, err error) (abi.Status, error) {
	switch {
	case errors.Is(err, ErrUnhandled):
		return abi.StatusUnhandled, nil
	case errors.Is(err, ErrLater), err == nil && id == "" && !s.answered:
		return abi.StatusOK, nil
	case s.answered:
		return status(err) // answered: a later error fails the event
	case err != nil:
		return abi.StatusOK, s.MessageFailed(xmppID, err.Error())
	}
	return abi.StatusOK, s.MessageSent(xmppID, id)
}

var errNoChat = errors.New("the envelope has no chat")

func status(err error) (abi.Status, error) {
	if errors.Is(err, ErrUnhandled) {
		return abi.StatusUnhandled, nil
	}
	if err != nil {
		return 0, err
	}
	return abi.StatusOK, nil
}

// raw hands an event to the plugin's EventHandler, if any.
func (s *Session) raw(typ abi.EventType, env *wire.Envelope) (abi.Status, error) {
	eh, ok := s.handler.(EventHandler)
	if !ok {
		eh, ok = s.rt.plugin.(EventHandler)
	}
	if !ok {
		return abi.StatusUnhandled, nil
	}
	ev := Event{Type: typ, Payload: env.Payload}
	if env.HasChat {
		ev.Chat = &abi.Chat{ID: string(env.ChatID), Kind: abi.ChatKind(env.ChatKind)}
	}
	return status(eh.OnEvent(ev))
}

// chat returns the contact of the event's chat.
func (s *Session) chat(env *wire.Envelope) *Contact {
	if c := s.contacts[string(env.ChatID)]; c != nil {
		return c
	}
	return s.known(string(env.ChatID))
}
