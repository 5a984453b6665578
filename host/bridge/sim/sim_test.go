package sim

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/config"
)

func TestLoginFlows(t *testing.T) {
	type step struct {
		req     string
		code    int64  // 0: ok
		msg     string // error message
		updates []string
	}
	const params = `{"@type":"setTdlibParameters","api_id":1,"api_hash":"x"}`
	phone := func(p string) string { return `{"@type":"setAuthenticationPhoneNumber","phone_number":"` + p + `"}` }
	code := func(c string) string { return `{"@type":"checkAuthenticationCode","code":"` + c + `"}` }
	password := func(p string) string { return `{"@type":"checkAuthenticationPassword","password":"` + p + `"}` }
	const (
		waitParams = "updateAuthorizationState:authorizationStateWaitTdlibParameters"
		waitPhone  = "updateAuthorizationState:authorizationStateWaitPhoneNumber"
		waitCode   = "updateAuthorizationState:authorizationStateWaitCode"
		waitPass   = "updateAuthorizationState:authorizationStateWaitPassword"
		ready      = "updateAuthorizationState:authorizationStateReady"
	)
	tests := []struct {
		name  string
		steps []step
	}{
		{"no 2FA", []step{
			{req: params, updates: []string{waitParams, waitPhone}},
			{req: phone("+1 555 000 0001"), updates: []string{waitCode}},
			{req: code("12345"), updates: []string{"updateOption", "updateUser", ready}},
		}},
		{"2FA", []step{
			{req: params, updates: []string{waitParams, waitPhone}},
			{req: phone("+15550000002"), updates: []string{waitCode}},
			{req: code("12345"), updates: []string{waitPass}},
			{req: password("hunter2"), updates: []string{"updateOption", "updateUser", ready}},
		}},
		{"wrong code", []step{
			{req: params, updates: []string{waitParams, waitPhone}},
			{req: phone("15550000001"), updates: []string{waitCode}},
			{req: code("54321"), code: 400, msg: "PHONE_CODE_INVALID"},
			{req: code("12345"), updates: []string{"updateOption", "updateUser", ready}},
		}},
		{"wrong password", []step{
			{req: params, updates: []string{waitParams, waitPhone}},
			{req: phone("+15550000002"), updates: []string{waitCode}},
			{req: code("12345"), updates: []string{waitPass}},
			{req: password("hunter3"), code: 400, msg: "PASSWORD_HASH_INVALID"},
			{req: password("hunter2"), updates: []string{"updateOption", "updateUser", ready}},
		}},
		{"unknown phone", []step{
			{req: params, updates: []string{waitParams, waitPhone}},
			{req: phone("+15559999999"), code: 400, msg: "PHONE_NUMBER_INVALID"},
			{req: phone("+15550000001"), updates: []string{waitCode}},
		}},
		{"out of order", []step{
			{req: `{"@type":"getMe"}`, code: 400, msg: "Initialization parameters are needed: call setTdlibParameters first", updates: []string{waitParams}},
			{req: code("12345"), code: 400, msg: "Call to checkAuthenticationCode unexpected"},
			{req: params, updates: []string{waitPhone}},
			{req: `{"@type":"getContacts"}`, code: 401, msg: "Unauthorized"},
			{req: password("x"), code: 400, msg: "Call to checkAuthenticationPassword unexpected"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newTestBackend(t, testWorld)
			c := openClient(t, b, t.TempDir(), "key")
			for i, s := range tt.steps {
				ans := c.call(s.req)
				if s.code == 0 {
					wantOK(t, ans)
				} else {
					wantError(t, ans, s.code, s.msg)
				}
				us := append(c.queue, c.sync()...)
				c.queue = nil
				if strings.Join(types(us), " ") != strings.Join(s.updates, " ") {
					t.Fatalf("step %d (%s): updates %v, want %v", i, s.req, types(us), s.updates)
				}
			}
		})
	}
}

func TestWaitCodeAndPasswordShapes(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c := openClient(t, b, t.TempDir(), "key")
	c.call(`{"@type":"setTdlibParameters"}`)
	c.sync()
	c.call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"+15550000002"}`)
	st := find(t, c.sync(), "updateAuthorizationState").get("authorization_state").(map[string]any)
	o := obj(st)
	if o.str("code_info.@type") != "authenticationCodeInfo" || o.str("code_info.phone_number") != "+15550000002" ||
		o.str("code_info.type.@type") != "authenticationCodeTypeTelegramMessage" || o.num("code_info.type.length") != 5 {
		t.Fatalf("WaitCode %v", st)
	}
	c.call(`{"@type":"checkAuthenticationCode","code":"12345"}`)
	o = obj(find(t, c.sync(), "updateAuthorizationState").get("authorization_state").(map[string]any))
	if o.typ() != "authorizationStateWaitPassword" || o.str("password_hint") != "classic" {
		t.Fatalf("WaitPassword %v", o)
	}
}

func TestRestoreCloseLogOut(t *testing.T) {
	b := newTestBackend(t, testWorld)
	dir := t.TempDir()
	c := login(t, b, dir, "+15550000001", "")
	if _, err := b.Open(context.Background(), bridge.Session{User: "x", DataDir: dir}); err == nil {
		t.Fatal("a second client on the same folder opened")
	}
	c.c.Close()
	if err := c.c.Send([]byte(`{"@type":"getMe"}`)); !errors.Is(err, bridge.ErrClosed) {
		t.Fatalf("Send after Close = %v", err)
	}

	// the same session again: logged in at once (as a TDLib database)
	c = openClient(t, b, dir, "key")
	wantOK(t, c.call(`{"@type":"setTdlibParameters"}`))
	us := c.sync()
	wantTypes(t, us, "updateAuthorizationState:authorizationStateWaitTdlibParameters", "updateOption", "updateUser",
		"updateAuthorizationState:authorizationStateReady")
	if me := c.call(`{"@type":"getMe"}`); me.num("id") != 9000001 {
		t.Fatalf("getMe %v", me)
	}
	c.c.Close()

	// another key cannot open that "database"
	c = openClient(t, b, dir, "other key")
	c.call(`{"@type":"setTdlibParameters"}`)
	wantTypes(t, c.sync(), "updateAuthorizationState:authorizationStateWaitTdlibParameters",
		"updateAuthorizationState:authorizationStateWaitPhoneNumber")
	c.c.Close()

	// log out: the stream ends after Closed, and the login is gone
	c = login(t, b, dir, "+15550000001", "")
	wantOK(t, c.call(`{"@type":"logOut"}`))
	var got []string
	for {
		m, ok := c.read()
		if !ok {
			break
		}
		got = append(got, types([]obj{m})...)
	}
	want := "updateAuthorizationState:authorizationStateClosed"
	if strings.Join(append(types(c.queue), got...), " ") != "updateAuthorizationState:authorizationStateLoggingOut "+want {
		t.Fatalf("logOut: %v then %v", types(c.queue), got)
	}
	if _, err := os.Stat(filepath.Join(dir, savedName)); !os.IsNotExist(err) {
		t.Fatalf("login kept after logOut: %v", err)
	}
	c = openClient(t, b, dir, "key")
	c.call(`{"@type":"setTdlibParameters"}`)
	wantTypes(t, c.sync(), "updateAuthorizationState:authorizationStateWaitTdlibParameters",
		"updateAuthorizationState:authorizationStateWaitPhoneNumber")

	// a restarted gateway (a new simulation) keeps the login and the message ids
	dir2 := t.TempDir()
	c = login(t, b, dir2, "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1004}`)
	first := c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"a"}}}`)
	last := find(t, c.sync(), "updateMessageSendSucceeded").num("message.id")
	c.c.Close()
	b2 := newTestBackend(t, testWorld)
	c = openClient(t, b2, dir2, "key")
	c.call(`{"@type":"setTdlibParameters"}`)
	if ty := types(c.sync()); ty[len(ty)-1] != "updateAuthorizationState:authorizationStateReady" {
		t.Fatalf("restart: %v", ty)
	}
	c.call(`{"@type":"createPrivateChat","user_id":1004}`)
	c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"b"}}}`)
	if id := find(t, c.sync(), "updateMessageSendSucceeded").num("message.id"); id <= last || first.num("id") >= last {
		t.Fatalf("ids after restart: %d, before %d (temporary %d)", id, last, first.num("id"))
	}
}

func TestContactsAndUsers(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	ans := c.call(`{"@type":"getContacts"}`)
	if ans.typ() != "users" || ans.num("total_count") != 6 {
		t.Fatalf("getContacts %v", ans)
	}
	users := map[int64]obj{}
	for _, u := range c.queue {
		if u.typ() != "updateUser" {
			t.Fatalf("before the contacts: %v", u)
		}
		users[u.num("user.id")] = obj(u.get("user").(map[string]any))
	}
	c.queue = nil
	for _, id := range ans.get("user_ids").([]any) {
		if _, ok := users[obj{"x": id}.num("x")]; !ok {
			t.Fatalf("no updateUser before user id %v", id)
		}
	}
	eve := users[1001]
	checks := []struct {
		u          obj
		path, want string
	}{
		{eve, "@type", "user"},
		{eve, "first_name", "Eve"},
		{eve, "last_name", "Echo"},
		{eve, "phone_number", "15550001001"},
		{eve, "status.@type", "userStatusOnline"},
		{eve, "type.@type", "userTypeRegular"},
		{eve, "profile_photo.@type", "profilePhoto"},
		{eve, "profile_photo.small.@type", "file"},
		{eve, "profile_photo.small.local.path", ""},
		{users[1002], "usernames.active_usernames.0", "dora"},
		{users[1002], "usernames.editable_username", "dora"},
		{users[1002], "status.@type", "userStatusOffline"},
		{users[1003], "status.@type", "userStatusLastWeek"},
		{users[1004], "type.@type", "userTypeBot"},
		{users[1005], "status.@type", "userStatusRecently"},
		{users[777000], "status.@type", "userStatusEmpty"},
	}
	for _, ck := range checks {
		if got := ck.u.str(ck.path); got != ck.want {
			t.Errorf("user %d %s = %q, want %q", ck.u.num("id"), ck.path, got, ck.want)
		}
	}
	if eve.num("status.expires") != testStart.Add(10*time.Minute).Unix() {
		t.Errorf("Eve expires %d", eve.num("status.expires"))
	}
	if users[1002].num("status.was_online") != testStart.Add(-2*time.Hour).Unix() {
		t.Errorf("Dora was_online %d", users[1002].num("status.was_online"))
	}
	if eve.get("is_contact") != true || users[1002].get("usernames") == nil || eve.get("usernames") != nil {
		t.Errorf("is_contact/usernames: %v %v", eve.get("is_contact"), eve.get("usernames"))
	}
	if users[777000].get("is_support") != true {
		t.Errorf("777000 is not support")
	}

	if u := c.call(`{"@type":"getUser","user_id":1001}`); u.str("first_name") != "Eve" {
		t.Errorf("getUser %v", u)
	}
	if fi := c.call(`{"@type":"getUserFullInfo","user_id":1001}`); fi.typ() != "userFullInfo" || fi.str("bio.text") != "I repeat whatever you say." {
		t.Errorf("getUserFullInfo %v", fi)
	}
	wantError(t, c.call(`{"@type":"getUser","user_id":2000}`), 400, "User not found") // a stranger
	wantError(t, c.call(`{"@type":"getUser","user_id":424242}`), 400, "User not found")
	if me := c.call(`{"@type":"getMe"}`); me.num("id") != 9000001 || me.str("first_name") != "Alice" {
		t.Errorf("getMe %v", me)
	}

	// finding strangers: by phone, by username; importing makes a contact
	u := c.call(`{"@type":"searchUserByPhoneNumber","phone_number":"+15550002000"}`)
	if u.num("id") != 2000 || u.get("is_contact") != false {
		t.Errorf("searchUserByPhoneNumber %v", u)
	}
	wantTypes(t, c.sync(), "updateUser")
	wantError(t, c.call(`{"@type":"searchUserByPhoneNumber","phone_number":"+19999"}`), 404, "Not Found")
	ch := c.call(`{"@type":"searchPublicChat","username":"@Stranger"}`)
	if ch.typ() != "chat" || ch.num("id") != 2000 || ch.str("type.@type") != "chatTypePrivate" || ch.num("type.user_id") != 2000 {
		t.Errorf("searchPublicChat %v", ch)
	}
	wantTypes(t, c.sync(), "updateNewChat")
	wantError(t, c.call(`{"@type":"searchPublicChat","username":"nobody"}`), 400, "USERNAME_NOT_OCCUPIED")
	ic := c.call(`{"@type":"importContacts","contacts":[{"@type":"contact","phone_number":"+15550002000","first_name":"S"},{"@type":"contact","phone_number":"+1999","first_name":"N"}]}`)
	if ic.typ() != "importedContacts" || ic.num("user_ids.0") != 2000 || ic.num("user_ids.1") != 0 {
		t.Errorf("importContacts %v", ic)
	}
	if up := find(t, c.sync(), "updateUser"); up.get("user.is_contact") != true {
		t.Errorf("after import %v", up)
	}
	if n := c.call(`{"@type":"getContacts"}`).num("total_count"); n != 7 {
		t.Errorf("%d contacts after import", n)
	}
}

func sendText(chat int64, text string) string {
	return `{"@type":"sendMessage","chat_id":` + itoa(chat) + `,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":` + quote(text) + `}}}`
}

func TestSendMessageLifecycle(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	wantError(t, c.call(sendText(1004, "hi")), 400, "Chat not found") // no createPrivateChat yet
	ch := c.call(`{"@type":"createPrivateChat","user_id":1004}`)
	if ch.typ() != "chat" || ch.num("id") != 1004 || ch.str("title") != "Helper Bot" {
		t.Fatalf("createPrivateChat %v", ch)
	}
	wantTypes(t, c.sync(), "updateUser", "updateNewChat")

	var lastID int64
	for i, text := range []string{"one", "two"} {
		ans := c.call(sendText(1004, text))
		temp := ans.num("id")
		if ans.typ() != "message" || ans.str("sending_state.@type") != "messageSendingStatePending" || ans.get("is_outgoing") != true ||
			ans.str("content.text.text") != text || ans.num("sender_id.user_id") != 9000001 || ans.num("date") != testStart.Unix() {
			t.Fatalf("sendMessage answer %v", ans)
		}
		if nm := c.queue[0]; nm.typ() != "updateNewMessage" || nm.num("message.id") != temp {
			t.Fatalf("before the answer: %v", nm)
		}
		c.queue = c.queue[1:]
		us := c.sync()
		wantTypes(t, us, "updateMessageSendSucceeded")
		ok := us[0]
		final := ok.num("message.id")
		if ok.num("old_message_id") != temp || final <= temp || ok.get("message.sending_state") != nil || final%(1<<20) != 0 {
			t.Fatalf("message %d: temporary %d, succeeded %v", i, temp, ok)
		}
		if final <= lastID {
			t.Fatalf("ids do not increase: %d after %d", final, lastID)
		}
		lastID = final
	}
	// a reply
	ans := c.call(`{"@type":"sendMessage","chat_id":1004,"reply_to":{"@type":"inputMessageReplyToMessage","message_id":` + itoa(lastID) + `},"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"re"}}}`)
	if ans.str("reply_to.@type") != "messageReplyToMessage" || ans.num("reply_to.message_id") != lastID || ans.num("reply_to.chat_id") != 1004 {
		t.Fatalf("reply %v", ans)
	}
	c.sync()
	// edit and delete own messages
	ed := c.call(`{"@type":"editMessageText","chat_id":1004,"message_id":` + itoa(lastID) + `,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"TWO"}}}`)
	if ed.str("content.text.text") != "TWO" {
		t.Fatalf("edit answer %v", ed)
	}
	us := c.queue
	c.queue = nil
	wantTypes(t, us, "updateMessageContent", "updateMessageEdited")
	if us[0].str("new_content.text.text") != "TWO" || us[1].num("edit_date") == 0 {
		t.Fatalf("edit updates %v", us)
	}
	wantOK(t, c.call(`{"@type":"deleteMessages","chat_id":1004,"message_ids":[`+itoa(lastID)+`],"revoke":true}`))
	us = c.sync()
	wantTypes(t, us, "updateDeleteMessages")
	if us[0].get("is_permanent") != true || us[0].get("from_cache") != false || us[0].num("message_ids.0") != lastID {
		t.Fatalf("delete %v", us[0])
	}
	// a file that is not there fails after the fact
	ans = c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessageDocument","document":{"@type":"inputFileLocal","path":"/nonexistent/x.pdf"}}}`)
	if ans.str("sending_state.@type") != "messageSendingStatePending" {
		t.Fatalf("document answer %v", ans)
	}
	fail := find(t, c.sync(), "updateMessageSendFailed")
	if fail.num("error.code") != 400 || fail.str("message.sending_state.@type") != "messageSendingStateFailed" || fail.num("old_message_id") != ans.num("id") {
		t.Fatalf("failed %v", fail)
	}
	wantError(t, c.call(`{"@type":"frobnicate"}`), 400, `sim: unsupported request "frobnicate"`)
}

func TestSendFiles(t *testing.T) {
	b := newTestBackend(t, testWorld)
	dir := t.TempDir()
	c := login(t, b, dir, "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1004}`)
	pic := filepath.Join(t.TempDir(), "pic.png")
	if err := os.WriteFile(pic, builtinPicture, 0o600); err != nil {
		t.Fatal(err)
	}
	ans := c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessagePhoto","photo":{"@type":"inputFileLocal","path":` + quote(pic) + `},"caption":{"@type":"formattedText","text":"look"}}}`)
	if ans.str("content.@type") != "messagePhoto" || ans.str("content.caption.text") != "look" ||
		ans.num("content.photo.sizes.0.width") != builtinPictureW || ans.str("content.photo.sizes.0.photo.local.path") != pic {
		t.Fatalf("photo %v", ans)
	}
	c.sync()
	ans = c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessageDocument","document":{"@type":"inputFileLocal","path":` + quote(pic) + `}}}`)
	if ans.str("content.@type") != "messageDocument" || ans.str("content.document.file_name") != "pic.png" || ans.str("content.document.mime_type") != "image/png" {
		t.Fatalf("document %v", ans)
	}
	c.sync()
	// another device of the account sees the photo and downloads it
	c2 := login(t, b, t.TempDir(), "+15550000001", "")
	c2.call(`{"@type":"createPrivateChat","user_id":1004}`)
	c2.sync()
	c.call(`{"@type":"sendMessage","chat_id":1004,"input_message_content":{"@type":"inputMessageVoiceNote","voice_note":{"@type":"inputFileLocal","path":` + quote(pic) + `},"duration":3}}`)
	c.sync()
	nm := find(t, c2.sync(), "updateNewMessage")
	if nm.str("message.content.@type") != "messageVoiceNote" || nm.get("message.is_outgoing") != true || nm.get("message.sending_state") != nil ||
		nm.str("message.content.voice_note.voice.local.path") != "" {
		t.Fatalf("second device %v", nm)
	}
	f := c2.call(`{"@type":"downloadFile","file_id":` + itoa(nm.num("message.content.voice_note.voice.id")) + `,"priority":1,"synchronous":true}`)
	if data, err := os.ReadFile(f.str("local.path")); err != nil || !bytes.Equal(data, builtinPicture) {
		t.Fatalf("downloaded %v: %v", f, err)
	}
}

func TestEchoBehaviour(t *testing.T) {
	b := newTestBackend(t, testWorld)
	dir := t.TempDir()
	c := login(t, b, dir, "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1001}`)
	c.sync()

	sent := c.call(sendText(1001, "hello"))
	us := c.sync()
	wantTypes(t, us, "updateNewMessage", "updateMessageSendSucceeded", "updateUserStatus",
		"updateChatAction:chatActionTyping", "updateChatReadOutbox", "updateChatAction:chatActionCancel", "updateNewMessage")
	mine := us[1].num("message.id")
	if us[1].num("old_message_id") != sent.num("id") {
		t.Fatal("succeeded does not name the temporary id")
	}
	if us[3].num("sender_id.user_id") != 1001 || us[3].num("chat_id") != 1001 {
		t.Fatalf("typing %v", us[3])
	}
	if us[4].num("last_read_outbox_message_id") != mine {
		t.Fatalf("read outbox %v, want %d", us[4], mine)
	}
	reply := us[6]
	if reply.str("message.content.text.text") != "echo: hello" || reply.get("message.is_outgoing") != false || reply.num("message.sender_id.user_id") != 1001 {
		t.Fatalf("reply %v", reply)
	}
	replyID := reply.num("message.id")

	// the owner reads the reply: read inbox
	wantOK(t, c.call(`{"@type":"viewMessages","chat_id":1001,"message_ids":[`+itoa(replyID)+`],"force_read":true}`))
	us = c.sync()
	wantTypes(t, us, "updateChatReadInbox")
	if us[0].num("last_read_inbox_message_id") != replyID || us[0].num("unread_count") != 0 {
		t.Fatalf("read inbox %v", us[0])
	}

	// edits are followed
	c.call(`{"@type":"editMessageText","chat_id":1001,"message_id":` + itoa(mine) + `,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"hello!"}}}`)
	us = append(c.queue, c.sync()...)
	c.queue = nil
	wantTypes(t, us, "updateMessageContent", "updateMessageEdited", "updateMessageContent", "updateMessageEdited")
	if us[2].num("message_id") != replyID || us[2].str("new_content.text.text") != "echo: hello!" {
		t.Fatalf("followed edit %v", us[2])
	}

	// reactions are answered with the same reaction
	wantError(t, c.call(`{"@type":"addMessageReaction","chat_id":1001,"message_id":`+itoa(replyID)+`,"reaction_type":{"@type":"reactionTypeEmoji","emoji":"🤡"}}`), 400, "REACTION_INVALID")
	wantOK(t, c.call(`{"@type":"addMessageReaction","chat_id":1001,"message_id":`+itoa(replyID)+`,"reaction_type":{"@type":"reactionTypeEmoji","emoji":"👍"}}`))
	us = c.sync()
	wantTypes(t, us, "updateMessageInteractionInfo", "updateMessageInteractionInfo")
	r := us[1]
	if r.num("message_id") != replyID || r.str("interaction_info.reactions.reactions.0.type.emoji") != "👍" ||
		r.num("interaction_info.reactions.reactions.0.total_count") != 2 || r.get("interaction_info.reactions.reactions.0.is_chosen") != true ||
		r.num("interaction_info.reactions.reactions.0.used_sender_id.user_id") != 9000001 ||
		r.num("interaction_info.reactions.reactions.0.recent_sender_ids.0.user_id") != 1001 {
		t.Fatalf("reaction %v", r)
	}
	wantOK(t, c.call(`{"@type":"removeMessageReaction","chat_id":1001,"message_id":`+itoa(replyID)+`,"reaction_type":{"@type":"reactionTypeEmoji","emoji":"👍"}}`))
	us = c.sync()
	wantTypes(t, us, "updateMessageInteractionInfo", "updateMessageInteractionInfo")
	if us[1].get("interaction_info") != nil {
		t.Fatalf("reactions left: %v", us[1])
	}

	// deletions with revoke are followed
	wantOK(t, c.call(`{"@type":"deleteMessages","chat_id":1001,"message_ids":[`+itoa(mine)+`],"revoke":true}`))
	us = c.sync()
	wantTypes(t, us, "updateDeleteMessages", "updateDeleteMessages")
	if us[1].num("message_ids.0") != replyID {
		t.Fatalf("followed deletion %v", us[1])
	}

	// "photo" is answered with a picture, which downloads into the session's folder
	c.call(sendText(1001, "photo"))
	us = c.sync()
	wantTypes(t, us, "updateNewMessage", "updateMessageSendSucceeded", "updateUserStatus",
		"updateChatAction:chatActionUploadingPhoto", "updateChatReadOutbox", "updateChatAction:chatActionCancel", "updateNewMessage")
	ph := us[6]
	if ph.str("message.content.@type") != "messagePhoto" || ph.num("message.content.photo.sizes.0.width") != builtinPictureW {
		t.Fatalf("photo answer %v", ph)
	}
	fileID := ph.num("message.content.photo.sizes.0.photo.id")
	f := c.call(`{"@type":"downloadFile","file_id":` + itoa(fileID) + `,"priority":1}`)
	uf := c.queue[0]
	c.queue = nil
	if uf.typ() != "updateFile" || uf.get("file.local.is_downloading_completed") != true {
		t.Fatalf("updateFile %v", uf)
	}
	p := f.str("local.path")
	if !strings.HasPrefix(p, dir) || f.get("local.is_downloading_completed") != true || f.num("size") != int64(len(builtinPicture)) {
		t.Fatalf("downloaded %v", f)
	}
	if data, err := os.ReadFile(p); err != nil || !bytes.Equal(data, builtinPicture) {
		t.Fatalf("file %s: %v", p, err)
	}
	wantError(t, c.call(`{"@type":"downloadFile","file_id":999999}`), 400, "Invalid file identifier")
}

func TestPlainEchoAndSilent(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1005}`)
	c.call(`{"@type":"createPrivateChat","user_id":1003}`)
	c.sync()
	c.call(sendText(1005, "ping"))
	us := c.sync()
	wantTypes(t, us, "updateNewMessage", "updateMessageSendSucceeded", "updateNewMessage")
	if us[2].str("message.content.text.text") != "echo: ping" {
		t.Fatalf("plain echo %v", us[2])
	}
	c.call(sendText(1003, "ping"))
	wantTypes(t, c.sync(), "updateNewMessage", "updateMessageSendSucceeded")
}

func TestEchoDelay(t *testing.T) {
	world := strings.Replace(testWorld, `behaviour = "echo"`, "behaviour = \"echo\"\ndelay = \"30ms\"", 1)
	b := newTestBackend(t, world)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1001}`)
	c.sync()
	c.call(sendText(1001, "slow"))
	wantTypes(t, c.sync(), "updateNewMessage", "updateMessageSendSucceeded", "updateUserStatus",
		"updateChatAction:chatActionTyping", "updateChatReadOutbox")
	for _, want := range []string{"updateChatAction:chatActionCancel", "updateNewMessage"} {
		m, _ := c.read()
		if got := types([]obj{m})[0]; got != want {
			t.Fatalf("after the delay: %s, want %s", got, want)
		}
	}
}

func TestChatsAndHistory(t *testing.T) {
	world := strings.Replace(testWorld, "contacts = [1001, 1002, 1003, 1004, 1005, 777000]", "contacts = [1001, 1002, 1003, 1004, 1005, 777000]\nchats = [777000]", 1)
	b := newTestBackend(t, world)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	ans := c.call(`{"@type":"getChats","chat_list":{"@type":"chatListMain"},"limit":10}`)
	if ans.typ() != "chats" || ans.num("total_count") != 1 || ans.num("chat_ids.0") != 777000 {
		t.Fatalf("getChats %v", ans)
	}
	wantTypes(t, c.queue, "updateUser", "updateNewChat")
	nc := c.queue[1]
	c.queue = nil
	if nc.str("chat.positions.0.list.@type") != "chatListMain" || nc.str("chat.available_reactions.@type") != "chatAvailableReactionsSome" ||
		nc.str("chat.available_reactions.reactions.1.emoji") != "❤" {
		t.Fatalf("new chat %v", nc)
	}
	wantOK(t, c.call(`{"@type":"loadChats","chat_list":{"@type":"chatListMain"},"limit":10}`))
	wantError(t, c.call(`{"@type":"loadChats","chat_list":{"@type":"chatListMain"},"limit":10}`), 404, "Not Found")
	c.call(`{"@type":"createPrivateChat","user_id":1005}`)
	for _, s := range []string{"a", "b", "c"} {
		c.call(sendText(1005, s))
	}
	c.sync()
	h := c.call(`{"@type":"getChatHistory","chat_id":1005,"from_message_id":0,"offset":0,"limit":4}`)
	if h.typ() != "messages" || h.num("total_count") != 4 || h.str("messages.0.content.text.text") != "echo: c" || h.str("messages.3.content.text.text") != "b" {
		t.Fatalf("history %v", h)
	}
	if ch := c.call(`{"@type":"getChat","chat_id":1005}`); ch.str("last_message.content.text.text") != "echo: c" || ch.num("unread_count") != 3 {
		t.Fatalf("getChat %v", ch)
	}
	ids := c.call(`{"@type":"getChats","chat_list":{"@type":"chatListMain"},"limit":10}`)
	if ids.num("chat_ids.0") != 1005 || ids.num("total_count") != 2 {
		t.Fatalf("getChats after messages %v", ids)
	}
	av := c.call(`{"@type":"getMessageAvailableReactions","chat_id":1005,"message_id":` + itoa(h.num("messages.0.id")) + `,"row_size":8}`)
	if av.typ() != "availableReactions" || av.str("top_reactions.0.type.emoji") != "👍" {
		t.Fatalf("available reactions %v", av)
	}
	wantError(t, c.call(`{"@type":"getChat","chat_id":1002}`), 400, "Chat not found")
}

func TestTwoDevicesOfOneAccount(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c1 := login(t, b, t.TempDir(), "+15550000001", "")
	c2 := login(t, b, t.TempDir(), "+15550000001", "")
	c1.call(`{"@type":"createPrivateChat","user_id":1005}`)
	c1.sync()
	c1.call(sendText(1005, "from one"))
	c1.sync()
	us := c2.sync()
	wantTypes(t, us, "updateUser", "updateNewChat", "updateNewMessage", "updateNewMessage")
	if us[2].get("message.is_outgoing") != true || us[2].str("message.content.text.text") != "from one" || us[3].str("message.content.text.text") != "echo: from one" {
		t.Fatalf("second device %v", us)
	}
}

func TestBridgeRegistry(t *testing.T) {
	be, err := bridge.New("", config.Bridge{Name: "tg", Backend: "sim"}, bridge.WithLogger(quietLogger()))
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	if _, ok := be.(bridge.Controller); !ok {
		t.Fatal("the sim backend has no control API")
	}
	if _, err := bridge.New("nope", config.Bridge{Name: "x"}); err == nil || !strings.Contains(err.Error(), `unknown backend "nope"`) {
		t.Fatalf("unknown backend: %v", err)
	}
	if _, err := bridge.New("sim", config.Bridge{Name: "x", Fixture: "/nonexistent.toml"}); err == nil {
		t.Fatal("a missing fixture was accepted")
	}
}

func TestBackendClose(t *testing.T) {
	b := newTestBackend(t, testWorld)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	b.Close()
	for range c.c.Updates() {
	}
	if err := c.c.Send([]byte(`{"@type":"getMe"}`)); !errors.Is(err, bridge.ErrClosed) {
		t.Fatalf("Send after the backend closed: %v", err)
	}
	if _, err := b.Open(context.Background(), bridge.Session{DataDir: t.TempDir()}); err == nil {
		t.Fatal("Open after Close worked")
	}
	if err := c.c.Send([]byte(`not json`)); !errors.Is(err, bridge.ErrBadRequest) {
		t.Fatalf("bad request: %v", err)
	}
}

func TestBulk(t *testing.T) {
	b := newTestBackend(t, testWorld+`
[[bulk]]
accounts = 50
phone_from = "+16660000000"
code = "1"
me_id_from = 5000000
contacts = 20
contact_id_from = 6000000
`)
	c := openClient(t, b, t.TempDir(), "k")
	c.call(`{"@type":"setTdlibParameters"}`)
	c.call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"+16660000049"}`)
	wantOK(t, c.call(`{"@type":"checkAuthenticationCode","code":"1"}`))
	if me := c.call(`{"@type":"getMe"}`); me.num("id") != 5000049 {
		t.Fatalf("bulk me %v", me)
	}
	if n := c.call(`{"@type":"getContacts"}`).num("total_count"); n != 20 {
		t.Fatalf("bulk contacts %d", n)
	}
	c.call(`{"@type":"createPrivateChat","user_id":6000003}`)
	c.sync()
	c.call(sendText(6000003, "x"))
	if us := c.sync(); us[len(us)-1].str("message.content.text.text") != "echo: x" {
		t.Fatalf("bulk echo %v", types(us))
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func TestHistoryLimit(t *testing.T) {
	b := newTestBackend(t, "history = 10\n"+testWorld)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1005}`)
	for i := 0; i < 20; i++ {
		c.call(sendText(1005, itoa(int64(i))))
	}
	c.sync()
	h := c.call(`{"@type":"getChatHistory","chat_id":1005,"limit":100}`)
	if n := h.num("total_count"); n < 10 || n > 12 {
		t.Fatalf("%d messages kept, want 10..12", n)
	}
	if h.str("messages.0.content.text.text") != "echo: 19" {
		t.Fatalf("newest %v", h.get("messages.0"))
	}
}
