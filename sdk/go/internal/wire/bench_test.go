package wire

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

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

func TestScanners(t *testing.T) {
	for _, s := range []string{"", "abc", "abcdefgh\"", "abcdefghij\\", "a\x01", "abcdefghijklmnop\x1f", "abcdefghé", "\x7f~ !#", "abcdefgh ~~~~~~~~", "ééééééééé\"", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x00"} {
		want, hi := len(s), false
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
				want = i
				break
			} else if c >= 0x80 {
				hi = true
			}
		}
		if got, h := scanString([]byte(s)); got != want || h != hi {
			t.Errorf("scanString(%q) = %d %v, want %d %v", s, got, h, want, hi)
		}
		if got, want := indexByte([]byte(s), '\\'), strings.IndexByte(s, '\\'); got != want {
			t.Errorf("indexByte(%q) = %d, want %d", s, got, want)
		}
		if got, want := validUTF8([]byte(s)), utf8.ValidString(s); got != want {
			t.Errorf("validUTF8(%q) = %v, want %v", s, got, want)
		}
	}
}
