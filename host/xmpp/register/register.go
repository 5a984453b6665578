// Package register implements XEP-0077: In-Band Registration, gateway side.
//
// A user registers with the gateway (gives it the credentials of the legacy account) by
// sending it an IQ in the jabber:iq:register namespace. This package builds the answer to the
// get and parses the set; the session layer does the rest (checking, storing, logging in,
// answering with an empty result or an error).
//
// The registration fields come from the plugin as a data form. Query sends the form and
// <instructions/> only, not the fixed legacy fields (<username/>, <password/>, ...): a
// gateway's fields (a phone number, a token, a server) rarely map onto that fixed set, and a
// client that sees both may submit the legacy fields and leave out the rest. The instructions
// are what a client without data form support shows (XEP-0077 section 6 recommends pointing
// such users elsewhere). ParseRequest still accepts legacy fields, as values named after their
// element.
package register

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

// NS is the XEP-0077 namespace.
const NS = "jabber:iq:register"

// Query returns the <query xmlns='jabber:iq:register'/> payload answering a registration get:
// <registered/> when the requester already is registered (f then usually carries the current
// values), the instructions, and the form f (nil for none) with a hidden FORM_TYPE field of NS
// added unless f has one.
func Query(instructions string, registered bool, f *form.Form) *xmpp.Element {
	q := xmpp.Elem(NS, "query")
	if registered {
		q.Add(xmpp.Elem(NS, "registered"))
	}
	if instructions != "" {
		q.Add(xmpp.Elem(NS, "instructions").WithText(instructions))
	}
	if f != nil {
		q.Add(f.WithFormType(NS).Element())
	}
	return q
}

// Request is a parsed registration set: either a cancellation of the registration or the
// submitted values.
type Request struct {
	// Remove is true for <remove/>: the user unregisters. Values is nil then.
	Remove bool
	// Values maps field names to values (form.Form.Values), FORM_TYPE left out. Legacy
	// fields are included under their element name (username, password, ...); a form field
	// of the same name wins.
	Values map[string]string
}

// ParseRequest reads the <query/> of a registration set. A <remove/> child makes a removal
// whatever else the query holds. Otherwise the query must hold a submitted data form or legacy
// fields. Errors are bad-request *xmpp.StanzaError.
func ParseRequest(query *xmpp.Element) (Request, error) {
	if query == nil || query.Name.Space != NS || query.Name.Local != "query" {
		return Request{}, badRequest("not a jabber:iq:register query")
	}
	if query.Child(NS, "remove") != nil {
		return Request{Remove: true}, nil
	}
	values := map[string]string{}
	found := false
	for c := range query.ChildrenNS(NS) {
		switch c.Name.Local {
		case "instructions", "registered":
			continue
		}
		values[c.Name.Local] = c.Text
		found = true
	}
	if x := query.Child(form.NS, "x"); x != nil {
		f, err := form.Parse(x)
		if err != nil {
			return Request{}, err
		}
		if f.Type != form.TypeSubmit {
			return Request{}, badRequest("registration form of type %q, want submit", f.Type)
		}
		for k, v := range f.Values() {
			values[k] = v
		}
		found = true
	}
	if !found {
		return Request{}, badRequest("registration without fields")
	}
	delete(values, form.FormType)
	return Request{Values: values}, nil
}

func badRequest(format string, args ...any) *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "registration: " + fmt.Sprintf(format, args...)}
}
