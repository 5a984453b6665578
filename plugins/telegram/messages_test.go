package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

const (
	eve     = 1001
	me      = 9000001
	temp    = 1048577 // a temporary id: last server id << 20, plus one
	final   = 2097152 // the final id: server id 2 << 20
	eveMsg  = 3145728
	eveMsg2 = 4194304
)

func newMessage(m string) string { return `{"@type":"updateNewMessage","message":` + m + `}` }

// sendText sends a text to eve and plays TDLib up to the answer with the temporary id.
func (f *fx) sendText(xmppID, text string, firstInChat bool) sdktest.Result {
	f.t.Helper()
	res := f.s.Text("1001", abi.Text{ID: xmppID, Text: text})
	f.check(res)
	if len(res.Filter(abi.CallMessageSent, abi.CallMessageFailed)) != 0 {
		f.t.Fatalf("answered at once: %v", res.Methods())
	}
	if firstInChat {
		f.answer("createPrivateChat", `{"@type":"chat","id":1001,"type":{"@type":"chatTypePrivate","user_id":1001},"title":"Eve Echo"}`)
	}
	sm := request(f.pending("sendMessage"))
	if sm["chat_id"] != float64(eve) || sm["input_message_content"].(map[string]any)["text"].(map[string]any)["text"] != text {
		f.t.Fatalf("sendMessage: %v", sm)
	}
	// TDLib: updateNewMessage with the temporary id, then the answer with the same.
	m := message(temp, eve, me, true, pendingState, textContent(text))
	if res := f.event(newMessage(m)); len(res.Calls) != 0 {
		f.t.Fatalf("the user's own message came back: %v", res.Calls)
	}
	res = f.answer("sendMessage", m)
	if len(res.Filter(abi.CallMessageSent)) != 0 {
		f.t.Fatalf("message.sent with the temporary id: %v", res.Calls)
	}
	return res
}

func succeeded(text string) string {
	return fmt.Sprintf(`{"@type":"updateMessageSendSucceeded","message":%s,"old_message_id":%d}`,
		message(final, eve, me, true, "", textContent(text)), temp)
}

func TestMessageIDLifecycle(t *testing.T) {
	f := newFx(t)
	f.fill()
	f.sendText("x1", "hello", true)
	if _, ok := f.s.KV()[fmt.Sprintf("pend/1001/%d", temp)]; !ok {
		t.Fatalf("temporary id not kept: %v", f.s.KV())
	}
	res := f.event(succeeded("hello"))
	sent := calls[abi.MessageSent](res, abi.CallMessageSent)
	if len(sent) != 1 || sent[0].ID != "x1" || sent[0].LegacyID != fmt.Sprint(final) {
		t.Fatalf("message.sent: %v", res.Calls)
	}
	if _, ok := f.s.KV()[fmt.Sprintf("pend/1001/%d", temp)]; ok {
		t.Fatal("temporary id left in storage")
	}
	// A reply: reply_to is the replied message.
	f.s.Text("1001", abi.Text{ID: "x2", Text: "re", ReplyTo: fmt.Sprint(final)})
	rt := request(f.pending("sendMessage"))["reply_to"].(map[string]any)
	if rt["@type"] != "inputMessageReplyToMessage" || rt["message_id"] != float64(final) {
		t.Fatalf("reply_to: %v", rt)
	}
	// A failed send: message.failed with TDLib's reason, at updateMessageSendFailed.
	m := message(temp+1, eve, me, true, pendingState, textContent("re"))
	f.answer("sendMessage", m)
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageSendFailed","message":%s,"old_message_id":%d,"error":{"@type":"error","code":400,"message":"USER_IS_BLOCKED"}}`,
		message(temp+2, eve, me, true, `{"@type":"messageSendingStateFailed"}`, textContent("re")), temp+1))
	if fl := calls[abi.MessageFailed](res, abi.CallMessageFailed); len(fl) != 1 || fl[0].ID != "x2" || !contains(fl[0].Error, "USER_IS_BLOCKED") {
		t.Fatalf("message.failed: %v", res.Calls)
	}
	// A refused request.
	f.s.Text("1001", abi.Text{ID: "x3", Text: "x"})
	res = f.refuse("sendMessage", 400, "Chat not found")
	if fl := calls[abi.MessageFailed](res, abi.CallMessageFailed); len(fl) != 1 || fl[0].ID != "x3" || !contains(fl[0].Error, "Chat not found") {
		t.Fatalf("refused: %v", res.Calls)
	}
	// An answer that is final at once (no sending state) is sent at once.
	f.s.Text("1001", abi.Text{ID: "x4", Text: "y"})
	res = f.answer("sendMessage", message(final+1<<20, eve, me, true, "", textContent("y")))
	if sent := calls[abi.MessageSent](res, abi.CallMessageSent); len(sent) != 1 || sent[0].LegacyID != fmt.Sprint(final+1<<20) {
		t.Fatalf("final at once: %v", res.Calls)
	}
	// The final id before the answer (TDLib may be quick): sent when the answer comes.
	f.s.Text("1001", abi.Text{ID: "x5", Text: "z"})
	f.event(succeeded("z"))
	res = f.answer("sendMessage", message(temp, eve, me, true, pendingState, textContent("z")))
	if sent := calls[abi.MessageSent](res, abi.CallMessageSent); len(sent) != 1 || sent[0].ID != "x5" || sent[0].LegacyID != fmt.Sprint(final) {
		t.Fatalf("early final id: %v", res.Calls)
	}
}

// The temporary id survives an instance crash between the answer and the final id.
func TestMessageIDLifecycleAfterCrash(t *testing.T) {
	f := newFx(t)
	f.fill()
	f.sendText("x1", "hello", true)
	f.h.Restart()
	res := f.event(succeeded("hello"))
	if sent := calls[abi.MessageSent](res, abi.CallMessageSent); len(sent) != 1 || sent[0].ID != "x1" || sent[0].LegacyID != fmt.Sprint(final) {
		t.Fatalf("after a crash: %v", res.Calls)
	}
	// And an answer that comes to the fresh instance (which makes sure the chat exists first).
	f.s.Text("1001", abi.Text{ID: "x2", Text: "again"})
	f.answer("createPrivateChat", `{"@type":"chat","id":1001,"type":{"@type":"chatTypePrivate","user_id":1001}}`)
	f.h.Restart()
	f.answer("sendMessage", message(temp, eve, me, true, pendingState, textContent("again")))
	f.h.Restart()
	res = f.event(succeeded("again"))
	if sent := calls[abi.MessageSent](res, abi.CallMessageSent); len(sent) != 1 || sent[0].ID != "x2" {
		t.Fatalf("answer after a crash: %v", res.Calls)
	}
}

func TestIncoming(t *testing.T) {
	f := newFx(t)
	f.fill()
	// Typing, then a text, then its edit, reactions and deletion.
	res := f.event(`{"@type":"updateChatAction","chat_id":1001,"message_thread_id":0,"sender_id":{"@type":"messageSenderUser","user_id":1001},"action":{"@type":"chatActionTyping"}}`)
	if st := calls[abi.ContactState](res, abi.CallContactState); len(st) != 1 || st[0].State != abi.StateComposing {
		t.Fatalf("typing: %v", res.Calls)
	}
	if _, ok := f.s.Timer("typing:1001"); !ok {
		t.Fatal("no typing timer")
	}
	res = f.event(`{"@type":"updateChatAction","chat_id":1001,"message_thread_id":0,"sender_id":{"@type":"messageSenderUser","user_id":1001},"action":{"@type":"chatActionCancel"}}`)
	if st := calls[abi.ContactState](res, abi.CallContactState); len(st) != 1 || st[0].State != abi.StatePaused {
		t.Fatalf("cancel: %v", res.Calls)
	}
	res = f.event(newMessage(message(eveMsg, eve, eve, false, "", textContent("hi"))))
	tx := calls[abi.ContactText](res, abi.CallContactText)
	if len(tx) != 1 || tx[0].ID != fmt.Sprint(eveMsg) || tx[0].Text != "hi" || tx[0].Carbon || tx[0].LegacyID != "1001" {
		t.Fatalf("text: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageContent","chat_id":1001,"message_id":%d,"new_content":%s}`, eveMsg, textContent("hi!")))
	if co := calls[abi.ContactCorrect](res, abi.CallContactCorrect); len(co) != 1 || co[0].Text != "hi!" || co[0].Carbon {
		t.Fatalf("edit: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageInteractionInfo","chat_id":1001,"message_id":%d,"interaction_info":{"@type":"messageInteractionInfo","reactions":{"@type":"messageReactions","reactions":[{"@type":"messageReaction","type":{"@type":"reactionTypeEmoji","emoji":"👍"},"total_count":1,"is_chosen":false}]}}}`, eveMsg))
	if re := calls[abi.ContactReact](res, abi.CallContactReact); len(re) != 1 || len(re[0].Reactions) != 1 || re[0].Reactions[0] != "👍" || re[0].Carbon {
		t.Fatalf("reaction: %v", res.Calls)
	}
	// A reply quotes the message replied to.
	m := message(eveMsg2, eve, eve, false, "", textContent("re"))
	m = m[:len(m)-1-len(`"reply_to":null,"content":`+textContent("re"))] + fmt.Sprintf(`"reply_to":{"@type":"messageReplyToMessage","chat_id":1001,"message_id":%d},"content":%s}`, eveMsg, textContent("re"))
	res = f.event(newMessage(m))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || tx[0].ReplyTo != fmt.Sprint(eveMsg) || tx[0].ReplyText != "hi!" {
		t.Fatalf("reply: %v", res.Calls)
	}
	// Deletions: TDLib forgetting a message is not one.
	if res := f.event(fmt.Sprintf(`{"@type":"updateDeleteMessages","chat_id":1001,"message_ids":[%d],"is_permanent":false,"from_cache":true}`, eveMsg)); len(res.Calls) != 0 {
		t.Fatalf("from cache: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateDeleteMessages","chat_id":1001,"message_ids":[%d],"is_permanent":true,"from_cache":false}`, eveMsg))
	if rt := calls[abi.ContactMsgRef](res, abi.CallContactRetract); len(rt) != 1 || rt[0].ID != fmt.Sprint(eveMsg) || rt[0].Carbon {
		t.Fatalf("retract: %v", res.Calls)
	}
	// Eve read the user's messages.
	res = f.event(`{"@type":"updateChatReadOutbox","chat_id":1001,"last_read_outbox_message_id":2097152}`)
	if d := calls[abi.ContactMsgRef](res, abi.CallContactDisplayed); len(d) != 1 || d[0].ID != "2097152" || d[0].Carbon {
		t.Fatalf("displayed: %v", res.Calls)
	}
	// Stickers are their emoji; other content is announced.
	res = f.event(newMessage(message(5<<20, eve, eve, false, "", `{"@type":"messageSticker","sticker":{"@type":"sticker","emoji":"😀"}}`)))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || tx[0].Text != "😀" {
		t.Fatalf("sticker: %v", res.Calls)
	}
	res = f.event(newMessage(message(6<<20, eve, eve, false, "", `{"@type":"messageLocation","location":{"@type":"location","latitude":1,"longitude":2}}`)))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || tx[0].Text != "/me sent a location (not supported)" {
		t.Fatalf("location: %v", res.Calls)
	}
	res = f.event(newMessage(message(7<<20, eve, eve, false, "", `{"@type":"messageVideoNote","video_note":{"@type":"videoNote","duration":2,"video":null}}`)))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || tx[0].Text != "/me sent a video message (not supported)" {
		t.Fatalf("video note without file: %v", res.Calls)
	}
	// A message from while the gateway was away is dated.
	old := strings.Replace(message(9<<20, eve, eve, false, "", textContent("while away")), `"date":1767225600`, `"date":1767222000`, 1)
	res = f.event(newMessage(old))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || tx[0].When != 1767222000000 {
		t.Fatalf("old message: %v", res.Calls)
	}
	// Group messages are not handled.
	if res := f.event(newMessage(message(8<<20, -100, eve, false, "", textContent("group")))); len(res.Calls) != 0 {
		t.Fatalf("group: %v", res.Calls)
	}
}

func TestIncomingFiles(t *testing.T) {
	f := newFx(t, sdktest.WithConfig(map[string]any{"max_file_size": 1 << 20}))
	f.fill()
	f.answer("downloadFile", fileJSON(5, 1234, "handle:f-3")) // eve's avatar
	photo := fmt.Sprintf(`{"@type":"messagePhoto","photo":{"@type":"photo","sizes":[{"@type":"photoSize","type":"s","photo":%s,"width":10,"height":10},{"@type":"photoSize","type":"x","photo":%s,"width":100,"height":80}]},"caption":{"@type":"formattedText","text":"look","entities":[]}}`,
		fileJSON(41, 100, ""), fileJSON(42, 4000, ""))
	f.event(newMessage(message(eveMsg, eve, eve, false, "", photo)))
	if dl := request(f.pending("downloadFile")); dl["file_id"] != float64(42) {
		t.Fatalf("download of the largest size: %v", dl)
	}
	res := f.answer("downloadFile", fileJSON(42, 4000, "handle:f-8"))
	fs := calls[abi.ContactFile](res, abi.CallContactFile)
	if len(fs) != 1 || fs[0].File.Handle != "f-8" || fs[0].File.Size != 4000 || fs[0].Caption != "look" || fs[0].ID != fmt.Sprint(eveMsg) {
		t.Fatalf("photo: %v", res.Calls)
	}
	// A document already downloaded needs no download; its name and type go along.
	doc := fmt.Sprintf(`{"@type":"messageDocument","document":{"@type":"document","file_name":"a.pdf","mime_type":"application/pdf","document":%s},"caption":{"@type":"formattedText","text":"","entities":[]}}`, fileJSON(43, 10, "handle:f-9"))
	res = f.event(newMessage(message(eveMsg2, eve, eve, false, "", doc)))
	fs = calls[abi.ContactFile](res, abi.CallContactFile)
	if len(fs) != 1 || fs[0].File.Handle != "f-9" || fs[0].File.Name != "a.pdf" || fs[0].File.Type != "application/pdf" {
		t.Fatalf("document: %v", res.Calls)
	}
	// A voice message gets a name from its type.
	voice := fmt.Sprintf(`{"@type":"messageVoiceNote","voice_note":{"@type":"voiceNote","duration":2,"mime_type":"audio/ogg","voice":%s},"caption":null}`, fileJSON(44, 10, ""))
	f.event(newMessage(message(5<<20, eve, eve, false, "", voice)))
	res = f.answer("downloadFile", fileJSON(44, 10, "handle:f-10"))
	if fs := calls[abi.ContactFile](res, abi.CallContactFile); len(fs) != 1 || fs[0].File.Name != "voice-message-5242880.ogg" {
		t.Fatalf("voice: %v", res.Calls)
	}
	// Too large for the gateway's cap: announced.
	video := fmt.Sprintf(`{"@type":"messageVideo","video":{"@type":"video","file_name":"big.mp4","mime_type":"video/mp4","video":%s},"caption":null}`, fileJSON(45, 5<<20, ""))
	res = f.event(newMessage(message(6<<20, eve, eve, false, "", video)))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || !contains(tx[0].Text, "too large") || !contains(tx[0].Text, "5.0 MiB") {
		t.Fatalf("too large: %v", res.Calls)
	}
	// A failed download is told.
	audio := fmt.Sprintf(`{"@type":"messageAudio","audio":{"@type":"audio","file_name":"s.mp3","mime_type":"audio/mpeg","audio":%s},"caption":null}`, fileJSON(46, 10, ""))
	f.event(newMessage(message(7<<20, eve, eve, false, "", audio)))
	res = f.refuse("downloadFile", 400, "FILE_DOWNLOAD_FAILED")
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || !contains(tx[0].Text, "could not be downloaded: FILE_DOWNLOAD_FAILED") {
		t.Fatalf("failed download: %v", res.Calls)
	}
}

// What the user does from an official app comes as carbons; what the user does from XMPP is
// not shown back.
func TestCarbonsAndUserActions(t *testing.T) {
	f := newFx(t)
	f.fill()
	f.sendText("x1", "hello", true)
	f.event(succeeded("hello"))
	f.event(newMessage(message(eveMsg, eve, eve, false, "", textContent("echo: hello"))))

	// From another device: an outgoing message without a sending state.
	res := f.event(newMessage(message(eveMsg2, eve, me, true, "", textContent("from my phone"))))
	if tx := calls[abi.ContactText](res, abi.CallContactText); len(tx) != 1 || !tx[0].Carbon || tx[0].Text != "from my phone" {
		t.Fatalf("carbon: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageContent","chat_id":1001,"message_id":%d,"new_content":%s}`, eveMsg2, textContent("from my phone!")))
	if co := calls[abi.ContactCorrect](res, abi.CallContactCorrect); len(co) != 1 || !co[0].Carbon {
		t.Fatalf("carbon edit: %v", res.Calls)
	}
	res = f.event(`{"@type":"updateChatReadInbox","chat_id":1001,"last_read_inbox_message_id":3145728,"unread_count":0}`)
	if d := calls[abi.ContactMsgRef](res, abi.CallContactDisplayed); len(d) != 1 || !d[0].Carbon || d[0].ID != fmt.Sprint(eveMsg) {
		t.Fatalf("carbon read: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageInteractionInfo","chat_id":1001,"message_id":%d,"interaction_info":{"@type":"messageInteractionInfo","reactions":{"@type":"messageReactions","reactions":[{"@type":"messageReaction","type":{"@type":"reactionTypeEmoji","emoji":"🔥"},"total_count":1,"is_chosen":true}]}}}`, eveMsg))
	if re := calls[abi.ContactReact](res, abi.CallContactReact); len(re) != 1 || !re[0].Carbon || re[0].Reactions[0] != "🔥" {
		t.Fatalf("carbon reaction: %v", res.Calls)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateDeleteMessages","chat_id":1001,"message_ids":[%d],"is_permanent":true,"from_cache":false}`, eveMsg2))
	if rt := calls[abi.ContactMsgRef](res, abi.CallContactRetract); len(rt) != 1 || !rt[0].Carbon {
		t.Fatalf("carbon retract: %v", res.Calls)
	}

	// From XMPP: an edit...
	f.check(f.s.Correct("1001", abi.Correct{ID: "c1", Target: fmt.Sprint(final), Text: "hello!"}))
	ed := request(f.pending("editMessageText"))
	if ed["message_id"] != float64(final) || ed["input_message_content"].(map[string]any)["text"].(map[string]any)["text"] != "hello!" {
		t.Fatalf("edit: %v", ed)
	}
	if res := f.event(fmt.Sprintf(`{"@type":"updateMessageContent","chat_id":1001,"message_id":%d,"new_content":%s}`, final, textContent("hello!"))); len(res.Calls) != 0 {
		t.Fatalf("own edit shown back: %v", res.Calls)
	}
	f.answer("editMessageText", message(final, eve, me, true, "", textContent("hello!")))
	// ...a refused edit is told...
	f.s.Correct("1001", abi.Correct{ID: "c2", Target: fmt.Sprint(eveMsg), Text: "no"})
	res = f.refuse("editMessageText", 400, "Message can't be edited")
	if len(res.Filter(abi.CallMessageFailed, abi.CallGatewayMessage)) == 0 {
		t.Fatalf("refused edit: %v", res.Calls)
	}
	// ...a reaction (the message is known: no getMessage), with the variation selector dropped...
	f.check(f.s.React("1001", abi.React{ID: "r1", Target: fmt.Sprint(eveMsg), Reactions: []string{"❤️"}}))
	if f.hasPending("getMessage") {
		t.Fatal("getMessage for a known message")
	}
	if rm := request(f.pending("removeMessageReaction")); rm["reaction_type"].(map[string]any)["emoji"] != "🔥" {
		t.Fatalf("remove: %v", rm)
	}
	if ad := request(f.pending("addMessageReaction")); ad["reaction_type"].(map[string]any)["emoji"] != "❤" {
		t.Fatalf("add: %v", ad)
	}
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageInteractionInfo","chat_id":1001,"message_id":%d,"interaction_info":{"@type":"messageInteractionInfo","reactions":{"@type":"messageReactions","reactions":[{"@type":"messageReaction","type":{"@type":"reactionTypeEmoji","emoji":"❤"},"total_count":1,"is_chosen":true}]}}}`, eveMsg))
	if len(res.Calls) != 0 {
		t.Fatalf("own reaction shown back: %v", res.Calls)
	}
	f.answer("removeMessageReaction", `{"@type":"ok"}`)
	f.answer("addMessageReaction", `{"@type":"ok"}`)
	// ...a reaction on a message the plugin forgot asks TDLib for it first...
	f.s.React("1001", abi.React{ID: "r2", Target: "99614720", Reactions: []string{}})
	f.answer("getMessage", `{"@type":"message","id":99614720,"chat_id":1001,"is_outgoing":false,"sender_id":{"@type":"messageSenderUser","user_id":1001},"content":`+textContent("old")+`,"interaction_info":{"@type":"messageInteractionInfo","reactions":{"@type":"messageReactions","reactions":[{"@type":"messageReaction","type":{"@type":"reactionTypeEmoji","emoji":"👍"},"total_count":2,"is_chosen":true}]}}}`)
	if rm := request(f.pending("removeMessageReaction")); rm["message_id"] != float64(99614720) {
		t.Fatalf("remove after getMessage: %v", rm)
	}
	// ...a retraction...
	f.check(f.s.Retract("1001", abi.Retract{ID: "d1", Target: fmt.Sprint(final)}))
	if dm := request(f.pending("deleteMessages")); dm["revoke"] != true || dm["message_ids"].([]any)[0] != float64(final) {
		t.Fatalf("delete: %v", dm)
	}
	if res := f.event(fmt.Sprintf(`{"@type":"updateDeleteMessages","chat_id":1001,"message_ids":[%d],"is_permanent":true,"from_cache":false}`, final)); len(res.Calls) != 0 {
		t.Fatalf("own deletion shown back: %v", res.Calls)
	}
	// ...a read marker...
	f.check(f.s.Displayed("1001", fmt.Sprint(eveMsg2)))
	if vm := request(f.pending("viewMessages")); vm["message_ids"].([]any)[0] != float64(eveMsg2) || vm["force_read"] != true {
		t.Fatalf("view: %v", vm)
	}
	if res := f.event(`{"@type":"updateChatReadInbox","chat_id":1001,"last_read_inbox_message_id":4194304,"unread_count":0}`); len(res.Calls) != 0 {
		t.Fatalf("own read shown back: %v", res.Calls)
	}
	// ...and typing.
	f.check(f.s.ChatState("1001", abi.StateComposing))
	if a := request(f.pending("sendChatAction")); a["action"].(map[string]any)["@type"] != "chatActionTyping" {
		t.Fatalf("typing: %v", a)
	}
	f.answer("sendChatAction", `{"@type":"ok"}`)
	f.check(f.s.ChatState("1001", abi.StateActive))
	if a := request(f.pending("sendChatAction")); a["action"].(map[string]any)["@type"] != "chatActionCancel" {
		t.Fatalf("cancel: %v", a)
	}
	f.answer("sendChatAction", `{"@type":"ok"}`)
	if f.check(f.s.ChatState("1001", abi.StateActive)); f.hasPending("sendChatAction") {
		t.Fatal("cancel sent twice")
	}
}

func TestUserFile(t *testing.T) {
	f := newFx(t)
	f.fill()
	res := f.s.File("1001", abi.FileMessage{ID: "f1", URL: "https://upload.example.org/a/cat.png", Name: "cat.png", Type: "image/png", Caption: "my cat"})
	f.check(res)
	fe := f.s.Fetches()
	if len(fe) != 1 || fe[0].URL != "https://upload.example.org/a/cat.png" {
		t.Fatalf("fetch: %v", fe)
	}
	f.check(f.s.CompleteFetch(fe[0].Token, abi.File{Handle: "f-20", Size: 100, Type: "image/png"}))
	f.answer("createPrivateChat", `{"@type":"chat","id":1001,"type":{"@type":"chatTypePrivate","user_id":1001}}`)
	sm := request(f.pending("sendMessage"))
	ct := sm["input_message_content"].(map[string]any)
	if ct["@type"] != "inputMessagePhoto" || ct["photo"].(map[string]any)["path"] != "handle:f-20" ||
		ct["caption"].(map[string]any)["text"] != "my cat" {
		t.Fatalf("sendMessage: %v", sm)
	}
	res = f.answer("sendMessage", message(temp, eve, me, true, pendingState, `{"@type":"messagePhoto","photo":{"@type":"photo","sizes":[]},"caption":null}`))
	if len(res.Filter(abi.CallFileRelease)) != 0 {
		t.Fatal("released before TDLib sent it")
	}
	// The sent photo names its local file, which the host made a handle of: released too.
	sentPhoto := fmt.Sprintf(`{"@type":"messagePhoto","photo":{"@type":"photo","sizes":[{"@type":"photoSize","type":"x","photo":%s,"width":10,"height":10}]},"caption":null}`, fileJSON(50, 100, "handle:f-22"))
	res = f.event(fmt.Sprintf(`{"@type":"updateMessageSendSucceeded","message":%s,"old_message_id":%d}`,
		message(final, eve, me, true, "", sentPhoto), temp))
	if sent := calls[abi.MessageSent](res, abi.CallMessageSent); len(sent) != 1 || sent[0].ID != "f1" {
		t.Fatalf("sent: %v", res.Calls)
	}
	if rel := calls[abi.FileRef](res, abi.CallFileRelease); len(rel) != 2 || rel[0].Handle != "f-20" || rel[1].Handle != "f-22" {
		t.Fatalf("release: %v", res.Calls)
	}
	// Other types: a document; a failed download fails the message.
	f.s.File("1001", abi.FileMessage{ID: "f2", URL: "https://upload.example.org/a/x.zip", Type: "application/zip"})
	f.s.CompleteFetch(f.s.Fetches()[0].Token, abi.File{Handle: "f-21", Size: 100})
	if ct := request(f.pending("sendMessage"))["input_message_content"].(map[string]any); ct["@type"] != "inputMessageDocument" {
		t.Fatalf("document: %v", ct)
	}
	f.s.File("1001", abi.FileMessage{ID: "f3", URL: "https://upload.example.org/a/y.mp4"})
	res = f.s.FailFetch(f.s.Fetches()[0].Token, abi.CodeQuota, "too big")
	if fl := calls[abi.MessageFailed](res, abi.CallMessageFailed); len(fl) != 1 || fl[0].ID != "f3" || !contains(fl[0].Error, "too big") {
		t.Fatalf("failed fetch: %v", res.Calls)
	}
}
