package nick

import (
	"fmt"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestRoundTrip(t *testing.T) {
	for _, n := range []string{"Ishmael", "", "Tom & Jerry <3", `"quoted" 'nick'`, "Zoë 🐳"} {
		got, err := Parse(xmpptest.Parse(t, Element(n).String()))
		if err != nil {
			t.Fatalf("%q: %v", n, err)
		}
		if got != n {
			t.Fatalf("got %q, want %q", got, n)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    string
		wantErr bool
	}{
		{"xep example", `<nick xmlns='http://jabber.org/protocol/nick'>Ishmael</nick>`, "Ishmael", false},
		{"indented", "<nick xmlns='http://jabber.org/protocol/nick'>\n  Ishmael\n</nick>", "Ishmael", false},
		{"empty", `<nick xmlns='http://jabber.org/protocol/nick'/>`, "", false},
		{"wrong namespace", `<nick xmlns='http://jabber.org/protocol/muc'>Ishmael</nick>`, "", true},
		{"wrong name", `<name xmlns='http://jabber.org/protocol/nick'>Ishmael</name>`, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %q, %v; want %q, err %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("Parse(nil): no error")
	}
}

func ExampleElement() {
	fmt.Println(Element("Ishmael"))
	// Output:
	// <nick xmlns="http://jabber.org/protocol/nick">Ishmael</nick>
}
