package wire

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
)

// These benchmarks matter most inside Wasm; run them there with
//
//	GOOS=wasip1 GOARCH=wasm go test -c -o wire.wasm ./sdk/go/internal/wire
//	wazero run wire.wasm -test.run XXX -test.bench .

func benchText(n int) string {
	const unit = "Hello \"Eve\", how are you? Ça va très bien.\n"
	return strings.Repeat(unit, n/len(unit)+1)[:n]
}

func BenchmarkCodec(b *testing.B) {
	for _, n := range []int{16, 1024} {
		txt := benchText(n)
		p, _ := json.Marshal(abi.Text{ID: "x1", Text: txt})
		env, _ := json.Marshal(abi.Envelope{Type: abi.EventText, Session: "romeo@example.org", Chat: &abi.Chat{ID: "eve", Kind: abi.ChatDirect}, Payload: p})
		out := &abi.ContactText{MsgMeta: abi.MsgMeta{LegacyID: "eve"}, ID: "e-1", Text: txt}
		name := "text_" + map[int]string{16: "16", 1024: "1k"}[n]
		b.Run("decode_"+name+"/wire", func(b *testing.B) {
			b.SetBytes(int64(len(env)))
			var e Envelope
			var m abi.Text
			for b.Loop() {
				_ = DecodeEnvelope(env, &e)
				_ = UnmarshalEvent(e.Payload, &m)
			}
		})
		b.Run("decode_"+name+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(env)))
			var e abi.Envelope
			var m abi.Text
			for b.Loop() {
				_ = json.Unmarshal(env, &e)
				_ = json.Unmarshal(e.Payload, &m)
			}
		})
		b.Run("encode_"+name+"/wire", func(b *testing.B) {
			b.SetBytes(int64(len(txt)))
			buf := make([]byte, 0, 4096)
			for b.Loop() {
				buf, _ = Append(buf[:0], out)
			}
		})
		b.Run("encode_"+name+"/encoding_json", func(b *testing.B) {
			b.SetBytes(int64(len(txt)))
			for b.Loop() {
				_, _ = json.Marshal(out)
			}
		})
	}
}
