package gateway

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
)

// ErrIQTimeout is given to an IQ callback when no answer came in time.
var ErrIQTimeout = errors.New("no answer to the IQ in time")

// iqTracker matches IQ answers (result or error) to the requests the gateway sent.
type iqTracker struct {
	mu      sync.Mutex
	next    uint64
	pending map[string]*pendingIQ
}

type pendingIQ struct {
	cb    func(*xmpp.Element, error)
	timer *time.Timer
}

func (t *iqTracker) add(cb func(*xmpp.Element, error), timeout time.Duration) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.pending == nil {
		t.pending = map[string]*pendingIQ{}
	}
	t.next++
	id := "gw-" + strconv.FormatUint(t.next, 36)
	p := &pendingIQ{cb: cb}
	p.timer = time.AfterFunc(timeout, func() { t.finish(id, nil, ErrIQTimeout) })
	t.pending[id] = p
	return id
}

// finish runs the callback of id once; it reports whether id was pending.
func (t *iqTracker) finish(id string, resp *xmpp.Element, err error) bool {
	t.mu.Lock()
	p := t.pending[id]
	delete(t.pending, id)
	t.mu.Unlock()
	if p == nil {
		return false
	}
	p.timer.Stop()
	p.cb(resp, err)
	return true
}

// SendIQ sends an IQ request (its id is set here) and calls cb once with the answer, or with an
// error if it could not be sent or no answer came within timeout. An answer of type "error"
// is passed as the response with a nil error: the caller reads the condition. cb runs on the
// link's reader goroutine or a timer goroutine: it must not block.
func (g *Gateway) SendIQ(ctx context.Context, iq *xmpp.Element, timeout time.Duration, cb func(*xmpp.Element, error)) {
	g.sendIQOn(ctx, 0, iq, timeout, cb)
}

// sendIQOn is SendIQ on the link's connection conn only (0: whichever is up).
func (g *Gateway) sendIQOn(ctx context.Context, conn int64, iq *xmpp.Element, timeout time.Duration, cb func(*xmpp.Element, error)) {
	id := g.iqs.add(cb, timeout)
	iq.Set("id", id)
	if err := g.link.SendOn(ctx, conn, iq); err != nil {
		g.iqs.finish(id, nil, err)
	}
}

// IQ sends an IQ request and waits for its answer. It must not be called from the reader
// goroutine (a stanza handler).
func (g *Gateway) IQ(ctx context.Context, iq *xmpp.Element) (*xmpp.Element, error) {
	type answer struct {
		resp *xmpp.Element
		err  error
	}
	ch := make(chan answer, 1)
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	g.SendIQ(ctx, iq, timeout, func(r *xmpp.Element, err error) { ch <- answer{r, err} })
	select {
	case a := <-ch:
		return a.resp, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// failAll ends every pending request with err (the link went down: no answer will come).
func (t *iqTracker) failAll(err error) {
	t.mu.Lock()
	ids := make([]string, 0, len(t.pending))
	for id := range t.pending {
		ids = append(ids, id)
	}
	t.mu.Unlock()
	for _, id := range ids {
		t.finish(id, nil, err)
	}
}
