package abi

import "encoding/json"

// LegacyID identifies a contact (a user of the legacy network) as the plugin chooses, e.g. a
// Telegram user id in decimal.
type LegacyID = string

// LegacyMsgID identifies a message on the legacy network.
type LegacyMsgID = string

// ChatKind says what a chat is. ABI v1 has only one-to-one chats; the field exists so that group
// chats do not need a new major version.
type ChatKind string

// Chat kinds.
const (
	ChatDirect ChatKind = "direct"
	ChatGroup  ChatKind = "group" // reserved
)

// Chat names the conversation an event or call is about: the contact's legacy id for a direct chat.
type Chat struct {
	ID   LegacyID `json:"id"`
	Kind ChatKind `json:"kind"`
}

// Show is a presence state, as in XMPP.
type Show string

// Presence states. ShowOffline makes the contact unavailable.
const (
	ShowOnline  Show = "online"
	ShowChat    Show = "chat"
	ShowAway    Show = "away"
	ShowXA      Show = "xa"
	ShowDND     Show = "dnd"
	ShowOffline Show = "offline"
)

// Presence is a contact's presence as the network reports it.
type Presence struct {
	Show   Show   `json:"show"`
	Status string `json:"status,omitempty"`
	// LastSeen is a Unix time in seconds (XEP-0319 idle), 0 when unknown.
	LastSeen int64 `json:"last_seen,omitempty"`
}

// ClientType is the disco identity type of a puppet: "pc", "phone", "bot", "web", ...
type ClientType = string

// VCard is what the host serves as a contact's vCard (XEP-0054), all fields optional.
type VCard struct {
	FullName string `json:"full_name,omitempty"`
	Given    string `json:"given,omitempty"`
	Family   string `json:"family,omitempty"`
	Nickname string `json:"nickname,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	URL      string `json:"url,omitempty"`
	Note     string `json:"note,omitempty"`
}

// Avatar is a contact's picture: a file handle (from a fetch or a bridge download) or inline
// base64 data for small images. An Avatar with neither removes the picture.
type Avatar struct {
	Handle string `json:"handle,omitempty"`
	Data   []byte `json:"data,omitempty"` // base64 in JSON
	Type   string `json:"type,omitempty"` // MIME type, e.g. "image/png"
	// ID is a stable id of the picture on the network, so an unchanged one is not fetched again.
	ID string `json:"id,omitempty"`
}

// ContactGet is the request of contact.get. Username is the JID local part the plugin maps the
// legacy id to when it implements legacy_id_to_jid_username itself (the SDKs fill it in); when
// empty the host applies its default mapping (XEP-0106 escaping).
type ContactGet struct {
	LegacyID LegacyID `json:"legacy_id"`
	Username string   `json:"username,omitempty"`
}

// Contact is the host's record of a contact singleton, as contact.get and contact.list return it.
type Contact struct {
	LegacyID   LegacyID   `json:"legacy_id"`
	JID        string     `json:"jid"`
	Name       string     `json:"name,omitempty"`
	ClientType ClientType `json:"client_type,omitempty"`
	Friend     bool       `json:"friend"`
	Presence   *Presence  `json:"presence,omitempty"`
	VCard      *VCard     `json:"vcard,omitempty"`
	AvatarID   string     `json:"avatar_id,omitempty"`
	// Ready is false until the plugin's update_info ended with contact.ready or contact.failed.
	Ready bool `json:"ready"`
}

// Field is one field of a form the plugin asks the user to fill (registration, search), after
// XEP-0004 data forms.
type Field struct {
	Var      string   `json:"var"`
	Label    string   `json:"label,omitempty"`
	Type     string   `json:"type,omitempty"` // "text-single" (default), "text-private", "boolean", "list-single", "fixed"
	Required bool     `json:"required,omitempty"`
	Desc     string   `json:"desc,omitempty"`
	Options  []string `json:"options,omitempty"`
	Value    string   `json:"value,omitempty"` // default value
}

// Form is a set of fields with instructions.
type Form struct {
	Instructions string  `json:"instructions,omitempty"`
	Fields       []Field `json:"fields,omitempty"`
}

// Values are the answers to a Form, by field var.
type Values = map[string]string

// File describes a file handle the host holds for the plugin.
type File struct {
	Handle string `json:"handle"`
	Size   int64  `json:"size"`
	Type   string `json:"type,omitempty"`
	Name   string `json:"name,omitempty"`
}

// Raw is a JSON value passed through unchanged (a bridge request or response, a context).
type Raw = json.RawMessage
