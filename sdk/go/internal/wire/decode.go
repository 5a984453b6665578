// Package wire is the Go SDK's JSON codec for ABI v1: a small hand-written scanner and encoder for
// the envelope and the payloads a plugin handles most, with encoding/json as the fallback for
// everything else. Built with the tag gw_stdjson, every function here uses encoding/json instead
// (for comparison and as an escape hatch).
//
// Why: encoding/json's reflection costs tens of microseconds per event in a wasip1 guest. The
// scanner below decodes the envelope without allocating and copies only the strings a payload
// hands to the plugin.
package wire

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// Decoder reads one JSON value from a byte slice. It stops at the first error (Err); every
// method then returns a zero value, so a decoding loop needs no error checks of its own.
type Decoder struct {
	b     []byte
	i     int
	err   error
	open  bool   // an object or array was just opened: no comma before its first member
	alias bool   // Raw may return a sub-slice of b (else a copy)
	tmp   []byte // scratch for keys with escapes
	key   []byte // the key Field read
}

// NewDecoder returns a decoder over b. With alias set, Raw returns sub-slices of b, so b must
// not be reused while they live.
func NewDecoder(b []byte, alias bool) *Decoder {
	return &Decoder{b: b, alias: alias}
}

func (d *Decoder) reset(b []byte, alias bool) {
	d.b, d.i, d.err, d.open, d.alias = b, 0, nil, false, alias
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// End checks that only white space follows the value.
func (d *Decoder) End() error {
	d.ws()
	if d.err == nil && d.i != len(d.b) {
		d.fail("trailing data")
	}
	return d.err
}

var errSyntax = errors.New("wire: invalid JSON")

// SyntaxError says where the input went wrong.
type SyntaxError struct {
	Offset int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return "wire: invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap lets errors.Is(err, ErrSyntax) match.
func (e *SyntaxError) Unwrap() error { return errSyntax }

// ErrSyntax is matched by every decoding error.
var ErrSyntax = errSyntax

func (d *Decoder) fail(msg string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: d.i, Msg: msg}
	}
	d.i = len(d.b)
}

func (d *Decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// peek returns the next non-space byte, or 0 at the end.
func (d *Decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

// null consumes a null literal if one is next.
func (d *Decoder) null() bool {
	if d.peek() == 'n' {
		d.lit("null")
		return true
	}
	return false
}

func (d *Decoder) lit(s string) {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return
	}
	d.fail("invalid literal")
}

// Object opens an object. It returns false (and consumes it) for null, or on error.
func (d *Decoder) Object() bool {
	switch d.peek() {
	case '{':
		d.i++
		d.open = true
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.fail("expected an object")
	return false
}

// Array opens an array. It returns false (and consumes it) for null, or on error.
func (d *Decoder) Array() bool {
	switch d.peek() {
	case '[':
		d.i++
		d.open = true
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.fail("expected an array")
	return false
}

// Next moves to the next member of the object or array last opened: it returns false after
// consuming the closing bracket. In an object, call Key next.
func (d *Decoder) Next(end byte) bool {
	if d.err != nil {
		return false
	}
	c := d.peek()
	if c == end {
		d.i++
		d.open = false
		return false
	}
	if d.open {
		d.open = false
		if c == 0 {
			d.fail("unexpected end")
			return false
		}
		return true
	}
	if c != ',' {
		d.fail("expected ',' or a closing bracket")
		return false
	}
	d.i++
	d.ws()
	return true
}

// Field moves to the next member of the object last opened and reads its key (Key returns
// it); it returns false at the end of the object. Use it as
//
//	for ok := d.Object(); ok && d.Field(); { switch string(d.Key()) { ... } }
func (d *Decoder) Field() bool {
	if !d.Next('}') {
		return false
	}
	d.key = d.readKey()
	return d.err == nil
}

// lower returns the key read by the last Field in ASCII lower case, so that struct fields match
// keys case-insensitively as with encoding/json (whose Unicode folds of 's' and 'k' are not
// repeated here).
func (d *Decoder) lower() []byte {
	for i, c := range d.key {
		if 'A' <= c && c <= 'Z' {
			if &d.key[0] != unsafeFirst(d.tmp) {
				d.tmp = append(d.tmp[:0], d.key...)
			}
			k := d.tmp[:len(d.key)]
			for j := i; j < len(k); j++ {
				if 'A' <= k[j] && k[j] <= 'Z' {
					k[j] += 'a' - 'A'
				}
			}
			d.key = k
			return k
		}
	}
	return d.key
}

func unsafeFirst(b []byte) *byte {
	if len(b) == 0 {
		return nil
	}
	return &b[0]
}

// Key returns the key read by the last Field; it is valid until the next call.
func (d *Decoder) Key() []byte { return d.key }

// NextElem is Next(']').
func (d *Decoder) NextElem() bool { return d.Next(']') }

// readKey reads an object key and its colon.
func (d *Decoder) readKey() []byte {
	if d.peek() != '"' {
		d.fail("expected a key")
		return nil
	}
	k, flags := d.strBytes(true)
	if flags != 0 {
		d.tmp = unescape(d.tmp[:0], k, flags)
		k = d.tmp
	}
	if d.peek() != ':' {
		d.fail("expected ':'")
		return nil
	}
	d.i++
	return k
}

// String flags, from strBytes.
const (
	strEscaped = 1 << iota // holds escapes
	strInvalid             // holds invalid UTF-8 (checked only when asked)
)

// strBytes reads a string token and returns its raw contents (without quotes) and flags that
// say whether they need unescape (which also repairs invalid UTF-8, as encoding/json does).
// UTF-8 is checked only with check set: a skipped value need not be.
func (d *Decoder) strBytes(check bool) ([]byte, int) {
	d.i++ // opening quote
	start := d.i
	flags, hi := 0, false
	for d.i < len(d.b) {
		n, h := scanString(d.b[d.i:])
		d.i += n
		hi = hi || h
		if d.i >= len(d.b) {
			break
		}
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if check && hi && !validUTF8(s) {
				flags |= strInvalid
			}
			return s, flags
		case c == '\\':
			flags |= strEscaped
			if d.i+1 >= len(d.b) {
				d.i = len(d.b)
				break
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if hex4(d.b[d.i+2:]) < 0 {
					d.fail("invalid escape")
					return nil, 0
				}
				d.i += 6
			default:
				d.fail("invalid escape")
				return nil, 0
			}
		default:
			d.fail("control character in string")
			return nil, 0
		}
	}
	d.fail("unterminated string")
	return nil, 0
}

// unescape appends the decoded form of a string body that strBytes accepted with flags.
func unescape(dst, s []byte, flags int) []byte {
	if flags&strEscaped == 0 {
		return appendValid(dst, s, flags&strInvalid != 0)
	}
	for len(s) > 0 {
		k := indexByte(s, '\\')
		if k < 0 {
			k = len(s)
		}
		dst = appendValid(dst, s[:k], flags&strInvalid != 0)
		s = s[k:]
		if len(s) < 2 {
			break
		}
		switch s[1] {
		case '"', '\\', '/':
			dst = append(dst, s[1])
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'u':
			r := hex4(s[2:])
			s = s[min(6, len(s)):]
			if utf16.IsSurrogate(r) {
				r2 := rune(-1)
				if len(s) >= 6 && s[0] == '\\' && s[1] == 'u' {
					r2 = hex4(s[2:])
				}
				if dec := utf16.DecodeRune(r, r2); dec != utf8.RuneError {
					s = s[6:]
					r = dec
				} else {
					r = utf8.RuneError
				}
			}
			dst = utf8.AppendRune(dst, r)
			continue
		}
		s = s[2:]
	}
	return dst
}

// appendValid appends s, with each invalid UTF-8 byte replaced by U+FFFD when repair is set.
func appendValid(dst, s []byte, repair bool) []byte {
	if !repair {
		return append(dst, s...)
	}
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		if r == utf8.RuneError && n == 1 {
			dst = utf8.AppendRune(dst, utf8.RuneError)
		} else {
			dst = append(dst, s[:n]...)
		}
		s = s[n:]
	}
	return dst
}

func hex4(s []byte) rune {
	if len(s) < 4 {
		return -1
	}
	var r rune
	for _, c := range s[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c = c - 'a' + 10
		case 'A' <= c && c <= 'F':
			c = c - 'A' + 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}

// StrBytes reads a string (or null, as empty) and returns its decoded bytes: a sub-slice of the
// input when it has no escapes, else a fresh slice.
func (d *Decoder) StrBytes() []byte {
	switch d.peek() {
	case '"':
		s, flags := d.strBytes(true)
		if flags != 0 {
			return unescape(make([]byte, 0, len(s)), s, flags)
		}
		return s
	case 'n':
		d.lit("null")
		return nil
	}
	d.fail("expected a string")
	return nil
}

// Str reads a string (or null, as "").
func (d *Decoder) Str() string {
	b := d.StrBytes()
	if len(b) == 0 {
		return ""
	}
	return string(b)
}

// Strs reads an array of strings (or null, as nil).
func (d *Decoder) Strs() []string {
	if !d.Array() {
		return nil
	}
	out := []string{}
	for d.NextElem() {
		out = append(out, d.Str())
	}
	return out
}

// StrMap reads an object of strings (or null, as nil).
func (d *Decoder) StrMap() map[string]string {
	if !d.Object() {
		return nil
	}
	m := map[string]string{}
	for d.Field() {
		k := string(d.key)
		m[k] = d.Str()
	}
	return m
}

// Int reads an integer (or null, as 0).
func (d *Decoder) Int() int64 {
	if d.peek() == 'n' {
		d.lit("null")
		return 0
	}
	start := d.i
	if !d.integer() {
		d.fail("expected an integer")
		return 0
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			d.fail("expected an integer")
			return 0
		}
	}
	v, err := strconv.ParseInt(string(d.b[start:d.i]), 10, 64)
	if err != nil {
		d.fail("integer out of range")
		return 0
	}
	return v
}

// Bool reads true, false or null (as false).
func (d *Decoder) Bool() bool {
	switch d.peek() {
	case 't':
		d.lit("true")
		return true
	case 'f':
		d.lit("false")
	case 'n':
		d.lit("null")
	default:
		d.fail("expected a boolean")
	}
	return false
}

// Raw reads any value and returns its JSON text ("null" included, as encoding/json does for a
// json.RawMessage field).
func (d *Decoder) Raw() []byte {
	d.ws()
	start := d.i
	d.Skip()
	if d.err != nil {
		return nil
	}
	r := d.b[start:d.i]
	if !d.alias {
		r = append([]byte(nil), r...)
	}
	return r
}

// Skip reads and discards any value.
func (d *Decoder) Skip() {
	switch d.peek() {
	case '{':
		d.i++
		d.open = true
		for d.Next('}') {
			d.readKey()
			d.Skip()
		}
	case '[':
		d.i++
		d.open = true
		for d.Next(']') {
			d.Skip()
		}
	case '"':
		d.strBytes(false)
	case 't':
		d.lit("true")
	case 'f':
		d.lit("false")
	case 'n':
		d.lit("null")
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		d.number()
	default:
		d.fail("expected a value")
	}
}

// number reads a number whose value is not wanted (Skip's).
func (d *Decoder) number() {
	if !d.integer() {
		d.fail("invalid number")
		return
	}
	if d.i < len(d.b) && d.b[d.i] == '.' {
		d.i++
		if !d.digits() {
			d.fail("invalid number")
			return
		}
	}
	if d.i < len(d.b) && (d.b[d.i] == 'e' || d.b[d.i] == 'E') {
		d.i++
		if d.i < len(d.b) && (d.b[d.i] == '+' || d.b[d.i] == '-') {
			d.i++
		}
		if !d.digits() {
			d.fail("invalid number")
		}
	}
}

// integer reads the integer part of a number: an optional minus sign, then digits with no
// leading zero. It reports whether they were there.
func (d *Decoder) integer() bool {
	if d.i < len(d.b) && d.b[d.i] == '-' {
		d.i++
	}
	start := d.i
	return d.digits() && (d.b[start] != '0' || d.i-start == 1)
}

// digits reads decimal digits and reports whether there was at least one.
func (d *Decoder) digits() bool {
	start := d.i
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	return d.i > start
}
