// Package gateway is one configured gateway: a component JID on the XMPP server, its link, and
// the routing of every stanza that arrives for it (to the gateway JID itself, or to a puppet).
//
// Where a stanza enters: Gateway.HandleStanza (called by the link's reader). Where it becomes a
// plugin call: the session layer. Where a plugin call becomes a stanza: Gateway.Send.
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
	"github.com/xmppgw/gateway/host/session"
	"github.com/xmppgw/gateway/host/store"

	"github.com/xmppgw/gateway/host/buildinfo"
	"github.com/xmppgw/gateway/host/metrics"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/disco"
)

// Namespaces the gateway JID answers itself.
const (
	NSPing    = "urn:xmpp:ping"
	NSVersion = "jabber:iq:version"
)

// Options describes one gateway.
type Options struct {
	JID    string // the component JID
	Type   string // the disco identity type, e.g. "telegram"
	Name   string // the human name in disco
	Addr   string // the server's component address, host:port
	Secret string
	Logger *slog.Logger
	// Metrics of the process; nil counts nowhere.
	Metrics *metrics.Set
	// Link overrides the link's backoff settings (tests shorten them).
	MinBackoff, MaxBackoff, AuthBackoff time.Duration

	// Plugin is the network plugin's .wasm file; empty runs the gateway without a network
	// (disco, version and ping only).
	Plugin        string
	PluginOptions plugin.Options
	// Store keeps users, contacts and plugin data; required with a plugin.
	Store *store.Store
	// Sessions configures the session layer; JID, Name and Logger are filled in.
	Sessions session.Config
}

// Gateway routes the stanzas of one component.
type Gateway struct {
	opts Options
	log  *slog.Logger
	m    *metrics.Gateway
	link *xmpp.Link
	info disco.Info
	iqs  iqTracker

	privMu sync.Mutex
	privs  map[string]Privileges // by server domain

	plugin   *plugin.Plugin
	sessions *session.Manager
	started  sync.Once
	out      *outbox // nil without a store
}

// New creates a gateway and loads its plugin; Run connects it. Close releases the plugin.
func New(ctx context.Context, o Options) (*Gateway, error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	g := &Gateway{opts: o, log: o.Logger.With("gateway", o.JID), m: o.Metrics.For(o.JID)}
	g.info = disco.Info{
		Identities: []disco.Identity{{Category: "gateway", Type: o.Type, Name: o.Name}},
		Features:   []string{disco.NSInfo, disco.NSItems, NSVersion, NSPing},
	}
	g.link = xmpp.NewLink(xmpp.LinkConfig{
		JID: o.JID, Addr: o.Addr, Secret: o.Secret, Logger: o.Logger, Metrics: g.m,
		MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff, AuthBackoff: o.AuthBackoff,
	}, g)
	if o.Store != nil {
		g.out = newOutbox(g, o.Store)
	}
	if o.Plugin == "" {
		return g, nil
	}
	if err := g.loadPlugin(ctx); err != nil {
		return nil, err
	}
	g.info.Features = append(g.info.Features, g.sessions.Features()...)
	return g, nil
}

// loadPlugin starts the plugin and the session layer on top of it.
func (g *Gateway) loadPlugin(ctx context.Context) error {
	o := g.opts
	host := &lateHost{}
	po := o.PluginOptions
	po.Logger = g.log
	p, err := plugin.Load(ctx, o.Plugin, host, po)
	if err != nil {
		return fmt.Errorf("gateway %s: %w", o.JID, err)
	}
	sc := o.Sessions
	sc.JID, sc.Logger = o.JID, o.Logger
	if sc.Name == "" {
		sc.Name = p.Info().Name
	}
	if sc.Name == "" {
		sc.Name = o.Name
	}
	m, err := session.NewManager(context.WithoutCancel(ctx), sc, g, session.PluginRuntime{P: p}, o.Store, p.Info())
	if err != nil {
		_ = p.Close(ctx)
		return fmt.Errorf("gateway %s: %w", o.JID, err)
	}
	host.m = m
	g.plugin, g.sessions = p, m
	return nil
}

// lateHost forwards plugin host calls to the session manager, which needs the plugin's init
// reply to be created: the plugin is loaded first.
type lateHost struct{ m *session.Manager }

func (h *lateHost) Call(ctx context.Context, s string, method abi.Method, req []byte) ([]byte, error) {
	if h.m == nil {
		return nil, abi.Errorf(abi.CodeNoSession, "%s: no host calls during init", method)
	}
	return h.m.Call(ctx, s, method, req)
}

func (h *lateHost) Log(s string, level abi.LogLevel, msg string) {
	if h.m != nil {
		h.m.Log(s, level, msg)
		return
	}
	slog.Log(context.Background(), slog.Level(level), msg, "source", "plugin")
}

func (h *lateHost) PluginCrashed(s string, ev abi.EventType, err error) {
	if h.m != nil {
		h.m.PluginCrashed(s, ev, err)
	}
}

// Connected is called each time the component link comes up: the first time the sessions of
// registered users start; later, they show their presence again.
func (g *Gateway) Connected(ctx context.Context) {
	if g.out != nil {
		g.out.connected()
	}
	if g.sessions == nil {
		return
	}
	first := false
	g.started.Do(func() { first = true })
	if first {
		go func() {
			if err := g.sessions.StartAll(context.WithoutCancel(ctx)); err != nil {
				g.log.Error("start sessions", "err", err)
			}
		}()
		return
	}
	g.sessions.Reconnected()
}

// Disconnected is called when the component link goes down: requests in flight get no answer.
func (g *Gateway) Disconnected() { g.iqs.failAll(xmpp.ErrDisconnected) }

// Sessions returns the session layer, nil without a plugin.
func (g *Gateway) Sessions() *session.Manager { return g.sessions }

// Plugin returns the loaded plugin, nil without one.
func (g *Gateway) Plugin() *plugin.Plugin { return g.plugin }

// Shutdown logs every session out while the link is still up, so that users see the puppets
// and the gateway go offline, then closes the plugin.
func (g *Gateway) Shutdown(ctx context.Context) {
	if g.sessions != nil {
		g.sessions.Shutdown(ctx)
	}
	if g.out != nil {
		g.out.flush(ctx)
	}
	if g.plugin != nil {
		if err := g.plugin.Close(ctx); err != nil {
			g.log.Error("close plugin", "err", err)
		}
	}
}

// RosterPrivilege reports whether the server of domain lets the gateway read and write its
// users' rosters (XEP-0356).
func (g *Gateway) RosterPrivilege(domain string) bool {
	p := g.Privileges(domain)
	return p.RosterGet() && p.RosterSet()
}

// JID returns the gateway's component JID.
func (g *Gateway) JID() string { return g.opts.JID }

// Run keeps the component link up until ctx ends.
func (g *Gateway) Run(ctx context.Context) error {
	if g.out != nil {
		done := make(chan struct{})
		defer func() { <-done }()
		go func() { defer close(done); g.out.run(ctx) }()
	}
	return g.link.Run(ctx)
}

// Status reports the component link's state, for /healthz.
func (g *Gateway) Status() xmpp.Status { return g.link.Status() }

// Info returns what the gateway JID answers to disco#info.
func (g *Gateway) Info() disco.Info { return g.info }

// Send sends a stanza to the server. Messages go through the outbox, so that none is lost while
// the link is down; presences and IQs describe state that is sent again after a reconnect.
func (g *Gateway) Send(ctx context.Context, e *xmpp.Element) error {
	if g.out != nil && e.Name.Local == xmpp.KindMessage {
		return g.out.send(ctx, e)
	}
	return g.link.Send(ctx, e)
}

// HandleStanza routes one stanza from the server. It runs on the link's reader goroutine.
func (g *Gateway) HandleStanza(s *xmpp.Element) {
	local, _, _ := xmpp.SplitJID(s.Get("to"))
	switch s.Name.Local {
	case xmpp.KindMessage:
		if p := s.ChildNS(NSPrivilege); p != nil || s.ChildNS(NSPrivilege1) != nil {
			g.setPrivileges(s)
			return
		}
	case xmpp.KindIQ:
		if t := s.Get("type"); t == "result" || t == "error" {
			if !g.iqs.finish(s.Get("id"), s, nil) {
				g.log.Debug("unexpected IQ answer", "id", s.Get("id"), "from", s.Get("from"))
			}
			return
		}
	}
	if g.sessions != nil && g.sessions.HandleStanza(s) {
		return
	}
	switch s.Name.Local {
	case xmpp.KindIQ:
		if local == "" {
			g.handleOwnIQ(s)
			return
		}
	case xmpp.KindPresence:
		if local == "" && s.Get("type") == "probe" {
			g.reply(s, xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "from", g.opts.JID, "to", xmpp.Bare(s.Get("from"))))
			return
		}
		// Other presences change nothing until a session exists for the sender.
		return
	}
	g.refuse(s, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "service-unavailable",
		Text: "this gateway has no session for you: register first"})
}

// handleOwnIQ answers IQs addressed to the gateway JID.
func (g *Gateway) handleOwnIQ(s *xmpp.Element) {
	typ := s.Get("type")
	if len(s.Children) != 1 {
		g.refuse(s, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "an IQ carries exactly one payload"})
		return
	}
	q := s.Children[0]
	if typ == "get" {
		switch q.Name.Space {
		case disco.NSInfo:
			if node := q.Get("node"); node != "" {
				g.refuse(s, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found", Text: "no such node: " + node})
				return
			}
			g.reply(s, xmpp.IQResult(s, g.info.Element("")))
			return
		case disco.NSItems:
			g.reply(s, xmpp.IQResult(s, disco.ItemsElement(q.Get("node"), nil)))
			return
		case NSPing:
			g.reply(s, xmpp.IQResult(s))
			return
		case NSVersion:
			v := xmpp.Elem(NSVersion, "query").Add(
				xmpp.Elem(NSVersion, "name").WithText(buildinfo.Name),
				xmpp.Elem(NSVersion, "version").WithText(buildinfo.Version()),
			)
			g.reply(s, xmpp.IQResult(s, v))
			return
		}
	}
	g.refuse(s, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "service-unavailable"})
}

// refuse answers s with a stanza error, unless s is itself an error (no error loops).
func (g *Gateway) refuse(s *xmpp.Element, se *xmpp.StanzaError) {
	if s.Get("type") == "error" {
		return
	}
	g.m.Error("stanza")
	g.reply(s, xmpp.ErrorReply(s, se))
}

func (g *Gateway) reply(s, r *xmpp.Element) {
	// The reader must not block for long; the write queue only blocks when the socket does.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := g.link.Send(ctx, r); err != nil {
		g.log.Warn("reply not sent", "kind", r.Name.Local, "id", s.Get("id"), "err", err)
	}
}

// MessagePrivilege reports whether the server of domain lets the gateway send messages as its
// users (XEP-0356), for carbons.
func (g *Gateway) MessagePrivilege(domain string) bool { return g.Privileges(domain).MessageOutgoing() }
