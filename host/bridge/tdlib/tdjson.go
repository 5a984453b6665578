//go:build libtdjson

package tdlib

/*
#cgo LDFLAGS: -ltdjson
#include <stdlib.h>
#include <string.h>
#include <td/telegram/td_json_client.h>
*/
import "C"

import "unsafe"

// The four functions of libtdjson. td_receive and td_execute return a buffer TDLib reuses at
// the next call on the same thread: both are only called from the receiver's locked thread,
// and the result is copied at once.

func tdCreateClientID() int { return int(C.td_create_client_id()) }

func tdSend(id int, req []byte) {
	cs := C.CString(string(req))
	defer C.free(unsafe.Pointer(cs))
	C.td_send(C.int(id), cs)
}

func tdReceive(timeout float64) []byte {
	r := C.td_receive(C.double(timeout))
	if r == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(r), C.int(C.strlen(r)))
}

func tdExecute(req []byte) []byte {
	cs := C.CString(string(req))
	defer C.free(unsafe.Pointer(cs))
	r := C.td_execute(cs)
	if r == nil {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(r), C.int(C.strlen(r)))
}
