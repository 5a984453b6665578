package session

import (
	"encoding/json"
	"errors"
	"os"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/register"
)

// registrationForm is the plugin's registration form as an XEP-0004 form.
func (m *Manager) registrationForm() *form.Form {
	f := &form.Form{Type: "form", Title: "Register with " + m.cfg.Name, Instructions: m.info.Registration.Instructions}
	for _, fl := range m.info.Registration.Fields {
		ff := form.Field{Var: fl.Var, Type: fl.Type, Label: fl.Label, Desc: fl.Desc, Required: fl.Required}
		if fl.Value != "" {
			ff.Values = []string{fl.Value}
		}
		for _, o := range fl.Options {
			ff.Options = append(ff.Options, form.Option{Label: o, Value: o})
		}
		f.Fields = append(f.Fields, ff)
	}
	return f
}

// missingField names the first required field without a value, or "".
func (m *Manager) missingField(values abi.Values) string {
	for _, f := range m.info.Registration.Fields {
		if f.Required && values[f.Var] == "" {
			if f.Label != "" {
				return f.Label
			}
			return f.Var
		}
	}
	return ""
}

// handleRegisterIQ serves XEP-0077 on the gateway JID.
func (m *Manager) handleRegisterIQ(st *xmpp.Element, user string, q *xmpp.Element) {
	if !m.Allowed(user) {
		m.refuse(st, errForbidden)
		return
	}
	switch st.Get("type") {
	case "get":
		_, err := m.st.User(m.baseCtx, m.cfg.JID, user)
		registered := err == nil
		m.send(xmpp.IQResult(st, register.Query(m.info.Registration.Instructions, registered, m.registrationForm())))
	case "set":
		req, err := register.ParseRequest(q)
		if err != nil {
			m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: err.Error()})
			return
		}
		if req.Remove {
			m.unregister(user, func(err error) {
				if err != nil {
					m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "internal-server-error", Text: err.Error()})
					return
				}
				m.send(xmpp.IQResult(st))
			})
			return
		}
		m.register(user, req.Values, func(errText string) {
			if errText != "" {
				m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "not-acceptable", Text: errText})
				return
			}
			m.send(xmpp.IQResult(st))
		})
	default:
		m.refuse(st, errBadRequest)
	}
}

// register validates a registration with the plugin, stores it and starts the session's login.
// done gets "" on success or why the registration was refused; it runs on the session's actor.
func (m *Manager) register(user string, values abi.Values, done func(errText string)) {
	if values == nil {
		values = abi.Values{}
	}
	if f := m.missingField(values); f != "" {
		done("the field " + quote(f) + " is required")
		return
	}
	s, err := m.session(user, true)
	if err != nil {
		done(err.Error())
		return
	}
	err = s.enqueue(func() {
		var timer *time.Timer
		var id string
		finish := func(errText, _ string) {
			if timer != nil {
				timer.Stop()
			}
			if errText != "" {
				done(errText)
				s.stopIfUnregistered()
				return
			}
			form, _ := json.Marshal(values)
			if err := m.st.PutUser(s.ctx, store.User{Gateway: m.cfg.JID, JID: user, Form: form, State: "active"}); err != nil {
				done("the gateway could not save the registration: " + err.Error())
				return
			}
			m.log.Info("user registered", "user", user)
			done("")
			if s.state == StateConnected {
				s.deliver(abi.EventLogout, nil, nil)
			}
			s.login(values)
		}
		id = s.newRequest(finish)
		timer = time.AfterFunc(m.cfg.RequestTimeout, func() {
			s.post(func() {
				if _, ok := s.requests[id]; ok {
					delete(s.requests, id)
					done("the network did not answer in time: try again")
					s.stopIfUnregistered()
				}
			})
		})
		status, _, err := s.deliver(abi.EventValidate, nil, abi.Validate{Request: id, Values: values})
		if _, pending := s.requests[id]; !pending {
			return // answered during the event
		}
		switch {
		case err != nil:
			delete(s.requests, id)
			finish("the network plugin failed: "+errText(err), "")
		case status == abi.StatusUnhandled:
			delete(s.requests, id)
			finish("", "") // default: accept
		}
	})
	if err != nil {
		done(err.Error())
	}
}

// stopIfUnregistered ends a session that was only created for a registration attempt.
func (s *Session) stopIfUnregistered() {
	if _, err := s.m.st.User(s.ctx, s.m.cfg.JID, s.user); errors.Is(err, store.ErrNotFound) {
		s.stop(false)
	}
}

// unregister logs the user out on the network side, removes the puppets from the user's roster
// (where privileged), deletes everything the gateway holds about the user and ends the session.
func (m *Manager) unregister(user string, done func(error)) {
	s, err := m.session(user, true)
	if err != nil {
		done(err)
		return
	}
	err = s.enqueue(func() {
		s.deliver(abi.EventUnregister, nil, nil)
		s.closeBridges()
		s.removePuppets()
		if err := m.st.DeleteUser(s.ctx, m.cfg.JID, user); err != nil && !errors.Is(err, store.ErrNotFound) {
			done(err)
			return
		}
		if dir := m.cfg.UserDataDir(user); dir != "" {
			if err := os.RemoveAll(dir); err != nil {
				m.log.Error("remove user data folder", "user", user, "err", err)
			}
		}
		m.wipeFiles(user)
		s.roster.Reset()
		s.setState(StateLoggedOut, "")
		m.log.Info("user unregistered", "user", user)
		done(nil)
		s.stop(false)
	})
	if err != nil {
		done(err)
	}
}

// removePuppets takes the puppets out of the user's roster: by privileged roster set, or by
// unsubscribing them.
func (s *Session) removePuppets() {
	privileged := s.m.link.RosterPrivilege(s.domain)
	for _, c := range s.roster.All() {
		jid := s.puppetJID(c)
		if c.Presence.Show != "" {
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "unavailable", "from", jid, "to", s.user))
		}
		if privileged {
			iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "set", "from", s.m.cfg.JID, "to", s.user).
				Add(xmpp.Elem(NSRoster, "query").Add(xmpp.Elem(NSRoster, "item", "jid", jid, "subscription", "remove")))
			s.m.link.SendIQ(s.ctx, iq, 30*time.Second, func(*xmpp.Element, error) {})
		} else {
			for _, t := range []string{"unsubscribe", "unsubscribed"} {
				s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", t, "from", jid, "to", s.user))
			}
		}
	}
}
