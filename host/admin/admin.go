// Package admin serves the gateway's loopback HTTP endpoints for operators: /healthz for
// supervisors and load balancers, /metrics for Prometheus, and whatever else a part of the
// gateway mounts (such as a simulated network's control API).
package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Check reports whether one part of the gateway is healthy; a nil error means healthy.
type Check func(ctx context.Context) error

// Server is the admin HTTP listener.
type Server struct {
	addr string
	log  *slog.Logger
	mux  *http.ServeMux

	mu     sync.Mutex
	checks map[string]Check
	ln     net.Listener
}

// New creates an admin server for addr (host:port) exposing reg on /metrics.
func New(addr string, reg *prometheus.Registry, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	s := &Server{addr: addr, log: log, mux: http.NewServeMux(), checks: map[string]Check{}}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	return s
}

// AddCheck registers a named health check shown by /healthz.
func (s *Server) AddCheck(name string, c Check) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.checks[name] = c
}

// EnableProfiling serves Go's profiles (net/http/pprof) under /debug/pprof/. The admin
// listener is loopback-only unless the admin allowed otherwise, so this exposes nothing more.
func (s *Server) EnableProfiling() {
	s.mux.HandleFunc("/debug/pprof/", pprof.Index)
	s.mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	s.mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	s.mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	s.mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
}

// Handle mounts an extra handler, e.g. a control API of a simulated network.
func (s *Server) Handle(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// Listen binds the address, so that a bad address fails at start rather than later.
func (s *Server) Listen() error {
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		return fmt.Errorf("admin listener: %w", err)
	}
	s.mu.Lock()
	s.ln = ln
	s.mu.Unlock()
	return nil
}

// Addr returns the bound address (useful when the configured port was 0).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ln == nil {
		return s.addr
	}
	return s.ln.Addr().String()
}

// Run serves until ctx ends. Listen must have been called.
func (s *Server) Run(ctx context.Context) error {
	s.mu.Lock()
	ln := s.ln
	s.mu.Unlock()
	if ln == nil {
		return errors.New("admin: Run before Listen")
	}
	srv := &http.Server{Handler: s.mux, ReadHeaderTimeout: 5 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.log.Info("admin listener up", "addr", ln.Addr().String())
	select {
	case err := <-errc:
		return fmt.Errorf("admin listener: %w", err)
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		return nil
	}
}

// Health is the JSON body of /healthz.
type Health struct {
	Status string            `json:"status"` // "ok" or "unhealthy"
	Checks map[string]string `json:"checks"` // check name -> "ok" or what is wrong
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	s.mu.Lock()
	names := make([]string, 0, len(s.checks))
	for n := range s.checks {
		names = append(names, n)
	}
	checks := make([]Check, len(names))
	sort.Strings(names)
	for i, n := range names {
		checks[i] = s.checks[n]
	}
	s.mu.Unlock()

	h := Health{Status: "ok", Checks: make(map[string]string, len(names))}
	for i, n := range names {
		if err := checks[i](ctx); err != nil {
			h.Status = "unhealthy"
			h.Checks[n] = err.Error()
		} else {
			h.Checks[n] = "ok"
		}
	}
	w.Header().Set("Content-Type", "application/json")
	if h.Status != "ok" {
		w.WriteHeader(http.StatusServiceUnavailable)
	}
	_ = json.NewEncoder(w).Encode(h)
}
