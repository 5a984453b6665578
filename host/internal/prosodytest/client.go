package prosodytest

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Client is a logged-in real XMPP client (mellium over c2s) for integration tests: it sends
// stanzas built as xmpp.Element trees, matches IQ answers by id, and queues every other stanza it
// receives.
type Client struct {
	JID  string // the full JID the server bound
	sess *mxmpp.Session

	mu      sync.Mutex
	pending map[string]chan *xmpp.Element
	inbox   chan *xmpp.Element
	nextID  atomic.Int64
}

// NewClient logs user in on s, starts reading its stream and sends initial presence. It fails
// the test on error.
func (s *Server) NewClient(t testing.TB, user string) *Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	pass, ok := s.Users[user]
	if !ok {
		t.Fatalf("prosodytest: no user %q", user)
	}
	sess, err := Dial(ctx, t, s.C2SAddr, user+"@"+s.Domain, pass)
	if err != nil {
		t.Fatal(err)
	}
	c := &Client{JID: sess.LocalAddr().String(), sess: sess, pending: map[string]chan *xmpp.Element{}, inbox: make(chan *xmpp.Element, 1024)}
	go func() {
		_ = sess.Serve(mxmpp.HandlerFunc(c.handle))
	}()
	// Initial presence: the server routes presence and bare-JID messages only to available
	// resources.
	if err := c.Send(ctx, xmpp.Elem("jabber:client", xmpp.KindPresence)); err != nil {
		t.Fatalf("prosodytest: initial presence: %v", err)
	}
	return c
}

func (c *Client) handle(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
	el, err := xmpp.ReadElement(r, *start)
	if err != nil {
		return err
	}
	if el.Name.Local == xmpp.KindIQ && (el.Get("type") == "result" || el.Get("type") == "error") {
		c.mu.Lock()
		ch := c.pending[el.Get("id")]
		delete(c.pending, el.Get("id"))
		c.mu.Unlock()
		if ch != nil {
			ch <- el
			return nil
		}
	}
	select {
	case c.inbox <- el:
	default: // a test that does not read its inbox must not stall the stream
	}
	return nil
}

// Send sends a stanza. Its top element must have no namespace (the stream's default).
func (c *Client) Send(ctx context.Context, e *xmpp.Element) error {
	b := e.AppendXML(nil, "jabber:client")
	return c.sess.Send(ctx, stripXMLNS{xml.NewDecoder(bytes.NewReader(b))})
}

// IQ sends an IQ of type typ ("get" or "set") to `to` with one payload and waits for the answer.
func (c *Client) IQ(ctx context.Context, typ, to string, payload *xmpp.Element) (*xmpp.Element, error) {
	id := "c" + strconv.FormatInt(c.nextID.Add(1), 10)
	iq := xmpp.Elem("jabber:client", xmpp.KindIQ, "type", typ, "id", id, "to", to)
	if payload != nil {
		iq.Add(payload)
	}
	ch := make(chan *xmpp.Element, 1)
	c.mu.Lock()
	c.pending[id] = ch
	c.mu.Unlock()
	if err := c.Send(ctx, iq); err != nil {
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

// Next returns the next stanza received that was not an IQ answer, waiting up to ctx.
func (c *Client) Next(ctx context.Context) (*xmpp.Element, error) {
	select {
	case e := <-c.inbox:
		return e, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// stripXMLNS drops xmlns attributes, which the encoder writes again from the element names.
type stripXMLNS struct{ r xml.TokenReader }

func (s stripXMLNS) Token() (xml.Token, error) {
	tok, err := s.r.Token()
	if se, ok := tok.(xml.StartElement); ok {
		attrs := se.Attr[:0:0]
		for _, a := range se.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue
			}
			attrs = append(attrs, a)
		}
		se.Attr = attrs
		return se.Copy(), err
	}
	return tok, err
}
