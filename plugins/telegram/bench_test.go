package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
	"github.com/xmppgw/gateway/sdk/go/sdktest/wasmtest"
)

// Benchmarks of the plugin's handling of what the simulated Telegram sends (the JSON below is
// the simulated Telegram's own). They run the plugin in process; with TELEGRAM_BENCH_WASM=1
// they run the module built for wasip1 under wazero instead, as the gateway does.

// simMessage is a message as the simulated Telegram renders it.
func simMessage(id, chat, sender int64, out bool, state, text string) string {
	if state == "" {
		state = "null"
	}
	return fmt.Sprintf(`{"@type":"message","id":%d,"sender_id":{"@type":"messageSenderUser","user_id":%d},"chat_id":%d,"sending_state":%s,"scheduling_state":null,"is_outgoing":%v,"is_pinned":false,"is_from_offline":false,"can_be_saved":true,"has_timestamped_media":true,"is_channel_post":false,"is_topic_message":false,"contains_unread_mention":false,"date":%d,"edit_date":0,"forward_info":null,"import_info":null,"interaction_info":null,"unread_reactions":[],"fact_check":null,"reply_to":null,"message_thread_id":0,"saved_messages_topic_id":0,"self_destruct_type":null,"self_destruct_in":0,"auto_delete_in":0,"via_bot_user_id":0,"sender_business_bot_user_id":0,"sender_boost_count":0,"author_signature":"","media_album_id":"0","effect_id":"0","has_sensitive_content":false,"restriction_reason":"","content":{"@type":"messageText","text":{"@type":"formattedText","text":%q,"entities":[]},"link_preview":null,"link_preview_options":null},"reply_markup":null}`,
		id, sender, chat, state, out, clock.Unix(), text)
}

// simUser is a user as the simulated Telegram renders it.
func simUser(id int64, first, last, phone, status string, contact bool) string {
	return fmt.Sprintf(`{"@type":"user","id":%d,"first_name":%q,"last_name":%q,"usernames":null,"phone_number":%q,"status":%s,"profile_photo":null,"accent_color_id":0,"background_custom_emoji_id":"0","profile_accent_color_id":-1,"profile_background_custom_emoji_id":"0","emoji_status":null,"is_contact":%v,"is_mutual_contact":%v,"is_close_friend":false,"is_verified":false,"is_premium":false,"is_support":false,"restriction_reason":"","is_scam":false,"is_fake":false,"has_active_stories":false,"has_unread_active_stories":false,"restricts_new_chats":false,"have_access":true,"type":{"@type":"userTypeRegular"},"language_code":"","added_to_attachment_menu":false}`,
		id, first, last, phone, status, contact, contact)
}

const simFullInfo = `{"@type":"userFullInfo","personal_photo":null,"photo":null,"public_photo":null,"block_list":null,"can_be_called":true,"supports_video_calls":true,"has_private_calls":false,"has_private_forwards":false,"has_restricted_voice_and_video_note_messages":false,"has_posted_to_profile_stories":false,"has_sponsored_messages_enabled":false,"need_phone_number_privacy_exception":false,"set_chat_background":false,"bio":{"@type":"formattedText","text":"","entities":[]},"birthdate":null,"personal_chat_id":0,"gift_count":0,"group_in_common_count":0,"business_info":null,"bot_info":null}`

// benchFx starts the plugin for a benchmark: in process, or built for wasip1 under wazero. It
// reports the plugin's own time per op (in its events, minus the fake host's answers) as
// plugin-ns/op, and under wazero the instance's memory at the end.
func benchFx(b *testing.B) *fx {
	b.Helper()
	now = func() time.Time { return clock }
	b.Cleanup(func() { now = time.Now })
	start := sdktest.InProcess(telegram{})
	if os.Getenv("TELEGRAM_BENCH_WASM") != "" {
		start = wasmtest.MustLoad(b, wasmtest.Build(b, ".")).Starter()
	}
	var in, host time.Duration
	var inst sdktest.Instance
	timed := func(h sdktest.HostFuncs) (sdktest.Instance, error) {
		i, err := start(timedHost{h, &host})
		inst = i
		return timedInstance{i, &in}, err
	}
	h := sdktest.New(b, nil, sdktest.WithBridges("telegram"), sdktest.WithGateway("telegram.example.org"), sdktest.WithStarter(timed))
	b.Cleanup(func() {
		if b.N > 1 {
			b.ReportMetric(float64(in-host)/float64(b.N), "plugin-ns/op")
		}
		if m, ok := inst.(interface{ Memory() uint32 }); ok && b.N > 1 {
			b.ReportMetric(float64(m.Memory())/1024, "wasm-memory-KiB")
		}
	})
	reset := func() { in, host = 0, 0 }
	untimed := func(fn func()) {
		i, h := in, host
		fn()
		in, host = i, h
	}
	return &fx{h: h, s: h.Session(user), reset: reset, untimed: untimed}
}

// timedHost adds up the time the fake host takes to answer host calls.
type timedHost struct {
	sdktest.HostFuncs
	d *time.Duration
}

func (h timedHost) Call(method string, req []byte) int32 {
	t := time.Now()
	n := h.HostFuncs.Call(method, req)
	*h.d += time.Since(t)
	return n
}

// timedInstance adds up the time of the instance's events.
type timedInstance struct {
	sdktest.Instance
	d *time.Duration
}

func (i timedInstance) Event(env []byte) (abi.Status, error) {
	t := time.Now()
	st, err := i.Instance.Event(env)
	*i.d += time.Since(t)
	return st, err
}

func must(b *testing.B, res sdktest.Result) sdktest.Result {
	b.Helper()
	if res.Status == abi.StatusError {
		b.Fatalf("event failed: %v", res.Err())
	}
	return res
}

// pendingToken returns the token of the only pending bridge call of a type.
func pendingToken(b *testing.B, s *sdktest.Session, typ string) string {
	b.Helper()
	for _, c := range s.Bridges() {
		if strings.Contains(string(c.Request), `"@type":"`+typ+`"`) {
			return c.Token
		}
	}
	b.Fatalf("no pending %s", typ)
	return ""
}

// benchLogin logs a session in, as fx.login does.
func benchLogin(b *testing.B, s *sdktest.Session) {
	b.Helper()
	must(b, s.Login(abi.Values{"phone": phone}))
	must(b, s.BridgeEvent("telegram", raw(simple("authorizationStateWaitPhoneNumber"))))
	must(b, s.RespondBridge(pendingToken(b, s, "setTdlibParameters"), raw(`{"@type":"ok"}`)))
	must(b, s.BridgeEvent("telegram", raw(authUpdate(`{"@type":"authorizationStateWaitCode"}`))))
	must(b, s.RespondBridge(pendingToken(b, s, "setAuthenticationPhoneNumber"), raw(`{"@type":"ok"}`)))
	must(b, s.Input("code", "12345"))
	must(b, s.BridgeEvent("telegram", raw(simple("authorizationStateReady"))))
	must(b, s.RespondBridge(pendingToken(b, s, "checkAuthenticationCode"), raw(`{"@type":"ok"}`)))
	must(b, s.RespondBridge(pendingToken(b, s, "getMe"), raw(simUser(me, "Alice", "Sim", "15550000001", `{"@type":"userStatusEmpty"}`, false))))
	if !s.LoggedIn {
		b.Fatal("not logged in")
	}
}

// BenchmarkEchoRoundTrip: a text to a plain echo contact and its answer, as the simulated
// Telegram plays it: the user's message, updateNewMessage (pending), the answer to sendMessage,
// updateMessageSendSucceeded, and the echo's updateNewMessage.
func BenchmarkEchoRoundTrip(b *testing.B) {
	f := benchFx(b)
	s := f.s
	benchLogin(b, s)
	const peer = 30000000
	must(b, s.BridgeEvent("telegram", raw(userUpdate(simUser(peer, "Contact", "30000000", "", online(time.Hour), true)))))
	must(b, s.BridgeEvent("telegram", raw(`{"@type":"updateNewChat","chat":{"@type":"chat","id":30000000,"type":{"@type":"chatTypePrivate","user_id":30000000},"title":"Contact 30000000"}}`)))
	pending := raw(simMessage(1, peer, me, true, pendingState, "hello"))
	newPending := raw(`{"@type":"updateNewMessage","message":` + string(pending) + `}`)
	succeeded := raw(`{"@type":"updateMessageSendSucceeded","message":` + simMessage(1048576, peer, me, true, "", "hello") + `,"old_message_id":1}`)
	echo := raw(`{"@type":"updateNewMessage","message":` + simMessage(2097152, peer, peer, false, "", "echo: hello") + `}`)
	f.h.Reset()
	b.ReportAllocs()
	b.ResetTimer()
	f.reset()
	for i := 0; i < b.N; i++ {
		must(b, s.Text("30000000", abi.Text{ID: "x", Text: "hello"}))
		must(b, s.BridgeEvent("telegram", newPending))
		must(b, s.RespondBridge(pendingToken(b, s, "sendMessage"), pending))
		if res := must(b, s.BridgeEvent("telegram", succeeded)); len(res.Filter(abi.CallMessageSent)) != 1 {
			b.Fatalf("not sent: %v", res.Methods())
		}
		if res := must(b, s.BridgeEvent("telegram", echo)); len(res.Filter(abi.CallContactText)) != 1 {
			b.Fatalf("no echo: %v", res.Methods())
		}
		f.h.Reset()
	}
}

// BenchmarkLoginContact: per contact, what a login with the simulated Telegram brings: its
// updateUser, its id in the answer to getContacts, the host's update_info and the answer to
// getUserFullInfo.
func BenchmarkLoginContact(b *testing.B) {
	f := benchFx(b)
	const batch = 50
	updates := make([]string, batch)
	ids := make([]string, batch)
	for i := range batch {
		id := int64(30000000 + i)
		updates[i] = userUpdate(simUser(id, "Contact", fmt.Sprint(id), "", online(time.Hour), true))
		ids[i] = fmt.Sprint(id)
	}
	contacts := raw(`{"@type":"users","total_count":50,"user_ids":[` + strings.Join(ids, ",") + `]}`)
	b.ReportAllocs()
	b.ResetTimer()
	f.reset()
	for n := 0; n < b.N; n += batch {
		b.StopTimer()
		s := f.h.Session(fmt.Sprintf("u%d@example.org", n))
		f.untimed(func() { benchLogin(b, s) })
		f.h.Reset()
		b.StartTimer()
		must(b, s.Fill())
		for _, u := range updates {
			must(b, s.BridgeEvent("telegram", raw(u)))
		}
		must(b, s.RespondBridge(pendingToken(b, s, "getContacts"), contacts))
		for _, id := range ids {
			must(b, s.UpdateInfo(id))
		}
		for _, c := range s.Bridges() {
			must(b, s.RespondBridge(c.Token, raw(simFullInfo)))
		}
		f.h.Reset()
	}
}

// BenchmarkFloorEvent: a 1 KiB event of a bridge the plugin does not use: what the SDK costs.
func BenchmarkFloorEvent(b *testing.B) {
	f := benchFx(b)
	s := f.s
	benchLogin(b, s)
	echo := raw(`{"@type":"updateNewMessage","message":` + simMessage(2097152, 30000000, 30000000, false, "", "echo: hello") + `}`)
	b.ResetTimer()
	f.reset()
	for i := 0; i < b.N; i++ {
		must(b, s.BridgeEvent("other", echo))
		f.h.Reset()
	}
}

// BenchmarkEchoEvent: the echo's updateNewMessage alone.
func BenchmarkEchoEvent(b *testing.B) {
	f := benchFx(b)
	s := f.s
	benchLogin(b, s)
	const peer = 30000000
	must(b, s.BridgeEvent("telegram", raw(userUpdate(simUser(peer, "Contact", "30000000", "", online(time.Hour), true)))))
	echo := raw(`{"@type":"updateNewMessage","message":` + simMessage(2097152, peer, peer, false, "", "echo: hello") + `}`)
	b.ResetTimer()
	f.reset()
	for i := 0; i < b.N; i++ {
		must(b, s.BridgeEvent("telegram", echo))
		f.h.Reset()
	}
}
