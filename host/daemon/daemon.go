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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
	"github.com/xmppgw/gateway/host/session"

	"github.com/xmppgw/gateway/host/admin"
	"github.com/xmppgw/gateway/host/bridge"
	_ "github.com/xmppgw/gateway/host/bridge/backends" // the sim backend, and tdlib in builds with it
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
	// PluginCacheDir overrides where compiled plugins are cached (default: data_dir/wasm-cache),
	// so that tests share one cache.
	PluginCacheDir string
	// PruneEvery is how often message-id mappings older than the store's retention are
	// forgotten (default a day; the first time a minute after start, or PruneEvery if shorter).
	PruneEvery time.Duration
}

// Daemon is a running gateway process.
type Daemon struct {
	cfg      *config.Config
	log      *slog.Logger
	Metrics  *metrics.Set
	Store    *store.Store
	Admin    *admin.Server
	Gateways []*gateway.Gateway
	// Bridges are the configured bridge backends by name.
	Bridges map[string]bridge.Backend

	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// Start brings a daemon up from cfg; ctx bounds the start only. The daemon runs until Stop.
func Start(ctx context.Context, cfg *config.Config, o Options) (d *Daemon, err error) {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	self := &Daemon{cfg: cfg, log: o.Logger, Metrics: metrics.New()}
	d = self
	defer func() {
		if err != nil {
			self.Stop() // the returns below have set d to nil already
			d = nil
		}
	}()
	// The parts run until Stop, not until ctx ends: at a signal the caller calls Stop, which
	// logs sessions out while the links are still up.
	rctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel

	st, err := store.Open(ctx, store.Options{Driver: cfg.Store.Driver, DSN: cfg.Store.DSN.Reveal()})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	d.Store = st
	d.Metrics.WatchStore(func() (int64, int64) { s := st.Stats(); return s.Writes, s.Commits })

	d.Bridges = map[string]bridge.Backend{}
	for name, bc := range cfg.Bridges {
		be, err := bridge.New(bc.Backend, bc, bridge.WithLogger(o.Logger))
		if err != nil {
			return nil, err
		}
		d.Bridges[name] = be
	}

	addr := net.JoinHostPort(cfg.XMPP.Host, strconv.Itoa(cfg.XMPP.Port))
	for _, gc := range cfg.Gateways {
		gopts := gatewayOptions(cfg, gc, addr, st, d.Metrics, o)
		gopts.Sessions.Bridges = map[string]bridge.Backend{}
		for _, name := range gc.Bridges {
			gopts.Sessions.Bridges[name] = d.Bridges[name]
		}
		g, err := gateway.New(ctx, gopts)
		if err != nil {
			return nil, err
		}
		d.Gateways = append(d.Gateways, g)
	}

	if cfg.Admin.Listen != "" {
		d.Admin = admin.New(cfg.Admin.Listen, d.Metrics.Registry, o.Logger)
		d.Admin.AddCheck("store", st.Ping)
		d.Admin.EnableProfiling()
		for name, be := range d.Bridges {
			if c, ok := be.(bridge.Controller); ok {
				// A simulated network's control API, to act as remote people (loopback only):
				// /bridge/NAME/message, /bridge/NAME/own/message, ... (host/bridge/sim).
				prefix := "/bridge/" + name
				d.Admin.Handle(prefix+"/", http.StripPrefix(prefix, c.Handler()))
			}
		}
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
	if keep := cfg.Store.KeepMessageIDs; keep > 0 {
		every := o.PruneEvery
		if every <= 0 {
			every = 24 * time.Hour
		}
		d.goRun(rctx, "message id pruning", func(ctx context.Context) error { return d.pruneMsgIDs(ctx, keep, every) })
	}
	return d, nil
}

// pruneMsgIDs forgets the message-id mappings older than keep, every so often, so that the
// store does not grow with every message ever bridged.
func (d *Daemon) pruneMsgIDs(ctx context.Context, keep, every time.Duration) error {
	t := time.NewTimer(min(time.Minute, every))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		start := time.Now()
		n, err := d.Store.PruneMsgIDs(ctx, start.Add(-keep))
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Error("prune message ids", "err", err)
		case n > 0:
			d.log.Info("message ids pruned", "count", n, "older_than", keep.String(), "took", time.Since(start).Round(time.Millisecond).String())
		}
		t.Reset(every)
	}
}

// gatewayOptions turns one [[gateway]] table into the options of a Gateway.
func gatewayOptions(cfg *config.Config, gc config.Gateway, addr string, st *store.Store, ms *metrics.Set, o Options) gateway.Options {
	pluginConfig, _ := json.Marshal(gc.Config) // decoded from TOML: always encodable
	cacheDir := o.PluginCacheDir
	if cacheDir == "" {
		cacheDir = filepath.Join(cfg.DataDir, "wasm-cache")
	}
	return gateway.Options{
		JID: gc.JID, Type: gc.Type, Name: gc.Name, Addr: addr, Secret: gc.Secret.Reveal(),
		Logger: o.Logger, Metrics: ms,
		MinBackoff: o.MinBackoff, MaxBackoff: o.MaxBackoff, AuthBackoff: o.AuthBackoff,
		Plugin: gc.Plugin,
		PluginOptions: plugin.Options{
			CacheDir:            cacheDir,
			Instances:           gc.Limits.Instances,
			SessionsPerInstance: gc.Limits.SessionsPerInstance,
			MemoryLimitMB:       gc.Limits.MemoryMB,
			EventTimeout:        gc.Limits.EventTimeout,
			Init:                abi.Init{Gateway: gc.JID, Config: pluginConfig, Bridges: gc.Bridges},
		},
		Store: st,
		Sessions: session.Config{
			Name:              gc.Name,
			AllowDomains:      gc.AllowDomains,
			AllowRegex:        gc.AllowRegex,
			QueueSize:         gc.Limits.Queue,
			StorageQuota:      int64(gc.Limits.StorageQuotaKB) * 1024,
			MaxFileSize:       int64(gc.Limits.MaxFileMB) << 20,
			FetchAllowPrivate: gc.Limits.FetchPrivate,
			DataDir:           cfg.DataDir,
		},
	}
}

// linkCheck reports a component link that is down, or a plugin that was stopped.
func linkCheck(g *gateway.Gateway) admin.Check {
	return func(context.Context) error {
		if p := g.Plugin(); p != nil {
			if err := p.Healthy(); err != nil {
				return fmt.Errorf("plugin stopped: %w", err)
			}
		}
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
		// Sessions log out while the links are still up, so users see the puppets go offline.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, g := range d.Gateways {
			g.Shutdown(ctx)
		}
		if d.cancel != nil {
			d.cancel()
		}
		d.wg.Wait()
		for name, be := range d.Bridges {
			if err := be.Close(); err != nil {
				d.log.Error("close bridge", "bridge", name, "err", err)
			}
		}
		if d.Store != nil {
			if err := d.Store.Close(); err != nil {
				d.log.Error("close store", "err", err)
			}
		}
	})
}
