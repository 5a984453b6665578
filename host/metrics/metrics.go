// Package metrics holds the gateway's Prometheus metrics. Everything is registered on one
// registry owned by the process, so that tests can run several gateways side by side and
// /metrics shows exactly this process's numbers.
package metrics

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Set is the process's metrics.
type Set struct {
	Registry *prometheus.Registry

	connected  *prometheus.GaugeVec
	reconnects *prometheus.CounterVec
	stanzasIn  *prometheus.CounterVec
	stanzasOut *prometheus.CounterVec
	errors     *prometheus.CounterVec
}

// New creates a metrics set with Go runtime and process collectors.
func New() *Set {
	s := &Set{
		Registry: prometheus.NewRegistry(),
		connected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_component_connected",
			Help: "1 when the gateway's component link to the XMPP server is up, else 0.",
		}, []string{"gateway"}),
		reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_component_reconnects_total",
			Help: "Connections established after the first one (the link went away and came back).",
		}, []string{"gateway"}),
		stanzasIn: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_stanzas_in_total",
			Help: "Stanzas received from the XMPP server, by kind (message, presence, iq).",
		}, []string{"gateway", "kind"}),
		stanzasOut: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_stanzas_out_total",
			Help: "Stanzas sent to the XMPP server, by kind.",
		}, []string{"gateway", "kind"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_errors_total",
			Help: "Errors by kind: connect, auth, read, write, stanza (an error stanza sent).",
		}, []string{"gateway", "kind"}),
	}
	s.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		s.connected, s.reconnects, s.stanzasIn, s.stanzasOut, s.errors,
	)
	return s
}

// WatchStore exports the store's write counts, read from stats at each scrape.
func (s *Set) WatchStore(stats func() (writes, commits int64)) {
	s.Registry.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gateway_store_writes_total",
			Help: "Frequent writes (message id mappings, journal, outbox, plugin storage) queued to the store.",
		}, func() float64 { w, _ := stats(); return float64(w) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "gateway_store_commits_total",
			Help: "Store transactions that committed those writes (several writes share one under load).",
		}, func() float64 { _, c := stats(); return float64(c) }),
	)
}

// Gateway is the metrics of one gateway (one component), with its label bound, so that hot paths
// do not look up label values.
type Gateway struct {
	Connected  prometheus.Gauge
	Reconnects prometheus.Counter
	In, Out    Kinds
	set        *Set
	name       string
}

// Kinds counts stanzas by kind.
type Kinds struct {
	Message, Presence, IQ, Other prometheus.Counter
}

// Inc counts one stanza of the given kind ("message", "presence", "iq").
func (k *Kinds) Inc(kind string) {
	switch kind {
	case "message":
		k.Message.Inc()
	case "presence":
		k.Presence.Inc()
	case "iq":
		k.IQ.Inc()
	default:
		k.Other.Inc()
	}
}

// For returns the metrics of gateway jid. A nil Set gives counters that count nowhere, for tests
// and tools that run a gateway without /metrics.
func (s *Set) For(jid string) *Gateway {
	if s == nil {
		s = New()
	}
	kinds := func(v *prometheus.CounterVec) Kinds {
		return Kinds{
			Message:  v.WithLabelValues(jid, "message"),
			Presence: v.WithLabelValues(jid, "presence"),
			IQ:       v.WithLabelValues(jid, "iq"),
			Other:    v.WithLabelValues(jid, "other"),
		}
	}
	return &Gateway{
		Connected:  s.connected.WithLabelValues(jid),
		Reconnects: s.reconnects.WithLabelValues(jid),
		In:         kinds(s.stanzasIn),
		Out:        kinds(s.stanzasOut),
		set:        s,
		name:       jid,
	}
}

// Error counts one error of the given kind.
func (g *Gateway) Error(kind string) {
	g.set.errors.WithLabelValues(g.name, kind).Inc()
}
