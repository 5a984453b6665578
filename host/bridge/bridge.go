// Package bridge is the host side of the network bridges a plugin calls by name (abi
// "bridge.call"): one interface, [Backend], with backends registered by name ("sim", a simulated
// Telegram in host/bridge/sim; "tdlib", the real TDLib in host/bridge/tdlib).
//
// A backend serves many sessions (users). For each session it opens a [Client] speaking TDLib's
// JSON: the host sends requests (JSON objects with "@type") after adding "@extra" (its token for
// the call, see [WithExtra]), and the client delivers every answer (carrying that "@extra") and
// every update (no "@extra") on one ordered stream, [Client.Updates]. [Extra] splits an answer
// from an update. Nothing blocks: Send queues the request and returns.
//
// The backends register themselves in init functions; import host/bridge/backends (or the
// backend packages) for their side effects before calling [New]:
//
//	import _ "github.com/xmppgw/gateway/host/bridge/backends"
//
//	be, err := bridge.New(cfg.Backend, cfg, bridge.WithLogger(log))
//	cl, err := be.Open(ctx, bridge.Session{User: "alice@example.org", DataDir: dir, Key: key})
//	req, err = bridge.WithExtra(req, `"b-42"`) // the call's token
//	err = cl.Send(req)
//	for msg := range cl.Updates() { ... }
//
// A client's stream ends (the channel is closed) after it delivered
// updateAuthorizationState{authorizationStateClosed} (logOut, close, a session revoked from
// another device) or after [Client.Close]. A closed client is gone, as in TDLib: open a new one
// for the same session to log in again.
//
// Secrets (the API hash, the database key, login codes, passwords, phone numbers) are never
// logged by a backend.
package bridge

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/config"
)

// Backend is one configured bridge ([bridge.NAME] in gateway.toml): it opens a client per
// session and is closed at shutdown, which closes every client still open.
type Backend interface {
	// Open starts the client of a session. The client sends nothing before its first request.
	// Opening a second client for a DataDir that has an open one fails.
	Open(ctx context.Context, session Session) (Client, error)
	// Close closes every open client and releases the backend.
	Close() error
}

// Session names the user a client acts for and where it keeps its state.
type Session struct {
	// User is the user's bare JID; it appears in logs.
	User string
	// DataDir is the user's folder for the network's database and files; the backend creates
	// it if needed.
	DataDir string
	// Key is the per-user database encryption key, generated and kept by the host.
	Key []byte
}

// Client is one session's connection to the network, speaking TDLib's JSON.
type Client interface {
	// Send queues a request (a JSON object with "@type" and usually "@extra") and returns at
	// once. Its answer comes on Updates with the same "@extra". It fails only when the client
	// is closed ([ErrClosed]) or the request is not a JSON object with "@type" ([ErrBadRequest]).
	Send(req []byte) error
	// Updates delivers answers and updates, in order. It is closed when the client ends.
	Updates() <-chan []byte
	// Close ends the client (TDLib "close": the session stays logged in for the next Open) and
	// closes Updates. It waits for the backend to let go of the session's database, and is
	// safe to call more than once.
	Close() error
}

// Controller is implemented by backends with a control API (the simulated network); the host
// mounts the handler on its loopback admin listener, under /sim/.
type Controller interface {
	Handler() http.Handler
}

var (
	// ErrClosed is returned by Client.Send after the client ended.
	ErrClosed = errors.New("bridge: client is closed")
	// ErrBadRequest is returned by Client.Send for a request that is not a JSON object with a
	// string "@type".
	ErrBadRequest = errors.New("bridge: request is not a JSON object with \"@type\"")
	// ErrNoTDLib is returned by New for the "tdlib" backend in a build without TDLib.
	ErrNoTDLib = errors.New("this gateway was built without TDLib: rebuild with make build (needs make deps)")
)

// Options are the settings common to every backend.
type Options struct {
	// Logger receives the backend's log; default slog.Default().
	Logger *slog.Logger
	// Now is the clock (the simulated network dates its messages and statuses with it);
	// default time.Now.
	Now func() time.Time
}

// Option sets one of the Options.
type Option func(*Options)

// WithLogger sets the backend's logger.
func WithLogger(l *slog.Logger) Option { return func(o *Options) { o.Logger = l } }

// WithClock sets the backend's clock.
func WithClock(now func() time.Time) Option { return func(o *Options) { o.Now = now } }

// Factory makes a backend from its configuration.
type Factory func(cfg config.Bridge, opts Options) (Backend, error)

var (
	regMu    sync.RWMutex
	registry = map[string]Factory{}
)

// Register makes a backend available to New under name. It panics on a duplicate name, as it
// runs from init functions.
func Register(name string, f Factory) {
	regMu.Lock()
	defer regMu.Unlock()
	if _, dup := registry[name]; dup {
		panic("bridge: backend " + name + " registered twice")
	}
	registry[name] = f
}

// Backends lists the registered backend names, sorted.
func Backends() []string {
	regMu.RLock()
	defer regMu.RUnlock()
	names := make([]string, 0, len(registry))
	for n := range registry {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// New creates the backend named backend ("sim" or "tdlib"; "" means cfg.Backend) for the
// bridge cfg. Without TDLib in the build, New("tdlib") fails with ErrNoTDLib.
func New(backend string, cfg config.Bridge, opts ...Option) (Backend, error) {
	if backend == "" {
		backend = cfg.Backend
	}
	var o Options
	for _, opt := range opts {
		opt(&o)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	o.Logger = o.Logger.With("bridge", cfg.Name, "backend", backend)
	regMu.RLock()
	f, ok := registry[backend]
	regMu.RUnlock()
	if !ok {
		if backend == "tdlib" {
			return nil, fmt.Errorf("bridge %q: %w", cfg.Name, ErrNoTDLib)
		}
		return nil, fmt.Errorf("bridge %q: unknown backend %q (have: %s)", cfg.Name, backend, strings.Join(Backends(), ", "))
	}
	be, err := f(cfg, o)
	if err != nil {
		return nil, fmt.Errorf("bridge %q: %w", cfg.Name, err)
	}
	return be, nil
}

// RequestType returns the "@type" of a JSON object, or ErrBadRequest.
func RequestType(req []byte) (string, error) {
	var m struct {
		Type *string `json:"@type"`
	}
	if err := json.Unmarshal(req, &m); err != nil || m.Type == nil || *m.Type == "" {
		return "", ErrBadRequest
	}
	return *m.Type, nil
}

// WithExtra returns req (a JSON object) with "@extra" set to extra, a JSON value such as
// `"b-42"`; an "@extra" already in req is replaced.
func WithExtra(req []byte, extra string) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(req, &m); err != nil || m == nil {
		return nil, ErrBadRequest
	}
	if !json.Valid([]byte(extra)) {
		return nil, fmt.Errorf("bridge: @extra %q is not JSON", extra)
	}
	m["@extra"] = json.RawMessage(extra)
	return marshal(m)
}

// marshal encodes v without escaping <, > and & (TDLib text is not HTML).
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Extra returns the "@extra" of an answer as raw JSON, and the object without "@extra" and
// "@client_id" (what a plugin is given). For an update (no "@extra") ok is false and rest is
// msg unchanged.
func Extra(msg []byte) (extra json.RawMessage, rest []byte, ok bool) {
	if !bytes.Contains(msg, []byte(`"@extra"`)) {
		return nil, msg, false
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(msg, &m); err != nil {
		return nil, msg, false
	}
	extra, ok = m["@extra"]
	if !ok {
		return nil, msg, false
	}
	delete(m, "@extra")
	delete(m, "@client_id")
	rest, err := marshal(m)
	if err != nil {
		return nil, msg, false
	}
	return extra, rest, true
}
