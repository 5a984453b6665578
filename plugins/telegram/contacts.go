package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

// serviceUser is Telegram's service notifications account: a bot, in all but name.
const serviceUser = 777000

// contact returns the host's contact of a user (created at the first lookup, which makes the
// host ask OnUpdateInfo), remembering that it exists.
func (t *session) contact(u int64) *gateway.Contact {
	t.known[u] = true
	return t.s.Contact(legacyID(u))
}

// loadContacts learns which contacts the host already has.
func (t *session) loadContacts() {
	cs, err := t.s.Contacts()
	if err != nil {
		t.s.Logf(abi.LogWarn, "telegram: contact.list: %v", err)
		return
	}
	for _, c := range cs {
		if n, err := parseUserID(c.ID()); err == nil {
			t.known[n] = true
		}
	}
}

// OnFill asks for the contacts; they come in as TDLib answers, without holding up the login.
func (t *session) OnFill() error {
	t.loadContacts()
	return t.call(req("getContacts"), callCtx{Op: "contacts"})
}

func (t *session) onContacts(resp json.RawMessage, err error) error {
	if err != nil {
		t.s.Logf(abi.LogWarn, "telegram: getContacts: %v", err)
		return nil
	}
	var us tdUserIDs
	if err := unmarshal(resp, &us); err != nil {
		return nil
	}
	for _, x := range us.UserIDs {
		u := int64(x)
		if u <= 0 || u == t.me {
			continue
		}
		c := t.contact(u)
		if usr := t.users[u]; usr != nil {
			t.applyUser(c, usr, false)
		} else {
			t.callLogged(req("getUser", "user_id", u), callCtx{Op: "user", User: u})
		}
		t.addToRoster(c, u)
	}
	return nil
}

// addToRoster adds a contact to the user's roster once per session (the host asks the user
// when it has no roster privilege).
func (t *session) addToRoster(c *gateway.Contact, u int64) {
	if t.asked[u] {
		return
	}
	t.asked[u] = true
	if err := c.AddToRoster(); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: contact.add %d: %v", u, err)
	}
}

// OnUpdateInfo describes a new contact: name, client type, friend, presence and avatar from
// the user, the bio from the full info; ready once the vCard is complete.
func (t *session) OnUpdateInfo(c *gateway.Contact) error {
	u, err := parseUserID(c.ID())
	if err != nil {
		return err
	}
	t.known[u] = true
	if usr := t.users[u]; usr != nil {
		t.applyUser(c, usr, true)
		return t.finishInfo(c, u)
	}
	if err := t.call(req("getUser", "user_id", u), callCtx{Op: "user", User: u, Ready: true}); err != nil {
		return err
	}
	return gateway.ErrLater
}

// finishInfo ends update_info: now if the bio is known, else after getUserFullInfo.
func (t *session) finishInfo(c *gateway.Contact, u int64) error {
	if _, ok := t.bios[u]; ok {
		return c.Ready()
	}
	t.full[u] = true
	if err := t.call(req("getUserFullInfo", "user_id", u), callCtx{Op: "full", User: u, Ready: true}); err != nil {
		return c.Ready()
	}
	return gateway.ErrLater
}

func (t *session) onUser(ctx callCtx, resp json.RawMessage, err error) error {
	var usr tdUser
	if err == nil && (unmarshal(resp, &usr) != nil || usr.ID <= 0) {
		err = errors.New("not a user")
	}
	if err != nil {
		if ctx.Ready {
			return t.contact(ctx.User).Failed("Telegram: " + reason(err))
		}
		t.s.Logf(abi.LogInfo, "telegram: getUser %d: %v", ctx.User, err)
		return nil
	}
	u := int64(usr.ID)
	t.users[u] = &usr
	c := t.contact(u)
	t.applyUser(c, &usr, ctx.Ready)
	if ctx.Ready {
		if err := t.finishInfo(c, u); !errors.Is(err, gateway.ErrLater) {
			return err
		}
	}
	return nil
}

func (t *session) onFullInfo(ctx callCtx, resp json.RawMessage, err error) error {
	delete(t.full, ctx.User)
	var fi tdFullInfo
	if err == nil && unmarshal(resp, &fi) != nil {
		err = errors.New("not a full info")
	}
	if err != nil {
		t.s.Logf(abi.LogInfo, "telegram: getUserFullInfo %d: %v", ctx.User, err)
		if ctx.Ready {
			return t.contact(ctx.User).Ready()
		}
		return nil
	}
	return t.setBio(ctx.User, &fi, ctx.Ready)
}

// setBio learns a user's bio and completes the contact's vCard with it.
func (t *session) setBio(u int64, fi *tdFullInfo, ready bool) error {
	bio := ""
	if fi.Bio != nil {
		bio = fi.Bio.Text
	}
	old, had := t.bios[u]
	t.bios[u] = bio
	if !t.known[u] {
		return nil
	}
	c := t.contact(u)
	if usr := t.users[u]; usr != nil && (!had || old != bio || ready) {
		c.SetVCard(vcardOf(usr, bio))
	}
	if ready {
		return c.Ready()
	}
	return nil
}

func vcardOf(u *tdUser, bio string) abi.VCard {
	v := abi.VCard{FullName: u.fullName(), Given: u.FirstName, Family: u.LastName, Nickname: u.username(), Note: bio}
	if v.FullName == "" {
		v.FullName = u.displayName()
	}
	if u.PhoneNumber != "" {
		v.Phone = "+" + strings.TrimPrefix(u.PhoneNumber, "+")
	}
	return v
}

// applyUser sets what a TDLib user says of a contact. initial: at update_info.
func (t *session) applyUser(c *gateway.Contact, u *tdUser, initial bool) {
	n := int64(u.ID)
	rec, err := c.Record()
	if err != nil {
		t.s.Logf(abi.LogWarn, "telegram: contact %d: %v", n, err)
		return
	}
	if _, ok := t.bios[n]; !ok && rec.Ready && rec.VCard != nil {
		t.bios[n] = rec.VCard.Note // what the host kept of the bio, until TDLib says otherwise
	}
	if name := u.displayName(); name != rec.Name || initial {
		c.SetName(name)
	}
	ct := abi.ClientType("phone")
	if u.isBot() || n == serviceUser {
		ct = "bot"
	}
	if ct != rec.ClientType {
		c.SetClientType(ct)
	}
	// A friend is a contact or a bot; nobody is unfriended here (a chat the user accepted as a
	// subscription request stays in the roster).
	if (u.IsContact || u.isBot()) && (initial || !rec.Friend) {
		c.SetFriend(true)
	}
	if bio, ok := t.bios[n]; ok {
		if v := vcardOf(u, bio); initial || rec.VCard == nil || *rec.VCard != v {
			c.SetVCard(v)
		}
	}
	t.setStatus(c, n, u.Status)
	t.updateAvatar(c, u, rec)
}

// updateAvatar sets the contact's avatar from the small profile photo, downloaded through the
// bridge unless it already was; an unchanged photo (same id) is not fetched again.
func (t *session) updateAvatar(c *gateway.Contact, u *tdUser, rec abi.Contact) {
	n := int64(u.ID)
	p := u.ProfilePhoto
	if p == nil || p.Small == nil {
		if rec.AvatarID != "" {
			c.SetAvatar(abi.Avatar{})
		}
		return
	}
	pid := strconv.FormatInt(int64(p.ID), 10)
	if pid == rec.AvatarID || t.avatars[n] == pid {
		return
	}
	if h := p.Small.handle(); h != "" {
		c.SetAvatar(abi.Avatar{Handle: h, ID: pid})
		return
	}
	t.avatars[n] = pid
	t.callLogged(download(int64(p.Small.ID)), callCtx{Op: "avatar", User: n, Photo: pid})
}

func download(fileID int64) obj {
	return req("downloadFile", "file_id", fileID, "priority", 1, "offset", 0, "limit", 0, "synchronous", true)
}

func (t *session) onAvatar(ctx callCtx, resp json.RawMessage, err error) error {
	if t.avatars[ctx.User] == ctx.Photo {
		delete(t.avatars, ctx.User)
	}
	_, h, err := downloaded(resp, err)
	if err != nil {
		t.s.Logf(abi.LogInfo, "telegram: avatar of %d: %v", ctx.User, err)
		return nil
	}
	c := t.contact(ctx.User)
	c.SetAvatar(abi.Avatar{Handle: h, ID: ctx.Photo})
	if err := c.Flush(); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: avatar of %d: %v", ctx.User, err)
	}
	return nil
}

// onUpdateUser: a user changed (or TDLib tells about it for the first time). Contacts the host
// has are updated; a new Telegram contact joins the roster.
func (t *session) onUpdateUser(u *tdUser) {
	n := int64(u.ID)
	if prev := t.users[n]; prev != nil && u.Status == nil {
		u.Status = prev.Status
	}
	t.users[n] = u
	if n <= 0 || n == t.me {
		return
	}
	switch {
	case t.known[n]:
		t.applyUser(t.contact(n), u, false)
	case u.IsContact:
		c := t.contact(n)
		t.applyUser(c, u, false)
		t.addToRoster(c, n)
	}
}

func (t *session) onUserStatus(n int64, st *tdStatus) {
	if u := t.users[n]; u != nil {
		u.Status = st
	}
	if n == t.me || !t.known[n] {
		return
	}
	t.setStatus(t.contact(n), n, st)
}

// Presence, as slidge maps Telegram's statuses.
const (
	week  = 7 * 24 * time.Hour
	month = 31 * 24 * time.Hour
)

// setStatus maps a user status to the contact's presence: online until the status expires
// (then away, last seen then); offline is away with the time last seen, unless an online
// status has not expired yet; recently is away, last seen now; last week and last month are
// extended away; empty is offline.
func (t *session) setStatus(c *gateway.Contact, n int64, st *tdStatus) {
	if st == nil {
		return
	}
	at := now()
	switch st.Type {
	case "userStatusOnline":
		if st.Expires <= at.Unix() {
			t.cancelOnline(n)
			c.SetPresence(abi.Presence{Show: abi.ShowAway, LastSeen: st.Expires})
			return
		}
		c.Online("")
		if t.online[n] == st.Expires {
			return
		}
		t.online[n] = st.Expires
		name := "online:" + legacyID(n)
		d := time.Unix(st.Expires, 0).Sub(at)
		if err := t.s.AfterWith(d, name, callCtx{Op: "online", User: n, Expires: st.Expires}.raw(), nil); err != nil {
			t.s.Logf(abi.LogWarn, "telegram: online timer: %v", err)
		}
		_ = t.s.KVSet(keyOnline+legacyID(n), strconv.FormatInt(st.Expires, 10))
	case "userStatusOffline":
		if _, pending := t.online[n]; pending {
			return // the online status has not expired: it will say when the contact went away
		}
		c.SetPresence(abi.Presence{Show: abi.ShowAway, LastSeen: st.WasOnline})
	case "userStatusRecently":
		t.cancelOnline(n)
		c.SetPresence(abi.Presence{Show: abi.ShowAway, LastSeen: at.Unix()})
	case "userStatusLastWeek":
		t.cancelOnline(n)
		c.SetPresence(abi.Presence{Show: abi.ShowXA, LastSeen: at.Add(-week).Unix()})
	case "userStatusLastMonth":
		t.cancelOnline(n)
		c.SetPresence(abi.Presence{Show: abi.ShowXA, LastSeen: at.Add(-month).Unix()})
	default: // userStatusEmpty
		t.cancelOnline(n)
		c.Offline()
	}
}

func (t *session) cancelOnline(n int64) {
	if _, ok := t.online[n]; !ok {
		return
	}
	delete(t.online, n)
	_ = t.s.CancelTimer("online:" + legacyID(n))
	_ = t.s.KVDelete(keyOnline + legacyID(n))
}

// expireOnline: an online status expired (slidge's _expire_online): away, last seen then.
func (t *session) expireOnline(n, expires int64) error {
	if t.online[n] != expires && t.online[n] != 0 {
		return nil // renewed since
	}
	delete(t.online, n)
	_ = t.s.KVDelete(keyOnline + legacyID(n))
	if t.phase != phaseReady {
		return nil
	}
	if u := t.users[n]; u != nil {
		u.Status = &tdStatus{Type: "userStatusOffline", WasOnline: expires}
	}
	t.contact(n).SetPresence(abi.Presence{Show: abi.ShowAway, LastSeen: expires})
	return nil
}

// onNewChat: a private chat exists; one with someone who is not a contact becomes a
// subscription request.
func (t *session) onNewChat(ch *tdChat) {
	if ch.ChatType.Type != "chatTypePrivate" {
		return
	}
	n := int64(ch.ChatType.UserID)
	t.chats[n] = true
	u := t.users[n]
	if n <= 0 || n == t.me || u == nil || u.IsContact || t.asked[n] {
		return
	}
	c := t.contact(n)
	t.applyUser(c, u, false)
	t.addToRoster(c, n)
}

// OnFriendRequest: the user added a contact on XMPP; it becomes a Telegram contact too.
func (t *session) OnFriendRequest(c *gateway.Contact) error {
	n, err := parseUserID(c.ID())
	if err != nil {
		return err
	}
	if u := t.users[n]; u != nil && !u.IsContact {
		contact := req("contact", "user_id", n, "first_name", u.FirstName, "last_name", u.LastName,
			"phone_number", u.PhoneNumber, "vcard", "")
		t.callLogged(req("addContact", "contact", contact, "share_phone_number", false), callCtx{Op: "addcontact"})
	}
	c.SetFriend(true)
	return nil
}

// OnSearch finds a user by phone number (searchUserByPhoneNumber) or by @username
// (searchPublicChat).
func (t *session) OnSearch(request, query string) (abi.LegacyID, error) {
	q := strings.TrimSpace(query)
	if q == "" {
		return "", errors.New("give a phone number in international format or a @username")
	}
	if p, err := normalizePhone(q); err == nil {
		if err := t.call(req("searchUserByPhoneNumber", "phone_number", p, "only_local", false),
			callCtx{Op: "search_phone", Req: request, Query: p}); err != nil {
			return "", err
		}
		return "", gateway.ErrLater
	}
	name := strings.TrimPrefix(q, "@")
	if !validUsername(name) {
		return "", errors.New("search for a phone number in international format (e.g. +33612345678) or a @username")
	}
	if err := t.call(req("searchPublicChat", "username", name), callCtx{Op: "search_user", Req: request, Query: "@" + name}); err != nil {
		return "", err
	}
	return "", gateway.ErrLater
}

// validUsername: 4 to 32 letters, digits and underscores, starting with a letter (Telegram's
// rule, give or take collectible usernames).
func validUsername(s string) bool {
	if len(s) < 4 || len(s) > 32 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '_'):
		default:
			return false
		}
	}
	return true
}

func (t *session) onSearch(ctx callCtx, resp json.RawMessage, err error) error {
	var n int64
	if err == nil {
		if ctx.Op == "search_phone" {
			var u tdUser
			if unmarshal(resp, &u) == nil && u.ID > 0 {
				n = int64(u.ID)
				t.users[n] = &u
			}
		} else {
			var ch tdChat
			if unmarshal(resp, &ch) == nil && ch.ChatType.Type == "chatTypePrivate" {
				n = int64(ch.ChatType.UserID)
				t.chats[n] = true
			} else {
				err = errors.New(ctx.Query + " is not a user (a group or a channel?)")
			}
		}
	}
	var res error
	switch {
	case err != nil:
		res = t.s.SearchResult(ctx.Req, "", "Telegram found nobody for "+ctx.Query+": "+reason(err))
	case n <= 0:
		res = t.s.SearchResult(ctx.Req, "", "Telegram found nobody for "+ctx.Query)
	default:
		t.contact(n)
		res = t.s.SearchResult(ctx.Req, legacyID(n), "")
	}
	if res != nil {
		t.s.Logf(abi.LogInfo, "telegram: search.result: %v", res)
	}
	return nil
}
