package gatewayiq

import (
	"errors"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestParsePrompt(t *testing.T) {
	tests := []struct {
		name, xml, want string
	}{
		{"XEP-0100 example", `<query xmlns='jabber:iq:gateway'><prompt>Romeo Montague</prompt></query>`, "Romeo Montague"},
		{"trimmed", "<query xmlns='jabber:iq:gateway'><prompt>\n  juliet@capulet.com \t</prompt></query>", "juliet@capulet.com"},
		{"desc ignored", `<query xmlns='jabber:iq:gateway'><desc>x</desc><prompt>+33 6</prompt></query>`, "+33 6"},
		{"escaped markup", `<query xmlns='jabber:iq:gateway'><prompt>a&amp;b&lt;c</prompt></query>`, "a&b<c"},
		{"missing", `<query xmlns='jabber:iq:gateway'/>`, ""},
		{"empty", `<query xmlns='jabber:iq:gateway'><prompt/></query>`, ""},
		{"blank", `<query xmlns='jabber:iq:gateway'><prompt>  </prompt></query>`, ""},
		{"wrong namespace", `<query xmlns='jabber:iq:register'><prompt>x</prompt></query>`, ""},
		{"prompt in wrong namespace", `<query xmlns='jabber:iq:gateway'><prompt xmlns='urn:x'>x</prompt></query>`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParsePrompt(xmpptest.Parse(t, tc.xml))
			if tc.want == "" {
				var se *xmpp.StanzaError
				if !errors.As(err, &se) || se.Condition != "bad-request" {
					t.Fatalf("ParsePrompt = %q, %v; want a bad-request stanza error", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParsePrompt = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
	if _, err := ParsePrompt(nil); err == nil {
		t.Error("ParsePrompt(nil) succeeded")
	}
}

// A client's set, built as a client would and sent over the wire, parses back.
func TestRoundTrip(t *testing.T) {
	for _, in := range []string{"juliet@capulet.com", `c:\cool stuff`, "<>&'\""} {
		set := xmpp.Elem(NS, "query").Add(xmpp.Elem(NS, "prompt").WithText(in))
		got, err := ParsePrompt(xmpptest.Parse(t, set.String()))
		if err != nil || got != in {
			t.Errorf("round trip of %q = %q, %v", in, got, err)
		}
	}
}
