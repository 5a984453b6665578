// Package jidesc implements XEP-0106: JID Escaping, gateway side.
//
// A gateway turns legacy identifiers (e-mail addresses, IRC nicks, phone numbers) into JID
// local parts with Escape, and turns the local part of an incoming stanza's address back into
// the legacy identifier with Unescape. Unescape(Escape(s)) == s for every s that Escape
// accepts.
//
// # Escaping rules
//
// The ten sequences of XEP-0106 section 3 are used: space \20, " \22, & \26, ' \27, / \2f,
// : \3a, < \3c, > \3e, @ \40 and \ \5c. The nine characters other than the backslash are
// always escaped. A backslash is escaped (as \5c) only when it is followed by one of the ten
// hexadecimal codes, so that unescaping cannot misread it (section 4.1 rule 7, section 4.3);
// every other backslash is written as is, and so is every other character (section 2 rule 3:
// nothing but the disallowed characters may be escaped).
//
// Escape writes lower-case hex digits, as the XEP requires. Unescape decodes the codes in
// either case (\2F as well as \2f): servers fold local parts to lower case anyway, so the two
// forms name the same JID, and Escape escapes a backslash that precedes an upper-case code too,
// which keeps the round trip exact.
//
// # What Escape refuses
//
// Escape returns an error, instead of a local part the server would refuse or rewrite, for:
//   - the empty string (ErrEmpty);
//   - a string that begins or ends with a space, because the escaped form must not begin or
//     end with \20 (section 4.1 rule 6) (ErrEdgeSpace);
//   - invalid UTF-8 and characters that no XMPP server keeps in a local part, whether it uses
//     the stringprep Nodeprep profile (RFC 6122) or PRECIS (RFC 7622): control characters
//     (U+0000-U+001F, U+007F-U+009F), format characters (general category Cf: bidi controls,
//     zero-width joiners, the byte order mark, tags), spaces other than U+0020 (Zs, Zl, Zp),
//     private-use code points, non-characters, variation selectors and other default-ignorable
//     code points, U+FFFC, U+FFFD, U+2FF0-U+2FFB, U+0340, U+0341, U+1806 (ErrChar);
//   - an escaped form longer than the 1023 bytes RFC 7622 allows (ErrTooLong).
//
// Symbols and emoji are accepted: Nodeprep servers take them, while strict PRECIS servers
// (which allow letters, digits and printable ASCII only) refuse them. Full PRECIS validation
// needs Unicode tables the standard library lacks and is left to the server.
//
// # Case
//
// Local parts are case-insensitive: the server folds them to lower case, so a contact escaped
// as "Alice" may come back addressed as "alice". Escape preserves case, but the gateway cannot
// rely on getting it back. A legacy network whose identifiers differ only by case ("Bob" and
// "bob" being two users, base64 ids, ...) needs a plugin-side mapping from each legacy id to a
// case-stable local part (a numeric id, an opaque token) kept in the plugin's store. Use Fold
// to compare or index local parts.
package jidesc

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// NS is the service discovery feature a gateway advertises when it applies XEP-0106 (the XEP
// spells it with an escaped space).
const NS = `jid\20escaping`

// MaxLen is the longest local part in bytes (RFC 7622 section 3.3), escaped form.
const MaxLen = 1023

// Errors returned by Escape, Unescape and Valid; match them with errors.Is.
var (
	// ErrEmpty reports an empty local part: a JID either has none or a non-empty one.
	ErrEmpty = errors.New("jidesc: empty local part")
	// ErrTooLong reports an escaped local part longer than MaxLen bytes.
	ErrTooLong = errors.New("jidesc: local part longer than 1023 bytes")
	// ErrEdgeSpace reports a space at the start or end, which XEP-0106 cannot escape.
	ErrEdgeSpace = errors.New("jidesc: local part begins or ends with a space")
	// ErrChar reports a character that cannot appear in a local part, even escaped.
	ErrChar = errors.New("jidesc: character not allowed in a local part")
)

// Escape returns the escaped form of s, ready to be a JID local part. See the package
// documentation for what it refuses and why.
func Escape(s string) (string, error) {
	if s == "" {
		return "", ErrEmpty
	}
	if s[0] == ' ' || s[len(s)-1] == ' ' {
		return "", ErrEdgeSpace
	}
	if err := checkRunes(s); err != nil {
		return "", err
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\':
			if i+2 < len(s) && isCode(s[i+1], s[i+2]) {
				b.WriteString(`\5c`)
			} else {
				b.WriteByte('\\')
			}
		case escaped(c):
			b.WriteByte('\\')
			b.WriteByte(hexDigits[c>>4])
			b.WriteByte(hexDigits[c&0xf])
		default:
			b.WriteByte(c)
		}
	}
	if b.Len() > MaxLen {
		return "", ErrTooLong
	}
	return b.String(), nil
}

// Unescape returns the legacy identifier that the escaped local part s stands for. It decodes
// the ten XEP-0106 sequences (hex digits in either case) and leaves every other backslash
// alone (section 4.3). It returns an error exactly when Valid(s) does, for input that is not
// an escaped local part at all (nothing Escape returns, in any letter case); it never panics.
// Unescape is not injective on such strings: \5cx and \x both give \x, and Escape gives
// the second, canonical, form.
func Unescape(s string) (string, error) {
	if err := Valid(s); err != nil {
		return "", err
	}
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for ; i < len(s); i++ {
		if c := s[i]; c == '\\' && i+2 < len(s) && isCode(s[i+1], s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
		} else {
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// Valid reports whether local may appear as an escaped local part: non-empty, at most MaxLen
// bytes, none of the nine characters that must be escaped, no \20 at either end, and none of
// the characters Escape refuses. It does not require lower case: the server folds case.
func Valid(local string) error {
	if local == "" {
		return ErrEmpty
	}
	if len(local) > MaxLen {
		return ErrTooLong
	}
	if strings.HasPrefix(local, `\20`) || strings.HasSuffix(local, `\20`) {
		return ErrEdgeSpace
	}
	for i := 0; i < len(local); i++ {
		if c := local[i]; c != '\\' && escaped(c) {
			return fmt.Errorf("%w: unescaped %q at byte %d", ErrChar, c, i)
		}
	}
	return checkRunes(local)
}

// Fold returns s in the case that servers compare local parts in, for comparing and indexing
// them: Unicode lower case, as the UsernameCaseMapped profile of RFC 7622 does. (Older Nodeprep
// servers apply full case folding, which also maps a few letters such as ß to ss; Fold does
// not.) Fold commutes with Escape: Fold(Escape(s)) == Escape(Fold(s)) when both succeed. It is
// for comparison only; a legacy id must never be rebuilt from a folded string.
func Fold(s string) string { return strings.ToLower(s) }

const hexDigits = "0123456789abcdef"

// escaped reports whether c is one of the ten characters XEP-0106 has a sequence for.
func escaped(c byte) bool {
	switch c {
	case ' ', '"', '&', '\'', '/', ':', '<', '>', '@', '\\':
		return true
	}
	return false
}

// unhex returns the value of hex digit c, or 0xff if c is not one.
func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	}
	return 0xff
}

// isCode reports whether the two bytes are the hex code (either case) of one of the ten
// escapable characters.
func isCode(a, b byte) bool {
	h, l := unhex(a), unhex(b)
	return h != 0xff && l != 0xff && escaped(h<<4|l)
}

// checkRunes rejects invalid UTF-8 and the characters listed in the package documentation.
func checkRunes(s string) error {
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				return fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrChar, i)
			}
		}
		if forbidden(r) {
			return fmt.Errorf("%w: %U at byte %d", ErrChar, r, i)
		}
	}
	return nil
}

// forbidden reports whether r can never be part of a local part (see the package doc).
func forbidden(r rune) bool {
	if r < utf8.RuneSelf {
		return r < 0x20 || r == 0x7f
	}
	switch {
	case r >= 0xfdd0 && r <= 0xfdef, r&0xfffe == 0xfffe: // non-characters
		return true
	case r == 0xfffc, r == 0xfffd, r >= 0x2ff0 && r <= 0x2ffb, r == 0x0340, r == 0x0341, r == 0x1806:
		return true
	}
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Co, unicode.Cs, unicode.Zs, unicode.Zl, unicode.Zp,
		unicode.Variation_Selector, unicode.Other_Default_Ignorable_Code_Point)
}
