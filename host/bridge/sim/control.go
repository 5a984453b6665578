package sim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Handler serves the control API (see the package documentation). It answers only loopback
// clients; mount it on the admin listener under /sim/ (it also works without the prefix).
func (b *Backend) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopback(r.RemoteAddr) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "the control API answers loopback clients only"})
			return
		}
		p := strings.TrimPrefix(r.URL.Path, "/sim")
		if p == "/state" || p == "/" || p == "" {
			if r.Method != http.MethodGet {
				writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use GET"})
				return
			}
			writeJSON(w, http.StatusOK, b.State())
			return
		}
		if r.Method != http.MethodPost {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "use POST"})
			return
		}
		var req Action
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "bad JSON: " + err.Error()})
			return
		}
		req.Op = strings.TrimPrefix(p, "/")
		res, err := b.Do(req)
		if err != nil {
			code := http.StatusBadRequest
			var nf notFound
			if errors.As(err, &nf) {
				code = http.StatusNotFound
			}
			writeJSON(w, code, map[string]string{"error": err.Error()})
			return
		}
		writeJSON(w, http.StatusOK, res)
	})
}

func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// Action is one control API request. Op is the path without /sim/ ("message", "own/message",
// ...); the other fields are the JSON body.
type Action struct {
	Op         string  `json:"-"`
	Account    string  `json:"account"`     // the account's phone number
	From       int64   `json:"from"`        // remote actions: the user acting
	Chat       int64   `json:"chat"`        // own/ actions: the chat (the peer's user id)
	User       int64   `json:"user"`        // status, profile: the user
	Text       string  `json:"text"`        // message, edit
	Photo      bool    `json:"photo"`       // message: send the user's picture
	ReplyTo    int64   `json:"reply_to"`    // message: the message answered
	MessageID  int64   `json:"message_id"`  // edit, reaction, read
	MessageIDs []int64 `json:"message_ids"` // delete
	Reaction   string  `json:"reaction"`    // reaction: the emoji
	Remove     bool    `json:"remove"`      // reaction: take it back
	Revoke     *bool   `json:"revoke"`      // own/delete: for everyone (default true)
	Action     string  `json:"action"`      // typing: typing (default), cancel, recording_voice, uploading_photo, uploading_document
	Status     string  `json:"status"`      // status: online, offline, recently, last_week, last_month, empty
	ExpiresIn  string  `json:"expires_in"`  // status online: how long (default the user's online_for)
	LastSeen   string  `json:"last_seen"`   // status offline: how long ago (default now)
	FirstName  *string `json:"first_name"`  // profile
	LastName   *string `json:"last_name"`   // profile
	Bio        *string `json:"bio"`         // profile
}

// Result is what a control action answers.
type Result struct {
	OK        bool  `json:"ok"`
	ChatID    int64 `json:"chat_id,omitempty"`
	MessageID int64 `json:"message_id,omitempty"`
	Sessions  int   `json:"sessions,omitempty"` // revoke: how many sessions were ended
}

type notFound struct{ error }

func notFoundf(format string, args ...any) error { return notFound{fmt.Errorf(format, args...)} }

var typingActions = map[string]string{
	"": "chatActionTyping", "typing": "chatActionTyping", "cancel": "chatActionCancel",
	"recording_voice": "chatActionRecordingVoiceNote", "uploading_photo": "chatActionUploadingPhoto",
	"uploading_document": "chatActionUploadingDocument",
}

// Do performs a control action, as the handler does for POST /sim/<op>.
func (b *Backend) Do(req Action) (Result, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return Result{}, errors.New("the simulation is closed")
	}
	switch req.Op {
	case "status":
		return b.doStatus(req)
	case "profile":
		u := b.users[req.User]
		if u == nil {
			return Result{}, notFoundf("no user %d", req.User)
		}
		if req.FirstName != nil {
			u.first = *req.FirstName
		}
		if req.LastName != nil {
			u.last = *req.LastName
		}
		if req.Bio != nil {
			u.bio = *req.Bio
			for _, c := range b.clients {
				if c.ready() && c.users[u.id] {
					c.emit(updateUserFullInfo{typed: t("updateUserFullInfo"), UserID: u.id, UserFullInfo: renderFullInfo(u)})
				}
			}
		}
		b.userChanged(u)
		return Result{OK: true}, nil
	}
	a := b.account(req.Account)
	if a == nil {
		return Result{}, notFoundf("no account %q", req.Account)
	}
	if req.Op == "revoke" {
		var cs []*client
		a.each(func(c *client) { cs = append(cs, c) })
		for _, c := range cs {
			c.revoked()
		}
		a.epoch++
		return Result{OK: true, Sessions: len(cs)}, nil
	}
	own := strings.HasPrefix(req.Op, "own/")
	var ch *chat
	if own {
		u := b.users[req.Chat]
		if u == nil || u == a.me {
			return Result{}, notFoundf("no user %d", req.Chat)
		}
		ch = a.chat(u)
	} else {
		u := b.users[req.From]
		if u == nil || u == a.me {
			return Result{}, notFoundf("no user %d", req.From)
		}
		ch = a.chat(u)
	}
	msg := func(id int64) (*message, error) {
		m := ch.msgs[id]
		if m == nil {
			return nil, notFoundf("no message %d in chat %d", id, ch.id)
		}
		return m, nil
	}
	res := Result{OK: true, ChatID: ch.id}
	switch req.Op {
	case "message":
		ct := content{kind: "text", text: req.Text}
		if req.Photo {
			ct = b.picture(ch.peer)
			ct.text = req.Text
		} else if req.Text == "" {
			return Result{}, errors.New("text or photo is required")
		}
		b.active(ch.peer)
		m := b.incoming(a, ch.peer, ct, req.ReplyTo)
		res.MessageID = m.id
	case "edit":
		m, err := msg(req.MessageID)
		if err != nil {
			return Result{}, err
		}
		if m.outgoing || m.content.kind != "text" || req.Text == "" {
			return Result{}, errors.New("only the user's own text messages can be edited, with a text")
		}
		m.content.text = req.Text
		m.editDate = b.unix()
		a.each(func(c *client) { c.edited(ch, m) })
		res.MessageID = m.id
	case "delete":
		var gone []int64
		for _, id := range req.MessageIDs {
			if m := ch.msgs[id]; m != nil && !m.outgoing && ch.remove(id) {
				gone = append(gone, id)
			}
		}
		if len(gone) == 0 {
			return Result{}, notFoundf("none of these messages of user %d", ch.id)
		}
		a.each(func(c *client) { c.deleted(ch, gone) })
	case "read":
		b.remoteRead(a, ch, req.MessageID)
	case "typing":
		act, ok := typingActions[req.Action]
		if !ok {
			return Result{}, fmt.Errorf("unknown action %q", req.Action)
		}
		b.typing(a, ch, act)
	case "reaction":
		m, err := msg(req.MessageID)
		if err != nil {
			return Result{}, err
		}
		if req.Reaction == "" || (!req.Remove && !b.reactionAllowed(req.Reaction)) {
			return Result{}, fmt.Errorf("reaction %q is not allowed", req.Reaction)
		}
		b.remoteReact(a, ch, m, req.Reaction, !req.Remove)
		res.MessageID = m.id
	case "own/message":
		if req.Text == "" {
			return Result{}, errors.New("text is required")
		}
		m := &message{id: ch.nextID(), sender: a.me.id, outgoing: true, date: b.unix(), content: content{kind: "text", text: req.Text}}
		if _, ok := ch.msgs[req.ReplyTo]; ok {
			m.replyTo = req.ReplyTo
		}
		b.add(ch, m)
		b.ownSent(a, ch, m, nil)
		res.MessageID = m.id
	case "own/edit":
		m, err := msg(req.MessageID)
		if err != nil {
			return Result{}, err
		}
		if !m.outgoing || m.content.kind != "text" || req.Text == "" {
			return Result{}, errors.New("only the owner's text messages can be edited, with a text")
		}
		b.ownEdit(a, ch, m, req.Text)
		res.MessageID = m.id
	case "own/delete":
		revoke := req.Revoke == nil || *req.Revoke
		b.ownDelete(a, ch, req.MessageIDs, revoke)
	case "own/read":
		b.ownRead(a, ch, req.MessageID)
	case "own/reaction":
		m, err := msg(req.MessageID)
		if err != nil {
			return Result{}, err
		}
		if req.Reaction == "" || (!req.Remove && !b.reactionAllowed(req.Reaction)) {
			return Result{}, fmt.Errorf("reaction %q is not allowed", req.Reaction)
		}
		b.ownReact(a, ch, m, req.Reaction, !req.Remove)
		res.MessageID = m.id
	default:
		return Result{}, notFoundf("unknown action %q", req.Op)
	}
	return res, nil
}

func (b *Backend) doStatus(req Action) (Result, error) {
	u := b.users[req.User]
	if u == nil {
		return Result{}, notFoundf("no user %d", req.User)
	}
	if !contains(statuses, req.Status) {
		return Result{}, fmt.Errorf("unknown status %q (want one of %s)", req.Status, strings.Join(statuses, ", "))
	}
	now := b.now()
	u.status = req.Status
	switch req.Status {
	case "online":
		d := u.onlineFor
		if req.ExpiresIn != "" {
			v, err := time.ParseDuration(req.ExpiresIn)
			if err != nil || v <= 0 {
				return Result{}, fmt.Errorf("expires_in %q is not a positive duration", req.ExpiresIn)
			}
			d = v
		}
		u.expires = now.Add(d).Unix()
	case "offline":
		var d time.Duration
		if req.LastSeen != "" {
			v, err := time.ParseDuration(req.LastSeen)
			if err != nil || v < 0 {
				return Result{}, fmt.Errorf("last_seen %q is not a duration", req.LastSeen)
			}
			d = v
		}
		u.wasOnline = now.Add(-d).Unix()
	}
	b.statusChanged(u)
	return Result{OK: true}, nil
}

// State describes the simulation for GET /sim/state.
type State struct {
	Accounts []AccountState `json:"accounts"`
}

// AccountState is one account in State.
type AccountState struct {
	Phone    string      `json:"phone"`
	Me       int64       `json:"me"`
	Sessions []string    `json:"sessions"` // users (bare JIDs) logged in
	Chats    []ChatState `json:"chats"`
}

// ChatState is one chat in AccountState.
type ChatState struct {
	ID         int64 `json:"id"`
	Messages   int   `json:"messages"`
	LastID     int64 `json:"last_message_id"`
	ReadInbox  int64 `json:"last_read_inbox_message_id"`
	ReadOutbox int64 `json:"last_read_outbox_message_id"`
}

// State reports accounts with sessions or chats (all fixture accounts except bulk ones).
func (b *Backend) State() State {
	b.mu.Lock()
	defer b.mu.Unlock()
	var st State
	st.Accounts = []AccountState{}
	for _, a := range b.accounts {
		as := AccountState{Phone: "+" + a.phone, Me: a.me.id, Sessions: []string{}, Chats: []ChatState{}}
		a.each(func(c *client) { as.Sessions = append(as.Sessions, c.sess.User) })
		for _, ch := range a.chats {
			cs := ChatState{ID: ch.id, Messages: len(ch.order), ReadInbox: ch.readInbox, ReadOutbox: ch.readOutbox}
			if m := ch.last(); m != nil {
				cs.LastID = m.id
			}
			as.Chats = append(as.Chats, cs)
		}
		sort.Slice(as.Chats, func(i, j int) bool { return as.Chats[i].ID < as.Chats[j].ID })
		if len(as.Sessions) == 0 && len(as.Chats) == 0 && len(b.accounts) > 50 {
			continue // bulk accounts nobody uses
		}
		st.Accounts = append(st.Accounts, as)
	}
	sort.Slice(st.Accounts, func(i, j int) bool { return st.Accounts[i].Phone < st.Accounts[j].Phone })
	return st
}
