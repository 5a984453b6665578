// Package delay implements XEP-0203: Delayed Delivery, gateway side.
//
// Messages backfilled from the legacy network, or queued while the component link was down,
// carry <delay/> so that clients show when they were really sent.
package delay

import (
	"errors"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
)

// NS is the namespace of XEP-0203.
const NS = "urn:xmpp:delay"

// layout is the XEP-0082 DateTime written: UTC, with milliseconds when there are any, which
// keeps the order of several messages sent within one second.
const layout = "2006-01-02T15:04:05.999Z"

// Element returns <delay xmlns='urn:xmpp:delay' from=... stamp=.../>. from is the entity that
// delayed the stanza (usually the gateway's own JID); empty leaves the attribute out.
func Element(from string, stamp time.Time) *xmpp.Element {
	return xmpp.Elem(NS, "delay", "from", from, "stamp", stamp.UTC().Format(layout))
}

// Parse reads a <delay/> element: who delayed the stanza (possibly empty) and when it was
// originally sent, in UTC. It accepts any XEP-0082 DateTime.
func Parse(e *xmpp.Element) (from string, stamp time.Time, err error) {
	if e == nil || e.Name.Space != NS || e.Name.Local != "delay" {
		return "", time.Time{}, errors.New("delay: not a <delay xmlns='" + NS + "'/> element")
	}
	s := e.Get("stamp")
	if s == "" {
		return "", time.Time{}, errors.New("delay: missing stamp attribute")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return "", time.Time{}, errors.New("delay: stamp is not an XEP-0082 DateTime: " + s)
	}
	return e.Get("from"), t.UTC(), nil
}
