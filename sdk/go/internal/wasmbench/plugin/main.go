// Command plugin is the benchmark plugin of package wasmbench: the smallest plugin that does
// what every plugin does on its hot path. A text is reported sent and echoed (one event in, two
// host calls out), a chat state is only decoded, a bridge event is handed over raw.
package main

import (
	"encoding/json"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

func init() { gateway.Register(plugin{}) }

func main() {}

type plugin struct{}

func (plugin) Init(gateway.Config) (abi.InitReply, error) { return abi.InitReply{Name: "Bench"}, nil }

func (plugin) NewSession(s *gateway.Session) gateway.SessionHandler { return &session{s: s} }

type session struct {
	gateway.BaseSession
	s *gateway.Session
	n int
}

func (x *session) OnLogin(abi.Values) (string, error) { return "bench", nil }

func (x *session) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	if err := x.s.MessageSent(m.ID, m.ID); err != nil {
		return "", err
	}
	return "", c.Text(m.ID, m.Text)
}

func (x *session) OnChatState(*gateway.Contact, abi.State) error { return nil }

func (x *session) OnBridgeEvent(bridge string, ev json.RawMessage) error {
	x.n += len(ev)
	return nil
}
