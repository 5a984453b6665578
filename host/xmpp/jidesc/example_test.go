package jidesc_test

import (
	"fmt"

	"github.com/xmppgw/gateway/host/xmpp/jidesc"
)

func Example() {
	local, err := jidesc.Escape(`c:\cool stuff`)
	fmt.Println(local+"@gw.example.org", err)

	legacy, err := jidesc.Unescape(`here\27s_a_wild_\26_\2fcr%zy\2f_address`)
	fmt.Println(legacy, err)

	_, err = jidesc.Escape(" space cadet")
	fmt.Println(err)
	// Output:
	// c\3a\cool\20stuff@gw.example.org <nil>
	// here's_a_wild_&_/cr%zy/_address <nil>
	// jidesc: local part begins or ends with a space
}
