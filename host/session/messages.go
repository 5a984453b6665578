package session

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces of the messaging XEPs the session speaks.
const (
	nsChatStates = "http://jabber.org/protocol/chatstates" // XEP-0085
	nsReceipts   = "urn:xmpp:receipts"                     // XEP-0184
	nsMarkers    = "urn:xmpp:chat-markers:0"               // XEP-0333
	nsCorrect    = "urn:xmpp:message-correct:0"            // XEP-0308
	nsRetract    = "urn:xmpp:message-retract:1"            // XEP-0424
	nsReactions  = "urn:xmpp:reactions:0"                  // XEP-0444
	nsHints      = "urn:xmpp:hints"                        // XEP-0334
	nsStanzaID   = "urn:xmpp:sid:0"                        // XEP-0359
	nsDelay      = "urn:xmpp:delay"                        // XEP-0203
	nsReply      = "urn:xmpp:reply:0"                      // XEP-0461
	nsFallback   = "urn:xmpp:fallback:0"                   // XEP-0428
	nsOOB        = "jabber:x:oob"                          // XEP-0066
	nsPrivilege  = "urn:xmpp:privilege:2"                  // XEP-0356
	nsForward    = "urn:xmpp:forward:0"                    // XEP-0297
)

// messageCalls are the host calls that become messages to the user.
var messageCalls = map[abi.Method]handler{
	abi.CallContactText: withReq(func(s *Session, r abi.ContactText) ([]byte, error) {
		return s.fromContact(r.MsgMeta, r.ID, func(m *xmpp.Element, c *roster.Contact) {
			text := r.Text
			if r.ReplyTo != "" {
				text = s.addReply(m, c, r.ReplyTo, r.ReplyText, text)
			}
			m.Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(text), xmpp.Elem(nsMarkers, "markable"))
		})
	}),
	abi.CallContactFile: withReq(func(s *Session, r abi.ContactFile) ([]byte, error) {
		return s.contactFile(r)
	}),
	abi.CallContactCorrect: withReq(func(s *Session, r abi.ContactCorrect) ([]byte, error) {
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, c *roster.Contact) {
			m.Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(r.Text),
				xmpp.Elem(nsCorrect, "replace", "id", s.xmppID(c, r.ID)))
		})
	}),
	abi.CallContactRetract: withReq(func(s *Session, r abi.ContactMsgRef) ([]byte, error) {
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, c *roster.Contact) {
			m.Add(xmpp.Elem(nsRetract, "retract", "id", s.xmppID(c, r.ID)),
				xmpp.Elem(nsFallback, "fallback", "for", nsRetract),
				xmpp.Elem(xmpp.NSComponent, "body").WithText("/me retracted a message"),
				xmpp.Elem(nsHints, "store"))
		})
	}),
	abi.CallContactReact: withReq(func(s *Session, r abi.ContactReact) ([]byte, error) {
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, c *roster.Contact) {
			re := xmpp.Elem(nsReactions, "reactions", "id", s.xmppID(c, r.ID))
			for _, e := range r.Reactions {
				re.Add(xmpp.Elem(nsReactions, "reaction").WithText(e))
			}
			m.Add(re, xmpp.Elem(nsHints, "store"))
		})
	}),
	abi.CallContactDisplayed: withReq(func(s *Session, r abi.ContactMsgRef) ([]byte, error) {
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, c *roster.Contact) {
			m.Add(xmpp.Elem(nsMarkers, "displayed", "id", s.xmppID(c, r.ID)))
		})
	}),
	abi.CallContactReceived: withReq(func(s *Session, r abi.ContactMsgRef) ([]byte, error) {
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, c *roster.Contact) {
			id := s.xmppID(c, r.ID)
			m.Add(xmpp.Elem(nsReceipts, "received", "id", id), xmpp.Elem(nsMarkers, "received", "id", id))
		})
	}),
	abi.CallContactState: withReq(func(s *Session, r abi.ContactState) ([]byte, error) {
		switch r.State {
		case abi.StateActive, abi.StateComposing, abi.StatePaused, abi.StateInactive, abi.StateGone:
		default:
			return nil, abi.Errorf(abi.CodeBadRequest, "unknown chat state %q", r.State)
		}
		return s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, _ *roster.Contact) {
			m.Add(xmpp.Elem(nsChatStates, string(r.State)), xmpp.Elem(nsHints, "no-store"))
		})
	}),
	abi.CallMessageSent: withReq(func(s *Session, r abi.MessageSent) ([]byte, error) {
		return s.messageSent(r)
	}),
	abi.CallMessageFailed: withReq(func(s *Session, r abi.MessageFailed) ([]byte, error) {
		return s.messageFailed(r)
	}),
}

// fromContact builds and sends a message from a contact's puppet. id is the network's id of a
// new message (empty for actions on earlier messages); it is mapped to the XMPP id used.
func (s *Session) fromContact(meta abi.MsgMeta, id string, fill func(*xmpp.Element, *roster.Contact)) ([]byte, error) {
	c := s.roster.Get(meta.LegacyID)
	if c == nil {
		var err error
		if c, err = s.contact(meta.LegacyID, ""); err != nil {
			return nil, err
		}
	}
	if id != "" {
		// Network events are idempotent by network id: a message seen before is not sent again.
		if _, err := s.m.st.XMPPMsgID(s.ctx, s.m.cfg.JID, s.user, c.LegacyID, id); err == nil {
			s.m.duplicates.Add(1)
			return empty, nil
		}
	}
	xid := s.newMessageID()
	m := xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", xid, "from", s.puppetJID(c), "to", s.user)
	if meta.Carbon {
		m.Set("from", s.user)
		m.Set("to", s.puppetJID(c))
	}
	fill(m, c)
	if id != "" {
		m.Add(xmpp.Elem(nsStanzaID, "stanza-id", "id", xid, "by", s.user))
		// Committed no later than the outbox's copy of m, which is queued after it.
		s.m.later.PutMsgID(s.m.cfg.JID, s.user, c.LegacyID, xid, id)
	}
	if meta.When > 0 {
		m.Add(xmpp.Elem(nsDelay, "delay", "from", s.m.cfg.JID,
			"stamp", time.UnixMilli(meta.When).UTC().Format("2006-01-02T15:04:05.000Z")))
	}
	if meta.Carbon {
		s.sendCarbon(m, c)
		return empty, nil
	}
	s.m.send(m)
	return empty, nil
}

// sendCarbon sends what the user did from another client of the network. With the message
// privilege (XEP-0356) it is sent as the user, so the user's server makes carbons and archive
// entries; the server routes that message on to the puppet, where HandleStanza recognises and
// drops it. Without the privilege only texts get through, from the puppet with a visible prefix;
// the user's own markers, reactions, corrections and retractions are dropped.
func (s *Session) sendCarbon(m *xmpp.Element, c *roster.Contact) {
	if s.m.link.MessagePrivilege(s.domain) {
		s.m.rememberInjected(m.Get("id"))
		s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "from", s.m.cfg.JID, "to", s.domain).Add(
			xmpp.Elem(nsPrivilege, "privilege").Add(
				xmpp.Elem(nsForward, "forwarded").Add(m.Renamespace(xmpp.NSComponent, "jabber:client")))))
		return
	}
	body := m.Child(xmpp.NSComponent, "body")
	if body == nil || m.ChildNS(nsCorrect) != nil || m.ChildNS(nsRetract) != nil {
		return
	}
	body.Text = s.m.cfg.CarbonPrefix + body.Text
	m.Set("from", s.puppetJID(c))
	m.Set("to", s.user)
	s.m.send(m)
}

// xmppID maps a network message id to the XMPP id the user knows; unknown ids pass through.
func (s *Session) xmppID(c *roster.Contact, legacyID string) string {
	if id, err := s.m.st.XMPPMsgID(s.ctx, s.m.cfg.JID, s.user, c.LegacyID, legacyID); err == nil {
		return id
	}
	return legacyID
}

// legacyMsgID maps an XMPP message id of the user's to the network's id; unknown ids pass through.
func (s *Session) legacyMsgID(c *roster.Contact, xmppID string) string {
	if id, err := s.m.st.LegacyMsgID(s.ctx, s.m.cfg.JID, s.user, c.LegacyID, xmppID); err == nil {
		return id
	}
	return xmppID
}

// addReply adds the XEP-0461 reply and its XEP-0428 fallback quote; it returns the body text.
func (s *Session) addReply(m *xmpp.Element, c *roster.Contact, replyTo, quoted, text string) string {
	m.Add(xmpp.Elem(nsReply, "reply", "id", s.xmppID(c, replyTo), "to", s.puppetJID(c)))
	if quoted == "" {
		return text
	}
	q := "> " + quoted + "\n"
	m.Add(xmpp.Elem(nsFallback, "fallback", "for", nsReply).
		Add(xmpp.Elem(nsFallback, "body", "start", "0", "end", strconv.Itoa(len([]rune(q))))))
	return q + text
}

func (s *Session) newMessageID() string {
	s.nextReq++
	return "gw" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(s.nextReq)
}

// sentMessage remembers what the user sent until the network answers.
type sentMessage struct {
	to       string // puppet JID
	legacyID string // contact
	receipt  bool   // the user asked for a receipt (XEP-0184) or markable
	stanza   *xmpp.Element
}

// onPuppetMessage handles a message from the user to a puppet.
func (s *Session) onPuppetMessage(st *xmpp.Element, local string) {
	if s.state != StateConnected {
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeWait, Condition: "recipient-unavailable",
			Text: "your session is not connected (" + s.state.String() + "): the message was not sent"})
		return
	}
	c, ok := s.resolve(st, local)
	if !ok {
		return
	}
	chat := &abi.Chat{ID: c.LegacyID, Kind: abi.ChatDirect}
	id := st.Get("id")
	if state := st.ChildNS(nsChatStates); state != nil {
		s.deliver(abi.EventChatState, chat, abi.ChatState{State: abi.State(state.Name.Local)})
	}
	if d := st.Child(nsMarkers, "displayed"); d != nil {
		s.deliver(abi.EventDisplayed, chat, abi.Displayed{Target: s.legacyMsgID(c, d.Get("id"))})
	}
	if r := st.Child(nsReactions, "reactions"); r != nil {
		react := abi.React{ID: id, Target: s.legacyMsgID(c, r.Get("id")), Reactions: []string{}}
		for _, e := range r.Children {
			if e.Name.Local == "reaction" {
				react.Reactions = append(react.Reactions, e.Text)
			}
		}
		s.userAction(st, c, abi.EventReact, chat, react)
		return
	}
	if r := st.Child(nsRetract, "retract"); r != nil {
		s.userAction(st, c, abi.EventRetract, chat, abi.Retract{ID: id, Target: s.legacyMsgID(c, r.Get("id"))})
		return
	}
	body := st.Child(xmpp.NSComponent, "body")
	if body == nil {
		return
	}
	if r := st.Child(nsCorrect, "replace"); r != nil {
		s.userAction(st, c, abi.EventCorrect, chat, abi.Correct{ID: id, Target: s.legacyMsgID(c, r.Get("id")), Text: body.Text})
		return
	}
	if f, ok := s.fileMessage(st, c, body.Text); ok {
		s.userAction(st, c, abi.EventFile, chat, f)
		return
	}
	t := abi.Text{ID: id, Text: body.Text}
	if o := st.Child(nsStanzaID, "origin-id"); o != nil {
		t.OriginID = o.Get("id")
	}
	if th := st.Child(xmpp.NSComponent, "thread"); th != nil {
		t.Thread = th.Text
	}
	if r := st.Child(nsReply, "reply"); r != nil {
		t.ReplyTo = s.legacyMsgID(c, r.Get("id"))
		t.Text = stripFallback(st, body.Text, nsReply)
	}
	s.userAction(st, c, abi.EventText, chat, t)
}

// userAction delivers something the user did in a chat; a failure becomes an error stanza.
func (s *Session) userAction(st *xmpp.Element, c *roster.Contact, ev abi.EventType, chat *abi.Chat, payload any) {
	id := st.Get("id")
	// A message is journalled until the network's verdict, so a crash cannot lose it.
	tracked := id != "" && (ev == abi.EventText || ev == abi.EventFile)
	if tracked {
		s.pending()[id] = &sentMessage{to: s.puppetJID(c), legacyID: c.LegacyID,
			receipt: st.Child(nsReceipts, "request") != nil || st.Child(nsMarkers, "markable") != nil, stanza: st}
		if err := s.m.st.JournalOpen(s.ctx, s.m.cfg.JID, s.user, id, string(st.AppendXML(nil, ""))); err != nil {
			s.log.Error("journal a message", "id", id, "err", err)
		}
	}
	if !tracked && id != "" {
		s.actions.add(id, st)
	}
	status, _, err := s.deliver(ev, chat, payload)
	switch {
	case err != nil:
		s.closeMessage(id)
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "undefined-condition",
			Text: "the gateway could not handle this message: " + errText(err)})
	case status == abi.StatusUnhandled:
		s.closeMessage(id)
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "feature-not-implemented",
			Text: "not supported by " + s.m.cfg.Name})
	}
}

// closeMessage forgets a message of the user's once the network's verdict is known.
func (s *Session) closeMessage(id string) {
	if _, ok := s.pending()[id]; !ok {
		return
	}
	delete(s.pending(), id)
	s.m.later.JournalClose(s.m.cfg.JID, s.user, id)
}

// replayJournal hands the plugin again the user's messages that had no verdict when the
// gateway stopped (a crash): nothing the user sent is lost.
func (s *Session) replayJournal() {
	items, err := s.m.st.JournalPending(s.ctx, s.m.cfg.JID, s.user)
	if err != nil {
		s.log.Error("read the message journal", "err", err)
		return
	}
	for _, it := range items {
		st, err := xmpp.ParseElement(it.Payload)
		if err != nil {
			s.log.Error("journalled message unreadable: dropped", "id", it.StanzaID, "err", err)
			_ = s.m.st.JournalClose(s.ctx, s.m.cfg.JID, s.user, it.StanzaID)
			continue
		}
		local, _, _ := xmpp.SplitJID(st.Get("to"))
		s.log.Info("message handed to the plugin again after a restart", "id", it.StanzaID)
		s.onPuppetMessage(st, local)
	}
}

// pending returns the user's messages the network has not confirmed yet.
func (s *Session) pending() map[string]*sentMessage {
	if s.sent == nil {
		s.sent = map[string]*sentMessage{}
	}
	return s.sent
}

func (s *Session) messageSent(r abi.MessageSent) ([]byte, error) {
	sm := s.pending()[r.ID]
	if sm == nil {
		return nil, abi.Errorf(abi.CodeNotFound, "no message %q awaiting confirmation", r.ID)
	}
	s.closeMessage(r.ID)
	if r.LegacyID != "" {
		s.m.later.PutMsgID(s.m.cfg.JID, s.user, sm.legacyID, r.ID, r.LegacyID)
	}
	if sm.receipt {
		s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "from", sm.to, "to", s.user, "id", s.newMessageID()).
			Add(xmpp.Elem(nsReceipts, "received", "id", r.ID), xmpp.Elem(nsMarkers, "received", "id", r.ID),
				xmpp.Elem(nsHints, "no-store")))
	}
	return empty, nil
}

func (s *Session) messageFailed(r abi.MessageFailed) ([]byte, error) {
	st := s.actions.take(r.ID)
	if st == nil {
		sm := s.pending()[r.ID]
		if sm == nil {
			return nil, abi.Errorf(abi.CodeNotFound, "no message %q awaiting confirmation", r.ID)
		}
		st = sm.stanza
		s.closeMessage(r.ID)
	}
	s.m.send(xmpp.ErrorReply(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "not-acceptable",
		Text: s.m.cfg.Name + " refused the " + actionKind(st) + ": " + r.Error}))
	return empty, nil
}

// actionKind names what a stanza of the user's does, for error texts.
func actionKind(st *xmpp.Element) string {
	switch {
	case st.Child(nsReactions, "reactions") != nil:
		return "reaction"
	case st.Child(nsRetract, "retract") != nil:
		return "retraction"
	case st.Child(nsCorrect, "replace") != nil:
		return "correction"
	}
	return "message"
}

// maxRecentActions bounds the corrections, retractions and reactions a session remembers for a
// late message.failed: the network's answer to one usually comes within seconds.
const maxRecentActions = 64

// recentActions remembers the user's latest corrections, retractions and reactions by id, so
// that the plugin can still fail one after its event (message.failed). They are not journalled:
// the plugin does not confirm them with message.sent.
type recentActions struct {
	byID  map[string]*xmpp.Element
	order []string // oldest first
}

func (r *recentActions) add(id string, st *xmpp.Element) {
	if r.byID == nil {
		r.byID = map[string]*xmpp.Element{}
	}
	if len(r.order) >= maxRecentActions {
		delete(r.byID, r.order[0])
		r.order = append(r.order[:0], r.order[1:]...)
	}
	r.byID[id] = st
	r.order = append(r.order, id)
}

// take returns and forgets the stanza with id, or nil.
func (r *recentActions) take(id string) *xmpp.Element {
	st := r.byID[id]
	delete(r.byID, id)
	return st
}

// stripFallback removes the fallback text (XEP-0428) for ns from body.
func stripFallback(st *xmpp.Element, body, ns string) string {
	for _, f := range st.Children {
		if f.Name.Space != nsFallback || f.Name.Local != "fallback" || f.Get("for") != ns {
			continue
		}
		runes := []rune(body)
		for _, b := range f.Children {
			if b.Name.Local != "body" {
				continue
			}
			start, err1 := strconv.Atoi(b.Get("start"))
			end, err2 := strconv.Atoi(b.Get("end"))
			if err1 != nil || err2 != nil || start < 0 || end > len(runes) || start > end {
				return body
			}
			return string(runes[:start]) + string(runes[end:])
		}
	}
	return body
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
