package main

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
)

// loadConfig is the load one measurement applies.
type loadConfig struct {
	contact  string        // plain or eve, local part at the gateway
	full     bool          // ask for a receipt and mark messages markable
	inflight int           // closed loop: messages in flight per user
	rate     float64       // open loop: messages per second over all users; 0 = closed loop
	maxIn    int           // open loop: a user skips a tick with this many in flight
	warmup   time.Duration // load before the measured window
	window   time.Duration // the measured window
	grace    time.Duration // after the load stops, how long echoes may still arrive
}

// track is one user's messages in one measurement. Message n has id and body tag "<gen>-<n>";
// the echo's body is "echo: " + the tag.
type track struct {
	c      *client
	gen    string
	prefix string // "echo: " + gen + "-"
	base   time.Time

	mu        sync.Mutex
	sent      []int64 // ns since base when message n was sent
	recv      []int64 // ns since base of its first echo; 0: none yet
	dups      int64
	receipts  []uint8 // full: receipts received per message
	displayed []uint8 // full: displayed markers per message
	composing int64
	errors    int64
	errSample string
	other     int64 // messages the driver did not expect (late echoes of another run, puppets)

	inflight atomic.Int64
	release  chan struct{} // closed loop: one token per echo
}

func newTrack(c *client, gen string, base time.Time, inflight int) *track {
	return &track{c: c, gen: gen, prefix: "echo: " + gen + "-", base: base,
		release: make(chan struct{}, max(inflight, 1)+1)}
}

// seqOf parses the message number out of "<gen>-<n>" after prefix p.
func seqOf(s, p string) (int, bool) {
	if !strings.HasPrefix(s, p) {
		return 0, false
	}
	n, err := strconv.Atoi(s[len(p):])
	return n, err == nil && n >= 0
}

// onMessage accounts for a message received (on the client's reader goroutine).
func (t *track) onMessage(el *xmpp.Element) {
	now := int64(time.Since(t.base))
	if el.Get("type") == "error" {
		t.mu.Lock()
		t.errors++
		if t.errSample == "" {
			t.errSample = errText(el)
		}
		t.mu.Unlock()
		if _, ok := seqOf(el.Get("id"), t.gen+"-"); ok {
			t.inflight.Add(-1)
			t.signal()
		}
		return
	}
	idPrefix := t.gen + "-"
	var first bool
	t.mu.Lock()
	matched := false
	if b := el.Child(nsClient, "body"); b != nil {
		if n, ok := seqOf(b.Text, t.prefix); ok && n < len(t.sent) {
			matched = true
			if t.recv[n] == 0 {
				t.recv[n] = max(now, 1)
				first = true
			} else {
				t.dups++
			}
		}
	}
	if r := el.Child(nsReceipts, "received"); r != nil {
		if n, ok := seqOf(r.Get("id"), idPrefix); ok && n < len(t.receipts) {
			matched = true
			t.receipts[n]++
		}
	}
	if d := el.Child(nsMarkers, "displayed"); d != nil {
		if n, ok := seqOf(d.Get("id"), idPrefix); ok && n < len(t.displayed) {
			matched = true
			t.displayed[n]++
		}
	}
	if el.Child(nsChatStates, "composing") != nil {
		matched = true
		t.composing++
	}
	if !matched {
		t.other++
	}
	t.mu.Unlock()
	if first {
		t.inflight.Add(-1)
		t.signal()
	}
}

func (t *track) signal() {
	select {
	case t.release <- struct{}{}:
	default:
	}
}

// sendNext sends the user's next message.
func (t *track) sendNext(ctx context.Context, to string, full bool) error {
	t.mu.Lock()
	n := len(t.sent)
	t.sent = append(t.sent, int64(time.Since(t.base)))
	t.recv = append(t.recv, 0)
	if full {
		t.receipts = append(t.receipts, 0)
		t.displayed = append(t.displayed, 0)
	}
	t.mu.Unlock()
	t.inflight.Add(1)
	tag := t.gen + "-" + strconv.Itoa(n)
	return t.c.send(ctx, messageTokens(to, tag, tag, full))
}

// closedLoop keeps inflight messages outstanding until stop is closed.
func (t *track) closedLoop(ctx context.Context, to string, cfg loadConfig, stop <-chan struct{}) error {
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		if t.inflight.Load() < int64(cfg.inflight) {
			if err := t.sendNext(ctx, to, cfg.full); err != nil {
				return err
			}
			continue
		}
		select {
		case <-stop:
			return nil
		case <-t.release:
		}
	}
}

// openLoop sends at a fixed interval, skipping ticks while maxIn messages are in flight.
func (t *track) openLoop(ctx context.Context, to string, cfg loadConfig, interval, offset time.Duration, stop <-chan struct{}, skipped *atomic.Int64) error {
	timer := time.NewTimer(offset)
	defer timer.Stop()
	next := time.Now().Add(offset)
	for {
		select {
		case <-stop:
			return nil
		case <-timer.C:
		}
		if t.inflight.Load() >= int64(cfg.maxIn) {
			skipped.Add(1)
		} else if err := t.sendNext(ctx, to, cfg.full); err != nil {
			return err
		}
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			timer.Reset(d)
		} else {
			next = time.Now() // behind: do not burst to catch up
			timer.Reset(0)
		}
	}
}

// stats is what one measurement found.
type stats struct {
	Sent, Echoed, Lost, Dups, Errors, Other int64
	Skipped                                 int64
	RoundTrips                              int64 // echoes received inside the window
	Latencies                               []time.Duration
	MissingReceipts, MissingDisplayed       int64
	ExtraReceipts, ExtraDisplayed           int64
	Composing                               int64
	ErrSample                               string
}

// collect sums the tracks; the window is [w0, w1) in ns since base.
func collect(ts []*track, w0, w1 int64, full bool) stats {
	var s stats
	for _, t := range ts {
		t.mu.Lock()
		for n, at := range t.sent {
			s.Sent++
			r := t.recv[n]
			if r == 0 {
				s.Lost++
				continue
			}
			s.Echoed++
			if r >= w0 && r < w1 {
				s.RoundTrips++
			}
			if at >= w0 && at < w1 {
				s.Latencies = append(s.Latencies, time.Duration(r-at))
			}
			if full {
				switch c := t.receipts[n]; {
				case c == 0:
					s.MissingReceipts++
				case c > 1:
					s.ExtraReceipts += int64(c - 1)
				}
				switch c := t.displayed[n]; {
				case c == 0:
					s.MissingDisplayed++
				case c > 1:
					s.ExtraDisplayed += int64(c - 1)
				}
			}
		}
		s.Dups += t.dups
		s.Errors += t.errors
		s.Other += t.other
		s.Composing += t.composing
		if s.ErrSample == "" {
			s.ErrSample = t.errSample
		}
		t.mu.Unlock()
	}
	slices.Sort(s.Latencies)
	return s
}

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// outstanding counts messages without an echo or an error.
func outstanding(ts []*track) int64 {
	var n int64
	for _, t := range ts {
		n += max(t.inflight.Load(), 0)
	}
	return n
}

// runLoad applies cfg to every client and measures the window. onWindow is called at the
// start and at the end of the window (to sample CPU and start or stop profiles); it returns
// the tracks and the window bounds in ns since base.
func runLoad(ctx context.Context, clients []*client, gwJID, gen string, cfg loadConfig,
	onWindow func(start bool)) (ts []*track, w0, w1 int64, skipped int64, err error) {
	base := time.Now()
	to := cfg.contact + "@" + gwJID
	ts = make([]*track, len(clients))
	for i, c := range clients {
		ts[i] = newTrack(c, gen, base, cfg.inflight)
		c.run.Store(ts[i])
	}
	stop := make(chan struct{})
	var sk atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, len(clients))
	interval := time.Duration(0)
	if cfg.rate > 0 {
		interval = time.Duration(float64(time.Second) * float64(len(clients)) / cfg.rate)
	}
	for i, t := range ts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if cfg.rate > 0 {
				offset := interval * time.Duration(i) / time.Duration(len(ts))
				err = t.openLoop(ctx, to, cfg, interval, offset, stop, &sk)
			} else {
				err = t.closedLoop(ctx, to, cfg, stop)
			}
			if err != nil {
				errs <- fmt.Errorf("%s: send: %w", t.c.user, err)
			}
		}()
	}
	sleepCtx(ctx, cfg.warmup)
	onWindow(true)
	w0 = int64(time.Since(base))
	sleepCtx(ctx, cfg.window)
	w1 = int64(time.Since(base))
	onWindow(false)
	close(stop)
	wg.Wait()
	close(errs)
	if e := <-errs; e != nil {
		err = e
	}
	// The grace period: echoes of what was sent may still arrive.
	deadline := time.Now().Add(cfg.grace)
	for outstanding(ts) > 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	// A short extra wait catches duplicates that would follow the last echo.
	time.Sleep(min(cfg.grace, 300*time.Millisecond))
	for _, c := range clients {
		c.run.Store(nil)
	}
	return ts, w0, w1, sk.Load(), err
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}
