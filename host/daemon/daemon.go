// Package daemon runs a whole gateway process from its configuration: the store, the metrics,
// the admin listener and one Gateway per [[gateway]] table, all sharing one Start/Stop shape.
//
// Lifecycle:
//  1. Start opens the store (running migrations), binds the admin listener, and starts each
//     gateway's component link in the background. Anything that cannot work (the store, the
//     admin address) fails Start; a server that is down does not, links retry by themselves.
//  2. The process runs until its context ends.
//  3. Stop (or the end of the context) closes the links politely, stops the admin listener and
//     closes the store. It works after a partial Start.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/admin"
	"github.com/xmppgw/gateway/host/config"
	"github.com/xmppgw/gateway/host/gateway"
	"github.com/xmppgw/gateway/host/metrics"
	"github.com/xmppgw/gateway/host/store"
)

// Options tune a daemon beyond its configuration, for tests and tools.
type Options struct {
	Logger *slog.Logger
	// MinBackoff, MaxBackoff and AuthBackoff override the component links' reconnect delays.
	MinBackoff, MaxBackoff, AuthBackoff time.Duration
}

// Daemon is a running gateway process.
type Daemon struct {
	cfg      *config.Config
	log      *slog.Logger
	Metrics  *metrics.Set
	Store    *store.Store
	Admin    *admin.Server
	Gateways []*gateway.Gateway

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Start brings a daemon up from cfg. The returned daemon runs until ctx ends or Stop is called.
func Start(ctx context.Context, cfg *config.Config, o Options) (d *Daemon, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	d = &Daemon{cfg: cfg, log: o.Logger, Metrics: metrics.New()}
	defer func() {
		if err != nil {
			d.Stop()
			d = nil
		}
	}()
	rctx, cancel := context.WithCancel(ctx)
	d.cancel = cancel

	st, err := store.Open(ctx, store.Options{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	d.Store = st

	addr := net.JoinHostPort(cfg.XMPP.Host, strconv.Itoa(cfg.XMPP.Port))
	for _, gc := range cfg.Gateways {
		d.Gateways = append(d.Gateways, gateway.New(gateway.Options{
			JID: gc.JID, Type: gc.Type, Name: gc.Name, Addr: addr, Secret: gc.Secret.Reveal(),
			Logger: o.Logger, Metrics: d.Metrics,
			MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff, AuthBackoff: o.AuthBackoff,
		}))
	}

	if cfg.Admin.Listen != "" {
		d.Admin = admin.New(cfg.Admin.Listen, d.Metrics.Registry, o.Logger)
		d.Admin.AddCheck("store", st.Ping)
		for _, g := range d.Gateways {
			d.Admin.AddCheck("component "+g.JID(), linkCheck(g))
		}
		if err := d.Admin.Listen(); err != nil {
			return nil, err
		}
		d.goRun(rctx, "admin", d.Admin.Run)
	}
	for _, g := range d.Gateways {
		d.goRun(rctx, "gateway "+g.JID(), g.Run)
	}
	return d, nil
}

// linkCheck reports a component link that is down, with why and since when.
func linkCheck(g *gateway.Gateway) admin.Check {
	return func(context.Context) error {
		st := g.Status()
		if st.Connected {
			return nil
		}
		msg := "not connected"
		if st.LastError != nil {
			msg = "not connected: " + st.LastError.Error()
		}
		return fmt.Errorf("%s (since %s, %d attempts)", msg, st.Since.UTC().Format(time.RFC3339), st.Attempts)
	}
}

func (d *Daemon) goRun(ctx context.Context, what string, run func(context.Context) error) {
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		if err := run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			d.log.Error("stopped with error", "part", what, "err", err)
		}
	}()
}

// Wait blocks until every part has stopped.
func (d *Daemon) Wait() { d.wg.Wait() }

// Stop stops everything and closes the store. It is safe to call more than once.
func (d *Daemon) Stop() {
	d.once.Do(func() {
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		if d.Store != nil {
			if err := d.Store.Close(); err != nil {
				d.log.Error("close store", "err", err)
			}
		}
	})
}
