package register

import (
	"errors"
	"reflect"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestParseRequest(t *testing.T) {
	tests := []struct {
		name string
		xml  string
		want Request
	}{
		{"remove", `<query xmlns='jabber:iq:register'><remove/></query>`, Request{Remove: true}},
		{"remove with legacy fields", `<query xmlns='jabber:iq:register'><remove/><username>bill</username></query>`, Request{Remove: true}},
		{"legacy fields (XEP-0077 example 4)",
			`<query xmlns='jabber:iq:register'><username>bill</username><password>Calliope</password><email>bard@shakespeare.lit</email></query>`,
			Request{Values: map[string]string{"username": "bill", "password": "Calliope", "email": "bard@shakespeare.lit"}}},
		{"submitted form (XEP-0077 example 9)", `<query xmlns='jabber:iq:register'>
			<x xmlns='jabber:x:data' type='submit'>
			  <field type='hidden' var='FORM_TYPE'><value>jabber:iq:register</value></field>
			  <field type='text-single' var='first'><value>Juliet</value></field>
			  <field type='text-single' var='last'><value>Capulet</value></field>
			  <field type='list-single' var='x-gender'><value>F</value></field>
			</x></query>`,
			Request{Values: map[string]string{"first": "Juliet", "last": "Capulet", "x-gender": "F"}}},
		{"form wins over legacy field", `<query xmlns='jabber:iq:register'><instructions>ignored</instructions><username>legacy</username><phone>+1</phone>
			<x xmlns='jabber:x:data' type='submit'><field var='username'><value>form</value></field></x></query>`,
			Request{Values: map[string]string{"username": "form", "phone": "+1"}}},
		{"empty legacy field", `<query xmlns='jabber:iq:register'><password/></query>`,
			Request{Values: map[string]string{"password": ""}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct{ name, xml string }{
		{"wrong namespace", `<query xmlns='jabber:iq:search'><username>x</username></query>`},
		{"wrong name", `<register xmlns='jabber:iq:register'><username>x</username></register>`},
		{"empty", `<query xmlns='jabber:iq:register'/>`},
		{"instructions only", `<query xmlns='jabber:iq:register'><instructions>x</instructions><registered/></query>`},
		{"unsubmitted form", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='form'/></query>`},
		{"canceled form", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='cancel'/></query>`},
		{"malformed form", `<query xmlns='jabber:iq:register'><x xmlns='jabber:x:data' type='submit'><field/></x></query>`},
		{"foreign children only", `<query xmlns='jabber:iq:register'><username xmlns='urn:other'>x</username></query>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			var se *xmpp.StanzaError
			if !errors.As(err, &se) || se.Condition != "bad-request" {
				t.Fatalf("ParseRequest = %+v, %v; want a bad-request stanza error", r, err)
			}
		})
	}
	if _, err := ParseRequest(nil); err == nil {
		t.Error("ParseRequest(nil) succeeded")
	}
}

// What the gateway asks for comes back as the client fills it in: build the form, answer it
// as a client would, send it over the wire, parse it.
func TestRoundTrip(t *testing.T) {
	asked := &form.Form{Fields: []form.Field{
		{Var: "phone", Label: "Phone", Required: true},
		{Var: "remember", Type: form.Boolean},
	}}
	q := Query("Fill in the form.", false, asked)
	got, err := form.Parse(xmpptest.Parse(t, q.String()).Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	got.Type = form.TypeSubmit
	got.Fields[1].Values = []string{"+33 6"}
	got.Fields[2].Values = []string{"1"}
	set := xmpp.Elem(NS, "query").Add(got.Element())
	r, err := ParseRequest(xmpptest.Parse(t, set.String()))
	if err != nil {
		t.Fatal(err)
	}
	want := Request{Values: map[string]string{"phone": "+33 6", "remember": "1"}}
	if !reflect.DeepEqual(r, want) {
		t.Fatalf("got %+v, want %+v", r, want)
	}
}
