// Package nick implements XEP-0172: User Nickname, gateway side.
//
// The nickname a legacy contact chose travels in presence subscription requests and first
// messages from its puppet, so that the user's client can name a contact it does not know yet.
package nick

import (
	"errors"
	"strings"

	"github.com/xmppgw/gateway/host/xmpp"
)

// NS is the namespace of XEP-0172 (also its PEP node).
const NS = "http://jabber.org/protocol/nick"

// Element returns <nick xmlns='http://jabber.org/protocol/nick'>nick</nick>.
func Element(nick string) *xmpp.Element {
	return xmpp.Elem(NS, "nick").WithText(nick)
}

// Parse returns the nickname a <nick/> element carries, without surrounding white space
// (pretty-printing senders indent it).
func Parse(e *xmpp.Element) (string, error) {
	if e == nil || e.Name.Space != NS || e.Name.Local != "nick" {
		return "", errors.New("nick: not a <nick xmlns='" + NS + "'/> element")
	}
	return strings.TrimSpace(e.Text), nil
}
