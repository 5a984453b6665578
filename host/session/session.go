package session

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/xmpp"
)

// State is where a session is in its life, shown to the user as the gateway's presence.
type State int

// Session states.
const (
	StateNew       State = iota // created, not logging in yet
	StateLoggingIn              // session.login sent
	StatePrompt                 // the plugin asked the user something
	StateConnected              // session.logged_in
	StateFailed                 // session.login_failed
	StateLoggedOut              // the network ended the session, or the gateway stops
)

var stateNames = [...]string{"new", "logging in", "action required", "connected", "failed", "logged out"}

func (s State) String() string { return stateNames[s] }

// ErrQueueFull is returned when a session's input queue is full; the stanza is refused with a
// <wait/> error rather than dropped.
var ErrQueueFull = errors.New("session: too many pending inputs for this user")

// Session is one user's session with the network.
type Session struct {
	m      *Manager
	user   string // bare JID
	domain string // the user's server
	log    *slog.Logger
	inbox  chan func() // the user's stanzas, bounded
	quit   chan struct{}
	done   chan struct{}

	// Internal inputs from other goroutines (timers, IQ answers, the gateway): never refused.
	postMu sync.Mutex
	posted []func()
	wake   chan struct{}

	// Owned by the actor goroutine (and by host calls while it waits for an event).
	later      []func() // work the session gave itself, run before the next input
	ctx        context.Context
	roster     *roster.Roster
	state      State
	status     string // the status text shown with the gateway's presence
	prompt     *prompt
	requests   map[string]func(errText, legacyID string) // registration.result, search.result
	updating   map[string]bool                           // legacy ids with update_info queued
	timers     map[string]*time.Timer
	userRoster map[string]rosterItem // the user's real roster, when privileged; nil = unknown
	nextReq    int
	sent       map[string]*sentMessage // the user's messages awaiting message.sent/failed
	actions    recentActions           // the user's latest corrections, retractions and reactions
	bridges    map[string]*bridgeConn  // open bridge clients by bridge name
}

type prompt struct {
	id, text string
	secret   bool
	timer    *time.Timer
}

func newSession(m *Manager, user string) *Session {
	_, domain, _ := xmpp.SplitJID(user)
	return &Session{
		m: m, user: user, domain: domain,
		log:      m.log.With("user", user),
		inbox:    make(chan func(), m.cfg.QueueSize),
		wake:     make(chan struct{}, 1),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
		requests: map[string]func(string, string){},
		updating: map[string]bool{},
		timers:   map[string]*time.Timer{},
	}
}

// soon queues work the session gives itself (update_info for new contacts, the roster fill
// after login, a request's callback). It runs on the actor after the current work, before the
// next input, and is not bounded by the input queue. Only the actor, or a host call while the
// actor waits, may call it.
func (s *Session) soon(f func()) { s.later = append(s.later, f) }

// runLater runs the self-given work, including what it gives itself meanwhile.
func (s *Session) runLater() {
	for len(s.later) > 0 {
		f := s.later[0]
		s.later[0] = nil
		s.later = s.later[1:]
		f()
	}
	s.later = s.later[:0:0]
}

// post queues an internal input (a timer, an IQ answer, a login at start) from any goroutine.
// Unlike enqueue it is not bounded: these inputs are the gateway's own and must not be lost.
func (s *Session) post(f func()) {
	s.postMu.Lock()
	s.posted = append(s.posted, f)
	s.postMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runPosted runs the internal inputs posted so far.
func (s *Session) runPosted() {
	s.postMu.Lock()
	fs := s.posted
	s.posted = nil
	s.postMu.Unlock()
	for _, f := range fs {
		f()
		s.runLater()
	}
}

// enqueue queues a user's input for the actor without blocking; a full queue refuses it.
func (s *Session) enqueue(f func()) error {
	select {
	case <-s.quit:
		return ErrClosed
	default:
	}
	select {
	case s.inbox <- f:
		return nil
	default:
		return ErrQueueFull
	}
}

// run is the actor loop.
func (s *Session) run() {
	defer close(s.done)
	defer s.m.remove(s)
	ctx, cancel := context.WithCancel(s.m.baseCtx)
	defer cancel()
	s.ctx = ctx
	r, err := roster.Load(ctx, s.m.st, s.m.cfg.JID, s.user)
	if err != nil {
		s.log.Error("load roster", "err", err)
		return
	}
	s.roster = r
	for {
		select {
		case f := <-s.inbox:
			f()
			s.runLater()
			s.flush()
		case <-s.wake:
			s.runPosted()
			s.flush()
		case <-s.quit:
			// Finish what is queued (a final logout among it), then stop.
			for {
				select {
				case f := <-s.inbox:
					f()
					s.runLater()
				case <-s.wake:
					s.runPosted()
				default:
					s.cleanup()
					return
				}
			}
		}
	}
}

// stop ends the session; with logout set the plugin is told first and the user sees the
// puppets and the gateway go offline.
func (s *Session) stop(logout bool) {
	if logout {
		f := func() {
			if s.state != StateLoggedOut {
				s.deliver(abi.EventLogout, nil, nil)
			}
			s.goOffline()
		}
		s.post(f)
	}
	select {
	case <-s.quit:
	default:
		close(s.quit)
	}
}

func (s *Session) cleanup() {
	s.closeBridges()
	for _, t := range s.timers {
		t.Stop()
	}
	if s.prompt != nil {
		s.prompt.timer.Stop()
	}
	if s.roster != nil {
		if err := s.roster.Flush(context.Background()); err != nil {
			s.log.Error("flush roster", "err", err)
		}
	}
}

// deliver sends an event to the plugin and then applies what its host calls changed. It runs on
// the actor. The returned reply is valid until the next event.
func (s *Session) deliver(ev abi.EventType, chat *abi.Chat, payload any) (abi.Status, []byte, error) {
	status, reply, err := s.m.event(s.ctx, s.user, ev, chat, payload)
	if err != nil {
		s.log.Warn("plugin event failed", "event", ev, "err", err)
	}
	s.afterEvent()
	return status, reply, err
}

// afterEvent tells the user about roster changes. They are written to the store when the
// session runs out of work (flush), in one transaction for a whole burst such as a roster fill.
func (s *Session) afterEvent() {
	s.syncRoster()
}

// flush writes the roster changes to the store.
func (s *Session) flush() {
	if err := s.roster.Flush(s.ctx); err != nil {
		s.log.Error("flush roster", "err", err)
	}
}

// enqueueLogin queues the login with the stored registration answers.
func (s *Session) enqueueLogin(form json.RawMessage) {
	var values abi.Values
	_ = json.Unmarshal(form, &values)
	s.post(func() { s.login(values) })
}

func (s *Session) login(values abi.Values) { s.loginAttempt(values, 1) }

// maxLoginAttempts bounds the logins retried after the plugin's instance crashed on one.
const maxLoginAttempts = 3

func (s *Session) loginAttempt(values abi.Values, attempt int) {
	s.setState(StateLoggingIn, "Logging in…")
	status, _, err := s.deliver(abi.EventLogin, nil, abi.Login{Registration: values})
	if err != nil {
		var crash *plugin.CrashError
		if errors.As(err, &crash) && !errors.Is(err, plugin.ErrSessionStopped) && attempt < maxLoginAttempts {
			// The instance crashed under load (a deadline, its memory limit): the session is on
			// a fresh one now, so try again shortly rather than stay logged out.
			wait := time.Duration(attempt) * 5 * time.Second
			s.log.Warn("login crashed the plugin's instance; retrying", "attempt", attempt, "in", wait, "err", err)
			time.AfterFunc(wait, func() { s.post(func() { s.loginAttempt(values, attempt+1) }) })
			return
		}
		s.setState(StateFailed, "Login failed: "+errText(err))
		s.gatewayMessage("Login failed: " + errText(err))
		return
	}
	if status == abi.StatusUnhandled {
		// A network without a login step is connected at once.
		s.loggedIn("")
	}
}

// loggedIn marks the session connected and asks the plugin for the roster.
func (s *Session) loggedIn(status string) {
	s.setState(StateConnected, status)
	s.fetchUserRoster()
	s.soon(func() {
		s.deliver(abi.EventFill, nil, nil)
		s.replayJournal()
	})
}

// setState changes the state and shows it as the gateway's presence.
func (s *Session) setState(st State, status string) {
	if (s.state == StateConnected) != (st == StateConnected) {
		if st == StateConnected {
			s.m.connected.Add(1)
		} else {
			s.m.connected.Add(-1)
		}
	}
	s.state = st
	s.status = status
	s.sendGatewayPresence()
}

// sendGatewayPresence shows the session state to the user as the gateway's presence.
func (s *Session) sendGatewayPresence() {
	p := xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "from", s.m.cfg.JID, "to", s.user)
	show := ""
	switch s.state {
	case StateLoggingIn:
		show = "dnd"
	case StatePrompt:
		show = "xa"
	case StateFailed:
		show = "dnd"
	case StateLoggedOut:
		p.Set("type", "unavailable")
	}
	if show != "" {
		p.Add(xmpp.Elem(xmpp.NSComponent, "show").WithText(show))
	}
	if s.status != "" {
		p.Add(xmpp.Elem(xmpp.NSComponent, "status").WithText(s.status))
	}
	s.m.send(p)
}

// gatewayMessage sends the user a chat message from the gateway JID.
func (s *Session) gatewayMessage(text string) {
	s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "from", s.m.cfg.JID, "to", s.user).
		Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(text)))
}

// goOffline sends unavailable presence from every puppet that showed presence, and the gateway.
func (s *Session) goOffline() {
	for _, c := range s.roster.All() {
		if c.Friend && c.Presence.Show != "" && c.Presence.Show != abi.ShowOffline {
			s.m.send(xmpp.Elem(xmpp.NSComponent, xmpp.KindPresence, "type", "unavailable",
				"from", s.puppetJID(c), "to", s.user))
		}
	}
	s.setState(StateLoggedOut, "")
}

// askUser shows a prompt as a chat message from the gateway; the answer is the user's next
// message to the gateway.
func (s *Session) askUser(p abi.Prompt) {
	if s.prompt != nil {
		s.prompt.timer.Stop()
	}
	pr := &prompt{id: p.Prompt, text: p.Text, secret: p.Secret}
	pr.timer = time.AfterFunc(s.m.cfg.PromptTimeout, func() {
		s.post(func() { s.expirePrompt(pr) })
	})
	s.prompt = pr
	s.setState(StatePrompt, "Action required: "+p.Text)
	s.gatewayMessage(p.Text)
}

func (s *Session) expirePrompt(pr *prompt) {
	if s.prompt != pr {
		return
	}
	s.prompt = nil
	s.gatewayMessage(fmt.Sprintf("No answer to %q within %s: the question expired. Send \"re-login\" to start again.",
		pr.text, s.m.cfg.PromptTimeout))
	s.deliver(abi.EventInput, nil, abi.Input{Prompt: pr.id, Expired: true})
	if s.state == StatePrompt {
		s.setState(StateFailed, "Login not finished: the question expired")
	}
}

// answerPrompt hands the user's answer to the pending prompt to the plugin.
func (s *Session) answerPrompt(text string) bool {
	pr := s.prompt
	if pr == nil {
		return false
	}
	pr.timer.Stop()
	s.prompt = nil
	if s.state == StatePrompt {
		s.setState(StateLoggingIn, "Logging in…")
	}
	s.deliver(abi.EventInput, nil, abi.Input{Prompt: pr.id, Text: text})
	return true
}

// newRequest registers a callback for registration.result or search.result and returns its id.
func (s *Session) newRequest(cb func(errText, legacyID string)) string {
	s.nextReq++
	id := fmt.Sprintf("r%d", s.nextReq)
	s.requests[id] = cb
	return id
}

func (s *Session) puppetJID(c *roster.Contact) string { return c.Username + "@" + s.m.cfg.JID }

// errText is the human part of an error for a user-facing message.
func errText(err error) string {
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae.Message
	}
	return err.Error()
}
