package main

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// The hand-written decoders must give exactly what encoding/json gives, on any input.

// sameAsJSON decodes in with unmarshal and with encoding/json and compares; fast says the
// hand-written decoder must read it by itself (no fall back).
func sameAsJSON[T any, P interface {
	*T
	decoder
}](t *testing.T, in string, fast bool) {
	t.Helper()
	var got, want T
	gerr := unmarshal([]byte(in), P(&got))
	werr := json.Unmarshal([]byte(in), &want)
	if (gerr == nil) != (werr == nil) || !reflect.DeepEqual(got, want) {
		t.Errorf("%T %.80q:\n got %+v (%v)\nwant %+v (%v)", got, in, got, gerr, want, werr)
	}
	if fast {
		var v T
		d := jsonwire.NewDecoder([]byte(in), jsonwire.Strict)
		object(&d, P(&v))
		if err := d.End(); err != nil {
			t.Errorf("%T %.80q: not read by the hand-written decoder: %v", v, in, err)
		}
	}
}

// variants returns in and inputs made from it that are malformed or of the wrong shape.
func variants(in string) []string {
	out := []string{in, "null", "[]", `"x"`, "{}", in + " ", in + "x", strings.ToUpper(in)}
	for i := 1; i < len(in); i += max(1, len(in)/40) {
		out = append(out, in[:i])
	}
	for _, r := range []struct{ old, new string }{
		{`"id":`, `"id":true,"x":`}, {`"id":`, `"ID":`}, {`":"`, `":5,"z":"`}, {`":{`, `":"{`},
		{`":[`, `":{"a":[`}, {`:true`, `:"true"`}, {`:false`, `:0`}, {`:null`, `:[1,]`}, {`":1`, `":1.5`},
		{`":1`, `":"1`}, {`"@type":"`, `"@type":"\u0041`}, {`":"`, `":"\ud800`}, {`":{"`, `":{"A":1,"`},
	} {
		if strings.Contains(in, r.old) {
			out = append(out, strings.Replace(in, r.old, r.new, 1))
		}
	}
	return out
}

func checkAll[T any, P interface {
	*T
	decoder
}](t *testing.T, valid ...string) {
	t.Helper()
	for _, in := range valid {
		sameAsJSON[T, P](t, in, true)
		for _, v := range variants(in)[1:] {
			sameAsJSON[T, P](t, v, false)
		}
	}
}

var (
	fileDone    = fileJSON(5, 1234, "handle:f-3")
	fileWaiting = `{"@type":"file","id":"7","size":0,"expected_size":99,"local":{"@type":"localFile","path":"","is_downloading_completed":false},"remote":null}`
	photoMsg    = `{"@type":"messagePhoto","photo":{"@type":"photo","has_stickers":false,"minithumbnail":null,"sizes":[{"@type":"photoSize","type":"s","photo":` + fileDone + `,"width":90,"height":60,"progressive_sizes":[]},{"@type":"photoSize","type":"m","photo":` + fileWaiting + `,"width":320,"height":240}]},"caption":{"@type":"formattedText","text":"sunset","entities":[]},"show_caption_above_media":false,"has_spoiler":false,"is_secret":false}`
	docMsg      = `{"@type":"messageDocument","document":{"@type":"document","file_name":"a.pdf","mime_type":"application/pdf","minithumbnail":null,"thumbnail":null,"document":` + fileDone + `},"caption":{"@type":"formattedText","text":"","entities":[]}}`
	voiceMsg    = `{"@type":"messageVoiceNote","voice_note":{"@type":"voiceNote","duration":3,"waveform":"AAA=","mime_type":"audio/ogg","speech_recognition_result":null,"voice":` + fileWaiting + `},"caption":null,"is_listened":false}`
	stickerMsg  = `{"@type":"messageSticker","sticker":{"@type":"sticker","id":"1","set_id":"2","width":512,"height":512,"emoji":"😀","format":{"@type":"stickerFormatWebp"},"full_type":null,"thumbnail":null,"sticker":` + fileDone + `},"is_premium":false}`
	diceMsg     = `{"@type":"messageDice","initial_state":null,"final_state":null,"emoji":"🎲","value":3,"success_animation_frame_number":0}`
	reacted     = `{"@type":"messageInteractionInfo","view_count":0,"forward_count":0,"reply_info":null,"reactions":{"@type":"messageReactions","reactions":[{"@type":"messageReaction","type":{"@type":"reactionTypeEmoji","emoji":"👍"},"total_count":2,"is_chosen":true,"used_sender_id":null,"recent_sender_ids":[]},{"@type":"messageReaction","type":{"@type":"reactionTypeCustomEmoji","custom_emoji_id":"5"},"total_count":1,"is_chosen":false}],"are_tags":false,"paid_reactors":[],"can_get_added_reactions":false}}`
	replyMsg    = strings.Replace(simMessage(3145728, eve, eve, false, "", "a \"quoted\" <reply> \\ é"), `"reply_to":null`, `"reply_to":{"@type":"messageReplyToMessage","chat_id":1001,"message_id":2097152,"quote":null,"origin":null,"origin_send_date":0,"content":null}`, 1)
)

func TestDecodeUsers(t *testing.T) {
	checkAll[tdUser](t,
		simUser(30000000, "Contact", "30000000", "", online(time.Hour), true),
		userJSON(1002, "Dora", "", "dora", "15550001002", `{"@type":"userStatusOffline","was_online":1767225000}`, true, false, photoJSON("4294968297", 5, "")),
		userJSON(1004, "Helper", "Bot", "helper_bot", "", `{"@type":"userStatusRecently","by_my_privacy_settings":false}`, true, true, photoJSON("9", 6, "handle:f-1")),
		`{"@type":"user","id":"5","first_name":"Ünïcode \ud83d\ude00","usernames":{"@type":"usernames","active_usernames":[],"disabled_usernames":["x"],"editable_username":"ed"},"status":null,"profile_photo":null,"type":null}`,
	)
	checkAll[tdFile](t, fileDone, fileWaiting)
	checkAll[tdFullInfo](t, simFullInfo, `{"@type":"userFullInfo","bio":null}`, `{"@type":"userFullInfo","bio":{"@type":"formattedText","text":"Explorer.\nLine two","entities":[]}}`)
	checkAll[tdUserIDs](t, `{"@type":"users","total_count":3,"user_ids":[30000000,30000001,"30000002"]}`, `{"@type":"users","total_count":0,"user_ids":[]}`)
	checkAll[tdChat](t, `{"@type":"chat","id":1001,"type":{"@type":"chatTypePrivate","user_id":1001},"title":"Eve Echo","photo":null,"permissions":{"@type":"chatPermissions","can_send_basic_messages":true}}`,
		`{"@type":"chat","id":-100,"type":{"@type":"chatTypeBasicGroup","basic_group_id":100},"title":"G"}`)
	checkAll[tdError](t, `{"@type":"error","code":400,"message":"PHONE_CODE_INVALID"}`, `{"@type":"error","code":-1,"message":""}`)
	checkAll[tdUserIDs](t, `{"@type":"users","user_ids":null}`)
}

func TestDecodeMessages(t *testing.T) {
	checkAll[tdMessage](t,
		simMessage(1, 30000000, me, true, pendingState, "hello"),
		simMessage(2097152, 30000000, 30000000, false, "", "echo: hello"),
		strings.Replace(simMessage(2097152, eve, eve, false, "", "x"), `"interaction_info":null`, `"interaction_info":`+reacted, 1),
		replyMsg,
		message(final, eve, me, true, `{"@type":"messageSendingStateFailed","error":{"@type":"error","code":400,"message":"X"},"can_retry":false}`, photoMsg),
	)
	checkAll[tdContent](t, textContent("hello <b>"), photoMsg, docMsg, voiceMsg, stickerMsg, diceMsg,
		`{"@type":"messageAnimatedEmoji","animated_emoji":{"@type":"animatedEmoji","sticker":null},"emoji":"❤"}`,
		`{"@type":"messageVideo","video":{"@type":"video","duration":1,"width":2,"height":3,"file_name":"","mime_type":"video/mp4","video":`+fileDone+`},"caption":null}`,
		`{"@type":"messageAnimation","animation":{"@type":"animation","file_name":"a.gif","mime_type":"image/gif","animation":`+fileDone+`}}`,
		`{"@type":"messageAudio","audio":{"@type":"audio","file_name":"s.mp3","mime_type":"audio/mpeg","audio":`+fileDone+`}}`,
		`{"@type":"messageVideoNote","video_note":{"@type":"videoNote","duration":1,"video":`+fileDone+`},"is_viewed":false,"is_secret":false}`,
		`{"@type":"messageContact","contact":{"@type":"contact","phone_number":"1"}}`,
		`{"@type":"messagePhoto","photo":{"@type":"photo","sizes":null}}`,
	)
	checkAll[tdInteraction](t, reacted, `{"@type":"messageInteractionInfo","reactions":null}`)
}

func TestDecodeUpdates(t *testing.T) {
	checkAll[updateNewMessage](t, newMessage(simMessage(2097152, 30000000, 30000000, false, "", "echo: hello")), newMessage(replyMsg))
	checkAll[updateMessageSend](t,
		`{"@type":"updateMessageSendSucceeded","message":`+simMessage(1048576, 30000000, me, true, "", "hello")+`,"old_message_id":1}`,
		`{"@type":"updateMessageSendFailed","message":`+message(temp+2, eve, me, true, `{"@type":"messageSendingStateFailed"}`, textContent("re"))+`,"old_message_id":"1048578","error":{"@type":"error","code":400,"message":"USER_IS_BLOCKED"}}`)
	checkAll[updateUser](t, userUpdate(simUser(30000000, "Contact", "30000000", "", online(time.Hour), true)))
	checkAll[updateUserStatus](t, status(1001, online(time.Minute)), status(1001, `{"@type":"userStatusOffline","was_online":1767225595}`), status(1002, `{"@type":"userStatusEmpty"}`))
	checkAll[updateUserFullInfo](t, `{"@type":"updateUserFullInfo","user_id":1001,"user_full_info":`+simFullInfo+`}`)
	checkAll[updateNewChat](t, `{"@type":"updateNewChat","chat":{"@type":"chat","id":2000,"type":{"@type":"chatTypePrivate","user_id":2000},"title":"Stranger"}}`)
	checkAll[updateMessageContent](t, `{"@type":"updateMessageContent","chat_id":1001,"message_id":2097152,"new_content":`+textContent("edited")+`}`)
	checkAll[updateDeleteMessages](t, `{"@type":"updateDeleteMessages","chat_id":1001,"message_ids":[2097152,3145728],"is_permanent":true,"from_cache":false}`)
	checkAll[updateChatRead](t, `{"@type":"updateChatReadInbox","chat_id":1001,"last_read_inbox_message_id":3145728,"unread_count":0}`,
		`{"@type":"updateChatReadOutbox","chat_id":1001,"last_read_outbox_message_id":2097152}`)
	checkAll[updateChatAction](t, `{"@type":"updateChatAction","chat_id":1001,"message_thread_id":0,"sender_id":{"@type":"messageSenderUser","user_id":1001},"action":{"@type":"chatActionUploadingPhoto","progress":0}}`,
		`{"@type":"updateChatAction","chat_id":1001,"sender_id":{"@type":"messageSenderChat","chat_id":-5},"action":{"@type":"chatActionCancel"}}`)
	checkAll[updateMessageInteractionInfo](t, `{"@type":"updateMessageInteractionInfo","chat_id":1001,"message_id":2097152,"interaction_info":`+reacted+`}`)
	checkAll[updateAuthorizationState](t, authUpdate(`{"@type":"authorizationStateWaitCode","code_info":{"@type":"authenticationCodeInfo","phone_number":"+15550000001","type":{"@type":"authenticationCodeTypeSms","length":5},"next_type":null,"timeout":0}}`))
	checkAll[authState](t, `{"@type":"authorizationStateWaitCode","code_info":{"@type":"authenticationCodeInfo","phone_number":"+15550000001"}}`,
		`{"@type":"authorizationStateWaitPassword","password_hint":"pet's name","has_recovery_email_address":false}`)
	checkAll[updateOption](t, `{"@type":"updateOption","name":"my_id","value":{"@type":"optionValueInteger","value":"9000001"}}`)
	// a string option is not an id: an error, for encoding/json too
	sameAsJSON[updateOption](t, `{"@type":"updateOption","name":"version","value":{"@type":"optionValueString","value":"1.8.40"}}`, false)
}

// The plugin's own JSON: written as encoding/json writes it, read back the same.
func TestContextJSON(t *testing.T) {
	for _, c := range []callCtx{
		{Op: "send"},
		{Op: "chat", X: "x<1>", User: 1001, Chat: -5, Msg: 7, Reply: 9, Handle: "h", Content: json.RawMessage(`{"@type":"inputMessageText"}`),
			Kind: "photo", Name: "a é.png", Mime: "image/png", Caption: "cap\n", Carbon: true, Ready: true, Photo: "42",
			Reacts: []string{"👍", "❤"}, Req: "r1", Query: "@dora", Expires: 1767229200},
		{Op: "react", Reacts: []string{}},
	} {
		want, _ := json.Marshal(c)
		if got := c.raw(); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		checkAll[callCtx](t, string(want))
	}
	for _, p := range []pendingSend{{X: "x1"}, {X: "x\"2", Handle: "f-3"}} {
		want, _ := json.Marshal(p)
		if got := p.appendJSON(nil); string(got) != string(want) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
		checkAll[pendingSend](t, string(want))
	}
}

// Requests are the JSON objects encoding/json made of them as maps.
func TestRequestJSON(t *testing.T) {
	for _, o := range []obj{
		req("getMe"),
		inputText("a \"quoted\" <text> & é\n"),
		req("sendMessage", "chat_id", int64(1001), "message_thread_id", 0, "input_message_content", json.RawMessage(inputText("x").appendJSON(nil))).
			with("reply_to", req("inputMessageReplyToMessage", "message_id", int64(5))),
		req("deleteMessages", "chat_id", int64(1), "message_ids", []int64{2, 3}, "revoke", true),
		req("editMessageText", "reply_markup", nil, "input_message_content", inputText("e")),
		inputFile(&abi.File{Handle: "f-1"}, callCtx{Mime: "image/png", Caption: "c"}),
		req("x", "float", 1.5, "strs", []string{"a"}, "empty", []any{}),
	} {
		var got, want any
		if err := json.Unmarshal(o.appendJSON(nil), &got); err != nil {
			t.Fatalf("%s: %v", o.appendJSON(nil), err)
		}
		m := map[string]any{"@type": o.typ}
		for i := 0; i+1 < len(o.kv); i += 2 {
			m[o.kv[i].(string)] = o.kv[i+1]
		}
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		_ = json.Unmarshal(b, &want)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %s, want %s", o.appendJSON(nil), b)
		}
	}
}

// FuzzDecodeMessage: any input decodes as encoding/json decodes it, without a panic.
func FuzzDecodeMessage(f *testing.F) {
	f.Add(newMessage(replyMsg))
	f.Add(newMessage(message(final, eve, me, true, pendingState, photoMsg)))
	f.Add(`{"@type":"updateNewMessage","message":{"id":"1","ID":2}}`)
	f.Fuzz(func(t *testing.T, in string) {
		sameAsJSON[updateNewMessage](t, in, false)
		sameAsJSON[tdContent](t, in, false)
	})
}
