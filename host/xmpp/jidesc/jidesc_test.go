package jidesc

import (
	"errors"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"testing/quick"
)

// xepExamples are the local parts of XEP-0106 section 5.1 "JID Examples" (user input, escaped
// JID), followed by the other transformations the XEP spells out.
var xepExamples = []struct{ in, esc string }{
	// Section 5.1, table "JID Examples", rows 1-12.
	{`space cadet`, `space\20cadet`},
	{`call me "ishmael"`, `call\20me\20\22ishmael\22`},
	{`at&t guy`, `at\26t\20guy`},
	{`d'artagnan`, `d\27artagnan`},
	{`/.fanboy`, `\2f.fanboy`},
	{`::foo::`, `\3a\3afoo\3a\3a`},
	{`<foo>`, `\3cfoo\3e`},
	{`user@host`, `user\40host`},
	{`c:\net`, `c\3a\net`},
	{`c:\\net`, `c\3a\\net`},
	{`c:\cool stuff`, `c\3a\cool\20stuff`},
	{`c:\5commas`, `c\3a\5c5commas`},
	// Section 4.2 (address transformation) and 5.5 (IMPS): backslashes before codes.
	{`\3and\2is\5cool`, `\5c3and\2is\5c5cool`},
	// Section 5.2-5.5: e-mail, SIP, IM and IMPS addresses.
	{`here's_a_wild_&_/cr%zy/_address`, `here\27s_a_wild_\26_\2fcr%zy\2f_address`},
	{`here's_a_wild_&_/cr%zy/_address_for:<wv>("IMPS")`, `here\27s_a_wild_\26_\2fcr%zy\2f_address_for\3a\3cwv\3e(\22IMPS\22)`},
	// Section 3.3 (unescaping example).
	{`tréville@musketeers.lit`, `tréville\40musketeers.lit`},
	// Section 4.3 "Exceptions": partial and unknown sequences are left alone both ways.
	{`\2plus\2is\4`, `\2plus\2is\4`},
	{`foo\bar`, `foo\bar`},
	{`foob\41r`, `foob\41r`},
	// An escaped space that is user input, not at the end of the escaped form.
	{`call me\20`, `call\20me\5c20`},
	// Where mellium's jid.Unescape goes wrong (NUL for \20, panic on a trailing \5c).
	{`a b`, `a\20b`},
	{`abc\`, `abc\`},
	{`abc\5c`, `abc\5c5c`},
	{`\`, `\`},
	{`\\`, `\\`},
	{`\5c`, `\5c5c`},
	// Upper-case codes are decoded by Unescape, so their backslash is escaped too.
	{`\2F`, `\5c2F`},
	{`\3A\3a`, `\5c3A\5c3a`},
	// Non-ASCII and case are kept.
	{`Ünïcødé`, `Ünïcødé`},
	{`😀 ok`, `😀\20ok`},
	{`+33 6 12 34 56 78`, `+33\206\2012\2034\2056\2078`},
}

func TestXEPExamples(t *testing.T) {
	for _, tc := range xepExamples {
		esc, err := Escape(tc.in)
		if err != nil || esc != tc.esc {
			t.Errorf("Escape(%q) = %q, %v; want %q", tc.in, esc, err, tc.esc)
		}
		un, err := Unescape(tc.esc)
		if err != nil || un != tc.in {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tc.esc, un, err, tc.in)
		}
		if err := Valid(tc.esc); err != nil {
			t.Errorf("Valid(%q) = %v", tc.esc, err)
		}
	}
}

func TestUnescapeOnly(t *testing.T) {
	// Inputs that Escape never writes but that are valid local parts.
	tests := []struct{ in, want string }{
		{`d\27Artagnan`, `d'Artagnan`},
		{`\2F\2f`, `//`},
		{`a\5Cb`, `a\b`},
		{`\5cx`, `\x`},
		{`\5c20`, `\20`},
		{`\5c`, `\`},
		{`x\2`, `x\2`},
		{`x\`, `x\`},
		{`\g0\0g\2`, `\g0\0g\2`},
		{`\20\20x`, ``}, // leading \20: error
	}
	for _, tc := range tests {
		got, err := Unescape(tc.in)
		if tc.want == "" {
			if err == nil {
				t.Errorf("Unescape(%q) = %q, want error", tc.in, got)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Unescape(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("a", MaxLen)
	tests := []struct {
		name     string
		in       string
		escErr   error // from Escape(in)
		validErr error // from Valid(in) and Unescape(in)
	}{
		{"empty", "", ErrEmpty, ErrEmpty},
		{"leading space", " cadet", ErrEdgeSpace, ErrChar},
		{"trailing space", "cadet ", ErrEdgeSpace, ErrChar},
		{"only space", " ", ErrEdgeSpace, ErrChar},
		{"leading \\20", `\20cadet`, nil, ErrEdgeSpace},
		{"trailing \\20", `cadet\20`, nil, ErrEdgeSpace},
		{"only \\20", `\20`, nil, ErrEdgeSpace},
		{"raw at", "a@b", nil, ErrChar},
		{"raw slash", "a/b", nil, ErrChar},
		{"raw quote", `a"b`, nil, ErrChar},
		{"NUL", "a\x00b", ErrChar, ErrChar},
		{"tab", "a\tb", ErrChar, ErrChar},
		{"DEL", "a\x7fb", ErrChar, ErrChar},
		{"C1 control", "a\u0085b", ErrChar, ErrChar},
		{"no-break space", "a\u00a0b", ErrChar, ErrChar},
		{"ideographic space", "a\u3000b", ErrChar, ErrChar},
		{"line separator", "a\u2028b", ErrChar, ErrChar},
		{"zero width joiner", "a\u200db", ErrChar, ErrChar},
		{"right-to-left mark", "a\u200fb", ErrChar, ErrChar},
		{"byte order mark", "\ufeffab", ErrChar, ErrChar},
		{"soft hyphen", "a\u00adb", ErrChar, ErrChar},
		{"variation selector", "a\ufe0fb", ErrChar, ErrChar},
		{"combining grapheme joiner", "a\u034fb", ErrChar, ErrChar},
		{"private use", "a\ue000b", ErrChar, ErrChar},
		{"non-character", "a\ufdd0b", ErrChar, ErrChar},
		{"non-character FFFF", "a\uffffb", ErrChar, ErrChar},
		{"plane 1 non-character", "a\U0001fffeb", ErrChar, ErrChar},
		{"replacement character", "a\ufffdb", ErrChar, ErrChar},
		{"tag character", "a\U000e0041b", ErrChar, ErrChar},
		{"invalid UTF-8", "a\xffb", ErrChar, ErrChar},
		{"truncated UTF-8", "a\xc3", ErrChar, ErrChar},
		{"surrogate as UTF-8", "a\xed\xa0\x80b", ErrChar, ErrChar},
		{"longest", long, nil, nil},
		{"longest once escaped", long[3:] + "@", nil, ErrChar},
		{"too long", long + "a", ErrTooLong, ErrTooLong},
		{"too long once escaped", long[2:] + "@", ErrTooLong, ErrChar},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Escape(tc.in); !errors.Is(err, tc.escErr) || (err == nil) != (tc.escErr == nil) {
				t.Errorf("Escape(%q) error = %v, want %v", tc.in, err, tc.escErr)
			}
			if err := Valid(tc.in); !errors.Is(err, tc.validErr) || (err == nil) != (tc.validErr == nil) {
				t.Errorf("Valid(%q) = %v, want %v", tc.in, err, tc.validErr)
			}
			if _, err := Unescape(tc.in); !errors.Is(err, tc.validErr) || (err == nil) != (tc.validErr == nil) {
				t.Errorf("Unescape(%q) error = %v, want %v", tc.in, err, tc.validErr)
			}
		})
	}
}

func TestFold(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice", "alice"},
		{`D\27Artagnan`, `d\27artagnan`},
		{`\2F`, `\2f`},
		{"ÉLODIE", "élodie"},
		{"ΣΑΣ", "σασ"},
	}
	for _, tc := range tests {
		if got := Fold(tc.in); got != tc.want {
			t.Errorf("Fold(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// localString is a quick generator biased towards what makes escaping hard: backslashes, hex
// digits of the codes in both cases, the escapable characters, and some non-ASCII.
type localString string

var alphabet = []string{
	`\`, `\`, `\`, "2", "3", "4", "5", "0", "7", "a", "c", "e", "f", "A", "C", "E", "F",
	" ", `"`, "&", "'", "/", ":", "<", ">", "@", "x", ".", "é", "Σ", "😀", "K", "\u212a",
}

// Generate implements quick.Generator.
func (localString) Generate(r *rand.Rand, size int) reflect.Value {
	n := r.Intn(size + 1)
	var b strings.Builder
	for range n {
		b.WriteString(alphabet[r.Intn(len(alphabet))])
	}
	return reflect.ValueOf(localString(b.String()))
}

func TestQuickRoundTrip(t *testing.T) {
	cfg := &quick.Config{MaxCount: 20000}
	roundTrip := func(ls localString) bool {
		s := string(ls)
		esc, err := Escape(s)
		if err != nil {
			return true // only accepted strings must round-trip
		}
		got, err := Unescape(esc)
		return err == nil && got == s && Valid(esc) == nil
	}
	if err := quick.Check(roundTrip, cfg); err != nil {
		t.Error("biased strings:", err)
	}
	// Arbitrary strings too (mostly rejected for their control characters, but not all).
	if err := quick.Check(func(s string) bool { return roundTrip(localString(s)) }, cfg); err != nil {
		t.Error("arbitrary strings:", err)
	}
	// Fold commutes with Escape.
	commutes := func(ls localString) bool {
		a, err1 := Escape(Fold(string(ls)))
		b, err2 := Escape(string(ls))
		return err1 != nil || err2 != nil || a == Fold(b)
	}
	if err := quick.Check(commutes, cfg); err != nil {
		t.Error("Fold/Escape:", err)
	}
	// Unescape then Escape gives a valid canonical form that unescapes to the same string.
	canonical := func(ls localString) bool {
		u, err := Unescape(string(ls))
		if err != nil {
			return Valid(string(ls)) != nil
		}
		c, err := Escape(u)
		if err != nil || len(c) > len(ls) {
			return false
		}
		u2, err := Unescape(c)
		return err == nil && u2 == u
	}
	if err := quick.Check(canonical, cfg); err != nil {
		t.Error("canonical form:", err)
	}
}

func FuzzRoundTrip(f *testing.F) {
	for _, tc := range xepExamples {
		f.Add(tc.in)
		f.Add(tc.esc)
	}
	f.Add(`\20`)
	f.Add(`abc\5c`)
	f.Add(" x ")
	f.Fuzz(func(t *testing.T, s string) {
		esc, err := Escape(s)
		if err == nil {
			if strings.ContainsAny(esc, ` "&'/:<>@`) {
				t.Fatalf("Escape(%q) = %q keeps a disallowed character", s, esc)
			}
			if err := Valid(esc); err != nil {
				t.Fatalf("Valid(Escape(%q) = %q) = %v", s, esc, err)
			}
			got, err := Unescape(esc)
			if err != nil || got != s {
				t.Fatalf("Unescape(Escape(%q) = %q) = %q, %v", s, esc, got, err)
			}
		}
		u, err := Unescape(s)
		if (err == nil) != (Valid(s) == nil) {
			t.Fatalf("Unescape(%q) error %v disagrees with Valid", s, err)
		}
		if err == nil {
			c, err := Escape(u)
			if err != nil {
				t.Fatalf("Escape(Unescape(%q) = %q) = %v", s, u, err)
			}
			if u2, err := Unescape(c); err != nil || u2 != u {
				t.Fatalf("canonical form %q of %q unescapes to %q, %v", c, s, u2, err)
			}
		}
	})
}
