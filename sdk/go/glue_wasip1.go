//go:build wasip1

package gateway

import (
	"unsafe"

	"github.com/xmppgw/gateway/abi"
)

// The Wasm side of ABI v1: the guest exports and the host imports. They live in this package
// (//go:wasmexport works from any package linked into a -buildmode=c-shared module), so a plugin
// only imports it and calls Register from an init function.

// wasmRT is the instance's runtime, set by Register.
var wasmRT *runtime

// Register declares the plugin of this module. Call it once, from an init function of package
// main: a c-shared module runs package initialisers at _initialize but never calls main.
func Register(p Plugin) {
	if wasmRT != nil {
		panic("gateway: Register called twice")
	}
	wasmRT = newRuntime(p, wasmHost{})
}

// Registered returns the plugin given to Register (nil before).
func Registered() Plugin {
	if wasmRT == nil {
		return nil
	}
	return wasmRT.plugin
}

// block is a block handed out by gw_alloc, kept alive until gw_free.
type block struct {
	ptr uint32
	b   []byte
}

// blocks are the live blocks: the host allocates, handles and frees one event at a time, so
// this is a tiny list, searched from the end. A block is never reused: payload slices that
// alias it (json.RawMessage fields) stay valid after the event.
var blocks []block

//go:wasmexport gw_alloc
func gwAlloc(size uint32) uint32 {
	b := make([]byte, max(size, 1))
	p := uint32(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	blocks = append(blocks, block{p, b})
	return p
}

//go:wasmexport gw_free
func gwFree(ptr, size uint32) {
	for i := len(blocks) - 1; i >= 0; i-- {
		if blocks[i].ptr == ptr {
			blocks[i] = blocks[len(blocks)-1]
			blocks[len(blocks)-1] = block{}
			blocks = blocks[:len(blocks)-1]
			return
		}
	}
}

func lookupBlock(ptr uint32) ([]byte, bool) {
	for i := len(blocks) - 1; i >= 0; i-- {
		if blocks[i].ptr == ptr {
			return blocks[i].b, true
		}
	}
	return nil, false
}

//go:wasmexport gw_event
func gwEvent(ptr, size uint32) int32 {
	b, ok := lookupBlock(ptr)
	msg := ""
	switch {
	case !ok || uint32(len(b)) < size:
		msg = "gateway: gw_event: the event is not in a block from gw_alloc"
	case wasmRT == nil:
		msg = "gateway: no plugin: call gateway.Register from an init function of package main"
	default:
		return wasmRT.Event(b[:size])
	}
	wasmHost{}.Log(int32(abi.LogError), msg)
	return int32(abi.StatusError)
}

// gw_abi_v1_0 is the ABI version marker (abi.MarkerPrefix + "1_0"); it is never called.
//
//go:wasmexport gw_abi_v1_0
func gwABIv1_0() {}

//go:wasmimport gateway_v1 call
func hostCall(method *byte, methodLen uint32, req *byte, reqLen uint32) int32

//go:wasmimport gateway_v1 result
func hostResult(ptr *byte, capacity uint32) int32

//go:wasmimport gateway_v1 reply
func hostReply(ptr *byte, size uint32)

//go:wasmimport gateway_v1 log
func hostLog(level int32, ptr *byte, size uint32)

type wasmHost struct{}

func (wasmHost) Call(method string, req []byte) int32 {
	return hostCall(unsafe.StringData(method), uint32(len(method)), unsafe.SliceData(req), uint32(len(req)))
}

func (wasmHost) Result(buf []byte) int32 { return hostResult(unsafe.SliceData(buf), uint32(len(buf))) }

func (wasmHost) Reply(b []byte) { hostReply(unsafe.SliceData(b), uint32(len(b))) }

func (wasmHost) Log(level int32, msg string) {
	hostLog(level, unsafe.StringData(msg), uint32(len(msg)))
}
