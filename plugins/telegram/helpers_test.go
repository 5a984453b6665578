package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

// The tests play TDLib: they answer the plugin's bridge calls with TDLib's JSON and send its
// updates as bridge events, through the fake host of sdktest.

const (
	user  = "alice@example.org"
	phone = "+15550000001"
)

// clock is the tests' time: 2026-01-01 00:00:00 UTC.
var clock = time.Unix(1767225600, 0)

type fx struct {
	t *testing.T
	h *sdktest.Host
	s *sdktest.Session
	// benchmarks: zero the plugin's time; run fn without counting its time
	reset   func()
	untimed func(fn func())
}

func newFx(t *testing.T, opts ...sdktest.Option) *fx {
	t.Helper()
	now = func() time.Time { return clock }
	t.Cleanup(func() { now = time.Now })
	opts = append([]sdktest.Option{sdktest.WithBridges("telegram"), sdktest.WithGateway("telegram.example.org")}, opts...)
	h := sdktest.New(t, telegram{}, opts...)
	return &fx{t: t, h: h, s: h.Session(user)}
}

// request decodes a pending call's request.
func request(c sdktest.PendingCall) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(c.Request, &m)
	return m
}

// pending returns the oldest unanswered bridge call of a TDLib type.
func (f *fx) pending(typ string) sdktest.PendingCall {
	f.t.Helper()
	for _, c := range f.s.Bridges() {
		if request(c)["@type"] == typ {
			return c
		}
	}
	var have []string
	for _, c := range f.s.Bridges() {
		have = append(have, string(c.Request))
	}
	f.t.Fatalf("no pending %s call; pending: %v", typ, have)
	return sdktest.PendingCall{}
}

func (f *fx) hasPending(typ string) bool {
	for _, c := range f.s.Bridges() {
		if request(c)["@type"] == typ {
			return true
		}
	}
	return false
}

func raw(s string) json.RawMessage {
	if !json.Valid([]byte(s)) {
		panic("invalid JSON in a test: " + s)
	}
	return json.RawMessage(s)
}

// answer answers the oldest pending call of a type with TDLib's JSON.
func (f *fx) answer(typ, resp string) sdktest.Result {
	f.t.Helper()
	res := f.s.RespondBridge(f.pending(typ).Token, raw(resp))
	f.check(res)
	return res
}

// refuse answers the oldest pending call of a type with TDLib's error.
func (f *fx) refuse(typ string, code int, msg string) sdktest.Result {
	f.t.Helper()
	return f.answer(typ, fmt.Sprintf(`{"@type":"error","code":%d,"message":%q}`, code, msg))
}

func (f *fx) event(ev string) sdktest.Result {
	f.t.Helper()
	res := f.s.BridgeEvent("telegram", raw(ev))
	f.check(res)
	return res
}

func (f *fx) check(res sdktest.Result) {
	f.t.Helper()
	if res.Status == abi.StatusError {
		f.t.Fatalf("event failed: %v", res.Err())
	}
}

func authUpdate(state string) string {
	return `{"@type":"updateAuthorizationState","authorization_state":` + state + `}`
}

func simple(state string) string { return authUpdate(`{"@type":"` + state + `"}`) }

// login logs the session in: parameters, phone, code, ready, getMe.
func (f *fx) login() {
	f.t.Helper()
	res := f.s.Login(abi.Values{"phone": phone})
	f.check(res)
	f.event(simple("authorizationStateWaitTdlibParameters"))
	f.event(simple("authorizationStateWaitPhoneNumber"))
	f.answer("setTdlibParameters", `{"@type":"ok"}`)
	f.event(authUpdate(`{"@type":"authorizationStateWaitCode","code_info":{"@type":"authenticationCodeInfo","phone_number":"+15550000001"}}`))
	f.answer("setAuthenticationPhoneNumber", `{"@type":"ok"}`)
	f.check(f.s.Input("code", "12345"))
	f.event(`{"@type":"updateOption","name":"my_id","value":{"@type":"optionValueInteger","value":"9000001"}}`)
	f.event(simple("authorizationStateReady"))
	f.answer("checkAuthenticationCode", `{"@type":"ok"}`)
	f.answer("getMe", userJSON(9000001, "Alice", "Sim", "", "15550000001", `{"@type":"userStatusOnline","expires":1767229200}`, false, false, ""))
	if !f.s.LoggedIn {
		f.t.Fatalf("not logged in; calls: %v", f.h.Calls())
	}
	f.h.Reset()
}

// userJSON is a TDLib user.
func userJSON(id int64, first, last, username, phone, status string, contact, bot bool, photo string) string {
	un := "null"
	if username != "" {
		un = fmt.Sprintf(`{"@type":"usernames","active_usernames":[%q],"disabled_usernames":[],"editable_username":%q}`, username, username)
	}
	typ := `{"@type":"userTypeRegular"}`
	if bot {
		typ = `{"@type":"userTypeBot","can_join_groups":true}`
	}
	if status == "" {
		status = `{"@type":"userStatusEmpty"}`
	}
	if photo == "" {
		photo = "null"
	}
	return fmt.Sprintf(`{"@type":"user","id":%d,"first_name":%q,"last_name":%q,"usernames":%s,"phone_number":%q,"status":%s,"profile_photo":%s,"is_contact":%v,"is_mutual_contact":%v,"type":%s}`,
		id, first, last, un, phone, status, photo, contact, contact, typ)
}

// photoJSON is a profile photo whose small file has the id and, if downloaded, the path.
func photoJSON(photoID string, fileID int, path string) string {
	return fmt.Sprintf(`{"@type":"profilePhoto","id":%q,"small":%s,"big":%s,"has_animation":false,"is_personal":false}`,
		photoID, fileJSON(fileID, 1234, path), fileJSON(fileID, 1234, path))
}

func fileJSON(id, size int, path string) string {
	return fmt.Sprintf(`{"@type":"file","id":%d,"size":%d,"expected_size":%d,"local":{"@type":"localFile","path":%q,"is_downloading_completed":%v},"remote":{"@type":"remoteFile","id":"r%d","unique_id":"u%d"}}`,
		id, size, size, path, path != "", id, id)
}

// message is a TDLib message in the private chat with chat; content is a messageContent.
func message(id, chat, sender int64, out bool, state, content string) string {
	if state == "" {
		state = "null"
	}
	return fmt.Sprintf(`{"@type":"message","id":%d,"sender_id":{"@type":"messageSenderUser","user_id":%d},"chat_id":%d,"sending_state":%s,"is_outgoing":%v,"date":1767225600,"edit_date":0,"interaction_info":null,"reply_to":null,"content":%s}`,
		id, sender, chat, state, out, content)
}

func textContent(text string) string {
	return fmt.Sprintf(`{"@type":"messageText","text":{"@type":"formattedText","text":%q,"entities":[]}}`, text)
}

const pendingState = `{"@type":"messageSendingStatePending","sending_id":0}`

// calls returns the requests of the host calls of a method in a result.
func calls[T any](res sdktest.Result, m abi.Method) []T {
	var out []T
	for _, c := range res.Filter(m) {
		out = append(out, sdktest.As[T](c))
	}
	return out
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
