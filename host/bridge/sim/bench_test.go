package sim

import (
	"bytes"
	"context"
	"testing"

	"github.com/xmppgw/gateway/host/bridge"
)

// BenchmarkPlainEchoRoundTrip: a text to Plain Echo and its answer, through the bridge
// interface (sendMessage, its answer, updateMessageSendSucceeded, the echo's updateNewMessage).
// It measures the simulated network's own cost, which the gateway's benchmarks report apart.
func BenchmarkPlainEchoRoundTrip(b *testing.B) {
	be := newTestBackend(b, testWorld)
	c := login(b, be, b.TempDir(), "+15550000001", "")
	c.call(`{"@type":"createPrivateChat","user_id":1005}`)
	c.sync()
	req, _ := bridge.WithExtra([]byte(sendText(1005, "ping")), `"b"`)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := c.c.Send(req); err != nil {
			b.Fatal(err)
		}
		for n := 0; n < 4; n++ { // updateNewMessage, answer, succeeded, echo
			<-c.c.Updates()
		}
	}
}

// BenchmarkLogin: a whole login and getContacts of a bulk account with 200 contacts.
func BenchmarkLoginBulk(b *testing.B) {
	be := newTestBackend(b, testWorld+`
[[bulk]]
accounts = 1
phone_from = "+16660000000"
code = "1"
me_id_from = 5000000
contacts = 200
contact_id_from = 6000000
`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		cl, err := be.Open(context.Background(), bridge.Session{User: "u", DataDir: b.TempDir(), Key: []byte("k")})
		if err != nil {
			b.Fatal(err)
		}
		for _, req := range []string{
			`{"@type":"setTdlibParameters","@extra":"x"}`,
			`{"@type":"setAuthenticationPhoneNumber","phone_number":"+16660000000","@extra":"x"}`,
			`{"@type":"checkAuthenticationCode","code":"1","@extra":"x"}`,
			`{"@type":"getContacts","@extra":"x"}`,
		} {
			cl.Send([]byte(req))
			for msg := range cl.Updates() {
				if bytes.HasSuffix(msg, []byte(`"@extra":"x"}`)) {
					break
				}
			}
		}
		cl.Close()
	}
}
