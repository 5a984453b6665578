// Package adhoc implements XEP-0050: Ad-Hoc Commands, gateway side (responder).
//
// A gateway lists its commands (Items, Info), receives <command/> requests (ParseRequest) and
// answers each with a Response. A multi-step command keeps its state between steps in
// Sessions, keyed by the requester's full JID and the session id the first response carried.
//
// The error conditions of XEP-0050 section 4.6 (bad-action, bad-sessionid, session-expired,
// ...) come as an Error, which carries both the stanza error and the command-specific
// condition and builds the error reply.
package adhoc

import (
	"errors"
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

// NS is the XEP-0050 namespace, also the disco node under which commands are listed.
const NS = "http://jabber.org/protocol/commands"

// Service discovery namespaces (XEP-0030), for the listing.
const (
	nsDiscoInfo  = "http://jabber.org/protocol/disco#info"
	nsDiscoItems = "http://jabber.org/protocol/disco#items"
)

// Actions a requester asks for (Request.Action) and a responder allows (Response.Actions).
const (
	ActionExecute  = "execute" // start a command, or take the default action of a step
	ActionNext     = "next"
	ActionPrev     = "prev"
	ActionComplete = "complete"
	ActionCancel   = "cancel"
)

// Statuses of a Response.
const (
	StatusExecuting = "executing" // more steps follow: the response carries a session id
	StatusCompleted = "completed"
	StatusCanceled  = "canceled"
)

// Note types.
const (
	NoteInfo  = "info"
	NoteWarn  = "warn"
	NoteError = "error"
)

// Command is a command the gateway offers: its node and human name.
type Command struct {
	Node, Name string
}

// Items returns the disco#items answer listing cmds for the commands node; jid is the JID that
// executes them (the gateway's, or a contact's for per-contact commands).
func Items(jid string, cmds []Command) *xmpp.Element {
	q := xmpp.Elem(nsDiscoItems, "query", "node", NS)
	for _, c := range cmds {
		q.Add(xmpp.Elem(nsDiscoItems, "item", "jid", jid, "node", c.Node, "name", c.Name))
	}
	return q
}

// Info returns the disco#info answer for the node of a command named name, which XEP-0050
// section 2.3 asks responders to give: an automation/command-node identity and the commands and
// data forms features.
func Info(node, name string) *xmpp.Element {
	return xmpp.Elem(nsDiscoInfo, "query", "node", node).Add(
		xmpp.Elem(nsDiscoInfo, "identity", "category", "automation", "type", "command-node", "name", name),
		xmpp.Elem(nsDiscoInfo, "feature", "var", NS),
		xmpp.Elem(nsDiscoInfo, "feature", "var", form.NS),
	)
}

// Request is a <command/> sent by a requester.
type Request struct {
	Node      string
	SessionID string // "" when starting a command
	Action    string // one of the Action constants; ParseRequest turns "" into ActionExecute
	Form      *form.Form
}

// ParseRequest reads the <command/> of an IQ set. It requires a node, a known action and a
// session id for every action other than execute, and parses the form if there is one. Its
// errors are *Error.
func ParseRequest(cmd *xmpp.Element) (Request, error) {
	if cmd == nil || cmd.Name.Space != NS || cmd.Name.Local != "command" {
		return Request{}, NewError("", "not an ad-hoc <command/>")
	}
	r := Request{Node: cmd.Get("node"), SessionID: cmd.Get("sessionid"), Action: cmd.Get("action")}
	if r.Node == "" {
		return Request{}, NewError("", "command without a node")
	}
	switch r.Action {
	case "":
		r.Action = ActionExecute
	case ActionExecute:
	case ActionNext, ActionPrev, ActionComplete, ActionCancel:
		if r.SessionID == "" {
			return Request{}, NewError(BadSessionID, fmt.Sprintf("action %q without a session id", r.Action))
		}
	default:
		return Request{}, NewError(MalformedAction, fmt.Sprintf("unknown action %q", r.Action))
	}
	if x := cmd.Child(form.NS, "x"); x != nil {
		f, err := form.Parse(x)
		if err != nil {
			return Request{}, payloadError(err)
		}
		r.Form = f
	}
	return r, nil
}

// Element returns the <command/> for r, as a requester would send it (for tests and for
// forwarding).
func (r Request) Element() *xmpp.Element {
	c := xmpp.Elem(NS, "command", "node", r.Node, "sessionid", r.SessionID, "action", r.Action)
	if r.Form != nil {
		c.Add(r.Form.Element())
	}
	return c
}

// Note is a message to the user in a Response.
type Note struct {
	Type string // NoteInfo, NoteWarn or NoteError; "" means info
	Text string
}

// Response is the gateway's <command/> answer to a Request.
type Response struct {
	Node      string
	SessionID string // required while executing, so that the requester can continue
	Status    string // one of the Status constants; "" is written as StatusCompleted
	// Actions are the actions allowed for the next step (next, prev, complete), the first
	// being the default one (the execute attribute). They are written only while executing.
	Actions []string
	Form    *form.Form
	Notes   []Note
}

// Element returns the <command/> for r.
func (r Response) Element() *xmpp.Element {
	status := r.Status
	if status == "" {
		status = StatusCompleted
	}
	c := xmpp.Elem(NS, "command", "node", r.Node, "sessionid", r.SessionID, "status", status)
	if status == StatusExecuting && len(r.Actions) > 0 {
		a := xmpp.Elem(NS, "actions", "execute", r.Actions[0])
		for _, act := range r.Actions {
			a.Add(xmpp.Elem(NS, act))
		}
		c.Add(a)
	}
	for _, n := range r.Notes {
		c.Add(xmpp.Elem(NS, "note", "type", n.Type).WithText(n.Text))
	}
	if r.Form != nil {
		c.Add(r.Form.Element())
	}
	return c
}

// ParseResponse reads a responder's <command/>, the inverse of Response.Element (for tests and
// for relaying commands of another entity). Its errors are *Error.
func ParseResponse(cmd *xmpp.Element) (Response, error) {
	if cmd == nil || cmd.Name.Space != NS || cmd.Name.Local != "command" {
		return Response{}, NewError("", "not an ad-hoc <command/>")
	}
	r := Response{Node: cmd.Get("node"), SessionID: cmd.Get("sessionid"), Status: cmd.Get("status")}
	if r.Node == "" {
		return Response{}, NewError("", "command without a node")
	}
	switch r.Status {
	case StatusExecuting, StatusCompleted, StatusCanceled:
	default:
		return Response{}, NewError("", fmt.Sprintf("unknown status %q", r.Status))
	}
	for _, c := range cmd.Children {
		switch {
		case c.Name.Space == NS && c.Name.Local == "actions":
			def := c.Get("execute")
			for a := range c.ChildrenNS(NS) {
				switch a.Name.Local {
				case ActionNext, ActionPrev, ActionComplete:
				default:
					return Response{}, NewError(BadAction, fmt.Sprintf("unknown action %q", a.Name.Local))
				}
				if a.Name.Local == def {
					r.Actions = append([]string{def}, r.Actions...)
				} else {
					r.Actions = append(r.Actions, a.Name.Local)
				}
			}
			if def != "" && (len(r.Actions) == 0 || r.Actions[0] != def) {
				return Response{}, NewError(BadAction, fmt.Sprintf("default action %q is not allowed", def))
			}
		case c.Name.Space == NS && c.Name.Local == "note":
			n := Note{Type: c.Get("type"), Text: c.Text}
			switch n.Type {
			case "", NoteInfo, NoteWarn, NoteError:
			default:
				return Response{}, NewError("", fmt.Sprintf("unknown note type %q", n.Type))
			}
			r.Notes = append(r.Notes, n)
		case c.Name.Space == form.NS && c.Name.Local == "x" && r.Form == nil:
			f, err := form.Parse(c)
			if err != nil {
				return Response{}, payloadError(err)
			}
			r.Form = f
		}
	}
	return r, nil
}

// Command-specific error conditions (XEP-0050 section 4.6), sent inside <error/> next to the
// stanza error condition.
const (
	BadAction       = "bad-action"       // the action is not allowed at this step
	BadLocale       = "bad-locale"       // the requested language is not supported
	BadPayload      = "bad-payload"      // the form is malformed or incomplete
	BadSessionID    = "bad-sessionid"    // the session id is missing or unknown
	MalformedAction = "malformed-action" // the action is not one XEP-0050 defines
	SessionExpired  = "session-expired"  // the session timed out
)

// Error is a command error: the stanza error and the command-specific condition, if any.
type Error struct {
	Stanza   xmpp.StanzaError
	Specific string // one of the condition constants, or ""
}

// NewError returns the error for a command-specific condition with its stanza error from
// XEP-0050 section 4.6 (not-allowed/cancel for session-expired, bad-request/modify for the
// others and for ""), and a human text.
func NewError(specific, text string) *Error {
	se := xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: text}
	if specific == SessionExpired {
		se.Type, se.Condition = xmpp.ErrTypeCancel, "not-allowed"
	}
	return &Error{Stanza: se, Specific: specific}
}

// Error implements error.
func (e *Error) Error() string {
	if e.Specific == "" {
		return "adhoc: " + e.Stanza.Error()
	}
	return "adhoc: " + e.Specific + ": " + e.Stanza.Error()
}

// payloadError turns a form parsing error into a bad-payload Error.
func payloadError(err error) *Error {
	text := err.Error()
	var se *xmpp.StanzaError
	if errors.As(err, &se) {
		text = se.Text
	}
	return NewError(BadPayload, text)
}

// Reply returns the error answer to the IQ iq, with the specific condition inside <error/>.
func (e *Error) Reply(iq *xmpp.Element) *xmpp.Element {
	r := xmpp.ErrorReply(iq, &e.Stanza)
	if e.Specific != "" {
		if el := r.Child(xmpp.NSComponent, "error"); el != nil {
			el.Add(xmpp.Elem(NS, e.Specific))
		}
	}
	return r
}
