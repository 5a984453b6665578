package adhoc

import (
	"errors"
	"reflect"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want Request
	}{
		{"execute (XEP-0050 example 4)",
			`<command xmlns='http://jabber.org/protocol/commands' node='list' action='execute'/>`,
			Request{Node: "list", Action: ActionExecute}},
		{"default action", `<command xmlns='http://jabber.org/protocol/commands' node='list'/>`,
			Request{Node: "list", Action: ActionExecute}},
		{"execute with session", `<command xmlns='http://jabber.org/protocol/commands' node='config' sessionid='s1'/>`,
			Request{Node: "config", SessionID: "s1", Action: ActionExecute}},
		{"cancel", `<command xmlns='http://jabber.org/protocol/commands' node='config' sessionid='s1' action='cancel'/>`,
			Request{Node: "config", SessionID: "s1", Action: ActionCancel}},
		{"next with form (XEP-0050 example 9)", `<command xmlns='http://jabber.org/protocol/commands'
			sessionid='config:20020923T213616Z-700' node='config'>
			<x xmlns='jabber:x:data' type='submit'>
			  <field var='mode'><value>3</value></field>
			</x></command>`,
			Request{Node: "config", SessionID: "config:20020923T213616Z-700", Action: ActionExecute,
				Form: &form.Form{Type: form.TypeSubmit, Fields: []form.Field{{Var: "mode", Values: []string{"3"}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct {
		name, xml, specific string
	}{
		{"not a command", `<query xmlns='http://jabber.org/protocol/commands' node='x'/>`, ""},
		{"wrong namespace", `<command xmlns='urn:other' node='x'/>`, ""},
		{"no node", `<command xmlns='http://jabber.org/protocol/commands'/>`, ""},
		{"unknown action", `<command xmlns='http://jabber.org/protocol/commands' node='x' action='run'/>`, MalformedAction},
		{"next without session", `<command xmlns='http://jabber.org/protocol/commands' node='x' action='next'/>`, BadSessionID},
		{"cancel without session", `<command xmlns='http://jabber.org/protocol/commands' node='x' action='cancel'/>`, BadSessionID},
		{"bad form", `<command xmlns='http://jabber.org/protocol/commands' node='x'><x xmlns='jabber:x:data' type='nope'/></command>`, BadPayload},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			var ae *Error
			if !errors.As(err, &ae) || ae.Specific != tc.specific || ae.Stanza.Condition != "bad-request" {
				t.Fatalf("ParseRequest = %+v, %v; want bad-request with %q", r, err, tc.specific)
			}
		})
	}
	if _, err := ParseRequest(nil); err == nil {
		t.Error("ParseRequest(nil) succeeded")
	}
}

func TestRequestRoundTrip(t *testing.T) {
	tests := []Request{
		{Node: "login", Action: ActionExecute},
		{Node: "login", SessionID: NewID(), Action: ActionPrev},
		{Node: "login", SessionID: "s", Action: ActionComplete,
			Form: &form.Form{Type: form.TypeSubmit, Fields: []form.Field{{Var: "code", Values: []string{"12345"}}}}},
	}
	for _, want := range tests {
		got, err := ParseRequest(xmpptest.Parse(t, want.Element().String()))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v = %+v, %v", want, got, err)
		}
	}
}

func TestResponseRoundTrip(t *testing.T) {
	tests := []Response{
		{Node: "list", Status: StatusCompleted, Notes: []Note{{Text: "Done."}}},
		{Node: "list", Status: StatusCanceled},
		{Node: "login", SessionID: "abc", Status: StatusExecuting,
			Actions: []string{ActionComplete, ActionPrev},
			Notes:   []Note{{NoteWarn, "Code expires in 5 minutes"}, {NoteError, "Wrong code & <retry>"}},
			Form:    &form.Form{Type: form.TypeForm, Title: "Code", Fields: []form.Field{{Var: "code", Type: form.TextPrivate, Required: true}}}},
		{Node: "login", SessionID: "abc", Status: StatusExecuting, Actions: []string{ActionNext}},
		{Node: "login", SessionID: "abc", Status: StatusExecuting},
	}
	for _, want := range tests {
		got, err := ParseResponse(xmpptest.Parse(t, want.Element().String()))
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %+v = %+v, %v", want, got, err)
		}
	}
}

func TestResponseDefaults(t *testing.T) {
	// No status means completed; actions are dropped unless executing.
	got := Response{Node: "n", Actions: []string{ActionNext}}.Element().String()
	want := `<command xmlns="http://jabber.org/protocol/commands" node="n" status="completed"/>`
	if got != want {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func TestParseResponse(t *testing.T) {
	// XEP-0050 example 6: default action not first among the children.
	const s = `<command xmlns='http://jabber.org/protocol/commands' sessionid='config:20020923T213616Z-700'
	  node='config' status='executing'>
	  <actions execute='next'><prev/><next/></actions>
	  <x xmlns='jabber:x:data' type='form'><title>Configure Service</title></x>
	</command>`
	r, err := ParseResponse(xmpptest.Parse(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r.Actions, []string{ActionNext, ActionPrev}) || r.Form == nil || r.Form.Title != "Configure Service" {
		t.Fatalf("got %+v", r)
	}
	bad := []string{
		`<command xmlns='http://jabber.org/protocol/commands' node='x'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' status='completed'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='x' status='done'/>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='x' status='executing'><actions><execute/></actions></command>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='x' status='executing'><actions execute='complete'><next/></actions></command>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='x' status='completed'><note type='fatal'>x</note></command>`,
		`<command xmlns='http://jabber.org/protocol/commands' node='x' status='completed'><x xmlns='jabber:x:data'/></command>`,
		`<x xmlns='jabber:x:data' type='form'/>`,
	}
	for _, s := range bad {
		if r, err := ParseResponse(xmpptest.Parse(t, s)); err == nil {
			t.Errorf("ParseResponse(%s) = %+v, want error", s, r)
		}
	}
	if _, err := ParseResponse(nil); err == nil {
		t.Error("ParseResponse(nil) succeeded")
	}
}

func TestErrorReply(t *testing.T) {
	iq := xmpptest.Parse(t, `<iq type='set' id='i1' from='romeo@montague.net/orchard' to='gw.example'><command xmlns='http://jabber.org/protocol/commands' node='x' sessionid='old' action='next'/></iq>`)
	tests := []struct {
		err  *Error
		want string
	}{
		{NewError(SessionExpired, "Too late."),
			`<iq type="error" id="i1" from="gw.example" to="romeo@montague.net/orchard"><error type="cancel"><not-allowed xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">Too late.</text><session-expired xmlns="http://jabber.org/protocol/commands"/></error></iq>`},
		{NewError(BadSessionID, ""),
			`<iq type="error" id="i1" from="gw.example" to="romeo@montague.net/orchard"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><bad-sessionid xmlns="http://jabber.org/protocol/commands"/></error></iq>`},
		{NewError("", "no node"),
			`<iq type="error" id="i1" from="gw.example" to="romeo@montague.net/orchard"><error type="modify"><bad-request xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/><text xmlns="urn:ietf:params:xml:ns:xmpp-stanzas" xml:lang="en">no node</text></error></iq>`},
	}
	for _, tc := range tests {
		if got := tc.err.Reply(iq).String(); got != tc.want {
			t.Errorf("%v:\n got  %s\nwant %s", tc.err, got, tc.want)
		}
	}
	if got, want := NewError(BadAction, "x").Error(), "adhoc: bad-action: bad-request: x"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}
