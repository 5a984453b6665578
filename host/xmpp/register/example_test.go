package register_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/form"
	"github.com/xmppgw/gateway/host/xmpp/register"
)

func ExampleQuery() {
	f := &form.Form{
		Title: "Telegram login",
		Fields: []form.Field{
			{Var: "phone", Label: "Phone number", Required: true, Values: []string{"+33612345678"}},
		},
	}
	fmt.Println(register.Query("Use a client that supports data forms.", true, f))
	// Output:
	// <query xmlns="jabber:iq:register"><registered/><instructions>Use a client that supports data forms.</instructions><x xmlns="jabber:x:data" type="form"><title>Telegram login</title><field var="FORM_TYPE" type="hidden"><value>jabber:iq:register</value></field><field var="phone" label="Phone number"><required/><value>+33612345678</value></field></x></query>
}
