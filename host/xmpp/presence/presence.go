// Package presence implements RFC 6121 presence with XEP-0115: Entity Capabilities, gateway
// side.
//
// It writes a puppet's presence straight into a byte buffer (sent for thousands of contacts at
// login, so it allocates nothing), with the extensions a contact's presence carries: XEP-0115
// caps, XEP-0153 avatar hash, XEP-0172 nick and XEP-0319 idle. It also reads the presences users
// send to puppets, and tells whether two presences would put the same stanza on the wire, so
// that only changes are sent.
package presence

import (
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/idle"
	"github.com/xmppgw/gateway/host/xmpp/nick"
	"github.com/xmppgw/gateway/host/xmpp/vcard"
)

// NSCaps is the namespace of XEP-0115.
const NSCaps = "http://jabber.org/protocol/caps"

// Values of Presence.Show. ShowOffline is not a wire value: it stands for type="unavailable".
const (
	ShowChat    = "chat"
	ShowAway    = "away"
	ShowXA      = "xa"
	ShowDND     = "dnd"
	ShowOffline = "offline"
)

// Values of Presence.Type (RFC 6121); the empty type is an available presence.
const (
	TypeUnavailable  = "unavailable"
	TypeSubscribe    = "subscribe"
	TypeSubscribed   = "subscribed"
	TypeUnsubscribe  = "unsubscribe"
	TypeUnsubscribed = "unsubscribed"
	TypeProbe        = "probe"
	TypeError        = "error"
)

// NoAvatar is the AvatarHash of a contact known to have no avatar.
const NoAvatar = "-"

// Caps is an XEP-0115 capabilities announcement; the hash algorithm is always sha-1.
type Caps struct {
	Node string // the software's URI
	Ver  string // the verification string, disco.Info.CapsHash
}

// Presence is a presence stanza from or to a puppet. Fields that do not apply to the stanza's
// type are not written: Show, Priority, Caps and the avatar only go in available presences,
// Idle in available and unavailable ones, Nick only outside those two (XEP-0172 forbids it in
// presence broadcasts; it belongs in subscription requests).
type Presence struct {
	// From and To are the full or bare JIDs of the sender and the recipient.
	From, To string
	// Show is "", away, xa, dnd or chat; "offline" means type="unavailable" when Type is empty.
	// Other values are not written.
	Show string
	// Status is the free-text status message, written for every type.
	Status string
	// Priority is the resource priority, clamped to -128..127; 0 is not written.
	Priority int
	// Idle is when the contact was last active (XEP-0319), zero if unknown or active now.
	Idle time.Time
	// AvatarHash is the hex SHA-1 of the contact's avatar (XEP-0153): "" if none is known,
	// NoAvatar ("-") if the contact has none.
	AvatarHash string
	// HasAvatar, with AvatarHash empty, says the contact has an avatar whose hash is not
	// known yet: an empty vcard-temp:x:update is sent, which tells clients to keep the avatar
	// they cached. Parse sets it whenever the presence had a vcard-temp:x:update with a hash
	// or without <photo/>.
	HasAvatar bool
	// Caps is the puppet's XEP-0115 announcement, usually shared from an InfoCache; nil or
	// an empty Ver writes none.
	Caps *Caps
	// Nick is the contact's XEP-0172 nickname, written only in presences of the
	// subscription types (mainly subscribe).
	Nick string
	// Type is the stanza type: "" (available), unavailable, subscribe, subscribed,
	// unsubscribe, unsubscribed, probe, or error (which Parse accepts but this package does
	// not build meaningfully).
	Type string
}

// wireType is the type attribute written.
func (p *Presence) wireType() string {
	if p.Type == "" && p.Show == ShowOffline {
		return TypeUnavailable
	}
	return p.Type
}

// wireShow is the <show/> written in an available presence.
func (p *Presence) wireShow() string {
	switch p.Show {
	case ShowChat, ShowAway, ShowXA, ShowDND:
		return p.Show
	}
	return ""
}

func (p *Presence) wirePriority() int {
	return min(max(p.Priority, -128), 127)
}

// avatarState is what the vcard-temp:x:update says: 0 nothing written, 1 an empty <x/> (hash
// not yet known), 2 <photo/> (no avatar), 3 <photo>hash</photo>.
func (p *Presence) avatarState() int8 {
	switch {
	case p.AvatarHash == NoAvatar:
		return 2
	case p.AvatarHash != "":
		return 3
	case p.HasAvatar:
		return 1
	}
	return 0
}

// Layout of the children written; the opening tag is written without xmlns because stanzas
// are in the component stream's default namespace.
const (
	capsOpen   = `<c xmlns="` + NSCaps + `" hash="sha-1" node="`
	updateOpen = `<x xmlns="` + vcard.NSUpdate + `"`
	nickOpen   = `<nick xmlns="` + nick.NS + `">`
	idleOpen   = `<idle xmlns="` + idle.NS + `" since="`
)

// AppendXML appends the presence stanza to b, as it goes on the component stream, and returns
// the extended buffer. It writes exactly what Element().AppendXML(b, xmpp.NSComponent) would,
// without building the tree: with a buffer of sufficient capacity it does not allocate.
func (p *Presence) AppendXML(b []byte) []byte {
	typ := p.wireType()
	b = append(b, "<presence"...)
	b = appendAttr(b, "from", p.From)
	b = appendAttr(b, "to", p.To)
	b = appendAttr(b, "type", typ)
	b = append(b, '>')
	start := len(b)
	available := typ == ""
	if available {
		if s := p.wireShow(); s != "" {
			b = append(b, "<show>"...)
			b = append(b, s...)
			b = append(b, "</show>"...)
		}
	}
	if p.Status != "" {
		b = append(b, "<status>"...)
		b = xmpp.AppendEscaped(b, p.Status)
		b = append(b, "</status>"...)
	}
	if available {
		if pr := p.wirePriority(); pr != 0 {
			b = append(b, "<priority>"...)
			b = strconv.AppendInt(b, int64(pr), 10)
			b = append(b, "</priority>"...)
		}
		if p.Caps != nil && p.Caps.Ver != "" {
			b = append(b, capsOpen...)
			b = xmpp.AppendEscaped(b, p.Caps.Node)
			b = append(b, `" ver="`...)
			b = xmpp.AppendEscaped(b, p.Caps.Ver)
			b = append(b, `"/>`...)
		}
		switch p.avatarState() {
		case 1:
			b = append(b, updateOpen+`/>`...)
		case 2:
			b = append(b, updateOpen+`><photo/></x>`...)
		case 3:
			b = append(b, updateOpen+`><photo>`...)
			b = xmpp.AppendEscaped(b, p.AvatarHash)
			b = append(b, `</photo></x>`...)
		}
	}
	if p.Nick != "" && !available && typ != TypeUnavailable {
		b = append(b, nickOpen...)
		b = xmpp.AppendEscaped(b, p.Nick)
		b = append(b, "</nick>"...)
	}
	if !p.Idle.IsZero() && (available || typ == TypeUnavailable) {
		b = append(b, idleOpen...)
		b = appendTime(b, p.Idle)
		b = append(b, `"/>`...)
	}
	if len(b) == start {
		return append(b[:start-1], "/>"...)
	}
	return append(b, "</presence>"...)
}

// Element returns the same stanza as AppendXML as an element tree, for callers that add
// payloads of their own (e.g. MUC). It allocates; AppendXML is the hot path.
func (p *Presence) Element() *xmpp.Element {
	typ := p.wireType()
	available := typ == ""
	e := xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "from", p.From, "to", p.To, "type", typ)
	if s := p.wireShow(); available && s != "" {
		e.Add(xmpp.Elem(xmpp.NSComponent, "show").WithText(s))
	}
	if p.Status != "" {
		e.Add(xmpp.Elem(xmpp.NSComponent, "status").WithText(p.Status))
	}
	if available {
		if pr := p.wirePriority(); pr != 0 {
			e.Add(xmpp.Elem(xmpp.NSComponent, "priority").WithText(strconv.Itoa(pr)))
		}
		if p.Caps != nil && p.Caps.Ver != "" {
			// Elem drops empty attributes; caps always has node and ver, so set them as given.
			c := xmpp.Elem(NSCaps, "c", "hash", "sha-1")
			c.Set("node", p.Caps.Node)
			c.Set("ver", p.Caps.Ver)
			e.Add(c)
		}
		switch p.avatarState() {
		case 1:
			e.Add(xmpp.Elem(vcard.NSUpdate, "x"))
		case 2:
			e.Add(vcard.Update(""))
		case 3:
			e.Add(vcard.Update(p.AvatarHash))
		}
	}
	if p.Nick != "" && !available && typ != TypeUnavailable {
		e.Add(nick.Element(p.Nick))
	}
	if !p.Idle.IsZero() && (available || typ == TypeUnavailable) {
		e.Add(idle.Element(p.Idle))
	}
	return e
}

// String returns the stanza as XML, for logs and tests.
func (p *Presence) String() string { return string(p.AppendXML(nil)) }

// wire is the part of a presence that reaches the wire, comparable with ==.
type wire struct {
	from, to, typ, show, status string
	priority                    int
	idle                        int64
	hasIdle                     bool
	avatar                      int8
	hash                        string
	caps                        Caps
	hasCaps                     bool
	nick                        string
}

func (p *Presence) wire() wire {
	w := wire{from: p.From, to: p.To, typ: p.wireType(), status: p.Status}
	available := w.typ == ""
	if available {
		w.show = p.wireShow()
		w.priority = p.wirePriority()
		if p.Caps != nil && p.Caps.Ver != "" {
			w.caps, w.hasCaps = *p.Caps, true
		}
		if w.avatar = p.avatarState(); w.avatar == 3 {
			w.hash = p.AvatarHash
		}
	}
	if !p.Idle.IsZero() && (available || w.typ == TypeUnavailable) {
		w.idle, w.hasIdle = p.Idle.Unix(), true
	}
	if !available && w.typ != TypeUnavailable {
		w.nick = p.Nick
	}
	return w
}

// Same reports whether p and q produce the same stanza, so that a presence equal to the last one
// sent for a contact can be skipped. Idle is compared to the second, as written; fields that
// are not written for the type are ignored.
func (p Presence) Same(q Presence) bool {
	return p.wire() == q.wire()
}

// Parse reads a presence stanza, typically one a user sent to a puppet or to the gateway. The
// core (type, show, priority) must be valid; a malformed extension is ignored instead, so that
// a client's mistake in, say, its idle time does not lose its presence. Caps are read only with
// hash='sha-1', the one algorithm the gateway can verify. Show only ever holds a wire value:
// an unavailable presence has Type "unavailable", not Show "offline".
func Parse(e *xmpp.Element) (Presence, error) {
	if e == nil || e.Name.Local != xmpp.KindPresence {
		return Presence{}, errors.New("presence: not a presence stanza")
	}
	p := Presence{From: e.Get("from"), To: e.Get("to"), Type: e.Get("type")}
	switch p.Type {
	case "", TypeUnavailable, TypeSubscribe, TypeSubscribed, TypeUnsubscribe, TypeUnsubscribed, TypeProbe, TypeError:
	default:
		return Presence{}, errors.New("presence: invalid type " + strconv.Quote(p.Type))
	}
	var seenShow, seenStatus, seenPriority bool
	for _, c := range e.Children {
		switch c.Name.Space {
		case e.Name.Space:
			switch c.Name.Local {
			case "show":
				if seenShow {
					return Presence{}, errors.New("presence: more than one <show/>")
				}
				seenShow = true
				switch c.Text {
				case ShowChat, ShowAway, ShowXA, ShowDND:
					p.Show = c.Text
				default:
					return Presence{}, errors.New("presence: invalid show " + strconv.Quote(c.Text))
				}
			case "status":
				// Several are allowed, one per xml:lang; the first is kept.
				if !seenStatus {
					p.Status, seenStatus = c.Text, true
				}
			case "priority":
				if seenPriority {
					return Presence{}, errors.New("presence: more than one <priority/>")
				}
				seenPriority = true
				n, err := strconv.Atoi(strings.TrimSpace(c.Text))
				if err != nil || n < -128 || n > 127 {
					return Presence{}, errors.New("presence: invalid priority " + strconv.Quote(c.Text))
				}
				p.Priority = n
			}
		case NSCaps:
			if c.Name.Local == "c" && p.Caps == nil && c.Get("hash") == "sha-1" && c.Get("node") != "" && c.Get("ver") != "" {
				p.Caps = &Caps{Node: c.Get("node"), Ver: c.Get("ver")}
			}
		case vcard.NSUpdate:
			if photo, present, err := vcard.ParseUpdate(c); err == nil {
				switch {
				case !present:
					p.AvatarHash, p.HasAvatar = "", true
				case photo == "":
					p.AvatarHash, p.HasAvatar = NoAvatar, false
				default:
					p.AvatarHash, p.HasAvatar = photo, true
				}
			}
		case nick.NS:
			if n, err := nick.Parse(c); err == nil {
				p.Nick = n
			}
		case idle.NS:
			if t, err := idle.Parse(c); err == nil {
				p.Idle = t
			}
		}
	}
	return p, nil
}

// appendAttr appends ` name="value"`, nothing for an empty value (as xmpp.Elem does).
func appendAttr(b []byte, name, value string) []byte {
	if value == "" {
		return b
	}
	b = append(b, ' ')
	b = append(b, name...)
	b = append(b, `="`...)
	b = xmpp.AppendEscaped(b, value)
	return append(b, '"')
}

// appendTime appends t as idle.Element writes it (idle.Layout, UTC), formatting the digits by
// hand: time.AppendFormat was a third of AppendXML's cost.
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(b, idle.Layout)
	}
	hour, minute, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append2(b, int(month), '-')
	b = append2(b, day, 'T')
	b = append2(b, hour, ':')
	b = append2(b, minute, ':')
	return append2(b, sec, 'Z')
}

// append2 appends n (0..99) as two digits, then sep.
func append2(b []byte, n int, sep byte) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10), sep)
}
