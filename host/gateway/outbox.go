package gateway

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// The outbox makes messages to users survive a broken link or a crash. XEP-0114 has no
// acknowledgements, so a message is written to the store before it is sent, and deleted only
// when an IQ sent after it on the same stream (a ping) has been answered: the server processes a
// stream in order, so it has taken everything before the ping. After a reconnect, or a restart,
// whatever was not confirmed is sent again, in order, with the same ids (clients drop a
// duplicate id).
type outbox struct {
	g     *Gateway
	st    *store.Store
	later store.Later // acknowledgements: they commit with the next group of writes

	in   chan outMsg
	wake chan struct{} // the link came up: resend what is unconfirmed

	mu      sync.Mutex
	waiters []chan struct{} // Flush callers, released when everything queued so far is confirmed
	sent    int64           // highest seq written to the link
	acked   int64           // highest seq confirmed
	pinging bool

	// The connection the latest writes went to, and the first seq written to it: a resend
	// skips what the current connection already carried.
	conn      int64
	connFirst int64
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
			o.resend(ctx)
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
			if err := o.st.EnqueueBatch(ctx, o.g.opts.JID, items); err != nil {
				// The store is gone: send anyway rather than hold messages back.
				o.g.log.Error("outbox: persist failed, sending without a copy", "err", err, "count", len(items))
			}
			for i, m := range batch {
				o.write(ctx, m.kind, items[i])
			}
			o.ping(ctx)
		}
	}
}

// write sends one persisted message if the link is up; otherwise it stays for the resend.
func (o *outbox) write(ctx context.Context, kind string, it store.OutItem) {
	conn := o.g.link.ConnID()
	if err := o.g.link.SendRaw(ctx, kind, []byte(it.Payload)); err != nil {
		return
	}
	o.mu.Lock()
	if conn != o.conn {
		o.conn, o.connFirst = conn, it.Seq
	}
	if it.Seq > o.sent {
		o.sent = it.Seq
	}
	o.mu.Unlock()
}

// resend sends every unconfirmed message again, oldest first.
func (o *outbox) resend(ctx context.Context) {
	o.mu.Lock()
	after := o.acked
	cur := o.g.link.ConnID()
	skipFrom := int64(-1)
	if o.conn == cur {
		skipFrom = o.connFirst // already carried by this connection
	}
	o.mu.Unlock()
	for {
		page, err := o.st.Pending(ctx, o.g.opts.JID, after, maxOutBatch)
		if err != nil {
			o.g.log.Error("outbox: read unconfirmed messages", "err", err)
			return
		}
		for _, it := range page {
			if skipFrom < 0 || it.Seq < skipFrom {
				o.write(ctx, xmpp.KindMessage, it)
			}
			after = it.Seq
		}
		if len(page) < maxOutBatch {
			break
		}
	}
	if after > 0 {
		o.g.log.Info("outbox: unconfirmed messages sent again", "up_to", after)
	}
	o.ping(ctx)
}

// ping asks the server for a sign that it took everything sent so far; at most one is in flight.
func (o *outbox) ping(ctx context.Context) {
	o.mu.Lock()
	if o.pinging || o.sent <= o.acked {
		o.mu.Unlock()
		return
	}
	o.pinging = true
	upto := o.sent
	o.mu.Unlock()
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "get", "from", o.g.opts.JID, "to", o.g.serverDomain()).
		Add(xmpp.Elem(NSPing, "ping"))
	o.g.SendIQ(ctx, iq, 30*time.Second, func(resp *xmpp.Element, err error) {
		o.mu.Lock()
		o.pinging = false
		ok := err == nil && resp != nil
		if ok && upto > o.acked {
			o.acked = upto
		}
		more := o.sent > o.acked
		o.mu.Unlock()
		if ok {
			o.later.Ack(o.g.opts.JID, upto)
			o.release()
		}
		if more && ok {
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
