// Package xmpp is the gateway's side of the XMPP server: the component link (XEP-0114) with its
// reconnect loop, and the small element tree that stanzas are read into and written from.
//
// Stanzas enter in Link's reader goroutine (readLoop), go to the Handler one at a time, and
// leave through Link.Send, which a writer goroutine batches onto the socket.
package xmpp

import (
	"bufio"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"mellium.im/xmpp/component"
	"mellium.im/xmpp/jid"
	"mellium.im/xmpp/stream"

	"github.com/xmppgw/gateway/host/metrics"
)

// Handler receives every stanza the server routes to the component, in order, on the link's
// reader goroutine. It must not block: slow work goes to a session queue.
type Handler interface {
	HandleStanza(*Element)
}

// Connector is told when the link comes up, before stanzas are read (a gateway sends what
// queued up while the link was down), and when it goes down (requests in flight will get no
// answer).
type Connector interface {
	Connected(ctx context.Context)
	Disconnected()
}

// LinkConfig configures a component link.
type LinkConfig struct {
	JID    string // the component's domain JID
	Addr   string // the server's component port, host:port
	Secret string
	Logger *slog.Logger
	// Metrics of this gateway; nil counts nowhere.
	Metrics *metrics.Gateway
	// MinBackoff and MaxBackoff bound the delay between reconnect attempts (exponential, with
	// jitter); AuthBackoff is the delay after the server refused the secret.
	MinBackoff, MaxBackoff, AuthBackoff time.Duration
	// HandshakeTimeout bounds dialling plus the handshake.
	HandshakeTimeout time.Duration
}

// Defaults for LinkConfig's zero durations.
const (
	DefaultMinBackoff       = 250 * time.Millisecond
	DefaultMaxBackoff       = 30 * time.Second
	DefaultAuthBackoff      = 60 * time.Second
	DefaultHandshakeTimeout = 10 * time.Second
)

// ErrDisconnected is returned by Send while the link is down.
var ErrDisconnected = errors.New("xmpp: component link is down")

// ErrAuth reports that the server refused the component's secret (or does not know its JID).
var ErrAuth = errors.New("the XMPP server refused the component secret (not-authorized): check that the gateway's secret matches the server's component_secret for this JID")

// wire is one connection's write side.
type wire struct {
	id   int64 // counts the connections: 1 for the first
	out  chan []byte
	done chan struct{} // closed when the connection is gone
}

// Status is a snapshot of a link's state, for health checks.
type Status struct {
	Connected bool
	Since     time.Time // when the current state began
	LastError error     // why the link is down, nil if it never failed
	Attempts  int       // failed attempts since the last success
}

// Link is one component connection to the XMPP server, kept up until its context ends.
type Link struct {
	cfg     LinkConfig
	handler Handler
	log     *slog.Logger
	m       *metrics.Gateway

	mu     sync.Mutex
	status Status
	cur    *wire // the current connection's write queue; nil while down
	conns  int64 // connections made so far
}

// NewLink creates a link; Run connects it.
func NewLink(cfg LinkConfig, h Handler) *Link {
	if cfg.MinBackoff <= 0 {
		cfg.MinBackoff = DefaultMinBackoff
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = DefaultMaxBackoff
	}
	if cfg.AuthBackoff <= 0 {
		cfg.AuthBackoff = DefaultAuthBackoff
	}
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = (*metrics.Set)(nil).For(cfg.JID)
	}
	return &Link{
		cfg:     cfg,
		handler: h,
		log:     cfg.Logger.With("gateway", cfg.JID),
		m:       cfg.Metrics,
		status:  Status{Since: time.Now()},
	}
}

// Current identifies the connection that is up, 0 while the link is down. Each connection
// gets a new value, so a caller can tell whether what it sent earlier went over the same stream.
func (l *Link) Current() int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.cur == nil {
		return 0
	}
	return l.cur.id
}

// Status returns the link's current state.
func (l *Link) Status() Status {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// Run connects and reconnects until ctx ends; it returns nil then.
func (l *Link) Run(ctx context.Context) error {
	backoff := l.cfg.MinBackoff
	for {
		start := time.Now()
		err := l.connectOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		l.setDown(err)
		if c, ok := l.handler.(Connector); ok {
			c.Disconnected()
		}
		wait := backoff
		if errors.Is(err, ErrAuth) {
			wait = l.cfg.AuthBackoff
		} else {
			if time.Since(start) > 2*l.cfg.MaxBackoff {
				backoff = l.cfg.MinBackoff // it was up for a while: start over
				wait = backoff
			}
			backoff = min(backoff*2, l.cfg.MaxBackoff)
		}
		// Jitter over the upper half keeps many gateways from reconnecting in lockstep.
		wait = wait/2 + rand.N(wait/2+1)
		if errors.Is(err, ErrAuth) {
			l.m.Error("auth")
			l.log.Error("component handshake refused", "addr", l.cfg.Addr, "err", err, "retry_in", wait.Round(time.Millisecond))
		} else {
			l.log.Warn("component link down", "addr", l.cfg.Addr, "err", err, "retry_in", wait.Round(time.Millisecond))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

func (l *Link) setDown(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.status.Connected {
		l.status.Since = time.Now()
	}
	l.status.Connected = false
	l.status.LastError = err
	l.status.Attempts++
	l.cur = nil
	l.m.Connected.Set(0)
}

// connectOnce dials, handshakes and serves one connection until it fails or ctx ends.
func (l *Link) connectOnce(ctx context.Context) error {
	hctx, cancel := context.WithTimeout(ctx, l.cfg.HandshakeTimeout)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(hctx, "tcp", l.cfg.Addr)
	if err != nil {
		l.m.Error("connect")
		return fmt.Errorf("connect %s: %w", l.cfg.Addr, err)
	}
	addr, err := jid.Parse(l.cfg.JID)
	if err != nil {
		conn.Close()
		return fmt.Errorf("component jid %q: %w", l.cfg.JID, err)
	}
	if dl, ok := hctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	sess, err := component.NewSession(hctx, addr, []byte(l.cfg.Secret), conn)
	if err != nil {
		conn.Close()
		var se stream.Error
		if errors.As(err, &se) && (se.Err == stream.NotAuthorized.Err || se.Err == stream.HostUnknown.Err) {
			return fmt.Errorf("%w (server said %s)", ErrAuth, se.Err)
		}
		l.m.Error("connect")
		return fmt.Errorf("handshake with %s: %w", l.cfg.Addr, err)
	}
	_ = conn.SetDeadline(time.Time{})

	cur := &wire{out: make(chan []byte, 1024), done: make(chan struct{})}
	defer close(cur.done)
	out := cur.out
	l.mu.Lock()
	l.status = Status{Connected: true, Since: time.Now()}
	l.conns++
	cur.id = l.conns
	l.cur = cur
	l.mu.Unlock()
	l.m.Connected.Set(1)
	if cur.id > 1 {
		l.m.Reconnects.Inc()
	}
	l.log.Info("component link up", "addr", l.cfg.Addr)

	cctx, stop := context.WithCancel(ctx)
	defer stop()
	writeDone := make(chan error, 1)
	go func() { writeDone <- l.writeLoop(cctx, conn, out) }()
	if c, ok := l.handler.(Connector); ok {
		c.Connected(cctx)
	}
	readErr := make(chan error, 1)
	go func() { readErr <- l.readLoop(sess.TokenReader()) }()

	var res error
	select {
	case <-ctx.Done():
		// Leave the stream politely so the server does not wait for a timeout.
		l.mu.Lock()
		l.cur = nil
		l.mu.Unlock()
		stop()
		<-writeDone
		_ = conn.SetWriteDeadline(time.Now().Add(time.Second))
		_, _ = io.WriteString(conn, "</stream:stream>")
		conn.Close()
		<-readErr
		if c, ok := l.handler.(Connector); ok {
			c.Disconnected()
		}
		return nil
	case res = <-readErr:
		l.m.Error("read")
		stop()
		conn.Close()
		<-writeDone
	case res = <-writeDone:
		l.m.Error("write")
		conn.Close() // ends the reader, which may still hand over stanzas until then
		<-readErr
	}
	return res
}

// readLoop reads top-level elements and hands each to the handler.
func (l *Link) readLoop(r xml.TokenReader) error {
	for {
		tok, err := r.Token()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return errors.New("the server closed the connection")
			}
			return fmt.Errorf("read: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			el, err := ReadElement(r, t)
			if err != nil {
				return fmt.Errorf("read %s: %w", t.Name.Local, err)
			}
			if t.Name.Space == stream.NS && t.Name.Local == "error" {
				return fmt.Errorf("stream error from server: %s", streamErrorText(el))
			}
			l.m.In.Inc(t.Name.Local)
			l.handler.HandleStanza(el)
		case xml.EndElement:
			return errors.New("the server ended the stream")
		}
	}
}

func streamErrorText(el *Element) string {
	for _, c := range el.Children {
		if c.Name.Local != "text" {
			return c.Name.Local
		}
	}
	return "unknown"
}

// writeLoop writes queued stanzas, flushing whenever the queue is empty.
func (l *Link) writeLoop(ctx context.Context, conn net.Conn, out <-chan []byte) error {
	w := bufio.NewWriterSize(conn, 32*1024)
	for {
		select {
		case <-ctx.Done():
			return w.Flush()
		case b := <-out:
			if _, err := w.Write(b); err != nil {
				return fmt.Errorf("write: %w", err)
			}
			if len(out) == 0 {
				if err := w.Flush(); err != nil {
					return fmt.Errorf("write: %w", err)
				}
			}
		}
	}
}

// Send queues a stanza. It returns ErrDisconnected while the link is down, and blocks only
// while the socket's write queue is full.
func (l *Link) Send(ctx context.Context, e *Element) error { return l.SendOn(ctx, 0, e) }

// SendOn is Send on the connection conn only; see SendRawOn.
func (l *Link) SendOn(ctx context.Context, conn int64, e *Element) error {
	return l.SendRawOn(ctx, conn, e.Name.Local, e.AppendXML(make([]byte, 0, 256), NSComponent))
}

// SendRaw queues a serialised stanza of the given kind ("message", "presence", "iq").
func (l *Link) SendRaw(ctx context.Context, kind string, b []byte) error {
	return l.SendRawOn(ctx, 0, kind, b)
}

// SendRawOn is SendRaw on the connection conn (from Current) only: it returns ErrDisconnected
// if that connection is gone, even when another one is up. Conn 0 means whichever is up.
func (l *Link) SendRawOn(ctx context.Context, conn int64, kind string, b []byte) error {
	l.mu.Lock()
	cur := l.cur
	l.mu.Unlock()
	if cur == nil || (conn != 0 && cur.id != conn) {
		return ErrDisconnected
	}
	select {
	case cur.out <- b:
		l.m.Out.Inc(kind)
		return nil
	case <-cur.done:
		return ErrDisconnected
	case <-ctx.Done():
		return ctx.Err()
	}
}
