//go:build gw_stdjson

package wire

import (
	"encoding/json"
	"errors"

	"github.com/xmppgw/gateway/abi"
)

// Std reports whether this build uses encoding/json for everything (tag gw_stdjson).
const Std = true

// DecodeEnvelope reads an event envelope with encoding/json.
func DecodeEnvelope(b []byte, env *Envelope) error {
	var e *abi.Envelope
	if err := json.Unmarshal(b, &e); err != nil {
		return err
	}
	if e == nil {
		return errors.New("wire: null envelope")
	}
	*env = Envelope{Type: bytesOf(string(e.Type)), Session: bytesOf(e.Session), Payload: e.Payload}
	if e.Chat != nil {
		env.HasChat = true
		env.ChatID = bytesOf(e.Chat.ID)
		env.ChatKind = bytesOf(string(e.Chat.Kind))
	}
	return nil
}

func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

// UnmarshalEvent decodes an event payload with encoding/json.
func UnmarshalEvent(b []byte, v any) error { return json.Unmarshal(b, v) }

// Unmarshal decodes with encoding/json.
func Unmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Append appends v as JSON with encoding/json.
func Append(b []byte, v any) ([]byte, error) {
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}
