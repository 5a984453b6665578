package session

import (
	"errors"
	"runtime"
	"sync"
	"time"
	"weak"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/adhoc"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

// Ad-hoc commands (XEP-0050) on the gateway JID: the same actions as XEP-0077 and the chat
// commands, for clients that show a command menu.
const (
	cmdRegister   = "register"
	cmdUnregister = "unregister"
	cmdRelogin    = "re-login"
	cmdStatus     = "status"
)

// gatewayCommands are the commands, in the order they are listed.
var gatewayCommands = []adhoc.Command{
	{Node: cmdRegister, Name: "Register"},
	{Node: cmdUnregister, Name: "Unregister"},
	{Node: cmdRelogin, Name: "Log in again"},
	{Node: cmdStatus, Name: "Session status"},
}

// Texts of the command notes.
const (
	noteRegistered      = "Registered. Logging in: answer the gateway's questions in the chat with it."
	noteUnregistered    = "Unregistered: the gateway forgot everything about you and your contacts."
	noteStaysRegistered = "Nothing changed: you are still registered."
)

// commandName returns the name of the command at node, or "" if there is none.
func commandName(node string) string {
	for _, c := range gatewayCommands {
		if c.Node == node {
			return c.Name
		}
	}
	return ""
}

// commandState is what a multi-step command keeps between steps (in adhoc.Sessions).
type commandState struct {
	node string
}

// commandSessions holds the multi-step command sessions of every Manager. It is kept here,
// keyed by the Manager, rather than in a Manager field so that the ad-hoc code stays in this
// file. The key is a weak pointer and a cleanup deletes the entry, so that a Manager that is
// gone (a gateway removed, a test finished) does not leave its sessions behind. Abandoned
// sessions expire after adhoc.DefaultTTL and are swept whenever a command starts.
var commandSessions struct {
	mu sync.Mutex
	m  map[weak.Pointer[Manager]]*adhoc.Sessions
}

// adhocSessions returns m's command sessions, creating them at first use.
func (m *Manager) adhocSessions() *adhoc.Sessions {
	k := weak.Make(m)
	commandSessions.mu.Lock()
	defer commandSessions.mu.Unlock()
	if s := commandSessions.m[k]; s != nil {
		return s
	}
	if commandSessions.m == nil {
		commandSessions.m = map[weak.Pointer[Manager]]*adhoc.Sessions{}
	}
	s := &adhoc.Sessions{}
	commandSessions.m[k] = s
	runtime.AddCleanup(m, func(k weak.Pointer[Manager]) {
		commandSessions.mu.Lock()
		delete(commandSessions.m, k)
		commandSessions.mu.Unlock()
	}, k)
	return s
}

// isRegistered reports whether the user has a stored registration with this gateway.
func (m *Manager) isRegistered(user string) bool {
	_, err := m.st.User(m.baseCtx, m.cfg.JID, user)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		m.log.Warn("read registration", "user", user, "err", err)
	}
	return err == nil
}

// commandsFor lists the commands a user may run: register before registration, the others
// after.
func (m *Manager) commandsFor(user string) []adhoc.Command {
	if m.isRegistered(user) {
		return gatewayCommands[1:]
	}
	return gatewayCommands[:1]
}

// handleCommandDisco answers disco#items on the commands node and disco#info on a command's
// node (XEP-0050 sections 2.2 and 2.3). It reports false for other disco queries, which the
// gateway answers itself.
func (m *Manager) handleCommandDisco(st *xmpp.Element, user string, q *xmpp.Element) bool {
	if st.Get("type") != "get" {
		return false
	}
	node := q.Get("node")
	switch {
	case q.Name.Space == disco.NSItems && node == adhoc.NS:
		if !m.Allowed(user) {
			m.refuse(st, errForbidden)
			return true
		}
		m.send(xmpp.IQResult(st, adhoc.Items(m.cfg.JID, m.commandsFor(user))))
		return true
	case q.Name.Space == disco.NSInfo && node == adhoc.NS:
		if !m.Allowed(user) {
			m.refuse(st, errForbidden)
			return true
		}
		m.send(xmpp.IQResult(st, xmpp.Elem(disco.NSInfo, "query", "node", adhoc.NS).Add(
			xmpp.Elem(disco.NSInfo, "identity", "category", "automation", "type", "command-list", "name", "Commands"))))
		return true
	case q.Name.Space == disco.NSInfo && commandName(node) != "":
		if !m.Allowed(user) {
			m.refuse(st, errForbidden)
			return true
		}
		m.send(xmpp.IQResult(st, adhoc.Info(node, commandName(node))))
		return true
	}
	return false
}

// handleCommand serves an ad-hoc <command/> to the gateway JID.
func (m *Manager) handleCommand(st *xmpp.Element, user string, q *xmpp.Element) {
	if !m.Allowed(user) {
		m.refuse(st, errForbidden)
		return
	}
	if st.Get("type") != "set" {
		m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "commands are executed with an IQ set"})
		return
	}
	req, err := adhoc.ParseRequest(q)
	if err != nil {
		m.refuseCommand(st, err)
		return
	}
	if commandName(req.Node) == "" {
		m.refuse(st, &xmpp.StanzaError{Type: xmpp.ErrTypeCancel, Condition: "item-not-found", Text: "no such command: " + req.Node})
		return
	}
	requester := st.Get("from")
	sessions := m.adhocSessions()
	if req.SessionID == "" {
		sessions.Sweep(time.Now())
		m.startCommand(st, user, req)
		return
	}
	state, ok := sessions.Get(requester, req.SessionID)
	if cs, _ := state.(*commandState); !ok || cs == nil || cs.node != req.Node {
		m.refuseCommand(st, adhoc.NewError(adhoc.BadSessionID, "no such command session (it may have expired): start the command again"))
		return
	}
	switch req.Action {
	case adhoc.ActionCancel:
		sessions.Delete(requester, req.SessionID)
		m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID, Status: adhoc.StatusCanceled}.Element()))
		return
	case adhoc.ActionExecute, adhoc.ActionComplete:
		// Every command has one form step, whose default action is complete.
	default:
		m.refuseCommand(st, adhoc.NewError(adhoc.BadAction, "this step can only be completed or canceled"))
		return
	}
	if req.Form != nil && req.Form.Type == form.TypeCancel {
		sessions.Delete(requester, req.SessionID)
		m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID, Status: adhoc.StatusCanceled}.Element()))
		return
	}
	if req.Form == nil {
		m.refuseCommand(st, adhoc.NewError(adhoc.BadPayload, "submit the form to complete the command"))
		return
	}
	// The session ends here; a failed registration puts it back so that the user can retry.
	// Deleting first also makes a duplicate submission get bad-sessionid instead of racing.
	sessions.Delete(requester, req.SessionID)
	switch req.Node {
	case cmdRegister:
		m.completeRegister(st, user, req)
	case cmdUnregister:
		m.completeUnregister(st, user, req)
	default:
		m.refuseCommand(st, adhoc.NewError(adhoc.BadAction, "this command has no further step"))
	}
}

// refuseCommand answers a command with err, an *adhoc.Error or anything else (bad-request).
func (m *Manager) refuseCommand(st *xmpp.Element, err error) {
	var ae *adhoc.Error
	if !errors.As(err, &ae) {
		ae = adhoc.NewError("", err.Error())
	}
	m.send(ae.Reply(st))
}

// startCommand runs the first step of a command.
func (m *Manager) startCommand(st *xmpp.Element, user string, req adhoc.Request) {
	if req.Node != cmdRegister && !m.isRegistered(user) {
		m.refuse(st, errNotRegistered)
		return
	}
	switch req.Node {
	case cmdRegister:
		m.commandStep(st, req.Node, m.registrationForm())
	case cmdUnregister:
		m.commandStep(st, req.Node, &form.Form{
			Title:        "Unregister from " + m.cfg.Name,
			Instructions: "The gateway will log you out of " + m.cfg.Name + " and forget everything it holds about you, and its contacts leave your roster.",
			Fields:       []form.Field{{Var: "confirm", Type: form.Boolean, Label: "Unregister", Required: true, Values: []string{"0"}}},
		})
	case cmdRelogin:
		s, err := m.session(user, true)
		if err != nil {
			m.refuse(st, errShuttingDown)
			return
		}
		m.queue(s, st, func() {
			m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, Notes: []adhoc.Note{{Type: adhoc.NoteInfo,
				Text: "Logging in again: the gateway's presence shows how it goes."}}}.Element()))
			s.relogin()
		})
	case cmdStatus:
		s := m.lookup(user)
		if s == nil {
			m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, Notes: []adhoc.Note{{Type: adhoc.NoteInfo,
				Text: "Session: not running. Run \"" + commandName(cmdRelogin) + "\" to log in."}}}.Element()))
			return
		}
		m.queue(s, st, func() {
			text := "Session: " + s.state.String() + "."
			if s.status != "" {
				text += " " + s.status
			}
			m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, Notes: []adhoc.Note{{Type: adhoc.NoteInfo, Text: text}}}.Element()))
		})
	}
}

// commandStep starts a command session and answers with its form.
func (m *Manager) commandStep(st *xmpp.Element, node string, f *form.Form, notes ...adhoc.Note) {
	id := adhoc.NewID()
	m.adhocSessions().Put(st.Get("from"), id, &commandState{node: node})
	m.send(xmpp.IQResult(st, adhoc.Response{Node: node, SessionID: id, Status: adhoc.StatusExecuting,
		Actions: []string{adhoc.ActionComplete}, Form: f, Notes: notes}.Element()))
}

// completeRegister runs the registration submitted in the register command. A refusal shows
// the form again, filled with what the user entered, with the reason, in the same session.
func (m *Manager) completeRegister(st *xmpp.Element, user string, req adhoc.Request) {
	values := abi.Values(req.Form.Values())
	delete(values, form.FormType)
	m.register(user, values, func(errText string) {
		if errText != "" {
			f := m.registrationForm()
			for i := range f.Fields {
				if v, ok := values[f.Fields[i].Var]; ok && f.Fields[i].Type != form.TextPrivate {
					f.Fields[i].Values = []string{v}
				}
			}
			m.adhocSessions().Put(st.Get("from"), req.SessionID, &commandState{node: req.Node})
			m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID, Status: adhoc.StatusExecuting,
				Actions: []string{adhoc.ActionComplete}, Form: f,
				Notes: []adhoc.Note{{Type: adhoc.NoteError, Text: errText}}}.Element()))
			return
		}
		m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID,
			Notes: []adhoc.Note{{Type: adhoc.NoteInfo, Text: noteRegistered}}}.Element()))
	})
}

// completeUnregister unregisters the user if the confirm box is checked.
func (m *Manager) completeUnregister(st *xmpp.Element, user string, req adhoc.Request) {
	if !req.Form.Bool("confirm") {
		m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID, Status: adhoc.StatusCanceled,
			Notes: []adhoc.Note{{Type: adhoc.NoteInfo, Text: noteStaysRegistered}}}.Element()))
		return
	}
	m.unregister(user, func(err error) {
		if err != nil {
			m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID,
				Notes: []adhoc.Note{{Type: adhoc.NoteError, Text: "Unregistering failed: " + err.Error()}}}.Element()))
			return
		}
		m.send(xmpp.IQResult(st, adhoc.Response{Node: req.Node, SessionID: req.SessionID,
			Notes: []adhoc.Note{{Type: adhoc.NoteInfo, Text: noteUnregistered}}}.Element()))
	})
}
