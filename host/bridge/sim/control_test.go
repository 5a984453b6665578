package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type ctl struct {
	t   *testing.T
	url string
}

func newCtl(t *testing.T, b *Backend) ctl {
	mux := http.NewServeMux()
	mux.Handle("/sim/", b.Handler()) // as the admin listener mounts it
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return ctl{t, srv.URL}
}

func (c ctl) post(path, body string) (int, obj) {
	c.t.Helper()
	resp, err := http.Post(c.url+path, "application/json", strings.NewReader(body))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, decode(c.t, data)
}

func (c ctl) ok(path, body string) obj {
	c.t.Helper()
	code, res := c.post(path, body)
	if code != 200 || res.get("ok") != true {
		c.t.Fatalf("POST %s %s: %d %v", path, body, code, res)
	}
	return res
}

func TestControlRemote(t *testing.T) {
	b := newTestBackend(t, testWorld)
	api := newCtl(t, b)
	c := login(t, b, t.TempDir(), "+15550000001", "")

	res := api.ok("/sim/message", `{"account":"+15550000001","from":1002,"text":"hi there"}`)
	us := c.sync()
	wantTypes(t, us, "updateUser", "updateNewChat", "updateNewMessage")
	m := us[2]
	id := m.num("message.id")
	if m.str("message.content.text.text") != "hi there" || m.get("message.is_outgoing") != false || m.num("message.chat_id") != 1002 ||
		id != res.num("message_id") || res.num("chat_id") != 1002 {
		t.Fatalf("injected message %v (result %v)", m, res)
	}
	if unread := us[1].num("chat.unread_count"); unread != 1 {
		t.Fatalf("new chat unread %d", unread)
	}

	api.ok("/sim/message", `{"account":"+15550000001","from":1002,"text":"again","reply_to":`+itoa(id)+`}`)
	if r := c.sync()[0]; r.num("message.reply_to.message_id") != id {
		t.Fatalf("reply %v", r)
	}
	api.ok("/sim/message", `{"account":"+15550000001","from":1002,"photo":true,"text":"a view"}`)
	if r := c.sync()[0]; r.str("message.content.@type") != "messagePhoto" || r.str("message.content.caption.text") != "a view" {
		t.Fatalf("photo %v", r)
	}

	api.ok("/sim/typing", `{"account":"+15550000001","from":1002}`)
	api.ok("/sim/typing", `{"account":"+15550000001","from":1002,"action":"cancel"}`)
	wantTypes(t, c.sync(), "updateChatAction:chatActionTyping", "updateChatAction:chatActionCancel")

	api.ok("/sim/edit", `{"account":"+15550000001","from":1002,"message_id":`+itoa(id)+`,"text":"hi there!"}`)
	us = c.sync()
	wantTypes(t, us, "updateMessageContent", "updateMessageEdited")
	if us[0].str("new_content.text.text") != "hi there!" {
		t.Fatalf("remote edit %v", us[0])
	}

	api.ok("/sim/reaction", `{"account":"+15550000001","from":1002,"message_id":`+itoa(id)+`,"reaction":"❤"}`)
	us = c.sync()
	wantTypes(t, us, "updateMessageInteractionInfo")
	if r := us[0]; r.num("interaction_info.reactions.reactions.0.recent_sender_ids.0.user_id") != 1002 || r.get("interaction_info.reactions.reactions.0.is_chosen") != false {
		t.Fatalf("remote reaction %v", r)
	}

	// the user reads what the owner wrote
	c.call(sendText(1002, "read me"))
	mine := find(t, c.sync(), "updateMessageSendSucceeded").num("message.id")
	api.ok("/sim/read", `{"account":"+15550000001","from":1002}`)
	us = c.sync()
	wantTypes(t, us, "updateChatReadOutbox")
	if us[0].num("last_read_outbox_message_id") != mine {
		t.Fatalf("remote read %v", us[0])
	}

	api.ok("/sim/delete", `{"account":"+15550000001","from":1002,"message_ids":[`+itoa(id)+`]}`)
	us = c.sync()
	wantTypes(t, us, "updateDeleteMessages")
	if us[0].num("message_ids.0") != id || us[0].get("is_permanent") != true {
		t.Fatalf("remote delete %v", us[0])
	}

	api.ok("/sim/status", `{"user":1002,"status":"online","expires_in":"30s"}`)
	us = c.sync()
	wantTypes(t, us, "updateUserStatus")
	if us[0].num("user_id") != 1002 || us[0].str("status.@type") != "userStatusOnline" || us[0].num("status.expires") != testStart.Add(30*time.Second).Unix() {
		t.Fatalf("status %v", us[0])
	}
	api.ok("/sim/status", `{"user":1002,"status":"offline","last_seen":"5m"}`)
	if s := c.sync()[0]; s.num("status.was_online") != testStart.Add(-5*time.Minute).Unix() {
		t.Fatalf("offline %v", s)
	}
	api.ok("/sim/profile", `{"user":1002,"first_name":"Dorothy","bio":"new"}`)
	us = c.sync()
	wantTypes(t, us, "updateUserFullInfo", "updateUser")
	if us[1].str("user.first_name") != "Dorothy" || us[0].str("user_full_info.bio.text") != "new" {
		t.Fatalf("profile %v", us)
	}

	// errors
	for _, e := range []struct {
		path, body string
		code       int
	}{
		{"/sim/message", `{"account":"+1999","from":1002,"text":"x"}`, 404},
		{"/sim/message", `{"account":"+15550000001","from":4242,"text":"x"}`, 404},
		{"/sim/message", `{"account":"+15550000001","from":1002}`, 400},
		{"/sim/message", `{"account":"+15550000001","from":1002,"txt":"x"}`, 400},
		{"/sim/edit", `{"account":"+15550000001","from":1002,"message_id":1,"text":"x"}`, 404},
		{"/sim/status", `{"user":1002,"status":"busy"}`, 400},
		{"/sim/reaction", `{"account":"+15550000001","from":1002,"message_id":` + itoa(mine) + `,"reaction":"🤡"}`, 400},
		{"/sim/nothing", `{"account":"+15550000001","from":1002}`, 404},
	} {
		if code, res := api.post(e.path, e.body); code != e.code || res.str("error") == "" {
			t.Errorf("POST %s %s: %d %v, want %d", e.path, e.body, code, res, e.code)
		}
	}
}

func TestControlOwnActions(t *testing.T) {
	b := newTestBackend(t, testWorld)
	api := newCtl(t, b)
	c := login(t, b, t.TempDir(), "+15550000001", "")

	// the owner writes to Eve from the official app: a new outgoing message (a carbon), and Eve answers
	res := api.ok("/sim/own/message", `{"account":"+15550000001","chat":1001,"text":"from my phone"}`)
	us := c.sync()
	wantTypes(t, us, "updateUser", "updateNewChat", "updateNewMessage", "updateUserStatus", "updateChatAction:chatActionTyping",
		"updateChatReadOutbox", "updateChatAction:chatActionCancel", "updateNewMessage")
	own := us[2]
	if own.get("message.is_outgoing") != true || own.get("message.sending_state") != nil || own.num("message.id") != res.num("message_id") {
		t.Fatalf("own message %v", own)
	}
	mine := own.num("message.id")
	reply := us[7].num("message.id")

	api.ok("/sim/own/read", `{"account":"+15550000001","chat":1001}`)
	us = c.sync()
	wantTypes(t, us, "updateChatReadInbox")
	if us[0].num("last_read_inbox_message_id") != reply {
		t.Fatalf("own read %v", us[0])
	}
	api.ok("/sim/own/reaction", `{"account":"+15550000001","chat":1001,"message_id":`+itoa(reply)+`,"reaction":"😂"}`)
	us = c.sync()
	wantTypes(t, us, "updateMessageInteractionInfo", "updateMessageInteractionInfo")
	if us[0].get("interaction_info.reactions.reactions.0.is_chosen") != true {
		t.Fatalf("own reaction %v", us[0])
	}
	api.ok("/sim/own/edit", `{"account":"+15550000001","chat":1001,"message_id":`+itoa(mine)+`,"text":"edited"}`)
	wantTypes(t, c.sync(), "updateMessageContent", "updateMessageEdited", "updateMessageContent", "updateMessageEdited")
	api.ok("/sim/own/delete", `{"account":"+15550000001","chat":1001,"message_ids":[`+itoa(mine)+`]}`)
	wantTypes(t, c.sync(), "updateDeleteMessages", "updateDeleteMessages")

	st := b.State()
	if len(st.Accounts) != 2 || len(st.Accounts[0].Sessions) != 1 || st.Accounts[0].Sessions[0] != "alice@example.org" {
		t.Fatalf("state %+v", st)
	}
	resp, err := http.Get(api.url + "/sim/state")
	if err != nil {
		t.Fatal(err)
	}
	var got State
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if len(got.Accounts) != 2 || got.Accounts[0].Phone != "+15550000001" {
		t.Fatalf("GET /sim/state %+v", got)
	}

	// revoke: the session ends as TDLib reports a session terminated elsewhere
	if res := api.ok("/sim/revoke", `{"account":"+15550000001"}`); res.num("sessions") != 1 {
		t.Fatalf("revoke %v", res)
	}
	var states []string
	for {
		m, ok := c.read()
		if !ok {
			break
		}
		states = append(states, types([]obj{m})...)
	}
	if strings.Join(states, " ") != "updateAuthorizationState:authorizationStateLoggingOut updateAuthorizationState:authorizationStateClosed" {
		t.Fatalf("revoked: %v", states)
	}
}

func TestControlLoopbackOnly(t *testing.T) {
	b := newTestBackend(t, testWorld)
	req := httptest.NewRequest("POST", "/sim/message", strings.NewReader(`{}`)) // from 192.0.2.1
	w := httptest.NewRecorder()
	b.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusForbidden {
		t.Fatalf("non-loopback: %d", w.Code)
	}
	req = httptest.NewRequest("GET", "/sim/message", nil)
	req.RemoteAddr = "[::1]:1234"
	w = httptest.NewRecorder()
	b.Handler().ServeHTTP(w, req)
	if w.Code != http.StatusMethodNotAllowed {
		t.Fatalf("GET of an action: %d", w.Code)
	}
}
