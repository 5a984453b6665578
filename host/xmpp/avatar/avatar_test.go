package avatar

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func encoded(t *testing.T, enc func(*bytes.Buffer, image.Image) error, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	var b bytes.Buffer
	if err := enc(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// webp returns a RIFF/WEBP file whose first chunk is kind with the given payload, padded so
// that a header reader finds everything it needs.
func webp(kind string, payload ...byte) []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBP" + kind)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	for len(b) < 40 {
		b = append(b, 0)
	}
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

func TestNewInfo(t *testing.T) {
	pngData := encoded(t, func(b *bytes.Buffer, m image.Image) error { return png.Encode(b, m) }, 64, 48)
	jpegData := encoded(t, func(b *bytes.Buffer, m image.Image) error { return jpeg.Encode(b, m, nil) }, 96, 96)
	gifData := encoded(t, func(b *bytes.Buffer, m image.Image) error { return gif.Encode(b, m, nil) }, 17, 5)
	vp8l := binary.LittleEndian.AppendUint32([]byte{0x2f}, (300-1)|(200-1)<<14)
	vp8 := []byte{0, 0, 0, 0x9d, 0x01, 0x2a}
	vp8 = binary.LittleEndian.AppendUint16(vp8, 640|1<<14) // scale bits must be masked off
	vp8 = binary.LittleEndian.AppendUint16(vp8, 480)
	vp8x := []byte{0x10, 0, 0, 0, 0xff, 0x0f, 0x00, 0x1f, 0x00, 0x00} // 4096 x 32

	tests := []struct {
		name          string
		data          []byte
		wantType      string
		wantW, wantH  int
		wantErr       bool
		wantErrIsFmt  bool
		wantTypeOnErr bool
	}{
		{name: "png", data: pngData, wantType: "image/png", wantW: 64, wantH: 48},
		{name: "jpeg", data: jpegData, wantType: "image/jpeg", wantW: 96, wantH: 96},
		{name: "gif", data: gifData, wantType: "image/gif", wantW: 17, wantH: 5},
		{name: "webp lossless", data: webp("VP8L", vp8l...), wantType: "image/webp", wantW: 300, wantH: 200},
		{name: "webp lossy", data: webp("VP8 ", vp8...), wantType: "image/webp", wantW: 640, wantH: 480},
		{name: "webp extended", data: webp("VP8X", vp8x...), wantType: "image/webp", wantW: 4096, wantH: 32},
		{name: "empty", data: nil, wantErr: true, wantErrIsFmt: true},
		{name: "text", data: []byte("<svg/>"), wantErr: true, wantErrIsFmt: true},
		{name: "truncated png", data: pngData[:12], wantType: "image/png", wantErr: true},
		{name: "truncated jpeg", data: jpegData[:4], wantType: "image/jpeg", wantErr: true},
		{name: "truncated gif", data: []byte("GIF89a\x01"), wantType: "image/gif", wantErr: true},
		{name: "short webp", data: []byte("RIFF\x00\x00\x00\x00WEBPVP8L"), wantType: "image/webp", wantErr: true},
		{name: "webp bad chunk", data: webp("ALPH"), wantType: "image/webp", wantErr: true},
		{name: "webp bad vp8 start", data: webp("VP8 ", 0, 0, 0, 1, 2, 3), wantType: "image/webp", wantErr: true},
		{name: "webp bad vp8l signature", data: webp("VP8L", 0x2e, 0, 0, 0, 0), wantType: "image/webp", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NewInfo(tt.data)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if tt.wantErrIsFmt && !errors.Is(err, ErrUnknownFormat) {
				t.Fatalf("err = %v, want ErrUnknownFormat", err)
			}
			want := Info{ID: ID(tt.data), Bytes: len(tt.data), Type: tt.wantType, Width: tt.wantW, Height: tt.wantH}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}

func TestID(t *testing.T) {
	// SHA-1 of the empty string and of "abc" (FIPS 180 test vector).
	if got := ID(nil); got != "da39a3ee5e6b4b0d3255bfef95601890afd80709" {
		t.Fatal(got)
	}
	if got := ID([]byte("abc")); got != "a9993e364706816aba3e25717850c26c9cd0d89d" {
		t.Fatal(got)
	}
}

// parseInfo reads back what MetadataItem or MetadataEvent wrote, the way a client would.
func parseInfo(t *testing.T, root *xmpp.Element, ns string) (itemID string, info *Info) {
	t.Helper()
	its := root.Child(ns, "items")
	if its == nil || its.Get("node") != NSMetadata {
		t.Fatalf("no metadata items in %s", root)
	}
	it := its.Child(ns, "item")
	m := it.Child(NSMetadata, "metadata")
	if m == nil {
		t.Fatalf("no metadata in %s", root)
	}
	in := m.Child(NSMetadata, "info")
	if in == nil {
		return it.Get("id"), nil
	}
	atoi := func(s string) int {
		var n int
		if s != "" {
			if _, err := fmt.Sscan(s, &n); err != nil {
				t.Fatal(err)
			}
		}
		return n
	}
	return it.Get("id"), &Info{ID: in.Get("id"), Bytes: atoi(in.Get("bytes")), Type: in.Get("type"), Width: atoi(in.Get("width")), Height: atoi(in.Get("height"))}
}

func TestMetadataRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		info *Info
	}{
		{"no avatar", nil},
		{"full", &Info{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Bytes: 12345, Type: "image/png", Width: 64, Height: 64}},
		{"size unknown", &Info{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Bytes: 1, Type: "image/webp"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				ns string
				e  *xmpp.Element
			}{{NSPubSub, MetadataItem(tt.info)}, {NSEvent, MetadataEvent(tt.info)}} {
				id, got := parseInfo(t, xmpptest.Parse(t, c.e.String()), c.ns)
				if tt.info == nil {
					if got != nil || id != "" {
						t.Fatalf("%s: got item %q %+v, want empty metadata", c.ns, id, got)
					}
					continue
				}
				if got == nil || *got != *tt.info || id != tt.info.ID {
					t.Fatalf("%s: got item %q %+v, want %+v", c.ns, id, got, tt.info)
				}
			}
		})
	}
}

func TestDataItemRoundTrip(t *testing.T) {
	data := []byte("\x89PNG\r\n\x1a\n\x00\xff<&>")
	e := xmpptest.Parse(t, DataItem(ID(data), data).String())
	node, id, err := ParseItemsRequest(e) // a result has the shape of a request with content
	if err != nil || node != NSData || id != ID(data) {
		t.Fatalf("got %q %q %v", node, id, err)
	}
	d := e.Child(NSPubSub, "items").Child(NSPubSub, "item").Child(NSData, "data")
	if d == nil || d.Text != "iVBORw0KGgoA/zwmPg==" {
		t.Fatalf("data = %v", d)
	}
}

func TestParseItemsRequest(t *testing.T) {
	tests := []struct {
		name             string
		xml              string
		wantNode, wantID string
		wantErr          bool
	}{
		{"by id", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:data'><item id='111f4b3c50d7b0df729d299bc6f8e9ef9066971f'/></items></pubsub>`, NSData, "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", false},
		{"latest", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:avatar:metadata' max_items='1'/></pubsub>`, NSMetadata, "", false},
		{"other node passed through", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='http://jabber.org/protocol/nick'/></pubsub>`, "http://jabber.org/protocol/nick", "", false},
		{"first of several items", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'><item id='a'/><item id='b'/></items></pubsub>`, "n", "a", false},
		{"no node", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items/></pubsub>`, "", "", true},
		{"item without id", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='n'><item/></items></pubsub>`, "", "", true},
		{"publish not items", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='n'/></pubsub>`, "", "", true},
		{"items in wrong namespace", `<pubsub xmlns='http://jabber.org/protocol/pubsub'><items xmlns='urn:other' node='n'/></pubsub>`, "", "", true},
		{"owner namespace", `<pubsub xmlns='http://jabber.org/protocol/pubsub#owner'><items node='n'/></pubsub>`, "", "", true},
		{"empty", `<pubsub xmlns='http://jabber.org/protocol/pubsub'/>`, "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			node, id, err := ParseItemsRequest(xmpptest.Parse(t, tt.xml))
			if (err != nil) != tt.wantErr || node != tt.wantNode || id != tt.wantID {
				t.Fatalf("got %q %q %v, want %q %q err %v", node, id, err, tt.wantNode, tt.wantID, tt.wantErr)
			}
			var se *xmpp.StanzaError
			if err != nil && (!errors.As(err, &se) || se.Condition != "bad-request") {
				t.Fatalf("err = %#v, want a bad-request StanzaError", err)
			}
		})
	}
	if _, _, err := ParseItemsRequest(nil); err == nil {
		t.Fatal("ParseItemsRequest(nil): no error")
	}
}

func ExampleMetadataItem() {
	info := &Info{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Bytes: 12345, Type: "image/png", Width: 64, Height: 64}
	fmt.Println(MetadataItem(info))
	fmt.Println(MetadataItem(nil))
	// Output:
	// <pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:avatar:metadata"><item id="111f4b3c50d7b0df729d299bc6f8e9ef9066971f"><metadata xmlns="urn:xmpp:avatar:metadata"><info bytes="12345" height="64" id="111f4b3c50d7b0df729d299bc6f8e9ef9066971f" type="image/png" width="64"/></metadata></item></items></pubsub>
	// <pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:avatar:metadata"><item><metadata xmlns="urn:xmpp:avatar:metadata"/></item></items></pubsub>
}

func ExampleMetadataEvent() {
	info := &Info{ID: "111f4b3c50d7b0df729d299bc6f8e9ef9066971f", Bytes: 12345, Type: "image/png", Width: 64, Height: 64}
	msg := xmpp.Elem(xmpp.NSComponent, "message", "from", "1001@telegram.example.org", "to", "romeo@montague.lit", "type", "headline")
	fmt.Println(msg.Add(MetadataEvent(info)))
	// Output:
	// <message from="1001@telegram.example.org" to="romeo@montague.lit" type="headline"><event xmlns="http://jabber.org/protocol/pubsub#event"><items node="urn:xmpp:avatar:metadata"><item id="111f4b3c50d7b0df729d299bc6f8e9ef9066971f"><metadata xmlns="urn:xmpp:avatar:metadata"><info bytes="12345" height="64" id="111f4b3c50d7b0df729d299bc6f8e9ef9066971f" type="image/png" width="64"/></metadata></item></items></event></message>
}

func ExampleDataItem() {
	data := []byte("\x89PNG\r\n\x1a\n")
	fmt.Println(DataItem(ID(data), data))
	// Output:
	// <pubsub xmlns="http://jabber.org/protocol/pubsub"><items node="urn:xmpp:avatar:data"><item id="4caece539b039b16e16206ea2478f8c5ffb2ca05"><data xmlns="urn:xmpp:avatar:data">iVBORw0KGgo=</data></item></items></pubsub>
}

func ExampleParseItemsRequest() {
	iq := xmpp.Elem(xmpp.NSComponent, "iq", "type", "get", "id", "retrieve1", "from", "romeo@montague.lit/home", "to", "1001@telegram.example.org").Add(
		xmpp.Elem(NSPubSub, "pubsub").Add(xmpp.Elem(NSPubSub, "items", "node", NSData).Add(xmpp.Elem(NSPubSub, "item", "id", "4caece539b039b16e16206ea2478f8c5ffb2ca05"))))
	node, id, err := ParseItemsRequest(iq.Child(NSPubSub, "pubsub"))
	fmt.Println(node, id, err)
	_, _, err = ParseItemsRequest(xmpp.Elem(NSPubSub, "pubsub"))
	fmt.Println(xmpp.ErrorReply(iq, err.(*xmpp.StanzaError)))
	// Output:
	// urn:xmpp:avatar:data 4caece539b039b16e16206ea2478f8c5ffb2ca05 <nil>
	// <iq type="error" id="retrieve1" from="1001@telegram.example.org" to="romeo@montague.lit/home"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">no &lt;items/&gt; in pubsub request</text></error></iq>
}

// FuzzNewInfo checks that no image header makes NewInfo panic and that ID and Bytes are always
// set.
func FuzzNewInfo(f *testing.F) {
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"))
	f.Add([]byte("\xff\xd8\xff\xe0\x00\x10JFIF"))
	f.Add([]byte("GIF89a\x01\x00\x01\x00"))
	f.Add(webp("VP8X", 0x10, 0, 0, 0, 0xff, 0x0f, 0x00, 0x1f, 0x00, 0x00))
	f.Fuzz(func(t *testing.T, data []byte) {
		in, _ := NewInfo(data)
		if in.ID != ID(data) || in.Bytes != len(data) {
			t.Fatalf("got %+v", in)
		}
	})
}
