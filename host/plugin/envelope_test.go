package plugin

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/xmppgw/gateway/abi"
)

func TestAppendEnvelope(t *testing.T) {
	for _, tt := range []struct {
		ev      abi.EventType
		session string
		chat    *abi.Chat
		payload string
	}{
		{ev: abi.EventInit, payload: `{"gateway":"x"}`},
		{ev: abi.EventText, session: "a@b", chat: &abi.Chat{ID: "42", Kind: abi.ChatDirect}, payload: `{"text":"hi"}`},
		{ev: abi.EventLogout, session: "quote\" back\\ nl\n tab\t ctl\x01 uni é 😀 sep\u2028"},
		{ev: abi.EventText, session: "bad utf8 \xff\xfe end", chat: &abi.Chat{ID: "<&>"}},
	} {
		got := appendEnvelope(nil, tt.ev, tt.session, tt.chat, []byte(tt.payload))
		env := abi.Envelope{Type: tt.ev, Session: tt.session, Chat: tt.chat}
		if tt.payload != "" {
			env.Payload = json.RawMessage(tt.payload)
		}
		want, _ := json.Marshal(env)
		var a, b any
		if err := json.Unmarshal(got, &a); err != nil {
			t.Fatalf("%s: %v", got, err)
		}
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

func TestAppendEnvelopeAllocs(t *testing.T) {
	buf := make([]byte, 0, 256)
	chat := &abi.Chat{ID: "42", Kind: abi.ChatDirect}
	payload := []byte(`{"text":"hi"}`)
	if n := testing.AllocsPerRun(100, func() {
		buf = appendEnvelope(buf[:0], abi.EventText, "a@b", chat, payload)
	}); n != 0 {
		t.Errorf("%v allocations", n)
	}
}

func ExampleCrashError() {
	err := &CrashError{Plugin: "telegram", Session: "a@example.org", Event: abi.EventText, Cause: ErrTimeout,
		Err: fmt.Errorf("wasm error: unreachable\nwasm stack trace: ...")}
	fmt.Println(err)
	// Output: plugin[telegram] event[message.text] session[a@example.org]: event deadline exceeded: wasm error: unreachable
}
