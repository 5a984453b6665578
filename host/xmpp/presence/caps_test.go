package presence

import (
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp/disco"
)

// The example of XEP-0115 section 5.2.
var (
	exodusFeatures = []string{
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/caps",
	}
	exodusVer = "QgayPKawpkPSDYmwT/WM94uAlu0="
)

func TestPuppetInfo(t *testing.T) {
	in := append([]string(nil), exodusFeatures...)
	sorted := []string{
		"http://jabber.org/protocol/caps",
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
	}
	tests := []struct {
		name     string
		features []string
		wantFeat []string
		wantVer  string
	}{
		{"xep-0115 example", in, sorted, exodusVer},
		{"duplicates removed", append(append([]string(nil), in...), in[0], in[2]), sorted, exodusVer},
		{"no features", nil, nil, "1je/wt/WlvjlG+p7Vfy11/9aRoI="},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			info := PuppetInfo("pc", "Exodus 0.9.1", tt.features)
			if want := []disco.Identity{{Category: "client", Type: "pc", Name: "Exodus 0.9.1"}}; !reflect.DeepEqual(info.Identities, want) {
				t.Fatalf("identities = %+v", info.Identities)
			}
			if !reflect.DeepEqual(info.Features, tt.wantFeat) {
				t.Fatalf("features = %q, want %q", info.Features, tt.wantFeat)
			}
			if info.CapsHash() != tt.wantVer {
				t.Fatalf("ver = %s, want %s", info.CapsHash(), tt.wantVer)
			}
		})
	}
	if !reflect.DeepEqual(in, exodusFeatures) {
		t.Fatal("PuppetInfo modified its argument")
	}
}

func TestInfoCache(t *testing.T) {
	const node = "https://github.com/xmppgw/gateway"
	c := NewInfoCache(node, "Exodus 0.9.1")
	info, caps := c.Get("pc", exodusFeatures)
	if caps.Node != node || caps.Ver != exodusVer || info.CapsHash() != exodusVer {
		t.Fatalf("caps = %+v, info hash %s", caps, info.CapsHash())
	}
	if _, again := c.Get("pc", exodusFeatures); again != caps {
		t.Fatal("second Get did not return the shared *Caps")
	}
	reversed := []string{exodusFeatures[3], exodusFeatures[2], exodusFeatures[1], exodusFeatures[0]}
	if _, other := c.Get("pc", reversed); other != caps {
		t.Fatal("feature order changed the entry")
	}
	_, phone := c.Get("phone", exodusFeatures)
	if phone == caps || phone.Ver == exodusVer {
		t.Fatal("client type ignored")
	}
	tests := []struct {
		node string
		want bool
	}{
		{node + "#" + exodusVer, true},
		{node + "#" + phone.Ver, true},
		{node + "#unknown", false},
		{"http://other#" + exodusVer, false},
		{node, false},
		{"", false},
	}
	for _, tt := range tests {
		got, ok := c.Lookup(tt.node)
		if ok != tt.want {
			t.Fatalf("Lookup(%q) = %v, want %v", tt.node, ok, tt.want)
		}
		if ok && got.CapsHash() != tt.node[len(node)+1:] {
			t.Fatalf("Lookup(%q) gave info hashing to %s", tt.node, got.CapsHash())
		}
	}
	if n := testing.AllocsPerRun(100, func() { c.Get("pc", exodusFeatures) }); n != 0 {
		t.Fatalf("cache hit: %v allocations", n)
	}
}

func TestInfoCacheConcurrent(t *testing.T) {
	c := NewInfoCache("n", "x")
	var wg sync.WaitGroup
	got := make([]*Caps, 16)
	for i := range got {
		wg.Go(func() {
			fs := exodusFeatures
			if i%2 == 1 {
				fs = []string{exodusFeatures[1], exodusFeatures[0], exodusFeatures[3], exodusFeatures[2]}
			}
			_, got[i] = c.Get("pc", fs)
		})
	}
	wg.Wait()
	for _, p := range got {
		if p != got[0] {
			t.Fatal("concurrent Gets of one feature set returned different *Caps")
		}
	}
}

func BenchmarkInfoCacheGet(b *testing.B) {
	c := NewInfoCache("https://github.com/xmppgw/gateway", "Gateway")
	c.Get("phone", exodusFeatures)
	b.ReportAllocs()
	for b.Loop() {
		c.Get("phone", exodusFeatures)
	}
}

func ExampleInfoCache() {
	c := NewInfoCache("https://github.com/xmppgw/gateway", "Exodus 0.9.1")
	info, caps := c.Get("pc", []string{
		"http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items",
		"http://jabber.org/protocol/muc",
		"http://jabber.org/protocol/caps",
	})
	p := Presence{From: "1001@telegram.example.org", To: "romeo@montague.lit", Caps: caps}
	fmt.Println(p.String())
	fmt.Println(info.Element(caps.Node + "#" + caps.Ver))
	// Output:
	// <presence from="1001@telegram.example.org" to="romeo@montague.lit"><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://github.com/xmppgw/gateway" ver="QgayPKawpkPSDYmwT/WM94uAlu0="/></presence>
	// <query xmlns="http://jabber.org/protocol/disco#info" node="https://github.com/xmppgw/gateway#QgayPKawpkPSDYmwT/WM94uAlu0="><identity category="client" type="pc" name="Exodus 0.9.1"/><feature var="http://jabber.org/protocol/caps"/><feature var="http://jabber.org/protocol/disco#info"/><feature var="http://jabber.org/protocol/disco#items"/><feature var="http://jabber.org/protocol/muc"/></query>
}
