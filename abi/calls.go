package abi

import "encoding/json"

// Method names a host call (plugin -> host), made with ImportCall during an event. A call acts on
// the session of the event being handled; calls made during EventInit have no session and may
// only use methods marked "no session".
type Method string

// Host calls of ABI v1. Each names its request and response types; "-> {}" means an empty object.
const (
	// Contacts: the roster singletons (slidge's LegacyRoster / LegacyContact).

	// CallContactGet returns the contact singleton for a legacy id, creating it at the first
	// lookup (info pending: the host queues contact.update_info once). ContactGet -> Contact.
	CallContactGet Method = "contact.get"
	// CallContactList returns every contact the host knows for the session. {} -> ContactList.
	CallContactList Method = "contact.list"
	// CallContactUpdate changes what the user sees of a contact: name, avatar, vCard, presence,
	// client type, friend. Only the fields present change. ContactUpdate -> {}.
	CallContactUpdate Method = "contact.update"
	// CallContactAdd adds the contact to the user's roster (or asks the user to). ContactRef -> {}.
	CallContactAdd Method = "contact.add"
	// CallContactReady ends update_info successfully. ContactRef -> {}.
	CallContactReady Method = "contact.ready"
	// CallContactFailed ends update_info with an error. ContactFailed -> {}.
	CallContactFailed Method = "contact.failed"

	// What a contact did, towards the XMPP user. With Carbon set, the user did it from another
	// client of the network: the host sends it as the user's own action.

	// CallContactText: a message from the contact. ContactText -> {}.
	CallContactText Method = "contact.text"
	// CallContactFile: a file from the contact. ContactFile -> {}.
	CallContactFile Method = "contact.file"
	// CallContactCorrect: the contact edited a message. ContactCorrect -> {}.
	CallContactCorrect Method = "contact.correct"
	// CallContactRetract: the contact deleted a message. ContactMsgRef -> {}.
	CallContactRetract Method = "contact.retract"
	// CallContactReact: the contact's full set of reactions on a message. ContactReact -> {}.
	CallContactReact Method = "contact.react"
	// CallContactDisplayed: the contact read up to a message. ContactMsgRef -> {}.
	CallContactDisplayed Method = "contact.displayed"
	// CallContactReceived: the contact's device received a message. ContactMsgRef -> {}.
	CallContactReceived Method = "contact.received"
	// CallContactState: the contact's chat state (composing, paused, ...). ContactState -> {}.
	CallContactState Method = "contact.state"

	// Messages the user sent: the network's verdict.

	// CallMessageSent: the network accepted the user's message; ties the XMPP id to the legacy
	// id, and lets the host send the delivery receipt. MessageSent -> {}.
	CallMessageSent Method = "message.sent"
	// CallMessageFailed: the network refused the user's message; the user gets an error stanza
	// on it. MessageFailed -> {}.
	CallMessageFailed Method = "message.failed"

	// The session (slidge's BaseSession).

	// CallLoggedIn: login succeeded; Status is shown as the gateway's status. SessionStatus -> {}.
	CallLoggedIn Method = "session.logged_in"
	// CallLoginFailed: login failed; the user is told why. SessionError -> {}.
	CallLoginFailed Method = "session.login_failed"
	// CallLogout: the network ended the session (revoked from elsewhere). SessionError -> {}.
	CallLogout Method = "session.logout"
	// CallStatus sets the gateway's presence status text for the user. SessionStatus -> {}.
	CallStatus Method = "session.status"
	// CallGatewayMessage sends the user a chat message from the gateway JID. GatewayMessage -> {}.
	CallGatewayMessage Method = "session.message"
	// CallPrompt asks the user for input (a code, a password); the answer is session.input. Prompt -> {}.
	CallPrompt Method = "session.prompt"
	// CallRegistrationResult answers registration.validate. RegistrationResult -> {}.
	CallRegistrationResult Method = "registration.result"
	// CallSearchResult answers search. SearchResult -> {}.
	CallSearchResult Method = "search.result"

	// Plugin storage, per user, in the host's store (a quota applies).

	// CallKVGet: KVKey -> KVValue (CodeNotFound if absent).
	CallKVGet Method = "kv.get"
	// CallKVSet: KVSet -> {} (CodeQuota past the gateway's storage quota).
	CallKVSet Method = "kv.set"
	// CallKVDelete: KVKey -> {}.
	CallKVDelete Method = "kv.delete"
	// CallKVKeys: KVKey (Key used as a prefix) -> KVKeys.
	CallKVKeys Method = "kv.keys"

	// Asynchronous work: each returns at once; the answer comes later as an event.

	// CallTimerSet sets (or resets) a named timer; EventTimer fires once. TimerSet -> {}.
	CallTimerSet Method = "timer.set"
	// CallTimerCancel cancels a timer; no error if it is gone. TimerRef -> {}.
	CallTimerCancel Method = "timer.cancel"
	// CallBridgeCall sends a request to a granted bridge; the answer is EventBridgeResponse with
	// the same token and context. BridgeCall -> Token.
	CallBridgeCall Method = "bridge.call"
	// CallFileFetch downloads a URL into a host file handle (size-capped; loopback and private
	// addresses refused); the answer is EventFileFetched. FileFetch -> Token.
	CallFileFetch Method = "file.fetch"
	// CallFileRelease drops a file handle. FileRef -> {}.
	CallFileRelease Method = "file.release"
)

// ContactList is the response of CallContactList.
type ContactList struct {
	Contacts []Contact `json:"contacts"`
}

// ContactUpdate is the request of CallContactUpdate: nil fields are left as they are.
type ContactUpdate struct {
	LegacyID   LegacyID  `json:"legacy_id"`
	Name       *string   `json:"name,omitempty"`
	Avatar     *Avatar   `json:"avatar,omitempty"`
	VCard      *VCard    `json:"vcard,omitempty"`
	Presence   *Presence `json:"presence,omitempty"`
	ClientType *string   `json:"client_type,omitempty"`
	Friend     *bool     `json:"friend,omitempty"`
}

// ContactFailed is the request of CallContactFailed.
type ContactFailed struct {
	LegacyID LegacyID `json:"legacy_id"`
	Error    string   `json:"error"`
}

// MsgMeta is what every contact.* message call carries.
type MsgMeta struct {
	LegacyID LegacyID `json:"legacy_id"`        // the contact
	Carbon   bool     `json:"carbon,omitempty"` // the user did it from another client
	// When is a Unix time in milliseconds for anything not live (XEP-0203 delay); 0 = now.
	When int64 `json:"when,omitempty"`
}

// ContactText is the request of CallContactText.
type ContactText struct {
	MsgMeta
	ID      LegacyMsgID `json:"id"` // the network's id of the message
	Text    string      `json:"text"`
	ReplyTo LegacyMsgID `json:"reply_to,omitempty"`
	// ReplyText is the quoted text for the reply fallback, if known.
	ReplyText string `json:"reply_text,omitempty"`
}

// ContactFile is the request of CallContactFile.
type ContactFile struct {
	MsgMeta
	ID      LegacyMsgID `json:"id"`
	File    File        `json:"file"`
	Caption string      `json:"caption,omitempty"`
	ReplyTo LegacyMsgID `json:"reply_to,omitempty"`
}

// ContactCorrect is the request of CallContactCorrect.
type ContactCorrect struct {
	MsgMeta
	ID   LegacyMsgID `json:"id"` // the corrected message
	Text string      `json:"text"`
}

// ContactMsgRef is the request of retract, displayed and received.
type ContactMsgRef struct {
	MsgMeta
	ID LegacyMsgID `json:"id"`
}

// ContactReact is the request of CallContactReact.
type ContactReact struct {
	MsgMeta
	ID        LegacyMsgID `json:"id"`
	Reactions []string    `json:"reactions"`
}

// ContactState is the request of CallContactState.
type ContactState struct {
	MsgMeta
	State State `json:"state"`
}

// MessageSent is the request of CallMessageSent.
type MessageSent struct {
	ID       string      `json:"id"`        // the XMPP id from the event
	LegacyID LegacyMsgID `json:"legacy_id"` // the network's id
}

// MessageFailed is the request of CallMessageFailed.
type MessageFailed struct {
	ID    string `json:"id"`
	Error string `json:"error"`
}

// SessionStatus is the request of CallLoggedIn and CallStatus.
type SessionStatus struct {
	Status string `json:"status,omitempty"`
	Show   Show   `json:"show,omitempty"`
}

// SessionError is the request of CallLoginFailed and CallLogout.
type SessionError struct {
	Error string `json:"error"`
}

// GatewayMessage is the request of CallGatewayMessage.
type GatewayMessage struct {
	Text string `json:"text"`
}

// Prompt is the request of CallPrompt.
type Prompt struct {
	Prompt string `json:"prompt"`           // an id, echoed in session.input
	Text   string `json:"text"`             // what the user is asked
	Secret bool   `json:"secret,omitempty"` // a password: shown as a private form field
}

// RegistrationResult is the request of CallRegistrationResult.
type RegistrationResult struct {
	Request string `json:"request"`
	Error   string `json:"error,omitempty"` // empty: the form is accepted
}

// SearchResult is the request of CallSearchResult.
type SearchResult struct {
	Request  string   `json:"request"`
	LegacyID LegacyID `json:"legacy_id,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// KVKey is the request of kv.get, kv.delete and kv.keys.
type KVKey struct {
	Key string `json:"key"`
}

// KVValue is the response of kv.get.
type KVValue struct {
	Value string `json:"value"`
}

// KVSet is the request of kv.set.
type KVSet struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// KVKeys is the response of kv.keys.
type KVKeys struct {
	Keys []string `json:"keys"`
}

// TimerSet is the request of CallTimerSet.
type TimerSet struct {
	Timer   string          `json:"timer"`
	AfterMS int64           `json:"after_ms"`
	Context json.RawMessage `json:"context,omitempty"`
}

// TimerRef is the request of CallTimerCancel.
type TimerRef struct {
	Timer string `json:"timer"`
}

// BridgeCall is the request of CallBridgeCall.
type BridgeCall struct {
	Bridge  string          `json:"bridge"`
	Request json.RawMessage `json:"request"`
	Context json.RawMessage `json:"context,omitempty"`
}

// Token is the response of asynchronous calls: the id the answer event will carry.
type Token struct {
	Token string `json:"token"`
}

// FileFetch is the request of CallFileFetch.
type FileFetch struct {
	URL     string          `json:"url"`
	MaxSize int64           `json:"max_size,omitempty"`
	Context json.RawMessage `json:"context,omitempty"`
}

// FileRef is the request of CallFileRelease.
type FileRef struct {
	Handle string `json:"handle"`
}
