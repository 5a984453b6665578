package delay

import (
	"fmt"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name      string
		from      string
		in, want  time.Time
		wantStamp string
	}{
		{"whole seconds", "telegram.example.org", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "2026-11-25T10:00:00Z"},
		{"milliseconds kept", "", time.Date(2026, 11, 25, 10, 0, 0, 120_500_000, time.UTC), time.Date(2026, 11, 25, 10, 0, 0, 120_000_000, time.UTC), "2026-11-25T10:00:00.12Z"},
		{"offset converted", "a&b", time.Date(2026, 11, 25, 5, 0, 0, 0, time.FixedZone("EST", -5*3600)), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), "2026-11-25T10:00:00Z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := xmpptest.Parse(t, Element(tt.from, tt.in).String())
			if got := e.Get("stamp"); got != tt.wantStamp {
				t.Fatalf("stamp = %q, want %q", got, tt.wantStamp)
			}
			from, got, err := Parse(e)
			if err != nil {
				t.Fatal(err)
			}
			if from != tt.from || !got.Equal(tt.want) {
				t.Fatalf("got %q %v, want %q %v", from, got, tt.from, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name     string
		xml      string
		wantFrom string
		want     time.Time
		wantErr  bool
	}{
		{"xep example", `<delay xmlns='urn:xmpp:delay' from='capulet.com' stamp='2002-09-10T23:08:25Z'>Offline Storage</delay>`, "capulet.com", time.Date(2002, 9, 10, 23, 8, 25, 0, time.UTC), false},
		{"no from", `<delay xmlns='urn:xmpp:delay' stamp='2002-09-10T23:41:07.123-05:00'/>`, "", time.Date(2002, 9, 11, 4, 41, 7, 123_000_000, time.UTC), false},
		{"missing stamp", `<delay xmlns='urn:xmpp:delay' from='capulet.com'/>`, "", time.Time{}, true},
		{"legacy xep-0091 format", `<delay xmlns='urn:xmpp:delay' stamp='20020910T23:08:25'/>`, "", time.Time{}, true},
		{"legacy namespace", `<x xmlns='jabber:x:delay' stamp='20020910T23:08:25'/>`, "", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			from, got, err := Parse(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if from != tt.wantFrom || !got.Equal(tt.want) {
				t.Fatalf("got %q %v, want %q %v", from, got, tt.wantFrom, tt.want)
			}
		})
	}
	if _, _, err := Parse(nil); err == nil {
		t.Fatal("Parse(nil): no error")
	}
}

func ExampleElement() {
	stamp := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	fmt.Println(Element("telegram.example.org", stamp))
	// Output:
	// <delay xmlns="urn:xmpp:delay" from="telegram.example.org" stamp="2026-11-25T10:00:00Z"/>
}
