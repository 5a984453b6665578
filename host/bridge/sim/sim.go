package sim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/bridge/internal/outq"
	"github.com/xmppgw/gateway/host/config"
)

func init() {
	bridge.Register("sim", func(cfg config.Bridge, o bridge.Options) (bridge.Backend, error) {
		return New(cfg.Fixture, o)
	})
}

// Backend is a simulated Telegram: the world of a fixture, shared by every session. It
// implements bridge.Backend and bridge.Controller.
type Backend struct {
	log      *slog.Logger
	now      func() time.Time
	fx       *Fixture
	instance string // tells this process's saved sessions from another's

	mu       sync.Mutex
	users    map[int64]*user
	byName   map[string]*user // lower-case username
	byPhone  map[string]*user // digits
	accounts map[string]*account
	files    map[int32]*file
	lastFile int32
	clients  map[string]*client // by DataDir
	timers   map[*time.Timer]struct{}
	sunset   *file // the built-in picture, once used
	closed   bool
}

// New creates a simulated Telegram from a fixture file ("": the built-in demo fixture).
func New(fixture string, o bridge.Options) (*Backend, error) {
	var fx *Fixture
	var err error
	if fixture == "" {
		fx, err = DemoFixture()
	} else {
		fx, err = LoadFixture(fixture)
	}
	if err != nil {
		return nil, err
	}
	return NewFromFixture(fx, o), nil
}

// NewFromFixture creates a simulated Telegram from a parsed fixture.
func NewFromFixture(fx *Fixture, o bridge.Options) *Backend {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	var inst [8]byte
	_, _ = rand.Read(inst[:])
	b := &Backend{
		log:      o.Logger,
		now:      o.Now,
		fx:       fx,
		instance: hex.EncodeToString(inst[:]),
		users:    map[int64]*user{},
		byName:   map[string]*user{},
		byPhone:  map[string]*user{},
		accounts: map[string]*account{},
		files:    map[int32]*file{},
		clients:  map[string]*client{},
		timers:   map[*time.Timer]struct{}{},
	}
	b.build()
	return b
}

// user is a Telegram user of the simulation.
type user struct {
	id          int64
	first, last string
	usernames   []string
	phone       string // digits
	bio         string
	bot         bool
	verified    bool
	status      string // online, offline, recently, last_week, last_month, empty
	expires     int64  // online: unix time the status ends
	wasOnline   int64  // offline: unix time last seen
	onlineFor   time.Duration
	avatar      *file
	photo       *file // what an echo user answers "photo" with
	behaviour   string
	delay       time.Duration
}

func (u *user) name() string { return strings.TrimSpace(u.first + " " + u.last) }

// file is a file of the simulation: fixture data or an upload.
type file struct {
	id            int32
	kind          string // the folder TDLib would use: profile_photos, photos, documents, ...
	name, mime    string
	data          []byte
	remote        string
	width, height int32
}

// account is a Telegram account sessions log in to, with its chats.
type account struct {
	phone    string // digits
	code     string
	password string
	hint     string
	me       *user
	contacts map[int64]bool
	contactL []int64
	chats    map[int64]*chat
	clients  map[*client]struct{} // logged-in clients
	epoch    int                  // incremented by a revocation
}

// chat is a private chat of an account with a user; its id is the user's id.
type chat struct {
	id         int64
	peer       *user
	msgs       map[int64]*message
	order      []int64 // message ids, ascending
	listed     bool    // in the main chat list
	lastServer int64   // last server message id (message id >> 20)
	pending    int64   // temporary ids handed out since the last server id
	readInbox  int64
	readOutbox int64
	echoOf     map[int64]int64 // owner's message -> the echo user's answer
}

type message struct {
	id        int64
	sender    int64
	outgoing  bool
	date      int64
	editDate  int64
	content   content
	replyTo   int64
	reactions []*reaction
}

type reaction struct {
	emoji   string
	senders []int64
}

type content struct {
	kind      string // text, photo, document, video, audio, voice
	text      string // the text, or the caption
	file      *file
	width     int32
	height    int32
	duration  int32
	title     string
	performer string
	waveform  []byte
}

const serverShift = 20 // TDLib message id = server message id << 20

func (b *Backend) build() {
	now := b.now()
	fx := b.fx
	addUser := func(fu *FixtureUser) *user {
		u := &user{
			id: fu.ID, first: fu.FirstName, last: fu.LastName, usernames: fu.Usernames,
			phone: digits(fu.Phone), bio: fu.Bio, bot: fu.Bot, verified: fu.Verified,
			status: fu.Status, onlineFor: duration(fu.OnlineFor, time.Hour),
			behaviour: fu.Behaviour, delay: duration(fu.Delay, 0),
		}
		switch u.status {
		case "online":
			u.expires = now.Add(u.onlineFor).Unix()
		case "offline":
			u.wasOnline = now.Add(-duration(fu.LastSeen, time.Hour)).Unix()
		}
		if fu.Avatar != "" {
			u.avatar = b.fileFromFixture("profile_photos", fx.files[fu.Avatar])
		}
		if fu.Photo != "" {
			u.photo = b.fileFromFixture("photos", fx.files[fu.Photo])
		}
		b.users[u.id] = u
		for _, n := range u.usernames {
			b.byName[strings.ToLower(n)] = u
		}
		if u.phone != "" {
			b.byPhone[u.phone] = u
		}
		return u
	}
	for i := range fx.Users {
		addUser(&fx.Users[i])
	}
	for i := range fx.Accounts {
		fa := &fx.Accounts[i]
		a := b.newAccount(digits(fa.Phone), fa.Code, fa.Password, fa.PasswordHint, addUser(&fa.Me))
		for _, id := range fa.Contacts {
			a.addContact(id)
		}
		for _, id := range fa.Chats {
			a.chat(b.users[id]).listed = true
		}
	}
	for _, fb := range fx.Bulk {
		var contacts []int64
		for n := 0; n < fb.Contacts; n++ {
			id := fb.ContactIDFrom + int64(n)
			addUser(&FixtureUser{ID: id, FirstName: "Contact", LastName: strconv.FormatInt(id, 10),
				Status: fb.Status, Behaviour: fb.Behaviour, Delay: fb.Delay})
			contacts = append(contacts, id)
		}
		from, _ := strconv.ParseInt(digits(fb.PhoneFrom), 10, 64)
		for n := 0; n < fb.Accounts; n++ {
			phone := strconv.FormatInt(from+int64(n), 10)
			id := fb.MeIDFrom + int64(n)
			me := addUser(&FixtureUser{ID: id, FirstName: "User", LastName: strconv.FormatInt(id, 10),
				Phone: phone, Status: "online", Behaviour: "silent"})
			a := b.newAccount(phone, fb.Code, fb.Password, "", me)
			for _, c := range contacts {
				a.addContact(c)
			}
		}
	}
}

func (b *Backend) newAccount(phone, code, password, hint string, me *user) *account {
	a := &account{
		phone: phone, code: code, password: password, hint: hint, me: me,
		contacts: map[int64]bool{}, chats: map[int64]*chat{}, clients: map[*client]struct{}{},
	}
	b.accounts[phone] = a
	return a
}

func (a *account) addContact(id int64) bool {
	if a.contacts[id] {
		return false
	}
	a.contacts[id] = true
	a.contactL = append(a.contactL, id)
	return true
}

func (a *account) removeContact(id int64) bool {
	if !a.contacts[id] {
		return false
	}
	delete(a.contacts, id)
	for i, c := range a.contactL {
		if c == id {
			a.contactL = append(a.contactL[:i:i], a.contactL[i+1:]...)
			break
		}
	}
	return true
}

// chat returns the private chat with u, creating it.
func (a *account) chat(u *user) *chat {
	ch := a.chats[u.id]
	if ch == nil {
		ch = &chat{id: u.id, peer: u, msgs: map[int64]*message{}, echoOf: map[int64]int64{}}
		a.chats[u.id] = ch
	}
	return ch
}

func (b *Backend) fileFromFixture(kind string, fd *fileData) *file {
	return b.newFile(kind, fd.name, fd.mime, fd.data, fd.width, fd.height)
}

func (b *Backend) newFile(kind, name, mimeType string, data []byte, w, h int32) *file {
	b.lastFile++
	f := &file{id: b.lastFile, kind: kind, name: name, mime: mimeType, data: data, width: w, height: h}
	f.remote = fmt.Sprintf("sim-%s-%d", kind, f.id)
	b.files[f.id] = f
	return f
}

// Open starts the client of a session.
func (b *Backend) Open(ctx context.Context, s bridge.Session) (bridge.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.DataDir == "" {
		return nil, errors.New("sim: the session has no data folder")
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	dir := filepath.Clean(s.DataDir)
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("sim: backend is closed")
	}
	if _, busy := b.clients[dir]; busy {
		return nil, fmt.Errorf("sim: a client of %s is already open", s.User)
	}
	c := &client{
		b: b, sess: s, dir: dir, log: b.log.With("user", s.User),
		users: map[int64]bool{}, chats: map[int64]bool{}, local: map[int32]string{},
		state: stateNone,
	}
	// the simulation's goroutines carry a profiler label, so that its CPU shows apart
	pprof.Do(context.Background(), profLabels, func(context.Context) {
		c.in, c.out = outq.New(), outq.New()
		go c.run()
	})
	b.clients[dir] = c
	return c, nil
}

// Close closes every client and stops the simulation.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	for t := range b.timers {
		t.Stop()
	}
	b.timers = nil
	clients := make([]*client, 0, len(b.clients))
	for _, c := range b.clients {
		clients = append(clients, c)
	}
	b.mu.Unlock()
	for _, c := range clients {
		_ = c.Close()
	}
	return nil
}

// after runs fn under the lock after d (at once, inline, for d == 0). The caller holds b.mu.
func (b *Backend) after(d time.Duration, fn func()) {
	if d <= 0 {
		fn()
		return
	}
	var t *time.Timer
	t = time.AfterFunc(d, func() {
		pprof.Do(context.Background(), profLabels, func(context.Context) {
			b.mu.Lock()
			defer b.mu.Unlock()
			if b.closed {
				return
			}
			delete(b.timers, t)
			fn()
		})
	})
	b.timers[t] = struct{}{}
}

// profLabels mark the simulation's goroutines in CPU profiles: bridge=sim.
var profLabels = pprof.Labels("bridge", "sim")

func (b *Backend) unix() int64 { return b.now().Unix() }

// account by phone number in any format.
func (b *Backend) account(phone string) *account { return b.accounts[digits(phone)] }

// --- The world: what happens, told to every logged-in client of the account. ---

func (a *account) each(fn func(c *client)) {
	if len(a.clients) <= 1 {
		for c := range a.clients {
			fn(c)
		}
		return
	}
	// a stable order, for tests with several clients
	cs := make([]*client, 0, len(a.clients))
	for c := range a.clients {
		cs = append(cs, c)
	}
	sort.Slice(cs, func(i, j int) bool { return cs[i].dir < cs[j].dir })
	for _, c := range cs {
		fn(c)
	}
}

// add stores a message, forgetting the oldest beyond the history size.
func (b *Backend) add(ch *chat, m *message) {
	ch.msgs[m.id] = m
	ch.order = append(ch.order, m.id)
	ch.listed = true
	// forget in batches, so that a full chat does not copy its history at every message
	if n := len(ch.order) - b.fx.History; n > b.fx.History/4 {
		for _, id := range ch.order[:n] {
			delete(ch.msgs, id)
			delete(ch.echoOf, id)
		}
		ch.order = append(ch.order[:0:0], ch.order[n:]...)
	}
}

func (ch *chat) nextID() int64 {
	ch.lastServer++
	ch.pending = 0
	return ch.lastServer << serverShift
}

func (ch *chat) tempID() int64 {
	ch.pending++
	return ch.lastServer<<serverShift + ch.pending
}

func (ch *chat) last() *message {
	if len(ch.order) == 0 {
		return nil
	}
	return ch.msgs[ch.order[len(ch.order)-1]]
}

func (ch *chat) unread() int32 {
	var n int32
	for i := len(ch.order) - 1; i >= 0 && ch.order[i] > ch.readInbox; i-- {
		if !ch.msgs[ch.order[i]].outgoing {
			n++
		}
	}
	return n
}

func (ch *chat) remove(id int64) bool {
	if _, ok := ch.msgs[id]; !ok {
		return false
	}
	delete(ch.msgs, id)
	for i, x := range ch.order {
		if x == id {
			ch.order = append(ch.order[:i:i], ch.order[i+1:]...)
			break
		}
	}
	return true
}

// incoming: user u sends a message to account a.
func (b *Backend) incoming(a *account, u *user, ct content, replyTo int64) *message {
	ch := a.chat(u)
	m := &message{id: ch.nextID(), sender: u.id, date: b.unix(), content: ct}
	if _, ok := ch.msgs[replyTo]; ok {
		m.replyTo = replyTo
	}
	b.add(ch, m)
	a.each(func(c *client) { c.newMessage(ch, m) })
	return m
}

// ownSent: the account owner sent m (stored already) from origin (nil: the official app);
// every other client sees a new outgoing message, then the peer reacts.
func (b *Backend) ownSent(a *account, ch *chat, m *message, origin *client) {
	a.each(func(c *client) {
		if c != origin {
			c.newMessage(ch, m)
		}
	})
	b.peerReceived(a, ch, m)
}

func (b *Backend) ownEdit(a *account, ch *chat, m *message, text string) {
	m.content.text = text
	m.editDate = b.unix()
	a.each(func(c *client) { c.edited(ch, m) })
	u := ch.peer
	if u.behaviour != "echo" || m.content.kind != "text" {
		return
	}
	r := ch.msgs[ch.echoOf[m.id]]
	if r == nil || r.content.kind != "text" {
		return
	}
	b.after(u.delay, func() {
		if ch.msgs[r.id] != r {
			return
		}
		r.content.text = "echo: " + m.content.text
		r.editDate = b.unix()
		a.each(func(c *client) { c.edited(ch, r) })
	})
}

func (b *Backend) ownDelete(a *account, ch *chat, ids []int64, revoke bool) {
	var gone, answers []int64
	for _, id := range ids {
		if ch.remove(id) {
			gone = append(gone, id)
			if r, ok := ch.echoOf[id]; ok && revoke && ch.peer.behaviour == "echo" {
				answers = append(answers, r)
			}
			delete(ch.echoOf, id)
		}
	}
	if len(gone) == 0 {
		return
	}
	a.each(func(c *client) { c.deleted(ch, gone) })
	if len(answers) == 0 {
		return
	}
	b.after(ch.peer.delay, func() {
		var del []int64
		for _, id := range answers {
			if ch.remove(id) {
				del = append(del, id)
			}
		}
		if len(del) > 0 {
			a.each(func(c *client) { c.deleted(ch, del) })
		}
	})
}

// ownRead: the owner read the chat up to id (0: everything).
func (b *Backend) ownRead(a *account, ch *chat, id int64) {
	if id == 0 {
		for i := len(ch.order) - 1; i >= 0; i-- {
			if m := ch.msgs[ch.order[i]]; !m.outgoing {
				id = m.id
				break
			}
		}
	}
	if id <= ch.readInbox {
		return
	}
	ch.readInbox = id
	a.each(func(c *client) { c.readInbox(ch) })
}

// remoteRead: the peer read the chat up to id (0: everything).
func (b *Backend) remoteRead(a *account, ch *chat, id int64) {
	if id == 0 {
		for i := len(ch.order) - 1; i >= 0; i-- {
			if m := ch.msgs[ch.order[i]]; m.outgoing {
				id = m.id
				break
			}
		}
	}
	if id <= ch.readOutbox {
		return
	}
	ch.readOutbox = id
	a.each(func(c *client) { c.readOutbox(ch) })
}

// react adds or removes a reaction of sender on m; false when nothing changed.
func (b *Backend) react(m *message, sender int64, emoji string, add bool) bool {
	idx := -1
	for i, r := range m.reactions {
		if r.emoji == emoji {
			idx = i
		}
	}
	has := idx >= 0 && containsID(m.reactions[idx].senders, sender)
	if add == has {
		return false
	}
	if !add {
		r := m.reactions[idx]
		r.senders = removeID(r.senders, sender)
		if len(r.senders) == 0 {
			m.reactions = append(m.reactions[:idx:idx], m.reactions[idx+1:]...)
		}
		return true
	}
	// a person has at most MaxReactions reactions on a message: drop the oldest
	var mine []int
	for i, r := range m.reactions {
		if containsID(r.senders, sender) {
			mine = append(mine, i)
		}
	}
	if len(mine) >= b.fx.MaxReactions {
		r := m.reactions[mine[0]]
		r.senders = removeID(r.senders, sender)
		if len(r.senders) == 0 {
			m.reactions = append(m.reactions[:mine[0]:mine[0]], m.reactions[mine[0]+1:]...)
		}
	}
	for _, r := range m.reactions {
		if r.emoji == emoji {
			r.senders = append(r.senders, sender)
			return true
		}
	}
	m.reactions = append(m.reactions, &reaction{emoji: emoji, senders: []int64{sender}})
	return true
}

func (b *Backend) reactionAllowed(emoji string) bool {
	return len(b.fx.Reactions) == 0 || contains(b.fx.Reactions, emoji)
}

// ownReact: the owner reacted to m; an echo peer answers with the same reaction.
func (b *Backend) ownReact(a *account, ch *chat, m *message, emoji string, add bool) {
	if !b.react(m, a.me.id, emoji, add) {
		return
	}
	a.each(func(c *client) { c.interaction(ch, m) })
	u := ch.peer
	if u.behaviour != "echo" {
		return
	}
	b.after(u.delay, func() {
		if ch.msgs[m.id] != m {
			return
		}
		if b.react(m, u.id, emoji, add) {
			a.each(func(c *client) { c.interaction(ch, m) })
		}
	})
}

func (b *Backend) remoteReact(a *account, ch *chat, m *message, emoji string, add bool) {
	if b.react(m, ch.peer.id, emoji, add) {
		a.each(func(c *client) { c.interaction(ch, m) })
	}
}

func (b *Backend) typing(a *account, ch *chat, action string) {
	a.each(func(c *client) { c.action(ch, action) })
}

// active marks u online again (a user who writes is online), if its status is online.
func (b *Backend) active(u *user) {
	if u.status != "online" {
		return
	}
	u.expires = b.now().Add(u.onlineFor).Unix()
	b.statusChanged(u)
}

func (b *Backend) statusChanged(u *user) {
	for _, c := range b.clients {
		if c.ready() && c.users[u.id] {
			c.emit(updateUserStatus{typed: t("updateUserStatus"), UserID: u.id, Status: renderStatus(u)})
		}
	}
}

func (b *Backend) userChanged(u *user) {
	for _, c := range b.clients {
		if c.ready() && c.users[u.id] {
			c.emit(updateUser{typed: t("updateUser"), User: c.renderUser(u)})
		}
	}
}

// peerReceived runs the peer's behaviour on the owner's message m.
func (b *Backend) peerReceived(a *account, ch *chat, m *message) {
	u := ch.peer
	text := m.content.kind == "text"
	switch u.behaviour {
	case "echo":
		photo := text && strings.EqualFold(strings.TrimSpace(m.content.text), "photo")
		if text {
			b.active(u)
			if photo {
				b.typing(a, ch, "chatActionUploadingPhoto")
			} else {
				b.typing(a, ch, "chatActionTyping")
			}
		}
		b.remoteRead(a, ch, m.id)
		if !text {
			return
		}
		b.after(u.delay, func() {
			if _, ok := ch.msgs[m.id]; !ok {
				return // deleted meanwhile
			}
			b.typing(a, ch, "chatActionCancel")
			var ct content
			if photo {
				ct = b.picture(u)
			} else {
				ct = content{kind: "text", text: "echo: " + m.content.text}
			}
			r := b.incoming(a, u, ct, 0)
			ch.echoOf[m.id] = r.id
		})
	case "plain":
		if !text {
			return
		}
		b.after(u.delay, func() {
			b.incoming(a, u, content{kind: "text", text: "echo: " + m.content.text}, 0)
		})
	}
}

// picture is what an echo user answers "photo" with.
func (b *Backend) picture(u *user) content {
	f := u.photo
	if f == nil {
		f = b.defaultPicture()
	}
	return content{kind: "photo", file: f, width: f.width, height: f.height}
}

func (b *Backend) defaultPicture() *file {
	if b.sunset == nil {
		b.sunset = b.newFile("photos", "sunset.png", "image/png", builtinPicture, builtinPictureW, builtinPictureH)
	}
	return b.sunset
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func removeID(ids []int64, id int64) []int64 {
	out := ids[:0:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
