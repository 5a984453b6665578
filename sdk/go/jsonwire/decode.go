// Package jsonwire reads and writes JSON without reflection: a Decoder that walks an object's
// members in order and decodes only the values asked for, and an Encoder that appends members
// to a byte slice. The Go SDK decodes the ABI's events with it; a plugin can decode its
// network's JSON with it as cheaply (in a wasip1 guest, encoding/json's reflection costs tens
// of microseconds per event).
//
// Strings decode and encode as encoding/json's do. Keys are compared by the caller: LowerKey
// matches them without regard to ASCII case, as encoding/json matches struct fields, and a
// Strict decoder fails on any key that encoding/json might match to a field in a way an exact
// comparison does not, so that its caller can fall back to encoding/json on any error.
package jsonwire

import (
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// Mode changes how a Decoder reads.
type Mode uint8

const (
	// Alias makes Raw return sub-slices of the input, not copies: the input must then not
	// be reused while they live.
	Alias Mode = 1 << iota
	// Strict makes Field fail on a key with escapes or bytes beyond ASCII, and Skip fail on
	// a key with upper case letters: encoding/json might match those to a field.
	Strict
)

// maxDepth bounds the nesting of skipped values, as encoding/json bounds all values.
const maxDepth = 10000

// Decoder reads one JSON value from a byte slice. It stops at the first error (Err); every
// method then returns a zero value, so a decoding loop needs no error checks of its own:
//
//	d := jsonwire.NewDecoder(b, 0)
//	for ok := d.Object(); ok && d.Field(); {
//		switch string(d.Key()) {
//		case "id":
//			v.ID = d.Int()
//		default:
//			d.Skip()
//		}
//	}
//	err := d.End()
type Decoder struct {
	b    []byte
	i    int
	err  error
	open bool // an object or array was just opened: no comma before its first member
	mode Mode
	tmp  []byte // scratch for keys with escapes or upper case
	key  []byte // the key Field read
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte, m Mode) Decoder {
	return Decoder{b: b, mode: m}
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// End checks that only white space follows the value, and returns the first error.
func (d *Decoder) End() error {
	d.ws()
	if d.err == nil && d.i != len(d.b) {
		d.Fail("trailing data")
	}
	return d.err
}

var errSyntax = errors.New("jsonwire: invalid JSON")

// ErrSyntax is matched (errors.Is) by every decoding error.
var ErrSyntax = errSyntax

// SyntaxError says where the input went wrong.
type SyntaxError struct {
	Offset int    // of the byte where reading stopped
	Msg    string // what was expected or found there
}

// Error says where the input went wrong and how.
func (e *SyntaxError) Error() string {
	return "jsonwire: invalid JSON at offset " + strconv.Itoa(e.Offset) + ": " + e.Msg
}

// Unwrap lets errors.Is(err, ErrSyntax) match.
func (e *SyntaxError) Unwrap() error { return errSyntax }

// Fail stops the decoder with a SyntaxError at the current offset, unless it has stopped
// already. Callers use it for valid JSON that is not what they read.
func (d *Decoder) Fail(msg string) {
	d.failAt(d.i, msg)
}

func (d *Decoder) failAt(i int, msg string) {
	if d.err == nil {
		d.err = &SyntaxError{Offset: i, Msg: msg}
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

// skipWS returns the index of the first byte at or after i in b that is not white space.
func skipWS(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	return i
}

// peek returns the next non-space byte, or 0 at the end.
func (d *Decoder) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *Decoder) lit(s string) {
	if len(d.b)-d.i >= len(s) && string(d.b[d.i:d.i+len(s)]) == s {
		d.i += len(s)
		return
	}
	d.Fail("invalid literal")
}

// Null consumes a null if one is next and reports whether it did: encoding/json leaves a
// value as it is for null, and pointers nil.
func (d *Decoder) Null() bool {
	if d.peek() == 'n' {
		d.lit("null")
		return true
	}
	return false
}

// Object opens an object. It returns false (and consumes it) for null, or on error.
func (d *Decoder) Object() bool { return d.begin('{', "expected an object") }

// Array opens an array. It returns false (and consumes it) for null, or on error.
func (d *Decoder) Array() bool { return d.begin('[', "expected an array") }

func (d *Decoder) begin(c byte, msg string) bool {
	switch d.peek() {
	case c:
		d.i++
		d.open = true
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.Fail(msg)
	return false
}

// Elem moves to the next element of the array last opened; it returns false after consuming
// the closing bracket. Every element must then be read, by a value method or Skip.
func (d *Decoder) Elem() bool {
	if d.err != nil {
		return false
	}
	c := d.peek()
	if c == ']' {
		d.i++
		d.open = false
		return false
	}
	if d.open {
		d.open = false
		if c == 0 {
			d.Fail("unexpected end")
			return false
		}
		return true
	}
	if c != ',' {
		d.Fail("expected ',' or ']'")
		return false
	}
	d.i++
	return true
}

// Field moves to the next member of the object last opened and reads its key (Key returns
// it); it returns false after consuming the closing brace. Every member's value must then be
// read, by a value method or Skip.
func (d *Decoder) Field() bool {
	// the comma, the key and the colon in one function: calls cost much in a wasip1 guest
	if d.err != nil {
		return false
	}
	b := d.b
	i := skipWS(b, d.i)
	if i < len(b) && b[i] == '}' {
		d.i, d.open = i+1, false
		return false
	}
	if !d.open {
		if i >= len(b) || b[i] != ',' {
			d.failAt(i, "expected ',' or '}'")
			return false
		}
		i = skipWS(b, i+1)
	}
	d.open = false
	if i >= len(b) || b[i] != '"' {
		d.failAt(i, "expected a key")
		return false
	}
	n, hi := scanString(b[i+1:])
	if j := i + 1 + n; !hi && j < len(b) && b[j] == '"' {
		d.key = b[i+1 : j]
		i = j + 1
	} else {
		if d.mode&Strict != 0 {
			d.failAt(i, "key with escapes or bytes beyond ASCII")
			return false
		}
		d.i = i
		k, flags := d.strBytes(true)
		if d.err != nil {
			return false
		}
		if flags != 0 {
			d.tmp = unescape(d.tmp[:0], k, flags)
			k = d.tmp
		}
		d.key = k
		i = d.i
	}
	i = skipWS(b, i)
	if i >= len(b) || b[i] != ':' {
		d.failAt(i, "expected ':'")
		return false
	}
	d.i = i + 1
	return true
}

// Key returns the key read by the last Field; it is valid until the next Field.
func (d *Decoder) Key() []byte { return d.key }

// LowerKey returns Key in ASCII lower case, to match keys without regard to case as
// encoding/json matches struct fields (its folds of 'ſ' into 's' and 'K' into 'k' aside).
func (d *Decoder) LowerKey() []byte {
	for i, c := range d.key {
		if 'A' <= c && c <= 'Z' {
			if len(d.tmp) == 0 || &d.key[0] != &d.tmp[0] {
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

// String flags, from strBytes.
const (
	strEscaped = 1 << iota // holds escapes
	strInvalid             // holds invalid UTF-8 (checked only when asked)
)

// strBytes reads a string token and returns its raw contents (without quotes) and flags that
// say whether they need unescape (which also repairs invalid UTF-8, as encoding/json does).
// UTF-8 is checked only with check set.
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
					d.Fail("invalid escape")
					return nil, 0
				}
				d.i += 6
			default:
				d.Fail("invalid escape")
				return nil, 0
			}
		default:
			d.Fail("control character in string")
			return nil, 0
		}
	}
	d.Fail("unterminated string")
	return nil, 0
}

// strEnd returns the index after the string whose contents start at b[i], or -1 if it is not
// a valid string.
func strEnd(b []byte, i int) int {
	for i < len(b) {
		n, _ := scanString(b[i:])
		i += n
		if i >= len(b) {
			break
		}
		switch b[i] {
		case '"':
			return i + 1
		case '\\':
			if i+1 >= len(b) {
				return -1
			}
			switch b[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if hex4(b[i+2:]) < 0 {
					return -1
				}
				i += 6
			default:
				return -1
			}
		default: // a control character
			return -1
		}
	}
	return -1
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
	d.Fail("expected a string")
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
	for d.Elem() {
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

// Int reads an integer (or null, as 0). A fraction, an exponent or a value beyond int64 stops
// the decoder, as they make encoding/json fail.
func (d *Decoder) Int() int64 {
	if d.peek() == 'n' {
		d.lit("null")
		return 0
	}
	start := d.i
	if !d.integer() {
		d.Fail("expected an integer")
		return 0
	}
	if d.i < len(d.b) {
		switch d.b[d.i] {
		case '.', 'e', 'E':
			d.Fail("expected an integer")
			return 0
		}
	}
	return d.parseInt(d.b[start:d.i])
}

// IntOrString reads an integer written as a number or as a string (as APIs write 64-bit ids
// that JavaScript cannot hold): null and "" read as 0, and a string with escapes or that
// strconv.ParseInt does not read stops the decoder.
func (d *Decoder) IntOrString() int64 {
	if d.peek() != '"' {
		return d.Int()
	}
	s, flags := d.strBytes(true)
	if d.err != nil || len(s) == 0 {
		return 0
	}
	if flags != 0 {
		d.Fail("expected an integer in a string")
		return 0
	}
	return d.parseInt(s)
}

func (d *Decoder) parseInt(b []byte) int64 {
	v, err := strconv.ParseInt(unsafe.String(unsafe.SliceData(b), len(b)), 10, 64)
	if err != nil {
		d.Fail("invalid integer")
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
		d.Fail("expected a boolean")
	}
	return false
}

// Raw reads any value and returns its JSON text ("null" included, as encoding/json does for a
// json.RawMessage field): a copy, or with Alias a sub-slice of the input.
func (d *Decoder) Raw() []byte {
	d.ws()
	start := d.i
	d.skip()
	if d.err != nil {
		return nil
	}
	r := d.b[start:d.i]
	if d.mode&Alias == 0 {
		r = append([]byte(nil), r...)
	}
	return r
}

// Skip reads and discards any value, checking its syntax as encoding/json does. In Strict
// mode, the value of a member whose key has upper case letters stops the decoder.
func (d *Decoder) Skip() {
	if d.mode&Strict != 0 {
		for _, c := range d.key {
			if c-'A' < 26 {
				d.Fail("unread member with upper case in its key")
				return
			}
		}
	}
	d.skip()
}

// States of skip.
const (
	skipValue = iota // a value comes next
	skipAfter        // a value was read
	skipKey          // a key comes next
	skipColon        // a key was read
)

// skip reads and discards any value. It is one loop (calls cost much in a wasip1 guest) over
// a state and a stack of the containers open.
func (d *Decoder) skip() {
	if d.err != nil {
		return
	}
	b, i := d.b, d.i
	var buf [32]byte
	stack := buf[:0]
	st := skipValue
	for {
		if st == skipAfter && len(stack) == 0 {
			d.i = i
			return
		}
		i = skipWS(b, i)
		if i >= len(b) {
			break
		}
		c := b[i]
		switch st {
		case skipAfter:
			top := stack[len(stack)-1]
			switch {
			case c == ',':
				i++
				st = skipValue
				if top == '{' {
					st = skipKey
				}
				continue
			case c == '}' && top == '{', c == ']' && top == '[':
				i++
				stack = stack[:len(stack)-1]
				continue
			}
		case skipColon:
			if c == ':' {
				i++
				st = skipValue
				continue
			}
		case skipKey:
			if c == '"' {
				if j := strEnd(b, i+1); j >= 0 {
					i, st = j, skipColon
					continue
				}
			}
		default: // skipValue
			switch {
			case c == '"':
				if j := strEnd(b, i+1); j >= 0 {
					i, st = j, skipAfter
					continue
				}
			case c == '{', c == '[':
				if len(stack) >= maxDepth {
					break
				}
				stack = append(stack, c)
				i = skipWS(b, i+1)
				switch {
				case i < len(b) && (c == '{' && b[i] == '}' || c == '[' && b[i] == ']'):
					i++
					stack = stack[:len(stack)-1]
					st = skipAfter
				case c == '{':
					st = skipKey
				}
				continue
			case c == 't':
				if len(b)-i >= 4 && string(b[i:i+4]) == "true" {
					i, st = i+4, skipAfter
					continue
				}
			case c == 'f':
				if len(b)-i >= 5 && string(b[i:i+5]) == "false" {
					i, st = i+5, skipAfter
					continue
				}
			case c == 'n':
				if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
					i, st = i+4, skipAfter
					continue
				}
			case c == '-' || '0' <= c && c <= '9':
				if j := numEnd(b, i); j >= 0 {
					i, st = j, skipAfter
					continue
				}
			}
		}
		break
	}
	d.failAt(i, "invalid value")
}

// numEnd returns the index after the number at b[i], or -1 if it is not a valid number.
func numEnd(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	if i < len(b) && b[i] == '0' {
		i++
	} else if i = digits(b, i); i < 0 {
		return -1
	}
	if i < len(b) && b[i] == '.' {
		if i = digits(b, i+1); i < 0 {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if i = digits(b, i); i < 0 {
			return -1
		}
	}
	return i
}

// digits returns the index after the decimal digits at b[i], or -1 if there are none.
func digits(b []byte, i int) int {
	start := i
	for i < len(b) && '0' <= b[i] && b[i] <= '9' {
		i++
	}
	if i == start {
		return -1
	}
	return i
}

// integer reads the integer part of a number: an optional minus sign, then digits with no
// leading zero. It reports whether they were there.
func (d *Decoder) integer() bool {
	i := d.i
	if i < len(d.b) && d.b[i] == '-' {
		i++
	}
	start := i
	if i = digits(d.b, i); i < 0 || d.b[start] == '0' && i-start > 1 {
		return false
	}
	d.i = i
	return true
}
