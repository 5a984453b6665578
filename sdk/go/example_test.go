package gateway_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

// shout is a tiny network whose contacts answer in capitals, through a (fake) bridge.
type shout struct{}

func (shout) Init(cfg gateway.Config) (abi.InitReply, error) {
	return abi.InitReply{Name: "Shout", Registration: abi.Form{Fields: []abi.Field{{Var: "nick", Required: true}}}}, nil
}

func (shout) NewSession(s *gateway.Session) gateway.SessionHandler { return &shoutSession{s: s} }

type shoutSession struct {
	gateway.BaseSession
	s *gateway.Session
}

func (x *shoutSession) OnLogin(reg abi.Values) (string, error) {
	return "shouting as " + reg["nick"], nil
}

func (x *shoutSession) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	req, _ := json.Marshal(map[string]string{"@type": "upper", "text": m.Text})
	err := x.s.Bridge("shout").Call(json.RawMessage(req), func(resp json.RawMessage, err error) {
		var r struct{ Text string }
		if err == nil {
			err = json.Unmarshal(resp, &r)
		}
		if err != nil {
			x.s.Logf(abi.LogWarn, "shout: %v", err)
			return
		}
		c.Text("r-"+m.ID, r.Text)
	})
	return "s-" + m.ID, err // the message is sent; the answer comes later
}

// Example runs a plugin under the fake host of package sdktest, as its unit tests would.
func Example() {
	h := sdktest.New(&testing.T{}, shout{}) // in a test: sdktest.New(t, shout{})
	s := h.Session("romeo@example.org")
	s.Login(abi.Values{"nick": "romeo"})
	fmt.Println(s.Status)

	res := s.Text("juliet", abi.Text{ID: "m1", Text: "hello"})
	fmt.Println(res.Calls[0].Method, res.Calls[1].Method, res.Calls[1].Req.(*abi.MessageSent).LegacyID)

	// The test plays the bridge: it answers the call.
	call := s.Bridges()[0]
	var req struct{ Text string }
	json.Unmarshal(call.Request, &req)
	res = s.RespondBridge(call.Token, map[string]string{"text": strings.ToUpper(req.Text)})
	fmt.Println(res.Calls[0])
	// Output:
	// shouting as romeo
	// bridge.call message.sent s-m1
	// contact.text {"legacy_id":"juliet","id":"r-m1","text":"HELLO"}
}
