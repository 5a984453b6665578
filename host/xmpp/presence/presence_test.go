package presence

import (
	"encoding/xml"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/idle"
)

// decodeStanza reads stanza bytes back as the component link does: inside a stream whose
// default namespace is jabber:component:accept.
func decodeStanza(b []byte) (*xmpp.Element, error) {
	d := xml.NewDecoder(strings.NewReader(`<stream xmlns="` + xmpp.NSComponent + `">` + string(b) + `</stream>`))
	depth := 0
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if st, ok := tok.(xml.StartElement); ok {
			if depth++; depth == 2 {
				return xmpp.ReadElement(d, st)
			}
		}
	}
}

func mustDecode(t *testing.T, b []byte) *xmpp.Element {
	t.Helper()
	e, err := decodeStanza(b)
	if err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return e
}

var (
	since = time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	caps  = &Caps{Node: "https://github.com/xmppgw/gateway", Ver: "QgayPKawpkPSDYmwT/WM94uAlu0="}
	hash  = "01b87fcd030b72895ff8e88db57ec525450f000d"
)

// The wire format of each case is pinned, it matches what xmpp.Element would write, and it
// parses back to the same presence.
func TestAppendXML(t *testing.T) {
	const pj, uj = `from="1001@telegram.example.org" to="romeo@montague.lit"`, "romeo@montague.lit"
	from := "1001@telegram.example.org"
	tests := []struct {
		name string
		p    Presence
		want string
	}{
		{"bare available", Presence{From: from, To: uj},
			`<presence ` + pj + `/>`},
		{"everything", Presence{From: from, To: uj, Show: ShowAway, Status: "On a boat", Priority: 5, Idle: since, AvatarHash: hash, Caps: caps, Nick: "ignored"},
			`<presence ` + pj + `><show>away</show><status>On a boat</status><priority>5</priority><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://github.com/xmppgw/gateway" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/><x xmlns="vcard-temp:x:update"><photo>` + hash + `</photo></x><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/></presence>`},
		{"offline show", Presence{From: from, To: uj, Show: ShowOffline, Status: "gone", Idle: since, Caps: caps, AvatarHash: hash, Priority: 3},
			`<presence ` + pj + ` type="unavailable"><status>gone</status><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/></presence>`},
		{"unavailable type", Presence{From: from, To: uj, Type: TypeUnavailable},
			`<presence ` + pj + ` type="unavailable"/>`},
		{"no avatar", Presence{From: from, To: uj, Show: ShowDND, AvatarHash: NoAvatar},
			`<presence ` + pj + `><show>dnd</show><x xmlns="vcard-temp:x:update"><photo/></x></presence>`},
		{"avatar not known yet", Presence{From: from, To: uj, HasAvatar: true},
			`<presence ` + pj + `><x xmlns="vcard-temp:x:update"/></presence>`},
		{"subscribe with nick", Presence{From: from, To: uj, Type: TypeSubscribe, Nick: "Juliet", Show: ShowChat, Idle: since},
			`<presence ` + pj + ` type="subscribe"><nick xmlns="http://jabber.org/protocol/nick">Juliet</nick></presence>`},
		{"subscribed", Presence{From: from, To: uj, Type: TypeSubscribed},
			`<presence ` + pj + ` type="subscribed"/>`},
		{"escaping", Presence{From: from, To: uj + "/a\"b'<c>&", Status: "<b>&\"'\ttab\nline\r", Type: TypeProbe, Nick: "a&b"},
			`<presence from="1001@telegram.example.org" to="romeo@montague.lit/a&quot;b&apos;&lt;c&gt;&amp;" type="probe"><status>&lt;b&gt;&amp;&quot;&apos;&#x9;tab&#xA;line&#xD;</status><nick xmlns="http://jabber.org/protocol/nick">a&amp;b</nick></presence>`},
		{"priority clamped, unknown show dropped", Presence{Show: "busy", Priority: 1000},
			`<presence><priority>127</priority></presence>`},
		{"negative priority", Presence{Priority: -129},
			`<presence><priority>-128</priority></presence>`},
		{"caps without ver not written", Presence{Caps: &Caps{Node: "n"}},
			`<presence/>`},
		{"idle in another zone", Presence{Idle: since.In(time.FixedZone("X", -3600)).Add(999 * time.Millisecond)},
			`<presence><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/></presence>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := string(tt.p.AppendXML([]byte("prefix")))
			if got != "prefix"+tt.want {
				t.Fatalf("got  %s\nwant prefix%s", got, tt.want)
			}
			if el := tt.p.Element().AppendXML(nil, xmpp.NSComponent); string(el) != tt.want {
				t.Fatalf("Element() differs:\n%s\n%s", el, tt.want)
			}
			back, err := Parse(mustDecode(t, []byte(tt.want)))
			if err != nil {
				t.Fatal(err)
			}
			if !back.Same(tt.p) || !tt.p.Same(back) {
				t.Fatalf("round trip not Same:\n%+v\n%+v", back, tt.p)
			}
			if again := back.String(); again != tt.want {
				t.Fatalf("rewritten differently:\n%s\n%s", again, tt.want)
			}
		})
	}
}

// Characters XML 1.0 forbids cannot be sent; they become U+FFFD, as xmpp.Element writes them.
func TestAppendXMLControlCharacters(t *testing.T) {
	p := Presence{Status: "a\x00b\x1fc", Nick: "\x07", Type: TypeSubscribe}
	want := "<presence type=\"subscribe\"><status>a\uFFFDb\uFFFDc</status><nick xmlns=\"http://jabber.org/protocol/nick\">\uFFFD</nick></presence>"
	if got := p.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	if el := p.Element().String(); el != want {
		t.Fatalf("Element() = %q", el)
	}
	if _, err := decodeStanza([]byte(want)); err != nil {
		t.Fatal(err)
	}
}

func TestParse(t *testing.T) {
	const c = `<c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='http://psi-im.org' ver='q07IKJEyjvHSyhy//CH0CxmKi8w='/>`
	tests := []struct {
		name    string
		xml     string
		want    Presence
		wantErr bool
	}{
		{"initial presence", `<presence from='romeo@montague.lit/orchard' to='1001@telegram.example.org'>` + c + `</presence>`,
			Presence{From: "romeo@montague.lit/orchard", To: "1001@telegram.example.org", Caps: &Caps{Node: "http://psi-im.org", Ver: "q07IKJEyjvHSyhy//CH0CxmKi8w="}}, false},
		{"full", `<presence><show>xa</show><status xml:lang='en'>zzz</status><status xml:lang='fr'>zzz fr</status><priority> -5 </priority>` +
			`<x xmlns='vcard-temp:x:update'><photo> ` + hash + ` </photo></x><nick xmlns='http://jabber.org/protocol/nick'>Romeo</nick>` +
			`<idle xmlns='urn:xmpp:idle:1' since='2026-11-25T11:00:00+01:00'/><unknown xmlns='urn:example'/></presence>`,
			Presence{Show: ShowXA, Status: "zzz", Priority: -5, AvatarHash: hash, HasAvatar: true, Nick: "Romeo", Idle: since}, false},
		{"unavailable", `<presence type='unavailable'><status>bye</status></presence>`, Presence{Type: TypeUnavailable, Status: "bye"}, false},
		{"probe", `<presence type='probe' from='a' to='b'/>`, Presence{Type: TypeProbe, From: "a", To: "b"}, false},
		{"error", `<presence type='error'><error type='cancel'><remote-server-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`, Presence{Type: TypeError}, false},
		{"subscribe", `<presence type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>Ishmael</nick></presence>`, Presence{Type: TypeSubscribe, Nick: "Ishmael"}, false},
		{"no avatar", `<presence><x xmlns='vcard-temp:x:update'><photo/></x></presence>`, Presence{AvatarHash: NoAvatar}, false},
		{"avatar not ready", `<presence><x xmlns='vcard-temp:x:update'/></presence>`, Presence{HasAvatar: true}, false},
		{"legacy caps ignored", `<presence><c xmlns='http://jabber.org/protocol/caps' node='http://exodus.jabberstudio.org/caps' ver='0.9' ext='jingle'/></presence>`, Presence{}, false},
		{"sha-256 caps ignored", `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-256' node='n' ver='v'/></presence>`, Presence{}, false},
		{"caps without ver ignored", `<presence><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n'/></presence>`, Presence{}, false},
		{"bad idle ignored", `<presence><show>away</show><idle xmlns='urn:xmpp:idle:1' since='soon'/></presence>`, Presence{Show: ShowAway}, false},
		{"foreign show ignored", `<presence><show xmlns='urn:example'>busy</show></presence>`, Presence{}, false},
		{"invalid type", `<presence type='online'/>`, Presence{}, true},
		{"invalid show", `<presence><show>busy</show></presence>`, Presence{}, true},
		{"offline is not a wire show", `<presence><show>offline</show></presence>`, Presence{}, true},
		{"empty show", `<presence><show/></presence>`, Presence{}, true},
		{"two shows", `<presence><show>away</show><show>dnd</show></presence>`, Presence{}, true},
		{"priority not a number", `<presence><priority>high</priority></presence>`, Presence{}, true},
		{"priority out of range", `<presence><priority>128</priority></presence>`, Presence{}, true},
		{"two priorities", `<presence><priority>1</priority><priority>2</priority></presence>`, Presence{}, true},
		{"not a presence", `<message><body>hi</body></message>`, Presence{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(mustDecode(t, []byte(tt.xml)))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("Parse(nil): no error")
	}
}

func TestSame(t *testing.T) {
	base := Presence{From: "a@b", To: "c@d", Show: ShowAway, Status: "s", Priority: 1, Idle: since, AvatarHash: hash, Caps: caps}
	with := func(f func(*Presence)) Presence { p := base; f(&p); return p }
	tests := []struct {
		name string
		q    Presence
		same bool
	}{
		{"identical", base, true},
		{"caps copied, not same pointer", with(func(p *Presence) { c := *caps; p.Caps = &c }), true},
		{"idle within the same second", with(func(p *Presence) { p.Idle = since.Add(500 * time.Millisecond) }), true},
		{"idle in another zone", with(func(p *Presence) { p.Idle = since.In(time.FixedZone("X", 7200)) }), true},
		{"HasAvatar implied by hash", with(func(p *Presence) { p.HasAvatar = true }), true},
		{"nick not written in available", with(func(p *Presence) { p.Nick = "n" }), true},
		{"priority clamped alike", with(func(p *Presence) { p.Priority = 1 }), true},
		{"show", with(func(p *Presence) { p.Show = ShowDND }), false},
		{"status", with(func(p *Presence) { p.Status = "t" }), false},
		{"idle second", with(func(p *Presence) { p.Idle = since.Add(time.Second) }), false},
		{"idle gone", with(func(p *Presence) { p.Idle = time.Time{} }), false},
		{"avatar", with(func(p *Presence) { p.AvatarHash = NoAvatar }), false},
		{"caps ver", with(func(p *Presence) { p.Caps = &Caps{Node: caps.Node, Ver: "x"} }), false},
		{"caps gone", with(func(p *Presence) { p.Caps = nil }), false},
		{"to", with(func(p *Presence) { p.To = "e@f" }), false},
		{"offline", with(func(p *Presence) { p.Show = ShowOffline }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := base.Same(tt.q); got != tt.same {
				t.Fatalf("Same = %v, want %v", got, tt.same)
			}
			if got := tt.q.Same(base); got != tt.same {
				t.Fatalf("Same not symmetric")
			}
			if tt.same != (base.String() == tt.q.String()) {
				t.Fatalf("Same = %v but stanzas:\n%s\n%s", tt.same, base.String(), tt.q.String())
			}
		})
	}
	// Offline spelled two ways, with fields unavailable presences do not carry.
	a := Presence{Show: ShowOffline, Caps: caps, Priority: 4, AvatarHash: hash}
	b := Presence{Type: TypeUnavailable, Show: ShowAway}
	if !a.Same(b) {
		t.Fatalf("%s and %s should be Same", a.String(), b.String())
	}
}

func TestAppendXMLDoesNotAllocate(t *testing.T) {
	p := Presence{From: "1001@telegram.example.org", To: "romeo@montague.lit", Show: ShowAway, Status: "a & b", Priority: 5, Idle: since, AvatarHash: hash, Caps: caps}
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = p.AppendXML(buf[:0]) }); n != 0 {
		t.Fatalf("AppendXML: %v allocations", n)
	}
	q := p
	if n := testing.AllocsPerRun(100, func() { _ = p.Same(q) }); n != 0 {
		t.Fatalf("Same: %v allocations", n)
	}
}

// FuzzParse checks that no input makes Parse panic, and that what Parse accepts is written
// back as a stanza that parses to the Same presence.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<presence/>`,
		`<presence type='unavailable'><status>x</status><idle xmlns='urn:xmpp:idle:1' since='2026-11-25T10:00:00Z'/></presence>`,
		`<presence><show>dnd</show><priority>-1</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/><x xmlns='vcard-temp:x:update'><photo>ab</photo></x></presence>`,
		`<presence type='subscribe'><nick xmlns='http://jabber.org/protocol/nick'>&amp;</nick></presence>`,
		`<presence><priority>999999999999999999999</priority></presence>`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := decodeStanza([]byte(s))
		if err != nil {
			return
		}
		p, err := Parse(e)
		if err != nil {
			return
		}
		out := p.AppendXML(nil)
		e2, err := decodeStanza(out)
		if err != nil {
			t.Fatalf("rewritten %q does not decode: %v", out, err)
		}
		p2, err := Parse(e2)
		if err != nil {
			t.Fatalf("rewritten %q does not parse: %v", out, err)
		}
		if !p.Same(p2) {
			t.Fatalf("not Same after rewrite %q:\n%+v\n%+v", out, p, p2)
		}
	})
}

// benchPresence is a typical contact presence with every extension.
var benchPresence = Presence{
	From: "1001@telegram.example.org", To: "romeo@montague.lit", Show: ShowAway, Status: "On a boat",
	Priority: 5, Idle: since, AvatarHash: hash, Caps: caps,
}

func BenchmarkAppendXML(b *testing.B) {
	buf := make([]byte, 0, 1024)
	p := benchPresence
	b.ReportAllocs()
	for b.Loop() {
		buf = p.AppendXML(buf[:0])
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkElementAppendXML is the same stanza built as an xmpp.Element tree, for comparison.
func BenchmarkElementAppendXML(b *testing.B) {
	buf := make([]byte, 0, 1024)
	p := benchPresence
	b.ReportAllocs()
	for b.Loop() {
		buf = p.Element().AppendXML(buf[:0], xmpp.NSComponent)
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkSame(b *testing.B) {
	p, q := benchPresence, benchPresence
	b.ReportAllocs()
	for b.Loop() {
		if !p.Same(q) {
			b.Fatal("not same")
		}
	}
}

func ExamplePresence_AppendXML() {
	p := Presence{
		From: "1001@telegram.example.org", To: "romeo@montague.lit",
		Show: ShowAway, Status: "On a boat", Idle: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		AvatarHash: "01b87fcd030b72895ff8e88db57ec525450f000d",
		Caps:       &Caps{Node: "https://github.com/xmppgw/gateway", Ver: "QgayPKawpkPSDYmwT/WM94uAlu0="},
	}
	fmt.Println(string(p.AppendXML(nil)))
	p.Show = ShowOffline
	fmt.Println(string(p.AppendXML(nil)))
	// Output:
	// <presence from="1001@telegram.example.org" to="romeo@montague.lit"><show>away</show><status>On a boat</status><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://github.com/xmppgw/gateway" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/><x xmlns="vcard-temp:x:update"><photo>01b87fcd030b72895ff8e88db57ec525450f000d</photo></x><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/></presence>
	// <presence from="1001@telegram.example.org" to="romeo@montague.lit" type="unavailable"><status>On a boat</status><idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/></presence>
}

func ExamplePresence_subscribe() {
	p := Presence{From: "1001@telegram.example.org", To: "romeo@montague.lit", Type: TypeSubscribe, Nick: "Juliet"}
	fmt.Println(string(p.AppendXML(nil)))
	// Output:
	// <presence from="1001@telegram.example.org" to="romeo@montague.lit" type="subscribe"><nick xmlns="http://jabber.org/protocol/nick">Juliet</nick></presence>
}

func ExampleParse() {
	e := xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "from", "romeo@montague.lit/orchard", "to", "1001@telegram.example.org").Add(
		xmpp.Elem(xmpp.NSComponent, "show").WithText("dnd"),
		xmpp.Elem(NSCaps, "c", "hash", "sha-1", "node", "http://psi-im.org", "ver", "q07IKJEyjvHSyhy//CH0CxmKi8w="))
	p, err := Parse(e)
	fmt.Println(p.From, p.Show, p.Caps.Ver, err)
	// Output:
	// romeo@montague.lit/orchard dnd q07IKJEyjvHSyhy//CH0CxmKi8w= <nil>
}

func TestAppendTime(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("X", -3600)), // year 10000 in UTC
		time.Date(-5, 3, 4, 5, 6, 7, 0, time.UTC),
		time.Date(2000, 2, 29, 12, 30, 45, 0, time.FixedZone("Y", 5*3600+1800)),
	} {
		if got, want := string(appendTime(nil, tm)), tm.UTC().Format(idle.Layout); got != want {
			t.Fatalf("appendTime(%v) = %s, want %s", tm, got, want)
		}
	}
}

func TestAppendEscaped(t *testing.T) {
	for _, s := range []string{"", "plain", "<", "a<b>c&d\"e'f", "\x00\x01\t\n\r\x1f ", "zoë & 🐳", "trailing&"} {
		want := ""
		if s != "" {
			want = xmpp.Elem("", "x").WithText(s).String()
			want = want[len("<x>") : len(want)-len("</x>")]
		}
		if got := string(xmpp.AppendEscaped(nil, s)); got != want {
			t.Fatalf("AppendEscaped(%q) = %q, want %q", s, got, want)
		}
	}
}
