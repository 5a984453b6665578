package session

import (
	"slices"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/nick"
)

// NSRoster is the roster namespace (RFC 6121).
const NSRoster = "jabber:iq:roster"

// rosterItem is an item of the user's real roster, as the privileged roster get returned it.
type rosterItem struct {
	name         string
	groups       []string
	subscription string
}

// fetchUserRoster reads the user's real roster (XEP-0356), so that only changes are pushed. The
// answer is applied on the actor; until it arrives nothing is pushed.
func (s *Session) fetchUserRoster() {
	if !s.m.link.RosterPrivilege(s.domain) {
		return
	}
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "get", "from", s.m.cfg.JID, "to", s.user).
		Add(xmpp.Elem(NSRoster, "query"))
	s.m.link.SendIQ(s.ctx, iq, 30*time.Second, func(resp *xmpp.Element, err error) {
		s.post(func() {
			if err != nil || resp.Get("type") != "result" {
				s.log.Warn("privileged roster get failed; pushing every contact", "err", err)
				s.userRoster = map[string]rosterItem{}
			} else {
				s.userRoster = parseRoster(resp.Child(NSRoster, "query"))
			}
			s.syncAll()
		})
	})
}

func parseRoster(q *xmpp.Element) map[string]rosterItem {
	items := map[string]rosterItem{}
	if q == nil {
		return items
	}
	for _, it := range q.Children {
		if it.Name.Local != "item" {
			continue
		}
		ri := rosterItem{name: it.Get("name"), subscription: it.Get("subscription")}
		for _, g := range it.Children {
			if g.Name.Local == "group" {
				ri.groups = append(ri.groups, g.Text)
			}
		}
		items[it.Get("jid")] = ri
	}
	return items
}

// syncRoster brings the user's roster and the puppets' presence in line with the contacts that
// changed: friends are pushed (privileged) or ask for subscription, and presence changes are
// sent.
func (s *Session) syncRoster() { s.sync(false) }

// syncAll is syncRoster over every contact, when the user's roster or the session state changed.
func (s *Session) syncAll() { s.sync(true) }

func (s *Session) sync(all bool) {
	if s.state != StateConnected {
		return
	}
	privileged := s.m.link.RosterPrivilege(s.domain)
	if privileged && s.userRoster == nil {
		return // the user's roster is on its way
	}
	groups := []string{s.m.cfg.Group}
	if privileged {
		// The gateway itself belongs in the roster too, so the user sees its state.
		s.pushIfChanged(s.m.cfg.JID, s.m.cfg.Name, groups)
	}
	contacts := s.roster.TakeChanged()
	if all {
		contacts = s.roster.All()
	}
	for _, c := range contacts {
		if !c.Friend || !c.Ready {
			continue
		}
		name := c.Name
		if name == "" {
			name = c.LegacyID
		}
		jid := s.puppetJID(c)
		if privileged {
			s.pushIfChanged(jid, name, groups)
		} else if !c.InRoster {
			// Without the privilege the puppet asks; the user's client shows a request.
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "subscribe", "from", jid, "to", s.user).
				Add(nick.Element(name)))
			c.InRoster = true
			s.roster.MarkDirty(c)
		}
		s.sendPresence(c, false)
	}
}

// pushIfChanged pushes a roster item unless the user's roster already has it as wanted.
func (s *Session) pushIfChanged(jid, name string, groups []string) {
	have, ok := s.userRoster[jid]
	if ok && have.name == name && slices.Equal(have.groups, groups) && have.subscription == "both" {
		return
	}
	s.pushRosterItem(jid, name, groups)
	s.userRoster[jid] = rosterItem{name: name, groups: groups, subscription: "both"}
	s.m.rosterPushes.Add(1)
}

// pushRosterItem adds or updates a puppet in the user's roster with a privileged roster set.
func (s *Session) pushRosterItem(jid, name string, groups []string) {
	item := xmpp.Elem(NSRoster, "item", "jid", jid, "name", name, "subscription", "both")
	for _, g := range groups {
		item.Add(xmpp.Elem(NSRoster, "group").WithText(g))
	}
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "set", "from", s.m.cfg.JID, "to", s.user).
		Add(xmpp.Elem(NSRoster, "query").Add(item))
	s.m.link.SendIQ(s.ctx, iq, 5*time.Minute, func(resp *xmpp.Element, err error) {
		s.m.rosterPushesDone.Add(1)
		if err != nil || resp.Get("type") != "result" {
			s.log.Warn("roster push refused", "puppet", jid, "err", err, "answer", resp)
		}
	})
}

// sendPresence sends the puppet's presence if it changed since last sent (or always, with force).
func (s *Session) sendPresence(c *roster.Contact, force bool) {
	p := c.Presence
	if p.Show == "" {
		return
	}
	key := presenceKey(c)
	if !force && c.SentPresence == key {
		return
	}
	c.SentPresence = key
	s.roster.MarkDirty(c)
	s.m.send(s.presenceStanza(c))
}

func presenceKey(c *roster.Contact) string {
	h := ""
	if c.Avatar != nil {
		h = c.Avatar.Hash
	}
	return string(c.Presence.Show) + "|" + c.Presence.Status + "|" + h + "|" + c.ClientType
}

// presenceStanza builds the puppet's presence from the cached state.
func (s *Session) presenceStanza(c *roster.Contact) *xmpp.Element {
	p := xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "from", s.puppetJID(c), "to", s.user)
	switch c.Presence.Show {
	case abi.ShowOffline:
		p.Set("type", "unavailable")
	case abi.ShowAway, abi.ShowXA, abi.ShowDND, abi.ShowChat:
		p.Add(xmpp.Elem(xmpp.NSComponent, "show").WithText(string(c.Presence.Show)))
	}
	if c.Presence.Status != "" {
		p.Add(xmpp.Elem(xmpp.NSComponent, "status").WithText(c.Presence.Status))
	}
	if c.Presence.Show != abi.ShowOffline {
		s.decoratePresence(p, c)
	}
	return p
}

// setAvatar stores a contact's picture.
func (s *Session) setAvatar(c *roster.Contact, a *abi.Avatar) error {
	return s.storeAvatar(c, a)
}
