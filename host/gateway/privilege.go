package gateway

import (
	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces of XEP-0356: Privileged Entity (version 2, and version 1 as older servers send it).
const (
	NSPrivilege  = "urn:xmpp:privilege:2"
	NSPrivilege1 = "urn:xmpp:privilege:1"
)

// Privileges is what the server allowed the gateway for its users (XEP-0356), advertised right
// after the handshake.
type Privileges struct {
	Roster  string // "", "get", "set" or "both"
	Message string // "" or "outgoing"
}

// RosterGet reports whether the gateway may read users' rosters.
func (p Privileges) RosterGet() bool { return p.Roster == "get" || p.Roster == "both" }

// RosterSet reports whether the gateway may change users' rosters.
func (p Privileges) RosterSet() bool { return p.Roster == "set" || p.Roster == "both" }

// MessageOutgoing reports whether the gateway may send messages as its users (carbons).
func (p Privileges) MessageOutgoing() bool { return p.Message == "outgoing" }

func (g *Gateway) setPrivileges(s *xmpp.Element) {
	priv := s.ChildNS(NSPrivilege)
	if priv == nil {
		priv = s.ChildNS(NSPrivilege1)
	}
	var p Privileges
	for _, perm := range priv.Children {
		if perm.Name.Local != "perm" {
			continue
		}
		switch perm.Get("access") {
		case "roster":
			p.Roster = perm.Get("type")
		case "message":
			p.Message = perm.Get("type")
		}
	}
	domain := xmpp.Bare(s.Get("from"))
	g.privMu.Lock()
	if g.privs == nil {
		g.privs = map[string]Privileges{}
	}
	g.privs[domain] = p
	g.privMu.Unlock()
	g.log.Info("privileges granted", "server", domain, "roster", p.Roster, "message", p.Message)
}

// Privileges returns what the server of domain granted the gateway; zero if nothing.
func (g *Gateway) Privileges(domain string) Privileges {
	g.privMu.Lock()
	defer g.privMu.Unlock()
	return g.privs[domain]
}
