package main

import (
	"encoding/json"

	"github.com/xmppgw/gateway/plugins/telegram/internal/tdjson"
)

// Hand-written decoders of the TDLib objects the plugin reads (encoding/json's reflection was
// most of the plugin's CPU in a wasip1 guest). Each reads the fields its struct tags name;
// unmarshal falls back to encoding/json on anything the scanner does not read, so the result
// is encoding/json's (but for an object that repeats a key whose value is an array of objects:
// encoding/json merges the two arrays' elements, the last one wins here).

// decoder is a type with a hand-written decoder.
type decoder interface{ decode(d *tdjson.Decoder) }

// unmarshal is json.Unmarshal for the plugin's TDLib types: v must be a zero value.
func unmarshal[T any, P interface {
	*T
	decoder
}](b []byte, v P) error {
	d := tdjson.NewDecoder(b)
	v.decode(&d)
	if d.End() == nil {
		return nil
	}
	var zero T
	*v = zero
	return json.Unmarshal(b, v)
}

// decodePtr decodes into *p, allocating it first (null: nil), as encoding/json does.
func decodePtr[T any, P interface {
	*T
	decoder
}](d *tdjson.Decoder, p *P) {
	if d.Null() {
		*p = nil
		return
	}
	if *p == nil {
		*p = new(T)
	}
	(*p).decode(d)
}

func (v *id) decode(d *tdjson.Decoder) { d.ID((*int64)(v)) }

// decodeIDs reads an array of ids (null: nil).
func decodeIDs(d *tdjson.Decoder, v *[]id) {
	if !d.Array() {
		if d.Err() == nil {
			*v = nil
		}
		return
	}
	out := []id{}
	for d.Elem() {
		var x id
		x.decode(d)
		out = append(out, x)
	}
	*v = out
}

func (t *typed) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "@type" {
			d.String(&t.Type)
		} else {
			d.Skip()
		}
	}
}

func (e *tdError) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "code":
			d.IntN(&e.Code)
		case "message":
			d.String(&e.Message)
		default:
			d.Skip()
		}
	}
}

func (u *tdUser) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "id":
			u.ID.decode(d)
		case "first_name":
			d.String(&u.FirstName)
		case "last_name":
			d.String(&u.LastName)
		case "usernames":
			decodePtr(d, &u.Usernames)
		case "phone_number":
			d.String(&u.PhoneNumber)
		case "status":
			decodePtr(d, &u.Status)
		case "profile_photo":
			decodePtr(d, &u.ProfilePhoto)
		case "is_contact":
			d.Bool(&u.IsContact)
		case "type":
			u.UserType.decode(d)
		default:
			d.Skip()
		}
	}
}

func (u *tdUsers) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "active_usernames":
			d.Strings(&u.ActiveUsernames)
		case "editable_username":
			d.String(&u.EditableUsername)
		default:
			d.Skip()
		}
	}
}

func (s *tdStatus) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&s.Type)
		case "expires":
			d.Int(&s.Expires)
		case "was_online":
			d.Int(&s.WasOnline)
		default:
			d.Skip()
		}
	}
}

func (p *tdPhotoRef) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "id":
			p.ID.decode(d)
		case "small":
			decodePtr(d, &p.Small)
		default:
			d.Skip()
		}
	}
}

func (f *tdFile) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "id":
			f.ID.decode(d)
		case "size":
			d.Int(&f.Size)
		case "expected_size":
			d.Int(&f.ExpectedSize)
		case "local":
			f.Local.decode(d)
		default:
			d.Skip()
		}
	}
}

func (l *tdLocalFile) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "path":
			d.String(&l.Path)
		case "is_downloading_completed":
			d.Bool(&l.Completed)
		default:
			d.Skip()
		}
	}
}

func (fi *tdFullInfo) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "bio" {
			decodePtr(d, &fi.Bio)
		} else {
			d.Skip()
		}
	}
}

func (c *tdChat) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "id":
			c.ID.decode(d)
		case "type":
			c.ChatType.decode(d)
		default:
			d.Skip()
		}
	}
}

func (c *tdChatType) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&c.Type)
		case "user_id":
			c.UserID.decode(d)
		default:
			d.Skip()
		}
	}
}

func (s *tdSender) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&s.Type)
		case "user_id":
			s.UserID.decode(d)
		case "chat_id":
			s.ChatID.decode(d)
		default:
			d.Skip()
		}
	}
}

func (m *tdMessage) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "id":
			m.ID.decode(d)
		case "sender_id":
			m.SenderID.decode(d)
		case "chat_id":
			m.ChatID.decode(d)
		case "sending_state":
			m.SendingState = d.Raw()
		case "is_outgoing":
			d.Bool(&m.IsOutgoing)
		case "date":
			d.Int(&m.Date)
		case "reply_to":
			decodePtr(d, &m.ReplyTo)
		case "content":
			m.Content = d.Raw()
		case "interaction_info":
			decodePtr(d, &m.InteractionInfo)
		default:
			d.Skip()
		}
	}
}

func (r *tdReplyTo) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&r.Type)
		case "chat_id":
			r.ChatID.decode(d)
		case "message_id":
			r.MessageID.decode(d)
		default:
			d.Skip()
		}
	}
}

func (t *tdText) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "text" {
			d.String(&t.Text)
		} else {
			d.Skip()
		}
	}
}

func (c *tdContent) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&c.Type)
		case "text":
			decodePtr(d, &c.Text)
		case "caption":
			decodePtr(d, &c.Caption)
		case "photo":
			decodePtr(d, &c.Photo)
		case "document":
			decodePtr(d, &c.Document)
		case "video":
			decodePtr(d, &c.Video)
		case "audio":
			decodePtr(d, &c.Audio)
		case "voice_note":
			decodePtr(d, &c.VoiceNote)
		case "animation":
			decodePtr(d, &c.Animation)
		case "video_note":
			decodePtr(d, &c.VideoNote)
		case "sticker":
			decodePtr(d, &c.Sticker)
		case "emoji":
			d.String(&c.Emoji)
		default:
			d.Skip()
		}
	}
}

func (p *tdPhoto) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) != "sizes" {
			d.Skip()
			continue
		}
		if !d.Array() {
			if d.Err() == nil {
				p.Sizes = nil
			}
			continue
		}
		sizes := []tdPhotoSize{}
		for d.Elem() {
			var s tdPhotoSize
			s.decode(d)
			sizes = append(sizes, s)
		}
		p.Sizes = sizes
	}
}

func (s *tdPhotoSize) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "photo":
			decodePtr(d, &s.Photo)
		case "width":
			d.IntN(&s.Width)
		case "height":
			d.IntN(&s.Height)
		default:
			d.Skip()
		}
	}
}

func (s *tdSticker) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "emoji" {
			d.String(&s.Emoji)
		} else {
			d.Skip()
		}
	}
}

func (m *tdMedia) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "file_name":
			d.String(&m.FileName)
		case "mime_type":
			d.String(&m.MimeType)
		case "document":
			decodePtr(d, &m.Document)
		case "video":
			decodePtr(d, &m.Video)
		case "audio":
			decodePtr(d, &m.Audio)
		case "voice":
			decodePtr(d, &m.Voice)
		case "animation":
			decodePtr(d, &m.Animation)
		default:
			d.Skip()
		}
	}
}

func (ii *tdInteraction) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "reactions" {
			decodePtr(d, &ii.Reactions)
		} else {
			d.Skip()
		}
	}
}

func (rs *tdReactions) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) != "reactions" {
			d.Skip()
			continue
		}
		if !d.Array() {
			if d.Err() == nil {
				rs.Reactions = nil
			}
			continue
		}
		list := []tdReaction{}
		for d.Elem() {
			var r tdReaction
			r.decode(d)
			list = append(list, r)
		}
		rs.Reactions = list
	}
}

func (r *tdReaction) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "type":
			r.Type.decode(d)
		case "total_count":
			d.IntN(&r.TotalCount)
		case "is_chosen":
			d.Bool(&r.IsChosen)
		default:
			d.Skip()
		}
	}
}

func (r *tdReactionType) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&r.Type)
		case "emoji":
			d.String(&r.Emoji)
		default:
			d.Skip()
		}
	}
}

// Updates and answers.

func (u *updateAuthorizationState) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "authorization_state" {
			u.State = d.Raw()
		} else {
			d.Skip()
		}
	}
}

func (s *authState) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&s.Type)
		case "password_hint":
			d.String(&s.PasswordHint)
		case "code_info":
			decodePtr(d, &s.CodeInfo)
		default:
			d.Skip()
		}
	}
}

func (c *tdCodeInfo) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "phone_number" {
			d.String(&c.PhoneNumber)
		} else {
			d.Skip()
		}
	}
}

func (u *updateOption) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "name":
			d.String(&u.Name)
		case "value":
			u.Value.decode(d)
		default:
			d.Skip()
		}
	}
}

func (v *tdOptionValue) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&v.Type)
		case "value":
			v.Value.decode(d)
		default:
			d.Skip()
		}
	}
}

func (u *updateUser) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "user" {
			decodePtr(d, &u.User)
		} else {
			d.Skip()
		}
	}
}

func (u *updateUserStatus) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "user_id":
			u.UserID.decode(d)
		case "status":
			decodePtr(d, &u.Status)
		default:
			d.Skip()
		}
	}
}

func (u *updateUserFullInfo) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "user_id":
			u.UserID.decode(d)
		case "user_full_info":
			decodePtr(d, &u.UserFullInfo)
		default:
			d.Skip()
		}
	}
}

func (u *updateNewChat) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "chat" {
			decodePtr(d, &u.Chat)
		} else {
			d.Skip()
		}
	}
}

func (u *updateNewMessage) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "message" {
			decodePtr(d, &u.Message)
		} else {
			d.Skip()
		}
	}
}

func (u *updateMessageSend) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "message":
			decodePtr(d, &u.Message)
		case "old_message_id":
			u.OldMessageID.decode(d)
		case "error":
			decodePtr(d, &u.Error)
		default:
			d.Skip()
		}
	}
}

func (u *updateMessageContent) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "chat_id":
			u.ChatID.decode(d)
		case "message_id":
			u.MessageID.decode(d)
		case "new_content":
			u.NewContent = d.Raw()
		default:
			d.Skip()
		}
	}
}

func (u *updateDeleteMessages) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "chat_id":
			u.ChatID.decode(d)
		case "message_ids":
			decodeIDs(d, &u.MessageIDs)
		case "is_permanent":
			d.Bool(&u.IsPermanent)
		case "from_cache":
			d.Bool(&u.FromCache)
		default:
			d.Skip()
		}
	}
}

func (u *updateChatRead) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "chat_id":
			u.ChatID.decode(d)
		case "last_read_inbox_message_id":
			u.Inbox.decode(d)
		case "last_read_outbox_message_id":
			u.Outbox.decode(d)
		default:
			d.Skip()
		}
	}
}

func (u *updateChatAction) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "chat_id":
			u.ChatID.decode(d)
		case "sender_id":
			u.SenderID.decode(d)
		case "action":
			u.Action.decode(d)
		default:
			d.Skip()
		}
	}
}

func (u *updateMessageInteractionInfo) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "chat_id":
			u.ChatID.decode(d)
		case "message_id":
			u.MessageID.decode(d)
		case "interaction_info":
			decodePtr(d, &u.InteractionInfo)
		default:
			d.Skip()
		}
	}
}

func (u *tdUserIDs) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		if string(d.Key()) == "user_ids" {
			decodeIDs(d, &u.UserIDs)
		} else {
			d.Skip()
		}
	}
}
