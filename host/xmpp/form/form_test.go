package form

import (
	"errors"
	"reflect"
	"testing"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/xmpptest"
)

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		form Form
	}{
		{"empty form", Form{Type: TypeForm}},
		{"cancel", Form{Type: TypeCancel}},
		{"all field types", Form{
			Type:         TypeForm,
			Title:        "Bot Configuration",
			Instructions: "Fill out this form to configure your new bot!\n\nSecond line & <more>",
			Fields: []Field{
				{Var: FormType, Type: Hidden, Values: []string{"jabber:bot"}},
				{Type: Fixed, Values: []string{"Section 1: Bot Info"}},
				{Var: "botname", Type: TextSingle, Label: "The name of your bot"},
				{Var: "description", Type: TextMulti, Label: "Helpful description of your bot",
					Values: []string{"line one", "", "line 'three'"}},
				{Var: "public", Type: Boolean, Label: "Public bot?", Required: true, Values: []string{"0"}},
				{Var: "password", Type: TextPrivate, Label: "Password for special access", Desc: "Don't tell anyone"},
				{Var: "features", Type: ListMulti, Label: "What features will the bot support?",
					Options: []Option{{"Contests", "contests"}, {"News", "news"}, {"", "polls"}},
					Values:  []string{"news", "search"}},
				{Var: "maxsubs", Type: ListSingle, Label: "Maximum number of subscribers",
					Values: []string{"20"}, Options: []Option{{"10", "10"}, {"20", "20"}}},
				{Var: "invitelist", Type: JIDMulti, Label: "People to invite"},
				{Var: "contact", Type: JIDSingle, Values: []string{`d\27artagnan@gw.example`}},
				{Var: "untyped", Values: []string{"a", "b"}},
				{Var: "empty", Values: []string{""}},
			},
		}},
		{"result table", Form{
			Type:  TypeResult,
			Title: "Search results",
			Fields: []Field{
				{Var: FormType, Type: Hidden, Values: []string{"jabber:iq:search"}},
			},
			Reported: []Field{
				{Var: "first", Label: "Given Name"},
				{Var: "jid", Type: JIDSingle, Label: "JID"},
			},
			Items: [][]Field{
				{{Var: "first", Values: []string{"Benvolio"}}, {Var: "jid", Values: []string{"benvolio@montague.net"}}},
				{{Var: "first", Values: []string{"Romeo"}}, {Var: "jid", Values: []string{"romeo@montague.net"}}},
			},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			wire := string(tc.form.Element().String())
			got, err := Parse(xmpptest.Parse(t, wire))
			if err != nil {
				t.Fatalf("Parse(%s): %v", wire, err)
			}
			if !reflect.DeepEqual(*got, tc.form) {
				t.Fatalf("round trip through %s\n got %#v\nwant %#v", wire, *got, tc.form)
			}
		})
	}
}

func TestZeroTypeIsForm(t *testing.T) {
	if got, want := (&Form{}).Element().String(), `<x xmlns="jabber:x:data" type="form"/>`; got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

// The submission of XEP-0004 example 3, with whitespace as a client might send it.
const xepSubmit = `<x xmlns='jabber:x:data' type='submit'>
  <field type='hidden' var='FORM_TYPE'>
    <value>jabber:bot</value>
  </field>
  <field type='text-single' var='botname'>
    <value>The Jabber Google Bot</value>
  </field>
  <field type='text-multi' var='description'>
    <value>This bot enables you to perform Google searches.</value>
    <value>Come on, just try it!</value>
  </field>
  <field type='boolean' var='public'>
    <value>0</value>
  </field>
  <field type='text-private' var='password'>
    <value>v3r0na</value>
  </field>
  <field type='list-multi' var='features'>
    <value>news</value>
    <value>search</value>
  </field>
  <field type='list-single' var='maxsubs'>
    <value>50</value>
  </field>
  <field var='unknown-and-untyped'><value>x</value><validate xmlns='http://jabber.org/protocol/xdata-validate'/></field>
  <field type='boolean' var='agree'><value>true</value></field>
</x>`

func TestParseXEPSubmit(t *testing.T) {
	f, err := Parse(xmpptest.Parse(t, xepSubmit))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		FormType:              "jabber:bot",
		"botname":             "The Jabber Google Bot",
		"description":         "This bot enables you to perform Google searches.\nCome on, just try it!",
		"public":              "0",
		"password":            "v3r0na",
		"features":            "news\nsearch",
		"maxsubs":             "50",
		"unknown-and-untyped": "x",
		"agree":               "true",
	}
	if got := f.Values(); !reflect.DeepEqual(got, want) {
		t.Errorf("Values() = %q\nwant %q", got, want)
	}
	if f.Type != TypeSubmit || f.Value("maxsubs") != "50" || f.Value("missing") != "" {
		t.Errorf("Type %q, Value(maxsubs) %q, Value(missing) %q", f.Type, f.Value("maxsubs"), f.Value("missing"))
	}
	for name, want := range map[string]bool{"public": false, "agree": true, "missing": false, "botname": false} {
		if got := f.Bool(name); got != want {
			t.Errorf("Bool(%q) = %v, want %v", name, got, want)
		}
	}
	if fd := f.Field("features"); fd == nil || fd.Type != ListMulti || len(fd.Values) != 2 {
		t.Errorf("Field(features) = %+v", fd)
	}
	if f.Field("nope") != nil {
		t.Error("Field(nope) != nil")
	}
}

func TestParseBool(t *testing.T) {
	tests := []struct {
		in      string
		want    bool
		wantErr bool
	}{
		{"1", true, false}, {"true", true, false}, {"0", false, false}, {"false", false, false},
		{"", false, true}, {"TRUE", false, true}, {"yes", false, true}, {" 1", false, true},
	}
	for _, tc := range tests {
		got, err := ParseBool(tc.in)
		if got != tc.want || (err != nil) != tc.wantErr {
			t.Errorf("ParseBool(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct{ name, xml string }{
		{"wrong namespace", `<x xmlns='jabber:x:oob' type='form'/>`},
		{"wrong name", `<form xmlns='jabber:x:data' type='form'/>`},
		{"no type", `<x xmlns='jabber:x:data'/>`},
		{"unknown type", `<x xmlns='jabber:x:data' type='draft'/>`},
		{"field without var", `<x xmlns='jabber:x:data' type='form'><field type='text-single'/></x>`},
		{"untyped field without var", `<x xmlns='jabber:x:data' type='submit'><field><value>x</value></field></x>`},
		{"unknown field type", `<x xmlns='jabber:x:data' type='form'><field var='a' type='text-double'/></x>`},
		{"duplicate var", `<x xmlns='jabber:x:data' type='submit'><field var='a'/><field var='a'/></x>`},
		{"two values in text-single", `<x xmlns='jabber:x:data' type='submit'><field var='a' type='text-single'><value>1</value><value>2</value></field></x>`},
		{"two values in boolean", `<x xmlns='jabber:x:data' type='submit'><field var='a' type='boolean'><value>1</value><value>0</value></field></x>`},
		{"bad boolean", `<x xmlns='jabber:x:data' type='submit'><field var='a' type='boolean'><value>yes</value></field></x>`},
		{"option without value", `<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'><option label='x'/></field></x>`},
		{"option with two values", `<x xmlns='jabber:x:data' type='form'><field var='a' type='list-single'><option><value>1</value><value>2</value></option></field></x>`},
		{"two reported", `<x xmlns='jabber:x:data' type='result'><reported/><reported/></x>`},
		{"bad reported field", `<x xmlns='jabber:x:data' type='result'><reported><field/></reported></x>`},
		{"duplicate var in item", `<x xmlns='jabber:x:data' type='result'><item><field var='a'/><field var='a'/></item></x>`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := Parse(xmpptest.Parse(t, tc.xml))
			var se *xmpp.StanzaError
			if !errors.As(err, &se) || se.Condition != "bad-request" {
				t.Fatalf("Parse = %+v, %v; want a bad-request stanza error", f, err)
			}
		})
	}
	if _, err := Parse(nil); err == nil {
		t.Error("Parse(nil) succeeded")
	}
}

func TestParseLenient(t *testing.T) {
	// Same var in the form and in a table item is fine; an empty boolean value is no value;
	// foreign children are ignored; a fixed field needs no var.
	const s = `<x xmlns='jabber:x:data' type='result'>
	  <field var='a'/><field type='fixed'><value>note</value></field><field type='fixed'/>
	  <field var='b' type='boolean'><value/></field>
	  <media xmlns='urn:xmpp:media-element'/>
	  <reported><field var='a'/></reported><item><field var='a'/></item><item><field var='a'/></item>
	</x>`
	f, err := Parse(xmpptest.Parse(t, s))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Fields) != 4 || len(f.Reported) != 1 || len(f.Items) != 2 {
		t.Fatalf("got %+v", f)
	}
}

func TestWithFormType(t *testing.T) {
	f := &Form{Fields: []Field{{Var: "a"}}}
	g := f.WithFormType("jabber:iq:register")
	if len(f.Fields) != 1 {
		t.Fatal("WithFormType modified its receiver")
	}
	if len(g.Fields) != 2 || g.Fields[0].Type != Hidden || g.Value(FormType) != "jabber:iq:register" || g.Fields[1].Var != "a" {
		t.Fatalf("got %+v", g.Fields)
	}
	if h := g.WithFormType("other"); h != g {
		t.Fatal("WithFormType replaced an existing FORM_TYPE")
	}
}
