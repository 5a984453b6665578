// Package avatar implements XEP-0084: User Avatar, gateway side.
//
// A puppet serves its contact's avatar as if from a PEP service: the metadata node says which
// image is current (its SHA-1 is the item ID) and the data node holds the image itself. Clients
// learn of a change through a pubsub event and fetch the data only for IDs they have not cached.
package avatar

import (
	"bytes"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strconv"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces of XEP-0084 (also the names of its two PEP nodes) and of XEP-0060 pubsub.
const (
	NSData     = "urn:xmpp:avatar:data"
	NSMetadata = "urn:xmpp:avatar:metadata"
	NSPubSub   = "http://jabber.org/protocol/pubsub"
	NSEvent    = "http://jabber.org/protocol/pubsub#event"
)

// Info describes one avatar image, as the metadata node's <info/> element does.
type Info struct {
	ID            string // SHA-1 of the image data, lower-case hex; also the pubsub item ID
	Bytes         int    // size of the image data
	Type          string // MIME type, e.g. "image/png"
	Width, Height int    // in pixels; 0 when unknown (then left out)
}

// ID returns the XEP-0084 ID of an image: the hex SHA-1 of its bytes. It is also the XEP-0153
// photo hash, so one value serves both avatar protocols.
func ID(data []byte) string {
	sum := sha1.Sum(data) // #nosec G401 -- XEP-0084 mandates sha-1 as the avatar ID
	return hex.EncodeToString(sum[:])
}

// ErrUnknownFormat is returned by NewInfo for data that is not PNG, JPEG, GIF or WebP.
var ErrUnknownFormat = errors.New("avatar: unknown image format")

// NewInfo describes data: ID, size, and, for PNG, JPEG, GIF and WebP, the MIME type and
// dimensions read from the header (the image is not decoded). On error ID and Bytes are still
// set, and Type too when the format was recognised but its header is damaged.
//
// The standard library's per-format DecodeConfig functions are called directly rather than
// image.DecodeConfig, so the result does not depend on which decoders other packages register.
func NewInfo(data []byte) (Info, error) {
	in := Info{ID: ID(data), Bytes: len(data)}
	var decode func([]byte) (image.Config, error)
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		in.Type, decode = "image/png", readerConfig(png.DecodeConfig)
	case bytes.HasPrefix(data, []byte("\xff\xd8\xff")):
		in.Type, decode = "image/jpeg", readerConfig(jpeg.DecodeConfig)
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		in.Type, decode = "image/gif", readerConfig(gif.DecodeConfig)
	case len(data) >= 12 && string(data[:4]) == "RIFF" && string(data[8:12]) == "WEBP":
		in.Type, decode = "image/webp", webpConfig
	default:
		return in, ErrUnknownFormat
	}
	cfg, err := decode(data)
	if err != nil {
		return in, errors.New("avatar: " + in.Type + " header: " + err.Error())
	}
	in.Width, in.Height = cfg.Width, cfg.Height
	return in, nil
}

func readerConfig(f func(r io.Reader) (image.Config, error)) func([]byte) (image.Config, error) {
	return func(b []byte) (image.Config, error) { return f(bytes.NewReader(b)) }
}

// webpConfig reads the canvas size from a WebP header: simple lossy (VP8), lossless (VP8L) or
// extended (VP8X) format.
func webpConfig(d []byte) (image.Config, error) {
	if len(d) < 30 {
		return image.Config{}, errors.New("short WebP header")
	}
	var w, h int
	switch string(d[12:16]) {
	case "VP8 ":
		// 3-byte frame tag, start code, then 14-bit width and height (2 bits of scale each).
		if d[23] != 0x9d || d[24] != 0x01 || d[25] != 0x2a {
			return image.Config{}, errors.New("bad VP8 start code")
		}
		w = int(binary.LittleEndian.Uint16(d[26:]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(d[28:]) & 0x3fff)
	case "VP8L":
		if d[20] != 0x2f {
			return image.Config{}, errors.New("bad VP8L signature")
		}
		bits := binary.LittleEndian.Uint32(d[21:])
		w = int(bits&0x3fff) + 1
		h = int(bits>>14&0x3fff) + 1
	case "VP8X":
		w = int(uint32(d[24])|uint32(d[25])<<8|uint32(d[26])<<16) + 1
		h = int(uint32(d[27])|uint32(d[28])<<8|uint32(d[29])<<16) + 1
	default:
		return image.Config{}, errors.New("unknown WebP chunk " + strconv.Quote(string(d[12:16])))
	}
	return image.Config{Width: w, Height: h}, nil
}

// metadata returns <metadata xmlns='urn:xmpp:avatar:metadata'/> with info's <info/>, or empty
// for nil (avatar publishing disabled: the contact has no avatar).
func metadata(info *Info) *xmpp.Element {
	m := xmpp.Elem(NSMetadata, "metadata")
	if info != nil {
		m.Add(xmpp.Elem(NSMetadata, "info",
			"bytes", strconv.Itoa(info.Bytes),
			"height", positive(info.Height),
			"id", info.ID,
			"type", info.Type,
			"width", positive(info.Width)))
	}
	return m
}

func positive(n int) string {
	if n <= 0 {
		return "" // left out by xmpp.Elem
	}
	return strconv.Itoa(n)
}

// items wraps payload in <items node=node><item id=id>, in namespace ns (pubsub or its
// #event); an empty id leaves the attribute out.
func items(ns, node, id string, payload *xmpp.Element) *xmpp.Element {
	return xmpp.Elem(ns, "items", "node", node).Add(xmpp.Elem(ns, "item", "id", id).Add(payload))
}

// MetadataItem returns the <pubsub/> payload of the IQ result to a retrieve-items request on the
// metadata node. A nil info gives an empty <metadata/> in an item without ID: no avatar.
func MetadataItem(info *Info) *xmpp.Element {
	return xmpp.Elem(NSPubSub, "pubsub").Add(items(NSPubSub, NSMetadata, itemID(info), metadata(info)))
}

// MetadataEvent returns the <event xmlns='http://jabber.org/protocol/pubsub#event'/> payload of
// the headline message that tells the user a contact's avatar changed (nil info: removed).
func MetadataEvent(info *Info) *xmpp.Element {
	return xmpp.Elem(NSEvent, "event").Add(items(NSEvent, NSMetadata, itemID(info), metadata(info)))
}

func itemID(info *Info) string {
	if info == nil {
		return ""
	}
	return info.ID
}

// DataItem returns the <pubsub/> payload of the IQ result to a retrieve-items request on the
// data node: the image, base64 without line breaks, in the item id.
func DataItem(id string, data []byte) *xmpp.Element {
	d := xmpp.Elem(NSData, "data").WithText(base64.StdEncoding.EncodeToString(data))
	return xmpp.Elem(NSPubSub, "pubsub").Add(items(NSPubSub, NSData, id, d))
}

// ParseItemsRequest reads the <pubsub/> child of an IQ get: the node items are requested from
// and the requested item ID, empty when the latest item is wanted. Only the first <item/> is
// considered. Errors are *xmpp.StanzaError (bad-request), ready for xmpp.ErrorReply; the caller
// answers item-not-found for nodes and IDs it does not serve.
func ParseItemsRequest(pubsub *xmpp.Element) (node, itemID string, err error) {
	if pubsub == nil || pubsub.Name.Space != NSPubSub || pubsub.Name.Local != "pubsub" {
		return "", "", badRequest("not a pubsub request")
	}
	its := pubsub.Child(NSPubSub, "items")
	if its == nil {
		return "", "", badRequest("no <items/> in pubsub request")
	}
	node = its.Get("node")
	if node == "" {
		return "", "", badRequest("node required")
	}
	if it := its.Child(NSPubSub, "item"); it != nil {
		if itemID = it.Get("id"); itemID == "" {
			return "", "", badRequest("item without id")
		}
	}
	return node, itemID, nil
}

func badRequest(text string) *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: text}
}
