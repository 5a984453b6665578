// Package gatewayiq implements the jabber:iq:gateway protocol of XEP-0100: Gateway
// Interaction, gateway side.
//
// It lets a client turn a legacy address that the user types (an e-mail address, a phone
// number) into the contact's JID without knowing the gateway's escaping rules: the client gets
// the prompt (Prompt), sets the typed address (ParsePrompt) and receives the JID (JID). The
// session layer computes the JID, normally with package jidesc.
package gatewayiq

import (
	"strings"

	"github.com/xmppgw/gateway/host/xmpp"
)

// NS is the jabber:iq:gateway namespace.
const NS = "jabber:iq:gateway"

// Prompt returns the <query/> payload answering a get: desc explains what to enter (may be
// empty), prompt labels the input field (e.g. "Phone number").
func Prompt(desc, prompt string) *xmpp.Element {
	q := xmpp.Elem(NS, "query")
	if desc != "" {
		q.Add(xmpp.Elem(NS, "desc").WithText(desc))
	}
	return q.Add(xmpp.Elem(NS, "prompt").WithText(prompt))
}

// ParsePrompt returns the legacy address that a set carries in <prompt/>, with surrounding
// white space removed since users paste addresses. An empty or missing prompt is a
// bad-request *xmpp.StanzaError.
func ParsePrompt(query *xmpp.Element) (string, error) {
	if query == nil || query.Name.Space != NS || query.Name.Local != "query" {
		return "", badRequest("not a jabber:iq:gateway query")
	}
	p := query.Child(NS, "prompt")
	if p == nil {
		return "", badRequest("missing <prompt/>")
	}
	s := strings.TrimSpace(p.Text)
	if s == "" {
		return "", badRequest("empty <prompt/>")
	}
	return s, nil
}

// JID returns the <query/> payload answering a set: the contact's JID in <jid/>, the element
// XEP-0100 specifies (and that current clients such as Conversations read).
func JID(jid string) *xmpp.Element {
	return xmpp.Elem(NS, "query").Add(xmpp.Elem(NS, "jid").WithText(jid))
}

func badRequest(text string) *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "gateway: " + text}
}
