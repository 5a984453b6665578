// Package wasmbench measures the Go SDK's cost per event inside a wasip1 guest under wazero:
// the same benchmark plugin built with the SDK's codec and with encoding/json (tag gw_stdjson).
//
//	go test ./sdk/go/internal/wasmbench -run XXX -bench . -benchtime 2000x
package wasmbench

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest/wasmtest"
)

// nullHost answers every call with {} and records nothing, so that the benchmark measures the
// guest.
type nullHost struct {
	calls int
	reply []byte
}

func (h *nullHost) Call(method string, req []byte) int32 { h.calls++; return 2 }
func (h *nullHost) Result(buf []byte) int32              { return int32(copy(buf, "{}")) }
func (h *nullHost) Reply(b []byte)                       { h.reply = append(h.reply[:0], b...) }
func (h *nullHost) Log(level int32, msg string)          {}

func envelope(typ abi.EventType, chat *abi.Chat, payload any) []byte {
	p, _ := json.Marshal(payload)
	b, _ := json.Marshal(abi.Envelope{Type: typ, Session: "romeo@example.org", Chat: chat, Payload: p})
	return b
}

// text is a realistic message: mostly ASCII, some accents, a quote and a new line.
func text(n int) string {
	const unit = "Hello \"Eve\", how are you? Ça va très bien.\n"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

type codec struct {
	name  string
	flags []string
}

var codecs = []codec{{"sdk", nil}, {"encoding_json", []string{"-tags=gw_stdjson"}}}

func start(b testing.TB, c codec) (*wasmtest.Instance, *nullHost) {
	path := wasmtest.Build(b, "./plugin", c.flags...)
	m := wasmtest.MustLoad(b, path)
	h := &nullHost{}
	inst, err := m.Start(h)
	if err != nil {
		b.Fatal(err)
	}
	for _, ev := range [][]byte{
		envelope(abi.EventInit, nil, abi.Init{Gateway: "bench.example", ABI: "1.0"}),
		envelope(abi.EventLogin, nil, abi.Login{}),
	} {
		if st, err := inst.Event(ev); st != abi.StatusOK || err != nil {
			b.Fatalf("setup: %d %v", st, err)
		}
	}
	return inst, h
}

func events() []struct {
	name string
	env  []byte
} {
	eve := &abi.Chat{ID: "eve", Kind: abi.ChatDirect}
	var out []struct {
		name string
		env  []byte
	}
	add := func(name string, env []byte) {
		out = append(out, struct {
			name string
			env  []byte
		}{name, env})
	}
	add("chat_state", envelope(abi.EventChatState, eve, abi.ChatState{State: abi.StateComposing}))
	for _, n := range []int{16, 1024, 16384} {
		add(fmt.Sprintf("text_%d", n), envelope(abi.EventText, eve, abi.Text{ID: "x1", Text: text(n)}))
	}
	for _, n := range []int{1024, 16384} {
		ev, _ := json.Marshal(map[string]any{"@type": "updateNewMessage", "message": map[string]any{"id": 1, "text": text(n)}})
		add(fmt.Sprintf("bridge_event_%d", n), envelope(abi.EventBridgeEvent, nil, abi.BridgeEvent{Bridge: "telegram", Event: ev}))
	}
	return out
}

func BenchmarkEvent(b *testing.B) {
	for _, c := range codecs {
		inst, h := start(b, c)
		for _, ev := range events() {
			b.Run(c.name+"/"+ev.name, func(b *testing.B) {
				b.SetBytes(int64(len(ev.env)))
				for b.Loop() {
					if st, err := inst.Event(ev.env); st != abi.StatusOK || err != nil {
						b.Fatalf("%d %v", st, err)
					}
				}
			})
		}
		_ = h
		_ = inst.Close()
	}
}

// TestEvents checks that both builds handle the benchmark's events alike.
func TestEvents(t *testing.T) {
	if testing.Short() {
		t.Skip("builds wasm modules")
	}
	for _, c := range codecs {
		inst, h := start(t, c)
		for _, ev := range events() {
			h.calls = 0
			st, err := inst.Event(ev.env)
			if st != abi.StatusOK || err != nil {
				t.Errorf("%s %s: %d %v", c.name, ev.name, st, err)
			}
			want := 0
			if strings.HasPrefix(ev.name, "text") {
				want = 2
			}
			if h.calls != want {
				t.Errorf("%s %s: %d calls", c.name, ev.name, h.calls)
			}
		}
		_ = inst.Close()
	}
}
