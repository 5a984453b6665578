package daemon_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/register"
	"github.com/xmppgw/gateway/host/xmpp/vcard"
)

const gwJID = "telegram.localhost"

// echoGateway is a [[gateway]] table running the echo plugin.
func echoGateway(t *testing.T, secret string, extra string) string {
	return gatewayTable(gwJID, secret, "echo") + fmt.Sprintf("plugin = %q\n%s", wasmtest.Build(t, "plugins/echo"), extra)
}

// waitFor reads stanzas until match accepts one, failing after a deadline.
func waitFor(t *testing.T, c *prosodytest.Client, what string, match func(*xmpp.Element) bool) *xmpp.Element {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var seen []string
	for {
		e, err := c.Next(ctx)
		if err != nil {
			t.Fatalf("waiting for %s: %v; saw:\n%s", what, err, strings.Join(seen, "\n"))
		}
		if match(e) {
			return e
		}
		seen = append(seen, e.String())
	}
}

// registerUser registers the client's user through XEP-0077 with the echo network's form.
func registerUser(t *testing.T, c *prosodytest.Client, name string) *xmpp.Element {
	t.Helper()
	return registerWith(t, c, "name", name)
}

// registerWith registers the client's user through XEP-0077, giving value to the form's field.
func registerWith(t *testing.T, c *prosodytest.Client, field, value string) *xmpp.Element {
	t.Helper()
	ctx := ctxT(t)
	r, err := c.IQ(ctx, "get", gwJID, xmpp.Elem(register.NS, "query"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("register get: %v %v", r, err)
	}
	f, err := form.Parse(r.Child(register.NS, "query").Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Field(field) == nil {
		t.Fatalf("registration form has no %s field: %s", field, r)
	}
	sub := &form.Form{Type: "submit", Fields: []form.Field{{Var: field, Values: []string{value}}}}
	r, err = c.IQ(ctx, "set", gwJID, xmpp.Elem(register.NS, "query").Add(sub.Element()))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func rosterItems(t *testing.T, c *prosodytest.Client) map[string]*xmpp.Element {
	t.Helper()
	r, err := c.IQ(ctxT(t), "get", "", xmpp.Elem("jabber:iq:roster", "query"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("roster get: %v %v", r, err)
	}
	items := map[string]*xmpp.Element{}
	for _, it := range r.Child("jabber:iq:roster", "query").Children {
		items[it.Get("jid")] = it
	}
	return items
}

func TestRegisterLoginRosterAndEcho(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, ""))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)

	// The gateway advertises registration.
	r, _ := alice.IQ(ctx, "get", gwJID, xmpp.Elem(disco.NSInfo, "query"))
	if !strings.Contains(r.String(), register.NS) {
		t.Fatalf("disco lacks %s: %s", register.NS, r)
	}
	// A refused form shows the plugin's reason.
	if r := registerUser(t, alice, ""); r.Get("type") != "error" || !strings.Contains(r.String(), "required") {
		t.Fatalf("empty name: %s", r)
	}
	if r := registerUser(t, alice, strings.Repeat("x", 65)); r.Get("type") != "error" || !strings.Contains(r.String(), "too long") {
		t.Fatalf("long name: %s", r)
	}
	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}

	// The gateway shows the session state as its presence, ending connected.
	waitFor(t, alice, "connected gateway presence", func(e *xmpp.Element) bool {
		st := e.Child("jabber:client", "status")
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == gwJID && e.Child("jabber:client", "show") == nil &&
			st != nil && st.Text == "Echo network: logged in as Alice"
	})
	// Puppets show up with their presence, caps, avatar hash and idle time.
	liam := waitFor(t, alice, "liam's presence", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "liam@"+gwJID
	})
	if sh := liam.Child("jabber:client", "show"); sh == nil || sh.Text != "xa" {
		t.Errorf("liam show: %s", liam)
	}
	for _, ns := range []string{"http://jabber.org/protocol/caps", vcard.NSUpdate, "urn:xmpp:idle:1"} {
		if liam.ChildNS(ns) == nil {
			t.Errorf("liam's presence lacks %s: %s", ns, liam)
		}
	}

	// The roster holds the five friends with their names, in the gateway's group.
	deadline := time.Now().Add(10 * time.Second)
	var items map[string]*xmpp.Element
	for {
		items = rosterItems(t, alice)
		if len(items) >= 5 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for id, name := range map[string]string{"eve": "Eve Echo", "dora": "Dora Away", "liam": "Liam Lastweek", "bot": "Helper Bot", "plain": "Plain Echo"} {
		it := items[id+"@"+gwJID]
		if it == nil || it.Get("name") != name || it.Get("subscription") != "both" {
			t.Errorf("roster item %s: %v", id, it)
			continue
		}
		if g := it.Child("jabber:iq:roster", "group"); g == nil || g.Text != "Echo" {
			t.Errorf("roster item %s group: %s", id, it)
		}
	}

	// vCard and disco#info answered for the puppet itself.
	r, err := alice.IQ(ctx, "get", "eve@"+gwJID, xmpp.Elem(vcard.NS, "vCard"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("vcard: %v %v", r, err)
	}
	v, err := vcard.Parse(r.Child(vcard.NS, "vCard"))
	if err != nil || v.FullName != "Eve Echo" || v.Given != "Eve" || len(v.Photo) == 0 || v.PhotoType != "image/png" {
		t.Fatalf("vcard: %+v %v", v, err)
	}
	r, _ = alice.IQ(ctx, "get", "bot@"+gwJID, xmpp.Elem(disco.NSInfo, "query"))
	if id := r.Child(disco.NSInfo, "query").Child(disco.NSInfo, "identity"); id == nil || id.Get("category") != "client" || id.Get("type") != "bot" {
		t.Fatalf("puppet disco: %s", r)
	}

	// A message gets a receipt (once the network accepted it), typing, and the echo.
	msg := xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m1", "to", "eve@"+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("hello"), xmpp.Elem("urn:xmpp:receipts", "request"))
	if err := alice.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	var gotReceipt, gotTyping bool
	waitFor(t, alice, "echo reply", func(e *xmpp.Element) bool {
		if e.Name.Local != "message" || xmpp.Bare(e.Get("from")) != "eve@"+gwJID {
			return false
		}
		if rc := e.Child("urn:xmpp:receipts", "received"); rc != nil && rc.Get("id") == "m1" {
			gotReceipt = true
		}
		if e.Child("http://jabber.org/protocol/chatstates", "composing") != nil {
			gotTyping = true
		}
		b := e.Child("jabber:client", "body")
		return b != nil && b.Text == "echo: hello"
	})
	if !gotReceipt || !gotTyping {
		t.Errorf("before the echo: receipt %v, typing %v", gotReceipt, gotTyping)
	}
	// The message path's writes (journal, id mappings, outbox) show in /metrics.
	writes, _ := strconv.Atoi(metric(t, d, "gateway_store_writes_total"))
	commits, _ := strconv.Atoi(metric(t, d, "gateway_store_commits_total"))
	if writes < 4 || commits < 1 || commits > writes {
		t.Errorf("store metrics: %d writes, %d commits", writes, commits)
	}

	// A message the network refuses comes back as an error on that message.
	msg = xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m2", "to", "plain@"+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("fail"))
	_ = alice.Send(ctx, msg)
	e := waitFor(t, alice, "error on m2", func(e *xmpp.Element) bool { return e.Get("id") == "m2" && e.Get("type") == "error" })
	if !strings.Contains(e.String(), "refuses this message") {
		t.Errorf("error text: %s", e)
	}
	// So does a correction the network refuses, by the correction's id.
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m1-fix", "to", "eve@"+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("fail"), xmpp.Elem("urn:xmpp:message-correct:0", "replace", "id", "m1")))
	e = waitFor(t, alice, "error on m1-fix", func(e *xmpp.Element) bool { return e.Get("id") == "m1-fix" && e.Get("type") == "error" })
	if !strings.Contains(e.String(), "refused the correction: the echo network refuses this message") {
		t.Errorf("correction error text: %s", e)
	}

	// Unknown puppets are still contacts on the echo network; invalid JIDs get item-not-found.
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m3", "to", `bad\5cname@`+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("hi")))
	_ = e

	// Unregistering wipes everything the gateway holds about alice, and her roster.
	r, err = alice.IQ(ctx, "set", gwJID, xmpp.Elem(register.NS, "query").Add(xmpp.Elem(register.NS, "remove")))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("unregister: %v %v", r, err)
	}
	assertUserGone(t, d, "alice@localhost")
	deadline = time.Now().Add(10 * time.Second)
	for {
		items = rosterItems(t, alice)
		n := 0
		for j := range items {
			if strings.HasSuffix(j, "@"+gwJID) {
				n++
			}
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("puppets left in roster after unregister: %v", items)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// And a message to a puppet now asks for registration.
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m4", "to", "eve@"+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("still there?")))
	e = waitFor(t, alice, "error on m4", func(e *xmpp.Element) bool { return e.Get("id") == "m4" && e.Get("type") == "error" })
	if !strings.Contains(e.String(), "registration-required") {
		t.Errorf("after unregister: %s", e)
	}
}

// assertUserGone checks that no row of any kind is left for user of the echo network.
func assertUserGone(t *testing.T, d *daemon.Daemon, user string) {
	t.Helper()
	assertGone(t, d, user, "eve", "m1")
}

// assertGone checks that no row of any kind is left for user; contact and msgID name a contact
// and a message the user had, whose avatar and id mapping must be gone too.
func assertGone(t *testing.T, d *daemon.Daemon, user, contact, msgID string) {
	t.Helper()
	ctx := context.Background()
	if _, err := d.Store.User(ctx, gwJID, user); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("user row left: %v", err)
	}
	if cs, err := d.Store.Contacts(ctx, gwJID, user); err != nil || len(cs) != 0 {
		t.Errorf("%d contacts left (%v)", len(cs), err)
	}
	if keys, err := d.Store.KVKeys(ctx, gwJID, user, ""); err != nil || len(keys) != 0 {
		t.Errorf("plugin storage left: %v %v", keys, err)
	}
	if _, _, err := d.Store.Avatar(ctx, gwJID, user, contact); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("avatar left: %v", err)
	}
	if id, err := d.Store.LegacyMsgID(ctx, gwJID, user, contact, msgID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("message id map left: %q %v", id, err)
	}
}

func TestForbiddenDomainCannotRegister(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, `allow_domains = ["example.org"]`+"\n"))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)
	for _, q := range []*xmpp.Element{xmpp.Elem(register.NS, "query")} {
		r, err := alice.IQ(ctx, "get", gwJID, q)
		if err != nil || r.Get("type") != "error" || !strings.Contains(r.String(), "forbidden") {
			t.Fatalf("register get: %v %v", r, err)
		}
	}
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "f1", "to", "eve@"+gwJID).
		Add(xmpp.Elem("jabber:client", "body").WithText("hi")))
	e := waitFor(t, alice, "error on f1", func(e *xmpp.Element) bool { return e.Get("id") == "f1" && e.Get("type") == "error" })
	if !strings.Contains(e.String(), "forbidden") {
		t.Errorf("message to puppet: %s", e)
	}
}

// A restart keeps registrations and contacts: sessions log in again by themselves, and an
// unchanged roster is not pushed again. At shutdown the user sees puppets and gateway go offline.
func TestRestartKeepsRegistrationAndRoster(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	dir := t.TempDir()
	gw := echoGateway(t, srv.Components[0].Secret, "")
	d := startDaemonIn(t, dir, srv, gw)
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	waitFor(t, alice, "eve online", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID && e.Get("type") == ""
	})
	first := d.Gateways[0].Sessions().RosterPushes()
	if first < 6 { // five puppets and the gateway
		t.Fatalf("%d roster pushes at first login, want at least 6", first)
	}

	d.Stop()
	waitFor(t, alice, "eve offline at shutdown", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID && e.Get("type") == "unavailable"
	})
	waitFor(t, alice, "gateway offline at shutdown", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == gwJID && e.Get("type") == "unavailable"
	})

	d2 := startDaemonIn(t, dir, srv, gw)
	waitFor(t, alice, "connected after restart", func(e *xmpp.Element) bool {
		st := e.Child("jabber:client", "status")
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == gwJID && st != nil && strings.HasPrefix(st.Text, "Echo network")
	})
	waitFor(t, alice, "eve online again", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID && e.Get("type") == ""
	})
	if n := d2.Gateways[0].Sessions().RosterPushes(); n != 0 {
		t.Errorf("%d roster pushes after a restart with an unchanged roster, want 0", n)
	}
	if cs, _ := d2.Store.Contacts(context.Background(), gwJID, "alice@localhost"); len(cs) != 5 {
		t.Errorf("%d contacts stored, want 5", len(cs))
	}
}

// Without the roster privilege the puppets ask for subscription, and the gateway accepts the
// user's own requests.
func TestUnprivilegedSubscriptions(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{Components: []prosodytest.Component{{JID: gwJID}}})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, ""))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)
	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	sub := waitFor(t, alice, "subscription request from dora", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && e.Get("type") == "subscribe" && xmpp.Bare(e.Get("from")) == "dora@"+gwJID
	})
	if n := sub.Child("http://jabber.org/protocol/nick", "nick"); n == nil || n.Text != "Dora Away" {
		t.Errorf("subscribe lacks the nick: %s", sub)
	}
	if d.Gateways[0].Sessions().RosterPushes() != 0 {
		t.Error("roster pushes without the privilege")
	}
	// The user accepts and subscribes back; the puppet accepts and shows its presence.
	for _, typ := range []string{"subscribed", "subscribe"} {
		_ = alice.Send(ctx, xmpp.Elem("jabber:client", "presence", "type", typ, "to", "dora@"+gwJID))
	}
	p := waitFor(t, alice, "dora's presence", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && e.Get("type") == "" && xmpp.Bare(e.Get("from")) == "dora@"+gwJID
	})
	if st := p.Child("jabber:client", "status"); st == nil || st.Text != "out for lunch" {
		t.Errorf("dora's presence: %s", p)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		it := rosterItems(t, alice)["dora@"+gwJID]
		if it != nil && it.Get("subscription") == "both" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster item: %v", it)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A message the user sent that had no verdict from the network when the gateway died is handed
// to the plugin again at the next login.
func TestJournalledMessageReplayedAfterCrash(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	dir := t.TempDir()
	gw := echoGateway(t, srv.Components[0].Secret, "")
	d := startDaemonIn(t, dir, srv, gw)
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	waitFor(t, alice, "eve online", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID
	})
	d.Stop()

	// As if the gateway had died after journalling this message, before the network's verdict.
	ctx := context.Background()
	st2, err := store.Open(ctx, store.Options{DSN: dir + "/data/gateway.db"})
	if err != nil {
		t.Fatal(err)
	}
	stanza := `<message xmlns="jabber:component:accept" type="chat" id="lost1" from="` + alice.JID + `" to="eve@` + gwJID + `"><body>are you there?</body></message>`
	if err := st2.JournalOpen(ctx, gwJID, "alice@localhost", "lost1", stanza); err != nil {
		t.Fatal(err)
	}
	st2.Close()

	d2 := startDaemonIn(t, dir, srv, gw)
	waitFor(t, alice, "the echo of the journalled message", func(e *xmpp.Element) bool {
		b := e.Child("jabber:client", "body")
		return e.Name.Local == "message" && b != nil && b.Text == "echo: are you there?"
	})
	for deadline := time.Now().Add(5 * time.Second); ; {
		open, err := d2.Store.JournalPending(ctx, gwJID, "alice@localhost")
		if err != nil {
			t.Fatal(err)
		}
		if len(open) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("journal still open: %v", open)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
