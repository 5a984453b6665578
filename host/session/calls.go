package session

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp/jidesc"
)

// empty is the response of calls that return nothing.
var empty = []byte("{}")

// Call handles a host call the plugin made while handling an event of session (a user's bare
// JID). It implements the runtime's Host interface. It runs while that session's actor waits
// for the event, so it may use the session's state.
func (m *Manager) Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	if session == "" {
		return nil, abi.Errorf(abi.CodeNoSession, "%s needs a session; it was called during an event without one", method)
	}
	s := m.lookup(session)
	if s == nil || s.roster == nil {
		return nil, abi.Errorf(abi.CodeNoSession, "no session for %s", session)
	}
	h, ok := calls[method]
	if !ok {
		return nil, abi.Errorf(abi.CodeUnknownMethod, "unknown host call %q", method)
	}
	return h(s, req)
}

// handler handles one host call for a session.
type handler func(s *Session, req []byte) ([]byte, error)

// calls maps every host call of ABI v1 to its handler.
var calls map[abi.Method]handler

func init() {
	calls = map[abi.Method]handler{
		abi.CallContactGet:    withReq(func(s *Session, r abi.ContactGet) ([]byte, error) { return s.callContactGet(r) }),
		abi.CallContactList:   func(s *Session, _ []byte) ([]byte, error) { return s.callContactList() },
		abi.CallContactUpdate: withReq(func(s *Session, r abi.ContactUpdate) ([]byte, error) { return s.callContactUpdate(r) }),
		abi.CallContactAdd: withReq(func(s *Session, r abi.ContactRef) ([]byte, error) {
			return contactDo(s, r.LegacyID, func(c *roster.Contact) { c.Friend = true })
		}),
		abi.CallContactReady: withReq(func(s *Session, r abi.ContactRef) ([]byte, error) {
			return contactDo(s, r.LegacyID, func(c *roster.Contact) { c.Ready, c.Failed = true, "" })
		}),
		abi.CallContactFailed: withReq(func(s *Session, r abi.ContactFailed) ([]byte, error) {
			return contactDo(s, r.LegacyID, func(c *roster.Contact) { c.Ready, c.Failed = true, r.Error })
		}),

		abi.CallLoggedIn: withReq(func(s *Session, r abi.SessionStatus) ([]byte, error) {
			s.loggedIn(r.Status)
			return empty, nil
		}),
		abi.CallLoginFailed: withReq(func(s *Session, r abi.SessionError) ([]byte, error) {
			s.setState(StateFailed, "Login failed: "+r.Error)
			s.gatewayMessage("Login failed: " + r.Error)
			return empty, nil
		}),
		abi.CallLogout: withReq(func(s *Session, r abi.SessionError) ([]byte, error) {
			s.gatewayMessage("Logged out by the network: " + r.Error)
			s.goOffline()
			return empty, nil
		}),
		abi.CallStatus: withReq(func(s *Session, r abi.SessionStatus) ([]byte, error) {
			s.status = r.Status
			s.sendGatewayPresence()
			return empty, nil
		}),
		abi.CallGatewayMessage: withReq(func(s *Session, r abi.GatewayMessage) ([]byte, error) {
			s.gatewayMessage(r.Text)
			return empty, nil
		}),
		abi.CallPrompt: withReq(func(s *Session, r abi.Prompt) ([]byte, error) {
			s.askUser(r)
			return empty, nil
		}),
		abi.CallRegistrationResult: withReq(func(s *Session, r abi.RegistrationResult) ([]byte, error) {
			return s.finishRequest(r.Request, r.Error, "")
		}),
		abi.CallSearchResult: withReq(func(s *Session, r abi.SearchResult) ([]byte, error) {
			return s.finishRequest(r.Request, r.Error, r.LegacyID)
		}),

		abi.CallKVGet:    withReq(func(s *Session, r abi.KVKey) ([]byte, error) { return s.kvGet(r.Key) }),
		abi.CallKVSet:    withReq(func(s *Session, r abi.KVSet) ([]byte, error) { return s.kvSet(r) }),
		abi.CallKVDelete: withReq(func(s *Session, r abi.KVKey) ([]byte, error) { return s.kvDelete(r.Key) }),
		abi.CallKVKeys:   withReq(func(s *Session, r abi.KVKey) ([]byte, error) { return s.kvKeys(r.Key) }),

		abi.CallTimerSet:    withReq(func(s *Session, r abi.TimerSet) ([]byte, error) { return s.timerSet(r) }),
		abi.CallTimerCancel: withReq(func(s *Session, r abi.TimerRef) ([]byte, error) { return s.timerCancel(r.Timer) }),
		abi.CallBridgeCall:  withReq(func(s *Session, r abi.BridgeCall) ([]byte, error) { return s.bridgeCall(r) }),

		abi.CallFileFetch:   withReq(func(s *Session, r abi.FileFetch) ([]byte, error) { return s.fileFetch(r) }),
		abi.CallFileRelease: withReq(func(s *Session, r abi.FileRef) ([]byte, error) { return s.fileRelease(r) }),
	}
	for method, h := range messageCalls {
		calls[method] = h
	}
}

// withReq decodes the request into T before calling f.
func withReq[T any](f func(*Session, T) ([]byte, error)) handler {
	return func(s *Session, req []byte) ([]byte, error) {
		var r T
		if len(req) > 0 {
			if err := json.Unmarshal(req, &r); err != nil {
				return nil, abi.Errorf(abi.CodeBadRequest, "invalid request: %v", err)
			}
		}
		return f(s, r)
	}
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "encode response: %v", err)
	}
	return b, nil
}

// contact returns the contact singleton for id, creating it at the first lookup and queueing
// update_info for it once.
func (s *Session) contact(id, username string) (*roster.Contact, error) {
	if id == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "legacy_id is empty")
	}
	if c := s.roster.Get(id); c != nil {
		return c, nil
	}
	if username == "" {
		var err error
		if username, err = jidesc.Escape(id); err != nil {
			return nil, abi.Errorf(abi.CodeInvalid, "legacy id %q cannot be a JID local part: %v", id, err)
		}
	}
	c, err := s.roster.Create(id, username)
	if err != nil {
		return nil, abi.Errorf(abi.CodeInvalid, "%v", err)
	}
	s.queueUpdateInfo(c)
	return c, nil
}

// queueUpdateInfo runs the plugin's update_info for c after the current event, once.
func (s *Session) queueUpdateInfo(c *roster.Contact) {
	if s.updating[c.LegacyID] {
		return
	}
	s.updating[c.LegacyID] = true
	id := c.LegacyID
	s.soon(func() {
		delete(s.updating, id)
		c := s.roster.Get(id)
		if c == nil || c.Ready {
			return
		}
		status, _, err := s.deliver(abi.EventUpdateInfo, nil, abi.ContactRef{LegacyID: id})
		if status == abi.StatusUnhandled || err != nil {
			// Default: the contact is ready as it is.
			c.Ready = true
			if err != nil {
				c.Failed = errText(err)
			}
			s.roster.MarkDirty(c)
			s.afterEvent()
		}
	})
}

func (s *Session) callContactGet(r abi.ContactGet) ([]byte, error) {
	c, err := s.contact(r.LegacyID, r.Username)
	if err != nil {
		return nil, err
	}
	return marshal(c.ABI(s.m.cfg.JID))
}

func (s *Session) callContactList() ([]byte, error) {
	all := s.roster.All()
	out := abi.ContactList{Contacts: make([]abi.Contact, len(all))}
	for i, c := range all {
		out.Contacts[i] = c.ABI(s.m.cfg.JID)
	}
	return marshal(out)
}

// contactDo applies f to an existing contact and marks it changed.
func contactDo(s *Session, id string, f func(*roster.Contact)) ([]byte, error) {
	c := s.roster.Get(id)
	if c == nil {
		return nil, abi.Errorf(abi.CodeNotFound, "no contact %q: call contact.get first", id)
	}
	f(c)
	s.roster.MarkDirty(c)
	return empty, nil
}

func (s *Session) callContactUpdate(r abi.ContactUpdate) ([]byte, error) {
	c, err := s.contact(r.LegacyID, "")
	if err != nil {
		return nil, err
	}
	if r.Name != nil {
		c.Name = *r.Name
	}
	if r.ClientType != nil {
		c.ClientType = *r.ClientType
	}
	if r.Friend != nil {
		c.Friend = *r.Friend
	}
	if r.VCard != nil {
		c.VCard = *r.VCard
	}
	if r.Presence != nil {
		c.Presence = *r.Presence
	}
	if r.Avatar != nil {
		if err := s.setAvatar(c, r.Avatar); err != nil {
			return nil, err
		}
	}
	s.roster.MarkDirty(c)
	return empty, nil
}

func (s *Session) finishRequest(id, errText, legacyID string) ([]byte, error) {
	cb, ok := s.requests[id]
	if !ok {
		return nil, abi.Errorf(abi.CodeNotFound, "no pending request %q (answered already, or timed out)", id)
	}
	delete(s.requests, id)
	// The callback may deliver events: run it after the current one, never inside a host call.
	s.soon(func() { cb(errText, legacyID) })
	return empty, nil
}

func (s *Session) kvGet(key string) ([]byte, error) {
	v, err := s.m.st.KVGet(s.ctx, s.m.cfg.JID, s.user, key)
	if errors.Is(err, store.ErrNotFound) {
		return nil, abi.Errorf(abi.CodeNotFound, "no key %q", key)
	}
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "%v", err)
	}
	return marshal(abi.KVValue{Value: string(v)})
}

func (s *Session) kvSet(r abi.KVSet) ([]byte, error) {
	if r.Key == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "empty key")
	}
	err := s.m.st.KVSet(s.ctx, s.m.cfg.JID, s.user, r.Key, []byte(r.Value), s.m.cfg.StorageQuota)
	if errors.Is(err, store.ErrQuota) {
		return nil, abi.Errorf(abi.CodeQuota, "storage quota of %d bytes exceeded", s.m.cfg.StorageQuota)
	}
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "%v", err)
	}
	return empty, nil
}

func (s *Session) kvDelete(key string) ([]byte, error) {
	if err := s.m.st.KVDelete(s.ctx, s.m.cfg.JID, s.user, key); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, abi.Errorf(abi.CodeInternal, "%v", err)
	}
	return empty, nil
}

func (s *Session) kvKeys(prefix string) ([]byte, error) {
	keys, err := s.m.st.KVKeys(s.ctx, s.m.cfg.JID, s.user, prefix)
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "%v", err)
	}
	if keys == nil {
		keys = []string{}
	}
	return marshal(abi.KVKeys{Keys: keys})
}

// maxTimers bounds a session's timers, so a plugin bug cannot exhaust the host.
const maxTimers = 1024

func (s *Session) timerSet(r abi.TimerSet) ([]byte, error) {
	if r.Timer == "" || r.AfterMS < 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "timer.set needs a timer name and after_ms >= 0")
	}
	if t := s.timers[r.Timer]; t != nil {
		t.Stop()
	} else if len(s.timers) >= maxTimers {
		return nil, abi.Errorf(abi.CodeQuota, "more than %d timers", maxTimers)
	}
	name, ctxJSON := r.Timer, r.Context
	var t *time.Timer
	t = time.AfterFunc(time.Duration(r.AfterMS)*time.Millisecond, func() {
		s.post(func() {
			if s.timers[name] != t {
				return // reset or cancelled meanwhile
			}
			delete(s.timers, name)
			s.deliver(abi.EventTimer, nil, abi.Timer{Timer: name, Context: ctxJSON})
		})
	})
	s.timers[name] = t
	return empty, nil
}

func (s *Session) timerCancel(name string) ([]byte, error) {
	if t := s.timers[name]; t != nil {
		t.Stop()
		delete(s.timers, name)
	}
	return empty, nil
}
