package gateway

import (
	"time"

	"github.com/xmppgw/gateway/abi"
)

// Contact is a contact of the user on the network (the plugin's handle on slidge's
// LegacyContact): a roster singleton that lives in the host. The setters are batched: the
// changes made to a contact during one event go to the host as one contact.update, before the
// next host call that is not an update, or when the event ends (or at Flush).
type Contact struct {
	s      *Session
	id     abi.LegacyID
	rec    abi.Contact
	loaded bool
	upd    abi.ContactUpdate
	dirty  bool
}

// Contact returns the contact with this legacy id, creating the singleton in the host at its
// first lookup (the host then asks OnUpdateInfo for its info, once). It is cached for the
// session. If the host refuses the lookup, the error is logged and the contact's calls fail.
func (s *Session) Contact(id abi.LegacyID) *Contact {
	if c := s.contacts[id]; c != nil {
		return c
	}
	c := &Contact{s: s, id: id}
	if err := s.call(abi.CallContactGet, &abi.ContactRef{LegacyID: id}, &c.rec); err != nil {
		s.Logf(abi.LogWarn, "gateway: contact.get %q: %v", id, err)
		return c
	}
	c.loaded = true
	s.contacts[id] = c
	return c
}

// known returns the contact with this id, which the host already has (the event is about
// it): no lookup is made until Record needs one.
func (s *Session) known(id abi.LegacyID) *Contact {
	if c := s.contacts[id]; c != nil {
		return c
	}
	c := &Contact{s: s, id: id}
	s.contacts[id] = c
	return c
}

// Contacts returns every contact the host knows for the session (contact.list).
func (s *Session) Contacts() ([]*Contact, error) {
	var l abi.ContactList
	if err := s.call(abi.CallContactList, nil, &l); err != nil {
		return nil, err
	}
	out := make([]*Contact, 0, len(l.Contacts))
	for _, r := range l.Contacts {
		c := s.contacts[r.LegacyID]
		if c == nil {
			c = &Contact{s: s, id: r.LegacyID}
			s.contacts[r.LegacyID] = c
		}
		c.rec, c.loaded = r, true
		out = append(out, c)
	}
	return out, nil
}

// ID is the contact's legacy id.
func (c *Contact) ID() abi.LegacyID { return c.id }

// Session is the session the contact belongs to.
func (c *Contact) Session() *Session { return c.s }

// Record returns the host's record of the contact (JID, name, presence, ...), fetched once
// and then kept up to date with the changes made through this Contact.
func (c *Contact) Record() (abi.Contact, error) {
	if !c.loaded {
		if err := c.s.call(abi.CallContactGet, &abi.ContactRef{LegacyID: c.id}, &c.rec); err != nil {
			return abi.Contact{}, err
		}
		c.loaded = true
		c.s.contacts[c.id] = c
	}
	return c.rec, nil
}

func (c *Contact) touch() {
	if !c.dirty {
		c.dirty = true
		c.upd.LegacyID = c.id
		c.s.dirty = append(c.s.dirty, c)
	}
}

// SetName sets the contact's name (the roster name and nickname).
func (c *Contact) SetName(name string) { c.touch(); c.upd.Name = &name }

// SetAvatar sets the contact's picture: inline Data for small images, or a Handle from a file
// fetch or a bridge download. An empty Avatar removes it.
func (c *Contact) SetAvatar(a abi.Avatar) { c.touch(); c.upd.Avatar = &a }

// SetVCard sets the contact's vCard.
func (c *Contact) SetVCard(v abi.VCard) { c.touch(); c.upd.VCard = &v }

// SetPresence sets the contact's presence.
func (c *Contact) SetPresence(p abi.Presence) { c.touch(); c.upd.Presence = &p }

// Online, Away, XA, DND and Offline set the contact's presence.
func (c *Contact) Online(status string) {
	c.SetPresence(abi.Presence{Show: abi.ShowOnline, Status: status})
}

// Away: see Online.
func (c *Contact) Away(status string) {
	c.SetPresence(abi.Presence{Show: abi.ShowAway, Status: status})
}

// XA: see Online.
func (c *Contact) XA(status string) { c.SetPresence(abi.Presence{Show: abi.ShowXA, Status: status}) }

// DND: see Online.
func (c *Contact) DND(status string) { c.SetPresence(abi.Presence{Show: abi.ShowDND, Status: status}) }

// Offline: see Online.
func (c *Contact) Offline() { c.SetPresence(abi.Presence{Show: abi.ShowOffline}) }

// SetClientType sets the disco identity type of the contact's puppet ("pc", "phone", "bot", ...).
func (c *Contact) SetClientType(t abi.ClientType) { c.touch(); c.upd.ClientType = &t }

// SetFriend says whether the contact is a friend (in the user's roster with a subscription).
func (c *Contact) SetFriend(friend bool) { c.touch(); c.upd.Friend = &friend }

// Flush sends the contact's pending changes now.
func (c *Contact) Flush() error {
	if !c.dirty {
		return nil
	}
	for i, d := range c.s.dirty {
		if d == c {
			c.s.dirty = append(c.s.dirty[:i], c.s.dirty[i+1:]...)
			break
		}
	}
	return c.flush()
}

func (c *Contact) flush() error {
	u := c.upd
	c.upd, c.dirty = abi.ContactUpdate{}, false
	if err := c.s.call(abi.CallContactUpdate, &u, nil); err != nil {
		return err
	}
	r := &c.rec
	if u.Name != nil {
		r.Name = *u.Name
	}
	if u.VCard != nil {
		r.VCard = u.VCard
	}
	if u.Presence != nil {
		r.Presence = u.Presence
	}
	if u.ClientType != nil {
		r.ClientType = *u.ClientType
	}
	if u.Friend != nil {
		r.Friend = *u.Friend
	}
	if u.Avatar != nil {
		r.AvatarID = u.Avatar.ID
	}
	return nil
}

// flushDirty sends the pending changes of every contact; the first error is returned (and
// logged when the event ends with it unseen).
func (s *Session) flushDirty() error {
	if len(s.dirty) == 0 || s.check() != nil {
		return nil
	}
	var first error
	for len(s.dirty) > 0 {
		c := s.dirty[0]
		s.dirty = s.dirty[1:]
		if err := c.flush(); err != nil {
			s.Logf(abi.LogWarn, "gateway: contact.update %q: %v", c.id, err)
			if first == nil {
				first = err
			}
		}
	}
	s.dirty = s.dirty[:0]
	return first
}

// AddToRoster adds the contact to the user's roster (or asks the user to).
func (c *Contact) AddToRoster() error {
	return c.s.call(abi.CallContactAdd, &abi.ContactRef{LegacyID: c.id}, nil)
}

// Ready ends OnUpdateInfo for this contact successfully (sent for you when OnUpdateInfo
// returns nil).
func (c *Contact) Ready() error {
	c.s.answer(abi.CallContactReady, c.id)
	c.rec.Ready = true
	return c.s.call(abi.CallContactReady, &abi.ContactRef{LegacyID: c.id}, nil)
}

// Failed ends OnUpdateInfo for this contact with an error.
func (c *Contact) Failed(reason string) error {
	c.s.answer(abi.CallContactReady, c.id)
	return c.s.call(abi.CallContactFailed, &abi.ContactFailed{LegacyID: c.id, Error: reason}, nil)
}

// MsgOption modifies a message action towards the user.
type MsgOption func(*msgOpts)

type msgOpts struct {
	carbon    bool
	when      int64
	replyTo   abi.LegacyMsgID
	replyText string
	caption   string
}

// Carbon says the user did it, from another client of the network: the host shows it as the
// user's own action (a carbon), not the contact's.
func Carbon() MsgOption { return func(o *msgOpts) { o.carbon = true } }

// At dates an action that did not happen just now (history, offline messages).
func At(t time.Time) MsgOption { return func(o *msgOpts) { o.when = t.UnixMilli() } }

// ReplyTo makes a message (Text, File) a reply to the network's message id, quoting text.
func ReplyTo(id abi.LegacyMsgID, text string) MsgOption {
	return func(o *msgOpts) { o.replyTo, o.replyText = id, text }
}

// Caption sets the caption of a File.
func Caption(text string) MsgOption { return func(o *msgOpts) { o.caption = text } }

func (c *Contact) meta(opts []MsgOption) (abi.MsgMeta, msgOpts) {
	var o msgOpts
	for _, f := range opts {
		f(&o)
	}
	return abi.MsgMeta{LegacyID: c.id, Carbon: o.carbon, When: o.when}, o
}

// Text sends the user a message from the contact; id is the network's id of the message.
func (c *Contact) Text(id abi.LegacyMsgID, text string, opts ...MsgOption) error {
	m, o := c.meta(opts)
	return c.s.call(abi.CallContactText, &abi.ContactText{MsgMeta: m, ID: id, Text: text, ReplyTo: o.replyTo, ReplyText: o.replyText}, nil)
}

// File sends the user a file from the contact (a handle from a fetch or a bridge download).
func (c *Contact) File(id abi.LegacyMsgID, f abi.File, opts ...MsgOption) error {
	m, o := c.meta(opts)
	return c.s.call(abi.CallContactFile, &abi.ContactFile{MsgMeta: m, ID: id, File: f, Caption: o.caption, ReplyTo: o.replyTo}, nil)
}

// Correct tells the user the contact edited message id to text.
func (c *Contact) Correct(id abi.LegacyMsgID, text string, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	return c.s.call(abi.CallContactCorrect, &abi.ContactCorrect{MsgMeta: m, ID: id, Text: text}, nil)
}

// Retract tells the user the contact deleted message id.
func (c *Contact) Retract(id abi.LegacyMsgID, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	return c.s.call(abi.CallContactRetract, &abi.ContactMsgRef{MsgMeta: m, ID: id}, nil)
}

// React sets the contact's reactions on message id (all of them; none removes them).
func (c *Contact) React(id abi.LegacyMsgID, reactions []string, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	if reactions == nil {
		reactions = []string{}
	}
	return c.s.call(abi.CallContactReact, &abi.ContactReact{MsgMeta: m, ID: id, Reactions: reactions}, nil)
}

// Displayed tells the user the contact read up to message id.
func (c *Contact) Displayed(id abi.LegacyMsgID, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	return c.s.call(abi.CallContactDisplayed, &abi.ContactMsgRef{MsgMeta: m, ID: id}, nil)
}

// Received tells the user the contact's device received message id.
func (c *Contact) Received(id abi.LegacyMsgID, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	return c.s.call(abi.CallContactReceived, &abi.ContactMsgRef{MsgMeta: m, ID: id}, nil)
}

// State sends the contact's chat state (composing, paused, ...).
func (c *Contact) State(st abi.State, opts ...MsgOption) error {
	m, _ := c.meta(opts)
	return c.s.call(abi.CallContactState, &abi.ContactState{MsgMeta: m, State: st}, nil)
}
