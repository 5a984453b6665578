package gatewayiq_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/gatewayiq"
)

func Example() {
	fmt.Println(gatewayiq.Prompt("Please enter the e-mail address of the person you would like to contact.", "E-mail address"))
	fmt.Println(gatewayiq.JID(`juliet\40capulet.com@smtp.example.org`))
	// Output:
	// <query xmlns="jabber:iq:gateway"><desc>Please enter the e-mail address of the person you would like to contact.</desc><prompt>E-mail address</prompt></query>
	// <query xmlns="jabber:iq:gateway"><jid>juliet\40capulet.com@smtp.example.org</jid></query>
}
