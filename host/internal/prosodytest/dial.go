package prosodytest

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"testing"

	"mellium.im/sasl"
	"mellium.im/xmpp"
	"mellium.im/xmpp/jid"
)

// Dial logs in a real mellium client over c2s: plain TCP to addr (no SRV
// lookup), STARTTLS without certificate verification (the test certificate is
// self-signed), SASL PLAIN and resource binding (a resourcepart in addr is
// ignored, the server assigns one). No initial presence is sent, and nothing
// reads from the session: run Serve yourself before sending IQs.
//
// ctx bounds the connection and negotiation. t.Cleanup closes the session.
func Dial(ctx context.Context, t testing.TB, addr, jidStr, password string) (*xmpp.Session, error) {
	t.Helper()
	j, err := jid.Parse(jidStr)
	if err != nil {
		return nil, fmt.Errorf("prosodytest: parse jid %q: %w", jidStr, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("prosodytest: dial %s: %w", addr, err)
	}
	tlsCfg := &tls.Config{
		ServerName:         j.Domainpart(),
		InsecureSkipVerify: true, // #nosec G402 -- self-signed test certificate
		MinVersion:         tls.VersionTLS12,
	}
	sess, err := xmpp.NewSession(ctx, j.Domain(), j.Bare(), conn, 0, xmpp.NewNegotiator(
		func(*xmpp.Session, *xmpp.StreamConfig) xmpp.StreamConfig {
			return xmpp.StreamConfig{Features: []xmpp.StreamFeature{
				xmpp.StartTLS(tlsCfg),
				xmpp.SASL("", password, sasl.Plain),
				xmpp.BindResource(),
			}}
		}))
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("prosodytest: log in %s at %s: %w", j.Bare(), addr, err)
	}
	t.Cleanup(func() {
		_ = sess.Close()
		_ = conn.Close()
	})
	return sess, nil
}
