package disco

import "testing"

// The example of XEP-0115 section 5.2 must give its documented hash.
func TestCapsHashXEP0115Example(t *testing.T) {
	in := Info{
		Identities: []Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}},
		Features: []string{
			"http://jabber.org/protocol/disco#info",
			"http://jabber.org/protocol/disco#items",
			"http://jabber.org/protocol/muc",
			"http://jabber.org/protocol/caps",
		},
	}
	if got, want := in.CapsHash(), "QgayPKawpkPSDYmwT/WM94uAlu0="; got != want {
		t.Fatalf("CapsHash = %q, want %q", got, want)
	}
}

func TestInfoElement(t *testing.T) {
	in := Info{Identities: []Identity{{"gateway", "telegram", "Telegram"}}, Features: []string{NSInfo}}
	got := in.Element("").String()
	want := `<query xmlns="http://jabber.org/protocol/disco#info"><identity category="gateway" type="telegram" name="Telegram"/><feature var="http://jabber.org/protocol/disco#info"/></query>`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}
