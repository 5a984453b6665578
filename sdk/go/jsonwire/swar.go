package jsonwire

import (
	"encoding/binary"
	"unicode/utf8"
)

// Word-at-a-time scanning: Go's Wasm code pays for every byte-sized step (a plain byte loop
// costs ~6 ns per byte under wazero, eight bytes at once ~1.2 ns), so the string scanners look
// at eight bytes per step and fall back to bytes only within the word that holds a hit.

const (
	lsb = 0x0101010101010101
	msb = 0x8080808080808080
)

// scanString returns the index in s of the first '"', '\\' or control character (< 0x20), or
// len(s), and whether s before that index holds a byte >= 0x80.
func scanString(s []byte) (int, bool) {
	var hi uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:])
		q := x ^ (lsb * '"')
		b := x ^ (lsb * '\\')
		// haszero(q) | haszero(b) | hasless(x, 0x20): exact as to whether any byte matches.
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

// indexByte returns the index of the first c in s, or -1.
func indexByte(s []byte, c byte) int {
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := binary.LittleEndian.Uint64(s[i:]) ^ (lsb * uint64(c))
		if ((x-lsb)&^x)&msb != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		if s[i] == c {
			return i
		}
	}
	return -1
}

// validUTF8 is utf8.Valid, but back to eight bytes at a time after each non-ASCII rune
// (utf8.Valid goes byte by byte from the first one on).
func validUTF8(s []byte) bool {
	i := 0
	for i < len(s) {
		if i+8 <= len(s) && binary.LittleEndian.Uint64(s[i:])&msb == 0 {
			i += 8
			continue
		}
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && n == 1 {
			return false
		}
		i += n
	}
	return true
}
