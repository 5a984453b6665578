// Package search implements XEP-0055: Jabber Search, gateway side.
//
// A gateway offers search to find legacy contacts (by name, phone number, ...). The session
// layer answers a get with Query, parses the set with ParseRequest, asks the plugin, and
// answers with Result.
//
// Only the data form variant is written (as in package register, the fixed legacy fields
// <first/>, <last/>, <nick/>, <email/> rarely fit a legacy network); the instructions are what
// a client without data form support shows. ParseRequest still accepts legacy fields.
package search

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

// NS is the XEP-0055 namespace.
const NS = "jabber:iq:search"

// Query returns the <query xmlns='jabber:iq:search'/> payload answering a get: the
// instructions and the search form f (nil for none), with a hidden FORM_TYPE field of NS added
// unless f has one.
func Query(instructions string, f *form.Form) *xmpp.Element {
	q := xmpp.Elem(NS, "query")
	if instructions != "" {
		q.Add(xmpp.Elem(NS, "instructions").WithText(instructions))
	}
	if f != nil {
		q.Add(f.WithFormType(NS).Element())
	}
	return q
}

// ParseRequest returns the search criteria of a set's <query/>: the values of a submitted
// form (form.Form.Values, FORM_TYPE left out), and legacy fields under their element name
// (first, last, nick, email); a form field of the same name wins. A query with neither, or with
// a form that is not of type submit, is a bad-request *xmpp.StanzaError.
func ParseRequest(query *xmpp.Element) (map[string]string, error) {
	if query == nil || query.Name.Space != NS || query.Name.Local != "query" {
		return nil, badRequest("not a jabber:iq:search query")
	}
	values := map[string]string{}
	found := false
	for _, c := range query.Children {
		if c.Name.Space == NS && c.Name.Local != "instructions" {
			values[c.Name.Local] = c.Text
			found = true
		}
	}
	if x := query.Child(form.NS, "x"); x != nil {
		f, err := form.Parse(x)
		if err != nil {
			return nil, err
		}
		if f.Type != form.TypeSubmit {
			return nil, badRequest("search form of type %q, want submit", f.Type)
		}
		for k, v := range f.Values() {
			values[k] = v
		}
		found = true
	}
	if !found {
		return nil, badRequest("search without criteria")
	}
	delete(values, form.FormType)
	return values, nil
}

// Result returns the <query/> payload answering a set: a result form with a hidden FORM_TYPE
// field, reported as its columns (var, label and type of each) and one item per entry of
// items. Each item holds every reported field, in reported's order, with the entry's value for
// that var ("" when missing); values under other vars are left out.
func Result(reported []form.Field, items []map[string]string) *xmpp.Element {
	f := form.Form{
		Type:     form.TypeResult,
		Fields:   []form.Field{{Var: form.FormType, Type: form.Hidden, Values: []string{NS}}},
		Reported: make([]form.Field, len(reported)),
		Items:    make([][]form.Field, 0, len(items)),
	}
	for i, r := range reported {
		f.Reported[i] = form.Field{Var: r.Var, Type: r.Type, Label: r.Label}
	}
	for _, it := range items {
		row := make([]form.Field, len(reported))
		for i, r := range reported {
			row[i] = form.Field{Var: r.Var, Values: []string{it[r.Var]}}
		}
		f.Items = append(f.Items, row)
	}
	return xmpp.Elem(NS, "query").Add(f.Element())
}

func badRequest(format string, args ...any) *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "search: " + fmt.Sprintf(format, args...)}
}
