package search_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/search"
)

func ExampleQuery() {
	f := &form.Form{Fields: []form.Field{{Var: "phone", Label: "Phone number"}}}
	fmt.Println(search.Query("Find a contact by phone number.", f))
	// Output:
	// <query xmlns="jabber:iq:search"><instructions>Find a contact by phone number.</instructions><x xmlns="jabber:x:data" type="form"><field var="FORM_TYPE" type="hidden"><value>jabber:iq:search</value></field><field var="phone" label="Phone number"/></x></query>
}

func ExampleResult() {
	reported := []form.Field{{Var: "jid", Type: form.JIDSingle, Label: "JID"}, {Var: "name", Label: "Name"}}
	fmt.Println(search.Result(reported, []map[string]string{{"jid": "33612345678@gw.example.org", "name": "Juliet"}}))
	// Output:
	// <query xmlns="jabber:iq:search"><x xmlns="jabber:x:data" type="result"><field var="FORM_TYPE" type="hidden"><value>jabber:iq:search</value></field><reported><field var="jid" type="jid-single" label="JID"/><field var="name" label="Name"/></reported><item><field var="jid"><value>33612345678@gw.example.org</value></field><field var="name"><value>Juliet</value></field></item></x></query>
}
