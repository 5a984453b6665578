package session

import (
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/register"
)

// Features are the disco features the session layer adds to the gateway JID.
func (m *Manager) Features() []string {
	return []string{register.NS}
}

// handleGatewayIQ takes the IQs to the gateway JID that need the session layer: registration
// (XEP-0077), ad-hoc commands (XEP-0050), the gateway prompt (XEP-0100) and search (XEP-0055).
// It reports false for the rest, which the gateway answers itself (disco, ping, version).
func (m *Manager) handleGatewayIQ(st *xmpp.Element, user string) bool {
	if len(st.Children) != 1 {
		return false
	}
	q := st.Children[0]
	switch q.Name.Space {
	case register.NS:
		m.handleRegisterIQ(st, user, q)
		return true
	}
	return false
}
