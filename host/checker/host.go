package checker

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
	"github.com/xmppgw/gateway/host/xmpp/jidesc"
)

// Domain is the domain of the puppet JIDs of the recording host: a contact's JID is
// "<escaped legacy id>@checker.invalid". It is also the gateway JID given in init.
const Domain = "checker.invalid"

// maxTimers bounds the timers of the session, as the gateway does.
const maxTimers = 1024

// empty is the response of calls that return nothing.
var empty = []byte("{}")

// callRec is one host call the plugin made.
type callRec struct {
	method abi.Method
	req    json.RawMessage // a copy
	err    error           // nil when it succeeded
}

// logRec is one line the plugin logged.
type logRec struct {
	level abi.LogLevel
	msg   string
}

// contact is the host's record of a contact.
type contact struct {
	abi.Contact
	username string // the JID local part
	custom   bool   // the plugin chose the username (contact.get with username)
	// byChecker: the checker created it (the fixture's contact), not a call of the plugin.
	byChecker bool
	added     bool   // contact.add
	failed    string // contact.failed's error
}

// timer is a pending timer.set, in virtual time.
type timer struct {
	name string
	due  int64 // virtual milliseconds
	seq  int   // order of setting, for equal due times
	ctx  json.RawMessage
}

// pending is an event the host will deliver after the current one.
type pending struct {
	ev      abi.EventType
	chat    *abi.Chat
	payload any
	contact string // the contact of a contact.update_info
}

// host is the recording plugin.Host of the checker: it answers host calls from memory, as the
// gateway would, and records them. Its methods run on the instance's goroutine while the checker
// waits in Plugin.Do; the mutex makes it safe regardless.
type host struct {
	mu         sync.Mutex
	ctx        context.Context // the check's, for the bridge
	quota      int
	granted    map[string]bool
	bridge     Bridge
	bridgeWait time.Duration
	trace      io.Writer

	contacts map[string]*contact
	order    []string          // legacy ids, in creation order
	byUser   map[string]string // folded username -> legacy id
	kv       map[string]string
	kvBytes  int
	queue    []pending
	queued   map[string]bool // contacts with a contact.update_info in the queue
	timers   map[string]*timer
	now      int64 // virtual clock, milliseconds
	seq      int
	tokens   int
	inflight map[string]bridgeCall // bridge calls by token, until answered
	messages map[string]bool       // ids of message events waiting for message.sent / failed
	requests map[string]bool       // registration.validate requests waiting for registration.result
	calls    []callRec
	logs     []logRec
	bridgeEr []string     // bridge calls answered with an error, described
	prompts  []abi.Prompt // prompts asked and not yet taken by the checker
}

func newHost(ctx context.Context, quota int, granted []string, bridge Bridge, bridgeWait time.Duration, trace io.Writer) *host {
	h := &host{
		ctx:        ctx,
		quota:      quota,
		granted:    make(map[string]bool),
		bridge:     bridge,
		bridgeWait: bridgeWait,
		trace:      trace,
		inflight:   make(map[string]bridgeCall),
		contacts:   make(map[string]*contact),
		byUser:     make(map[string]string),
		kv:         make(map[string]string),
		queued:     make(map[string]bool),
		timers:     make(map[string]*timer),
		messages:   make(map[string]bool),
		requests:   make(map[string]bool),
	}
	for _, b := range granted {
		h.granted[b] = true
	}
	return h
}

var _ plugin.Host = (*host)(nil)

// Call implements plugin.Host.
func (h *host) Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	rec := callRec{method: method, req: append(json.RawMessage(nil), req...)}
	var resp []byte
	if session == "" {
		rec.err = abi.Errorf(abi.CodeNoSession, "%s needs a session; it was called during an event without one", method)
	} else {
		resp, rec.err = h.call(ctx, session, method, req)
	}
	h.calls = append(h.calls, rec)
	if h.trace != nil {
		if rec.err != nil {
			fmt.Fprintf(h.trace, "    call %s %s -> error %v\n", method, clip(string(req), 300), rec.err)
		} else {
			fmt.Fprintf(h.trace, "    call %s %s -> %s\n", method, clip(string(req), 300), clip(string(resp), 300))
		}
	}
	return resp, rec.err
}

// Log implements plugin.Host.
func (h *host) Log(session string, level abi.LogLevel, msg string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.logs = append(h.logs, logRec{level: level, msg: msg})
	if h.trace != nil {
		fmt.Fprintf(h.trace, "    log %s: %s\n", levelName(level), msg)
	}
}

func levelName(l abi.LogLevel) string {
	switch {
	case l < abi.LogInfo:
		return "debug"
	case l < abi.LogWarn:
		return "info"
	case l < abi.LogError:
		return "warn"
	default:
		return "error"
	}
}

// decode reads a request into v.
func decode(req []byte, v any) error {
	if err := json.Unmarshal(req, v); err != nil {
		return abi.Errorf(abi.CodeBadRequest, "invalid request: %v", err)
	}
	return nil
}

func marshal(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "encode response: %v", err)
	}
	return b, nil
}

// call performs one host call; h.mu is held.
func (h *host) call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	switch method {
	case abi.CallContactGet:
		var r abi.ContactGet
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		c, err := h.contact(r.LegacyID, r.Username)
		if err != nil {
			return nil, err
		}
		return marshal(c.Contact)
	case abi.CallContactList:
		out := abi.ContactList{Contacts: []abi.Contact{}}
		for _, id := range h.order {
			out.Contacts = append(out.Contacts, h.contacts[id].Contact)
		}
		return marshal(out)
	case abi.CallContactUpdate:
		var r abi.ContactUpdate
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		c, err := h.contact(r.LegacyID, "")
		if err != nil {
			return nil, err
		}
		if r.Name != nil {
			c.Name = *r.Name
		}
		if r.ClientType != nil {
			c.ClientType = *r.ClientType
		}
		if r.Friend != nil {
			c.Friend = *r.Friend
		}
		if r.VCard != nil {
			v := *r.VCard
			c.VCard = &v
		}
		if r.Presence != nil {
			p := *r.Presence
			c.Presence = &p
		}
		if r.Avatar != nil {
			c.AvatarID = r.Avatar.ID
		}
		return empty, nil
	case abi.CallContactAdd, abi.CallContactReady, abi.CallContactFailed:
		var r abi.ContactFailed
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		c := h.contacts[r.LegacyID]
		if c == nil {
			return nil, abi.Errorf(abi.CodeNotFound, "no contact %q: call contact.get first", r.LegacyID)
		}
		switch method {
		case abi.CallContactAdd:
			c.added, c.Friend = true, true
		case abi.CallContactReady:
			c.Ready, c.failed = true, ""
		default:
			c.Ready, c.failed = true, r.Error
		}
		return empty, nil
	case abi.CallContactText, abi.CallContactFile, abi.CallContactCorrect, abi.CallContactRetract,
		abi.CallContactReact, abi.CallContactDisplayed, abi.CallContactReceived, abi.CallContactState:
		var r abi.MsgMeta
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if _, err := h.contact(r.LegacyID, ""); err != nil {
			return nil, err
		}
		return empty, nil

	case abi.CallMessageSent:
		var r abi.MessageSent
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if r.LegacyID == "" {
			return nil, abi.Errorf(abi.CodeBadRequest, "message.sent needs the network's legacy_id")
		}
		if !h.messages[r.ID] {
			return nil, abi.Errorf(abi.CodeNotFound, "no pending message %q", r.ID)
		}
		delete(h.messages, r.ID)
		return empty, nil
	case abi.CallMessageFailed:
		var r abi.MessageFailed
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		delete(h.messages, r.ID)
		return empty, nil

	case abi.CallLoggedIn, abi.CallStatus:
		var r abi.SessionStatus
		return empty, decode(req, &r)
	case abi.CallLoginFailed, abi.CallLogout:
		var r abi.SessionError
		return empty, decode(req, &r)
	case abi.CallGatewayMessage:
		var r abi.GatewayMessage
		return empty, decode(req, &r)
	case abi.CallPrompt:
		var r abi.Prompt
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if r.Prompt == "" || r.Text == "" {
			return nil, abi.Errorf(abi.CodeBadRequest, "session.prompt needs a prompt id and a text")
		}
		h.prompts = append(h.prompts, r)
		return empty, nil
	case abi.CallRegistrationResult:
		var r abi.RegistrationResult
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if !h.requests[r.Request] {
			return nil, abi.Errorf(abi.CodeNotFound, "no pending request %q (answered already, or timed out)", r.Request)
		}
		delete(h.requests, r.Request)
		return empty, nil
	case abi.CallSearchResult:
		var r abi.SearchResult
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		return nil, abi.Errorf(abi.CodeNotFound, "no pending request %q (answered already, or timed out)", r.Request)

	case abi.CallKVGet:
		var r abi.KVKey
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		v, ok := h.kv[r.Key]
		if !ok {
			return nil, abi.Errorf(abi.CodeNotFound, "no key %q", r.Key)
		}
		return marshal(abi.KVValue{Value: v})
	case abi.CallKVSet:
		var r abi.KVSet
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if r.Key == "" {
			return nil, abi.Errorf(abi.CodeBadRequest, "empty key")
		}
		size := h.kvBytes + len(r.Key) + len(r.Value)
		if old, ok := h.kv[r.Key]; ok {
			size -= len(r.Key) + len(old)
		}
		if size > h.quota {
			return nil, abi.Errorf(abi.CodeQuota, "storage quota of %d bytes exceeded", h.quota)
		}
		h.kv[r.Key], h.kvBytes = r.Value, size
		return empty, nil
	case abi.CallKVDelete:
		var r abi.KVKey
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if old, ok := h.kv[r.Key]; ok {
			h.kvBytes -= len(r.Key) + len(old)
			delete(h.kv, r.Key)
		}
		return empty, nil
	case abi.CallKVKeys:
		var r abi.KVKey
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		keys := []string{}
		for k := range h.kv {
			if strings.HasPrefix(k, r.Key) {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		return marshal(abi.KVKeys{Keys: keys})

	case abi.CallTimerSet:
		var r abi.TimerSet
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		if r.Timer == "" || r.AfterMS < 0 {
			return nil, abi.Errorf(abi.CodeBadRequest, "timer.set needs a timer name and after_ms >= 0")
		}
		if h.timers[r.Timer] == nil && len(h.timers) >= maxTimers {
			return nil, abi.Errorf(abi.CodeQuota, "more than %d timers", maxTimers)
		}
		h.seq++
		h.timers[r.Timer] = &timer{name: r.Timer, due: h.now + r.AfterMS, seq: h.seq, ctx: r.Context}
		return empty, nil
	case abi.CallTimerCancel:
		var r abi.TimerRef
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		delete(h.timers, r.Timer)
		return empty, nil

	case abi.CallBridgeCall:
		return h.bridgeCall(ctx, session, req)
	case abi.CallFileFetch:
		var r abi.FileFetch
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		return nil, abi.Errorf(abi.CodeForbidden, "the plugin checker fetches no files")
	case abi.CallFileRelease:
		var r abi.FileRef
		if err := decode(req, &r); err != nil {
			return nil, err
		}
		return nil, abi.Errorf(abi.CodeNotFound, "no file handle %q", r.Handle)
	}
	return nil, abi.Errorf(abi.CodeUnknownMethod, "unknown host call %q", method)
}

// bridgeCall handles bridge.call: a token now, the bridge's answer as a later event.
func (h *host) bridgeCall(ctx context.Context, session string, req []byte) ([]byte, error) {
	var r abi.BridgeCall
	if err := decode(req, &r); err != nil {
		return nil, err
	}
	if r.Bridge == "" || len(r.Request) == 0 {
		return nil, abi.Errorf(abi.CodeBadRequest, "bridge.call needs a bridge and a request")
	}
	if !h.granted[r.Bridge] {
		return nil, abi.Errorf(abi.CodeForbidden, "bridge %q is not granted to this gateway (grant it with the fixture's bridges)", r.Bridge)
	}
	h.tokens++
	token := fmt.Sprintf("b-%d", h.tokens)
	call := bridgeCall{bridge: r.Bridge, request: append(json.RawMessage(nil), r.Request...), context: append(json.RawMessage(nil), r.Context...)}
	if err := h.bridge.Call(ctx, session, r.Bridge, token, call.request); err != nil {
		h.bridgeEr = append(h.bridgeEr, fmt.Sprintf("bridge.call %s %s: %v", r.Bridge, clip(string(r.Request), 200), err))
		return nil, err
	}
	h.inflight[token] = call
	return marshal(abi.Token{Token: token})
}

// bridgeCall is a bridge call waiting for its answer.
type bridgeCall struct {
	bridge           string
	request, context json.RawMessage
}

// pull moves what the bridge has delivered into the queue, waiting up to wait for a first
// message when calls are unanswered. It reports whether it moved anything.
func (h *host) pull(wait time.Duration) bool {
	h.mu.Lock()
	waiting := len(h.inflight) > 0
	h.mu.Unlock()
	if !waiting {
		wait = 0
	}
	moved := false
	for {
		m, ok := h.bridge.Next(h.ctx, wait)
		if !ok {
			return moved
		}
		wait, moved = 0, true
		h.mu.Lock()
		h.receive(m)
		h.mu.Unlock()
	}
}

// receive queues a bridge's message as the event the plugin gets (h.mu held).
func (h *host) receive(m BridgeMessage) {
	if m.Token == "" {
		h.queue = append(h.queue, pending{ev: abi.EventBridgeEvent, payload: abi.BridgeEvent{Bridge: m.Bridge, Event: m.Event}})
		return
	}
	call, ok := h.inflight[m.Token]
	if !ok {
		h.bridgeEr = append(h.bridgeEr, fmt.Sprintf("bridge %s answered token %q, which has no call waiting (dropped)", m.Bridge, m.Token))
		return
	}
	delete(h.inflight, m.Token)
	resp := abi.BridgeResponse{Token: m.Token, Context: call.context, Response: m.Response, Error: m.Error}
	if m.Error != nil {
		resp.Response = nil
		h.bridgeEr = append(h.bridgeEr, fmt.Sprintf("bridge.call %s %s answered %v", call.bridge, clip(string(call.request), 200), m.Error))
	} else if len(resp.Response) == 0 {
		resp.Response = json.RawMessage("{}")
	}
	h.queue = append(h.queue, pending{ev: abi.EventBridgeResponse, payload: resp})
}

// contact returns the contact for id, creating it as the gateway does (h.mu held).
func (h *host) contact(id, username string) (*contact, error) {
	if id == "" {
		return nil, abi.Errorf(abi.CodeBadRequest, "legacy_id is empty")
	}
	if c := h.contacts[id]; c != nil {
		return c, nil
	}
	custom := username != ""
	if !custom {
		var err error
		if username, err = jidesc.Escape(id); err != nil {
			return nil, abi.Errorf(abi.CodeInvalid, "legacy id %q cannot be a JID local part: %v", id, err)
		}
	} else if err := jidesc.Valid(username); err != nil {
		return nil, abi.Errorf(abi.CodeInvalid, "username %q is not a valid JID local part: %v", username, err)
	}
	folded := jidesc.Fold(username)
	if other, ok := h.byUser[folded]; ok {
		return nil, abi.Errorf(abi.CodeInvalid, "username %q is already contact %q's", username, other)
	}
	c := &contact{
		Contact:  abi.Contact{LegacyID: id, JID: username + "@" + Domain},
		username: username,
		custom:   custom,
	}
	h.contacts[id] = c
	h.order = append(h.order, id)
	h.byUser[folded] = id
	if !h.queued[id] {
		h.queued[id] = true
		h.queue = append(h.queue, pending{ev: abi.EventUpdateInfo, payload: abi.ContactRef{LegacyID: id}, contact: id})
	}
	return c, nil
}

// next takes the event the host delivers next: the oldest queued one (bridge messages join the
// queue as they arrive, waited for up to bridgeWait while calls are unanswered) or, when none
// is queued and timers are allowed, the timer due first (the virtual clock jumps to it). With
// settle, it takes no update_info and no timers.
func (h *host) next(settle bool) (pending, bool) {
	h.pull(0)
	if p, ok := h.take(settle); ok {
		return p, true
	}
	if h.pull(h.bridgeWait) {
		if p, ok := h.take(settle); ok {
			return p, true
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if settle || len(h.timers) == 0 {
		return pending{}, false
	}
	var first *timer
	for _, t := range h.timers {
		if first == nil || t.due < first.due || t.due == first.due && t.seq < first.seq {
			first = t
		}
	}
	delete(h.timers, first.name)
	if first.due > h.now {
		h.now = first.due
	}
	return pending{ev: abi.EventTimer, payload: abi.Timer{Timer: first.name, Context: first.ctx}}, true
}

// take takes the oldest queued event (but update_info events, with settle).
func (h *host) take(settle bool) (pending, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range h.queue {
		if settle && p.ev == abi.EventUpdateInfo {
			continue
		}
		h.queue = append(h.queue[:i], h.queue[i+1:]...)
		if p.contact != "" {
			delete(h.queued, p.contact)
		}
		return p, true
	}
	return pending{}, false
}

// enqueue queues an event after those already queued.
func (h *host) enqueue(p pending) {
	h.mu.Lock()
	h.queue = append(h.queue, p)
	h.mu.Unlock()
}

// ensure returns the contact for id, creating it as when the user writes to it first.
func (h *host) ensure(id string) (contact, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, known := h.contacts[id]
	c, err := h.contact(id, "")
	if err != nil {
		return contact{}, err
	}
	if !known {
		c.byChecker = true
	}
	return *c, nil
}

// get returns a copy of the contact id.
func (h *host) get(id string) (contact, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	c := h.contacts[id]
	if c == nil {
		return contact{}, false
	}
	return *c, true
}

// unqueueUpdateInfo drops the queued contact.update_info of id, if any.
func (h *host) unqueueUpdateInfo(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, p := range h.queue {
		if p.ev == abi.EventUpdateInfo && p.contact == id {
			h.queue = append(h.queue[:i], h.queue[i+1:]...)
			delete(h.queued, id)
			return
		}
	}
}

// setReady marks a contact ready, the default of an unhandled or failed update_info.
func (h *host) setReady(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if c := h.contacts[id]; c != nil {
		c.Ready = true
	}
}

// contactsSince returns the legacy ids of the contacts created after the first n, and how many of
// them were added to the roster.
func (h *host) contactsSince(n int) (ids []string, added int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids = append(ids, h.order[n:]...)
	for _, id := range ids {
		if h.contacts[id].added {
			added++
		}
	}
	return ids, added
}

// expect registers a message id or a registration request the plugin must answer.
func (h *host) expectMessage(id string) {
	h.mu.Lock()
	h.messages[id] = true
	h.mu.Unlock()
}

func (h *host) expectRequest(id string) {
	h.mu.Lock()
	h.requests[id] = true
	h.mu.Unlock()
}

// takePrompts returns the prompts asked since the last call.
func (h *host) takePrompts() []abi.Prompt {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.prompts
	h.prompts = nil
	return p
}

// mark is a position in the host's records, to look at what a step did.
type mark struct{ calls, logs, bridgeEr, contacts int }

func (h *host) mark() mark {
	h.mu.Lock()
	defer h.mu.Unlock()
	return mark{len(h.calls), len(h.logs), len(h.bridgeEr), len(h.order)}
}

// callsSince returns the successful calls of method made since m, decoded into T.
func callsSince[T any](h *host, m mark, method abi.Method) []T {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []T
	for _, c := range h.calls[m.calls:] {
		if c.method != method || c.err != nil {
			continue
		}
		var v T
		if json.Unmarshal(c.req, &v) == nil {
			out = append(out, v)
		}
	}
	return out
}

// notes describes, for a failed step, what went wrong on the host's side since m: failed host
// calls (but kv.get of an absent key), bridge errors, and the plugin's warnings and errors.
func (h *host) notes(m mark) string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var parts []string
	var failed []string
	for _, c := range h.calls[m.calls:] {
		if c.err == nil {
			continue
		}
		if ae, ok := c.err.(*abi.Error); ok && c.method == abi.CallKVGet && ae.Code == abi.CodeNotFound {
			continue
		}
		failed = append(failed, fmt.Sprintf("%s %s: %v", c.method, clip(string(c.req), 120), c.err))
	}
	if s := list(failed, 3); s != "" {
		parts = append(parts, "failed host calls: "+s)
	}
	if s := list(h.bridgeEr[m.bridgeEr:], 3); s != "" {
		parts = append(parts, "bridge: "+s)
	}
	var logs []string
	for _, l := range h.logs[m.logs:] {
		if l.level >= abi.LogWarn {
			first, _, _ := strings.Cut(strings.TrimSpace(l.msg), "\n")
			logs = append(logs, clip(first, 200))
		}
	}
	if s := list(logs, 3); s != "" {
		parts = append(parts, "plugin log: "+s)
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, "; ") + ")"
}

// list joins the first n items of s, and says how many more there are.
func list(s []string, n int) string {
	if len(s) <= n {
		return strings.Join(s, "; ")
	}
	return fmt.Sprintf("%s; and %d more", strings.Join(s[:n], "; "), len(s)-n)
}

// clip shortens s to about n bytes.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n
	for i > 0 && s[i]&0xc0 == 0x80 {
		i--
	}
	return s[:i] + "..."
}
