package main

import (
	"encoding/json"

	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// Hand-written decoders of the TDLib objects the plugin reads (encoding/json's reflection was
// most of the plugin's CPU in a wasip1 guest). Each type's field method reads the members its
// struct tags name; unmarshal falls back to encoding/json on anything the strict decoder does
// not read, so the result is encoding/json's (but for an object that repeats a key whose value
// is an array of objects: encoding/json merges the two arrays' elements, the last one wins
// here).

// decoder is a type with a hand-written decoder: field reads the value of the member named k
// and returns true, or returns false for a member it does not read.
type decoder interface {
	field(d *jsonwire.Decoder, k []byte) bool
}

// object reads an object (null: nothing) into v.
func object(d *jsonwire.Decoder, v decoder) bool {
	for ok := d.Object(); ok && d.Field(); {
		if !v.field(d, d.Key()) {
			d.Skip()
		}
	}
	return true
}

// unmarshal is json.Unmarshal for the plugin's TDLib types: v must be a zero value.
func unmarshal[T any, P interface {
	*T
	decoder
}](b []byte, v P) error {
	d := jsonwire.NewDecoder(b, jsonwire.Strict)
	object(&d, v)
	if d.End() == nil {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(b, v)
}

// The readers below keep a value as it is for null, as encoding/json does (but for lists and
// raw JSON, which it sets), and return true, so that a field method with a member or two is
// one expression.

func str(d *jsonwire.Decoder, v *string) bool {
	if !d.Null() {
		*v = d.Str()
	}
	return true
}

func i64(d *jsonwire.Decoder, v *int64) bool {
	if !d.Null() {
		*v = d.Int()
	}
	return true
}

func num(d *jsonwire.Decoder, v *int) bool {
	if !d.Null() {
		*v = int(d.Int())
	}
	return true
}

func flag(d *jsonwire.Decoder, v *bool) bool {
	if !d.Null() {
		*v = d.Bool()
	}
	return true
}

func strs(d *jsonwire.Decoder, v *[]string) bool {
	*v = d.Strs()
	return true
}

func rawJSON(d *jsonwire.Decoder, v *json.RawMessage) bool {
	*v = d.Raw()
	return true
}

// read reads an id: a number or a string holding one; null and "" are 0.
func (v *id) read(d *jsonwire.Decoder) bool {
	*v = id(d.IntOrString())
	return true
}

// ptr decodes into *p, allocating it first (null: nil), as encoding/json does.
func ptr[T any, P interface {
	*T
	decoder
}](d *jsonwire.Decoder, p *P) bool {
	if d.Null() {
		*p = nil
		return true
	}
	if *p == nil {
		*p = new(T)
	}
	return object(d, *p)
}

// list reads an array of objects (null: nil).
func list[T any, P interface {
	*T
	decoder
}](d *jsonwire.Decoder, v *[]T) bool {
	if !d.Array() {
		if d.Err() == nil {
			*v = nil
		}
		return true
	}
	out := []T{}
	for d.Elem() {
		var zero T
		out = append(out, zero)
		object(d, P(&out[len(out)-1]))
	}
	*v = out
	return true
}

// ids reads an array of ids (null: nil).
func ids(d *jsonwire.Decoder, v *[]id) bool {
	if !d.Array() {
		if d.Err() == nil {
			*v = nil
		}
		return true
	}
	out := []id{}
	for d.Elem() {
		out = append(out, id(d.IntOrString()))
	}
	*v = out
	return true
}

func (t *typed) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "@type" && str(d, &t.Type)
}

func (e *tdError) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "code" && num(d, &e.Code) ||
		string(k) == "message" && str(d, &e.Message)
}

func (u *tdUser) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "id":
		return u.ID.read(d)
	case "first_name":
		return str(d, &u.FirstName)
	case "last_name":
		return str(d, &u.LastName)
	case "usernames":
		return ptr(d, &u.Usernames)
	case "phone_number":
		return str(d, &u.PhoneNumber)
	case "status":
		return ptr(d, &u.Status)
	case "profile_photo":
		return ptr(d, &u.ProfilePhoto)
	case "is_contact":
		return flag(d, &u.IsContact)
	case "type":
		return object(d, &u.UserType)
	}
	return false
}

func (u *tdUsers) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "active_usernames" && strs(d, &u.ActiveUsernames) ||
		string(k) == "editable_username" && str(d, &u.EditableUsername)
}

func (s *tdStatus) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "@type":
		return str(d, &s.Type)
	case "expires":
		return i64(d, &s.Expires)
	case "was_online":
		return i64(d, &s.WasOnline)
	}
	return false
}

func (p *tdPhotoRef) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "id" && p.ID.read(d) ||
		string(k) == "small" && ptr(d, &p.Small)
}

func (f *tdFile) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "id":
		return f.ID.read(d)
	case "size":
		return i64(d, &f.Size)
	case "expected_size":
		return i64(d, &f.ExpectedSize)
	case "local":
		return object(d, &f.Local)
	}
	return false
}

func (l *tdLocalFile) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "path" && str(d, &l.Path) ||
		string(k) == "is_downloading_completed" && flag(d, &l.Completed)
}

func (fi *tdFullInfo) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "bio" && ptr(d, &fi.Bio)
}

func (c *tdChat) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "id" && c.ID.read(d) ||
		string(k) == "type" && object(d, &c.ChatType)
}

func (c *tdChatType) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "@type" && str(d, &c.Type) ||
		string(k) == "user_id" && c.UserID.read(d)
}

func (s *tdSender) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "@type":
		return str(d, &s.Type)
	case "user_id":
		return s.UserID.read(d)
	case "chat_id":
		return s.ChatID.read(d)
	}
	return false
}

func (m *tdMessage) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "id":
		return m.ID.read(d)
	case "sender_id":
		return object(d, &m.SenderID)
	case "chat_id":
		return m.ChatID.read(d)
	case "sending_state":
		return rawJSON(d, &m.SendingState)
	case "is_outgoing":
		return flag(d, &m.IsOutgoing)
	case "date":
		return i64(d, &m.Date)
	case "reply_to":
		return ptr(d, &m.ReplyTo)
	case "content":
		return rawJSON(d, &m.Content)
	case "interaction_info":
		return ptr(d, &m.InteractionInfo)
	}
	return false
}

func (r *tdReplyTo) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "@type":
		return str(d, &r.Type)
	case "chat_id":
		return r.ChatID.read(d)
	case "message_id":
		return r.MessageID.read(d)
	}
	return false
}

func (t *tdText) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "text" && str(d, &t.Text)
}

func (c *tdContent) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "@type":
		return str(d, &c.Type)
	case "text":
		return ptr(d, &c.Text)
	case "caption":
		return ptr(d, &c.Caption)
	case "photo":
		return ptr(d, &c.Photo)
	case "document":
		return ptr(d, &c.Document)
	case "video":
		return ptr(d, &c.Video)
	case "audio":
		return ptr(d, &c.Audio)
	case "voice_note":
		return ptr(d, &c.VoiceNote)
	case "animation":
		return ptr(d, &c.Animation)
	case "video_note":
		return ptr(d, &c.VideoNote)
	case "sticker":
		return ptr(d, &c.Sticker)
	case "emoji":
		return str(d, &c.Emoji)
	}
	return false
}

func (p *tdPhoto) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "sizes" && list(d, &p.Sizes)
}

func (s *tdPhotoSize) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "photo":
		return ptr(d, &s.Photo)
	case "width":
		return num(d, &s.Width)
	case "height":
		return num(d, &s.Height)
	}
	return false
}

func (s *tdSticker) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "emoji" && str(d, &s.Emoji)
}

func (m *tdMedia) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "file_name":
		return str(d, &m.FileName)
	case "mime_type":
		return str(d, &m.MimeType)
	case "document":
		return ptr(d, &m.Document)
	case "video":
		return ptr(d, &m.Video)
	case "audio":
		return ptr(d, &m.Audio)
	case "voice":
		return ptr(d, &m.Voice)
	case "animation":
		return ptr(d, &m.Animation)
	}
	return false
}

func (ii *tdInteraction) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "reactions" && ptr(d, &ii.Reactions)
}

func (rs *tdReactions) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "reactions" && list(d, &rs.Reactions)
}

func (r *tdReaction) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "type":
		return object(d, &r.Type)
	case "total_count":
		return num(d, &r.TotalCount)
	case "is_chosen":
		return flag(d, &r.IsChosen)
	}
	return false
}

func (r *tdReactionType) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "@type" && str(d, &r.Type) ||
		string(k) == "emoji" && str(d, &r.Emoji)
}

// Updates and answers.

func (u *updateAuthorizationState) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "authorization_state" && rawJSON(d, &u.State)
}

func (s *authState) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "@type":
		return str(d, &s.Type)
	case "password_hint":
		return str(d, &s.PasswordHint)
	case "code_info":
		return ptr(d, &s.CodeInfo)
	}
	return false
}

func (c *tdCodeInfo) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "phone_number" && str(d, &c.PhoneNumber)
}

func (u *updateOption) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "name" && str(d, &u.Name) ||
		string(k) == "value" && object(d, &u.Value)
}

func (v *tdOptionValue) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "@type" && str(d, &v.Type) ||
		string(k) == "value" && v.Value.read(d)
}

func (u *updateUser) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "user" && ptr(d, &u.User)
}

func (u *updateUserStatus) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "user_id" && u.UserID.read(d) ||
		string(k) == "status" && ptr(d, &u.Status)
}

func (u *updateUserFullInfo) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "user_id" && u.UserID.read(d) ||
		string(k) == "user_full_info" && ptr(d, &u.UserFullInfo)
}

func (u *updateNewChat) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "chat" && ptr(d, &u.Chat)
}

func (u *updateNewMessage) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "message" && ptr(d, &u.Message)
}

func (u *updateMessageSend) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "message":
		return ptr(d, &u.Message)
	case "old_message_id":
		return u.OldMessageID.read(d)
	case "error":
		return ptr(d, &u.Error)
	}
	return false
}

func (u *updateMessageContent) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "chat_id":
		return u.ChatID.read(d)
	case "message_id":
		return u.MessageID.read(d)
	case "new_content":
		return rawJSON(d, &u.NewContent)
	}
	return false
}

func (u *updateDeleteMessages) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "chat_id":
		return u.ChatID.read(d)
	case "message_ids":
		return ids(d, &u.MessageIDs)
	case "is_permanent":
		return flag(d, &u.IsPermanent)
	case "from_cache":
		return flag(d, &u.FromCache)
	}
	return false
}

func (u *updateChatRead) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "chat_id":
		return u.ChatID.read(d)
	case "last_read_inbox_message_id":
		return u.Inbox.read(d)
	case "last_read_outbox_message_id":
		return u.Outbox.read(d)
	}
	return false
}

func (u *updateChatAction) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "chat_id":
		return u.ChatID.read(d)
	case "sender_id":
		return object(d, &u.SenderID)
	case "action":
		return object(d, &u.Action)
	}
	return false
}

func (u *updateMessageInteractionInfo) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "chat_id":
		return u.ChatID.read(d)
	case "message_id":
		return u.MessageID.read(d)
	case "interaction_info":
		return ptr(d, &u.InteractionInfo)
	}
	return false
}

func (u *tdUserIDs) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "user_ids" && ids(d, &u.UserIDs)
}
