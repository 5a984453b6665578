// Package fakexmpp is a minimal XMPP server for benchmarks: it accepts one component connection
// (XEP-0114), grants the XEP-0356 privileges, answers roster requests at once, and counts what
// the gateway sends, so that the gateway's own time can be measured without a real server's.
package fakexmpp

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Server is a fake XMPP server listening on loopback for one component at a time.
type Server struct {
	Domain string // the users' domain, e.g. "localhost"
	ln     net.Listener

	// HoldPings makes the server leave pings unanswered (a link that dies before confirming).
	HoldPings atomic.Bool
	// LoseMessages makes the server drop the messages it reads, unseen, as if they had been
	// lost with a dying connection's buffers.
	LoseMessages atomic.Bool

	// Counters of what the gateway sent.
	RosterPushes atomic.Int64
	Presences    atomic.Int64
	Messages     atomic.Int64
	IQs          atomic.Int64

	mu       sync.Mutex
	conn     net.Conn
	w        *bufio.Writer
	onStanza func(*xmpp.Element)
	lastPush atomic.Int64 // unix nanos of the latest roster push
	done     chan struct{}
	rosters  map[string]map[string]*xmpp.Element // user -> jid -> roster item, as pushed
}

// Start listens on a free loopback port.
func Start(domain string) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{Domain: domain, ln: ln, done: make(chan struct{}), rosters: map[string]map[string]*xmpp.Element{}}
	go s.accept()
	return s, nil
}

// Addr is the component address to configure the gateway with.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// LastRosterPush returns when the latest roster push arrived.
func (s *Server) LastRosterPush() time.Time { return time.Unix(0, s.lastPush.Load()) }

// OnStanza sets a function called for each stanza from the gateway (on the reader goroutine).
func (s *Server) OnStanza(f func(*xmpp.Element)) {
	s.mu.Lock()
	s.onStanza = f
	s.mu.Unlock()
}

// Close stops the server.
func (s *Server) Close() {
	close(s.done)
	s.ln.Close()
	s.mu.Lock()
	if s.conn != nil {
		s.conn.Close()
	}
	s.mu.Unlock()
}

// Drop cuts the current component connection, as a crashing server would.
func (s *Server) Drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
		s.conn, s.w = nil, nil
	}
}

// Reset aborts the current component connection with a TCP reset, so that the gateway's
// writes may fail before its reads notice.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		if tc, ok := s.conn.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		s.conn.Close()
		s.conn, s.w = nil, nil
	}
}

// Send writes a stanza to the gateway, as if a user had sent it.
func (s *Server) Send(e *xmpp.Element) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w == nil {
		return errors.New("fakexmpp: no component connected")
	}
	if _, err := s.w.Write(e.AppendXML(nil, xmpp.NSComponent)); err != nil {
		return err
	}
	return s.w.Flush()
}

func (s *Server) accept() {
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		go s.serve(c)
	}
}

func (s *Server) serve(c net.Conn) {
	defer c.Close()
	d := xml.NewDecoder(c)
	// Stream header, then the handshake.
	if _, err := nextStart(d); err != nil {
		return
	}
	w := bufio.NewWriter(c)
	fmt.Fprintf(w, `<?xml version='1.0'?><stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' id='fake%d' from='component'>`, time.Now().UnixNano())
	w.Flush()
	hs, err := nextStart(d)
	if err != nil || hs.Name.Local != "handshake" {
		return
	}
	if err := d.Skip(); err != nil {
		return
	}
	// The connection is current before the gateway learns that it is up.
	s.mu.Lock()
	s.conn, s.w = c, w
	fmt.Fprintf(w, `<handshake/><message from='%s'><privilege xmlns='urn:xmpp:privilege:2'><perm access='roster' type='both'/><perm access='message' type='outgoing'/></privilege></message>`, s.Domain)
	w.Flush()
	s.mu.Unlock()
	for {
		start, err := nextStart(d)
		if err != nil {
			return
		}
		el, err := xmpp.ReadElement(d, start)
		if err != nil {
			return
		}
		s.handle(el)
	}
}

func (s *Server) handle(el *xmpp.Element) {
	switch el.Name.Local {
	case xmpp.KindPresence:
		s.Presences.Add(1)
	case xmpp.KindMessage:
		if s.LoseMessages.Load() {
			return
		}
		s.Messages.Add(1)
	case xmpp.KindIQ:
		s.IQs.Add(1)
		if el.Child("urn:xmpp:ping", "ping") != nil && el.Get("type") == "get" && !s.HoldPings.Load() {
			_ = s.Send(xmpp.IQResult(el))
		}
		if q := el.Child("jabber:iq:roster", "query"); q != nil {
			user := el.Get("to")
			res := xmpp.IQResult(el)
			if el.Get("type") == "set" {
				s.RosterPushes.Add(int64(len(q.Children)))
				s.lastPush.Store(time.Now().UnixNano())
				s.mu.Lock()
				s.setItems(user, q.Children)
				s.mu.Unlock()
			} else {
				q := xmpp.Elem("jabber:iq:roster", "query")
				s.mu.Lock()
				for _, it := range s.rosters[user] {
					q.Add(it)
				}
				s.mu.Unlock()
				res.Add(q)
			}
			_ = s.Send(res)
		}
	}
	s.mu.Lock()
	f := s.onStanza
	s.mu.Unlock()
	if f != nil {
		f(el)
	}
}

func nextStart(d *xml.Decoder) (xml.StartElement, error) {
	for {
		tok, err := d.Token()
		if err != nil {
			return xml.StartElement{}, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, nil
		case xml.EndElement:
			return xml.StartElement{}, io.EOF
		}
	}
}

// setItems applies pushed items to a user's roster: add, replace or remove by jid.
func (s *Server) setItems(user string, items []*xmpp.Element) {
	r := s.rosters[user]
	if r == nil {
		r = map[string]*xmpp.Element{}
		s.rosters[user] = r
	}
	for _, it := range items {
		if it.Get("subscription") == "remove" {
			delete(r, it.Get("jid"))
		} else {
			r[it.Get("jid")] = it
		}
	}
}
