package session

import (
	"strings"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/search"
)

// searchField is the one field of the search form (XEP-0055).
const searchField = "query"

// searchForm is the form answering a jabber:iq:search get.
func (m *Manager) searchForm() *form.Form {
	return &form.Form{
		Title: "Find a contact on " + m.cfg.Name,
		Fields: []form.Field{{Var: searchField, Type: form.TextSingle, Label: "Phone number or user name",
			Required: true}},
	}
}

// searchReported are the columns of a search result.
var searchReported = []form.Field{
	{Var: "jid", Type: form.JIDSingle, Label: "JID"},
	{Var: "name", Label: "Name"},
}

// handleSearchIQ serves jabber:iq:search (XEP-0055) on the gateway JID: a get gives the form, a
// set asks the plugin's search and answers a result table with the contact found (none when the
// network found nobody, with the reason as the result's instructions).
func (m *Manager) handleSearchIQ(st *xmpp.Element, user string, q *xmpp.Element) {
	if !m.Allowed(user) {
		m.refuse(st, errForbidden)
		return
	}
	switch st.Get("type") {
	case "get":
		m.send(xmpp.IQResult(st, search.Query("Find a contact on "+m.cfg.Name+" by phone number or user name.", m.searchForm())))
	case "set":
		values, err := search.ParseRequest(q)
		if err != nil {
			m.refuse(st, stanzaError(err))
			return
		}
		text := searchText(values)
		if text == "" {
			m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request",
				Text: "say what to look for: a phone number or a user name"})
			return
		}
		s := m.searchSession(st, user)
		if s == nil {
			return
		}
		m.queue(s, st, func() {
			s.searchTimed(text, func(jid, name, errText string) {
				if errText != "" {
					r := search.Result(searchReported, nil)
					if x := r.Child(form.NS, "x"); x != nil {
						x.Children = append([]*xmpp.Element{xmpp.Elem(form.NS, "instructions").WithText("Nothing found: " + errText)}, x.Children...)
					}
					m.send(xmpp.IQResult(st, r))
					return
				}
				m.send(xmpp.IQResult(st, search.Result(searchReported, []map[string]string{{"jid": jid, "name": name}})))
			})
		})
	default:
		m.refuse(st, errBadRequest)
	}
}

// searchText picks what to look for in a search request: the form's query field, else the
// first legacy field filled in.
func searchText(values map[string]string) string {
	for _, k := range []string{searchField, "nick", "first", "last", "email"} {
		if v := strings.TrimSpace(values[k]); v != "" {
			return v
		}
	}
	return ""
}

// searchSession returns the session of a registered user for a search, or answers st with
// registration-required (or why the session cannot start) and returns nil. A registered user
// whose session stopped gets it started again.
func (m *Manager) searchSession(st *xmpp.Element, user string) *Session {
	if !m.isRegistered(user) {
		m.refuse(st, errNotRegistered)
		return nil
	}
	s, err := m.session(user, true)
	if err != nil {
		m.refuse(st, errShuttingDown)
		return nil
	}
	return s
}

// searchTimed runs s.search, on the actor, and calls done exactly once: with the puppet JID and
// the contact's name if known, or with why nothing was found, including when the plugin did not
// answer within the request timeout.
func (s *Session) searchTimed(query string, done func(jid, name, errText string)) {
	finished := false
	timer := time.AfterFunc(s.m.cfg.RequestTimeout, func() {
		s.post(func() {
			if !finished {
				finished = true
				done("", "", "the network did not answer in time: try again")
			}
		})
	})
	s.search(query, func(jid, errText string) {
		timer.Stop()
		if finished {
			return
		}
		finished = true
		if errText == "" && jid == "" {
			errText = "nothing found"
		}
		if errText != "" {
			done("", "", errText)
			return
		}
		name := ""
		if local, _, _ := xmpp.SplitJID(jid); local != "" {
			if c := s.roster.ByUsername(local); c != nil {
				name = c.Name
			}
		}
		done(jid, name, "")
	})
}
