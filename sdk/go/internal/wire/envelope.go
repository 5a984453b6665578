// Package wire is the Go SDK's JSON codec for ABI v1: hand-written decoders and encoders (on
// jsonwire) for the envelope and the payloads a plugin handles most, with encoding/json as the
// fallback for everything else. Built with the tag gw_stdjson, every function here uses
// encoding/json instead (for comparison and as an escape hatch).
//
// Why: encoding/json's reflection costs tens of microseconds per event in a wasip1 guest. The
// envelope decodes without allocating, and a payload copies only the strings it hands to the
// plugin.
package wire

import "github.com/xmppgw/gateway/sdk/go/jsonwire"

// ErrSyntax is matched (errors.Is) by every decoding error of this package's own decoders.
var ErrSyntax = jsonwire.ErrSyntax

// SyntaxError says where the input went wrong.
type SyntaxError = jsonwire.SyntaxError

// Envelope is an event envelope as DecodeEnvelope reads it: the strings stay bytes so that the
// SDK can look them up (session, contact) or intern them (type) without allocating.
type Envelope struct {
	Type     []byte
	Session  []byte
	HasChat  bool
	ChatID   []byte
	ChatKind []byte
	Payload  []byte
}
