package xmpp

import (
	"strings"
	"testing"
)

// Values written by AppendXML come back unchanged through an XML parser.
func TestElementRoundTrip(t *testing.T) {
	for _, v := range []string{"plain", `<a href="x">&'`, "line1\nline2\r\nline3\ttab", "nul\x00bell\x07", "émoji 🎉"} {
		e := Elem(NSComponent, "message", "to", v).Add(Elem("urn:x", "body").WithText(v))
		got, err := ParseElement(string(e.AppendXML(nil, "")))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		want := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
				return '\uFFFD'
			}
			return r
		}, v)
		if got.Get("to") != want || got.Child("urn:x", "body").Text != want {
			t.Errorf("%q: got attr %q text %q", v, got.Get("to"), got.Child("urn:x", "body").Text)
		}
	}
}

func TestSplitJID(t *testing.T) {
	for _, tc := range []struct{ in, local, domain, res string }{
		{"a@b/c", "a", "b", "c"}, {"b", "", "b", ""}, {"b/c@d", "", "b", "c@d"}, {"a@b", "a", "b", ""},
	} {
		l, d, r := SplitJID(tc.in)
		if l != tc.local || d != tc.domain || r != tc.res {
			t.Errorf("SplitJID(%q) = %q %q %q", tc.in, l, d, r)
		}
	}
}
