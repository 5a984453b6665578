package daemon_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/adhoc"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/gatewayiq"
	"github.com/xmppgw/gateway/host/xmpp/search"
)

// runCommand sends one ad-hoc command request to the gateway and returns the IQ answer and, for
// a result, its parsed <command/>.
func runCommand(t *testing.T, c *prosodytest.Client, req adhoc.Request) (*xmpp.Element, adhoc.Response) {
	t.Helper()
	r, err := c.IQ(ctxT(t), "set", gwJID, req.Element())
	if err != nil {
		t.Fatalf("command %s: %v", req.Node, err)
	}
	if r.Get("type") != "result" {
		return r, adhoc.Response{}
	}
	resp, err := adhoc.ParseResponse(r.Child(adhoc.NS, "command"))
	if err != nil {
		t.Fatalf("command %s: %v in %s", req.Node, err, r)
	}
	return r, resp
}

// commandResult runs a command step that must succeed.
func commandResult(t *testing.T, c *prosodytest.Client, req adhoc.Request) adhoc.Response {
	t.Helper()
	r, resp := runCommand(t, c, req)
	if r.Get("type") != "result" {
		t.Fatalf("command %s (%s): %s", req.Node, req.Action, r)
	}
	return resp
}

// listCommands returns the nodes of the gateway's commands as disco#items lists them.
func listCommands(t *testing.T, c *prosodytest.Client) []string {
	t.Helper()
	r, err := c.IQ(ctxT(t), "get", gwJID, xmpp.Elem(disco.NSItems, "query", "node", adhoc.NS))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("command list: %v %v", r, err)
	}
	var nodes []string
	for _, it := range r.Child(disco.NSItems, "query").Children {
		if it.Get("jid") != gwJID {
			t.Errorf("command item with jid %q: %s", it.Get("jid"), it)
		}
		nodes = append(nodes, it.Get("node"))
	}
	return nodes
}

// stanzaCondition returns the defined condition of an error stanza, or "".
func stanzaCondition(e *xmpp.Element) string {
	if e.Get("type") != "error" {
		return ""
	}
	if el := e.Child("jabber:client", "error"); el != nil {
		for _, c := range el.Children {
			if c.Name.Space == xmpp.NSStanzas && c.Name.Local != "text" {
				return c.Name.Local
			}
		}
	}
	return ""
}

func noteText(r adhoc.Response) string {
	var s []string
	for _, n := range r.Notes {
		s = append(s, n.Type+": "+n.Text)
	}
	return strings.Join(s, "\n")
}

// gatewayPresence waits for the gateway's presence with status text status and show show ("" for
// available).
func gatewayPresence(t *testing.T, c *prosodytest.Client, show, status string) {
	t.Helper()
	waitFor(t, c, "gateway presence "+show+" "+status, func(e *xmpp.Element) bool {
		if e.Name.Local != "presence" || xmpp.Bare(e.Get("from")) != gwJID || e.Get("type") != "" {
			return false
		}
		sh, st := e.Child("jabber:client", "show"), e.Child("jabber:client", "status")
		return (show == "" && sh == nil || sh != nil && sh.Text == show) && st != nil && st.Text == status
	})
}

func submit(fields ...form.Field) *form.Form {
	return &form.Form{Type: form.TypeSubmit, Fields: fields}
}

func TestAdhocRegisterStatusReloginUnregister(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, ""))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)

	// The gateway advertises the commands, the prompt and search.
	r, _ := alice.IQ(ctx, "get", gwJID, xmpp.Elem(disco.NSInfo, "query"))
	for _, ns := range []string{adhoc.NS, gatewayiq.NS, search.NS, "jabber:iq:register"} {
		if !strings.Contains(r.String(), `"`+ns+`"`) {
			t.Errorf("disco lacks %s: %s", ns, r)
		}
	}
	// Before registration, register is the only command.
	if got := listCommands(t, alice); !slices.Equal(got, []string{"register"}) {
		t.Fatalf("commands before registration: %v", got)
	}
	r, _ = alice.IQ(ctx, "get", gwJID, xmpp.Elem(disco.NSInfo, "query", "node", "register"))
	if id := r.Child(disco.NSInfo, "query").Child(disco.NSInfo, "identity"); id == nil ||
		id.Get("category") != "automation" || id.Get("type") != "command-node" || id.Get("name") != "Register" {
		t.Fatalf("disco#info of the register node: %s", r)
	}
	// The other commands need a registration.
	if r, _ := runCommand(t, alice, adhoc.Request{Node: "status"}); stanzaCondition(r) != "registration-required" {
		t.Fatalf("status before registration: %s", r)
	}

	// Step 1: the registration form.
	step := commandResult(t, alice, adhoc.Request{Node: "register"})
	if step.Status != adhoc.StatusExecuting || step.SessionID == "" || !slices.Equal(step.Actions, []string{adhoc.ActionComplete}) ||
		step.Form == nil || step.Form.Field("name") == nil {
		t.Fatalf("register step 1: %+v", step)
	}
	// A refused name shows the plugin's reason and the form again, in the same session.
	again := commandResult(t, alice, adhoc.Request{Node: "register", SessionID: step.SessionID, Action: adhoc.ActionComplete,
		Form: submit(form.Field{Var: "name", Values: []string{strings.Repeat("x", 65)}})})
	if again.Status != adhoc.StatusExecuting || again.SessionID != step.SessionID || again.Form == nil ||
		len(again.Notes) != 1 || again.Notes[0].Type != adhoc.NoteError || !strings.Contains(again.Notes[0].Text, "too long") {
		t.Fatalf("refused registration: %+v", again)
	}
	// Another resource cannot continue alice's session, and a made-up session id is refused.
	other := srv.NewClient(t, "alice")
	if other.JID == alice.JID {
		t.Fatalf("second client has the same JID %s", other.JID)
	}
	for _, c := range []struct {
		client *prosodytest.Client
		id     string
	}{{other, step.SessionID}, {alice, "NOSUCHSESSION"}} {
		r, _ := runCommand(t, c.client, adhoc.Request{Node: "register", SessionID: c.id, Action: adhoc.ActionComplete,
			Form: submit(form.Field{Var: "name", Values: []string{"Alice"}})})
		if stanzaCondition(r) != "bad-request" || r.Child("jabber:client", "error").Child(adhoc.NS, adhoc.BadSessionID) == nil {
			t.Fatalf("bad session id from %s: %s", c.client.JID, r)
		}
	}
	done := commandResult(t, alice, adhoc.Request{Node: "register", SessionID: step.SessionID, Action: adhoc.ActionComplete,
		Form: submit(form.Field{Var: "name", Values: []string{"Alice"}})})
	if done.Status != adhoc.StatusCompleted ||
		noteText(done) != "info: Registered. Logging in: answer the gateway's questions in the chat with it." {
		t.Fatalf("registration: %+v", done)
	}
	// The session is over.
	if r, _ := runCommand(t, alice, adhoc.Request{Node: "register", SessionID: step.SessionID, Action: adhoc.ActionComplete,
		Form: submit(form.Field{Var: "name", Values: []string{"Alice"}})}); r.Child("jabber:client", "error").Child(adhoc.NS, adhoc.BadSessionID) == nil {
		t.Fatalf("completed session reused: %s", r)
	}
	gatewayPresence(t, alice, "", "Echo network: logged in as Alice")

	// Registered: the other commands.
	if got := listCommands(t, alice); !slices.Equal(got, []string{"unregister", "re-login", "status"}) {
		t.Fatalf("commands after registration: %v", got)
	}
	if r, _ := runCommand(t, alice, adhoc.Request{Node: "no-such-command"}); stanzaCondition(r) != "item-not-found" {
		t.Fatalf("unknown command: %s", r)
	}
	st := commandResult(t, alice, adhoc.Request{Node: "status"})
	if st.Status != adhoc.StatusCompleted || !strings.Contains(noteText(st), "connected") ||
		!strings.Contains(noteText(st), "Echo network: logged in as Alice") {
		t.Fatalf("status: %+v", st)
	}

	// Re-login: the gateway goes to Logging in and back to connected.
	rl := commandResult(t, alice, adhoc.Request{Node: "re-login"})
	if rl.Status != adhoc.StatusCompleted || len(rl.Notes) == 0 {
		t.Fatalf("re-login: %+v", rl)
	}
	gatewayPresence(t, alice, "dnd", "Logging in…")
	gatewayPresence(t, alice, "", "Echo network: logged in as Alice")

	// Unregister: a confirmation form; cancel changes nothing.
	un := commandResult(t, alice, adhoc.Request{Node: "unregister"})
	if un.Status != adhoc.StatusExecuting || un.Form == nil || un.Form.Field("confirm") == nil || un.Form.Field("confirm").Type != form.Boolean {
		t.Fatalf("unregister step 1: %+v", un)
	}
	if c := commandResult(t, alice, adhoc.Request{Node: "unregister", SessionID: un.SessionID, Action: adhoc.ActionCancel}); c.Status != adhoc.StatusCanceled {
		t.Fatalf("cancel: %+v", c)
	}
	if got := listCommands(t, alice); !slices.Contains(got, "unregister") {
		t.Fatalf("still registered after cancel: %v", got)
	}
	un = commandResult(t, alice, adhoc.Request{Node: "unregister"})
	fin := commandResult(t, alice, adhoc.Request{Node: "unregister", SessionID: un.SessionID, Action: adhoc.ActionComplete,
		Form: submit(form.Field{Var: "confirm", Values: []string{"1"}})})
	if fin.Status != adhoc.StatusCompleted || len(fin.Notes) != 1 || fin.Notes[0].Type != adhoc.NoteInfo {
		t.Fatalf("unregister: %+v", fin)
	}
	assertUserGone(t, d, "alice@localhost")
	if got := listCommands(t, alice); !slices.Equal(got, []string{"register"}) {
		t.Fatalf("commands after unregistering: %v", got)
	}
}

func TestGatewayPromptAndSearch(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, ""))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)

	// XEP-0100 get: the prompt.
	r, err := alice.IQ(ctx, "get", gwJID, xmpp.Elem(gatewayiq.NS, "query"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("gateway prompt get: %v %v", r, err)
	}
	q := r.Child(gatewayiq.NS, "query")
	if p := q.Child(gatewayiq.NS, "prompt"); p == nil || p.Text != "Contact" {
		t.Fatalf("prompt: %s", r)
	}
	if d := q.Child(gatewayiq.NS, "desc"); d == nil || d.Text != "Enter the Echo user name or phone number of the person" {
		t.Fatalf("prompt desc: %s", r)
	}
	// Resolving and searching need a registration.
	prompt := func(text string) *xmpp.Element {
		r, err := alice.IQ(ctx, "set", gwJID, xmpp.Elem(gatewayiq.NS, "query").Add(xmpp.Elem(gatewayiq.NS, "prompt").WithText(text)))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	find := func(text string) *xmpp.Element {
		r, err := alice.IQ(ctx, "set", gwJID, xmpp.Elem(search.NS, "query").Add(
			submit(form.Field{Var: "FORM_TYPE", Type: form.Hidden, Values: []string{search.NS}},
				form.Field{Var: "query", Values: []string{text}}).Element()))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := prompt("eve"); stanzaCondition(r) != "registration-required" {
		t.Fatalf("prompt before registration: %s", r)
	}
	if r := find("eve"); stanzaCondition(r) != "registration-required" {
		t.Fatalf("search before registration: %s", r)
	}

	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	gatewayPresence(t, alice, "", "Echo network: logged in as Alice")

	// XEP-0100 set: the contact's JID, or item-not-found with the network's reason.
	r = prompt(" eve ")
	if j := r.Child(gatewayiq.NS, "query").Child(gatewayiq.NS, "jid"); r.Get("type") != "result" || j == nil || j.Text != "eve@"+gwJID {
		t.Fatalf("prompt eve: %s", r)
	}
	r = prompt("nobody")
	if stanzaCondition(r) != "item-not-found" || !strings.Contains(r.String(), "no such echo user") {
		t.Fatalf("prompt nobody: %s", r)
	}

	// XEP-0055 get: one text field.
	r, err = alice.IQ(ctx, "get", gwJID, xmpp.Elem(search.NS, "query"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("search get: %v %v", r, err)
	}
	f, err := form.Parse(r.Child(search.NS, "query").Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if fd := f.Field("query"); fd == nil || fd.Label != "Phone number or user name" || (fd.Type != "" && fd.Type != form.TextSingle) {
		t.Fatalf("search form: %s", r)
	}
	// XEP-0055 set: a result table with the contact's JID and name.
	r = find("Dora Away")
	if r.Get("type") != "result" {
		t.Fatalf("search Dora Away: %s", r)
	}
	res, err := form.Parse(r.Child(search.NS, "query").Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	if res.Type != form.TypeResult || len(res.Reported) != 2 || len(res.Items) != 1 {
		t.Fatalf("search result: %s", r)
	}
	row := (&form.Form{Fields: res.Items[0]}).Values()
	if row["jid"] != "dora@"+gwJID || row["name"] != "Dora Away" {
		t.Fatalf("search row: %v in %s", row, r)
	}
	// Nothing found: an empty table, with the network's reason.
	r = find("nobody")
	res, err = form.Parse(r.Child(search.NS, "query").Child(form.NS, "x"))
	if err != nil || r.Get("type") != "result" || len(res.Items) != 0 || !strings.Contains(res.Instructions, "no such echo user") {
		t.Fatalf("search nobody: %v %s", err, r)
	}
}

func TestGatewayIQsForbiddenForOtherDomains(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, echoGateway(t, srv.Components[0].Secret, `allow_domains = ["example.org"]`+"\n"))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)

	for _, iq := range []struct {
		typ     string
		payload *xmpp.Element
	}{
		{"get", xmpp.Elem(disco.NSItems, "query", "node", adhoc.NS)},
		{"get", xmpp.Elem(disco.NSInfo, "query", "node", "register")},
		{"set", adhoc.Request{Node: "register", Action: adhoc.ActionExecute}.Element()},
		{"set", adhoc.Request{Node: "status", Action: adhoc.ActionExecute}.Element()},
		{"get", xmpp.Elem(gatewayiq.NS, "query")},
		{"set", xmpp.Elem(gatewayiq.NS, "query").Add(xmpp.Elem(gatewayiq.NS, "prompt").WithText("eve"))},
		{"get", xmpp.Elem(search.NS, "query")},
		{"set", xmpp.Elem(search.NS, "query").Add(submit(form.Field{Var: "query", Values: []string{"eve"}}).Element())},
	} {
		r, err := alice.IQ(ctx, iq.typ, gwJID, iq.payload)
		if err != nil {
			t.Fatal(err)
		}
		if stanzaCondition(r) != "forbidden" {
			t.Errorf("%s %s: %s", iq.typ, iq.payload, r)
		}
	}
}
