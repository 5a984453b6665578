// Package tdjson reads and writes TDLib's JSON without reflection: a scanner that walks an
// object's members in order and decodes only the values asked for, and appenders for
// requests. In a wasip1 guest under wazero it decodes a 1 KiB TDLib message in about a sixth
// of encoding/json's time.
//
// The decoder is strict: it fails on anything that encoding/json would read differently (a
// string with escapes or invalid UTF-8 aside, which it hands to encoding/json), so that a
// caller can fall back to encoding/json on any error and get exactly its result.
package tdjson

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"strconv"
	"unicode/utf8"
	"unsafe"
)

// ErrSyntax is the error of every input the decoder does not read.
var ErrSyntax = errors.New("tdjson: input not read")

// maxDepth bounds the nesting of skipped values (encoding/json allows 10000).
const maxDepth = 10000

// Decoder reads one JSON value from a byte slice. After the first error every method is a
// no-op that returns a zero value, so decoding code needs no error checks of its own; Err
// (or End) tells at the end.
type Decoder struct {
	b    []byte
	i    int
	err  error
	open bool   // an object or array was just opened: no comma before its first member
	key  []byte // the key read by the last Field
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) Decoder { return Decoder{b: b} }

// Err returns the first error, or nil.
func (d *Decoder) Err() error { return d.err }

// End checks that only white space follows the value, and returns the first error.
func (d *Decoder) End() error {
	d.ws()
	if d.err == nil && d.i != len(d.b) {
		d.Fail()
	}
	return d.err
}

// Fail stops the decoder with ErrSyntax.
func (d *Decoder) Fail() {
	if d.err == nil {
		d.err = ErrSyntax
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

// peek returns the next byte that is not white space, or 0 at the end.
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
	d.Fail()
}

// Null consumes a null if one is next.
func (d *Decoder) Null() bool {
	if d.err == nil && d.peek() == 'n' {
		d.lit("null")
		return d.err == nil
	}
	return false
}

// Object opens an object: false for null (consumed) and on error (anything else is one).
func (d *Decoder) Object() bool {
	if d.err != nil {
		return false
	}
	switch d.peek() {
	case '{':
		d.i++
		d.open = true
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.Fail()
	return false
}

// Array opens an array: false for null (consumed) and on error.
func (d *Decoder) Array() bool {
	if d.err != nil {
		return false
	}
	switch d.peek() {
	case '[':
		d.i++
		d.open = true
		return true
	case 'n':
		d.lit("null")
		return false
	}
	d.Fail()
	return false
}

// next moves to the next member of the object or array last opened; false after its end.
func (d *Decoder) next(end byte) bool {
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
			d.Fail()
			return false
		}
		return true
	}
	if c != ',' {
		d.Fail()
		return false
	}
	d.i++
	return true
}

// Field moves to the next member of the object last opened and reads its key (Key); false
// at the end of the object. Every member's value must then be read, by a value method or
// Skip:
//
//	if d.Object() {
//		for d.Field() {
//			switch string(d.Key()) {
//			case "id":
//				d.ID(&v.ID)
//			default:
//				d.Skip()
//			}
//		}
//	}
//
// A key with escapes or non-ASCII bytes stops the decoder (encoding/json matches keys without
// regard to case, and so might match it to a field).
func (d *Decoder) Field() bool {
	// next('}') and the key, in one function: calls cost much in a wasip1 guest
	if d.err != nil {
		return false
	}
	b, i := d.b, d.i
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	if i < len(b) && b[i] == '}' {
		d.i, d.open = i+1, false
		return false
	}
	if !d.open {
		if i >= len(b) || b[i] != ',' {
			d.Fail()
			return false
		}
		i++
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
	}
	d.open = false
	if i >= len(b) || b[i] != '"' {
		d.Fail()
		return false
	}
	i++
	start := i
	n, hi := scanString(b[i:])
	i += n
	if hi || i >= len(b) || b[i] != '"' {
		d.Fail()
		return false
	}
	d.key = b[start:i]
	i++
	for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
		i++
	}
	if i >= len(b) || b[i] != ':' {
		d.Fail()
		return false
	}
	d.i = i + 1
	return true
}

// Elem moves to the next element of the array last opened; false at its end.
func (d *Decoder) Elem() bool { return d.next(']') }

// Key returns the key read by the last Field (valid until the next Field).
func (d *Decoder) Key() []byte { return d.key }

// str reads a string token and returns its contents (without the quotes), and whether they
// are plain: no escapes, valid UTF-8.
func (d *Decoder) str() ([]byte, bool) {
	d.i++ // the opening quote
	start := d.i
	plain, hi := true, false
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
			if hi && !utf8.Valid(s) {
				plain = false
			}
			return s, plain
		case c == '\\':
			plain = false
			if d.i+1 >= len(d.b) {
				d.Fail()
				return nil, false
			}
			switch d.b[d.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i += 2
			case 'u':
				if !hex4(d.b[d.i+2:]) {
					d.Fail()
					return nil, false
				}
				d.i += 6
			default:
				d.Fail()
				return nil, false
			}
		default: // a control character
			d.Fail()
			return nil, false
		}
	}
	d.Fail()
	return nil, false
}

func hex4(s []byte) bool {
	if len(s) < 4 {
		return false
	}
	for _, c := range s[:4] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// String reads a string into *v; null leaves *v as it is (as encoding/json does).
func (d *Decoder) String(v *string) {
	switch d.peek() {
	case '"':
		start := d.i
		s, plain := d.str()
		if d.err != nil {
			return
		}
		if plain {
			*v = string(s)
			return
		}
		// escapes or invalid UTF-8: encoding/json's own unquoting
		if json.Unmarshal(d.b[start:d.i], v) != nil {
			d.Fail()
		}
	case 'n':
		d.lit("null")
	default:
		d.Fail()
	}
}

// Strings reads an array of strings into *v (null: nil).
func (d *Decoder) Strings(v *[]string) {
	if !d.Array() {
		if d.err == nil {
			*v = nil
		}
		return
	}
	out := []string{}
	for d.Elem() {
		var s string
		d.String(&s)
		out = append(out, s)
	}
	if d.err == nil {
		*v = out
	}
}

// number reads a number token and returns it.
func (d *Decoder) number() []byte {
	start := d.i
	end := numEnd(d.b, d.i)
	if end < 0 {
		d.Fail()
		return nil
	}
	d.i = end
	return d.b[start:end]
}

// parseInt parses a decimal integer without allocating.
func parseInt(b []byte) (int64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	n, err := strconv.ParseInt(unsafe.String(&b[0], len(b)), 10, 64)
	return n, err == nil
}

// Int reads an integral number into *v; null leaves *v as it is. A fraction, an exponent, a
// value out of range or a string stops the decoder, as they make encoding/json fail.
func (d *Decoder) Int(v *int64) {
	c := d.peek()
	if c == 'n' {
		d.lit("null")
		return
	}
	if c != '-' && (c < '0' || c > '9') {
		d.Fail()
		return
	}
	n, ok := parseInt(d.number())
	if d.err != nil {
		return
	}
	if !ok {
		d.Fail()
		return
	}
	*v = n
}

// IntN is Int for an int.
func (d *Decoder) IntN(v *int) {
	n := int64(*v)
	d.Int(&n)
	*v = int(n)
}

// ID reads a TDLib id: a number, or (int64) a string holding one; null and "" are 0.
func (d *Decoder) ID(v *int64) {
	switch c := d.peek(); {
	case c == 'n':
		d.lit("null")
		if d.err == nil {
			*v = 0
		}
	case c == '"':
		s, plain := d.str()
		if d.err != nil {
			return
		}
		if len(s) == 0 {
			*v = 0
			return
		}
		n, ok := parseInt(s)
		if !plain || !ok {
			d.Fail()
			return
		}
		*v = n
	case c == '-' || '0' <= c && c <= '9':
		n, ok := parseInt(d.number())
		if d.err != nil {
			return
		}
		if !ok {
			d.Fail()
			return
		}
		*v = n
	default:
		d.Fail()
	}
}

// IDs reads an array of ids into *v (null: nil).
func (d *Decoder) IDs(v *[]int64) {
	if !d.Array() {
		if d.err == nil {
			*v = nil
		}
		return
	}
	out := []int64{}
	for d.Elem() {
		var n int64
		d.ID(&n)
		out = append(out, n)
	}
	if d.err == nil {
		*v = out
	}
}

// Bool reads true or false into *v; null leaves *v as it is.
func (d *Decoder) Bool(v *bool) {
	switch d.peek() {
	case 't':
		d.lit("true")
		if d.err == nil {
			*v = true
		}
	case 'f':
		d.lit("false")
		if d.err == nil {
			*v = false
		}
	case 'n':
		d.lit("null")
	default:
		d.Fail()
	}
}

// Raw reads any value and returns a copy of its JSON text (null included, as encoding/json
// does for a json.RawMessage).
func (d *Decoder) Raw() []byte {
	d.ws()
	start := d.i
	d.skip()
	if d.err != nil {
		return nil
	}
	return append([]byte(nil), d.b[start:d.i]...)
}

// Skip discards the value of a member the caller does not read, checking its syntax as
// encoding/json does. A key with upper case stops the decoder: encoding/json might match it
// to a field without regard to case.
func (d *Decoder) Skip() {
	for _, c := range d.key {
		if c-'A' < 26 {
			d.Fail()
			return
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

// skip reads and discards any value. It is one loop (function calls cost much in a wasip1
// guest) over a state and a stack of the containers open.
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
		for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
			i++
		}
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
				if i = strEnd(b, i+1); i >= 0 {
					st = skipColon
					continue
				}
			}
		default: // skipValue
			switch {
			case c == '"':
				if i = strEnd(b, i+1); i >= 0 {
					st = skipAfter
					continue
				}
			case c == '{', c == '[':
				if len(stack) >= maxDepth {
					break
				}
				stack = append(stack, c)
				i++
				for i < len(b) && (b[i] == ' ' || b[i] == '\n' || b[i] == '\t' || b[i] == '\r') {
					i++
				}
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
					i += 4
					st = skipAfter
					continue
				}
			case c == 'f':
				if len(b)-i >= 5 && string(b[i:i+5]) == "false" {
					i += 5
					st = skipAfter
					continue
				}
			case c == 'n':
				if len(b)-i >= 4 && string(b[i:i+4]) == "null" {
					i += 4
					st = skipAfter
					continue
				}
			case c == '-' || '0' <= c && c <= '9':
				if i = numEnd(b, i); i >= 0 {
					st = skipAfter
					continue
				}
			}
		}
		break
	}
	d.Fail()
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
				if !hex4(b[i+2:]) {
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

// numEnd returns the index after the number at b[i], or -1 if it is not a valid number.
func numEnd(b []byte, i int) int {
	if b[i] == '-' {
		i++
	}
	if i >= len(b) {
		return -1
	}
	if b[i] == '0' {
		i++
	} else {
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && '0' <= b[i] && b[i] <= '9' {
			i++
		}
		if i == start {
			return -1
		}
	}
	return i
}

// scanString returns the index in s of the first '"', '\\' or control character, or len(s),
// and whether a byte >= 0x80 comes before it. It looks at eight bytes per step: under wazero
// a loop over bytes costs several nanoseconds per byte.
func scanString(s []byte) (int, bool) {
	const (
		lsb = 0x0101010101010101
		msb = 0x8080808080808080
	)
	var hi uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		if (((q-lsb)&^q)|((b-lsb)&^b)|((x-lsb*0x20)&^x))&msb != 0 {
			break
		}
		hi |= x
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' || c == '\\' || c < 0x20 {
			break
		}
		hi |= uint64(c)
	}
	return i, hi&msb != 0
}
