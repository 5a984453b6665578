package gateway

import (
	"encoding/json"
	"errors"

	"github.com/xmppgw/gateway/abi"
)

// Plugin is a legacy network (slidge's BaseGateway). Register one from an init function.
type Plugin interface {
	// Init is called once per instance, first. It declares the network: its name, the
	// registration form, the features it supports. It must be fast and may not use a session.
	Init(cfg Config) (abi.InitReply, error)
	// NewSession returns the handler of a user's session (slidge's BaseSession). It is called at
	// the first event of that user in this instance: session.login, or session.restored when
	// the session moved here from a crashed instance (or registration.validate before the user
	// registered). s stays valid until the session ends; keep it in the handler.
	NewSession(s *Session) SessionHandler
}

// Config is what the gateway tells the plugin at init.
type Config struct {
	// Gateway is the component JID, e.g. "telegram.example.org".
	Gateway string
	// ABI is the host's ABI version, e.g. "1.0".
	ABI string
	// Bridges are the names of the bridges this gateway is granted.
	Bridges []string
	// Raw is the gateway's [gateway.config] table as JSON.
	Raw json.RawMessage

	rt *runtime
}

// Decode decodes the gateway's config table into v (nothing to do when it is empty).
func (c Config) Decode(v any) error {
	if len(c.Raw) == 0 || string(c.Raw) == "null" {
		return nil
	}
	return json.Unmarshal(c.Raw, v)
}

// Log writes a line to the gateway's log.
func (c Config) Log(level abi.LogLevel, msg string) {
	if c.rt != nil {
		c.rt.host.Log(int32(level), msg)
	}
}

// SessionHandler handles the events of one user's session: what the XMPP user did, and what the
// gateway asks of the plugin. Embed BaseSession to implement only some of the methods: the
// others return ErrUnhandled, and the host applies its default.
//
// Every method runs during one event and must return promptly: anything slow is an
// asynchronous call (Session.Bridge, Session.After, Session.Fetch) whose answer comes back in a
// later event, through a callback. Use the Session, not goroutines: goroutines do not run
// between events. Unless said otherwise, an error (other than ErrUnhandled) makes the event fail
// with an error the user sees (an *abi.Error keeps its code; other errors get abi.CodeNetwork).
//
// Several methods end with an answer the host waits for (logged in, message sent, contact
// ready, ...). The SDK sends it when the method returns, from what it returned, unless the
// method already sent it itself, or returned ErrLater: then the plugin sends it later, from a
// callback.
type SessionHandler interface {
	// OnLogin logs the user in to the network with the answers given at registration. A nil
	// error means logged in, with status as the gateway's status text (LoggedIn); an error
	// means login failed (LoginFailed). Prompts (Session.Prompt) may come first: return
	// ErrLater and end with Session.LoggedIn or Session.LoginFailed.
	OnLogin(registration abi.Values) (status string, err error)
	// OnLogout ends the session (gateway shutdown, user request). The session is dropped after.
	OnLogout() error
	// OnUnregister: the user removed their registration. Log out on the network and forget the
	// account. The session is dropped after; the host deletes what it holds for the user.
	OnUnregister() error
	// OnInput is the user's answer to Session.Prompt(prompt, ...). A prompt the user left
	// unanswered past the gateway's timeout goes to InputExpiredHandler if the session
	// implements it, else here with an empty text.
	OnInput(prompt, text string) error
	// OnFill builds the roster at login: call Session.Contact for each contact (and set what
	// is known of it), now or as the network reports them. Default: nothing.
	OnFill() error
	// OnUpdateInfo fetches a contact's info (name, avatar, vCard, presence) at its first
	// lookup. nil: the contact is ready (Contact.Ready); an error: Contact.Failed. Default:
	// ready as it is.
	OnUpdateInfo(c *Contact) error
	// OnFriendRequest: the user asked to add c. Accept with c.SetFriend(true). Default: accept.
	OnFriendRequest(c *Contact) error
	// OnText: the user messaged c. Send it to the network and return the network's id of the
	// message (MessageSent), or an error (MessageFailed with its text).
	OnText(c *Contact, m abi.Text) (abi.LegacyMsgID, error)
	// OnFile: the user sent c a file (a URL). As OnText.
	OnFile(c *Contact, m abi.FileMessage) (abi.LegacyMsgID, error)
	// OnCorrect: the user edited m.Target (a network id) to m.Text.
	OnCorrect(c *Contact, m abi.Correct) error
	// OnRetract: the user retracted m.Target.
	OnRetract(c *Contact, m abi.Retract) error
	// OnReact: the user's reactions on m.Target are now m.Reactions (all of them).
	OnReact(c *Contact, m abi.React) error
	// OnDisplayed: the user read c's messages up to target.
	OnDisplayed(c *Contact, target abi.LegacyMsgID) error
	// OnChatState: the user's chat state towards c (composing, paused, ...).
	OnChatState(c *Contact, state abi.State) error
	// OnSearch: the user looks for someone. Return the contact found (SearchResult), or an
	// error whose text the user sees. Default: search not supported.
	OnSearch(request, query string) (abi.LegacyID, error)
	// OnValidate checks a registration form before the user is registered: nil accepts it, an
	// error rejects it with its text (RegistrationResult). Default: accept.
	OnValidate(request string, values abi.Values) error
}

// Optional hooks: a SessionHandler (or, for events without a session, the Plugin) implements
// them to take over what the host does by default.

// JIDMapper maps JID local parts to legacy ids (slidge's jid_username_to_legacy_id). Default:
// XEP-0106 unescape. Return an error (an *abi.Error with abi.CodeInvalid, by default) to refuse.
type JIDMapper interface {
	JIDUsernameToLegacyID(username string) (abi.LegacyID, error)
}

// LegacyIDMapper maps legacy ids to JID local parts (slidge's legacy_id_to_jid_username).
// Default: XEP-0106 escape.
type LegacyIDMapper interface {
	LegacyIDToJIDUsername(id abi.LegacyID) (string, error)
}

// Restorer is told that the session was moved to this instance after the previous one
// crashed: rebuild caches from the host (Session.Contacts, Session.KVGet). Callbacks of calls
// made by the old instance are lost; their answers go to the hooks below, with the context
// given at call time.
type Restorer interface {
	OnRestored() error
}

// InputExpiredHandler is told that the user did not answer Session.Prompt(prompt, ...) in
// time; the host has already told the user that the question expired.
type InputExpiredHandler interface {
	OnInputExpired(prompt string) error
}

// BridgeEventHandler receives what a bridge reports by itself (a TDLib update).
type BridgeEventHandler interface {
	OnBridgeEvent(bridge string, event json.RawMessage) error
}

// BridgeResponseHandler receives bridge responses that have no callback: the call was made
// with a nil callback, or by an instance that is gone.
type BridgeResponseHandler interface {
	OnBridgeResponse(r BridgeResult) error
}

// TimerHandler receives timers that have no callback (nil, or set by an instance that is gone).
type TimerHandler interface {
	OnTimer(name string, context json.RawMessage) error
}

// FileFetchedHandler receives file fetches that have no callback.
type FileFetchedHandler interface {
	OnFileFetched(r FetchResult) error
}

// EventHandler receives every event the SDK does not handle itself: event types newer than
// this SDK, and answers without a callback when the specific hook above is not implemented.
// Return ErrUnhandled to let the host apply its default.
type EventHandler interface {
	OnEvent(ev Event) error
}

// Event is a raw event, as EventHandler receives it.
type Event struct {
	Type    abi.EventType
	Chat    *abi.Chat
	Payload json.RawMessage
}

// BridgeResult is the answer to a bridge call, as BridgeResponseHandler receives it.
type BridgeResult struct {
	Token string
	// Context is what the call was made with (Bridge.CallWith), or the raw context of a call
	// not made through this SDK.
	Context  json.RawMessage
	Response json.RawMessage
	Err      error
}

// FetchResult is the answer to a file fetch, as FileFetchedHandler receives it.
type FetchResult struct {
	Token   string
	Context json.RawMessage
	File    *abi.File
	Err     error
}

// ErrUnhandled, returned by a handler, makes the event StatusUnhandled: the host applies its
// default. BaseSession's methods return it.
var ErrUnhandled = errors.New("gateway: event not handled")

// ErrLater, returned by a handler, says the plugin will send the event's answer itself later
// (LoggedIn, MessageSent, Contact.Ready, RegistrationResult, SearchResult, ...).
var ErrLater = errors.New("gateway: answer follows later")

// ErrWrongSession is returned by a Session or Contact method called while another session's
// event is handled (or after the session ended): host calls always act on the session of the
// event being handled.
var ErrWrongSession = errors.New("gateway: call on a session whose event is not being handled")

// BaseSession implements every SessionHandler method with ErrUnhandled. Embed it.
type BaseSession struct{}

func (BaseSession) OnLogin(abi.Values) (string, error)                 { return "", ErrUnhandled }
func (BaseSession) OnLogout() error                                    { return ErrUnhandled }
func (BaseSession) OnUnregister() error                                { return ErrUnhandled }
func (BaseSession) OnInput(string, string) error                       { return ErrUnhandled }
func (BaseSession) OnFill() error                                      { return ErrUnhandled }
func (BaseSession) OnUpdateInfo(*Contact) error                        { return ErrUnhandled }
func (BaseSession) OnFriendRequest(*Contact) error                     { return ErrUnhandled }
func (BaseSession) OnText(*Contact, abi.Text) (abi.LegacyMsgID, error) { return "", ErrUnhandled }
func (BaseSession) OnFile(*Contact, abi.FileMessage) (abi.LegacyMsgID, error) {
	return "", ErrUnhandled
}
func (BaseSession) OnCorrect(*Contact, abi.Correct) error         { return ErrUnhandled }
func (BaseSession) OnRetract(*Contact, abi.Retract) error         { return ErrUnhandled }
func (BaseSession) OnReact(*Contact, abi.React) error             { return ErrUnhandled }
func (BaseSession) OnDisplayed(*Contact, abi.LegacyMsgID) error   { return ErrUnhandled }
func (BaseSession) OnChatState(*Contact, abi.State) error         { return ErrUnhandled }
func (BaseSession) OnSearch(string, string) (abi.LegacyID, error) { return "", ErrUnhandled }
func (BaseSession) OnValidate(string, abi.Values) error           { return ErrUnhandled }

var _ SessionHandler = BaseSession{}
