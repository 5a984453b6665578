//go:build libtdjson

package tdlib_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/zelenin/go-tdlib/client"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/bridge/sim"
)

const shapeWorld = `
reactions = ["👍", "❤"]
[[account]]
phone = "+15550000001"
code = "12345"
password = "pw"
contacts = [1001, 1002, 1003, 1004, 1005, 1006, 1007]
chats = [1007]
[account.me]
id = 9000001
first_name = "Alice"
avatar = "a.png"
[[user]]
id = 1001
first_name = "Eve"
last_name = "Echo"
usernames = ["eve", "evie"]
phone = "+15550001001"
bio = "bio"
status = "online"
avatar = "a.png"
behaviour = "echo"
[[user]]
id = 1002
first_name = "Off"
status = "offline"
[[user]]
id = 1003
first_name = "Week"
status = "last_week"
[[user]]
id = 1004
first_name = "Bot"
bot = true
status = "last_month"
[[user]]
id = 1005
first_name = "Plain"
status = "recently"
behaviour = "plain"
[[user]]
id = 1006
first_name = "Empty"
[[user]]
id = 1007
first_name = "Telegram"
verified = true
[[user]]
id = 2000
first_name = "Stranger"
phone = "+15550002000"
`

// The simulated Telegram speaks TDLib's shapes: every object it sends in a session that uses
// every feature decodes with go-tdlib's types (TDLib 1.8.40's schema), and re-encoding the
// result keeps every field the simulation wrote, with the same value: no misspelt field, no
// wrong type, no unknown "@type".
func TestSimSpeaksTDLibShapes(t *testing.T) {
	var png1 bytes.Buffer
	png.Encode(&png1, image.NewGray(image.Rect(0, 0, 8, 6)))
	fx, err := sim.ParseFixture(fstest.MapFS{"a.png": {Data: png1.Bytes()}}, "w.toml", []byte(shapeWorld), "w.toml")
	if err != nil {
		t.Fatal(err)
	}
	b := sim.NewFromFixture(fx, bridge.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Now: time.Now})
	defer b.Close()
	dir := t.TempDir()
	cl, err := b.Open(context.Background(), bridge.Session{User: "a@example.org", DataDir: dir, Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	var all [][]byte
	n := 0
	call := func(req string) map[string]any {
		t.Helper()
		n++
		x := fmt.Sprintf(`"s%d"`, n)
		r, err := bridge.WithExtra([]byte(req), x)
		if err != nil {
			t.Fatal(err)
		}
		if err := cl.Send(r); err != nil {
			t.Fatal(err)
		}
		for {
			select {
			case msg := <-cl.Updates():
				all = append(all, msg)
				if extra, rest, ok := bridge.Extra(msg); ok && string(extra) == x {
					var m map[string]any
					json.Unmarshal(rest, &m)
					return m
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no answer to %s", req)
			}
		}
	}
	text := func(chat int64, s string) string {
		return fmt.Sprintf(`{"@type":"sendMessage","chat_id":%d,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":%q}}}`, chat, s)
	}
	file := filepath.Join(t.TempDir(), "f.png")
	os.WriteFile(file, png1.Bytes(), 0o600)

	call(`{"@type":"getMe"}`) // 400: parameters first
	call(`{"@type":"setTdlibParameters","use_test_dc":true}`)
	call(`{"@type":"getOption","name":"my_id"}`)
	call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"+15559999999"}`)
	call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"+15550000001"}`)
	call(`{"@type":"checkAuthenticationCode","code":"1"}`)
	call(`{"@type":"checkAuthenticationCode","code":"12345"}`)
	call(`{"@type":"checkAuthenticationPassword","password":"pw"}`)
	call(`{"@type":"getOption","name":"my_id"}`)
	call(`{"@type":"getMe"}`)
	call(`{"@type":"getContacts"}`)
	call(`{"@type":"getUser","user_id":1001}`)
	call(`{"@type":"getUserFullInfo","user_id":1001}`)
	call(`{"@type":"getUserFullInfo","user_id":1004}`)
	call(`{"@type":"getChats","chat_list":{"@type":"chatListMain"},"limit":10}`)
	call(`{"@type":"loadChats","chat_list":{"@type":"chatListMain"},"limit":10}`)
	call(`{"@type":"searchUserByPhoneNumber","phone_number":"+15550002000"}`)
	call(`{"@type":"importContacts","contacts":[{"@type":"contact","phone_number":"+15550002000","first_name":"S","last_name":"","vcard":"","user_id":0}]}`)
	call(`{"@type":"searchPublicChat","username":"eve"}`)
	call(`{"@type":"createPrivateChat","user_id":1005,"force":false}`)
	sent := call(text(1001, "hello"))
	call(text(1001, "photo"))
	call(text(1005, "x"))
	var last int64
	for _, kind := range []string{
		`{"@type":"inputMessagePhoto","photo":{"@type":"inputFileLocal","path":%q},"caption":{"@type":"formattedText","text":"c"}}`,
		`{"@type":"inputMessageDocument","document":{"@type":"inputFileLocal","path":%q}}`,
		`{"@type":"inputMessageVideo","video":{"@type":"inputFileLocal","path":%q},"duration":2,"width":8,"height":6}`,
		`{"@type":"inputMessageAudio","audio":{"@type":"inputFileLocal","path":%q},"duration":2,"title":"t","performer":"p"}`,
		`{"@type":"inputMessageVoiceNote","voice_note":{"@type":"inputFileLocal","path":%q},"duration":2,"waveform":"AAEC"}`,
		`{"@type":"inputMessageDocument","document":{"@type":"inputFileLocal","path":"/nonexistent%s"}}`,
	} {
		call(fmt.Sprintf(`{"@type":"sendMessage","chat_id":1005,"input_message_content":`+kind+`}`, file))
	}
	h := call(`{"@type":"getChatHistory","chat_id":1001,"from_message_id":0,"offset":0,"limit":10}`)
	msgs := h["messages"].([]any)
	for _, m := range msgs {
		m := m.(map[string]any)
		id := int64(m["id"].(float64))
		if m["is_outgoing"] == true && id > last {
			last = id
		}
		if c := m["content"].(map[string]any); c["@type"] == "messagePhoto" {
			f := c["photo"].(map[string]any)["sizes"].([]any)[0].(map[string]any)["photo"].(map[string]any)
			call(fmt.Sprintf(`{"@type":"downloadFile","file_id":%v,"priority":1,"offset":0,"limit":0,"synchronous":true}`, f["id"]))
		}
	}
	_ = sent
	call(fmt.Sprintf(`{"@type":"sendMessage","chat_id":1001,"reply_to":{"@type":"inputMessageReplyToMessage","message_id":%d},"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"re"}}}`, last))
	call(fmt.Sprintf(`{"@type":"editMessageText","chat_id":1001,"message_id":%d,"input_message_content":{"@type":"inputMessageText","text":{"@type":"formattedText","text":"edited"}}}`, last))
	call(fmt.Sprintf(`{"@type":"addMessageReaction","chat_id":1001,"message_id":%d,"reaction_type":{"@type":"reactionTypeEmoji","emoji":"👍"},"is_big":false,"update_recent_reactions":true}`, last))
	call(fmt.Sprintf(`{"@type":"getMessageAvailableReactions","chat_id":1001,"message_id":%d,"row_size":8}`, last))
	call(fmt.Sprintf(`{"@type":"getMessage","chat_id":1001,"message_id":%d}`, last))
	call(fmt.Sprintf(`{"@type":"viewMessages","chat_id":1001,"message_ids":[%d],"source":null,"force_read":true}`, last+(1<<20)))
	call(`{"@type":"sendChatAction","chat_id":1001,"message_thread_id":0,"action":{"@type":"chatActionTyping"}}`)
	call(`{"@type":"getChat","chat_id":1001}`)
	call(fmt.Sprintf(`{"@type":"deleteMessages","chat_id":1001,"message_ids":[%d],"revoke":true}`, last))

	// the control API: remote people and the owner's other device
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	for _, a := range []struct{ path, body string }{
		{"/message", `{"account":"+15550000001","from":1002,"text":"hi"}`},
		{"/typing", `{"account":"+15550000001","from":1002,"action":"uploading_document"}`},
		{"/typing", `{"account":"+15550000001","from":1002,"action":"recording_voice"}`},
		{"/status", `{"user":1002,"status":"online","expires_in":"1m"}`},
		{"/profile", `{"user":1002,"bio":"b"}`},
		{"/own/message", `{"account":"+15550000001","chat":1002,"text":"carbon"}`},
		{"/read", `{"account":"+15550000001","from":1002}`},
		{"/own/read", `{"account":"+15550000001","chat":1002}`},
	} {
		resp, err := http.Post(srv.URL+a.path, "application/json", strings.NewReader(a.body))
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST %s: %v %v", a.path, err, resp.Status)
		}
		resp.Body.Close()
	}
	call(`{"@type":"getAuthorizationState"}`)
	call(`{"@type":"logOut"}`)
	for msg := range cl.Updates() {
		all = append(all, msg)
	}
	// TDLib's close: Closing, then Closed
	cl, err = b.Open(context.Background(), bridge.Session{User: "a@example.org", DataDir: t.TempDir(), Key: []byte("k")})
	if err != nil {
		t.Fatal(err)
	}
	cl.Send([]byte(`{"@type":"close"}`))
	for msg := range cl.Updates() {
		all = append(all, msg)
	}

	seen := map[string]int{}
	for _, raw := range all {
		_, body, _ := bridge.Extra(raw)
		checkShape(t, body, seen)
	}
	var names []string
	for k := range seen {
		names = append(names, k)
	}
	sort.Strings(names)
	t.Logf("%d objects checked, %d kinds: %s", len(all), len(names), strings.Join(names, " "))
	for _, want := range []string{
		"authorizationStateWaitTdlibParameters", "authorizationStateWaitPhoneNumber", "authorizationStateWaitCode",
		"authorizationStateWaitPassword", "authorizationStateReady", "authorizationStateLoggingOut",
		"authorizationStateClosing", "authorizationStateClosed", "user", "users", "userFullInfo", "chat", "chats",
		"message", "messages", "file", "ok", "error", "importedContacts", "availableReactions", "optionValueInteger",
		"optionValueEmpty", "updateOption", "updateUser", "updateNewChat", "updateNewMessage", "updateMessageSendSucceeded",
		"updateMessageSendFailed", "updateMessageContent", "updateMessageEdited", "updateDeleteMessages",
		"updateChatReadInbox", "updateChatReadOutbox", "updateChatAction", "updateUserStatus", "updateUserFullInfo",
		"updateMessageInteractionInfo", "updateFile", "messageText", "messagePhoto", "messageDocument", "messageVideo",
		"messageAudio", "messageVoiceNote", "userTypeBot", "userStatusOnline", "userStatusOffline", "userStatusRecently",
		"userStatusLastWeek", "userStatusLastMonth", "userStatusEmpty", "chatActionTyping", "chatActionCancel",
		"chatActionUploadingPhoto", "chatActionUploadingDocument", "chatActionRecordingVoiceNote",
		"messageSendingStatePending", "messageSendingStateFailed", "messageReplyToMessage", "chatAvailableReactionsSome",
		"profilePhoto", "chatPhotoInfo", "usernames", "authenticationCodeInfo",
	} {
		if seen[want] == 0 {
			t.Errorf("the scenario produced no %s", want)
		}
	}
}

// checkShape decodes a TDLib object with go-tdlib and checks that re-encoding keeps it.
func checkShape(t *testing.T, raw []byte, seen map[string]int) {
	t.Helper()
	v, err := client.UnmarshalType(raw)
	if err != nil {
		t.Errorf("go-tdlib cannot decode %s: %v", raw, err)
		return
	}
	back, err := json.Marshal(v)
	if err != nil {
		t.Errorf("go-tdlib cannot encode %T: %v", v, err)
		return
	}
	var want, got any
	dec := func(b []byte, v *any) {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		if err := d.Decode(v); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	dec(raw, &want)
	dec(back, &got)
	count(want, seen)
	if p := subset(want, got, ""); p != "" {
		t.Errorf("%s: field %s does not survive go-tdlib's %T:\n sim:     %s\n go-tdlib: %s", v.GetType(), p, v, raw, back)
	}
}

func count(v any, seen map[string]int) {
	switch x := v.(type) {
	case map[string]any:
		if s, ok := x["@type"].(string); ok {
			seen[s]++
		}
		for _, e := range x {
			count(e, seen)
		}
	case []any:
		for _, e := range x {
			count(e, seen)
		}
	}
}

// subset reports the first path where want (the simulation's JSON) is not in got.
func subset(want, got any, path string) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return path
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				return path + "." + k
			}
			if p := subset(wv, gv, path+"."+k); p != "" {
				return p
			}
		}
		return ""
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if p := subset(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); p != "" {
				return p
			}
		}
		return ""
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		return path
	}
	return ""
}
