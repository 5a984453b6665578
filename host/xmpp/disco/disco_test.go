package disco

import (
	"strings"
	"testing"
)

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

// The complex example of XEP-0115 section 5.3 (identities with xml:lang left out, so only the
// form handling is checked against a hash computed by the same rules).
func TestCapsHashWithForm(t *testing.T) {
	in := Info{
		Identities: []Identity{{Category: "client", Type: "pc", Name: "Psi 0.11"}},
		Features: []string{"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
			"http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"},
		Forms: []Form{{Type: "urn:xmpp:dataforms:softwareinfo", Fields: []FormField{
			{Var: "os", Values: []string{"Mac"}}, {Var: "os_version", Values: []string{"10.5.1"}},
			{Var: "software", Values: []string{"Psi"}}, {Var: "software_version", Values: []string{"0.11"}},
			{Var: "ip_version", Values: []string{"ipv6", "ipv4"}},
		}}},
	}
	// XEP-0115 5.3's string, with only one "client/pc//Psi 0.11" identity:
	// client/pc//Psi 0.11<http://jabber.org/protocol/caps<...<urn:xmpp:dataforms:softwareinfo<
	// ip_version<ipv4<ipv6<os<Mac<os_version<10.5.1<software<Psi<software_version<0.11<
	if got, want := in.CapsHash(), "uA1VaeTzs7EqW5q/17QYaEBp0W8="; got != want {
		t.Errorf("CapsHash = %q, want %q", got, want)
	}
	if !strings.Contains(in.Element("").String(), `<field var="ip_version"><value>ipv6</value><value>ipv4</value></field>`) {
		t.Errorf("form not in disco#info: %s", in.Element(""))
	}
}
