// Package idle implements XEP-0319: Last User Interaction in Presence, gateway side.
//
// A puppet whose legacy contact has been inactive carries <idle since=.../> in its presence, so
// that clients can show "idle for 20 minutes" or, on an unavailable presence, "last seen".
package idle

import (
	"errors"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
)

// NS is the namespace of XEP-0319.
const NS = "urn:xmpp:idle:1"

// Layout is the XEP-0082 DateTime profile written by Element: UTC, whole seconds. It is
// exported so that writers that bypass xmpp.Element (the presence hot path) produce the very
// same bytes.
const Layout = "2006-01-02T15:04:05Z"

// Element returns <idle xmlns='urn:xmpp:idle:1' since=.../> for the instant of the contact's
// last interaction, written in UTC to the second (finer precision means nothing to a user).
func Element(since time.Time) *xmpp.Element {
	return xmpp.Elem(NS, "idle", "since", since.UTC().Format(Layout))
}

// Parse reads an <idle/> element. It accepts any XEP-0082 DateTime (fractional seconds, numeric
// offsets) and returns the instant in UTC.
func Parse(e *xmpp.Element) (time.Time, error) {
	if e == nil || e.Name.Space != NS || e.Name.Local != "idle" {
		return time.Time{}, errors.New("idle: not an <idle xmlns='" + NS + "'/> element")
	}
	s := e.Get("since")
	if s == "" {
		return time.Time{}, errors.New("idle: missing since attribute")
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, errors.New("idle: since is not an XEP-0082 DateTime: " + s)
	}
	return t.UTC(), nil
}
