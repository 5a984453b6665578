package idle

import (
	"fmt"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestRoundTrip(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		in   time.Time
		want time.Time
	}{
		{"utc", time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"offset converted to utc", time.Date(2026, 11, 25, 11, 0, 0, 0, paris), time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
		{"sub-second truncated", time.Date(2026, 1, 2, 3, 4, 5, 999_000_000, time.UTC), time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
		{"before epoch", time.Date(1969, 7, 21, 2, 56, 15, 0, time.UTC), time.Date(1969, 7, 21, 2, 56, 15, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := xmpptest.Parse(t, Element(tt.in).String())
			got, err := Parse(e)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tt.want) || got.Location() != time.UTC {
				t.Fatalf("got %v, want %v in UTC", got, tt.want)
			}
		})
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		xml     string
		want    time.Time
		wantErr bool
	}{
		{"xep example", `<idle xmlns='urn:xmpp:idle:1' since='1969-07-21T02:56:15Z'/>`, time.Date(1969, 7, 21, 2, 56, 15, 0, time.UTC), false},
		{"fraction and offset", `<idle xmlns='urn:xmpp:idle:1' since='2026-11-25T12:00:00.250+02:00'/>`, time.Date(2026, 11, 25, 10, 0, 0, 250_000_000, time.UTC), false},
		{"missing since", `<idle xmlns='urn:xmpp:idle:1'/>`, time.Time{}, true},
		{"garbage since", `<idle xmlns='urn:xmpp:idle:1' since='yesterday'/>`, time.Time{}, true},
		{"no zone", `<idle xmlns='urn:xmpp:idle:1' since='2026-11-25T10:00:00'/>`, time.Time{}, true},
		{"wrong namespace", `<idle xmlns='urn:xmpp:idle:0' since='2026-11-25T10:00:00Z'/>`, time.Time{}, true},
		{"wrong name", `<active xmlns='urn:xmpp:idle:1' since='2026-11-25T10:00:00Z'/>`, time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Fatal("Parse(nil): no error")
	}
}

func ExampleElement() {
	since := time.Date(2026, 11, 25, 11, 0, 0, 0, time.FixedZone("CET", 3600))
	fmt.Println(Element(since))
	// Output:
	// <idle xmlns="urn:xmpp:idle:1" since="2026-11-25T10:00:00Z"/>
}
