package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"log/slog"
	"mime"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/bridge/internal/outq"
)

// Authorization states, as TDLib names them.
const (
	stateNone         = ""
	stateWaitParams   = "authorizationStateWaitTdlibParameters"
	stateWaitPhone    = "authorizationStateWaitPhoneNumber"
	stateWaitCode     = "authorizationStateWaitCode"
	stateWaitPassword = "authorizationStateWaitPassword"
	stateReady        = "authorizationStateReady"
	stateLoggingOut   = "authorizationStateLoggingOut"
	stateClosing      = "authorizationStateClosing"
	stateClosed       = "authorizationStateClosed"
)

// maxUpload bounds what the simulation keeps of an uploaded file.
const maxUpload = 50 << 20

// client is one session's TDLib client. Its fields below mu are guarded by Backend.mu.
type client struct {
	b    *Backend
	sess bridge.Session
	dir  string
	log  *slog.Logger
	in   *outq.Queue // requests, handled in order by run
	out  *outq.Queue // answers and updates

	state       string
	acct        *account // the account logging in, or logged in
	users       map[int64]bool
	chats       map[int64]bool
	local       map[int32]string // file id -> downloaded path
	chatsLoaded bool
	done        bool
}

// Send queues a request.
func (c *client) Send(req []byte) error {
	if _, err := bridge.RequestType(req); err != nil {
		return err
	}
	if !c.in.Push(req) {
		return bridge.ErrClosed
	}
	return nil
}

// Updates delivers answers and updates.
func (c *client) Updates() <-chan []byte { return c.out.C() }

// Close ends the client; the session stays logged in.
func (c *client) Close() error {
	c.b.mu.Lock()
	c.finish(false)
	c.b.mu.Unlock()
	c.in.Abort()
	c.out.Abort()
	return nil
}

// finish detaches the client from the world; drain says whether the consumer still gets what
// was queued. The caller holds b.mu.
func (c *client) finish(drain bool) {
	if c.done {
		return
	}
	c.done = true
	if c.acct != nil && c.state == stateReady {
		c.save()
	}
	if c.acct != nil {
		delete(c.acct.clients, c)
	}
	if c.b.clients[c.dir] == c {
		delete(c.b.clients, c.dir)
	}
	c.in.Finish()
	if drain {
		c.out.Finish()
	}
}

func (c *client) ready() bool { return c.state == stateReady && !c.done }

func (c *client) run() {
	for req := range c.in.C() {
		c.handle(req)
	}
}

// emit queues an update (or, with extra, an answer). The caller holds b.mu.
func (c *client) emit(v any) { c.out.Push(encode(v, nil)) }

func (c *client) answer(extra json.RawMessage, v any) { c.out.Push(encode(v, extra)) }

func (c *client) fail(extra json.RawMessage, code int, msg string) {
	c.out.Push(encode(tdError{typed: t("error"), Code: code, Message: msg}, extra))
}

func (c *client) ok(extra json.RawMessage) { c.answer(extra, t("ok")) }

// request holds the fields of every request the simulation understands.
type request struct {
	Type          string          `json:"@type"`
	Extra         json.RawMessage `json:"@extra"`
	PhoneNumber   string          `json:"phone_number"`
	Code          string          `json:"code"`
	Password      string          `json:"password"`
	UserID        int64           `json:"user_id"`
	UserIDs       []int64         `json:"user_ids"`
	ChatID        int64           `json:"chat_id"`
	MessageID     int64           `json:"message_id"`
	MessageIDs    []int64         `json:"message_ids"`
	Revoke        bool            `json:"revoke"`
	Username      string          `json:"username"`
	Limit         int32           `json:"limit"`
	Offset        int32           `json:"offset"`
	FromMessageID int64           `json:"from_message_id"`
	FileID        int32           `json:"file_id"`
	Name          string          `json:"name"`
	ReplyTo       *struct {
		Type      string `json:"@type"`
		MessageID int64  `json:"message_id"`
	} `json:"reply_to"`
	InputMessageContent *inputContent `json:"input_message_content"`
	ReactionType        *struct {
		Type  string `json:"@type"`
		Emoji string `json:"emoji"`
	} `json:"reaction_type"`
	Action *struct {
		Type string `json:"@type"`
	} `json:"action"`
	Contacts []inputContact `json:"contacts"`
	Contact  *inputContact  `json:"contact"`
}

type inputContact struct {
	PhoneNumber string `json:"phone_number"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	UserID      int64  `json:"user_id"`
}

type inputText struct {
	Text string `json:"text"`
}

type inputFile struct {
	Type string `json:"@type"`
	Path string `json:"path"`
	ID   int32  `json:"id"`
}

type inputContent struct {
	Type      string     `json:"@type"`
	Text      *inputText `json:"text"`
	Caption   *inputText `json:"caption"`
	Photo     *inputFile `json:"photo"`
	Document  *inputFile `json:"document"`
	Video     *inputFile `json:"video"`
	Audio     *inputFile `json:"audio"`
	VoiceNote *inputFile `json:"voice_note"`
	Width     int32      `json:"width"`
	Height    int32      `json:"height"`
	Duration  int32      `json:"duration"`
	Title     string     `json:"title"`
	Performer string     `json:"performer"`
	Waveform  []byte     `json:"waveform"`
}

// authRequests may be sent before the client is logged in.
var authRequests = map[string]bool{
	"setTdlibParameters": true, "setAuthenticationPhoneNumber": true, "checkAuthenticationCode": true,
	"checkAuthenticationPassword": true, "resendAuthenticationCode": true, "getAuthorizationState": true,
	"logOut": true, "close": true, "destroy": true, "setLogVerbosityLevel": true, "getOption": true,
	"setOption": true,
}

func (c *client) handle(raw []byte) {
	var r request
	err := json.Unmarshal(raw, &r)
	b := c.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || c.done {
		return
	}
	if c.state == stateNone {
		// like TDLib, the client starts with its first request
		c.setState(stateWaitParams)
	}
	x := r.Extra
	if err != nil {
		c.fail(x, 400, "Failed to parse JSON object as TDLib request: "+err.Error())
		return
	}
	if !authRequests[r.Type] {
		switch {
		case c.state == stateWaitParams:
			c.fail(x, 400, "Initialization parameters are needed: call setTdlibParameters first")
			return
		case c.state != stateReady:
			c.fail(x, 401, "Unauthorized")
			return
		}
	}
	switch r.Type {
	case "setTdlibParameters":
		c.setTdlibParameters(x)
	case "setAuthenticationPhoneNumber":
		c.setPhone(x, r.PhoneNumber)
	case "resendAuthenticationCode":
		if c.state != stateWaitCode {
			c.fail(x, 400, "Call to resendAuthenticationCode unexpected")
			return
		}
		c.setState(stateWaitCode)
		c.ok(x)
	case "checkAuthenticationCode":
		c.checkCode(x, r.Code)
	case "checkAuthenticationPassword":
		c.checkPassword(x, r.Password)
	case "getAuthorizationState":
		c.answer(x, c.stateObject(c.state))
	case "logOut", "destroy":
		c.logOut(x)
	case "close":
		if c.state == stateReady {
			c.save()
		}
		c.ok(x)
		c.setState(stateClosing)
		c.setState(stateClosed)
		c.finish(true)
	case "setLogVerbosityLevel", "setOption", "openChat", "closeChat":
		c.ok(x)
	case "getOption":
		if r.Name == "my_id" && c.state == stateReady {
			c.answer(x, tdOptionInteger{typed: t("optionValueInteger"), Value: int64s(c.acct.me.id)})
			return
		}
		c.answer(x, t("optionValueEmpty"))
	case "getMe":
		c.answer(x, c.renderUser(c.acct.me))
	case "getUser":
		u := c.user(r.UserID)
		if u == nil {
			c.fail(x, 400, "User not found")
			return
		}
		c.answer(x, c.renderUser(u))
	case "getUserFullInfo":
		u := c.user(r.UserID)
		if u == nil {
			c.fail(x, 400, "User not found")
			return
		}
		c.answer(x, renderFullInfo(u))
	case "getContacts":
		ids := append([]int64{}, c.acct.contactL...)
		for _, id := range ids {
			c.ensureUser(b.users[id])
		}
		c.answer(x, tdUsers{typed: t("users"), TotalCount: int32(len(ids)), UserIDs: ids})
	case "searchUserByPhoneNumber":
		u := b.byPhone[digits(r.PhoneNumber)]
		if u == nil {
			c.fail(x, 404, "Not Found")
			return
		}
		c.ensureUser(u)
		c.answer(x, c.renderUser(u))
	case "importContacts":
		c.importContacts(x, r.Contacts)
	case "addContact":
		if r.Contact == nil || c.user(r.Contact.UserID) == nil {
			c.fail(x, 400, "User not found")
			return
		}
		if c.acct.addContact(r.Contact.UserID) {
			b.userChangedFor(c.acct, b.users[r.Contact.UserID])
		}
		c.ok(x)
	case "removeContacts":
		for _, id := range r.UserIDs {
			if c.acct.removeContact(id) {
				b.userChangedFor(c.acct, b.users[id])
			}
		}
		c.ok(x)
	case "searchPublicChat":
		u := b.byName[strings.ToLower(strings.TrimPrefix(r.Username, "@"))]
		if u == nil {
			c.fail(x, 400, "USERNAME_NOT_OCCUPIED")
			return
		}
		c.ensureUser(u)
		ch := c.acct.chat(u)
		c.ensureChat(ch)
		c.answer(x, c.renderChat(ch))
	case "createPrivateChat":
		u := c.user(r.UserID)
		if u == nil || u == c.acct.me {
			c.fail(x, 400, "User not found")
			return
		}
		ch := c.acct.chat(u)
		c.ensureChat(ch)
		c.answer(x, c.renderChat(ch))
	case "getChat":
		ch := c.chat(r.ChatID)
		if ch == nil {
			c.fail(x, 400, "Chat not found")
			return
		}
		c.answer(x, c.renderChat(ch))
	case "getChats":
		ids := c.chatList(r.Limit)
		c.answer(x, tdChats{typed: t("chats"), TotalCount: int32(len(ids)), ChatIDs: ids})
	case "loadChats":
		if c.chatsLoaded {
			c.fail(x, 404, "Not Found")
			return
		}
		c.chatList(0)
		c.chatsLoaded = true
		c.ok(x)
	case "getMessage":
		ch := c.chat(r.ChatID)
		if ch == nil {
			c.fail(x, 400, "Chat not found")
			return
		}
		m := ch.msgs[r.MessageID]
		if m == nil {
			c.fail(x, 404, "Not Found")
			return
		}
		c.answer(x, c.renderMessage(ch, m, nil))
	case "getChatHistory":
		c.history(x, &r)
	case "getMessageAvailableReactions":
		c.answer(x, b.availableReactions())
	case "sendMessage":
		c.sendMessage(x, &r)
	case "editMessageText":
		c.editMessageText(x, &r)
	case "deleteMessages":
		ch := c.chat(r.ChatID)
		if ch == nil {
			c.fail(x, 400, "Chat not found")
			return
		}
		c.ok(x)
		b.ownDelete(c.acct, ch, r.MessageIDs, r.Revoke)
	case "viewMessages":
		ch := c.chat(r.ChatID)
		if ch == nil {
			c.fail(x, 400, "Chat not found")
			return
		}
		var upto int64
		for _, id := range r.MessageIDs {
			if m := ch.msgs[id]; m != nil && !m.outgoing && id > upto {
				upto = id
			}
		}
		c.ok(x)
		if upto > 0 {
			b.ownRead(c.acct, ch, upto)
		}
	case "sendChatAction":
		if c.chat(r.ChatID) == nil {
			c.fail(x, 400, "Chat not found")
			return
		}
		c.ok(x)
	case "addMessageReaction", "removeMessageReaction":
		c.reaction(x, &r, r.Type == "addMessageReaction")
	case "setMessageReactions":
		c.fail(x, 400, "Method is available only for bots")
	case "downloadFile":
		c.download(x, r.FileID)
	case "getFile":
		f := b.files[r.FileID]
		if f == nil {
			c.fail(x, 400, "Invalid file identifier")
			return
		}
		c.answer(x, c.renderFile(f))
	default:
		c.fail(x, 400, "sim: unsupported request "+strconv.Quote(r.Type))
	}
}

// --- Authorization ---

func (c *client) stateObject(s string) any {
	switch s {
	case stateWaitCode:
		return tdWaitCode{typed: t(s), CodeInfo: tdCodeInfo{
			typed: t("authenticationCodeInfo"), PhoneNumber: "+" + c.acct.phone,
			Type: tdCodeType{typed: t("authenticationCodeTypeTelegramMessage"), Length: int32(len(c.acct.code))},
		}}
	case stateWaitPassword:
		return tdWaitPassword{typed: t(s), PasswordHint: c.acct.hint}
	}
	return t(s)
}

func (c *client) setState(s string) {
	c.state = s
	c.emit(updateAuthorizationState{typed: t("updateAuthorizationState"), AuthorizationState: c.stateObject(s)})
}

// savedSession is what the simulation keeps in the session's folder, as TDLib keeps its
// database: a restarted gateway finds the session logged in.
type savedSession struct {
	Phone    string           `json:"phone"`
	KeyHash  string           `json:"key_hash"`
	Instance string           `json:"instance"`
	Epoch    int              `json:"epoch"`
	LastIDs  map[string]int64 `json:"last_server_ids,omitempty"`
}

const savedName = "sim-session.json"

func (c *client) keyHash() string {
	h := sha256.Sum256(c.sess.Key)
	return hex.EncodeToString(h[:])
}

func (c *client) save() {
	s := savedSession{Phone: c.acct.phone, KeyHash: c.keyHash(), Instance: c.b.instance, Epoch: c.acct.epoch,
		LastIDs: map[string]int64{}}
	for id, ch := range c.acct.chats {
		if ch.lastServer > 0 {
			s.LastIDs[strconv.FormatInt(id, 10)] = ch.lastServer
		}
	}
	data, _ := json.Marshal(s)
	p := filepath.Join(c.dir, savedName)
	if err := os.WriteFile(p+".tmp", data, 0o600); err == nil {
		err = os.Rename(p+".tmp", p)
		if err != nil {
			c.log.Warn("sim: saving the session", "err", err)
		}
	} else {
		c.log.Warn("sim: saving the session", "err", err)
	}
}

func (c *client) forget() { _ = os.Remove(filepath.Join(c.dir, savedName)) }

// restore finds a saved login; a wrong key or a revoked session starts afresh, as TDLib does
// with a database it cannot open.
func (c *client) restore() *account {
	data, err := os.ReadFile(filepath.Join(c.dir, savedName))
	if err != nil {
		return nil
	}
	var s savedSession
	if json.Unmarshal(data, &s) != nil || s.KeyHash != c.keyHash() {
		c.forget()
		return nil
	}
	a := c.b.accounts[s.Phone]
	if a == nil || (s.Instance == c.b.instance && s.Epoch != a.epoch) {
		c.forget()
		return nil
	}
	for k, last := range s.LastIDs {
		id, _ := strconv.ParseInt(k, 10, 64)
		if u := c.b.users[id]; u != nil {
			if ch := a.chat(u); ch.lastServer < last {
				ch.lastServer = last
			}
		}
	}
	return a
}

func (c *client) setTdlibParameters(x json.RawMessage) {
	if c.state != stateWaitParams {
		c.fail(x, 400, "Unexpected setTdlibParameters")
		return
	}
	// like TDLib: the new state, then the answer
	if a := c.restore(); a != nil {
		c.acct = a
		c.loggedIn()
	} else {
		c.setState(stateWaitPhone)
	}
	c.ok(x)
}

func (c *client) setPhone(x json.RawMessage, phone string) {
	if c.state != stateWaitPhone && c.state != stateWaitCode {
		c.fail(x, 400, "Call to setAuthenticationPhoneNumber unexpected")
		return
	}
	a := c.b.account(phone)
	if a == nil {
		c.fail(x, 400, "PHONE_NUMBER_INVALID")
		return
	}
	c.acct = a
	c.log.Debug("sim: login code sent")
	c.setState(stateWaitCode)
	c.ok(x)
}

func (c *client) checkCode(x json.RawMessage, code string) {
	if c.state != stateWaitCode {
		c.fail(x, 400, "Call to checkAuthenticationCode unexpected")
		return
	}
	if code != c.acct.code {
		c.fail(x, 400, "PHONE_CODE_INVALID")
		return
	}
	if c.acct.password != "" {
		c.setState(stateWaitPassword)
	} else {
		c.loggedIn()
	}
	c.ok(x)
}

func (c *client) checkPassword(x json.RawMessage, password string) {
	if c.state != stateWaitPassword {
		c.fail(x, 400, "Call to checkAuthenticationPassword unexpected")
		return
	}
	if password != c.acct.password {
		c.fail(x, 400, "PASSWORD_HASH_INVALID")
		return
	}
	c.loggedIn()
	c.ok(x)
}

func (c *client) loggedIn() {
	a := c.acct
	c.emit(updateOption{typed: t("updateOption"), Name: "my_id",
		Value: tdOptionInteger{typed: t("optionValueInteger"), Value: int64s(a.me.id)}})
	c.ensureUser(a.me)
	c.setState(stateReady)
	a.clients[c] = struct{}{}
	c.save()
	c.log.Info("sim: session logged in")
}

func (c *client) logOut(x json.RawMessage) {
	if c.state == stateClosing || c.state == stateClosed || c.state == stateLoggingOut {
		c.fail(x, 400, "Call to logOut unexpected")
		return
	}
	c.forget()
	if c.acct != nil {
		delete(c.acct.clients, c)
	}
	c.setState(stateLoggingOut) // as TDLib 1.8.40: LoggingOut, the answer, Closed
	c.ok(x)
	c.setState(stateClosed)
	c.acct = nil
	c.finish(true)
}

// revoked ends a logged-in client as Telegram does when another device terminates the session.
func (c *client) revoked() {
	c.forget()
	delete(c.acct.clients, c)
	c.setState(stateLoggingOut)
	c.setState(stateClosed)
	c.acct = nil
	c.finish(true)
}

// --- What the client knows: TDLib sends updateUser and updateNewChat before an id is used. ---

// user returns a user this account can reach by id: known to the client, a contact, or a chat.
func (c *client) user(id int64) *user {
	u := c.b.users[id]
	if u == nil {
		return nil
	}
	if c.users[id] || c.acct.contacts[id] || c.acct.chats[id] != nil || u == c.acct.me {
		c.ensureUser(u)
		return u
	}
	return nil
}

// chat returns an existing chat of the account, telling the client about it first.
func (c *client) chat(id int64) *chat {
	ch := c.acct.chats[id]
	if ch == nil {
		return nil
	}
	c.ensureChat(ch)
	return ch
}

func (c *client) ensureUser(u *user) {
	if c.users[u.id] {
		return
	}
	c.users[u.id] = true
	c.emit(updateUser{typed: t("updateUser"), User: c.renderUser(u)})
}

func (c *client) ensureChat(ch *chat) {
	c.ensureUser(ch.peer)
	if c.chats[ch.id] {
		return
	}
	c.chats[ch.id] = true
	c.emit(updateNewChat{typed: t("updateNewChat"), Chat: c.renderChat(ch)})
}

func (b *Backend) userChangedFor(a *account, u *user) {
	a.each(func(c *client) {
		if c.users[u.id] {
			c.emit(updateUser{typed: t("updateUser"), User: c.renderUser(u)})
		}
	})
}

// chatList returns the listed chats, newest first, telling the client about them.
func (c *client) chatList(limit int32) []int64 {
	var list []*chat
	for _, ch := range c.acct.chats {
		if ch.listed {
			list = append(list, ch)
		}
	}
	sort.Slice(list, func(i, j int) bool {
		oi, oj := list[i].position(), list[j].position()
		if oi != oj {
			return oi > oj
		}
		return list[i].id > list[j].id
	})
	if limit > 0 && int(limit) < len(list) {
		list = list[:limit]
	}
	ids := make([]int64, 0, len(list))
	for _, ch := range list {
		c.ensureChat(ch)
		ids = append(ids, ch.id)
	}
	return ids
}

func (ch *chat) position() int64 {
	var date int64 = 1
	if m := ch.last(); m != nil {
		date = m.date
	}
	return date<<32 | (ch.lastServer & 0xffffffff)
}

// --- Updates sent to a logged-in client ---

func (c *client) newMessage(ch *chat, m *message) {
	c.ensureChat(ch)
	c.emit(updateNewMessage{typed: t("updateNewMessage"), Message: c.renderMessage(ch, m, nil)})
}

func (c *client) edited(ch *chat, m *message) {
	c.ensureChat(ch)
	c.emit(updateMessageContent{typed: t("updateMessageContent"), ChatID: ch.id, MessageID: m.id, NewContent: c.renderContent(m.content)})
	c.emit(updateMessageEdited{typed: t("updateMessageEdited"), ChatID: ch.id, MessageID: m.id, EditDate: m.editDate})
}

func (c *client) deleted(ch *chat, ids []int64) {
	c.ensureChat(ch)
	c.emit(updateDeleteMessages{typed: t("updateDeleteMessages"), ChatID: ch.id, MessageIDs: ids, IsPermanent: true})
}

func (c *client) readInbox(ch *chat) {
	c.ensureChat(ch)
	c.emit(updateChatReadInbox{typed: t("updateChatReadInbox"), ChatID: ch.id, LastReadInboxMessageID: ch.readInbox, UnreadCount: ch.unread()})
}

func (c *client) readOutbox(ch *chat) {
	c.ensureChat(ch)
	c.emit(updateChatReadOutbox{typed: t("updateChatReadOutbox"), ChatID: ch.id, LastReadOutboxMessageID: ch.readOutbox})
}

func (c *client) interaction(ch *chat, m *message) {
	c.ensureChat(ch)
	c.emit(updateMessageInteractionInfo{typed: t("updateMessageInteractionInfo"), ChatID: ch.id, MessageID: m.id, InteractionInfo: c.renderInteraction(m)})
}

func (c *client) action(ch *chat, action string) {
	c.ensureChat(ch)
	a := tdChatAction{typed: t(action)}
	if strings.HasPrefix(action, "chatActionUploading") {
		var zero int32
		a.Progress = &zero
	}
	c.emit(updateChatAction{typed: t("updateChatAction"), ChatID: ch.id, SenderID: sender(ch.peer.id), Action: a})
}

// --- Requests of a logged-in client ---

func (c *client) importContacts(x json.RawMessage, list []inputContact) {
	res := tdImportedContacts{typed: t("importedContacts"), UserIDs: []int64{}, ImporterCount: []int32{}}
	for _, in := range list {
		u := c.b.byPhone[digits(in.PhoneNumber)]
		if u == nil || u == c.acct.me {
			res.UserIDs = append(res.UserIDs, 0)
			res.ImporterCount = append(res.ImporterCount, 0)
			continue
		}
		if c.acct.addContact(u.id) {
			c.b.userChangedFor(c.acct, u)
		}
		c.ensureUser(u)
		res.UserIDs = append(res.UserIDs, u.id)
		res.ImporterCount = append(res.ImporterCount, 0)
	}
	c.answer(x, res)
}

func (c *client) history(x json.RawMessage, r *request) {
	ch := c.chat(r.ChatID)
	if ch == nil {
		c.fail(x, 400, "Chat not found")
		return
	}
	limit := int(r.Limit)
	if limit <= 0 || limit > 100 {
		limit = 100
	}
	// newest first, starting at from_message_id (0: the newest) shifted by offset (<= 0)
	start := len(ch.order) - 1
	if r.FromMessageID != 0 {
		start = sort.Search(len(ch.order), func(i int) bool { return ch.order[i] >= r.FromMessageID })
		if start == len(ch.order) || ch.order[start] != r.FromMessageID {
			start--
		}
	}
	start -= int(r.Offset)
	if start >= len(ch.order) {
		start = len(ch.order) - 1
	}
	res := tdMessages{typed: t("messages"), Messages: []*tdMessage{}}
	for i := start; i >= 0 && len(res.Messages) < limit; i-- {
		res.Messages = append(res.Messages, c.renderMessage(ch, ch.msgs[ch.order[i]], nil))
	}
	res.TotalCount = int32(len(res.Messages))
	c.answer(x, res)
}

// sendMessage: TDLib's lifecycle — updateNewMessage and the answer with a temporary id and
// messageSendingStatePending, then updateMessageSendSucceeded (or ...Failed) with the final id.
func (c *client) sendMessage(x json.RawMessage, r *request) {
	b := c.b
	ch := c.chat(r.ChatID)
	if ch == nil {
		c.fail(x, 400, "Chat not found")
		return
	}
	if r.InputMessageContent == nil {
		c.fail(x, 400, "Message content must be non-empty")
		return
	}
	ct, sendErr, err := c.inputContent(r.InputMessageContent)
	if err != "" {
		c.fail(x, 400, err)
		return
	}
	m := &message{sender: c.acct.me.id, outgoing: true, date: b.unix(), content: ct}
	if r.ReplyTo != nil && r.ReplyTo.Type == "inputMessageReplyToMessage" {
		if _, ok := ch.msgs[r.ReplyTo.MessageID]; ok {
			m.replyTo = r.ReplyTo.MessageID
		}
	}
	m.id = ch.tempID()
	temp := m.id
	pending := tdSendingPending{typed: t("messageSendingStatePending")}
	c.emit(updateNewMessage{typed: t("updateNewMessage"), Message: c.renderMessage(ch, m, pending)})
	c.answer(x, c.renderMessage(ch, m, pending))
	if sendErr != "" {
		m.id = ch.tempID()
		e := tdError{typed: t("error"), Code: 400, Message: sendErr}
		failed := tdSendingFailed{typed: t("messageSendingStateFailed"), Error: e}
		c.emit(updateMessageSendFailed{typed: t("updateMessageSendFailed"), Message: c.renderMessage(ch, m, failed), OldMessageID: temp, Error: e})
		return
	}
	m.id = ch.nextID()
	b.add(ch, m)
	c.emit(updateMessageSendSucceeded{typed: t("updateMessageSendSucceeded"), Message: c.renderMessage(ch, m, nil), OldMessageID: temp})
	b.ownSent(c.acct, ch, m, c)
}

// inputContent turns an inputMessage* into content; sendErr is a failure reported after the
// message was accepted (a file that cannot be read), err a refusal of the request.
func (c *client) inputContent(in *inputContent) (ct content, sendErr, err string) {
	caption := ""
	if in.Caption != nil {
		caption = in.Caption.Text
	}
	var f *inputFile
	switch in.Type {
	case "inputMessageText":
		if in.Text == nil || in.Text.Text == "" {
			return ct, "", "Message text must be non-empty"
		}
		return content{kind: "text", text: in.Text.Text}, "", ""
	case "inputMessagePhoto":
		ct, f = content{kind: "photo", width: in.Width, height: in.Height}, in.Photo
	case "inputMessageDocument":
		ct, f = content{kind: "document"}, in.Document
	case "inputMessageVideo":
		ct, f = content{kind: "video", width: in.Width, height: in.Height, duration: in.Duration}, in.Video
	case "inputMessageAudio":
		ct, f = content{kind: "audio", duration: in.Duration, title: in.Title, performer: in.Performer}, in.Audio
	case "inputMessageVoiceNote":
		ct, f = content{kind: "voice", duration: in.Duration, waveform: in.Waveform}, in.VoiceNote
	default:
		return ct, "", "sim: unsupported message content " + strconv.Quote(in.Type)
	}
	ct.text = caption
	if f == nil {
		return ct, "", "Input file must be non-empty"
	}
	switch f.Type {
	case "inputFileId":
		ff := c.b.files[f.ID]
		if ff == nil {
			return ct, "", "Invalid file identifier"
		}
		ct.file = ff
	case "inputFileLocal":
		ff, e := c.upload(ct.kind, f.Path)
		if e != "" {
			ct.file = &file{name: filepath.Base(f.Path), mime: "application/octet-stream"}
			return ct, e, ""
		}
		ct.file = ff
	default:
		return ct, "", "sim: unsupported input file " + strconv.Quote(f.Type)
	}
	if ct.kind == "photo" && ct.width == 0 {
		ct.width, ct.height = ct.file.width, ct.file.height
	}
	return ct, "", ""
}

var uploadFolder = map[string]string{"photo": "photos", "document": "documents", "video": "videos", "audio": "music", "voice": "voice"}

// upload reads a local file the client sends; the sending client has it at that path.
func (c *client) upload(kind, path string) (*file, string) {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return nil, "File not found"
	}
	if st.Size() > maxUpload {
		return nil, "File is too big"
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, "File not found"
	}
	name := filepath.Base(path)
	typ := mime.TypeByExtension(filepath.Ext(name))
	var w, h int32
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		w, h, typ = int32(cfg.Width), int32(cfg.Height), "image/"+format
	}
	if typ == "" {
		typ = "application/octet-stream"
	}
	f := c.b.newFile(uploadFolder[kind], name, typ, data, w, h)
	c.local[f.id] = path
	return f, ""
}

func (c *client) editMessageText(x json.RawMessage, r *request) {
	ch := c.chat(r.ChatID)
	if ch == nil {
		c.fail(x, 400, "Chat not found")
		return
	}
	m := ch.msgs[r.MessageID]
	if m == nil {
		c.fail(x, 400, "Message not found")
		return
	}
	in := r.InputMessageContent
	if !m.outgoing || m.content.kind != "text" {
		c.fail(x, 400, "Message can't be edited")
		return
	}
	if in == nil || in.Type != "inputMessageText" || in.Text == nil || in.Text.Text == "" {
		c.fail(x, 400, "Message text must be non-empty")
		return
	}
	c.b.ownEdit(c.acct, ch, m, in.Text.Text)
	c.answer(x, c.renderMessage(ch, m, nil))
}

func (c *client) reaction(x json.RawMessage, r *request, add bool) {
	ch := c.chat(r.ChatID)
	if ch == nil {
		c.fail(x, 400, "Chat not found")
		return
	}
	m := ch.msgs[r.MessageID]
	if m == nil {
		c.fail(x, 400, "Message not found")
		return
	}
	if r.ReactionType == nil || r.ReactionType.Type != "reactionTypeEmoji" || r.ReactionType.Emoji == "" {
		c.fail(x, 400, "sim: only emoji reactions are supported")
		return
	}
	if add && !c.b.reactionAllowed(r.ReactionType.Emoji) {
		c.fail(x, 400, "REACTION_INVALID")
		return
	}
	c.ok(x)
	c.b.ownReact(c.acct, ch, m, r.ReactionType.Emoji, add)
}

// download writes the file into the session's folder, like TDLib's files directory.
func (c *client) download(x json.RawMessage, id int32) {
	f := c.b.files[id]
	if f == nil {
		c.fail(x, 400, "Invalid file identifier")
		return
	}
	if p, ok := c.local[id]; ok {
		if _, err := os.Stat(p); err == nil {
			c.answer(x, c.renderFile(f))
			return
		}
		delete(c.local, id)
	}
	dir := filepath.Join(c.dir, "files", f.kind)
	p := filepath.Join(dir, fmt.Sprintf("%d_%s", f.id, f.name))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		c.fail(x, 400, "FILE_DOWNLOAD_FAILED")
		return
	}
	if err := os.WriteFile(p, f.data, 0o600); err != nil {
		c.fail(x, 400, "FILE_DOWNLOAD_FAILED")
		return
	}
	c.local[id] = p
	c.emit(updateFile{typed: t("updateFile"), File: c.renderFile(f)})
	c.answer(x, c.renderFile(f))
}

// --- Rendering TDLib objects as this client sees them ---

func (c *client) renderFile(f *file) *tdFile {
	size := int64(len(f.data))
	out := &tdFile{typed: t("file"), ID: f.id, Size: size, ExpectedSize: size,
		Local: tdLocalFile{typed: t("localFile"), CanBeDownloaded: true},
		Remote: tdRemoteFile{typed: t("remoteFile"), ID: f.remote, UniqueID: f.remote,
			IsUploadingCompleted: true, UploadedSize: size},
	}
	if p, ok := c.local[f.id]; ok {
		out.Local.Path = p
		out.Local.CanBeDeleted = true
		out.Local.IsDownloadingCompleted = true
		out.Local.DownloadedPrefixSize = size
		out.Local.DownloadedSize = size
	}
	return out
}

func renderStatus(u *user) any {
	switch u.status {
	case "online":
		return tdStatusOnline{typed: t("userStatusOnline"), Expires: u.expires}
	case "offline":
		return tdStatusOffline{typed: t("userStatusOffline"), WasOnline: u.wasOnline}
	case "recently":
		return tdStatusHidden{typed: t("userStatusRecently")}
	case "last_week":
		return tdStatusHidden{typed: t("userStatusLastWeek")}
	case "last_month":
		return tdStatusHidden{typed: t("userStatusLastMonth")}
	}
	return t("userStatusEmpty")
}

func (c *client) renderUser(u *user) *tdUser {
	contact := c.acct != nil && c.acct.contacts[u.id]
	out := &tdUser{typed: t("user"), ID: u.id, FirstName: u.first, LastName: u.last,
		PhoneNumber: u.phone, Status: renderStatus(u), ProfileAccentColorID: -1,
		IsContact: contact, IsMutualContact: contact, IsVerified: u.verified,
		IsSupport: u.id == 777000, HaveAccess: true, Type: t("userTypeRegular"),
	}
	if len(u.usernames) > 0 {
		out.Usernames = &tdUsernames{typed: t("usernames"), ActiveUsernames: u.usernames,
			DisabledUsernames: []string{}, EditableUsername: u.usernames[0]}
	}
	if u.bot {
		out.Type = tdUserTypeBot{typed: t("userTypeBot"), CanJoinGroups: true}
	}
	if u.avatar != nil {
		f := c.renderFile(u.avatar)
		out.ProfilePhoto = &tdProfilePhoto{typed: t("profilePhoto"), ID: int64s(int64(u.avatar.id)<<32 | u.id&0xffffffff), Small: f, Big: f}
	}
	return out
}

func renderFullInfo(u *user) *tdUserFullInfo {
	out := &tdUserFullInfo{typed: t("userFullInfo"), CanBeCalled: !u.bot, SupportsVideoCalls: !u.bot}
	if u.bio != "" || !u.bot {
		out.Bio = ftext(u.bio)
	}
	return out
}

func (b *Backend) availableReactionsOfChat() any {
	if len(b.fx.Reactions) == 0 {
		return tdReactionsAll{typed: t("chatAvailableReactionsAll"), MaxReactionCount: b.fx.MaxReactions}
	}
	out := tdReactionsSome{typed: t("chatAvailableReactionsSome"), MaxReactionCount: b.fx.MaxReactions}
	for _, e := range b.fx.Reactions {
		out.Reactions = append(out.Reactions, reactionType(e))
	}
	return out
}

func (b *Backend) availableReactions() tdAvailableReactions {
	out := tdAvailableReactions{typed: t("availableReactions"), TopReactions: []tdAvailableReaction{},
		RecentReactions: []tdAvailableReaction{}, PopularReactions: []tdAvailableReaction{}}
	for _, e := range b.fx.Reactions {
		out.TopReactions = append(out.TopReactions, tdAvailableReaction{typed: t("availableReaction"), Type: reactionType(e)})
	}
	out.AllowCustomEmoji = false
	return out
}

func (c *client) renderChat(ch *chat) *tdChat {
	u := ch.peer
	out := &tdChat{typed: t("chat"), ID: ch.id,
		Type:  tdChatTypePrivate{typed: t("chatTypePrivate"), UserID: u.id},
		Title: u.name(), ProfileAccentColorID: -1,
		Permissions: tdChatPermissions{typed: t("chatPermissions"), CanSendBasicMessages: true, CanSendAudios: true,
			CanSendDocuments: true, CanSendPhotos: true, CanSendVideos: true, CanSendVideoNotes: true,
			CanSendVoiceNotes: true, CanSendPolls: true, CanSendOtherMessages: true, CanAddLinkPreviews: true},
		Positions: []tdChatPosition{}, ChatLists: []typed{},
		CanBeDeletedOnlyForSelf: true, CanBeDeletedForAllUsers: true,
		UnreadCount: ch.unread(), LastReadInboxMessageID: ch.readInbox, LastReadOutboxMessageID: ch.readOutbox,
		NotificationSettings: tdNotificationSettings{typed: t("chatNotificationSettings"), UseDefaultMuteFor: true,
			UseDefaultSound: true, UseDefaultShowPreview: true, UseDefaultMuteStories: true, UseDefaultStorySound: true,
			UseDefaultShowStorySender: true, UseDefaultDisablePinnedMessageNotifications: true,
			UseDefaultDisableMentionNotifications: true},
		AvailableReactions: c.b.availableReactionsOfChat(),
		VideoChat:          tdVideoChat{typed: t("videoChat")},
	}
	if u.avatar != nil {
		f := c.renderFile(u.avatar)
		out.Photo = &tdChatPhotoInfo{typed: t("chatPhotoInfo"), Small: f, Big: f}
	}
	if ch.listed {
		out.Positions = append(out.Positions, tdChatPosition{typed: t("chatPosition"), List: t("chatListMain"), Order: int64s(ch.position())})
		out.ChatLists = append(out.ChatLists, t("chatListMain"))
	}
	if m := ch.last(); m != nil {
		out.LastMessage = c.renderMessage(ch, m, nil)
	}
	return out
}

func (c *client) renderMessage(ch *chat, m *message, state any) *tdMessage {
	out := &tdMessage{typed: t("message"), ID: m.id, SenderID: sender(m.sender), ChatID: ch.id,
		SendingState: state, IsOutgoing: m.outgoing, CanBeSaved: true, HasTimestampedMedia: true,
		Date: m.date, EditDate: m.editDate, InteractionInfo: c.renderInteraction(m),
		UnreadReactions: []struct{}{}, Content: c.renderContent(m.content),
	}
	if m.replyTo != 0 {
		out.ReplyTo = &tdReplyToMessage{typed: t("messageReplyToMessage"), ChatID: ch.id, MessageID: m.replyTo}
	}
	return out
}

func (c *client) renderInteraction(m *message) *tdInteractionInfo {
	if len(m.reactions) == 0 {
		return nil
	}
	me := c.acct.me.id
	rs := &tdMessageReactions{typed: t("messageReactions"), PaidReactors: []struct{}{}}
	for _, r := range m.reactions {
		mr := tdMessageReaction{typed: t("messageReaction"), Type: reactionType(r.emoji),
			TotalCount: int32(len(r.senders)), IsChosen: containsID(r.senders, me), RecentSenderIDs: []*tdSender{}}
		if mr.IsChosen {
			mr.UsedSenderID = sender(me)
		}
		for i := len(r.senders) - 1; i >= 0 && len(mr.RecentSenderIDs) < 3; i-- {
			mr.RecentSenderIDs = append(mr.RecentSenderIDs, sender(r.senders[i]))
		}
		rs.Reactions = append(rs.Reactions, mr)
	}
	return &tdInteractionInfo{typed: t("messageInteractionInfo"), Reactions: rs}
}

func (c *client) renderContent(ct content) any {
	caption := ftext(ct.text)
	var f *tdFile
	if ct.file != nil {
		if ct.file.id != 0 {
			f = c.renderFile(ct.file)
		} else {
			f = &tdFile{typed: t("file"), Local: tdLocalFile{typed: t("localFile")}, Remote: tdRemoteFile{typed: t("remoteFile")}}
		}
	}
	name, typ := "", ""
	if ct.file != nil {
		name, typ = ct.file.name, ct.file.mime
	}
	switch ct.kind {
	case "photo":
		return tdMessagePhoto{typed: t("messagePhoto"), Caption: caption, Photo: tdPhoto{typed: t("photo"),
			Sizes: []tdPhotoSize{{typed: t("photoSize"), Type: "x", Photo: f, Width: ct.width, Height: ct.height, ProgressiveSizes: []int32{}}}}}
	case "document":
		return tdMessageDocument{typed: t("messageDocument"), Caption: caption,
			Document: tdDocument{typed: t("document"), FileName: name, MimeType: typ, Document: f}}
	case "video":
		return tdMessageVideo{typed: t("messageVideo"), Caption: caption, AlternativeVideos: []struct{}{},
			Video: tdVideo{typed: t("video"), Duration: ct.duration, Width: ct.width, Height: ct.height,
				FileName: name, MimeType: typ, SupportsStreaming: true, Video: f}}
	case "audio":
		return tdMessageAudio{typed: t("messageAudio"), Caption: caption,
			Audio: tdAudio{typed: t("audio"), Duration: ct.duration, Title: ct.title, Performer: ct.performer,
				FileName: name, MimeType: typ, ExternalAlbumCovers: []struct{}{}, Audio: f}}
	case "voice":
		wf := ct.waveform
		if wf == nil {
			wf = []byte{}
		}
		return tdMessageVoiceNote{typed: t("messageVoiceNote"), Caption: caption,
			VoiceNote: tdVoiceNote{typed: t("voiceNote"), Duration: ct.duration, Waveform: wf, MimeType: typ, Voice: f}}
	}
	return tdMessageText{typed: t("messageText"), Text: ftext(ct.text)}
}
