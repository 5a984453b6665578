// Package roster keeps one user's contacts as singletons (slidge's LegacyRoster): a contact is
// identified by its legacy id, created at the first lookup, found again by legacy id or by the
// local part of its puppet JID, and persisted so that a restart does not fetch everyone again.
//
// A Roster is owned by one session and is not safe for concurrent use; the session's serial
// processing is what makes it consistent.
package roster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/store"
)

// Avatar is what the roster remembers of a contact's picture; the bytes live in the store.
type Avatar struct {
	Hash      string `json:"hash"` // sha-1 hex of the bytes (XEP-0084 id, XEP-0153 hash)
	Type      string `json:"type,omitempty"`
	Bytes     int    `json:"bytes,omitempty"`
	Width     int    `json:"width,omitempty"`
	Height    int    `json:"height,omitempty"`
	NetworkID string `json:"network_id,omitempty"` // the plugin's id of the picture
}

// Contact is one contact singleton.
type Contact struct {
	LegacyID   string       `json:"-"`
	Username   string       `json:"username"` // the puppet JID's local part
	Name       string       `json:"name,omitempty"`
	ClientType string       `json:"client_type,omitempty"`
	Friend     bool         `json:"friend,omitempty"`
	Presence   abi.Presence `json:"presence"`
	VCard      abi.VCard    `json:"vcard"`
	Avatar     *Avatar      `json:"avatar,omitempty"`
	// Ready is set when update_info ended (contact.ready or contact.failed).
	Ready bool `json:"ready,omitempty"`
	// Failed keeps why update_info failed.
	Failed string `json:"failed,omitempty"`
	// SentPresence is what presence was last sent to the user (not persisted: after a restart
	// every presence is sent again).
	SentPresence string `json:"-"`
	// InRoster is set once the contact was pushed to (or accepted into) the user's roster.
	InRoster bool `json:"in_roster,omitempty"`
	// RosterName and RosterGroups are what was last pushed, to push only changes.
	RosterName   string   `json:"roster_name,omitempty"`
	RosterGroups []string `json:"roster_groups,omitempty"`

	dirty   bool
	changed bool
}

// ABI returns the contact as the plugin sees it, with its puppet JID on domain.
func (c *Contact) ABI(domain string) abi.Contact {
	out := abi.Contact{
		LegacyID: c.LegacyID, JID: c.Username + "@" + domain, Name: c.Name,
		ClientType: c.ClientType, Friend: c.Friend, Ready: c.Ready,
	}
	if c.Presence.Show != "" {
		p := c.Presence
		out.Presence = &p
	}
	if c.VCard != (abi.VCard{}) {
		v := c.VCard
		out.VCard = &v
	}
	if c.Avatar != nil {
		out.AvatarID = c.Avatar.NetworkID
	}
	return out
}

// Touch marks the contact changed, to be written at the next Flush.
func (c *Contact) Touch() { c.dirty = true }

// Roster is the contacts of one user of one gateway.
type Roster struct {
	st      *store.Store
	gw      string
	user    string
	byID    map[string]*Contact
	byLocal map[string]*Contact // by case-folded username
	dirty   []*Contact
	changed []*Contact // changed since the last TakeChanged, for the user's view
}

// Load reads the user's contacts from the store.
func Load(ctx context.Context, st *store.Store, gw, user string) (*Roster, error) {
	r := &Roster{st: st, gw: gw, user: user, byID: map[string]*Contact{}, byLocal: map[string]*Contact{}}
	rows, err := st.Contacts(ctx, gw, user)
	if err != nil {
		return nil, fmt.Errorf("roster of %s: %w", user, err)
	}
	for _, row := range rows {
		c := &Contact{LegacyID: row.LegacyID}
		if err := json.Unmarshal(row.Info, c); err != nil {
			return nil, fmt.Errorf("roster of %s: contact %q: %w", user, row.LegacyID, err)
		}
		r.index(c)
	}
	return r, nil
}

func (r *Roster) index(c *Contact) {
	r.byID[c.LegacyID] = c
	r.byLocal[strings.ToLower(c.Username)] = c
}

// ErrUsernameTaken reports a mapping that gives two legacy ids the same puppet JID.
var ErrUsernameTaken = errors.New("roster: two contacts map to the same JID")

// Get returns the contact with legacy id id, or nil.
func (r *Roster) Get(id string) *Contact { return r.byID[id] }

// ByUsername returns the contact whose puppet local part is username (case-insensitively), or nil.
func (r *Roster) ByUsername(username string) *Contact {
	if c, ok := r.byLocal[username]; ok {
		return c
	}
	return r.byLocal[strings.ToLower(username)]
}

// Create adds a new contact id with puppet local part username; it is written at the next Flush.
func (r *Roster) Create(id, username string) (*Contact, error) {
	if c := r.byID[id]; c != nil {
		return c, nil
	}
	if other := r.ByUsername(username); other != nil {
		return nil, fmt.Errorf("%w: %q and %q both map to %q", ErrUsernameTaken, other.LegacyID, id, username)
	}
	c := &Contact{LegacyID: id, Username: username}
	r.index(c)
	r.MarkDirty(c)
	return c, nil
}

// MarkDirty queues c to be written at the next Flush, and to be shown to the user.
func (r *Roster) MarkDirty(c *Contact) {
	if !c.dirty {
		c.dirty = true
		r.dirty = append(r.dirty, c)
	}
	if !c.changed {
		c.changed = true
		r.changed = append(r.changed, c)
	}
}

// TakeChanged returns the contacts changed since the last call, in the order they changed.
func (r *Roster) TakeChanged() []*Contact {
	out := r.changed
	for _, c := range out {
		c.changed = false
	}
	r.changed = nil
	return out
}

// Len returns the number of contacts.
func (r *Roster) Len() int { return len(r.byID) }

// All returns the contacts ordered by legacy id.
func (r *Roster) All() []*Contact {
	out := make([]*Contact, 0, len(r.byID))
	for _, c := range r.byID {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LegacyID < out[j].LegacyID })
	return out
}

// Flush writes every changed contact to the store in one transaction.
func (r *Roster) Flush(ctx context.Context) error {
	if len(r.dirty) == 0 {
		return nil
	}
	rows := make([]store.Contact, 0, len(r.dirty))
	now := time.Now()
	for _, c := range r.dirty {
		info, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("roster of %s: encode %q: %w", r.user, c.LegacyID, err)
		}
		rows = append(rows, store.Contact{Gateway: r.gw, JID: r.user, LegacyID: c.LegacyID, Info: info, UpdatedAt: now})
	}
	if err := r.st.PutContacts(ctx, rows); err != nil {
		return fmt.Errorf("roster of %s: %w", r.user, err)
	}
	for _, c := range r.dirty {
		c.dirty = false
	}
	r.dirty = r.dirty[:0]
	return nil
}

// Reset forgets every contact in memory (after the store rows were deleted).
func (r *Roster) Reset() {
	clear(r.byID)
	clear(r.byLocal)
	r.dirty = r.dirty[:0]
	r.changed = nil
}
