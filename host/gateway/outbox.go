package gateway

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// The outbox makes messages to users survive a broken link or a crash. XEP-0114 has no
// acknowledgements, so a message is written to the store before it is sent, and deleted only
// when an IQ sent after it on the same stream (a ping) has been answered: the server processes a
// stream in order, so it has taken everything before the ping. A ping therefore confirms only
// what its own connection carried; so a new connection (after a reconnect, or a restart) first
// carries every unconfirmed message again, in order, with the same ids (clients drop a
// duplicate id), before anything newer.
type outbox struct {
	g     *Gateway
	st    *store.Store
	later store.Later // acknowledgements: they commit with the next group of writes

	in   chan outMsg
	wake chan struct{} // the link came up: resend what is unconfirmed

	mu      sync.Mutex
	waiters []chan struct{} // Flush callers, released when everything queued so far is confirmed
	conn    int64           // the link connection carrying every unconfirmed message up to sent; 0: none
	sent    int64           // highest seq written to conn
	acked   int64           // highest seq confirmed
	pinging bool
}

type outMsg struct {
	item store.OutItem
	kind string
}

// maxOutBatch bounds the messages written in one transaction.
const maxOutBatch = 256

func newOutbox(g *Gateway, st *store.Store) *outbox {
	o := &outbox{g: g, st: st, in: make(chan outMsg, 4096), wake: make(chan struct{}, 1)}
	o.later = st.Later(func(err error) { g.log.Error("outbox: ack", "err", err) })
	return o
}

// send queues a message for durable delivery. It blocks only while the queue is full.
func (o *outbox) send(ctx context.Context, e *xmpp.Element) error {
	m := outMsg{kind: e.Name.Local, item: store.OutItem{
		JID: xmpp.Bare(e.Get("to")), StanzaID: e.Get("id"),
		Payload: string(e.AppendXML(make([]byte, 0, 256), xmpp.NSComponent)),
	}}
	select {
	case o.in <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// connected tells the outbox that the link is up again.
func (o *outbox) connected() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// run persists and sends messages until ctx ends.
func (o *outbox) run(ctx context.Context) {
	batch := make([]outMsg, 0, maxOutBatch)
	items := make([]store.OutItem, 0, maxOutBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
			if _, ok := o.catchUp(ctx); ok {
				o.ping(ctx)
			}
		case m := <-o.in:
			batch = append(batch[:0], m)
		drain:
			for len(batch) < maxOutBatch {
				select {
				case m := <-o.in:
					batch = append(batch, m)
				default:
					break drain
				}
			}
			items = items[:0]
			for _, m := range batch {
				items = append(items, m.item)
			}
			persisted := true
			if err := o.st.EnqueueBatch(ctx, o.g.opts.JID, items); err != nil {
				// The store is gone: send anyway rather than hold messages back.
				o.g.log.Error("outbox: persist failed, sending without a copy", "err", err, "count", len(items))
				persisted = false
			}
			o.deliver(ctx, batch, items, persisted)
		}
	}
}

// deliver sends a batch just written to the store (or not, if the store failed) and asks for
// its confirmation. While the link is down the persisted messages wait for catchUp.
func (o *outbox) deliver(ctx context.Context, batch []outMsg, items []store.OutItem, persisted bool) {
	conn, ok := o.catchUp(ctx)
	for i, m := range batch {
		switch {
		case !persisted:
			_ = o.g.link.SendRaw(ctx, m.kind, []byte(items[i].Payload))
		case !ok:
			return
		case !o.write(ctx, conn, m.kind, items[i]):
			return // the connection is gone: the next one carries the rest
		}
	}
	o.ping(ctx)
}

// write sends one persisted message on the connection conn; it reports whether it went out.
// A message already carried by conn (by catchUp) is not sent twice.
func (o *outbox) write(ctx context.Context, conn int64, kind string, it store.OutItem) bool {
	o.mu.Lock()
	done := o.conn == conn && it.Seq <= o.sent
	o.mu.Unlock()
	if done {
		return true
	}
	if err := o.g.link.SendRawOn(ctx, conn, kind, []byte(it.Payload)); err != nil {
		return false
	}
	o.mu.Lock()
	if o.conn == conn && it.Seq > o.sent {
		o.sent = it.Seq
	}
	o.mu.Unlock()
	return true
}

// catchUp makes sure the connection that is up has carried every unconfirmed message, oldest
// first, and returns it; ok is false while the link is down or the store cannot be read.
func (o *outbox) catchUp(ctx context.Context) (conn int64, ok bool) {
	conn = o.g.link.Current()
	if conn == 0 {
		return 0, false
	}
	o.mu.Lock()
	if o.conn == conn {
		o.mu.Unlock()
		return conn, true
	}
	// Nothing past the confirmed point has been carried by this connection yet.
	o.conn, o.sent = conn, o.acked
	after := o.acked
	o.mu.Unlock()
	n := 0
	for {
		page, err := o.st.Pending(ctx, o.g.opts.JID, after, maxOutBatch)
		if err != nil {
			o.g.log.Error("outbox: read unconfirmed messages", "err", err)
			o.forget(conn)
			return 0, false
		}
		for _, it := range page {
			if !o.write(ctx, conn, xmpp.KindMessage, it) {
				o.forget(conn)
				return 0, false
			}
			after = it.Seq
			n++
		}
		if len(page) < maxOutBatch {
			break
		}
	}
	if n > 0 {
		o.g.log.Info("outbox: unconfirmed messages sent again", "count", n, "up_to", after)
	}
	return conn, true
}

// forget marks conn as not carrying the unconfirmed messages, so that the next attempt
// starts over from the confirmed point.
func (o *outbox) forget(conn int64) {
	o.mu.Lock()
	if o.conn == conn {
		o.conn = 0
	}
	o.mu.Unlock()
}

// ping asks the server for a sign that it took everything sent so far on the current
// connection; at most one is in flight.
func (o *outbox) ping(ctx context.Context) {
	o.mu.Lock()
	if o.pinging || o.conn == 0 || o.sent <= o.acked {
		o.mu.Unlock()
		return
	}
	o.pinging = true
	conn, upto := o.conn, o.sent
	o.mu.Unlock()
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "get", "from", o.g.opts.JID, "to", o.g.serverDomain()).
		Add(xmpp.Elem(NSPing, "ping"))
	o.g.sendIQOn(ctx, conn, iq, 30*time.Second, func(resp *xmpp.Element, err error) {
		ok := err == nil && resp != nil
		o.mu.Lock()
		o.pinging = false
		if ok && upto > o.acked {
			o.acked = upto
		}
		more := o.sent > o.acked
		o.mu.Unlock()
		if ok {
			o.later.Ack(o.g.opts.JID, upto)
			o.release()
		}
		// Ask again after an answer, or a timeout on a connection still up; a connection
		// that is gone leaves the rest to the next one's catchUp.
		if more && (ok || errors.Is(err, ErrIQTimeout) && o.g.link.Current() == conn) {
			o.ping(ctx)
		}
	})
}

// release wakes Flush callers once nothing is unconfirmed.
func (o *outbox) release() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sent > o.acked || len(o.in) > 0 {
		return
	}
	for _, w := range o.waiters {
		close(w)
	}
	o.waiters = nil
}

// serverDomain is the domain of the server the component is attached to: the gateway JID minus
// its first label, which the server itself answers.
func (g *Gateway) serverDomain() string {
	if _, rest, ok := strings.Cut(g.opts.JID, "."); ok {
		return rest
	}
	return g.opts.JID
}

// flush waits until every message queued so far is confirmed by the server, or ctx ends.
func (o *outbox) flush(ctx context.Context) {
	ch := make(chan struct{})
	o.mu.Lock()
	if o.sent <= o.acked && len(o.in) == 0 {
		o.mu.Unlock()
		return
	}
	o.waiters = append(o.waiters, ch)
	o.mu.Unlock()
	select {
	case <-ch:
	case <-ctx.Done():
	}
}
