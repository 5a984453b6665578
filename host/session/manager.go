// Package session runs the users of one gateway (slidge's BaseSession): registration, login
// with prompts, the roster of contact singletons, and every host call a plugin makes on behalf
// of a user.
//
// Each user has one Session, an actor: every input (a stanza from the user, a bridge answer, a
// timer, an admin action) is queued to it and handled in order, one at a time, on its own
// goroutine. Plugin events are delivered from there, and the plugin's host calls for that user
// run while the session waits for the event to finish, so session state needs no locks.
package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// Link is what a session needs of its gateway's component connection.
type Link interface {
	// Send sends a stanza to the server.
	Send(ctx context.Context, e *xmpp.Element) error
	// SendIQ sends an IQ request and calls cb with the answer (see gateway.Gateway.SendIQ).
	SendIQ(ctx context.Context, iq *xmpp.Element, timeout time.Duration, cb func(*xmpp.Element, error))
	// RosterPrivilege reports whether the server lets the gateway read and write the rosters of
	// users of domain (XEP-0356).
	RosterPrivilege(domain string) bool
	// MessagePrivilege reports whether the gateway may send messages as users of domain.
	MessagePrivilege(domain string) bool
}

// Runtime is what a session needs of the plugin runtime: deliver one event and wait for it.
type Runtime interface {
	// Event delivers ev for session (a user's bare JID) and waits until the plugin handled it.
	Event(ctx context.Context, session string, ev abi.EventType, chat *abi.Chat, payload []byte) (abi.Status, []byte, error)
}

// Config is what a Manager needs to know of its gateway.
type Config struct {
	JID          string // the component JID
	Name         string // the network's human name, e.g. "Telegram"
	AllowDomains []string
	AllowRegex   string
	// Group is the roster group puppets are put in; default Name.
	Group string
	// QueueSize bounds each session's queue of inputs; a full queue refuses stanzas with <wait/>.
	QueueSize int
	// PromptTimeout is how long a prompt (a login code) waits for the user's answer.
	PromptTimeout time.Duration
	// RequestTimeout is how long registration and search wait for the plugin's answer.
	RequestTimeout time.Duration
	// StorageQuota bounds each user's plugin key-value storage, in bytes.
	StorageQuota int64
	// CarbonPrefix starts the user's own messages sent from another client of the network, when
	// the server does not let the gateway send them as the user. Default "You: ".
	CarbonPrefix string
	// StartConcurrency bounds how many sessions start at once at gateway start.
	StartConcurrency int
	// MaxFileSize caps a file.fetch download, in bytes; default 100 MiB.
	MaxFileSize int64
	// FetchAllowPrivate lets file.fetch reach loopback, private and link-local addresses (tests
	// and the demo run everything on loopback); never in production.
	FetchAllowPrivate bool
	// DataDir is the gateway's folder; each user's bridge data lives below it.
	DataDir string
	// Bridges are the bridges granted to the gateway, by name.
	Bridges map[string]bridge.Backend
	Logger  *slog.Logger
}

// UserDataDir is the folder of one user's files (e.g. a TDLib database), or "" without DataDir.
func (c Config) UserDataDir(user string) string {
	if c.DataDir == "" {
		return ""
	}
	return filepath.Join(c.DataDir, "users", c.JID, user)
}

// Manager owns the sessions of one gateway.
type Manager struct {
	cfg     Config
	allow   *regexp.Regexp
	link    Link
	rt      Runtime
	st      *store.Store
	later   store.Later // writes that need not be durable before the session goes on
	log     *slog.Logger
	info    abi.InitReply
	baseCtx context.Context

	// rosterPushes counts privileged roster pushes, for tests and metrics; rosterPushesDone
	// those the server answered.
	rosterPushes, rosterPushesDone atomic.Int64
	// connected counts sessions in StateConnected.
	connected atomic.Int64
	// duplicates counts network messages dropped because their network id was seen before.
	duplicates atomic.Int64
	// injected holds the ids of messages sent as users (carbons), which the server routes back
	// to the component: they are dropped there. id -> time sent.
	injected  sync.Map
	injectedN atomic.Int64
	// puppetInfo caches the disco#info of puppets by client type.
	puppetInfo sync.Map

	mu       sync.Mutex
	sessions map[string]*Session
	closed   bool
	wg       sync.WaitGroup
}

// NewManager creates the session manager of a gateway. info is what the plugin declared at init.
func NewManager(ctx context.Context, cfg Config, link Link, rt Runtime, st *store.Store, info abi.InitReply) (*Manager, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Group == "" {
		cfg.Group = cfg.Name
	}
	if cfg.CarbonPrefix == "" {
		cfg.CarbonPrefix = "You: "
	}
	if cfg.QueueSize <= 0 {
		cfg.QueueSize = 256
	}
	if cfg.PromptTimeout <= 0 {
		cfg.PromptTimeout = 5 * time.Minute
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = time.Minute
	}
	if cfg.StartConcurrency <= 0 {
		cfg.StartConcurrency = 16
	}
	m := &Manager{cfg: cfg, link: link, rt: rt, st: st, info: info, baseCtx: ctx,
		log: cfg.Logger.With("gateway", cfg.JID), sessions: map[string]*Session{}}
	m.later = st.Later(func(err error) { m.log.Error("store write", "err", err) })
	if cfg.AllowRegex != "" {
		re, err := regexp.Compile(cfg.AllowRegex)
		if err != nil {
			return nil, fmt.Errorf("allow_regex: %w", err)
		}
		m.allow = re
	}
	return m, nil
}

// Info returns what the plugin declared at init.
func (m *Manager) Info() abi.InitReply { return m.info }

// Allowed reports whether the user (a bare JID) may use this gateway.
func (m *Manager) Allowed(user string) bool {
	_, domain, _ := xmpp.SplitJID(user)
	for _, d := range m.cfg.AllowDomains {
		if strings.EqualFold(d, domain) {
			return true
		}
	}
	return m.allow != nil && m.allow.MatchString(user)
}

// StartAll starts the session of every registered user, a bounded number at a time, and returns
// when all of them have been asked to log in.
func (m *Manager) StartAll(ctx context.Context) error {
	users, err := m.st.Users(ctx, m.cfg.JID)
	if err != nil {
		return fmt.Errorf("start sessions: %w", err)
	}
	sem := make(chan struct{}, m.cfg.StartConcurrency)
	var wg sync.WaitGroup
	for _, u := range users {
		sem <- struct{}{}
		wg.Add(1)
		go func(u store.User) {
			defer func() { <-sem; wg.Done() }()
			s, err := m.session(u.JID, true)
			if err != nil {
				m.log.Error("start session", "user", u.JID, "err", err)
				return
			}
			s.enqueueLogin(u.Form)
		}(u)
	}
	wg.Wait()
	m.log.Info("sessions started", "count", len(users))
	return nil
}

// ErrClosed is returned once the manager is shutting down.
var ErrClosed = errors.New("session: the gateway is shutting down")

// session returns the user's session, creating it (and loading its roster) if create is set.
func (m *Manager) session(user string, create bool) (*Session, error) {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil, ErrClosed
	}
	if s := m.sessions[user]; s != nil || !create {
		m.mu.Unlock()
		return s, nil
	}
	s := newSession(m, user)
	m.sessions[user] = s
	m.wg.Add(1)
	m.mu.Unlock()
	go func() {
		defer m.wg.Done()
		s.run()
	}()
	return s, nil
}

// lookup returns the running session of user, or nil.
func (m *Manager) lookup(user string) *Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sessions[user]
}

// remove forgets a session whose actor has stopped.
func (m *Manager) remove(s *Session) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sessions[s.user] == s {
		delete(m.sessions, s.user)
	}
}

// Sessions returns the number of running sessions.
func (m *Manager) Sessions() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.sessions)
}

// Shutdown logs every session out (the plugin gets session.logout; the user sees the puppets
// and the gateway go offline) and waits for them to stop, or for ctx to end.
func (m *Manager) Shutdown(ctx context.Context) {
	m.mu.Lock()
	m.closed = true
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		s.stop(true)
	}
	done := make(chan struct{})
	go func() { m.wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
		m.log.Warn("shutdown: sessions still busy", "err", ctx.Err())
	}
}

// send sends a stanza, logging (not failing) when the link is down: what must not be lost goes
// through the outbox instead.
func (m *Manager) send(e *xmpp.Element) {
	ctx, cancel := context.WithTimeout(m.baseCtx, 5*time.Second)
	defer cancel()
	if err := m.link.Send(ctx, e); err != nil {
		m.log.Warn("stanza not sent", "kind", e.Name.Local, "to", e.Get("to"), "err", err)
	}
}

// event delivers an event to the plugin with a JSON payload.
func (m *Manager) event(ctx context.Context, user string, ev abi.EventType, chat *abi.Chat, payload any) (abi.Status, []byte, error) {
	var b []byte
	if payload != nil {
		var err error
		if b, err = json.Marshal(payload); err != nil {
			return 0, nil, fmt.Errorf("event %s: encode: %w", ev, err)
		}
	}
	return m.rt.Event(ctx, user, ev, chat, b)
}

// Reconnected shows every session's presences again after the component link came back (the
// server may have restarted and told users the puppets were gone).
func (m *Manager) Reconnected() {
	m.mu.Lock()
	all := make([]*Session, 0, len(m.sessions))
	for _, s := range m.sessions {
		all = append(all, s)
	}
	m.mu.Unlock()
	for _, s := range all {
		s.post(func() {
			s.sendGatewayPresence()
			s.resendPresences()
		})
	}
}

// RosterPushes returns how many roster pushes the gateway sent since start.
func (m *Manager) RosterPushes() int64 { return m.rosterPushes.Load() }

// RosterPushesAnswered returns how many roster pushes the server has answered.
func (m *Manager) RosterPushesAnswered() int64 { return m.rosterPushesDone.Load() }

// Connected returns how many sessions are logged in to the network.
func (m *Manager) Connected() int { return int(m.connected.Load()) }

// injectedTTL is how long the id of a carbon is remembered, waiting for the server to route it
// back.
const injectedTTL = 5 * time.Minute

// rememberInjected notes the id of a message sent as a user, and forgets old ones.
func (m *Manager) rememberInjected(id string) {
	now := time.Now()
	m.injected.Store(id, now)
	if m.injectedN.Add(1)%1024 == 0 {
		m.injected.Range(func(k, v any) bool {
			if now.Sub(v.(time.Time)) > injectedTTL {
				m.injected.Delete(k)
			}
			return true
		})
	}
}
