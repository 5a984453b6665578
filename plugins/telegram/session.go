package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

// Keys of the plugin's storage (per user, in the host).
const (
	keyPhone   = "phone"   // the registered phone number
	keyMe      = "me"      // the account's own user id
	keyAuth    = "auth"    // the login's progress: "login", the prompt outstanding, or "ready"
	keyPending = "pend/"   // pend/<chat>/<temporary message id>: a send awaiting its final id
	keyOnline  = "online/" // online/<user>: the expiry of a pending online timer
)

// Login phases.
type phase int

const (
	phaseIdle  phase = iota // not logged in, not logging in
	phaseLogin              // logging in
	phaseReady              // logged in
)

// session is one user's Telegram session. Everything in it is a cache of what TDLib and the
// host hold: a fresh instance rebuilds it (OnRestored).
type session struct {
	gateway.BaseSession
	s *gateway.Session

	phone string
	me    int64
	phase phase
	// The login's progress: what was asked of TDLib or of the user, so that a state seen twice
	// (an update and the answer to getAuthorizationState) is acted on once.
	phoneSent bool
	meAsked   bool
	prompted  string // the prompt the user has not answered yet: "phone", "code", "password"
	closing   bool   // the plugin ended the TDLib session itself: its closing states are expected

	users   map[int64]*tdUser
	bios    map[int64]string // known bios (present, even empty, when known)
	known   map[int64]bool   // users whose contact the plugin looked up in the host
	asked   map[int64]bool   // non-contacts whose new chat became a subscription request
	chats   map[int64]bool   // private chats known to exist (by user id)
	avatars map[int64]string // profile photos being downloaded, by user
	full    map[int64]bool   // getUserFullInfo calls running
	online  map[int64]int64  // pending online-expiry timers: user -> expires (unix seconds)

	sends      map[msgKey]pendingSend // sends awaiting updateMessageSendSucceeded, by temporary id
	early      map[msgKey]int64       // final ids that came before the temporary id was known
	msgs       *msgCache
	ourEdits   map[msgKey]string // edits made from XMPP, not to be shown back as carbons
	ourDeletes map[msgKey]bool   // deletions made from XMPP
	readByUs   map[int64]int64   // chat -> the last message the user marked read from XMPP
	readInbox  map[int64]int64
	readOutbox map[int64]int64
	typing     map[int64]bool // chats where the user's typing was sent to Telegram
	typingTmr  map[int64]bool // contacts with a typing-expiry timer pending

	reqBuf, ctxBuf []byte // call's encoding buffers (the SDK copies what it is given)
}

func newSession(s *gateway.Session) *session {
	t := &session{s: s}
	t.reset()
	return t
}

// reset forgets everything: a new login starts afresh (the SDK keeps the handler of a session
// whose login failed or that the network logged out).
func (t *session) reset() {
	*t = session{s: t.s, BaseSession: t.BaseSession, reqBuf: t.reqBuf, ctxBuf: t.ctxBuf,
		users: map[int64]*tdUser{}, bios: map[int64]string{}, known: map[int64]bool{}, asked: map[int64]bool{},
		chats: map[int64]bool{}, avatars: map[int64]string{}, full: map[int64]bool{}, online: map[int64]int64{},
		sends: map[msgKey]pendingSend{}, early: map[msgKey]int64{}, msgs: newMsgCache(4096),
		ourEdits: map[msgKey]string{}, ourDeletes: map[msgKey]bool{}, readByUs: map[int64]int64{},
		readInbox: map[int64]int64{}, readOutbox: map[int64]int64{}, typing: map[int64]bool{},
		typingTmr: map[int64]bool{},
	}
}

// callCtx is the context of a bridge call, timer or fetch: what it was for, with enough to
// resume on a fresh instance.
type callCtx struct {
	Op      string          `json:"op"`
	X       string          `json:"x,omitempty"`  // the XMPP id of the user's action
	User    int64           `json:"u,omitempty"`  // the contact: the private chat's user
	Chat    int64           `json:"c,omitempty"`  // the chat
	Msg     int64           `json:"m,omitempty"`  // a message
	Reply   int64           `json:"r,omitempty"`  // the message replied to
	Handle  string          `json:"h,omitempty"`  // a fetched file to release when the send ends
	Content json.RawMessage `json:"ct,omitempty"` // the input_message_content to send
	Kind    string          `json:"k,omitempty"`  // a file's kind: photo, video, ...
	Name    string          `json:"n,omitempty"`  // a file's name
	Mime    string          `json:"t,omitempty"`  // a file's type
	Caption string          `json:"cap,omitempty"`
	Carbon  bool            `json:"cb,omitempty"` // the user did it from another app
	Ready   bool            `json:"rd,omitempty"` // end contact.update_info when done
	Photo   string          `json:"p,omitempty"`  // a profile photo's id
	Reacts  []string        `json:"re,omitempty"` // the user's reactions wanted
	Req     string          `json:"q,omitempty"`  // a search's request id
	Query   string          `json:"qs,omitempty"` // what the user searched
	Expires int64           `json:"e,omitempty"`  // an online status's expiry
}

// call sends a TDLib request through the bridge; its answer comes to OnBridgeResponse with ctx.
func (t *session) call(request obj, ctx callCtx) error {
	t.reqBuf = request.appendJSON(t.reqBuf[:0])
	t.ctxBuf = ctx.appendJSON(t.ctxBuf[:0])
	return t.s.Bridge(cfg.bridge).CallWith(json.RawMessage(t.reqBuf), json.RawMessage(t.ctxBuf), nil)
}

// callLogged is call for requests whose failure to be sent is only logged.
func (t *session) callLogged(request obj, ctx callCtx) {
	if err := t.call(request, ctx); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: %s: %v", request.typ, err)
	}
}

// --- Registration and login ---

func (t *session) OnValidate(request string, values abi.Values) error {
	_, err := normalizePhone(values["phone"])
	return err
}

func (t *session) OnLogin(reg abi.Values) (string, error) {
	t.reset()
	phone, err := normalizePhone(reg["phone"])
	if err != nil {
		return "", err
	}
	t.phone, t.phase = phone, phaseLogin
	if err := t.s.KVSet(keyPhone, phone); err != nil {
		return "", err
	}
	_ = t.s.KVSet(keyAuth, "login")
	// Timers do not outlive the gateway: a new login forgets those of an earlier one.
	if keys, err := t.s.KVKeys(keyOnline); err == nil {
		for _, k := range keys {
			_ = t.s.KVDelete(k)
		}
	}
	if err := t.call(t.parameters(), callCtx{Op: "params"}); err != nil {
		return "", fmt.Errorf("the Telegram bridge is not available: %w", err)
	}
	return "", gateway.ErrLater
}

// parameters is setTdlibParameters; the host's bridge sets the folders, the database key, the
// api id and hash and the test DC itself, whatever is written here.
func (t *session) parameters() obj {
	return req("setTdlibParameters",
		"use_test_dc", false, "database_directory", "", "files_directory", "", "database_encryption_key", "",
		"use_file_database", true, "use_chat_info_database", true, "use_message_database", true,
		"use_secret_chats", false, "api_id", cfg.apiID, "api_hash", cfg.apiHash,
		"system_language_code", "en", "device_model", cfg.deviceModel, "system_version", "",
		"application_version", "1.0")
}

func (t *session) codePrompt() string { return "Enter the code Telegram sent to " + t.phone }

const passwordPrompt = "Enter your Telegram password (two-step verification is on for this account)"

// prompt asks the user; the login's progress is kept in storage, so that a fresh instance
// does not ask twice.
func (t *session) prompt(id, text string, secret bool) {
	t.prompted = id
	_ = t.s.KVSet(keyAuth, id)
	if err := t.s.Prompt(id, text, secret); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: prompt: %v", err)
	}
}

// onAuthState follows TDLib's authorization state (an update, or the answer to
// getAuthorizationState).
func (t *session) onAuthState(raw json.RawMessage) {
	var st authState
	if err := unmarshal(raw, &st); err != nil {
		return
	}
	switch st.Type {
	case "authorizationStateWaitTdlibParameters":
		// the first request (setTdlibParameters itself) makes TDLib say it waits for it
	case "authorizationStateWaitPhoneNumber":
		if t.phase == phaseLogin && !t.phoneSent {
			t.sendPhone()
		}
	case "authorizationStateWaitCode":
		if t.phase == phaseLogin && t.prompted != "code" {
			t.prompt("code", t.codePrompt(), false)
		}
	case "authorizationStateWaitPassword":
		if t.phase == phaseLogin && t.prompted != "password" {
			text := passwordPrompt
			if st.PasswordHint != "" {
				text += " (hint: " + st.PasswordHint + ")"
			}
			t.prompt("password", text, true)
		}
	case "authorizationStateWaitRegistration":
		t.loginFailed("this phone number has no Telegram account yet: sign up with an official Telegram app first")
	case "authorizationStateWaitOtherDeviceConfirmation", "authorizationStateWaitEmailAddress",
		"authorizationStateWaitEmailCode", "authorizationStateWaitPremiumPurchase":
		t.loginFailed("Telegram asks for a login step the gateway does not support (" + st.Type + ")")
	case "authorizationStateReady":
		if t.phase == phaseLogin && !t.meAsked {
			t.meAsked = true
			t.prompted = ""
			t.callLogged(req("getMe"), callCtx{Op: "me"})
		}
	case "authorizationStateLoggingOut", "authorizationStateClosing", "authorizationStateClosed":
		if t.closing {
			return
		}
		switch t.phase {
		case phaseReady:
			t.phase = phaseIdle
			_ = t.s.KVDelete(keyAuth)
			if err := t.s.Logout("this Telegram session was terminated (from another device, or by Telegram): " +
				"register again, or send \"re-login\" to log in again"); err != nil {
				t.s.Logf(abi.LogWarn, "telegram: logout: %v", err)
			}
		case phaseLogin:
			t.loginFailed("Telegram closed the session")
		}
	}
}

func (t *session) sendPhone() {
	t.phoneSent = true
	settings := req("phoneNumberAuthenticationSettings", "allow_flash_call", false, "allow_missed_call", false,
		"is_current_phone_number", false, "allow_sms_retriever_api", false, "authentication_tokens", []any{})
	t.callLogged(req("setAuthenticationPhoneNumber", "phone_number", t.phone, "settings", settings), callCtx{Op: "phone"})
}

func (t *session) loginFailed(reason string) {
	if t.phase != phaseLogin {
		return
	}
	t.phase = phaseIdle
	t.prompted = ""
	_ = t.s.KVDelete(keyAuth)
	if err := t.s.LoginFailed(reason); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: login_failed: %v", err)
	}
}

func (t *session) OnInput(prompt, text string) error {
	text = strings.TrimSpace(text)
	if t.phase != phaseLogin {
		return nil
	}
	if text == "" {
		// the question expired (the host told the user how to start again)
		t.prompted = ""
		return nil
	}
	t.prompted = ""
	_ = t.s.KVSet(keyAuth, "login")
	switch prompt {
	case "phone":
		p, err := normalizePhone(text)
		if err != nil {
			t.prompt("phone", err.Error()+" Enter your phone number:", false)
			return nil
		}
		t.phone = p
		_ = t.s.KVSet(keyPhone, p)
		t.sendPhone()
	case "code":
		return t.call(req("checkAuthenticationCode", "code", text), callCtx{Op: "code"})
	case "password":
		return t.call(req("checkAuthenticationPassword", "password", text), callCtx{Op: "password"})
	}
	return nil
}

// loggedIn ends the login: getMe answered.
func (t *session) loggedIn(me *tdUser) {
	t.me = int64(me.ID)
	t.phase = phaseReady
	_ = t.s.KVSet(keyMe, legacyID(t.me))
	_ = t.s.KVSet(keyAuth, "ready")
	phone := t.phone
	if me.PhoneNumber != "" {
		phone = "+" + strings.TrimPrefix(me.PhoneNumber, "+")
	}
	if err := t.s.LoggedIn("Telegram: " + phone); err != nil {
		t.s.Logf(abi.LogWarn, "telegram: logged_in: %v", err)
	}
}

// OnLogout: the gateway ends the session (shutdown, the user went away). The host closes the
// TDLib client, which stays logged in for the next login.
func (t *session) OnLogout() error {
	t.closing = true
	t.phase = phaseIdle
	return nil
}

// OnUnregister logs out of Telegram: the session is terminated there too.
func (t *session) OnUnregister() error {
	t.closing = true
	t.phase = phaseIdle
	if err := t.call(req("logOut"), callCtx{Op: "logout"}); err != nil {
		t.s.Logf(abi.LogInfo, "telegram: logOut at unregistration: %v", err)
	}
	return nil
}

// OnRestored rebuilds the cache on a fresh instance: the phone, the user's id, the login's
// progress and the pending online timers are in storage; TDLib tells where the login is.
func (t *session) OnRestored() error {
	t.reset()
	if v, ok, _ := t.s.KVGet(keyPhone); ok {
		t.phone = v
	}
	if v, ok, _ := t.s.KVGet(keyMe); ok {
		t.me, _ = strconv.ParseInt(v, 10, 64)
	}
	if keys, err := t.s.KVKeys(keyOnline); err == nil {
		for _, k := range keys {
			u, err1 := strconv.ParseInt(strings.TrimPrefix(k, keyOnline), 10, 64)
			v, ok, err2 := t.s.KVGet(k)
			if err1 == nil && err2 == nil && ok {
				t.online[u], _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	auth, _, _ := t.s.KVGet(keyAuth)
	switch auth {
	case "":
		return nil // not logged in
	case "ready":
		t.phase = phaseReady
		t.loadContacts()
		return nil
	}
	// Logging in: resume from TDLib's state; the prompt outstanding is not asked again.
	t.phase = phaseLogin
	if auth != "login" {
		t.prompted = auth
	}
	t.callLogged(req("getAuthorizationState"), callCtx{Op: "state"})
	return nil
}

// --- Bridge answers and updates ---

func (t *session) OnBridgeResponse(r gateway.BridgeResult) error {
	var ctx callCtx
	if len(r.Context) > 0 {
		if err := unmarshal(r.Context, &ctx); err != nil {
			t.s.Logf(abi.LogWarn, "telegram: bridge answer with an unknown context %s", r.Context)
			return nil
		}
	}
	var terr error
	if r.Err != nil {
		terr = r.Err
	} else if e := asError(r.Response); e != nil {
		terr = e
	}
	return t.onAnswer(ctx, r.Response, terr)
}

// reason is the text of a bridge or TDLib error, for the user.
func reason(err error) string {
	var e *tdError
	if errors.As(err, &e) {
		return e.Error()
	}
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}

func (t *session) onAnswer(ctx callCtx, resp json.RawMessage, err error) error {
	switch ctx.Op {
	// Login.
	case "params":
		if err != nil {
			// a client already past this step (a new login on a live session): ask where it is
			t.callLogged(req("getAuthorizationState"), callCtx{Op: "state"})
		}
	case "state":
		if err != nil {
			t.loginFailed("Telegram is not available: " + reason(err))
			return nil
		}
		t.onAuthState(resp)
	case "phone":
		if err == nil {
			return nil
		}
		r := reason(err)
		if strings.Contains(r, "PHONE_NUMBER_INVALID") || t.phase != phaseLogin {
			t.loginFailed("Telegram refused the phone number " + t.phone + ": " + r)
			return nil
		}
		t.phoneSent = false
		t.prompt("phone", "Telegram refused the phone number "+t.phone+": "+r+
			". Enter your phone number in international format (e.g. +33612345678):", false)
	case "code":
		if err != nil && t.phase == phaseLogin {
			t.prompt("code", "Telegram refused the code: "+reason(err)+". "+t.codePrompt(), false)
		}
	case "password":
		if err != nil && t.phase == phaseLogin {
			t.prompt("password", "Telegram refused the password: "+reason(err)+". "+passwordPrompt, true)
		}
	case "me":
		if err != nil {
			t.loginFailed("Telegram did not say who you are: " + reason(err))
			return nil
		}
		var me tdUser
		if unmarshal(resp, &me) != nil || me.ID <= 0 {
			t.loginFailed("Telegram did not say who you are")
			return nil
		}
		t.users[int64(me.ID)] = &me
		t.loggedIn(&me)
	case "logout":
	// Contacts.
	case "contacts":
		return t.onContacts(resp, err)
	case "user":
		return t.onUser(ctx, resp, err)
	case "full":
		return t.onFullInfo(ctx, resp, err)
	case "avatar":
		return t.onAvatar(ctx, resp, err)
	case "search_phone", "search_user":
		return t.onSearch(ctx, resp, err)
	// Messages.
	case "chat":
		return t.onChatCreated(ctx, resp, err)
	case "send":
		return t.onSendAnswer(ctx, resp, err)
	case "dl":
		return t.onDownload(ctx, resp, err)
	case "react_get":
		return t.onReactGet(ctx, resp, err)
	case "edited":
		return t.onEditedMessage(ctx, resp, err)
	case "edit", "delete", "react":
		if err != nil {
			t.actionFailed(ctx.X, ctx.Op, err)
		}
	default:
		if err != nil {
			t.s.Logf(abi.LogInfo, "telegram: %s: %v", ctx.Op, err)
		}
	}
	return nil
}

// actionFailed tells the user that Telegram refused a correction, retraction or reaction: as an
// error on that stanza (the host names what was refused), or, when the host no longer knows
// the stanza, as a message from the gateway.
func (t *session) actionFailed(xmppID, op string, err error) {
	if xmppID != "" && t.s.MessageFailed(xmppID, reason(err)) == nil {
		return
	}
	what := map[string]string{"edit": "correction", "delete": "retraction", "react": "reaction"}[op]
	_ = t.s.Message("Telegram refused your " + what + ": " + reason(err))
}

func (t *session) OnBridgeEvent(bridge string, ev json.RawMessage) error {
	if bridge != cfg.bridge {
		return nil
	}
	typ := typeOf(ev)
	switch typ {
	case "updateAuthorizationState":
		var u updateAuthorizationState
		if unmarshal(ev, &u) == nil {
			t.onAuthState(u.State)
		}
		return nil
	case "updateOption":
		var u updateOption
		if unmarshal(ev, &u) == nil && u.Name == "my_id" && u.Value.Value > 0 {
			t.me = int64(u.Value.Value)
		}
		return nil
	}
	if t.phase != phaseReady {
		// not logged in yet: only learn who is who
		switch typ {
		case "updateUser":
			var u updateUser
			if unmarshal(ev, &u) == nil && u.User != nil {
				t.users[int64(u.User.ID)] = u.User
			}
		case "updateUserStatus":
			var u updateUserStatus
			if unmarshal(ev, &u) == nil && t.users[int64(u.UserID)] != nil {
				t.users[int64(u.UserID)].Status = u.Status
			}
		case "updateNewChat":
			var u updateNewChat
			if unmarshal(ev, &u) == nil && u.Chat != nil && u.Chat.ChatType.Type == "chatTypePrivate" {
				t.chats[int64(u.Chat.ChatType.UserID)] = true
			}
		}
		return nil
	}
	switch typ {
	case "updateUser":
		var u updateUser
		if unmarshal(ev, &u) == nil && u.User != nil {
			t.onUpdateUser(u.User)
		}
	case "updateUserStatus":
		var u updateUserStatus
		if unmarshal(ev, &u) == nil {
			t.onUserStatus(int64(u.UserID), u.Status)
		}
	case "updateUserFullInfo":
		var u updateUserFullInfo
		if unmarshal(ev, &u) == nil && u.UserFullInfo != nil {
			t.setBio(int64(u.UserID), u.UserFullInfo, false)
		}
	case "updateNewChat":
		var u updateNewChat
		if unmarshal(ev, &u) == nil && u.Chat != nil {
			t.onNewChat(u.Chat)
		}
	case "updateNewMessage":
		var u updateNewMessage
		if unmarshal(ev, &u) == nil && u.Message != nil {
			return t.onNewMessage(u.Message)
		}
	case "updateMessageSendSucceeded", "updateMessageSendFailed":
		var u updateMessageSend
		if unmarshal(ev, &u) == nil && u.Message != nil {
			return t.onSendResult(&u, typ == "updateMessageSendFailed")
		}
	case "updateMessageContent":
		var u updateMessageContent
		if unmarshal(ev, &u) == nil {
			return t.onContent(&u)
		}
	case "updateDeleteMessages":
		var u updateDeleteMessages
		if unmarshal(ev, &u) == nil {
			return t.onDelete(&u)
		}
	case "updateChatReadInbox":
		var u updateChatRead
		if unmarshal(ev, &u) == nil {
			return t.onReadInbox(int64(u.ChatID), int64(u.Inbox))
		}
	case "updateChatReadOutbox":
		var u updateChatRead
		if unmarshal(ev, &u) == nil {
			return t.onReadOutbox(int64(u.ChatID), int64(u.Outbox))
		}
	case "updateChatAction":
		var u updateChatAction
		if unmarshal(ev, &u) == nil {
			return t.onChatAction(&u)
		}
	case "updateMessageInteractionInfo":
		var u updateMessageInteractionInfo
		if unmarshal(ev, &u) == nil {
			return t.onInteraction(int64(u.ChatID), int64(u.MessageID), u.InteractionInfo)
		}
	}
	return nil
}

// OnTimer: online-expiry and typing-expiry timers (all set without callbacks, so that they
// work the same on a fresh instance).
func (t *session) OnTimer(name string, raw json.RawMessage) error {
	var ctx callCtx
	if err := unmarshal(raw, &ctx); err != nil {
		return nil
	}
	switch ctx.Op {
	case "online":
		return t.expireOnline(ctx.User, ctx.Expires)
	case "typing":
		delete(t.typingTmr, ctx.User)
		return t.contact(ctx.User).State(abi.StatePaused)
	}
	return nil
}

var (
	_ gateway.SessionHandler        = (*session)(nil)
	_ gateway.Restorer              = (*session)(nil)
	_ gateway.BridgeEventHandler    = (*session)(nil)
	_ gateway.BridgeResponseHandler = (*session)(nil)
	_ gateway.TimerHandler          = (*session)(nil)
	_ gateway.FileFetchedHandler    = (*session)(nil)
	_ gateway.JIDMapper             = (*session)(nil)
	_ gateway.LegacyIDMapper        = (*session)(nil)
)

func (t *session) JIDUsernameToLegacyID(username string) (abi.LegacyID, error) {
	return jidToLegacy(username)
}

func (t *session) LegacyIDToJIDUsername(id abi.LegacyID) (string, error) { return legacyToJID(id) }
