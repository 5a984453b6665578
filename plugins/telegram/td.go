package main

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// TDLib's JSON, as much of it as the plugin reads (TDLib 1.8.40; go-tdlib v0.7.6's types are
// the reference). Fields of TDLib type int64 are JSON strings, int53 and int32 are numbers; id
// reads both, so that a hand-written fixture may use either.

// id is a TDLib integer id, written as a number or (int64) as a string.
type id int64

func (v *id) UnmarshalJSON(b []byte) error {
	b = bytes.Trim(b, `"`)
	if len(b) == 0 || string(b) == "null" {
		*v = 0
		return nil
	}
	n, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		return err
	}
	*v = id(n)
	return nil
}

// typeOf returns the "@type" of a TDLib object without decoding the rest of it: TDLib writes
// "@type" first; anything else takes the slow way.
func typeOf(b []byte) string {
	const pre = `{"@type":"`
	if bytes.HasPrefix(b, []byte(pre)) {
		rest := b[len(pre):]
		if i := bytes.IndexByte(rest, '"'); i >= 0 {
			return string(rest[:i])
		}
	}
	var t struct {
		Type string `json:"@type"`
	}
	_ = json.Unmarshal(b, &t)
	return t.Type
}

// tdError is TDLib's error object (an answer whose "@type" is "error").
type tdError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func (e *tdError) Error() string {
	if e.Message == "" {
		return "Telegram error " + strconv.Itoa(e.Code)
	}
	return e.Message
}

// asError returns TDLib's error when an answer is one.
func asError(b []byte) *tdError {
	if typeOf(b) != "error" {
		return nil
	}
	e := new(tdError)
	_ = unmarshal(b, e)
	return e
}

type typed struct {
	Type string `json:"@type"`
}

type tdUser struct {
	ID           id          `json:"id"`
	FirstName    string      `json:"first_name"`
	LastName     string      `json:"last_name"`
	Usernames    *tdUsers    `json:"usernames"`
	PhoneNumber  string      `json:"phone_number"`
	Status       *tdStatus   `json:"status"`
	ProfilePhoto *tdPhotoRef `json:"profile_photo"`
	IsContact    bool        `json:"is_contact"`
	UserType     typed       `json:"type"`
}

type tdUsers struct {
	ActiveUsernames  []string `json:"active_usernames"`
	EditableUsername string   `json:"editable_username"`
}

type tdStatus struct {
	Type      string `json:"@type"`
	Expires   int64  `json:"expires"`
	WasOnline int64  `json:"was_online"`
}

type tdPhotoRef struct {
	ID    id      `json:"id"`
	Small *tdFile `json:"small"`
}

type tdFile struct {
	ID           id          `json:"id"`
	Size         int64       `json:"size"`
	ExpectedSize int64       `json:"expected_size"`
	Local        tdLocalFile `json:"local"`
}

type tdLocalFile struct {
	Path      string `json:"path"`
	Completed bool   `json:"is_downloading_completed"`
}

// handle returns the host's file handle of a downloaded file ("handle:<id>" in local.path).
func (f *tdFile) handle() string {
	if f == nil || !f.Local.Completed {
		return ""
	}
	h, ok := strings.CutPrefix(f.Local.Path, "handle:")
	if !ok {
		return ""
	}
	return h
}

func (f *tdFile) size() int64 {
	if f.Size > 0 {
		return f.Size
	}
	return f.ExpectedSize
}

func (u *tdUser) isBot() bool { return u.UserType.Type == "userTypeBot" }

// username is the user's main username, if any.
func (u *tdUser) username() string {
	if u.Usernames == nil {
		return ""
	}
	if len(u.Usernames.ActiveUsernames) > 0 {
		return u.Usernames.ActiveUsernames[0]
	}
	return u.Usernames.EditableUsername
}

func (u *tdUser) fullName() string {
	return strings.TrimSpace(u.FirstName + " " + u.LastName)
}

// displayName is what the roster shows: the username if set, else the full name (bots: the
// full name always).
func (u *tdUser) displayName() string {
	if n := u.username(); n != "" && !u.isBot() {
		return n
	}
	if n := u.fullName(); n != "" {
		return n
	}
	if n := u.username(); n != "" {
		return n
	}
	return strconv.FormatInt(int64(u.ID), 10)
}

type tdFullInfo struct {
	Bio *tdText `json:"bio"`
}

type tdChat struct {
	ID       id         `json:"id"`
	ChatType tdChatType `json:"type"`
}

type tdChatType struct {
	Type   string `json:"@type"`
	UserID id     `json:"user_id"`
}

type tdSender struct {
	Type   string `json:"@type"`
	UserID id     `json:"user_id"`
	ChatID id     `json:"chat_id"`
}

type tdMessage struct {
	ID              id              `json:"id"`
	SenderID        tdSender        `json:"sender_id"`
	ChatID          id              `json:"chat_id"`
	SendingState    json.RawMessage `json:"sending_state"`
	IsOutgoing      bool            `json:"is_outgoing"`
	Date            int64           `json:"date"`
	ReplyTo         *tdReplyTo      `json:"reply_to"`
	Content         json.RawMessage `json:"content"`
	InteractionInfo *tdInteraction  `json:"interaction_info"`
	content         *tdContent      // Content, decoded by body
}

func (m *tdMessage) pending() bool {
	return len(m.SendingState) > 0 && string(m.SendingState) != "null" && typeOf(m.SendingState) == "messageSendingStatePending"
}

func (m *tdMessage) failed() bool {
	return len(m.SendingState) > 0 && typeOf(m.SendingState) == "messageSendingStateFailed"
}

func (m *tdMessage) hasSendingState() bool {
	return len(m.SendingState) > 0 && string(m.SendingState) != "null"
}

// body decodes the message's content once.
func (m *tdMessage) body() *tdContent {
	if m.content == nil {
		m.content = new(tdContent)
		_ = unmarshal(m.Content, m.content)
	}
	return m.content
}

type tdReplyTo struct {
	Type      string `json:"@type"`
	ChatID    id     `json:"chat_id"`
	MessageID id     `json:"message_id"`
}

type tdText struct {
	Text string `json:"text"`
}

// tdContent is any messageContent: the fields of the kinds the plugin reads.
type tdContent struct {
	Type      string     `json:"@type"`
	Text      *tdText    `json:"text"`
	Caption   *tdText    `json:"caption"`
	Photo     *tdPhoto   `json:"photo"`
	Document  *tdMedia   `json:"document"`
	Video     *tdMedia   `json:"video"`
	Audio     *tdMedia   `json:"audio"`
	VoiceNote *tdMedia   `json:"voice_note"`
	Animation *tdMedia   `json:"animation"`
	VideoNote *tdMedia   `json:"video_note"`
	Sticker   *tdSticker `json:"sticker"`
	Emoji     string     `json:"emoji"` // messageAnimatedEmoji, messageDice
}

type tdPhoto struct {
	Sizes []tdPhotoSize `json:"sizes"`
}

type tdPhotoSize struct {
	Photo  *tdFile `json:"photo"`
	Width  int     `json:"width"`
	Height int     `json:"height"`
}

type tdSticker struct {
	Emoji string `json:"emoji"`
}

// tdMedia is a document, video, audio, voice note, animation or video note: its file is in
// the field named after the kind.
type tdMedia struct {
	FileName  string  `json:"file_name"`
	MimeType  string  `json:"mime_type"`
	Document  *tdFile `json:"document"`
	Video     *tdFile `json:"video"`
	Audio     *tdFile `json:"audio"`
	Voice     *tdFile `json:"voice"`
	Animation *tdFile `json:"animation"`
}

func (m *tdMedia) file() *tdFile {
	for _, f := range []*tdFile{m.Document, m.Video, m.Audio, m.Voice, m.Animation} {
		if f != nil {
			return f
		}
	}
	return nil
}

type tdInteraction struct {
	Reactions *tdReactions `json:"reactions"`
}

type tdReactions struct {
	Reactions []tdReaction `json:"reactions"`
}

type tdReaction struct {
	Type       tdReactionType `json:"type"`
	TotalCount int            `json:"total_count"`
	IsChosen   bool           `json:"is_chosen"`
}

type tdReactionType struct {
	Type  string `json:"@type"`
	Emoji string `json:"emoji"`
}

// reactions splits the reactions on a message of a private chat into the peer's and the
// user's (is_chosen): there are only two people in it.
func (ii *tdInteraction) reactions() (peer, own []string) {
	peer, own = []string{}, []string{}
	if ii == nil || ii.Reactions == nil {
		return
	}
	for _, r := range ii.Reactions.Reactions {
		if r.Type.Type != "reactionTypeEmoji" || r.Type.Emoji == "" {
			continue
		}
		n := r.TotalCount
		if r.IsChosen {
			own = append(own, r.Type.Emoji)
			n--
		}
		if n > 0 {
			peer = append(peer, r.Type.Emoji)
		}
	}
	return
}

// Updates.

type updateAuthorizationState struct {
	State json.RawMessage `json:"authorization_state"`
}

type authState struct {
	Type         string      `json:"@type"`
	PasswordHint string      `json:"password_hint"`
	CodeInfo     *tdCodeInfo `json:"code_info"`
}

type tdCodeInfo struct {
	PhoneNumber string `json:"phone_number"`
}

type updateOption struct {
	Name  string        `json:"name"`
	Value tdOptionValue `json:"value"`
}

type tdOptionValue struct {
	Type  string `json:"@type"`
	Value id     `json:"value"`
}

type updateUser struct {
	User *tdUser `json:"user"`
}

type updateUserStatus struct {
	UserID id        `json:"user_id"`
	Status *tdStatus `json:"status"`
}

type updateUserFullInfo struct {
	UserID       id          `json:"user_id"`
	UserFullInfo *tdFullInfo `json:"user_full_info"`
}

type updateNewChat struct {
	Chat *tdChat `json:"chat"`
}

type updateNewMessage struct {
	Message *tdMessage `json:"message"`
}

type updateMessageSend struct {
	Message      *tdMessage `json:"message"`
	OldMessageID id         `json:"old_message_id"`
	Error        *tdError   `json:"error"`
}

type updateMessageContent struct {
	ChatID     id              `json:"chat_id"`
	MessageID  id              `json:"message_id"`
	NewContent json.RawMessage `json:"new_content"`
}

type updateDeleteMessages struct {
	ChatID      id   `json:"chat_id"`
	MessageIDs  []id `json:"message_ids"`
	IsPermanent bool `json:"is_permanent"`
	FromCache   bool `json:"from_cache"`
}

type updateChatRead struct {
	ChatID id `json:"chat_id"`
	Inbox  id `json:"last_read_inbox_message_id"`
	Outbox id `json:"last_read_outbox_message_id"`
}

type updateChatAction struct {
	ChatID   id       `json:"chat_id"`
	SenderID tdSender `json:"sender_id"`
	Action   typed    `json:"action"`
}

type tdUserIDs struct {
	UserIDs []id `json:"user_ids"`
}

type updateMessageInteractionInfo struct {
	ChatID          id             `json:"chat_id"`
	MessageID       id             `json:"message_id"`
	InteractionInfo *tdInteraction `json:"interaction_info"`
}

// Requests: TDLib functions are JSON objects; obj builds one.

// obj is a TDLib object: its "@type", then its members as key, value, key, value, ...
type obj struct {
	typ string
	kv  []any
}

func req(typ string, kv ...any) obj { return obj{typ: typ, kv: kv} }

// with returns o with one more member.
func (o obj) with(k string, v any) obj {
	o.kv = append(o.kv[:len(o.kv):len(o.kv)], k, v)
	return o
}

// appendJSON appends o as JSON: strings escaped as encoding/json escapes them, values of
// other types than those below marshalled by encoding/json.
func (o obj) appendJSON(b []byte) []byte {
	e := jsonwire.Encoder{B: b, Start: len(b), HTML: true}
	e.Open()
	e.Str("@type", o.typ)
	for i := 0; i+1 < len(o.kv); i += 2 {
		e.Key(o.kv[i].(string))
		e.B = appendValue(e.B, o.kv[i+1])
	}
	e.Close()
	return e.B
}

func appendValue(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case string:
		return jsonwire.AppendHTMLString(b, v)
	case bool:
		return strconv.AppendBool(b, v)
	case int:
		return strconv.AppendInt(b, int64(v), 10)
	case int64:
		return strconv.AppendInt(b, v, 10)
	case obj:
		return v.appendJSON(b)
	case json.RawMessage:
		return append(b, v...)
	case []int64:
		b = append(b, '[')
		for i, n := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = strconv.AppendInt(b, n, 10)
		}
		return append(b, ']')
	case []any:
		b = append(b, '[')
		for i, x := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendValue(b, x)
		}
		return append(b, ']')
	}
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}

// MarshalJSON makes an obj marshal as the object it is.
func (o obj) MarshalJSON() ([]byte, error) { return o.appendJSON(nil), nil }

func formatted(text string) obj { return req("formattedText", "text", text, "entities", []any{}) }

func inputText(text string) obj {
	return req("inputMessageText", "text", formatted(text), "clear_draft", true)
}

func reactionType(emoji string) obj { return req("reactionTypeEmoji", "emoji", emoji) }

// kindName turns a content type into words: messageVideoNote -> "video note".
func kindName(typ string) string {
	s := strings.TrimPrefix(typ, "message")
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte(' ')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	if b.Len() == 0 {
		return "message"
	}
	return b.String()
}
