package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

// msgKey names a message: TDLib's message ids are unique within a chat.
type msgKey struct{ chat, id int64 }

func (k msgKey) String() string { return legacyID(k.chat) + "/" + msgID(k.id) }

// pendingSend is a message of the user's that TDLib is sending: its XMPP id, and the fetched
// file to release when it is sent.
type pendingSend struct {
	X      string `json:"x"`
	Handle string `json:"h,omitempty"`
}

// msgInfo is what the plugin remembers of a recent message.
type msgInfo struct {
	out    bool     // the user's (is_outgoing)
	text   string   // its text or caption
	reacts bool     // peer and own are known
	peer   []string // the contact's reactions
	own    []string // the user's reactions
}

// msgCache keeps the most recent messages (a cache: a message it forgot is asked of TDLib).
type msgCache struct {
	m     map[msgKey]*msgInfo
	order []msgKey
	max   int
}

func newMsgCache(max int) *msgCache { return &msgCache{m: map[msgKey]*msgInfo{}, max: max} }

func (c *msgCache) get(k msgKey) *msgInfo { return c.m[k] }

func (c *msgCache) put(k msgKey, v *msgInfo) {
	if _, ok := c.m[k]; !ok {
		c.order = append(c.order, k)
	}
	c.m[k] = v
	for len(c.m) > c.max && len(c.order) > 0 {
		delete(c.m, c.order[0])
		c.order = c.order[1:]
	}
	if len(c.order) > 2*c.max {
		live := c.order[:0:0]
		for _, k := range c.order {
			if _, ok := c.m[k]; ok {
				live = append(live, k)
			}
		}
		c.order = live
	}
}

func (c *msgCache) del(k msgKey) { delete(c.m, k) }

// userOf returns the user of a private chat (TDLib: its id is the user's id), or 0 for any
// other chat (groups and channels have negative ids) and for the user's own Saved Messages.
func (t *session) userOf(chat int64) int64 {
	if chat <= 0 || chat == t.me {
		return 0
	}
	return chat
}

// remember caches a message.
func (t *session) remember(m *tdMessage) *msgInfo {
	ct := m.body()
	info := &msgInfo{out: m.IsOutgoing, reacts: true}
	switch {
	case ct.Text != nil:
		info.text = ct.Text.Text
	case ct.Caption != nil:
		info.text = ct.Caption.Text
	}
	info.peer, info.own = m.InteractionInfo.reactions()
	t.msgs.put(msgKey{int64(m.ChatID), int64(m.ID)}, info)
	return info
}

func carbon(out bool) []gateway.MsgOption {
	if out {
		return []gateway.MsgOption{gateway.Carbon()}
	}
	return nil
}

// lateAfter is how old a new message must be to be dated (XEP-0203): one that came while the
// gateway was away.
const lateAfter = time.Minute

// --- From Telegram ---

// onNewMessage: a message in a private chat. The user's own messages are carbons, unless they
// are ours: a message this client sends has a sending state until TDLib replaces its
// temporary id (updateMessageSendSucceeded).
func (t *session) onNewMessage(m *tdMessage) error {
	u := t.userOf(int64(m.ChatID))
	if u == 0 {
		return nil
	}
	k := msgKey{int64(m.ChatID), int64(m.ID)}
	if m.IsOutgoing {
		if _, ours := t.sends[k]; ours || m.hasSendingState() {
			return nil
		}
	} else if t.typingTmr[u] {
		delete(t.typingTmr, u)
		_ = t.s.CancelTimer("typing:" + legacyID(u))
	}
	t.remember(m)
	return t.deliver(t.contact(u), u, m, m.IsOutgoing)
}

// deliver shows a message to the user: from the contact, or as the user's own (carbon).
func (t *session) deliver(c *gateway.Contact, u int64, m *tdMessage, out bool) error {
	opts := carbon(out)
	if m.Date > 0 && now().Sub(time.Unix(m.Date, 0)) > lateAfter {
		opts = append(opts, gateway.At(time.Unix(m.Date, 0)))
	}
	var replyTo int64
	if r := m.ReplyTo; r != nil && r.Type == "messageReplyToMessage" && (r.ChatID == 0 || r.ChatID == m.ChatID) && r.MessageID > 0 {
		replyTo = int64(r.MessageID)
		quote := ""
		if info := t.msgs.get(msgKey{int64(m.ChatID), replyTo}); info != nil {
			quote = info.text
		}
		opts = append(opts, gateway.ReplyTo(msgID(replyTo), quote))
	}
	id := msgID(int64(m.ID))
	ct := m.body()
	switch ct.Type {
	case "messageText":
		text := ""
		if ct.Text != nil {
			text = ct.Text.Text
		}
		return c.Text(id, text, opts...)
	case "messageSticker":
		if ct.Sticker != nil && ct.Sticker.Emoji != "" {
			return c.Text(id, ct.Sticker.Emoji, opts...)
		}
		return c.Text(id, "/me sent a sticker", opts...)
	case "messageAnimatedEmoji", "messageDice":
		if ct.Emoji != "" {
			return c.Text(id, ct.Emoji, opts...)
		}
	case "messagePhoto", "messageVideo", "messageDocument", "messageAudio", "messageVoiceNote",
		"messageAnimation", "messageVideoNote":
		return t.deliverFile(c, u, m, ct, out, replyTo)
	}
	return c.Text(id, "/me sent a "+kindName(ct.Type)+" (not supported)", opts...)
}

// media returns the file of a message with one, its kind, name and type.
func media(ct *tdContent) (f *tdFile, kind, name, mime string) {
	var md *tdMedia
	switch ct.Type {
	case "messagePhoto":
		if ct.Photo != nil {
			best := -1
			for _, s := range ct.Photo.Sizes {
				if s.Photo != nil && s.Width*s.Height > best {
					best, f = s.Width*s.Height, s.Photo
				}
			}
		}
		return f, "photo", "", ""
	case "messageVideo":
		md, kind = ct.Video, "video"
	case "messageDocument":
		md, kind = ct.Document, "document"
	case "messageAudio":
		md, kind = ct.Audio, "audio file"
	case "messageVoiceNote":
		md, kind = ct.VoiceNote, "voice message"
	case "messageAnimation":
		md, kind = ct.Animation, "animation"
	case "messageVideoNote":
		md, kind = ct.VideoNote, "video message"
	}
	if md == nil {
		return nil, kind, "", ""
	}
	return md.file(), kind, md.FileName, md.MimeType
}

// extensions names files that came without a name, by type.
var extensions = map[string]string{
	"video/mp4": ".mp4", "audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a",
	"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
}

func (t *session) deliverFile(c *gateway.Contact, u int64, m *tdMessage, ct *tdContent, out bool, replyTo int64) error {
	f, kind, name, mime := media(ct)
	id := msgID(int64(m.ID))
	caption := ""
	if ct.Caption != nil {
		caption = ct.Caption.Text
	}
	if f == nil {
		return c.Text(id, "/me sent a "+kind+" (not supported)", carbon(out)...)
	}
	if name == "" && mime != "" {
		if ext, ok := extensions[mime]; ok {
			name = strings.ReplaceAll(kind, " ", "-") + "-" + id + ext
		}
	}
	if size := f.size(); cfg.maxFileSize > 0 && size > cfg.maxFileSize {
		text := fmt.Sprintf("/me sent a %s (%s) that is too large for the gateway (over %s)",
			kind, describeSize(size), describeSize(cfg.maxFileSize))
		if caption != "" {
			text += ": " + caption
		}
		return c.Text(id, text, carbon(out)...)
	}
	ctx := callCtx{Op: "dl", User: u, Chat: int64(m.ChatID), Msg: int64(m.ID), Kind: kind, Name: name, Mime: mime,
		Caption: caption, Carbon: out, Reply: replyTo}
	if h := f.handle(); h != "" {
		return t.sendFile(ctx, h, f.size())
	}
	if err := t.call(download(int64(f.ID)), ctx); err != nil {
		return c.Text(id, "/me sent a "+kind+" that could not be downloaded: "+reason(err), carbon(out)...)
	}
	return nil
}

func describeSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// downloaded reads the answer to downloadFile: the file, and the host handle of its completed
// download.
func downloaded(resp json.RawMessage, err error) (tdFile, string, error) {
	var f tdFile
	if err == nil && unmarshal(resp, &f) != nil {
		err = errors.New("not a file")
	}
	h := f.handle()
	if err == nil && h == "" {
		err = errors.New("the download did not complete")
	}
	return f, h, err
}

// onDownload: a message's file is downloaded (a host handle), or could not be.
func (t *session) onDownload(ctx callCtx, resp json.RawMessage, err error) error {
	f, h, err := downloaded(resp, err)
	if err != nil {
		text := "/me sent a " + ctx.Kind + " that could not be downloaded: " + reason(err)
		return t.contact(ctx.User).Text(msgID(ctx.Msg), text, carbon(ctx.Carbon)...)
	}
	return t.sendFile(ctx, h, f.size())
}

// sendFile gives the user a downloaded file. The handle stays the plugin's: the host maps the
// downloaded path to it for the whole session (see the package documentation of the host's
// bridges), so it is not released here.
func (t *session) sendFile(ctx callCtx, handle string, size int64) error {
	opts := carbon(ctx.Carbon)
	if ctx.Caption != "" {
		opts = append(opts, gateway.Caption(ctx.Caption))
	}
	if ctx.Reply > 0 {
		opts = append(opts, gateway.ReplyTo(msgID(ctx.Reply), ""))
	}
	return t.contact(ctx.User).File(msgID(ctx.Msg), abi.File{Handle: handle, Size: size, Type: ctx.Mime, Name: ctx.Name}, opts...)
}

// onContent: a message's content changed (an edit). Edits the user made from XMPP are not
// shown back; the user's edits from another app are carbons.
func (t *session) onContent(up *updateMessageContent) error {
	chat, mid := int64(up.ChatID), int64(up.MessageID)
	u := t.userOf(chat)
	if u == 0 || typeOf(up.NewContent) != "messageText" {
		return nil // captions and media edits are not shown
	}
	var ct tdContent
	if unmarshal(up.NewContent, &ct) != nil || ct.Text == nil {
		return nil
	}
	text := ct.Text.Text
	k := msgKey{chat, mid}
	info := t.msgs.get(k)
	if want, ok := t.ourEdits[k]; ok && want == text {
		delete(t.ourEdits, k)
		if info != nil {
			info.text = text
		}
		return nil
	}
	if info == nil {
		// a message the cache forgot: ask TDLib whose it is
		t.callLogged(req("getMessage", "chat_id", chat, "message_id", mid), callCtx{Op: "edited", User: u, Chat: chat, Msg: mid})
		return nil
	}
	if info.text == text {
		return nil
	}
	info.text = text
	return t.contact(u).Correct(msgID(mid), text, carbon(info.out)...)
}

func (t *session) onEditedMessage(ctx callCtx, resp json.RawMessage, err error) error {
	var m tdMessage
	if err == nil && (unmarshal(resp, &m) != nil || m.ID <= 0) {
		err = errors.New("not a message")
	}
	if err != nil {
		t.s.Logf(abi.LogInfo, "telegram: getMessage %d/%d: %v", ctx.Chat, ctx.Msg, err)
		return nil
	}
	info := t.remember(&m)
	if m.body().Type != "messageText" {
		return nil
	}
	return t.contact(ctx.User).Correct(msgID(int64(m.ID)), info.text, carbon(m.IsOutgoing)...)
}

// onDelete: messages were deleted. Only permanent deletions are retractions (from_cache is
// TDLib forgetting a message it held); the user's deletions from XMPP are not shown back.
func (t *session) onDelete(up *updateDeleteMessages) error {
	if up.FromCache || !up.IsPermanent {
		return nil
	}
	chat := int64(up.ChatID)
	u := t.userOf(chat)
	if u == 0 {
		return nil
	}
	var c *gateway.Contact
	for _, x := range up.MessageIDs {
		k := msgKey{chat, int64(x)}
		info := t.msgs.get(k)
		t.msgs.del(k)
		if t.ourDeletes[k] {
			delete(t.ourDeletes, k)
			continue
		}
		if _, sending := t.sends[k]; sending {
			continue
		}
		if c == nil {
			c = t.contact(u)
		}
		if err := c.Retract(msgID(int64(x)), carbon(info != nil && info.out)...); err != nil {
			return err
		}
	}
	return nil
}

// onReadInbox: the user read the chat from another app (a carbon), unless from XMPP.
func (t *session) onReadInbox(chat, upto int64) error {
	u := t.userOf(chat)
	if u == 0 || upto <= 0 || upto <= t.readInbox[chat] {
		return nil
	}
	t.readInbox[chat] = upto
	if upto <= t.readByUs[chat] {
		return nil
	}
	return t.contact(u).Displayed(msgID(upto), gateway.Carbon())
}

// onReadOutbox: the contact read the user's messages.
func (t *session) onReadOutbox(chat, upto int64) error {
	u := t.userOf(chat)
	if u == 0 || upto <= 0 || upto <= t.readOutbox[chat] {
		return nil
	}
	t.readOutbox[chat] = upto
	return t.contact(u).Displayed(msgID(upto))
}

// typingTimeout is how long a contact's typing shows without news (Telegram clients repeat
// their action every few seconds).
const typingTimeout = 6 * time.Second

// onChatAction: the contact types (or records, uploads, ...), or stopped.
func (t *session) onChatAction(up *updateChatAction) error {
	chat := int64(up.ChatID)
	u := t.userOf(chat)
	sender := int64(up.SenderID.UserID)
	if u == 0 || (sender != 0 && sender != u) {
		return nil
	}
	c := t.contact(u)
	if up.Action.Type == "chatActionCancel" {
		if t.typingTmr[u] {
			delete(t.typingTmr, u)
			_ = t.s.CancelTimer("typing:" + legacyID(u))
		}
		return c.State(abi.StatePaused)
	}
	if err := c.State(abi.StateComposing); err != nil {
		return err
	}
	t.typingTmr[u] = true
	return t.s.AfterWith(typingTimeout, "typing:"+legacyID(u), callCtx{Op: "typing", User: u}.raw(), nil)
}

// onInteraction: the reactions on a message changed: the contact's, or the user's own from
// another app (a carbon); the user's reactions from XMPP are not shown back.
func (t *session) onInteraction(chat, mid int64, ii *tdInteraction) error {
	u := t.userOf(chat)
	if u == 0 {
		return nil
	}
	peer, own := ii.reactions()
	info := t.msgs.get(msgKey{chat, mid})
	c := t.contact(u)
	id := msgID(mid)
	peerChanged := len(peer) > 0
	ownChanged := len(own) > 0
	if info != nil && info.reacts {
		peerChanged, ownChanged = !sameSet(peer, info.peer), !sameSet(own, info.own)
	}
	if info != nil {
		info.reacts, info.peer, info.own = true, peer, own
	}
	if peerChanged {
		if err := c.React(id, peer); err != nil {
			return err
		}
	}
	if ownChanged {
		return c.React(id, own, gateway.Carbon())
	}
	return nil
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, x := range a {
		if !slices.Contains(b, x) {
			return false
		}
	}
	return true
}

// --- From the user ---

func (t *session) contactUser(c *gateway.Contact) (int64, error) {
	if t.phase != phaseReady {
		return 0, errors.New("the gateway is not logged in to Telegram")
	}
	return parseUserID(c.ID())
}

func (t *session) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	u, err := t.contactUser(c)
	if err != nil {
		return "", err
	}
	return "", t.send(u, m.ID, inputText(m.Text), parseMsgID(m.ReplyTo), "")
}

// send sends a message to a user's private chat, creating the chat first if this session has
// not seen it. message.sent comes with the final id, at updateMessageSendSucceeded.
func (t *session) send(u int64, xmppID string, content obj, reply int64, handle string) error {
	ct := json.RawMessage(content.appendJSON(nil))
	if !t.chats[u] {
		return t.call(req("createPrivateChat", "user_id", u, "force", false),
			callCtx{Op: "chat", User: u, X: xmppID, Content: ct, Reply: reply, Handle: handle})
	}
	return t.sendMessage(u, xmppID, ct, reply, handle)
}

func (t *session) sendMessage(chat int64, xmppID string, ct json.RawMessage, reply int64, handle string) error {
	r := req("sendMessage", "chat_id", chat, "message_thread_id", 0, "input_message_content", ct)
	if reply > 0 {
		r = r.with("reply_to", req("inputMessageReplyToMessage", "message_id", reply))
	}
	return t.call(r, callCtx{Op: "send", X: xmppID, Chat: chat, Handle: handle})
}

// failed reports that a message of the user's was not sent, and drops its file.
func (t *session) failed(xmppID, handle, why string) error {
	t.release(handle)
	return t.s.MessageFailed(xmppID, why)
}

func (t *session) release(handle string) {
	if handle != "" {
		if err := t.s.ReleaseFile(handle); err != nil {
			t.s.Logf(abi.LogInfo, "telegram: file.release %s: %v", handle, err)
		}
	}
}

func (t *session) onChatCreated(ctx callCtx, resp json.RawMessage, err error) error {
	var ch tdChat
	if err == nil && (unmarshal(resp, &ch) != nil || ch.ID == 0) {
		err = errors.New("not a chat")
	}
	if err != nil {
		return t.failed(ctx.X, ctx.Handle, "Telegram: "+reason(err))
	}
	t.chats[ctx.User] = true
	if err := t.sendMessage(int64(ch.ID), ctx.X, ctx.Content, ctx.Reply, ctx.Handle); err != nil {
		return t.failed(ctx.X, ctx.Handle, reason(err))
	}
	return nil
}

// onSendAnswer: sendMessage answered with the message, under a temporary id while it is being
// sent; the final id comes with updateMessageSendSucceeded. The temporary id is kept in
// storage, so that a fresh instance still knows whose message it is.
func (t *session) onSendAnswer(ctx callCtx, resp json.RawMessage, err error) error {
	var m tdMessage
	if err == nil && (unmarshal(resp, &m) != nil || m.ID == 0) {
		err = errors.New("not a message")
	}
	if err != nil {
		return t.failed(ctx.X, ctx.Handle, "Telegram refused the message: "+reason(err))
	}
	if m.ChatID == 0 {
		m.ChatID = id(ctx.Chat)
	}
	k := msgKey{int64(m.ChatID), int64(m.ID)}
	switch {
	case m.failed():
		return t.failed(ctx.X, ctx.Handle, "Telegram could not send the message")
	case m.pending():
		if final, ok := t.early[k]; ok {
			delete(t.early, k)
			t.release(ctx.Handle)
			return t.s.MessageSent(ctx.X, msgID(final))
		}
		p := pendingSend{X: ctx.X, Handle: ctx.Handle}
		t.sends[k] = p
		return t.s.KVSet(keyPending+k.String(), string(p.appendJSON(nil)))
	}
	t.remember(&m)
	t.release(ctx.Handle)
	t.releaseEcho(&m, ctx.Handle)
	return t.s.MessageSent(ctx.X, msgID(int64(m.ID)))
}

// onSendResult: TDLib sent (or could not send) a message: the temporary id becomes final.
func (t *session) onSendResult(up *updateMessageSend, failed bool) error {
	m := up.Message
	k := msgKey{int64(m.ChatID), int64(up.OldMessageID)}
	p, ok := t.sends[k]
	if !ok {
		if v, found, _ := t.s.KVGet(keyPending + k.String()); found && unmarshal([]byte(v), &p) == nil {
			ok = true
		}
	}
	if !ok {
		if !failed {
			if len(t.early) > 256 {
				clear(t.early) // not ours after all
			}
			t.early[k] = int64(m.ID) // the answer to sendMessage has not come yet
		}
		return nil
	}
	delete(t.sends, k)
	_ = t.s.KVDelete(keyPending + k.String())
	if failed {
		why := "Telegram could not send the message"
		if up.Error != nil {
			why += ": " + up.Error.Error()
		}
		return t.failed(p.X, p.Handle, why)
	}
	t.remember(m)
	t.release(p.Handle)
	t.releaseEcho(m, p.Handle)
	return t.s.MessageSent(p.X, msgID(int64(m.ID)))
}

// releaseEcho releases the handle the host made of a sent file's own local path (the host
// imports every completed local file TDLib names): the plugin has no use for it.
func (t *session) releaseEcho(m *tdMessage, sent string) {
	if f, _, _, _ := media(m.body()); f != nil {
		if h := f.handle(); h != "" && h != sent {
			t.release(h)
		}
	}
}

// OnFile: the user sent a file (a URL): the host downloads it, then it goes to Telegram as a
// local file (the handle).
func (t *session) OnFile(c *gateway.Contact, m abi.FileMessage) (abi.LegacyMsgID, error) {
	u, err := t.contactUser(c)
	if err != nil {
		return "", err
	}
	ctx := callCtx{Op: "upload", X: m.ID, User: u, Name: m.Name, Mime: m.Type, Caption: m.Caption, Reply: parseMsgID(m.ReplyTo)}
	return "", t.s.FetchWith(m.URL, cfg.maxFileSize, ctx.raw(), nil)
}

func (t *session) OnFileFetched(r gateway.FetchResult) error {
	var ctx callCtx
	if err := unmarshal(r.Context, &ctx); err != nil || ctx.Op != "upload" {
		if r.File != nil {
			t.release(r.File.Handle)
		}
		return nil
	}
	if r.Err != nil || r.File == nil {
		why := "the gateway could not download the file"
		if r.Err != nil {
			why += ": " + reason(r.Err)
		}
		return t.s.MessageFailed(ctx.X, why)
	}
	h := r.File.Handle
	if err := t.send(ctx.User, ctx.X, inputFile(r.File, ctx), ctx.Reply, h); err != nil {
		return t.failed(ctx.X, h, reason(err))
	}
	return nil
}

// inputFile is the input message content of a file: a photo, video, audio file or document,
// by its type.
func inputFile(f *abi.File, ctx callCtx) obj {
	mime := ctx.Mime
	if mime == "" || mime == "application/octet-stream" {
		mime = f.Type
	}
	file := req("inputFileLocal", "path", "handle:"+f.Handle)
	var caption any
	if ctx.Caption != "" {
		caption = formatted(ctx.Caption)
	}
	switch {
	case mime == "image/jpeg", mime == "image/png", mime == "image/webp", mime == "image/bmp":
		return req("inputMessagePhoto", "photo", file, "added_sticker_file_ids", []any{}, "width", 0, "height", 0,
			"caption", caption, "has_spoiler", false)
	case strings.HasPrefix(mime, "video/"):
		return req("inputMessageVideo", "video", file, "added_sticker_file_ids", []any{}, "duration", 0,
			"width", 0, "height", 0, "supports_streaming", true, "caption", caption, "has_spoiler", false)
	case strings.HasPrefix(mime, "audio/"):
		return req("inputMessageAudio", "audio", file, "duration", 0, "title", "", "performer", "", "caption", caption)
	}
	return req("inputMessageDocument", "document", file, "disable_content_type_detection", false, "caption", caption)
}

// targetMsg resolves the contact and the message that a correction, retraction or reaction of
// the user's is about.
func (t *session) targetMsg(c *gateway.Contact, id abi.LegacyMsgID) (user, msg int64, err error) {
	if user, err = t.contactUser(c); err != nil {
		return 0, 0, err
	}
	if msg = parseMsgID(id); msg == 0 {
		return 0, 0, abi.Errorf(abi.CodeInvalid, "%q is not a Telegram message id", id)
	}
	return user, msg, nil
}

func (t *session) OnCorrect(c *gateway.Contact, m abi.Correct) error {
	u, target, err := t.targetMsg(c, m.Target)
	if err != nil {
		return err
	}
	k := msgKey{u, target}
	t.ourEdits[k] = m.Text
	return t.call(req("editMessageText", "chat_id", u, "message_id", target, "reply_markup", nil,
		"input_message_content", inputText(m.Text)), callCtx{Op: "edit", X: m.ID, Chat: u, Msg: target})
}

func (t *session) OnRetract(c *gateway.Contact, m abi.Retract) error {
	u, target, err := t.targetMsg(c, m.Target)
	if err != nil {
		return err
	}
	t.ourDeletes[msgKey{u, target}] = true
	return t.call(req("deleteMessages", "chat_id", u, "message_ids", []int64{target}, "revoke", true),
		callCtx{Op: "delete", X: m.ID, Chat: u, Msg: target})
}

// OnReact sets the user's reactions on a message to the full set given: the ones gone are
// removed, the new ones added (setMessageReactions is for bots only).
func (t *session) OnReact(c *gateway.Contact, m abi.React) error {
	u, target, err := t.targetMsg(c, m.Target)
	if err != nil {
		return err
	}
	want := []string{}
	for _, e := range m.Reactions {
		if e = normalizeReaction(e); e != "" && !slices.Contains(want, e) {
			want = append(want, e)
		}
	}
	if info := t.msgs.get(msgKey{u, target}); info != nil && info.reacts {
		t.setReactions(u, target, info, want, m.ID)
		return nil
	}
	return t.call(req("getMessage", "chat_id", u, "message_id", target),
		callCtx{Op: "react_get", X: m.ID, User: u, Chat: u, Msg: target, Reacts: want})
}

func (t *session) onReactGet(ctx callCtx, resp json.RawMessage, err error) error {
	var m tdMessage
	if err == nil && (unmarshal(resp, &m) != nil || m.ID <= 0) {
		err = errors.New("not a message")
	}
	if err != nil {
		t.actionFailed(ctx.X, "react", err)
		return nil
	}
	t.setReactions(ctx.Chat, ctx.Msg, t.remember(&m), ctx.Reacts, ctx.X)
	return nil
}

func (t *session) setReactions(chat, mid int64, info *msgInfo, want []string, xmppID string) {
	ctx := callCtx{Op: "react", X: xmppID, Chat: chat, Msg: mid}
	for _, e := range info.own {
		if !slices.Contains(want, e) {
			t.callLogged(req("removeMessageReaction", "chat_id", chat, "message_id", mid, "reaction_type", reactionType(e)), ctx)
		}
	}
	for _, e := range want {
		if !slices.Contains(info.own, e) {
			t.callLogged(req("addMessageReaction", "chat_id", chat, "message_id", mid, "reaction_type", reactionType(e),
				"is_big", false, "update_recent_reactions", true), ctx)
		}
	}
	info.own = want
}

// normalizeReaction maps an emoji to the form the network allows: XMPP clients often add the
// emoji variation selector (U+FE0F) that Telegram's "❤" lacks.
func normalizeReaction(e string) string {
	e = strings.TrimSpace(e)
	if len(cfg.reactions) == 0 || slices.Contains(cfg.reactions, e) {
		return e
	}
	if s := strings.ReplaceAll(e, "\ufe0f", ""); slices.Contains(cfg.reactions, s) {
		return s
	}
	return e
}

func (t *session) OnDisplayed(c *gateway.Contact, target abi.LegacyMsgID) error {
	u, err := t.contactUser(c)
	if err != nil {
		return err
	}
	mid := parseMsgID(target)
	if mid == 0 {
		return nil
	}
	if mid > t.readByUs[u] {
		t.readByUs[u] = mid
	}
	t.callLogged(req("viewMessages", "chat_id", u, "message_ids", []int64{mid},
		"source", req("messageSourceChatHistory"), "force_read", true), callCtx{Op: "view"})
	return nil
}

func (t *session) OnChatState(c *gateway.Contact, st abi.State) error {
	u, err := t.contactUser(c)
	if err != nil {
		return err
	}
	action := "chatActionTyping"
	if st != abi.StateComposing {
		if !t.typing[u] {
			return nil
		}
		action = "chatActionCancel"
		delete(t.typing, u)
	} else {
		t.typing[u] = true
	}
	t.callLogged(req("sendChatAction", "chat_id", u, "message_thread_id", 0, "action", req(action)), callCtx{Op: "action"})
	return nil
}
