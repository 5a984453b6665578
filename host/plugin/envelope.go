package plugin

import (
	"unicode/utf8"

	"github.com/xmppgw/gateway/abi"
)

// appendEnvelope appends the abi.Envelope JSON of an event to b, as encoding/json would write it
// (without HTML escaping), with no allocation. payload must be valid JSON or empty.
func appendEnvelope(b []byte, ev abi.EventType, session string, chat *abi.Chat, payload []byte) []byte {
	b = append(b, `{"type":`...)
	b = appendJSONString(b, string(ev))
	if session != "" {
		b = append(b, `,"session":`...)
		b = appendJSONString(b, session)
	}
	if chat != nil {
		b = append(b, `,"chat":{"id":`...)
		b = appendJSONString(b, chat.ID)
		b = append(b, `,"kind":`...)
		b = appendJSONString(b, string(chat.Kind))
		b = append(b, '}')
	}
	if len(payload) > 0 {
		b = append(b, `,"payload":`...)
		b = append(b, payload...)
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes U+FFFD, as in encoding/json.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
