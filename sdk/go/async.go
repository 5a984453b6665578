package gateway

import (
	"encoding/json"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/internal/wire"
	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// Asynchronous calls: each returns at once, and its answer comes back later as an event that
// the SDK hands to the callback given at call time, during that event (so the callback may use
// the session). The call's context carries the callback's id and the plugin's own context
// (the ctx argument of the ...With forms); when the instance that made the call is gone (a
// crash: the session is then restored on a fresh instance), or the callback is nil, the answer
// goes to the matching hook (BridgeResponseHandler, TimerHandler, FileFetchedHandler, else
// EventHandler) with the plugin's context, so the plugin can resume from it.

// Bridge is a host-side bridge (e.g. "telegram") the gateway is granted.
type Bridge struct {
	s    *Session
	name string
}

// Bridge returns the named bridge of the session.
func (s *Session) Bridge(name string) Bridge { return Bridge{s: s, name: name} }

// Call sends a request to the bridge (JSON: a json.RawMessage or []byte is sent as it is, any
// other value is marshalled); cb gets the response later.
func (b Bridge) Call(req any, cb func(resp json.RawMessage, err error)) error {
	return b.CallWith(req, nil, cb)
}

// CallWith is Call with a context (see the hooks) that says what the call was for.
func (b Bridge) CallWith(req, ctx any, cb func(resp json.RawMessage, err error)) error {
	s := b.s
	if err := s.check(); err != nil {
		return err
	}
	r, err := toRaw(req)
	if err != nil {
		return err
	}
	c, id, err := s.context(ctx)
	if err != nil {
		return err
	}
	if err := s.call(abi.CallBridgeCall, &abi.BridgeCall{Bridge: b.name, Request: r, Context: c}, nil); err != nil {
		return err
	}
	if cb != nil {
		if s.bridges == nil {
			s.bridges = map[uint64]func(abi.Raw, error){}
		}
		s.bridges[id] = cb
	}
	return nil
}

// After sets (or resets) the session's timer name: fn runs once after d.
func (s *Session) After(d time.Duration, name string, fn func()) error {
	return s.AfterWith(d, name, nil, fn)
}

// AfterWith is After with a context (see the hooks).
func (s *Session) AfterWith(d time.Duration, name string, ctx any, fn func()) error {
	if err := s.check(); err != nil {
		return err
	}
	c, id, err := s.context(ctx)
	if err != nil {
		return err
	}
	if err := s.call(abi.CallTimerSet, &abi.TimerSet{Timer: name, AfterMS: max(d.Milliseconds(), 0), Context: c}, nil); err != nil {
		return err
	}
	if s.timers == nil {
		s.timers = map[string]timer{}
	}
	s.timers[name] = timer{id: id, fn: fn}
	return nil
}

// CancelTimer cancels the timer name (no error if it is gone).
func (s *Session) CancelTimer(name string) error {
	if err := s.call(abi.CallTimerCancel, &abi.TimerRef{Timer: name}, nil); err != nil {
		return err
	}
	delete(s.timers, name)
	return nil
}

// Fetch downloads url into a host file handle (at most maxSize bytes, 0: the gateway's cap);
// cb gets the file later. Release the handle when done with it.
func (s *Session) Fetch(url string, maxSize int64, cb func(f *abi.File, err error)) error {
	return s.FetchWith(url, maxSize, nil, cb)
}

// FetchWith is Fetch with a context (see the hooks).
func (s *Session) FetchWith(url string, maxSize int64, ctx any, cb func(f *abi.File, err error)) error {
	if err := s.check(); err != nil {
		return err
	}
	c, id, err := s.context(ctx)
	if err != nil {
		return err
	}
	if err := s.call(abi.CallFileFetch, &abi.FileFetch{URL: url, MaxSize: maxSize, Context: c}, nil); err != nil {
		return err
	}
	if cb != nil {
		if s.fetches == nil {
			s.fetches = map[uint64]func(*abi.File, error){}
		}
		s.fetches[id] = cb
	}
	return nil
}

// ReleaseFile drops a file handle.
func (s *Session) ReleaseFile(handle string) error {
	return s.call(abi.CallFileRelease, &abi.FileRef{Handle: handle}, nil)
}

// context makes the context of a new asynchronous call.
func (s *Session) context(ctx any) (json.RawMessage, uint64, error) {
	user, err := toRaw(ctx)
	if err != nil {
		return nil, 0, err
	}
	rt := s.rt
	rt.nextID++
	rt.ctx = rt.appendContext(rt.ctx[:0], rt.nextID, user)
	return rt.ctx, rt.nextID, nil
}

// toRaw turns a request or context into JSON: raw JSON as it is, a string quoted, anything else
// marshalled.
func toRaw(v any) (json.RawMessage, error) {
	switch v := v.(type) {
	case nil:
		return nil, nil
	case json.RawMessage:
		return v, nil
	case []byte:
		return v, nil
	case string:
		return jsonwire.AppendString(nil, v), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadRequest, "encoding %T: %v", v, err)
	}
	return b, nil
}

func (s *Session) bridgeResponse(env *wire.Envelope) (abi.Status, error) {
	var m abi.BridgeResponse
	if err := wire.UnmarshalEvent(env.Payload, &m); err != nil {
		return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", abi.EventBridgeResponse, err)
	}
	id, ours, user := s.rt.parseContext(m.Context)
	var err error
	if m.Error != nil {
		err = m.Error
	}
	if cb := s.bridges[id]; ours && cb != nil {
		delete(s.bridges, id)
		cb(m.Response, err)
		return abi.StatusOK, nil
	}
	if h, ok := s.handler.(BridgeResponseHandler); ok {
		return status(h.OnBridgeResponse(BridgeResult{Token: m.Token, Context: user, Response: m.Response, Err: err}))
	}
	return s.lost(abi.EventBridgeResponse, env)
}

func (s *Session) timerFired(env *wire.Envelope) (abi.Status, error) {
	var m abi.Timer
	if err := wire.UnmarshalEvent(env.Payload, &m); err != nil {
		return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", abi.EventTimer, err)
	}
	id, ours, user := s.rt.parseContext(m.Context)
	if t, ok := s.timers[m.Timer]; ours && ok {
		if t.id != id {
			return abi.StatusOK, nil // a fire of a timer reset since: stale
		}
		delete(s.timers, m.Timer)
		if t.fn != nil {
			t.fn()
			return abi.StatusOK, nil
		}
	}
	if h, ok := s.handler.(TimerHandler); ok {
		return status(h.OnTimer(m.Timer, user))
	}
	return s.lost(abi.EventTimer, env)
}

func (s *Session) fileFetched(env *wire.Envelope) (abi.Status, error) {
	var m abi.FileFetched
	if err := wire.UnmarshalEvent(env.Payload, &m); err != nil {
		return 0, abi.Errorf(abi.CodeBadRequest, "%s: %v", abi.EventFileFetched, err)
	}
	id, ours, user := s.rt.parseContext(m.Context)
	var err error
	if m.Error != nil {
		err = m.Error
	}
	if cb := s.fetches[id]; ours && cb != nil {
		delete(s.fetches, id)
		cb(m.File, err)
		return abi.StatusOK, nil
	}
	if h, ok := s.handler.(FileFetchedHandler); ok {
		return status(h.OnFileFetched(FetchResult{Token: m.Token, Context: user, File: m.File, Err: err}))
	}
	return s.lost(abi.EventFileFetched, env)
}

// lost hands an answer without a callback to EventHandler, or logs it.
func (s *Session) lost(typ abi.EventType, env *wire.Envelope) (abi.Status, error) {
	st, err := s.raw(typ, env)
	if st == abi.StatusUnhandled && err == nil {
		s.Logf(abi.LogWarn, "gateway: %s without a callback or a hook: dropped", typ)
	}
	return st, err
}
