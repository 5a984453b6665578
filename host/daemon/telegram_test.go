package daemon_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/register"
	"github.com/xmppgw/gateway/host/xmpp/vcard"
)

// Whole journeys of the Telegram plugin (plugins/telegram) through a real Prosody, with a real
// client, against the simulated Telegram (host/bridge/sim) and its demo fixture.

// telegramGateway is the config of a gateway running the Telegram plugin on the simulated
// Telegram (an empty fixture: the demo's). Prosody's upload service is on loopback, hence
// fetch_private.
func telegramGateway(t *testing.T, secret string) string {
	return "[bridge.telegram]\nbackend = \"sim\"\n" + gatewayTable(gwJID, secret, "telegram") +
		fmt.Sprintf("plugin = %q\nbridges = [\"telegram\"]\n[gateway.limits]\nfetch_private = true\n", wasmtest.Build(t, "plugins/telegram"))
}

// registerPhone registers the client's user with the Telegram plugin's form (field phone).
func registerPhone(t *testing.T, c *prosodytest.Client, phone string) *xmpp.Element {
	t.Helper()
	return registerWith(t, c, "phone", phone)
}

// chatTo sends a chat message with a body.
func chatTo(t *testing.T, c *prosodytest.Client, to, id, text string, extra ...*xmpp.Element) {
	t.Helper()
	m := xmpp.Elem("jabber:client", "message", "type", "chat", "id", id, "to", to).
		Add(xmpp.Elem("jabber:client", "body").WithText(text))
	m.Add(extra...)
	if err := c.Send(ctxT(t), m); err != nil {
		t.Fatal(err)
	}
}

// answerPrompt waits for the gateway's question (a chat message whose body contains want) and
// answers it in that chat.
func answerPrompt(t *testing.T, c *prosodytest.Client, want, answer string) {
	t.Helper()
	waitFor(t, c, "the prompt "+want, func(e *xmpp.Element) bool {
		return e.Name.Local == "message" && xmpp.Bare(e.Get("from")) == gwJID && strings.Contains(body(e), want)
	})
	chatTo(t, c, gwJID, "answer-"+answer, answer)
}

// waitStatus waits for the gateway's presence with the given status.
func waitStatus(t *testing.T, c *prosodytest.Client, status string) {
	t.Helper()
	waitFor(t, c, "gateway status "+status, func(e *xmpp.Element) bool {
		st := e.Child("jabber:client", "status")
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == gwJID && st != nil && st.Text == status
	})
}

func puppet(id string) string { return id + "@" + gwJID }

// fromPuppet matches a message from a puppet that satisfies ok.
func fromPuppet(id string, ok func(e *xmpp.Element) bool) func(*xmpp.Element) bool {
	return func(e *xmpp.Element) bool {
		return e.Name.Local == "message" && e.Get("type") != "error" && xmpp.Bare(e.Get("from")) == puppet(id) && ok(e)
	}
}

// ownCarbon matches the carbon (XEP-0280) of a message the user sent to Eve's puppet.
func ownCarbon(ok func(m *xmpp.Element) bool) func(*xmpp.Element) bool {
	return func(e *xmpp.Element) bool {
		sent := e.Child("urn:xmpp:carbons:2", "sent")
		if e.Name.Local != "message" || sent == nil {
			return false
		}
		fw := sent.Child("urn:xmpp:forward:0", "forwarded")
		if fw == nil {
			return false
		}
		m := fw.Child("jabber:client", "message")
		return m != nil && xmpp.Bare(m.Get("from")) == "alice@localhost" && m.Get("to") == puppet("1001") && ok(m)
	}
}

// waitRoster polls the roster until every wanted puppet is there with its name.
func waitRoster(t *testing.T, c *prosodytest.Client, want map[string]string) map[string]*xmpp.Element {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		items := rosterItems(t, c)
		missing := ""
		for id, name := range want {
			if it := items[puppet(id)]; it == nil || it.Get("name") != name || it.Get("subscription") != "both" {
				missing = fmt.Sprintf("%s %q: %v", id, name, it)
				break
			}
		}
		if missing == "" {
			return items
		}
		if time.Now().After(deadline) {
			t.Fatalf("roster: missing %s", missing)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// simControl posts to the simulated Telegram's control API on the admin listener.
func simControl(t *testing.T, d *daemon.Daemon, op, body string) string {
	t.Helper()
	resp, err := http.Post("http://"+d.Admin.Addr()+"/bridge/telegram/"+op, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST %s %s: %s %s", op, body, resp.Status, b)
	}
	return string(b)
}

var demoRoster = map[string]string{
	"1001": "Eve Echo", "1002": "dora", "1003": "Liam Lastweek", "1004": "Helper Bot", "1005": "Plain Echo", "777000": "Telegram",
}

// TestTelegramJourney: register with a wrong code then the right one; the roster with names,
// presences, avatars and vCards; a conversation with Eve using every message feature; carbons
// from the official app; a restart; unregistering.
func TestTelegramJourney(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{Upload: true})
	dir := t.TempDir()
	gw := telegramGateway(t, srv.Components[0].Secret)
	d := startDaemonIn(t, dir, srv, gw)
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")

	// A phone number that is not one is refused with the plugin's reason.
	if r := registerPhone(t, alice, "0612"); r.Get("type") != "error" || !strings.Contains(r.String(), "international format") {
		t.Fatalf("bad phone: %s", r)
	}
	if r := registerPhone(t, alice, "+15550000001"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	// The code prompt comes as a chat message; a wrong code gets TDLib's reason and the
	// question again.
	answerPrompt(t, alice, "Enter the code Telegram sent to +15550000001", "11111")
	answerPrompt(t, alice, "PHONE_CODE_INVALID", "12345")
	waitStatus(t, alice, "Telegram: +15550000001")

	// The roster: the contacts with their names, in the gateway's group.
	waitRoster(t, alice, demoRoster)
	// Presences: Eve online, Liam away for long (last week) with his last-seen time.
	waitFor(t, alice, "liam xa", func(e *xmpp.Element) bool {
		sh := e.Child("jabber:client", "show")
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == puppet("1003") && sh != nil && sh.Text == "xa" &&
			e.ChildNS("urn:xmpp:idle:1") != nil
	})
	// vCards, with the avatar downloaded through the bridge.
	var v vcard.VCard
	for deadline := time.Now().Add(15 * time.Second); ; {
		r, err := alice.IQ(ctxT(t), "get", puppet("1001"), xmpp.Elem(vcard.NS, "vCard"))
		if err != nil || r.Get("type") != "result" {
			t.Fatalf("vcard: %v %v", r, err)
		}
		if v, err = vcard.Parse(r.Child(vcard.NS, "vCard")); err != nil {
			t.Fatal(err)
		}
		if len(v.Photo) > 0 && v.Note != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("eve's vcard has no photo or note: %+v", v)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if v.FullName != "Eve Echo" || v.Given != "Eve" || v.Family != "Echo" || v.Phone != "+15550001001" ||
		v.Note != "I repeat whatever you say." || v.PhotoType != "image/png" {
		t.Fatalf("eve's vcard: %+v", v)
	}
	for id, typ := range map[string]string{"1001": "phone", "1004": "bot", "777000": "bot"} {
		r, _ := alice.IQ(ctxT(t), "get", puppet(id), xmpp.Elem(disco.NSInfo, "query"))
		if i := r.Child(disco.NSInfo, "query").Child(disco.NSInfo, "identity"); i == nil || i.Get("type") != typ {
			t.Errorf("%s identity: %s", id, r)
		}
	}

	// A conversation with Eve: her typing, the receipt and read marker, her echo.
	chatTo(t, alice, puppet("1001"), "m1", "hello", xmpp.Elem("urn:xmpp:receipts", "request"), xmpp.Elem("urn:xmpp:chat-markers:0", "markable"))
	var receipt, typing, displayed bool
	echo := waitFor(t, alice, "eve's echo", func(e *xmpp.Element) bool {
		if e.Name.Local != "message" || xmpp.Bare(e.Get("from")) != puppet("1001") {
			return false
		}
		if rc := e.Child("urn:xmpp:receipts", "received"); rc != nil && rc.Get("id") == "m1" {
			receipt = true
		}
		if e.Child("http://jabber.org/protocol/chatstates", "composing") != nil {
			typing = true
		}
		if dm := e.Child("urn:xmpp:chat-markers:0", "displayed"); dm != nil && dm.Get("id") == "m1" {
			displayed = true
		}
		return body(e) == "echo: hello"
	})
	if !receipt || !typing || !displayed {
		t.Errorf("before the echo: receipt %v, typing %v, displayed %v", receipt, typing, displayed)
	}
	echoID := echo.Get("id")

	// An edit of the user's message: Eve edits her echo.
	chatTo(t, alice, puppet("1001"), "m1e", "hello again", xmpp.Elem("urn:xmpp:message-correct:0", "replace", "id", "m1"))
	waitFor(t, alice, "eve's edit", fromPuppet("1001", func(e *xmpp.Element) bool {
		r := e.Child("urn:xmpp:message-correct:0", "replace")
		return r != nil && r.Get("id") == echoID && body(e) == "echo: hello again"
	}))
	// A reaction: Eve reacts the same.
	if err := alice.Send(ctxT(t), xmpp.Elem("jabber:client", "message", "type", "chat", "id", "re1", "to", puppet("1001")).Add(
		xmpp.Elem("urn:xmpp:reactions:0", "reactions", "id", echoID).Add(xmpp.Elem("urn:xmpp:reactions:0", "reaction").WithText("👍")))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, alice, "eve's reaction", fromPuppet("1001", func(e *xmpp.Element) bool {
		r := e.Child("urn:xmpp:reactions:0", "reactions")
		return r != nil && r.Get("id") == echoID && len(r.Children) == 1 && r.Children[0].Text == "👍"
	}))
	// A retraction: Eve deletes her echo.
	if err := alice.Send(ctxT(t), xmpp.Elem("jabber:client", "message", "type", "chat", "id", "del1", "to", puppet("1001")).Add(
		xmpp.Elem("urn:xmpp:message-retract:1", "retract", "id", "m1"))); err != nil {
		t.Fatal(err)
	}
	waitFor(t, alice, "eve's retraction", fromPuppet("1001", func(e *xmpp.Element) bool {
		r := e.Child("urn:xmpp:message-retract:1", "retract")
		return r != nil && r.Get("id") == echoID
	}))
	// "photo": Eve answers with a picture, uploaded to the user's server (XEP-0066).
	chatTo(t, alice, puppet("1001"), "m2", "photo")
	pic := waitFor(t, alice, "eve's photo", fromPuppet("1001", func(e *xmpp.Element) bool {
		return e.Child(nsOOB, "x") != nil
	}))
	if u := pic.Child(nsOOB, "x").Child(nsOOB, "url"); u == nil || u.Text != body(pic) || !strings.HasPrefix(u.Text, "http://") {
		t.Fatalf("photo message: %s", pic)
	}
	if b := httpGet(t, body(pic)); len(b) < 8 || string(b[1:4]) != "PNG" {
		t.Fatalf("the photo is not a PNG: %d bytes", len(b))
	}
	// The user's file goes to Telegram (Eve reads it without answering).
	url := clientUpload(t, srv, alice, "note.txt", "text/plain", []byte("a note for eve"))
	chatTo(t, alice, puppet("1001"), "f1", url, xmpp.Elem(nsOOB, "x").Add(xmpp.Elem(nsOOB, "url").WithText(url)),
		xmpp.Elem("urn:xmpp:receipts", "request"))
	waitFor(t, alice, "eve read the file", fromPuppet("1001", func(e *xmpp.Element) bool {
		dm := e.Child("urn:xmpp:chat-markers:0", "displayed")
		return dm != nil && dm.Get("id") == "f1"
	}))
	// Plain Echo only echoes.
	chatTo(t, alice, puppet("1005"), "m3", "plain?")
	waitFor(t, alice, "plain's echo", fromPuppet("1005", func(e *xmpp.Element) bool { return body(e) == "echo: plain?" }))

	// What the user does from the official app comes as carbons (with the message privilege,
	// as the user's own messages: the server copies them to the user's clients).
	if r, err := alice.IQ(ctxT(t), "set", "", xmpp.Elem("urn:xmpp:carbons:2", "enable")); err != nil || r.Get("type") != "result" {
		t.Fatalf("enable carbons: %v %v", r, err)
	}
	simControl(t, d, "own/message", `{"account":"+15550000001","chat":1001,"text":"sent from my phone"}`)
	waitFor(t, alice, "the carbon of a message", ownCarbon(func(m *xmpp.Element) bool { return body(m) == "sent from my phone" }))
	echo = waitFor(t, alice, "eve's echo of it", fromPuppet("1001", func(e *xmpp.Element) bool { return body(e) == "echo: sent from my phone" }))
	legacy, err := d.Store.LegacyMsgID(context.Background(), gwJID, "alice@localhost", "1001", echo.Get("id"))
	if err != nil {
		t.Fatalf("legacy id of eve's echo: %v", err)
	}
	simControl(t, d, "own/read", `{"account":"+15550000001","chat":1001,"message_id":0}`)
	waitFor(t, alice, "the carbon of a read marker", ownCarbon(func(m *xmpp.Element) bool {
		dm := m.Child("urn:xmpp:chat-markers:0", "displayed")
		return dm != nil && dm.Get("id") == echo.Get("id")
	}))
	simControl(t, d, "own/reaction", fmt.Sprintf(`{"account":"+15550000001","chat":1001,"message_id":%s,"reaction":"🔥"}`, legacy))
	waitFor(t, alice, "the carbon of a reaction", ownCarbon(func(m *xmpp.Element) bool {
		r := m.Child("urn:xmpp:reactions:0", "reactions")
		return r != nil && r.Get("id") == echo.Get("id") && len(r.Children) == 1 && r.Children[0].Text == "🔥"
	}))

	// The online expiry: Dora is online for a second, then away, last seen then.
	simControl(t, d, "status", `{"user":1002,"status":"online","expires_in":"1s"}`)
	waitFor(t, alice, "dora away after her online status expired", func(e *xmpp.Element) bool {
		sh := e.Child("jabber:client", "show")
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == puppet("1002") && sh != nil && sh.Text == "away" &&
			e.ChildNS("urn:xmpp:idle:1") != nil
	})

	// A restart keeps the registration (TDLib's database: no code asked), the roster and the
	// message id maps; the conversation goes on.
	photoLegacy, err := d.Store.LegacyMsgID(context.Background(), gwJID, "alice@localhost", "1001", "m2")
	if err != nil {
		t.Fatalf("message id map: %v", err)
	}
	d.Stop()
	d2 := startDaemonIn(t, dir, srv, gw)
	waitStatus(t, alice, "Telegram: +15550000001")
	if id, err := d2.Store.LegacyMsgID(context.Background(), gwJID, "alice@localhost", "1001", "m2"); err != nil || id != photoLegacy {
		t.Fatalf("message id map after restart: %q %v (was %q)", id, err, photoLegacy)
	}
	waitRoster(t, alice, demoRoster)
	chatTo(t, alice, puppet("1001"), "m4", "after restart")
	echo = waitFor(t, alice, "the echo after restart", fromPuppet("1001", func(e *xmpp.Element) bool { return body(e) == "echo: after restart" }))
	chatTo(t, alice, puppet("1001"), "m4e", "after the restart", xmpp.Elem("urn:xmpp:message-correct:0", "replace", "id", "m4"))
	waitFor(t, alice, "the edit after restart", fromPuppet("1001", func(e *xmpp.Element) bool {
		r := e.Child("urn:xmpp:message-correct:0", "replace")
		return r != nil && r.Get("id") == echo.Get("id") && body(e) == "echo: after the restart"
	}))

	// Unregistering wipes the user.
	r, err := alice.IQ(ctxT(t), "set", gwJID, xmpp.Elem(register.NS, "query").Add(xmpp.Elem(register.NS, "remove")))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("unregister: %v %v", r, err)
	}
	assertTelegramUserGone(t, d2, "alice@localhost")
}

// assertTelegramUserGone checks that nothing is left of user (as assertUserGone, with the
// Telegram contact's legacy id).
func assertTelegramUserGone(t *testing.T, d *daemon.Daemon, user string) {
	t.Helper()
	assertGone(t, d, user, "1001", "m2")
}

// TestTelegramTwoStepLogin: an account with a password: the code, a wrong password (TDLib's
// reason and the question again), the right one; then the session is terminated from another
// device, and logging in again works.
func TestTelegramTwoStepLogin(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, telegramGateway(t, srv.Components[0].Secret))
	waitHealth(t, d, http.StatusOK)
	bob := srv.NewClient(t, "bob")
	if r := registerPhone(t, bob, "+15550000002"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	answerPrompt(t, bob, "Enter the code Telegram sent to +15550000002", "12345")
	answerPrompt(t, bob, "a classic", "hunter1") // the password prompt shows the hint
	answerPrompt(t, bob, "PASSWORD_HASH_INVALID", "hunter2")
	waitStatus(t, bob, "Telegram: +15550000002")
	waitRoster(t, bob, map[string]string{"1001": "Eve Echo"})

	// The session terminated from another device: the user is told, and logging in again asks
	// for the code again.
	simControl(t, d, "revoke", `{"account":"+15550000002"}`)
	waitFor(t, bob, "the logout notice", func(e *xmpp.Element) bool {
		return e.Name.Local == "message" && xmpp.Bare(e.Get("from")) == gwJID &&
			strings.Contains(body(e), "Logged out by the network") && strings.Contains(body(e), "terminated")
	})
	chatTo(t, bob, gwJID, "relogin", "re-login")
	answerPrompt(t, bob, "Enter the code Telegram sent to +15550000002", "12345")
	answerPrompt(t, bob, "Enter your Telegram password", "hunter2")
	waitStatus(t, bob, "Telegram: +15550000002")
}
