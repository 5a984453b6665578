// Package xmpptest holds what the tests of the XEP packages share.
package xmpptest

import (
	"testing"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Parse reads the first element of s, as the component link would, and fails the test if s
// holds none.
func Parse(t testing.TB, s string) *xmpp.Element {
	t.Helper()
	e, err := xmpp.ParseElement(s)
	if err != nil {
		t.Fatalf("parse %q: %v", s, err)
	}
	return e
}
