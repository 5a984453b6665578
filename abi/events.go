package abi

import "encoding/json"

// Envelope is the JSON object handed to ExportEvent. Session is the bare JID of the XMPP user the
// event belongs to (empty for EventInit); Chat is set for events about one conversation.
type Envelope struct {
	Type    EventType       `json:"type"`
	Session string          `json:"session,omitempty"`
	Chat    *Chat           `json:"chat,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// EventType names an event (host -> plugin). A minor version may add event types; a plugin
// returns StatusUnhandled for a type it does not know.
type EventType string

// Events of ABI v1: what the host tells the plugin. Each names its payload type and its reply.
const (
	// EventInit is the first event of every instance. Payload Init; reply InitReply.
	EventInit EventType = "init"

	// EventLogin starts the session of a registered user. Payload Login. The plugin logs in to the
	// network and ends with session.logged_in or session.login_failed (possibly after prompts).
	EventLogin EventType = "session.login"
	// EventLogout ends a session (gateway shutdown, user request). Payload none.
	EventLogout EventType = "session.logout"
	// EventUnregister: the user removes their registration; the plugin logs out on the network and
	// forgets the account. The host then deletes everything it holds for the user. Payload none.
	EventUnregister EventType = "session.unregister"
	// EventRestored: the session was moved to a fresh instance (the previous one crashed). The
	// plugin rebuilds its cache from the host (contact.list, kv.get). Payload none.
	EventRestored EventType = "session.restored"
	// EventInput is the user's answer to a session.prompt. Payload Input.
	EventInput EventType = "session.input"
	// EventValidate asks the plugin to check a registration form. Payload Validate; the plugin
	// answers with registration.result, now or later. Default: accept.
	EventValidate EventType = "registration.validate"
	// EventSearch: the user looks for someone (a phone number, a user name). Payload Search; the
	// plugin answers with search.result. Default: not supported.
	EventSearch EventType = "search"

	// EventFill asks for the roster at login: the plugin calls contact.get / contact.update for each
	// contact, now or as they arrive. Default: nothing.
	EventFill EventType = "roster.fill"
	// EventJIDToLegacy maps a JID local part to a legacy id. Payload JIDToLegacy; reply
	// JIDToLegacyReply, or StatusError with CodeInvalid. Default: XEP-0106 unescape.
	EventJIDToLegacy EventType = "contact.jid_username_to_legacy_id"
	// EventLegacyToJID maps a legacy id to a JID local part. Payload LegacyToJID; reply
	// LegacyToJIDReply. Default: XEP-0106 escape.
	EventLegacyToJID EventType = "contact.legacy_id_to_jid_username"
	// EventUpdateInfo asks for a contact's info (name, avatar, vCard, presence); the plugin ends it
	// with contact.ready or contact.failed, now or later. Payload ContactRef. Default: ready as is.
	EventUpdateInfo EventType = "contact.update_info"
	// EventFriendRequest: the user asked to add a contact (subscribe). Payload ContactRef. The
	// plugin answers with contact.update {friend: true} or leaves it. Default: accept.
	EventFriendRequest EventType = "contact.friend_request"

	// EventText: the user sent a message to a contact. Payload Text (Chat set). The plugin reports
	// message.sent or message.failed with the same id.
	EventText EventType = "message.text"
	// EventFile: the user sent a file (a URL). Payload FileMessage (Chat set). Reported as EventText.
	EventFile EventType = "message.file"
	// EventCorrect: the user edited a message (XEP-0308). Payload Correct (Chat set).
	EventCorrect EventType = "message.correct"
	// EventRetract: the user retracted a message (XEP-0424). Payload Retract (Chat set).
	EventRetract EventType = "message.retract"
	// EventReact: the user's reactions to a message changed (XEP-0444). Payload React (Chat set).
	EventReact EventType = "message.react"
	// EventDisplayed: the user read up to a message (XEP-0333). Payload Displayed (Chat set).
	EventDisplayed EventType = "message.displayed"
	// EventChatState: the user's chat state (XEP-0085). Payload ChatState (Chat set).
	EventChatState EventType = "chat.state"

	// EventBridgeResponse is the answer to a bridge.call. Payload BridgeResponse.
	EventBridgeResponse EventType = "bridge.response"
	// EventBridgeEvent is something a bridge reports by itself (a TDLib update). Payload BridgeEvent.
	EventBridgeEvent EventType = "bridge.event"
	// EventTimer: a timer set with timer.set fired. Payload Timer.
	EventTimer EventType = "timer.fired"
	// EventFileFetched is the answer to file.fetch. Payload FileFetched.
	EventFileFetched EventType = "file.fetched"
)

// Init is the payload of EventInit.
type Init struct {
	// Gateway is the component JID, e.g. "telegram.example.org".
	Gateway string `json:"gateway"`
	// ABI is the host's ABI version, "1.0".
	ABI string `json:"abi"`
	// Config is the gateway's [gateway.config] table.
	Config json.RawMessage `json:"config"`
	// Bridges are the bridge names this gateway is granted.
	Bridges []string `json:"bridges,omitempty"`
}

// InitReply is what the plugin declares about itself.
type InitReply struct {
	Name         string   `json:"name"`                // human name of the network, e.g. "Telegram"
	Registration Form     `json:"registration"`        // the fields a user fills to register
	Reactions    []string `json:"reactions,omitempty"` // allowed reactions; empty: any
	// Features lists optional behaviour the plugin supports, e.g. "search", "files", "corrections".
	Features []string `json:"features,omitempty"`
}

// Login is the payload of EventLogin: the answers the user gave at registration.
type Login struct {
	Registration Values `json:"registration"`
}

// Input is the payload of EventInput.
type Input struct {
	Prompt string `json:"prompt"` // the id given in session.prompt
	Text   string `json:"text"`
	// Expired is set, with an empty Text, when the user did not answer in time.
	Expired bool `json:"expired,omitempty"`
}

// Validate is the payload of EventValidate.
type Validate struct {
	Request string `json:"request"`
	Values  Values `json:"values"`
}

// Search is the payload of EventSearch.
type Search struct {
	Request string `json:"request"`
	Query   string `json:"query"`
}

// JIDToLegacy is the payload of EventJIDToLegacy.
type JIDToLegacy struct {
	Username string `json:"username"`
}

// JIDToLegacyReply is the reply to EventJIDToLegacy.
type JIDToLegacyReply struct {
	LegacyID LegacyID `json:"legacy_id"`
}

// LegacyToJID is the payload of EventLegacyToJID.
type LegacyToJID struct {
	LegacyID LegacyID `json:"legacy_id"`
}

// LegacyToJIDReply is the reply to EventLegacyToJID.
type LegacyToJIDReply struct {
	Username string `json:"username"`
}

// ContactRef names a contact.
type ContactRef struct {
	LegacyID LegacyID `json:"legacy_id"`
}

// Text is the payload of EventText.
type Text struct {
	ID       string      `json:"id"`                  // the XMPP message id (used by message.sent)
	OriginID string      `json:"origin_id,omitempty"` // XEP-0359 origin id, if any
	Text     string      `json:"text"`                // the body, reply fallback removed
	ReplyTo  LegacyMsgID `json:"reply_to,omitempty"`  // XEP-0461 target, resolved to the network's id
	Thread   string      `json:"thread,omitempty"`
}

// FileMessage is the payload of EventFile.
type FileMessage struct {
	ID      string      `json:"id"`
	URL     string      `json:"url"`
	Name    string      `json:"name,omitempty"`
	Type    string      `json:"type,omitempty"`
	Size    int64       `json:"size,omitempty"`
	Caption string      `json:"caption,omitempty"`
	ReplyTo LegacyMsgID `json:"reply_to,omitempty"`
}

// Correct is the payload of EventCorrect.
type Correct struct {
	ID     string      `json:"id"`     // the correction's XMPP id
	Target LegacyMsgID `json:"target"` // the corrected message, resolved to the network's id
	Text   string      `json:"text"`
}

// Retract is the payload of EventRetract.
type Retract struct {
	ID     string      `json:"id"`
	Target LegacyMsgID `json:"target"`
}

// React is the payload of EventReact: the full set of the user's reactions on Target now.
type React struct {
	ID        string      `json:"id"`
	Target    LegacyMsgID `json:"target"`
	Reactions []string    `json:"reactions"`
}

// Displayed is the payload of EventDisplayed.
type Displayed struct {
	Target LegacyMsgID `json:"target"`
}

// State is a chat state (XEP-0085).
type State string

// Chat states.
const (
	StateActive    State = "active"
	StateComposing State = "composing"
	StatePaused    State = "paused"
	StateInactive  State = "inactive"
	StateGone      State = "gone"
)

// ChatState is the payload of EventChatState.
type ChatState struct {
	State State `json:"state"`
}

// BridgeResponse is the payload of EventBridgeResponse.
type BridgeResponse struct {
	Token    string          `json:"token"`
	Context  json.RawMessage `json:"context,omitempty"`
	Response json.RawMessage `json:"response,omitempty"`
	Error    *Error          `json:"error,omitempty"`
}

// BridgeEvent is the payload of EventBridgeEvent.
type BridgeEvent struct {
	Bridge string          `json:"bridge"`
	Event  json.RawMessage `json:"event"`
}

// Timer is the payload of EventTimer.
type Timer struct {
	Timer   string          `json:"timer"`
	Context json.RawMessage `json:"context,omitempty"`
}

// FileFetched is the payload of EventFileFetched.
type FileFetched struct {
	Token   string          `json:"token"`
	Context json.RawMessage `json:"context,omitempty"`
	File    *File           `json:"file,omitempty"`
	Error   *Error          `json:"error,omitempty"`
}
