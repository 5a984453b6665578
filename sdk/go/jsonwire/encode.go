package jsonwire

import (
	"encoding/base64"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// Encoder appends JSON to B. Members are written with the field methods, which put the comma
// themselves: an object or array is open when B ends with '{' or '['.
type Encoder struct {
	// B is the output so far.
	B []byte
	// Start is where the value begins in B: no comma is written before it.
	Start int
	// HTML makes strings come out as encoding/json's Marshal writes them (AppendHTMLString),
	// for output compared with encoding/json's byte for byte.
	HTML bool
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

// String writes a string value: an array element, or a member's after Key.
func (e *Encoder) String(v string) { e.sep(); e.str(v) }

func (e *Encoder) str(v string) {
	if e.HTML {
		e.B = AppendHTMLString(e.B, v)
	} else {
		e.B = AppendString(e.B, v)
	}
}

// Str writes a member with a string value.
func (e *Encoder) Str(k, v string) { e.Key(k); e.str(v) }

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
	for _, s := range v {
		e.String(s)
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
// encoding/json it leaves '<', '>', '&', U+2028 and U+2029 as they are (valid JSON, for
// readers that are no browser).
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
		b = appendEscape(b, p[n])
		p = p[n+1:]
	}
	return append(b, '"')
}

// AppendHTMLString appends s as a JSON string exactly as encoding/json's Marshal writes it:
// as AppendString, but with '<', '>', '&', U+2028 and U+2029 escaped, and invalid UTF-8 as
// the escape \ufffd.
func AppendHTMLString(b []byte, s string) []byte {
	b = append(b, '"')
	start, i := 0, 0
	for i < len(s) {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = appendEscape(append(b, s[start:i]...), c)
			i++
			start = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(append(b, s[start:i]...), `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(append(b, s[start:i]...), '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendEscape appends the escape of an ASCII byte that a JSON string may not hold as it is.
func appendEscape(b []byte, c byte) []byte {
	switch c {
	case '"', '\\':
		return append(b, '\\', c)
	case '\b':
		return append(b, '\\', 'b')
	case '\f':
		return append(b, '\\', 'f')
	case '\n':
		return append(b, '\\', 'n')
	case '\r':
		return append(b, '\\', 'r')
	case '\t':
		return append(b, '\\', 't')
	}
	return append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
}
