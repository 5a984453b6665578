//go:build wasip1

// Command guest is the test plugin of host/plugin, built in TestMain with
// GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared. It writes the ABI exports by hand (no SDK):
// it answers init, echoes message.text through host calls, and is faulty on purpose: the text
// "panic" panics, "loop" spins forever, "oom" allocates without bound, "sleep" sleeps an hour.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
	"unsafe"

	"github.com/xmppgw/gateway/abi"
)

func main() {}

//go:wasmimport gateway_v1 call
func hostCall(method unsafe.Pointer, methodLen uint32, req unsafe.Pointer, reqLen uint32) int32

//go:wasmimport gateway_v1 result
func hostResult(ptr unsafe.Pointer, capacity uint32) int32

//go:wasmimport gateway_v1 reply
func hostReply(ptr unsafe.Pointer, n uint32)

//go:wasmimport gateway_v1 log
func hostLog(level int32, ptr unsafe.Pointer, n uint32)

//go:wasmexport gw_abi_v1_0
func marker() {}

// The event buffer is reused; anything else is pinned in a map until gw_free.
var (
	scratch      = make([]byte, 4096)
	scratchInUse bool
	pinned       = map[uint32][]byte{}
)

//go:wasmexport gw_alloc
func gwAlloc(size uint32) uint32 {
	if !scratchInUse && int(size) <= len(scratch) {
		scratchInUse = true
		return uint32(uintptr(unsafe.Pointer(&scratch[0])))
	}
	b := make([]byte, size+1)
	p := uint32(uintptr(unsafe.Pointer(&b[0])))
	pinned[p] = b
	return p
}

//go:wasmexport gw_free
func gwFree(ptr, size uint32) {
	if ptr == uint32(uintptr(unsafe.Pointer(&scratch[0]))) {
		scratchInUse = false
		return
	}
	delete(pinned, ptr)
}

var (
	spin uint64
	hog  [][]byte
)

//go:wasmexport gw_event
func gwEvent(ptr, n uint32) int32 {
	data := unsafe.Slice((*byte)(unsafe.Pointer(uintptr(ptr))), n)
	if bytes.HasPrefix(data, []byte(`{"type":"bench.empty"`)) {
		return int32(abi.StatusOK)
	}
	var env abi.Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return fail(abi.CodeBadRequest, err.Error())
	}
	switch env.Type {
	case abi.EventInit:
		var in abi.Init
		if err := json.Unmarshal(env.Payload, &in); err != nil {
			return fail(abi.CodeBadRequest, err.Error())
		}
		var cfg struct {
			FailInit bool `json:"fail_init"`
		}
		_ = json.Unmarshal(in.Config, &cfg)
		if cfg.FailInit {
			return fail(abi.CodeInvalid, "told to fail")
		}
		return reply(abi.InitReply{Name: "Test " + in.Gateway, Features: []string{"echo"}})
	case abi.EventRestored:
		call(abi.CallGatewayMessage, abi.GatewayMessage{Text: "restored"})
		return int32(abi.StatusOK)
	case abi.EventText:
		var t abi.Text
		if err := json.Unmarshal(env.Payload, &t); err != nil {
			return fail(abi.CodeBadRequest, err.Error())
		}
		switch t.Text {
		case "panic":
			panic("boom")
		case "loop":
			for {
				spin++
			}
		case "oom":
			for {
				hog = append(hog, make([]byte, 1<<20))
			}
		case "sleep":
			time.Sleep(time.Hour)
		case "unhandled":
			return int32(abi.StatusUnhandled)
		case "error":
			return fail(abi.CodeNetwork, "the network said no")
		case "badstatus":
			return 7
		case "log":
			msg := "hello from " + env.Session
			hostLog(int32(abi.LogWarn), unsafe.Pointer(unsafe.StringData(msg)), uint32(len(msg)))
			fmt.Println("to stdout")
			fmt.Fprint(os.Stderr, "to stderr, in two ")
			fmt.Fprintln(os.Stderr, "writes")
			return int32(abi.StatusOK)
		case "callerr":
			resp, n := call(abi.CallKVGet, abi.KVKey{Key: "missing"})
			return reply(map[string]any{"n": n, "resp": json.RawMessage(resp)})
		case "unknown":
			resp, n := call("no.such.method", struct{}{})
			return reply(map[string]any{"n": n, "resp": json.RawMessage(resp)})
		}
		var chat string
		if env.Chat != nil {
			chat = env.Chat.ID
		}
		resp, n := call(abi.CallContactText, abi.ContactText{MsgMeta: abi.MsgMeta{LegacyID: chat}, ID: t.ID, Text: t.Text})
		if n < 0 {
			return fail(abi.CodeInternal, string(resp))
		}
		return reply(map[string]any{"echo": t.Text, "session": env.Session, "host": json.RawMessage(resp)})
	case "bench.kib":
		var in struct {
			Data string `json:"data"`
		}
		if err := json.Unmarshal(env.Payload, &in); err != nil {
			return fail(abi.CodeBadRequest, err.Error())
		}
		return reply(struct {
			Data string `json:"data"`
		}{strings.ToUpper(in.Data)})
	case "bench.work":
		// Fixed work without allocation: calls (fib) and a tight loop.
		sum := uint64(fib(22))
		for i := uint64(0); i < 100000; i++ {
			sum += i * i
		}
		spin += sum
		return int32(abi.StatusOK)
	case "bench.calls":
		var in struct {
			N int `json:"n"`
		}
		_ = json.Unmarshal(env.Payload, &in)
		method := string(abi.CallKVGet)
		req := []byte(`{"key":"k"}`)
		buf := make([]byte, 64)
		for i := 0; i < in.N; i++ {
			n := hostCall(unsafe.Pointer(unsafe.StringData(method)), uint32(len(method)), unsafe.Pointer(&req[0]), uint32(len(req)))
			if n > 0 {
				hostResult(unsafe.Pointer(&buf[0]), uint32(len(buf)))
			}
		}
		return int32(abi.StatusOK)
	}
	return int32(abi.StatusUnhandled)
}

func fib(n int) int {
	if n < 2 {
		return n
	}
	return fib(n-1) + fib(n-2)
}

// call makes a host call and returns the pending response and call's result.
func call(method abi.Method, req any) ([]byte, int32) {
	b, _ := json.Marshal(req)
	m := string(method)
	n := hostCall(unsafe.Pointer(unsafe.StringData(m)), uint32(len(m)), unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	size := n
	if n < 0 {
		size = hostResult(nil, 0)
	}
	if size <= 0 {
		return nil, n
	}
	buf := make([]byte, size)
	hostResult(unsafe.Pointer(&buf[0]), uint32(size))
	return buf, n
}

func reply(v any) int32 {
	b, err := json.Marshal(v)
	if err != nil {
		return fail(abi.CodeInternal, err.Error())
	}
	hostReply(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	return int32(abi.StatusOK)
}

func fail(code abi.Code, msg string) int32 {
	b, _ := json.Marshal(abi.ErrorReply{Error: &abi.Error{Code: code, Message: msg}})
	hostReply(unsafe.Pointer(unsafe.SliceData(b)), uint32(len(b)))
	return int32(abi.StatusError)
}
