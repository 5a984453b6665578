package gateway

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"strconv"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/internal/hostcall"
	"github.com/xmppgw/gateway/sdk/go/internal/wire"
	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

func init() {
	hostcall.NewInstance = func(p any, h hostcall.Host) hostcall.Instance {
		return newRuntime(p.(Plugin), h)
	}
}

// runtime is one plugin instance: the registered plugin, its sessions, and the buffers of the
// host-call layer. The SDK has one per Wasm instance; sdktest makes one per fake host.
type runtime struct {
	plugin   Plugin
	host     hostcall.Host
	sessions map[string]*Session
	cur      *Session // the session of the event being handled
	busy     bool
	nonce    string // tells this instance's contexts from those of a previous one
	nextID   uint64
	enc      []byte // request encoding buffer, reused (the host copies at once)
	res      []byte // response buffer, reused
	ctx      []byte // context encoding buffer, reused
	env      wire.Envelope
}

func newRuntime(p Plugin, h hostcall.Host) *runtime {
	var n [6]byte
	_, _ = rand.Read(n[:])
	return &runtime{plugin: p, host: h, sessions: map[string]*Session{}, nonce: hex.EncodeToString(n[:])}
}

// Event handles one envelope (gw_event).
func (rt *runtime) Event(b []byte) int32 { return int32(rt.event(b)) }

func (rt *runtime) event(b []byte) (st abi.Status) {
	if rt.busy {
		rt.log(abi.LogError, "gateway: gw_event re-entered")
		return abi.StatusError
	}
	rt.busy = true
	defer func() {
		rt.busy = false
		rt.cur = nil
		if r := recover(); r != nil {
			rt.log(abi.LogError, fmt.Sprintf("gateway: plugin panic: %v\n%s", r, debug.Stack()))
			rt.replyError(abi.Errorf(abi.CodeInternal, "plugin panic: %v", r))
			st = abi.StatusError
		}
	}()
	if err := wire.DecodeEnvelope(b, &rt.env); err != nil {
		rt.replyError(abi.Errorf(abi.CodeBadRequest, "envelope: %v", err))
		return abi.StatusError
	}
	env := &rt.env
	typ := eventType(env.Type)
	if typ == abi.EventInit {
		return rt.init(env.Payload)
	}
	if len(env.Session) == 0 {
		return rt.sessionless(typ, env)
	}
	s := rt.sessions[string(env.Session)]
	created := s == nil
	if created {
		s = newSession(rt, string(env.Session))
		rt.sessions[s.jid] = s
		rt.cur = s
		s.handler = rt.plugin.NewSession(s)
		if s.handler == nil {
			delete(rt.sessions, s.jid)
			rt.replyError(abi.Errorf(abi.CodeInternal, "plugin returned no session handler"))
			return abi.StatusError
		}
	}
	rt.cur = s
	st, err := s.dispatch(typ, env)
	s.flushDirty()
	switch typ {
	case abi.EventLogout, abi.EventUnregister:
		s.end()
	case abi.EventValidate, abi.EventSearch, abi.EventJIDToLegacy, abi.EventLegacyToJID:
		// Events a host may send before the user logs in: do not keep a session for them.
		if created && !s.active && s.idle() {
			s.end()
		}
	default:
		s.active = true
	}
	if err != nil {
		rt.replyError(toABIError(err, abi.CodeNetwork))
		return abi.StatusError
	}
	return st
}

func (rt *runtime) init(payload []byte) abi.Status {
	var in abi.Init
	if err := json.Unmarshal(payload, &in); err != nil {
		rt.replyError(abi.Errorf(abi.CodeBadRequest, "init: %v", err))
		return abi.StatusError
	}
	cfg := Config{Gateway: in.Gateway, ABI: in.ABI, Bridges: in.Bridges, Raw: in.Config, rt: rt}
	reply, err := rt.plugin.Init(cfg)
	if err != nil {
		rt.replyError(toABIError(err, abi.CodeInternal))
		return abi.StatusError
	}
	b, err := json.Marshal(reply)
	if err != nil {
		rt.replyError(abi.Errorf(abi.CodeInternal, "init reply: %v", err))
		return abi.StatusError
	}
	rt.host.Reply(b)
	return abi.StatusOK
}

// sessionless handles an event without a session: only the JID mapping hooks, on the Plugin.
func (rt *runtime) sessionless(typ abi.EventType, env *wire.Envelope) abi.Status {
	st, err := mapJID(rt, rt.plugin, typ, env.Payload)
	if errors.Is(err, ErrUnhandled) {
		return abi.StatusUnhandled
	}
	if err != nil {
		rt.replyError(toABIError(err, abi.CodeInvalid))
		return abi.StatusError
	}
	if st == abi.StatusUnhandled {
		if h, ok := rt.plugin.(EventHandler); ok {
			err := h.OnEvent(Event{Type: typ, Payload: env.Payload})
			if errors.Is(err, ErrUnhandled) {
				return abi.StatusUnhandled
			}
			if err != nil {
				rt.replyError(toABIError(err, abi.CodeInternal))
				return abi.StatusError
			}
			return abi.StatusOK
		}
	}
	return st
}

// mapJID runs the JID mapping hooks of h, if it has them; StatusUnhandled otherwise.
func mapJID(rt *runtime, h any, typ abi.EventType, payload []byte) (abi.Status, error) {
	switch typ {
	case abi.EventJIDToLegacy:
		m, ok := h.(JIDMapper)
		if !ok {
			return abi.StatusUnhandled, nil
		}
		var in abi.JIDToLegacy
		if err := wire.UnmarshalEvent(payload, &in); err != nil {
			return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", typ, err)
		}
		id, err := m.JIDUsernameToLegacyID(in.Username)
		if err != nil {
			return 0, err
		}
		rt.reply(&abi.JIDToLegacyReply{LegacyID: id})
		return abi.StatusOK, nil
	case abi.EventLegacyToJID:
		m, ok := h.(LegacyIDMapper)
		if !ok {
			return abi.StatusUnhandled, nil
		}
		var in abi.LegacyToJID
		if err := wire.UnmarshalEvent(payload, &in); err != nil {
			return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", typ, err)
		}
		u, err := m.LegacyIDToJIDUsername(in.LegacyID)
		if err != nil {
			return 0, err
		}
		rt.reply(&abi.LegacyToJIDReply{Username: u})
		return abi.StatusOK, nil
	}
	return abi.StatusUnhandled, nil
}

// eventType interns the event types of ABI v1.
func eventType(b []byte) abi.EventType {
	switch string(b) {
	case "message.text":
		return abi.EventText
	case "bridge.response":
		return abi.EventBridgeResponse
	case "bridge.event":
		return abi.EventBridgeEvent
	case "chat.state":
		return abi.EventChatState
	case "message.displayed":
		return abi.EventDisplayed
	case "timer.fired":
		return abi.EventTimer
	case "message.correct":
		return abi.EventCorrect
	case "message.retract":
		return abi.EventRetract
	case "message.react":
		return abi.EventReact
	case "message.file":
		return abi.EventFile
	case "file.fetched":
		return abi.EventFileFetched
	case "contact.update_info":
		return abi.EventUpdateInfo
	case "contact.friend_request":
		return abi.EventFriendRequest
	case "contact.jid_username_to_legacy_id":
		return abi.EventJIDToLegacy
	case "contact.legacy_id_to_jid_username":
		return abi.EventLegacyToJID
	case "roster.fill":
		return abi.EventFill
	case "session.login":
		return abi.EventLogin
	case "session.logout":
		return abi.EventLogout
	case "session.unregister":
		return abi.EventUnregister
	case "session.restored":
		return abi.EventRestored
	case "session.input":
		return abi.EventInput
	case "registration.validate":
		return abi.EventValidate
	case "search":
		return abi.EventSearch
	case "init":
		return abi.EventInit
	}
	return abi.EventType(b)
}

// call performs a host call: req is encoded (nil: {}), and the response decoded into resp
// unless resp is nil. A failed call returns an *abi.Error.
func (rt *runtime) call(m abi.Method, req, resp any) error {
	b := append(rt.enc[:0], "{}"...)
	if req != nil {
		var err error
		b, err = wire.Append(rt.enc[:0], req)
		if err != nil {
			return abi.Errorf(abi.CodeBadRequest, "%s: encoding the request: %v", m, err)
		}
	}
	rt.enc = b
	n := rt.host.Call(string(m), b)
	if n < 0 {
		code := abi.Code(-n)
		var er abi.ErrorReply
		if err := wire.Unmarshal(rt.result(0), &er); err != nil || er.Error == nil {
			return &abi.Error{Code: code, Message: string(m) + " failed"}
		}
		er.Error.Code = code
		return er.Error
	}
	if resp == nil {
		return nil
	}
	if err := wire.Unmarshal(rt.result(n), resp); err != nil {
		return abi.Errorf(abi.CodeInternal, "%s: decoding the response: %v", m, err)
	}
	return nil
}

// result fetches the pending response (n: its length, when known).
func (rt *runtime) result(n int32) []byte {
	if n <= 0 {
		n = 256
	}
	if cap(rt.res) < int(n) {
		rt.res = make([]byte, n)
	}
	full := rt.host.Result(rt.res[:cap(rt.res)])
	if int(full) > cap(rt.res) {
		rt.res = make([]byte, full)
		full = rt.host.Result(rt.res)
	}
	if full < 0 {
		full = 0
	}
	return rt.res[:full]
}

// reply sets the event's reply.
func (rt *runtime) reply(v any) {
	b, err := wire.Append(rt.enc[:0], v)
	if err != nil {
		rt.log(abi.LogError, "gateway: encoding a reply: "+err.Error())
		return
	}
	rt.enc = b
	rt.host.Reply(b)
}

func (rt *runtime) replyError(e *abi.Error) { rt.reply(&abi.ErrorReply{Error: e}) }

func (rt *runtime) log(level abi.LogLevel, msg string) { rt.host.Log(int32(level), msg) }

// toABIError turns a handler's error into an ABI error; code is used for errors that are not
// *abi.Error.
func toABIError(err error, code abi.Code) *abi.Error {
	var e *abi.Error
	if errors.As(err, &e) && e != nil {
		return e
	}
	return &abi.Error{Code: code, Message: err.Error()}
}

// appendContext builds the context of an asynchronous call: {"gw":nonce,"id":n,"c":user}.
func (rt *runtime) appendContext(b []byte, id uint64, user []byte) []byte {
	b = append(b, `{"gw":"`...)
	b = append(b, rt.nonce...)
	b = append(b, `","id":`...)
	b = strconv.AppendUint(b, id, 10)
	if len(user) > 0 {
		b = append(b, `,"c":`...)
		b = append(b, user...)
	}
	return append(b, '}')
}

// parseContext reads a context made by appendContext. ours says whether it is this instance's;
// user is the plugin's own context (the whole context when it was not made by this SDK).
func (rt *runtime) parseContext(ctx []byte) (id uint64, ours bool, user json.RawMessage) {
	d := jsonwire.NewDecoder(ctx, jsonwire.Alias)
	var nonce []byte
	sdk := false
	for ok := len(ctx) > 0 && ctx[0] == '{' && d.Object(); ok && d.Field(); {
		switch string(d.Key()) {
		case "gw":
			nonce = d.StrBytes()
			sdk = true
		case "id":
			id = uint64(d.Int())
		case "c":
			user = d.Raw()
		default:
			d.Skip()
		}
	}
	if d.End() != nil || !sdk {
		return 0, false, ctx
	}
	return id, string(nonce) == rt.nonce, user
}
