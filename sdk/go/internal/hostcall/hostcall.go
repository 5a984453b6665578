// Package hostcall is the seam between the Go SDK and whatever runs it: the Wasm imports of ABI
// v1 under wasip1, or a Go fake host (package sdktest) on any other GOOS.
package hostcall

// Host is the host side of ABI v1 as the guest sees it: the four imports of module
// "gateway_v1", with Go slices for (ptr, len) pairs.
type Host interface {
	// Call performs a host call: >= 0 is the length of the pending response, < 0 a negated
	// abi.Code (the pending response is then an abi.ErrorReply).
	Call(method string, req []byte) int32
	// Result copies up to len(buf) bytes of the pending response into buf and returns its full
	// length.
	Result(buf []byte) int32
	// Reply sets the reply of the event being handled; the host copies it at once.
	Reply(b []byte)
	// Log writes a line to the gateway's log.
	Log(level int32, msg string)
}

// Instance is one plugin instance: it handles event envelopes as gw_event does.
type Instance interface {
	Event(env []byte) int32
}

// NewInstance builds an in-process instance of plugin (a gateway.Plugin) whose host calls go to
// h. Package gateway sets it in its init, so that sdktest can drive a plugin without Wasm.
var NewInstance func(plugin any, h Host) Instance
