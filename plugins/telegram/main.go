// Command telegram is the Telegram network, written with the Go SDK: it reaches Telegram only
// through the host's TDLib bridge (abi "bridge.call" with TDLib's JSON; the host runs the real
// TDLib or the simulated Telegram of host/bridge/sim), and behaves like slidge's Telegram
// plugin.
//
// Build it with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o telegram.wasm ./plugins/telegram
//
// What it does:
//   - registration asks for a phone number in international format (+ and 8 to 15 digits).
//   - login: setTdlibParameters (the host fills in the folders, the key, the api id and hash),
//     setAuthenticationPhoneNumber, then the code prompt and, when TDLib asks, the password
//     prompt (secret), answered in chat; a wrong code, password or phone gets TDLib's reason
//     and a new prompt (an invalid phone number ends the login). Ready: getMe, then logged in
//     with the status "Telegram: +<phone>". A session terminated from another device ends
//     with session.logout and the reason.
//   - roster: getContacts, each contact as its getUser answer arrives; name (the username if
//     set, else the full name; bots: the full name), avatar (the small profile photo,
//     downloaded through the bridge), vCard (names, phone, bio), client type (bot for bots and
//     777000, phone otherwise), presence (see status.go). A new private chat with someone who
//     is not a contact becomes a subscription request.
//   - legacy ids are Telegram user ids in decimal; search takes a phone number or a @username.
//   - messages both ways: text, replies, edits, deletions, reactions, read markers, typing,
//     files (photo, video, document, voice, audio, animation, video note; stickers as their
//     emoji), other content as "/me sent a <kind> (not supported)"; what the user does from
//     an official app (messages, reads, reactions, edits, deletions) comes as carbons.
//   - TDLib's message ids: sendMessage answers with a temporary id, and the message is
//     reported sent (message.sent) only at updateMessageSendSucceeded, with the final id.
//
// Plugin memory is a cache: what must survive an instance crash (the temporary ids of messages
// being sent, the online-expiry timers, the login's progress, the phone, the user's own id) is
// in the host's key-value storage; timers and bridge calls carry contexts that say what they
// are for.
//
// [gateway.config] keys (all optional): reactions (the reactions to declare, overriding the
// simulated Telegram's fixture), max_file_size (bytes: larger files are announced, not
// transferred), api_id, api_hash (the host's bridge configuration overrides them) and
// device_model.
package main

import (
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	gateway "github.com/xmppgw/gateway/sdk/go"
)

func init() { gateway.Register(telegram{}) }

// main is never called in a c-shared module; Register runs from init.
func main() {}

// now is the clock (tests pin it).
var now = time.Now

// The simulated Telegram's demo fixture (generated from host/bridge/sim/demo): the reactions
// its chats allow are the ones declared at init, until the plugin advertises each chat's own.
//
//go:embed fixture/demo.toml
var demoFixture string

// settings is what init learnt from the gateway's configuration; one instance serves one
// gateway, so they are global.
type settings struct {
	bridge      string // the bridge's name: the first granted one, default "telegram"
	reactions   []string
	maxFileSize int64
	apiID       int64
	apiHash     string
	deviceModel string
}

var cfg = settings{bridge: "telegram", deviceModel: "XMPP gateway"}

type telegram struct{}

func (telegram) Init(c gateway.Config) (abi.InitReply, error) {
	var raw struct {
		Reactions   *[]string `json:"reactions"`
		MaxFileSize int64     `json:"max_file_size"`
		APIID       int64     `json:"api_id"`
		APIHash     string    `json:"api_hash"`
		DeviceModel string    `json:"device_model"`
	}
	if err := c.Decode(&raw); err != nil {
		return abi.InitReply{}, fmt.Errorf("[gateway.config]: %w", err)
	}
	if raw.MaxFileSize < 0 {
		return abi.InitReply{}, fmt.Errorf("[gateway.config] max_file_size = %d: expected a size in bytes", raw.MaxFileSize)
	}
	s := settings{bridge: "telegram", maxFileSize: raw.MaxFileSize, apiID: raw.APIID, apiHash: raw.APIHash,
		deviceModel: "XMPP gateway"}
	if len(c.Bridges) > 0 && c.Bridges[0] != "" {
		s.bridge = c.Bridges[0]
	}
	if raw.DeviceModel != "" {
		s.deviceModel = raw.DeviceModel
	}
	if raw.Reactions != nil {
		s.reactions = *raw.Reactions
	} else {
		s.reactions = fixtureReactions(demoFixture)
	}
	cfg = s
	return abi.InitReply{
		Name: "Telegram",
		Registration: abi.Form{
			Instructions: "Enter the phone number of your Telegram account, in international format. " +
				"Telegram then sends you a login code, which the gateway asks you for in a chat message " +
				"(and your password, if your account has two-step verification).",
			Fields: []abi.Field{{Var: "phone", Label: "Phone number", Required: true,
				Desc: "in international format: + and the country code, e.g. +33612345678"}},
		},
		Reactions: s.reactions,
		Features:  []string{"search", "files", "corrections", "retractions", "reactions"},
	}, nil
}

func (telegram) NewSession(s *gateway.Session) gateway.SessionHandler { return newSession(s) }

// Events without a session (the host may map JIDs outside one) use the same mapping.
func (telegram) JIDUsernameToLegacyID(username string) (abi.LegacyID, error) {
	return jidToLegacy(username)
}

func (telegram) LegacyIDToJIDUsername(id abi.LegacyID) (string, error) { return legacyToJID(id) }

// fixtureReactions reads the top-level `reactions = [...]` of a simulated Telegram fixture
// (TOML basic strings are JSON strings); nil when there is none.
func fixtureReactions(toml string) []string {
	for _, line := range strings.Split(toml, "\n") {
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) != "reactions" {
			continue
		}
		v = strings.TrimSpace(v)
		if i := strings.LastIndexByte(v, ']'); i >= 0 {
			v = v[:i+1]
		}
		var out []string
		if json.Unmarshal([]byte(v), &out) != nil {
			return nil
		}
		return out
	}
	return nil
}

// Phone numbers.

const errPhone = "The phone number must be in international format: + and 8 to 15 digits, e.g. +33612345678."

// normalizePhone removes the spaces, dashes, dots and parentheses people write in phone
// numbers, and checks what is left: + and 8 to 15 digits (E.164).
func normalizePhone(s string) (string, error) {
	var b strings.Builder
	for _, r := range strings.TrimSpace(s) {
		switch r {
		case ' ', '-', '.', '(', ')', '\u00a0':
			continue
		}
		b.WriteRune(r)
	}
	p := b.String()
	digits, ok := strings.CutPrefix(p, "+")
	if !ok || len(digits) < 8 || len(digits) > 15 {
		//lint:ignore ST1005 the user reads it as it is
		return "", errors.New(errPhone)
	}
	for _, r := range digits {
		if r < '0' || r > '9' {
			//lint:ignore ST1005 the user reads it as it is
			return "", errors.New(errPhone)
		}
	}
	return p, nil
}

// Legacy ids: Telegram user ids in decimal.

// parseUserID parses a legacy id: a positive decimal int64, written canonically (so that the
// mapping to JIDs is one to one).
func parseUserID(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != s {
		return 0, abi.Errorf(abi.CodeInvalid, "%q is not a Telegram user id: expected a positive decimal number such as 123456789", s)
	}
	return n, nil
}

func jidToLegacy(username string) (abi.LegacyID, error) {
	if _, err := parseUserID(username); err != nil {
		return "", err
	}
	return username, nil
}

func legacyToJID(id abi.LegacyID) (string, error) {
	if _, err := parseUserID(id); err != nil {
		return "", err
	}
	return id, nil
}

func legacyID(n int64) abi.LegacyID { return strconv.FormatInt(n, 10) }

func msgID(n int64) abi.LegacyMsgID { return strconv.FormatInt(n, 10) }

// parseMsgID parses a legacy message id ("" or invalid: 0).
func parseMsgID(s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0
	}
	return n
}

var (
	_ gateway.Plugin         = telegram{}
	_ gateway.JIDMapper      = telegram{}
	_ gateway.LegacyIDMapper = telegram{}
)
