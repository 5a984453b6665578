package wire

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
