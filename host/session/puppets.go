package session

import (
	"errors"
	"os"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/avatar"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/idle"
	"github.com/xmppgw/gateway/host/xmpp/jidesc"
	"github.com/xmppgw/gateway/host/xmpp/vcard"
)

// Namespaces a puppet answers.
const (
	nsCaps  = "http://jabber.org/protocol/caps" // XEP-0115
	nsPing  = "urn:xmpp:ping"
	capNode = "https://xmppgw.invalid/caps"
)

// puppetFeatures is what every puppet supports, whatever its network.
var puppetFeatures = []string{
	disco.NSInfo, nsCaps, nsChatStates, nsReceipts, nsMarkers, nsCorrect, nsRetract, nsReactions,
	nsReply, vcard.NS, avatar.NSMetadata + "+notify", nsPing,
}

type cachedInfo struct {
	info disco.Info
	ver  string
}

// nsReactionsRestrictions is the XEP-0128 form type of XEP-0444's restrictions.
const nsReactionsRestrictions = "urn:xmpp:reactions:0:restrictions"

// infoFor returns the disco#info of puppets of a client type, with its caps hash, computed once.
// It names the reactions the plugin allows, if it restricts them.
func (m *Manager) infoFor(clientType string) *cachedInfo {
	if clientType == "" {
		clientType = "pc"
	}
	if v, ok := m.puppetInfo.Load(clientType); ok {
		return v.(*cachedInfo)
	}
	in := disco.Info{Identities: []disco.Identity{{Category: "client", Type: clientType}}, Features: puppetFeatures}
	if len(m.info.Reactions) > 0 {
		in.Forms = []disco.Form{{Type: nsReactionsRestrictions, Fields: []disco.FormField{{Var: "allowlist", Values: m.info.Reactions}}}}
	}
	ci := &cachedInfo{info: in, ver: in.CapsHash()}
	m.puppetInfo.Store(clientType, ci)
	return ci
}

// decoratePresence adds caps, avatar hash and idle to an available puppet presence. (XEP-0172
// forbids a nick there: it goes with subscription requests.)
func (s *Session) decoratePresence(p *xmpp.Element, c *roster.Contact) {
	p.Add(xmpp.Elem(nsCaps, "c", "hash", "sha-1", "node", capNode, "ver", s.m.infoFor(c.ClientType).ver))
	hash := ""
	if c.Avatar != nil {
		hash = c.Avatar.Hash
	}
	p.Add(vcard.Update(hash))
	if c.Presence.LastSeen > 0 {
		p.Add(idle.Element(time.Unix(c.Presence.LastSeen, 0)))
	}
}

// onPuppetIQ answers an IQ to a puppet from the cached contact: disco#info, vCard, avatar, ping.
func (s *Session) onPuppetIQ(st *xmpp.Element, local string) {
	if len(st.Children) != 1 {
		s.m.refuse(st, errBadRequest)
		return
	}
	c, ok := s.resolve(st, local)
	if !ok {
		return
	}
	q := st.Children[0]
	typ := st.Get("type")
	switch {
	case typ == "get" && q.Name.Space == disco.NSInfo:
		if node := q.Get("node"); node != "" && node != capNode+"#"+s.m.infoFor(c.ClientType).ver {
			s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found"})
			return
		}
		in := s.m.infoFor(c.ClientType).info
		in.Identities = []disco.Identity{{Category: "client", Type: in.Identities[0].Type, Name: c.Name}}
		s.m.send(xmpp.IQResult(st, in.Element(q.Get("node"))))
	case typ == "get" && q.Name.Space == vcard.NS:
		v := vcard.VCard{FullName: c.VCard.FullName, Given: c.VCard.Given, Family: c.VCard.Family,
			Nickname: c.VCard.Nickname, Phone: c.VCard.Phone, Email: c.VCard.Email, URL: c.VCard.URL, Note: c.VCard.Note}
		if v.FullName == "" {
			v.FullName = c.Name
		}
		if c.Avatar != nil {
			if data, typ, err := s.m.st.Avatar(s.ctx, s.m.cfg.JID, s.user, c.LegacyID); err == nil {
				v.Photo, v.PhotoType = data, typ
			}
		}
		s.m.send(xmpp.IQResult(st, v.Element()))
	case typ == "get" && q.Name.Space == avatar.NSPubSub:
		s.answerAvatar(st, q, c)
	case typ == "get" && q.Name.Space == nsPing:
		s.m.send(xmpp.IQResult(st))
	default:
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "service-unavailable"})
	}
}

// answerAvatar serves XEP-0084 metadata and data from the puppet.
func (s *Session) answerAvatar(st, q *xmpp.Element, c *roster.Contact) {
	node, item, err := avatar.ParseItemsRequest(q)
	if err != nil {
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: err.Error()})
		return
	}
	switch node {
	case avatar.NSMetadata:
		var info *avatar.Info
		if c.Avatar != nil {
			info = &avatar.Info{ID: c.Avatar.Hash, Bytes: c.Avatar.Bytes, Type: c.Avatar.Type, Width: c.Avatar.Width, Height: c.Avatar.Height}
		}
		s.m.send(xmpp.IQResult(st, avatar.MetadataItem(info)))
	case avatar.NSData:
		if c.Avatar == nil || (item != "" && item != c.Avatar.Hash) {
			s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found"})
			return
		}
		data, _, err := s.m.st.Avatar(s.ctx, s.m.cfg.JID, s.user, c.LegacyID)
		if err != nil {
			s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found"})
			return
		}
		s.m.send(xmpp.IQResult(st, avatar.DataItem(c.Avatar.Hash, data)))
	default:
		s.m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found", Text: "no node " + node})
	}
}

// maxAvatarBytes bounds an inline avatar.
const maxAvatarBytes = 512 * 1024

// storeAvatar keeps a contact's picture in the store and its description in the roster. An
// avatar with no data and no handle removes the picture.
func (s *Session) storeAvatar(c *roster.Contact, a *abi.Avatar) error {
	if a.Handle != "" {
		// A file handle (a bridge's download, or file.fetch): the picture is read now, so the
		// plugin may release the handle as soon as the call returns.
		p, ok := s.m.FilePath(s.user, a.Handle)
		if !ok {
			return abi.Errorf(abi.CodeNotFound, "no file handle %q", a.Handle)
		}
		if st, err := os.Stat(p); err == nil && st.Size() > maxAvatarBytes {
			return abi.Errorf(abi.CodeQuota, "avatar of %d bytes is over the %d byte limit", st.Size(), maxAvatarBytes)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return abi.Errorf(abi.CodeInternal, "avatar: %v", err)
		}
		a = &abi.Avatar{Data: data, Type: a.Type, ID: a.ID}
	}
	if len(a.Data) == 0 {
		if c.Avatar != nil {
			c.Avatar = nil
			if err := s.m.st.DeleteAvatar(s.ctx, s.m.cfg.JID, s.user, c.LegacyID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return abi.Errorf(abi.CodeInternal, "%v", err)
			}
		}
		return nil
	}
	if len(a.Data) > maxAvatarBytes {
		return abi.Errorf(abi.CodeQuota, "avatar of %d bytes is over the %d byte limit", len(a.Data), maxAvatarBytes)
	}
	info, err := avatar.NewInfo(a.Data)
	if err != nil && a.Type == "" {
		return abi.Errorf(abi.CodeInvalid, "%v", err)
	}
	if info.Type == "" {
		info.Type = a.Type
	}
	if c.Avatar != nil && c.Avatar.Hash == info.ID {
		return nil
	}
	if err := s.m.st.PutAvatar(s.ctx, s.m.cfg.JID, s.user, c.LegacyID, info.Type, a.Data); err != nil {
		return abi.Errorf(abi.CodeInternal, "%v", err)
	}
	c.Avatar = &roster.Avatar{Hash: info.ID, Type: info.Type, Bytes: info.Bytes, Width: info.Width, Height: info.Height, NetworkID: a.ID}
	return nil
}

// unescapeLocal is the default jid_username_to_legacy_id: XEP-0106 unescaping.
func unescapeLocal(local string) (string, error) { return jidesc.Unescape(local) }
