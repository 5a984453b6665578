package session

import (
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/adhoc"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/gatewayiq"
	"github.com/xmppgw/gateway/host/xmpp/register"
	"github.com/xmppgw/gateway/host/xmpp/search"
)

// Features are the disco features the session layer adds to the gateway JID: registration
// (XEP-0077), ad-hoc commands (XEP-0050), the gateway prompt (XEP-0100) and search (XEP-0055).
func (m *Manager) Features() []string {
	return []string{register.NS, adhoc.NS, gatewayiq.NS, search.NS}
}

// handleGatewayIQ takes the IQs to the gateway JID that need the session layer: registration
// (XEP-0077), ad-hoc commands (XEP-0050) with their disco nodes, the gateway prompt (XEP-0100)
// and search (XEP-0055). It reports false for the rest, which the gateway answers itself
// (disco, ping, version).
func (m *Manager) handleGatewayIQ(st *xmpp.Element, user string) bool {
	if len(st.Children) != 1 {
		return false
	}
	q := st.Children[0]
	switch q.Name.Space {
	case register.NS:
		m.handleRegisterIQ(st, user, q)
		return true
	case adhoc.NS:
		m.handleCommand(st, user, q)
		return true
	case disco.NSInfo, disco.NSItems:
		return m.handleCommandDisco(st, user, q)
	case gatewayiq.NS:
		m.handleGatewayPrompt(st, user, q)
		return true
	case search.NS:
		m.handleSearchIQ(st, user, q)
		return true
	}
	return false
}

// handleGatewayPrompt serves jabber:iq:gateway (XEP-0100): a get gives the prompt, a set turns
// what the user typed into the contact's puppet JID, through the plugin's search.
func (m *Manager) handleGatewayPrompt(st *xmpp.Element, user string, q *xmpp.Element) {
	if !m.Allowed(user) {
		m.refuse(st, errForbidden)
		return
	}
	switch st.Get("type") {
	case "get":
		m.send(xmpp.IQResult(st, gatewayiq.Prompt("Enter the "+m.cfg.Name+" user name or phone number of the person", "Contact")))
	case "set":
		text, err := gatewayiq.ParsePrompt(q)
		if err != nil {
			m.refuse(st, stanzaError(err))
			return
		}
		s := m.searchSession(st, user)
		if s == nil {
			return
		}
		m.queue(s, st, func() {
			s.searchTimed(text, func(jid, _, errText string) {
				if errText != "" {
					m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found", Text: errText})
					return
				}
				m.send(xmpp.IQResult(st, gatewayiq.JID(jid)))
			})
		})
	default:
		m.refuse(st, errBadRequest)
	}
}

// stanzaError returns err as a stanza error: itself if it is one, else bad-request.
func stanzaError(err error) *xmpp.StanzaError {
	if se, ok := err.(*xmpp.StanzaError); ok {
		return se
	}
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: err.Error()}
}
