package wire

import (
	"encoding/base64"
	"strconv"
	"unsafe"
)

// Encoder appends JSON to B. Members are written with the field methods, which put the comma
// themselves: an object or array is open when B ends with '{' or '['.
type Encoder struct {
	B []byte
	// Start is where the value begins in B: no comma is written before it.
	Start int
}

func (e *Encoder) sep() {
	if n := len(e.B); n > e.Start {
		switch e.B[n-1] {
		case '{', '[', ':':
			return
		}
		e.B = append(e.B, ',')
	}
}

// Open starts an object (as a value or an array element).
func (e *Encoder) Open() { e.sep(); e.B = append(e.B, '{') }

// Close ends an object.
func (e *Encoder) Close() { e.B = append(e.B, '}') }

// OpenArray starts an array.
func (e *Encoder) OpenArray() { e.sep(); e.B = append(e.B, '[') }

// CloseArray ends an array.
func (e *Encoder) CloseArray() { e.B = append(e.B, ']') }

// Key writes a member name (a plain ASCII constant) and its colon.
func (e *Encoder) Key(k string) {
	e.sep()
	e.B = append(e.B, '"')
	e.B = append(e.B, k...)
	e.B = append(e.B, '"', ':')
}

// Str writes a member with a string value.
func (e *Encoder) Str(k, v string) { e.Key(k); e.B = AppendString(e.B, v) }

// StrOmit writes a string member unless v is empty.
func (e *Encoder) StrOmit(k, v string) {
	if v != "" {
		e.Str(k, v)
	}
}

// Int writes an integer member.
func (e *Encoder) Int(k string, v int64) { e.Key(k); e.B = strconv.AppendInt(e.B, v, 10) }

// IntOmit writes an integer member unless v is 0.
func (e *Encoder) IntOmit(k string, v int64) {
	if v != 0 {
		e.Int(k, v)
	}
}

// Bool writes a boolean member.
func (e *Encoder) Bool(k string, v bool) { e.Key(k); e.B = strconv.AppendBool(e.B, v) }

// BoolOmit writes a boolean member unless v is false.
func (e *Encoder) BoolOmit(k string, v bool) {
	if v {
		e.Bool(k, v)
	}
}

// Raw writes a member whose value is JSON text; empty text is written as null.
func (e *Encoder) Raw(k string, v []byte) {
	e.Key(k)
	if len(v) == 0 {
		e.B = append(e.B, "null"...)
		return
	}
	e.B = append(e.B, v...)
}

// RawOmit writes a raw member unless v is empty.
func (e *Encoder) RawOmit(k string, v []byte) {
	if len(v) != 0 {
		e.Raw(k, v)
	}
}

// Strs writes a member with an array of strings (null for nil, as encoding/json does).
func (e *Encoder) Strs(k string, v []string) {
	e.Key(k)
	if v == nil {
		e.B = append(e.B, "null"...)
		return
	}
	e.B = append(e.B, '[')
	for i, s := range v {
		if i > 0 {
			e.B = append(e.B, ',')
		}
		e.B = AppendString(e.B, s)
	}
	e.B = append(e.B, ']')
}

// StrsOmit writes a string array member unless v is empty.
func (e *Encoder) StrsOmit(k string, v []string) {
	if len(v) != 0 {
		e.Strs(k, v)
	}
}

// BytesOmit writes a base64 member unless v is empty.
func (e *Encoder) BytesOmit(k string, v []byte) {
	if len(v) != 0 {
		e.Key(k)
		e.B = append(e.B, '"')
		e.B = base64.StdEncoding.AppendEncode(e.B, v)
		e.B = append(e.B, '"')
	}
}

const hexDigits = "0123456789abcdef"

// AppendString appends s as a JSON string. It escapes what JSON requires ('"', '\\', control
// characters) and replaces invalid UTF-8 with U+FFFD, as encoding/json does; unlike
// encoding/json it leaves '<', '>', '&', U+2028 and U+2029 as they are (valid JSON, and the host
// is no browser).
func AppendString(b []byte, s string) []byte {
	b = append(b, '"')
	p := unsafe.Slice(unsafe.StringData(s), len(s)) // read only
	for len(p) > 0 {
		n, hi := scanString(p)
		if hi {
			b = appendValid(b, p[:n], !validUTF8(p[:n]))
		} else {
			b = append(b, p[:n]...)
		}
		if n == len(p) {
			break
		}
		switch c := p[n]; c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		}
		p = p[n+1:]
	}
	return append(b, '"')
}
