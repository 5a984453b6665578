package session

import (
	"errors"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/xmpp"
)

// Stanza errors the session layer answers with.
var (
	errForbidden = &xmpp.StanzaError{Type: xmpp.ErrTypeAuth, Condition: "forbidden",
		Text: "this gateway is not open to your server"}
	errNotRegistered = &xmpp.StanzaError{Type: xmpp.ErrTypeAuth, Condition: "registration-required",
		Text: "register with the gateway first"}
	errQueueFull = &xmpp.StanzaError{Type: xmpp.ErrTypeWait, Condition: "resource-constraint",
		Text: "the gateway is busy with your earlier requests: try again shortly"}
	errShuttingDown = &xmpp.StanzaError{Type: xmpp.ErrTypeWait, Condition: "service-unavailable",
		Text: "the gateway is restarting: try again shortly"}
	errBadRequest = &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request"}
)

// HandleStanza handles a stanza from a user to the gateway JID or to a puppet. It runs on the
// link's reader goroutine: it only decides and queues, never waits. It reports whether the
// stanza was taken (false: the gateway answers it itself, e.g. disco on the gateway JID).
func (m *Manager) HandleStanza(st *xmpp.Element) bool {
	from := st.Get("from")
	user := xmpp.Bare(from)
	local, _, _ := xmpp.SplitJID(st.Get("to"))
	typ := st.Get("type")
	if typ == "error" {
		return m.handleErrorStanza(st, user, local)
	}

	if st.Name.Local == xmpp.KindMessage && local != "" {
		if _, ok := m.injected.LoadAndDelete(st.Get("id")); ok {
			return true // our own carbon, routed back by the server
		}
	}
	if st.Name.Local == xmpp.KindIQ && local == "" {
		return m.handleGatewayIQ(st, user)
	}
	if !m.Allowed(user) {
		m.refuse(st, errForbidden)
		return true
	}
	s := m.lookup(user)
	if st.Name.Local == xmpp.KindPresence {
		if s != nil {
			m.queue(s, st, func() { s.onPresence(st, local) })
		} else if local == "" && typ == "subscribe" {
			// Anyone allowed may add the gateway itself; registration comes next.
			m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "subscribed", "from", st.Get("to"), "to", user))
		}
		return true
	}
	if s == nil {
		m.refuse(st, errNotRegistered)
		return true
	}
	switch {
	case st.Name.Local == xmpp.KindMessage && local == "":
		m.queue(s, st, func() { s.onGatewayMessage(st) })
	case st.Name.Local == xmpp.KindMessage:
		m.queue(s, st, func() { s.onPuppetMessage(st, local) })
	case st.Name.Local == xmpp.KindIQ:
		m.queue(s, st, func() { s.onPuppetIQ(st, local) })
	default:
		return false
	}
	return true
}

// queue hands work for a stanza to the session, refusing the stanza if the session cannot take it.
func (m *Manager) queue(s *Session, st *xmpp.Element, f func()) {
	switch err := s.enqueue(f); {
	case err == nil:
	case errors.Is(err, ErrQueueFull):
		m.log.Warn("session queue full: stanza refused", "user", s.user, "kind", st.Name.Local, "id", st.Get("id"))
		m.refuse(st, errQueueFull)
	default:
		m.refuse(st, errShuttingDown)
	}
}

// refuse answers a stanza with an error (never an error with an error).
func (m *Manager) refuse(st *xmpp.Element, se *xmpp.StanzaError) {
	if st.Get("type") == "error" {
		return
	}
	if st.Name.Local == xmpp.KindPresence && st.Get("type") != "subscribe" && st.Get("type") != "probe" {
		return // plain presence gets no error: clients broadcast it to every contact
	}
	m.send(xmpp.ErrorReply(st, se))
}

// handleErrorStanza notes errors the user's server or client sent back.
func (m *Manager) handleErrorStanza(st *xmpp.Element, user, local string) bool {
	m.log.Debug("error stanza from user side", "kind", st.Name.Local, "from", user, "to_local", local, "id", st.Get("id"))
	return true
}

// onPresence handles a presence from the user to the gateway or a puppet.
func (s *Session) onPresence(st *xmpp.Element, local string) {
	typ := st.Get("type")
	if local == "" {
		switch typ {
		case "", "probe":
			// The user came online (or asks): show the gateway's state and every cached presence.
			s.sendGatewayPresence()
			if typ == "" {
				s.resendPresences()
			}
		case "subscribe":
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "subscribed", "from", s.m.cfg.JID, "to", s.user))
			s.sendGatewayPresence()
		}
		return
	}
	c, ok := s.resolve(st, local)
	if !ok {
		return
	}
	jid := s.puppetJID(c)
	switch typ {
	case "probe":
		if c.Friend {
			s.sendPresence(c, true)
		}
	case "subscribe":
		if c.Friend {
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "subscribed", "from", jid, "to", s.user))
			c.InRoster = true
			s.roster.MarkDirty(c)
			s.sendPresence(c, true)
			return
		}
		status, _, err := s.deliver(abi.EventFriendRequest, nil, abi.ContactRef{LegacyID: c.LegacyID})
		if err == nil && (status == abi.StatusUnhandled || c.Friend) {
			// Default: accept.
			c.Friend, c.InRoster = true, true
			s.roster.MarkDirty(c)
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "subscribed", "from", jid, "to", s.user))
			s.sendPresence(c, true)
		}
	case "subscribed":
		c.InRoster = true
		s.roster.MarkDirty(c)
		s.sendPresence(c, true)
	}
}

// resendPresences sends every friend's cached presence again, for a user who just came online.
func (s *Session) resendPresences() {
	for _, c := range s.roster.All() {
		if c.Friend && c.Ready {
			s.sendPresence(c, true)
		}
	}
}

// resolve finds the contact a stanza to a puppet is for: in the roster by local part, else
// through the plugin's jid_username_to_legacy_id (default: XEP-0106 unescaping). An unknown or
// invalid one is answered with item-not-found.
func (s *Session) resolve(st *xmpp.Element, local string) (*roster.Contact, bool) {
	if c := s.roster.ByUsername(local); c != nil {
		return c, true
	}
	id, err := s.legacyID(local)
	if err != nil {
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found",
			Text: "no such contact on " + s.m.cfg.Name + ": " + err.Error()})
		return nil, false
	}
	c, err := s.contact(id, local)
	if err != nil {
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found", Text: errText(err)})
		return nil, false
	}
	return c, true
}

// legacyID maps a JID local part to a legacy id with the plugin's hook or the default.
func (s *Session) legacyID(local string) (string, error) {
	status, reply, err := s.deliver(abi.EventJIDToLegacy, nil, abi.JIDToLegacy{Username: local})
	if err != nil {
		return "", errors.New(errText(err))
	}
	if status == abi.StatusUnhandled {
		return unescapeLocal(local)
	}
	var r abi.JIDToLegacyReply
	if err := jsonUnmarshal(reply, &r); err != nil || r.LegacyID == "" {
		return "", errors.New("the plugin gave no legacy id")
	}
	return r.LegacyID, nil
}

// onGatewayMessage handles a chat message to the gateway JID: the answer to a prompt, or a command.
func (s *Session) onGatewayMessage(st *xmpp.Element) {
	body := st.Child(xmpp.NSComponent, "body")
	if body == nil || st.Get("type") == "groupchat" {
		return // chat states and markers to the gateway mean nothing
	}
	text := strings.TrimSpace(body.Text)
	if s.answerPrompt(text) {
		return
	}
	s.command(text)
}

// command runs a chat command sent to the gateway.
func (s *Session) command(text string) {
	word, arg, _ := strings.Cut(text, " ")
	switch strings.ToLower(word) {
	case "help":
		s.gatewayMessage("Commands: help, status, re-login, find <phone number or user name>.")
	case "status":
		s.gatewayMessage("Session: " + s.state.String() + ". " + s.status)
	case "re-login", "relogin":
		s.relogin()
	case "find", "search":
		s.search(strings.TrimSpace(arg), func(jid, errText string) {
			if errText != "" {
				s.gatewayMessage("Not found: " + errText)
				return
			}
			s.gatewayMessage("Found: xmpp:" + jid + " — add it to your contacts or write to it.")
		})
	default:
		s.gatewayMessage("Unknown command " + quote(word) + ". Send \"help\" for the list.")
	}
}

// relogin logs the session in again with the stored registration.
func (s *Session) relogin() {
	u, err := s.m.st.User(s.ctx, s.m.cfg.JID, s.user)
	if err != nil {
		s.gatewayMessage("Cannot log in again: " + err.Error())
		return
	}
	if s.state == StateConnected {
		s.deliver(abi.EventLogout, nil, nil)
	}
	var values abi.Values
	_ = jsonUnmarshal(u.Form, &values)
	s.login(values)
}

// search asks the plugin to resolve what the user typed; done gets the puppet JID or an error.
func (s *Session) search(query string, done func(jid, errText string)) {
	if query == "" {
		done("", "say what to look for: a phone number or a user name")
		return
	}
	var timer *time.Timer
	id := s.newRequest(func(why, legacyID string) {
		timer.Stop()
		if why != "" || legacyID == "" {
			if why == "" {
				why = "nothing found"
			}
			done("", why)
			return
		}
		c, err := s.contact(legacyID, "")
		if err != nil {
			done("", errText(err))
			return
		}
		done(s.puppetJID(c), "")
	})
	timer = time.AfterFunc(s.m.cfg.RequestTimeout, func() {
		s.post(func() {
			if _, ok := s.requests[id]; ok {
				delete(s.requests, id)
				done("", "the network did not answer in time")
			}
		})
	})
	status, _, err := s.deliver(abi.EventSearch, nil, abi.Search{Request: id, Query: query})
	if _, pending := s.requests[id]; pending && (err != nil || status == abi.StatusUnhandled) {
		timer.Stop()
		delete(s.requests, id)
		msg := "search is not supported by this network"
		if err != nil {
			msg = errText(err)
		}
		done("", msg)
	}
}

func quote(s string) string { return "\"" + s + "\"" }
