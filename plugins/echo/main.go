// Command echo is the echo network: a complete, tiny legacy network written with the Go SDK, so
// that the gateway can be tested end to end without Telegram. Every contact echoes what the user
// says.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o echo.wasm ./plugins/echo
//
// The network:
//   - registration asks for a name (1 to 64 characters); login accepts any name.
//   - the roster has five friends: eve (online, phone), dora (away, "out for lunch"), liam
//     (xa, last seen 7 days ago), bot (online, a bot) and plain (online); each has an avatar
//     and a vCard. Any other legacy id is a valid contact too, named after its id.
//   - a text to any contact but plain is reported sent (legacy id u-N), then the contact types,
//     marks it displayed and answers "echo: <text>" (legacy id e-N); the reply's id is kept in
//     the plugin's storage, so that a correction of the user's message corrects the reply, a
//     retraction retracts it (even after an instance restart), and reactions are echoed on the
//     user's message. A file is echoed as "echo: <url>".
//   - the text "file <url>" makes the contact download the URL (file.fetch) and send it back as
//     a file (contact.file) with the caption "echo: file"; a failed download is answered
//     "echo: could not fetch <url>: <reason>".
//   - plain only answers "echo: <text>": no typing, no markers, no corrections.
//   - the text "fail" is refused with "the echo network refuses this message"; so is a correction
//     to "fail", after its event (message.failed with the correction's id).
//   - search finds a roster contact by id or name.
//   - [gateway.config] contacts = N adds N generated contacts (c0, c1, ..., online) to every
//     roster, for benchmarks of large rosters.
package main

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

//go:generate go run avatars/gen.go

//go:embed avatars/*.png
var avatarFiles embed.FS

func init() { gateway.Register(echo{}) }

// main is never called in a c-shared module; Register runs from init.
func main() {}

// now is the clock (tests pin it).
var now = time.Now

// person is a contact of the fixed roster.
type person struct {
	id, name, given, family, note string
	show                          abi.Show
	status                        string
	lastSeen                      time.Duration // how long ago, 0: unknown
	client                        abi.ClientType
}

var roster = []person{
	{id: "eve", name: "Eve Echo", given: "Eve", family: "Echo", note: "Echoes everything you say, from her phone.",
		show: abi.ShowOnline, client: "phone"},
	{id: "dora", name: "Dora Away", given: "Dora", family: "Away", note: "Echoes you, even while away.",
		show: abi.ShowAway, status: "out for lunch"},
	{id: "liam", name: "Liam Lastweek", given: "Liam", family: "Lastweek", note: "Has not been around for a week, but still echoes.",
		show: abi.ShowXA, lastSeen: 7 * 24 * time.Hour},
	{id: "bot", name: "Helper Bot", given: "Helper", family: "Bot", note: "A bot that echoes.",
		show: abi.ShowOnline, client: "bot"},
	{id: "plain", name: "Plain Echo", given: "Plain", family: "Echo", note: "Answers with a plain echo: no typing, no markers.",
		show: abi.ShowOnline},
}

func lookup(id abi.LegacyID) (person, bool) {
	for _, p := range roster {
		if p.id == id {
			return p, true
		}
	}
	return person{}, false
}

// avatar returns the embedded picture of a roster contact.
func avatar(id abi.LegacyID) (abi.Avatar, bool) {
	b, err := avatarFiles.ReadFile("avatars/" + id + ".png")
	if err != nil {
		return abi.Avatar{}, false
	}
	sum := sha256.Sum256(b)
	return abi.Avatar{Data: b, Type: "image/png", ID: hex.EncodeToString(sum[:8])}, true
}

// Errors the user sees.
const (
	errRefused     = "the echo network refuses this message"
	errNoSuchUser  = "no such echo user"
	errEmptyName   = "Your name on the echo network cannot be empty."
	errLongName    = "Your name on the echo network is too long: at most 64 characters."
	maxNameRunes   = 64
	seqBlock       = 100 // message ids reserved in storage at a time
	keySeq         = "seq"
	keyReplyPrefix = "reply/"
)

type echo struct{}

// extraContacts is the number of generated contacts added to every roster, from the gateway's
// [gateway.config] key "contacts" (for benchmarks of large rosters).
var extraContacts int

func (echo) Init(cfg gateway.Config) (abi.InitReply, error) {
	var c struct {
		Contacts int `json:"contacts"`
	}
	if err := cfg.Decode(&c); err != nil {
		return abi.InitReply{}, fmt.Errorf("[gateway.config]: %w", err)
	}
	if c.Contacts < 0 || c.Contacts > 100000 {
		return abi.InitReply{}, fmt.Errorf("[gateway.config] contacts = %d: expected 0 to 100000", c.Contacts)
	}
	extraContacts = c.Contacts
	return abi.InitReply{
		Name: "Echo",
		Registration: abi.Form{
			Instructions: "Pick any name: everyone on the echo network echoes what you say.",
			Fields:       []abi.Field{{Var: "name", Label: "Your name on the echo network", Required: true}},
		},
		Features: []string{"search", "files", "corrections", "retractions", "reactions"},
	}, nil
}

func (echo) NewSession(s *gateway.Session) gateway.SessionHandler { return &session{s: s} }

// session is one user's session on the echo network.
type session struct {
	gateway.BaseSession
	s    *gateway.Session
	name string
	// Message ids: next is the last one used, limit the end of the block reserved in storage
	// (so an instance restart never reuses an id).
	next, limit int
	loaded      bool
}

func (e *session) OnValidate(request string, values abi.Values) error {
	name := strings.TrimSpace(values["name"])
	switch {
	case name == "":
		//lint:ignore ST1005 shown to the user as a sentence
		return errors.New(errEmptyName)
	case utf8.RuneCountInString(name) > maxNameRunes:
		//lint:ignore ST1005 shown to the user as a sentence
		return errors.New(errLongName)
	}
	return nil
}

func (e *session) OnLogin(reg abi.Values) (string, error) {
	e.name = reg["name"]
	if err := e.loadSeq(); err != nil {
		return "", err
	}
	return "Echo network: logged in as " + e.name, nil
}

func (e *session) OnRestored() error { return e.loadSeq() }

func (e *session) OnLogout() error     { return nil }
func (e *session) OnUnregister() error { return nil }

func (e *session) OnFill() error {
	for _, p := range roster {
		c := e.s.Contact(p.id)
		e.describe(c, p)
		if err := c.AddToRoster(); err != nil {
			return err
		}
	}
	for i := range extraContacts {
		c := e.s.Contact("c" + strconv.Itoa(i))
		c.SetName("Contact " + strconv.Itoa(i))
		c.Online("")
		if err := c.AddToRoster(); err != nil {
			return err
		}
	}
	return nil
}

// describe sets everything the network knows of a roster contact.
func (e *session) describe(c *gateway.Contact, p person) {
	c.SetName(p.name)
	if a, ok := avatar(p.id); ok {
		c.SetAvatar(a)
	}
	c.SetVCard(abi.VCard{FullName: p.name, Given: p.given, Family: p.family, Note: p.note})
	pr := abi.Presence{Show: p.show, Status: p.status}
	if p.lastSeen > 0 {
		pr.LastSeen = now().Add(-p.lastSeen).Unix()
	}
	c.SetPresence(pr)
	if p.client != "" {
		c.SetClientType(p.client)
	}
	c.SetFriend(true)
}

func (e *session) OnUpdateInfo(c *gateway.Contact) error {
	if p, ok := lookup(c.ID()); ok {
		e.describe(c, p)
	} else {
		// Anyone else is an echo contact too, known by their id only.
		c.SetName(c.ID())
		c.SetVCard(abi.VCard{FullName: c.ID(), Note: "An echo network user."})
		c.Online("")
	}
	return c.Ready()
}

func (e *session) OnFriendRequest(c *gateway.Contact) error {
	c.SetFriend(true)
	return nil
}

func (e *session) OnSearch(request, query string) (abi.LegacyID, error) {
	q := strings.TrimSpace(query)
	for _, p := range roster {
		if strings.EqualFold(q, p.id) || strings.EqualFold(q, p.name) {
			return p.id, nil
		}
	}
	return "", errors.New(errNoSuchUser)
}

func (e *session) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	if u, ok := strings.CutPrefix(m.Text, "file "); ok {
		return "", e.fileBack(c, m.ID, strings.TrimSpace(u))
	}
	return e.echo(c, m.ID, m.Text)
}

// fetchContext is the context of a "file <url>" download: who sends it back, with which id.
type fetchContext struct {
	Contact abi.LegacyID    `json:"contact"`
	ID      abi.LegacyMsgID `json:"id"`
	URL     string          `json:"url"`
}

// fileBack reports the user's message sent and starts downloading url; OnFileFetched sends it.
func (e *session) fileBack(c *gateway.Contact, xmppID, url string) error {
	n, err := e.nextID()
	if err != nil {
		return err
	}
	if err := e.s.MessageSent(xmppID, "u-"+strconv.Itoa(n)); err != nil {
		return err
	}
	eid := "e-" + strconv.Itoa(n)
	if err := e.s.FetchWith(url, 0, fetchContext{Contact: c.ID(), ID: eid, URL: url}, nil); err != nil {
		return c.Text(eid, "echo: could not fetch "+url+": "+err.Error())
	}
	return nil
}

// OnFileFetched sends the downloaded file back from the contact, and releases the handle.
func (e *session) OnFileFetched(r gateway.FetchResult) error {
	var fc fetchContext
	if err := json.Unmarshal(r.Context, &fc); err != nil || fc.Contact == "" {
		return fmt.Errorf("file.fetched with an unknown context %s", r.Context)
	}
	c := e.s.Contact(fc.Contact)
	if r.Err != nil {
		return c.Text(fc.ID, "echo: could not fetch "+fc.URL+": "+r.Err.Error())
	}
	if err := c.File(fc.ID, *r.File, gateway.Caption("echo: file")); err != nil {
		return err
	}
	return e.s.ReleaseFile(r.File.Handle)
}

func (e *session) OnFile(c *gateway.Contact, m abi.FileMessage) (abi.LegacyMsgID, error) {
	return e.echo(c, m.ID, m.URL)
}

// echo reports the user's message sent and answers it.
func (e *session) echo(c *gateway.Contact, xmppID, text string) (abi.LegacyMsgID, error) {
	if text == "fail" {
		return "", errors.New(errRefused)
	}
	n, err := e.nextID()
	if err != nil {
		return "", err
	}
	uid, eid := "u-"+strconv.Itoa(n), "e-"+strconv.Itoa(n)
	if err := e.s.MessageSent(xmppID, uid); err != nil {
		return "", err
	}
	if c.ID() == "plain" {
		return "", c.Text(eid, "echo: "+text)
	}
	if err := c.State(abi.StateComposing); err != nil {
		return "", err
	}
	if err := c.Displayed(uid); err != nil {
		return "", err
	}
	if err := c.Text(eid, "echo: "+text); err != nil {
		return "", err
	}
	return "", e.s.KVSet(keyReplyPrefix+uid, eid)
}

// reply returns the id of the echo of the user's message uid.
func (e *session) reply(uid abi.LegacyMsgID) (abi.LegacyMsgID, bool, error) {
	return e.s.KVGet(keyReplyPrefix + uid)
}

func (e *session) OnCorrect(c *gateway.Contact, m abi.Correct) error {
	if m.Text == "fail" {
		return e.s.MessageFailed(m.ID, errRefused)
	}
	if c.ID() == "plain" {
		return nil
	}
	eid, ok, err := e.reply(m.Target)
	if err != nil || !ok {
		return err
	}
	return c.Correct(eid, "echo: "+m.Text)
}

func (e *session) OnRetract(c *gateway.Contact, m abi.Retract) error {
	if c.ID() == "plain" {
		return nil
	}
	eid, ok, err := e.reply(m.Target)
	if err != nil || !ok {
		return err
	}
	if err := c.Retract(eid); err != nil {
		return err
	}
	return e.s.KVDelete(keyReplyPrefix + m.Target)
}

func (e *session) OnReact(c *gateway.Contact, m abi.React) error {
	if c.ID() == "plain" {
		return nil
	}
	return c.React(m.Target, m.Reactions)
}

func (e *session) OnDisplayed(*gateway.Contact, abi.LegacyMsgID) error { return nil }
func (e *session) OnChatState(*gateway.Contact, abi.State) error       { return nil }
func (e *session) OnInput(string, string) error                        { return nil }

// loadSeq reserves a block of message ids in storage.
func (e *session) loadSeq() error {
	v, _, err := e.s.KVGet(keySeq)
	if err != nil {
		return err
	}
	n, _ := strconv.Atoi(v)
	e.next, e.limit, e.loaded = n, n, true
	return e.reserve()
}

func (e *session) reserve() error {
	e.limit += seqBlock
	return e.s.KVSet(keySeq, strconv.Itoa(e.limit))
}

// nextID returns a fresh message number, unique for the user across restarts.
func (e *session) nextID() (int, error) {
	if !e.loaded {
		if err := e.loadSeq(); err != nil {
			return 0, err
		}
	}
	if e.next >= e.limit {
		if err := e.reserve(); err != nil {
			return 0, err
		}
	}
	e.next++
	return e.next, nil
}

var (
	_ gateway.Plugin             = echo{}
	_ gateway.SessionHandler     = (*session)(nil)
	_ gateway.Restorer           = (*session)(nil)
	_ gateway.FileFetchedHandler = (*session)(nil)
)
