package adhoc_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/adhoc"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

func ExampleItems() {
	fmt.Println(adhoc.Items("gw.example.org", []adhoc.Command{
		{Node: "login", Name: "Log in"},
		{Node: "sync", Name: "Synchronise contacts"},
	}))
	fmt.Println(adhoc.Info("login", "Log in"))
	// Output:
	// <query xmlns="http://jabber.org/protocol/disco#items" node="http://jabber.org/protocol/commands"><item jid="gw.example.org" node="login" name="Log in"/><item jid="gw.example.org" node="sync" name="Synchronise contacts"/></query>
	// <query xmlns="http://jabber.org/protocol/disco#info" node="login"><identity category="automation" type="command-node" name="Log in"/><feature var="http://jabber.org/protocol/commands"/><feature var="jabber:x:data"/></query>
}

func ExampleResponse_Element() {
	step := adhoc.Response{
		Node:      "login",
		SessionID: "7MZQ3XGKWJ2D4N5PRVTB6HCAEY",
		Status:    adhoc.StatusExecuting,
		Actions:   []string{adhoc.ActionComplete, adhoc.ActionPrev},
		Notes:     []adhoc.Note{{Type: adhoc.NoteInfo, Text: "A code was sent to your phone."}},
		Form: &form.Form{Fields: []form.Field{
			{Var: "code", Type: form.TextPrivate, Label: "Code", Required: true},
		}},
	}
	fmt.Println(step.Element())
	done := adhoc.Response{Node: "login", SessionID: step.SessionID, Notes: []adhoc.Note{{Text: "Logged in."}}}
	fmt.Println(done.Element())
	// Output:
	// <command xmlns="http://jabber.org/protocol/commands" node="login" sessionid="7MZQ3XGKWJ2D4N5PRVTB6HCAEY" status="executing"><actions execute="complete"><complete/><prev/></actions><note type="info">A code was sent to your phone.</note><x xmlns="jabber:x:data" type="form"><field var="code" type="text-private" label="Code"><required/></field></x></command>
	// <command xmlns="http://jabber.org/protocol/commands" node="login" sessionid="7MZQ3XGKWJ2D4N5PRVTB6HCAEY" status="completed"><note>Logged in.</note></command>
}
