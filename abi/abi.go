// Package abi defines ABI v1 between the gateway host and its WebAssembly plugins: the names of
// the Wasm imports and exports, the status and error codes, and the JSON payload of every event
// (host -> plugin) and every host call (plugin -> host).
//
// The normative text is README.md in this folder; these types are its Go form, shared by the host
// and the Go SDK. This package imports only the standard library.
package abi

// Version of the ABI this package describes. A module declares the version it speaks with the
// marker export MarkerPrefix + "<major>_<minor>", e.g. "gw_abi_v1_0".
const (
	Major = 1
	Minor = 0
)

// ImportModule is the Wasm import module name of every host function of ABI v1.
const ImportModule = "gateway_v1"

// MarkerPrefix starts the name of the version marker export, a function () -> () never called.
const MarkerPrefix = "gw_abi_v"

// Guest exports.
const (
	// ExportAlloc is alloc(size i32) -> ptr i32: the host asks the guest for size bytes to write an
	// event into. The guest owns the block; the host frees it with ExportFree after the call.
	ExportAlloc = "gw_alloc"
	// ExportFree is free(ptr i32, size i32): releases a block from ExportAlloc.
	ExportFree = "gw_free"
	// ExportEvent is event(ptr i32, len i32) -> status i32: handles one event envelope (JSON).
	ExportEvent = "gw_event"
	// ExportInitialize is the WASI reactor initialiser, called once per instance when exported.
	ExportInitialize = "_initialize"
)

// Host imports, all in ImportModule.
const (
	// ImportCall is call(method_ptr, method_len, req_ptr, req_len i32) -> i32. It performs a host
	// call. A result >= 0 is the length of the response now pending; a result < 0 is the negated
	// error Code, and the pending response is an ErrorReply.
	ImportCall = "call"
	// ImportResult is result(ptr, cap i32) -> i32: copies up to cap bytes of the pending response
	// into guest memory at ptr and returns the full length of the pending response.
	ImportResult = "result"
	// ImportReply is reply(ptr, len i32): sets the JSON reply of the event being handled (for the
	// events that have one, such as EventInit or EventJIDToLegacy). The host copies it at once.
	ImportReply = "reply"
	// ImportLog is log(level i32, ptr, len i32): writes a UTF-8 line to the gateway's log.
	ImportLog = "log"
)

// Status is what ExportEvent returns.
type Status int32

const (
	// StatusOK means the event was handled; its reply, if any, was given with ImportReply.
	StatusOK Status = 0
	// StatusUnhandled means the plugin does not implement this event: the host applies its
	// default (README.md, "Defaults") or, for an unknown event, ignores and reports it.
	StatusUnhandled Status = 1
	// StatusError means the plugin failed to handle the event; its reply is an ErrorReply.
	StatusError Status = 2
)

// LogLevel is the level argument of ImportLog; the values are those of log/slog.
type LogLevel int32

// Log levels.
const (
	LogDebug LogLevel = -4
	LogInfo  LogLevel = 0
	LogWarn  LogLevel = 4
	LogError LogLevel = 8
)
