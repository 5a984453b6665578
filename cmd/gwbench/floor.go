package main

import (
	"context"
	"errors"
	"flag"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// The floor is the least a component can do for the echo exchange: it keeps the same XEP-0114
// link as the gateway (host/xmpp.Link), reads stanzas into the same element tree, builds and
// serialises the same stanzas with the same code, and makes the same store calls per message
// as the gateway with the echo plugin does today (host/session/messages.go, the plugin's
// storage calls, host/gateway/outbox.go):
//
//   - JournalOpen of the user's message before the network sees it, JournalClose when the
//     network reports it sent;
//   - PutMsgID of the user's message (XMPP id <-> network id u-N);
//   - for eve (full): the displayed marker resolves u-N with XMPPMsgID;
//   - the echo: XMPPMsgID on e-N (network events are idempotent by network id), PutMsgID
//     (XMPP id <-> e-N);
//   - for eve: KVSet reply/u-N = e-N with the storage quota (a transaction), as the plugin does;
//     for every user, KVSet "seq" once per 100 messages (the plugin's id reservation);
//   - every message to the user goes through an outbox: EnqueueBatch before writing, a ping
//     after each batch, Ack when the ping is answered.
//
// It has no plugin, no session state machine, no roster and no metrics, and it does not resend
// after a reconnect. One goroutine per user handles that user's messages in order, like the
// gateway's session actors, and one goroutine writes the outbox, like the gateway's.
//
// With -store=false it is the bare floor: the same stanzas through the same goroutines and
// link, without any store call (what the XML and the link cost alone).

// Namespaces of the stanzas the floor sends, as host/session sends them.
const (
	nsHints    = "urn:xmpp:hints"
	nsStanzaID = "urn:xmpp:sid:0"
	nsPing     = "urn:xmpp:ping"
)

// kvQuota is the gateway's default storage quota ([gateway.limits] storage_quota_kb = 1024).
const kvQuota = 1024 * 1024

type floor struct {
	jid     string
	st      *store.Store
	later   store.Later // as in the gateway, writes that commit with the next group
	link    *xmpp.Link
	log     *slog.Logger
	journal bool
	noStore bool // the bare floor: no store calls at all
	ready   string
	ctx     context.Context

	mu      sync.Mutex
	workers map[string]chan *xmpp.Element

	iqMu  sync.Mutex
	iqs   map[string]func(*xmpp.Element)
	iqSeq int64

	out *floorOutbox
}

// runFloor is `gwbench floor`: the floor component, until SIGTERM.
func runFloor(args []string) int {
	fs := flag.NewFlagSet("floor", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:5347", "the XMPP server's component `address`")
	jid := fs.String("jid", "telegram.localhost", "the component `JID`")
	db := fs.String("db", "floor.db", "the SQLite `file`")
	ready := fs.String("ready", "", "a `file` created when the link is up")
	journal := fs.Bool("journal", true, "journal the user's messages as the gateway does")
	withStore := fs.Bool("store", true, "make the gateway's store calls (false: the bare floor, XML and link only)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	secret := os.Getenv("GWBENCH_SECRET")
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	go profileOnSignal(log)

	st, err := store.Open(ctx, store.Options{DSN: *db})
	if err != nil {
		log.Error("open store", "err", err)
		return 1
	}
	defer st.Close()
	f := &floor{jid: *jid, st: st, log: log, journal: *journal && *withStore, noStore: !*withStore, ready: *ready, ctx: ctx,
		workers: map[string]chan *xmpp.Element{}, iqs: map[string]func(*xmpp.Element){}}
	f.later = st.Later(func(err error) { log.Error("store write", "err", err) })
	f.out = &floorOutbox{f: f, in: make(chan store.OutItem, 4096)}
	f.link = xmpp.NewLink(xmpp.LinkConfig{JID: *jid, Addr: *addr, Secret: secret, Logger: log}, f)
	go f.out.run(ctx)
	if err := f.link.Run(ctx); err != nil {
		log.Error("link", "err", err)
		return 1
	}
	return 0
}

// Connected implements xmpp.Connector.
func (f *floor) Connected(context.Context) {
	if f.ready != "" {
		_ = os.WriteFile(f.ready, []byte("up\n"), 0o600)
	}
}

// Disconnected implements xmpp.Connector.
func (f *floor) Disconnected() {}

// HandleStanza implements xmpp.Handler; it runs on the link's reader goroutine.
func (f *floor) HandleStanza(s *xmpp.Element) {
	local, _, _ := xmpp.SplitJID(s.Get("to"))
	switch s.Name.Local {
	case xmpp.KindIQ:
		switch s.Get("type") {
		case "result", "error":
			f.iqMu.Lock()
			cb := f.iqs[s.Get("id")]
			delete(f.iqs, s.Get("id"))
			f.iqMu.Unlock()
			if cb != nil {
				cb(s)
			}
		default:
			f.reply(xmpp.ErrorReply(s, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "service-unavailable"}))
		}
	case xmpp.KindMessage:
		if local == "" || s.Get("type") == "error" || s.Child(xmpp.NSComponent, "body") == nil {
			return // privileges, errors, chat states and markers alone
		}
		user := xmpp.Bare(s.Get("from"))
		f.mu.Lock()
		w := f.workers[user]
		if w == nil {
			w = make(chan *xmpp.Element, 256)
			f.workers[user] = w
			go f.work(user, w)
		}
		f.mu.Unlock()
		select {
		case w <- s:
		default:
			f.reply(xmpp.ErrorReply(s, &xmpp.StanzaError{Type: xmpp.ErrTypeWait, Condition: "resource-constraint"}))
		}
	}
}

func (f *floor) reply(e *xmpp.Element) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = f.link.Send(ctx, e)
}

// userState is a user's network state: message numbers reserved in blocks of 100, as the echo
// plugin does.
type userState struct {
	user        string
	next, limit int
	req         int
}

// work handles one user's messages in order.
func (f *floor) work(user string, in <-chan *xmpp.Element) {
	u := &userState{user: user}
	for {
		select {
		case <-f.ctx.Done():
			return
		case s := <-in:
			f.echo(u, s)
		}
	}
}

func (f *floor) newMessageID(u *userState) string {
	u.req++
	return "gw" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(u.req)
}

// echo does for one message what the gateway and the echo plugin do.
func (f *floor) echo(u *userState, s *xmpp.Element) {
	ctx := f.ctx
	local, _, _ := xmpp.SplitJID(s.Get("to"))
	puppet := local + "@" + f.jid
	id := s.Get("id")
	text := s.Child(xmpp.NSComponent, "body").Text
	receipt := s.Child(nsReceipts, "request") != nil || s.Child(nsMarkers, "markable") != nil
	full := local != "plain"
	logErr := func(what string, err error) {
		if err != nil {
			f.log.Error(what, "err", err)
		}
	}
	if f.journal && id != "" {
		logErr("journal open", f.st.JournalOpen(ctx, f.jid, u.user, id, string(s.AppendXML(nil, ""))))
	}
	// The network's message number.
	if u.next >= u.limit && !f.noStore {
		u.limit += 100
		logErr("kv set", f.st.KVSet(ctx, f.jid, u.user, "seq", []byte(strconv.Itoa(u.limit)), kvQuota))
	}
	u.next++
	n := strconv.Itoa(u.next)
	uid, eid := "u-"+n, "e-"+n

	// message_sent: the journal entry is closed, the ids are mapped, the receipt goes out.
	if f.journal && id != "" {
		f.later.JournalClose(f.jid, u.user, id)
	}
	if !f.noStore {
		f.later.PutMsgID(f.jid, u.user, local, id, uid)
	}
	if receipt {
		f.out.send(ctx, xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "from", puppet, "to", u.user, "id", f.newMessageID(u)).
			Add(xmpp.Elem(nsReceipts, "received", "id", id), xmpp.Elem(nsMarkers, "received", "id", id),
				xmpp.Elem(nsHints, "no-store")))
	}
	if full {
		f.out.send(ctx, xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", f.newMessageID(u), "from", puppet, "to", u.user).
			Add(xmpp.Elem(nsChatStates, "composing"), xmpp.Elem(nsHints, "no-store")))
		target := id
		if !f.noStore {
			if x, err := f.st.XMPPMsgID(ctx, f.jid, u.user, local, uid); err == nil {
				target = x
			}
		}
		f.out.send(ctx, xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", f.newMessageID(u), "from", puppet, "to", u.user).
			Add(xmpp.Elem(nsMarkers, "displayed", "id", target)))
	}
	// The echo, idempotent by network id.
	if !f.noStore {
		if _, err := f.st.XMPPMsgID(ctx, f.jid, u.user, local, eid); err == nil {
			return
		} else if !errors.Is(err, store.ErrNotFound) {
			f.log.Error("xmpp msg id", "err", err)
		}
	}
	xid := f.newMessageID(u)
	m := xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", xid, "from", puppet, "to", u.user).
		Add(xmpp.Elem(xmpp.NSComponent, "body").WithText("echo: "+text), xmpp.Elem(nsMarkers, "markable"),
			xmpp.Elem(nsStanzaID, "stanza-id", "id", xid, "by", u.user))
	if !f.noStore {
		f.later.PutMsgID(f.jid, u.user, local, xid, eid)
	}
	f.out.send(ctx, m)
	if full && !f.noStore {
		logErr("kv set", f.st.KVSet(ctx, f.jid, u.user, "reply/"+uid, []byte(eid), kvQuota))
	}
}

// sendIQ sends an IQ and calls cb with the answer.
func (f *floor) sendIQ(ctx context.Context, iq *xmpp.Element, cb func(*xmpp.Element)) {
	f.iqMu.Lock()
	f.iqSeq++
	id := "f" + strconv.FormatInt(f.iqSeq, 10)
	f.iqs[id] = cb
	f.iqMu.Unlock()
	iq.Set("id", id)
	if err := f.link.Send(ctx, iq); err != nil {
		f.iqMu.Lock()
		delete(f.iqs, id)
		f.iqMu.Unlock()
		cb(nil)
	}
}

// floorOutbox is host/gateway's outbox without the resend after a reconnect: messages are
// written to the store in batches before they are sent, and deleted when a ping sent after them
// is answered.
type floorOutbox struct {
	f  *floor
	in chan store.OutItem

	mu      sync.Mutex
	sent    int64
	acked   int64
	pinging bool
}

func (o *floorOutbox) send(ctx context.Context, e *xmpp.Element) {
	it := store.OutItem{JID: xmpp.Bare(e.Get("to")), StanzaID: e.Get("id"),
		Payload: string(e.AppendXML(make([]byte, 0, 256), xmpp.NSComponent))}
	select {
	case o.in <- it:
	case <-ctx.Done():
	}
}

func (o *floorOutbox) run(ctx context.Context) {
	const maxBatch = 256
	batch := make([]store.OutItem, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case it := <-o.in:
			batch = append(batch[:0], it)
		drain:
			for len(batch) < maxBatch {
				select {
				case it := <-o.in:
					batch = append(batch, it)
				default:
					break drain
				}
			}
			if o.f.noStore {
				for _, it := range batch {
					_ = o.f.link.SendRaw(ctx, xmpp.KindMessage, []byte(it.Payload))
				}
				continue
			}
			if err := o.f.st.EnqueueBatch(ctx, o.f.jid, batch); err != nil {
				o.f.log.Error("outbox: persist", "err", err)
			}
			for _, it := range batch {
				if err := o.f.link.SendRaw(ctx, xmpp.KindMessage, []byte(it.Payload)); err != nil {
					continue
				}
				o.mu.Lock()
				o.sent = max(o.sent, it.Seq)
				o.mu.Unlock()
			}
			o.ping(ctx)
		}
	}
}

// ping asks the server to confirm everything sent so far; at most one is in flight.
func (o *floorOutbox) ping(ctx context.Context) {
	o.mu.Lock()
	if o.pinging || o.sent <= o.acked {
		o.mu.Unlock()
		return
	}
	o.pinging = true
	upto := o.sent
	o.mu.Unlock()
	_, server, _ := cutDomain(o.f.jid)
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "get", "from", o.f.jid, "to", server).Add(xmpp.Elem(nsPing, "ping"))
	o.f.sendIQ(ctx, iq, func(resp *xmpp.Element) {
		o.mu.Lock()
		o.pinging = false
		ok := resp != nil
		if ok && upto > o.acked {
			o.acked = upto
		}
		more := o.sent > o.acked
		o.mu.Unlock()
		if ok {
			o.f.later.Ack(o.f.jid, upto)
			if more {
				o.ping(ctx)
			}
		}
	})
}

// cutDomain splits "telegram.localhost" into "telegram" and "localhost".
func cutDomain(j string) (first, rest string, ok bool) {
	for i := 0; i < len(j); i++ {
		if j[i] == '.' {
			return j[:i], j[i+1:], true
		}
	}
	return j, j, false
}
