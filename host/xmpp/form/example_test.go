package form_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/form"
)

func ExampleForm_Element() {
	f := form.Form{
		Type:         form.TypeForm,
		Title:        "Log in",
		Instructions: "Enter your phone number.\nA code will be sent to it.",
		Fields: []form.Field{
			{Var: "phone", Label: "Phone number", Required: true},
			{Var: "remember", Type: form.Boolean, Label: "Stay logged in", Values: []string{"1"}},
			{Var: "lang", Type: form.ListSingle, Label: "Language", Values: []string{"en"},
				Options: []form.Option{{Label: "English", Value: "en"}, {Label: "Français", Value: "fr"}}},
		},
	}
	fmt.Println(f.Element())
	// Output:
	// <x xmlns="jabber:x:data" type="form"><title>Log in</title><instructions>Enter your phone number.</instructions><instructions>A code will be sent to it.</instructions><field var="phone" label="Phone number"><required/></field><field var="remember" type="boolean" label="Stay logged in"><value>1</value></field><field var="lang" type="list-single" label="Language"><value>en</value><option label="English"><value>en</value></option><option label="Français"><value>fr</value></option></field></x>
}

func ExampleForm_Element_result() {
	f := form.Form{
		Type:     form.TypeResult,
		Reported: []form.Field{{Var: "jid", Type: form.JIDSingle, Label: "JID"}},
		Items:    [][]form.Field{{{Var: "jid", Values: []string{"romeo@montague.net"}}}},
	}
	fmt.Println(f.Element())
	// Output:
	// <x xmlns="jabber:x:data" type="result"><reported><field var="jid" type="jid-single" label="JID"/></reported><item><field var="jid"><value>romeo@montague.net</value></field></item></x>
}
