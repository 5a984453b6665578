package search

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
		want map[string]string
	}{
		{"legacy (XEP-0055 example 3)", `<query xmlns='jabber:iq:search'><last>Capulet</last></query>`,
			map[string]string{"last": "Capulet"}},
		{"form (XEP-0055 example 8)", `<query xmlns='jabber:iq:search'>
			<x xmlns='jabber:x:data' type='submit'>
			  <field type='hidden' var='FORM_TYPE'><value>jabber:iq:search</value></field>
			  <field var='x-gender'><value>male</value></field>
			</x></query>`,
			map[string]string{"x-gender": "male"}},
		{"both", `<query xmlns='jabber:iq:search'><nick>legacy</nick><first>Romeo</first><x xmlns='jabber:x:data' type='submit'><field var='nick'><value>form</value></field></x></query>`,
			map[string]string{"nick": "form", "first": "Romeo"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, %v; want %v", got, err, tc.want)
			}
		})
	}
}

func TestParseRequestErrors(t *testing.T) {
	tests := []struct{ name, xml string }{
		{"wrong namespace", `<query xmlns='jabber:iq:register'><first>x</first></query>`},
		{"empty", `<query xmlns='jabber:iq:search'/>`},
		{"instructions only", `<query xmlns='jabber:iq:search'><instructions>x</instructions></query>`},
		{"form not submitted", `<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='form'/></query>`},
		{"malformed form", `<query xmlns='jabber:iq:search'><x xmlns='jabber:x:data' type='submit'><field type='bogus' var='a'/></x></query>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseRequest(xmpptest.Parse(t, tc.xml))
			var se *xmpp.StanzaError
			if !errors.As(err, &se) || se.Condition != "bad-request" {
				t.Fatalf("ParseRequest = %v, %v; want a bad-request stanza error", got, err)
			}
		})
	}
	if _, err := ParseRequest(nil); err == nil {
		t.Error("ParseRequest(nil) succeeded")
	}
}

func TestResultRoundTrip(t *testing.T) {
	reported := []form.Field{
		{Var: "jid", Type: form.JIDSingle, Label: "JID", Values: []string{"dropped"}, Required: true},
		{Var: "name", Label: "Name"},
	}
	items := []map[string]string{
		{"jid": "romeo@gw.example", "name": "Romeo", "extra": "dropped"},
		{"jid": "juliet@gw.example"},
	}
	e := Result(reported, items)
	f, err := form.Parse(xmpptest.Parse(t, e.String()).Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	want := &form.Form{
		Type:   form.TypeResult,
		Fields: []form.Field{{Var: form.FormType, Type: form.Hidden, Values: []string{NS}}},
		Reported: []form.Field{
			{Var: "jid", Type: form.JIDSingle, Label: "JID"},
			{Var: "name", Label: "Name"},
		},
		Items: [][]form.Field{
			{{Var: "jid", Values: []string{"romeo@gw.example"}}, {Var: "name", Values: []string{"Romeo"}}},
			{{Var: "jid", Values: []string{"juliet@gw.example"}}, {Var: "name", Values: []string{""}}},
		},
	}
	if !reflect.DeepEqual(f, want) {
		t.Fatalf("got  %+v\nwant %+v", f, want)
	}
}

func TestQueryRoundTrip(t *testing.T) {
	asked := &form.Form{Fields: []form.Field{{Var: "name", Label: "Name"}}}
	got, err := form.Parse(xmpptest.Parse(t, Query("Find a contact.", asked).String()).Child(form.NS, "x"))
	if err != nil {
		t.Fatal(err)
	}
	got.Type = form.TypeSubmit
	got.Fields[1].Values = []string{"Juliet"}
	v, err := ParseRequest(xmpptest.Parse(t, xmpp.Elem(NS, "query").Add(got.Element()).String()))
	if err != nil || !reflect.DeepEqual(v, map[string]string{"name": "Juliet"}) {
		t.Fatalf("got %v, %v", v, err)
	}
}
