package daemon_test

import (
	"fmt"
	"net/http"
	"testing"

	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/xmpp"
)

// The same echo conversation against the echo network written in each language the project has
// an SDK for: register, log in, roster, a message answered after typing with a receipt, a refused
// message, and (where the language's example has full parity) a correction followed by the echo.
func TestEchoConversationInEveryLanguage(t *testing.T) {
	langs := []struct {
		name   string
		plugin func(t *testing.T) string
		full   bool // typing, markers and corrections, like the Go echo network
	}{
		{"go", func(t *testing.T) string { return wasmtest.Build(t, "plugins/echo") }, true},
		{"c", func(t *testing.T) string { return wasmtest.Example(t, "echo-c") }, true},
		{"rust", func(t *testing.T) string { return wasmtest.Example(t, "echo-rust") }, true},
		{"assemblyscript", func(t *testing.T) string { return wasmtest.Example(t, "echo-assemblyscript") }, true},
	}
	for _, lang := range langs {
		t.Run(lang.name, func(t *testing.T) {
			srv := prosodytest.Start(t, prosodytest.Options{})
			gw := gatewayTable(gwJID, srv.Components[0].Secret, "echo") + fmt.Sprintf("plugin = %q\n", lang.plugin(t))
			d := startDaemon(t, srv, gw)
			waitHealth(t, d, http.StatusOK)
			alice := srv.NewClient(t, "alice")
			ctx := ctxT(t)
			if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
				t.Fatalf("register: %s", r)
			}
			waitFor(t, alice, "eve's presence", func(e *xmpp.Element) bool {
				return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID
			})

			msg := xmpp.Elem("jabber:client", "message", "type", "chat", "id", "l1", "to", "eve@"+gwJID).
				Add(xmpp.Elem("jabber:client", "body").WithText("hello"), xmpp.Elem("urn:xmpp:receipts", "request"))
			if err := alice.Send(ctx, msg); err != nil {
				t.Fatal(err)
			}
			var receipt, typing bool
			waitFor(t, alice, "the echo", func(e *xmpp.Element) bool {
				if e.Name.Local != "message" || xmpp.Bare(e.Get("from")) != "eve@"+gwJID {
					return false
				}
				if r := e.Child("urn:xmpp:receipts", "received"); r != nil && r.Get("id") == "l1" {
					receipt = true
				}
				if e.Child("http://jabber.org/protocol/chatstates", "composing") != nil {
					typing = true
				}
				b := e.Child("jabber:client", "body")
				return b != nil && b.Text == "echo: hello"
			})
			if !receipt || (lang.full && !typing) {
				t.Errorf("receipt %v, typing %v", receipt, typing)
			}

			_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "l2", "to", "plain@"+gwJID).
				Add(xmpp.Elem("jabber:client", "body").WithText("fail")))
			waitFor(t, alice, "the refusal", func(e *xmpp.Element) bool { return e.Get("id") == "l2" && e.Get("type") == "error" })

			if !lang.full {
				return
			}
			fix := xmpp.Elem("jabber:client", "message", "type", "chat", "id", "l3", "to", "eve@"+gwJID).
				Add(xmpp.Elem("jabber:client", "body").WithText("hello again"),
					xmpp.Elem("urn:xmpp:message-correct:0", "replace", "id", "l1"))
			_ = alice.Send(ctx, fix)
			waitFor(t, alice, "the corrected echo", func(e *xmpp.Element) bool {
				b := e.Child("jabber:client", "body")
				return e.Name.Local == "message" && b != nil && b.Text == "echo: hello again" &&
					e.Child("urn:xmpp:message-correct:0", "replace") != nil
			})
		})
	}
}
