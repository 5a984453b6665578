package main

import (
	"context"
	"crypto/tls"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"mellium.im/sasl"
	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"
	"mellium.im/xmpp/jid"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces the driver speaks.
const (
	nsClient     = "jabber:client"
	nsRegister   = "jabber:iq:register"
	nsData       = "jabber:x:data"
	nsRoster     = "jabber:iq:roster"
	nsReceipts   = "urn:xmpp:receipts"
	nsMarkers    = "urn:xmpp:chat-markers:0"
	nsChatStates = "http://jabber.org/protocol/chatstates"
)

// client is one logged-in XMPP user (mellium over c2s with STARTTLS, SASL PLAIN, bind).
type client struct {
	idx  int
	user string // bare JID
	sess *mxmpp.Session
	conn net.Conn

	mu      sync.Mutex
	pending map[string]chan *xmpp.Element // IQ answers by id
	nextIQ  atomic.Int64
	gwPres  chan *xmpp.Element // presences from the gateway JID
	gwJID   string

	run atomic.Pointer[track] // the measurement under way, nil between runs
}

// dialClient logs user in at addr (plain TCP, then STARTTLS without verification, SASL PLAIN,
// resource binding), starts serving its stream and sends initial presence.
func dialClient(ctx context.Context, idx int, addr, user, password, gwJID string) (*client, error) {
	sess, conn, err := negotiate(ctx, addr, user, func(j jid.JID, tlsCfg *tls.Config) []mxmpp.StreamFeature {
		return []mxmpp.StreamFeature{mxmpp.StartTLS(tlsCfg), mxmpp.SASL("", password, sasl.Plain), mxmpp.BindResource()}
	})
	if err != nil {
		return nil, err
	}
	c := &client{idx: idx, user: user, sess: sess, conn: conn, gwJID: gwJID,
		pending: map[string]chan *xmpp.Element{}, gwPres: make(chan *xmpp.Element, 64)}
	go func() { _ = sess.Serve(mxmpp.HandlerFunc(c.handle)) }()
	// Initial presence: the server routes bare-JID messages and presences to available
	// resources only.
	if err := c.send(ctx, []xml.Token{xml.StartElement{Name: xml.Name{Local: "presence"}}, xml.EndElement{Name: xml.Name{Local: "presence"}}}); err != nil {
		c.close()
		return nil, fmt.Errorf("%s: initial presence: %w", user, err)
	}
	return c, nil
}

// negotiate dials addr and negotiates a client stream for user with the given features.
func negotiate(ctx context.Context, addr, user string, features func(jid.JID, *tls.Config) []mxmpp.StreamFeature) (*mxmpp.Session, net.Conn, error) {
	j, err := jid.Parse(user)
	if err != nil {
		return nil, nil, fmt.Errorf("jid %q: %w", user, err)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, fmt.Errorf("dial %s: %w", addr, err)
	}
	tlsCfg := &tls.Config{ServerName: j.Domainpart(), InsecureSkipVerify: true, MinVersion: tls.VersionTLS12} // #nosec G402 -- self-signed loopback certificate
	fs := features(j, tlsCfg)
	sess, err := mxmpp.NewSession(ctx, j.Domain(), j.Bare(), conn, 0, mxmpp.NewNegotiator(
		func(*mxmpp.Session, *mxmpp.StreamConfig) mxmpp.StreamConfig {
			return mxmpp.StreamConfig{Features: fs}
		}))
	if err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("log in %s at %s: %w", user, addr, err)
	}
	return sess, conn, nil
}

// registerInBand creates the account user with password through XEP-0077 on the c2s port,
// after STARTTLS and before authentication (the server must allow registration). It speaks the
// few stanzas it needs directly: mellium has no client side of in-band registration.
func registerInBand(ctx context.Context, addr, user, password string) error {
	local, domain, _ := xmpp.SplitJID(user)
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	var conn net.Conn = raw
	header := "<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' to='" + domain + "'>"
	// open starts a stream and returns a decoder positioned after its features.
	open := func() (*xml.Decoder, *xmpp.Element, error) {
		if _, err := io.WriteString(conn, header); err != nil {
			return nil, nil, err
		}
		dec := xml.NewDecoder(conn)
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, nil, err
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "features" {
				f, err := xmpp.ReadElement(dec, se)
				return dec, f, err
			}
		}
	}
	next := func(dec *xml.Decoder) (*xmpp.Element, error) {
		for {
			tok, err := dec.Token()
			if err != nil {
				return nil, err
			}
			if se, ok := tok.(xml.StartElement); ok {
				return xmpp.ReadElement(dec, se)
			}
		}
	}
	dec, features, err := open()
	if err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	if features.Child("urn:ietf:params:xml:ns:xmpp-tls", "starttls") != nil {
		if _, err := io.WriteString(conn, "<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>"); err != nil {
			return fmt.Errorf("register %s: %w", user, err)
		}
		if el, err := next(dec); err != nil || el.Name.Local != "proceed" {
			return fmt.Errorf("register %s: starttls refused: %v %v", user, el, err)
		}
		tc := tls.Client(raw, &tls.Config{ServerName: domain, InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) // #nosec G402 -- self-signed loopback certificate
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("register %s: %w", user, err)
		}
		conn = tc
		if dec, _, err = open(); err != nil {
			return fmt.Errorf("register %s: %w", user, err)
		}
	}
	iq := xmpp.Elem(nsClient, "iq", "type", "set", "id", "reg1").Add(
		xmpp.Elem(nsRegister, "query").Add(
			xmpp.Elem(nsRegister, "username").WithText(local),
			xmpp.Elem(nsRegister, "password").WithText(password)))
	if _, err := conn.Write(iq.AppendXML(nil, nsClient)); err != nil {
		return fmt.Errorf("register %s: %w", user, err)
	}
	for {
		el, err := next(dec)
		if err != nil {
			return fmt.Errorf("register %s: %w", user, err)
		}
		if el.Name.Local != "iq" || el.Get("id") != "reg1" {
			continue
		}
		_, _ = io.WriteString(conn, "</stream:stream>")
		if el.Get("type") == "result" {
			return nil
		}
		// conflict: the account exists already, fine for a benchmark user with a known password.
		if e := el.Child(nsClient, "error"); e != nil && e.Child(xmpp.NSStanzas, "conflict") != nil {
			return nil
		}
		return fmt.Errorf("register %s in band refused: %s", user, el)
	}
}

func (c *client) close() {
	_ = c.sess.Close()
	_ = c.conn.Close()
}

// handle receives every stanza of the stream (mellium calls it on its reader goroutine).
func (c *client) handle(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	el, err := xmpp.ReadElement(r, *start)
	if err != nil {
		return err
	}
	switch el.Name.Local {
	case "message":
		if t := c.run.Load(); t != nil {
			t.onMessage(el)
		}
	case "presence":
		if xmpp.Bare(el.Get("from")) == c.gwJID {
			select {
			case c.gwPres <- el:
			default:
			}
		}
	case "iq":
		switch el.Get("type") {
		case "result", "error":
			c.mu.Lock()
			ch := c.pending[el.Get("id")]
			delete(c.pending, el.Get("id"))
			c.mu.Unlock()
			if ch != nil {
				ch <- el
			}
		case "set":
			// Roster pushes (the gateway adding its puppets) are acknowledged.
			if el.Child(nsRoster, "query") != nil {
				res := xmpp.Elem("", "iq", "type", "result", "id", el.Get("id"))
				for _, t := range elementTokens(res, "") {
					if err := r.EncodeToken(t); err != nil {
						return err
					}
				}
			}
		}
	}
	return nil
}

// send writes one stanza given as tokens.
func (c *client) send(ctx context.Context, toks []xml.Token) error {
	return c.sess.Send(ctx, &elementReader{toks: toks})
}

// iq sends an IQ of type typ to `to` with one payload and waits for the answer.
func (c *client) iq(ctx context.Context, typ, to string, payload *xmpp.Element) (*xmpp.Element, error) {
	id := "iq" + strconv.FormatInt(c.nextIQ.Add(1), 10)
	iq := xmpp.Elem("", "iq", "type", typ, "id", id, "to", to).Add(payload)
	ch := make(chan *xmpp.Element, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.send(ctx, elementTokens(iq, "")); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		return r, nil
	case <-ctx.Done():
		c.mu.Lock()
		delete(c.pending, id)
		c.mu.Unlock()
		return nil, fmt.Errorf("iq %s to %s: %w", id, to, ctx.Err())
	}
}

// register submits the gateway's XEP-0077 registration form (jabber:x:data) with one field.
func (c *client) register(ctx context.Context, field, value string) error {
	x := xmpp.Elem(nsData, "x", "type", "submit").Add(
		xmpp.Elem(nsData, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.Elem(nsData, "value").WithText(nsRegister)),
		xmpp.Elem(nsData, "field", "var", field).Add(xmpp.Elem(nsData, "value").WithText(value)))
	r, err := c.iq(ctx, "set", c.gwJID, xmpp.Elem(nsRegister, "query").Add(x))
	if err != nil {
		return fmt.Errorf("%s: register with %s: %w", c.user, c.gwJID, err)
	}
	if r.Get("type") != "result" {
		return fmt.Errorf("%s: register with %s refused: %s", c.user, c.gwJID, r)
	}
	return nil
}

// registerGateway registers with the gateway (XEP-0077 with a jabber:x:data form, field
// name) and waits until the gateway's presence says the session is logged in.
func (c *client) registerGateway(ctx context.Context, name string) error {
	if err := c.register(ctx, "name", name); err != nil {
		return err
	}
	want := "Echo network: logged in as " + name
	for {
		select {
		case p := <-c.gwPres:
			st := p.Child(nsClient, "status")
			if p.Get("type") == "" && st != nil && st.Text == want {
				return nil
			}
		case <-ctx.Done():
			return fmt.Errorf("%s: no presence %q from %s: %w", c.user, want, c.gwJID, ctx.Err())
		}
	}
}

// elementReader is an xml.TokenReader over a token slice.
type elementReader struct {
	toks []xml.Token
	i    int
}

func (r *elementReader) Token() (xml.Token, error) {
	if r.i >= len(r.toks) {
		return nil, io.EOF
	}
	t := r.toks[r.i]
	r.i++
	return t, nil
}

// elementTokens turns an element tree into tokens; a namespace is set on an element only where
// it differs from its parent's (the encoder declares it).
func elementTokens(e *xmpp.Element, parentNS string) []xml.Token {
	var out []xml.Token
	var walk func(e *xmpp.Element, parent string)
	walk = func(e *xmpp.Element, parent string) {
		name := xml.Name{Local: e.Name.Local}
		ns := e.Name.Space
		if ns != "" && ns != parent {
			name.Space = ns
		} else {
			ns = parent
		}
		out = append(out, xml.StartElement{Name: name, Attr: e.Attr})
		if e.Text != "" {
			out = append(out, xml.CharData(e.Text))
		}
		for _, ch := range e.Children {
			walk(ch, ns)
		}
		out = append(out, xml.EndElement{Name: name})
	}
	walk(e, parentNS)
	return out
}

// messageTokens builds the driver's chat message: a body, and with full a receipt request and
// the markable marker.
func messageTokens(to, id, body string, full bool) []xml.Token {
	msg := xml.Name{Local: "message"}
	b := xml.Name{Local: "body"}
	toks := make([]xml.Token, 0, 9)
	toks = append(toks,
		xml.StartElement{Name: msg, Attr: []xml.Attr{
			{Name: xml.Name{Local: "to"}, Value: to},
			{Name: xml.Name{Local: "type"}, Value: "chat"},
			{Name: xml.Name{Local: "id"}, Value: id},
		}},
		xml.StartElement{Name: b}, xml.CharData(body), xml.EndElement{Name: b})
	if full {
		req := xml.Name{Space: nsReceipts, Local: "request"}
		mk := xml.Name{Space: nsMarkers, Local: "markable"}
		toks = append(toks, xml.StartElement{Name: req}, xml.EndElement{Name: req},
			xml.StartElement{Name: mk}, xml.EndElement{Name: mk})
	}
	return append(toks, xml.EndElement{Name: msg})
}

// errText is the text of a stanza error, for reports.
func errText(el *xmpp.Element) string {
	e := el.Child(nsClient, "error")
	if e == nil {
		return "error without <error/>"
	}
	var parts []string
	for _, c := range e.Children {
		if c.Name.Local == "text" {
			parts = append(parts, strings.TrimSpace(c.Text))
		} else {
			parts = append([]string{c.Name.Local}, parts...)
		}
	}
	return strings.Join(parts, ": ")
}

// waitQuiet returns once fn's value has not changed for quiet (or after max).
func waitQuiet(quiet, max time.Duration, fn func() int64) {
	deadline := time.Now().Add(max)
	last := fn()
	stable := time.Now()
	for time.Now().Before(deadline) {
		time.Sleep(quiet / 4)
		v := fn()
		if v != last {
			last, stable = v, time.Now()
			continue
		}
		if time.Since(stable) >= quiet {
			return
		}
	}
}
