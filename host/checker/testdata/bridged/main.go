// Command bridged is a test plugin of the checker shaped like a bridge-based network (TDLib):
// everything goes through bridge "tdlib", login asks for a code, and a timer settles the login.
// Its fixture is ../bridged.toml.
package main

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

func init() { gateway.Register(plugin{}) }

func main() {}

type plugin struct{}

func (plugin) Init(gateway.Config) (abi.InitReply, error) {
	return abi.InitReply{
		Name: "Bridged",
		Registration: abi.Form{Fields: []abi.Field{
			{Var: "phone", Label: "Phone number", Required: true},
			{Var: "device", Label: "Device name", Value: "checker-device"},
		}},
	}, nil
}

func (plugin) NewSession(s *gateway.Session) gateway.SessionHandler { return &session{s: s} }

type session struct {
	gateway.BaseSession
	s     *gateway.Session
	phone string
}

func (x *session) tdlib() gateway.Bridge { return x.s.Bridge("tdlib") }

func (x *session) OnValidate(_ string, v abi.Values) error {
	if !strings.HasPrefix(v["phone"], "+") {
		return errors.New("not an international phone number")
	}
	return nil
}

func (x *session) OnLogin(reg abi.Values) (string, error) {
	x.phone = reg["phone"]
	err := x.tdlib().Call(map[string]any{"@type": "setAuthenticationPhoneNumber", "phone_number": x.phone},
		func(_ json.RawMessage, err error) {
			if err != nil {
				_ = x.s.LoginFailed(err.Error())
				return
			}
			_ = x.s.Prompt("code", "Enter the code Telegram sent you.", false)
		})
	return "", errors.Join(err, gateway.ErrLater)
}

func (x *session) OnInput(prompt, text string) error {
	if prompt != "code" {
		return nil
	}
	return x.tdlib().Call(map[string]any{"@type": "checkAuthenticationCode", "code": text},
		func(_ json.RawMessage, err error) {
			if err != nil {
				_ = x.s.LoginFailed(err.Error())
				return
			}
			_ = x.s.After(2*time.Second, "settle", func() { _ = x.s.LoggedIn("Logged in as " + x.phone) })
		})
}

func (x *session) OnFill() error {
	return x.tdlib().Call(map[string]any{"@type": "getContacts"}, func(resp json.RawMessage, err error) {
		var users struct {
			UserIDs []int64 `json:"user_ids"`
		}
		if err != nil || json.Unmarshal(resp, &users) != nil {
			return
		}
		for _, id := range users.UserIDs {
			_ = x.s.Contact(strconv.FormatInt(id, 10)).AddToRoster()
		}
	})
}

func (x *session) OnUpdateInfo(c *gateway.Contact) error {
	err := x.tdlib().Call(map[string]any{"@type": "getUser", "user_id": c.ID()}, func(resp json.RawMessage, err error) {
		var u struct {
			FirstName string `json:"first_name"`
		}
		if err != nil || json.Unmarshal(resp, &u) != nil {
			_ = c.Failed("no such user")
			return
		}
		c.SetName(u.FirstName)
		_ = c.Ready()
	})
	return errors.Join(err, gateway.ErrLater)
}

func (x *session) OnText(c *gateway.Contact, m abi.Text) (abi.LegacyMsgID, error) {
	err := x.tdlib().Call(map[string]any{"@type": "sendMessage", "chat_id": c.ID(), "text": m.Text}, func(resp json.RawMessage, err error) {
		var msg struct {
			ID int64 `json:"id"`
		}
		if err != nil || json.Unmarshal(resp, &msg) != nil {
			_ = x.s.MessageFailed(m.ID, "not sent")
			return
		}
		_ = x.s.MessageSent(m.ID, strconv.FormatInt(msg.ID, 10))
	})
	return "", errors.Join(err, gateway.ErrLater)
}

func (x *session) OnLogout() error { return nil }

func (x *session) OnBridgeEvent(string, json.RawMessage) error { return nil }
