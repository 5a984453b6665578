package main

import (
	"slices"
	"testing"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/sdktest"
)

func TestInit(t *testing.T) {
	f := newFx(t)
	r := f.h.InitReply
	if r.Name != "Telegram" || len(r.Registration.Fields) != 1 || r.Registration.Fields[0].Var != "phone" ||
		!r.Registration.Fields[0].Required || r.Registration.Instructions == "" {
		t.Fatalf("init reply: %+v", r)
	}
	// The simulated Telegram's allowed reactions, from its demo fixture.
	if !slices.Contains(r.Reactions, "👍") || !slices.Contains(r.Reactions, "❤") || len(r.Reactions) != 10 {
		t.Fatalf("reactions: %q", r.Reactions)
	}
	if cfg.bridge != "telegram" {
		t.Fatalf("bridge %q", cfg.bridge)
	}
	// The first granted bridge is the one used; the config may declare the reactions.
	h := sdktest.New(t, telegram{}, sdktest.WithBridges("tdlib", "other"), sdktest.WithConfig(map[string]any{"reactions": []string{"👍"}}))
	if cfg.bridge != "tdlib" || !slices.Equal(h.InitReply.Reactions, []string{"👍"}) {
		t.Fatalf("bridge %q, reactions %q", cfg.bridge, h.InitReply.Reactions)
	}
	if got := fixtureReactions("x = 1\n"); got != nil {
		t.Fatalf("no reactions in a fixture: %q", got)
	}
}

func TestValidatePhone(t *testing.T) {
	f := newFx(t)
	for p, ok := range map[string]bool{
		"+15550000001": true, "+33 6 12 34 56 78": true, "+1 (555) 000-0001": true, "+12345678": true,
		"15550000001": false, "+1234567": false, "+1234567890123456": false, "+1555abc0001": false, "": false,
	} {
		res := f.s.Validate(abi.Values{"phone": p})
		rs := calls[abi.RegistrationResult](res, abi.CallRegistrationResult)
		if len(rs) != 1 || (rs[0].Error == "") != ok {
			t.Errorf("%q: %+v", p, rs)
		}
		if !ok && len(rs) == 1 && !contains(rs[0].Error, "international format") {
			t.Errorf("%q: unclear message %q", p, rs[0].Error)
		}
	}
}

func TestJIDMapping(t *testing.T) {
	f := newFx(t)
	res := f.s.JIDToLegacy("1001")
	if res.Status != abi.StatusOK || !contains(string(res.Reply), `"1001"`) {
		t.Fatalf("1001: %d %s", res.Status, res.Reply)
	}
	for _, bad := range []string{"0", "-5", "eve", "007", "+5", "1001a", "99999999999999999999", ""} {
		res := f.s.JIDToLegacy(bad)
		var e *abi.Error
		if res.Status != abi.StatusError || !asABI(res.Err(), &e) || e.Code != abi.CodeInvalid || !contains(e.Message, "not a Telegram user id") {
			t.Errorf("%q: status %d, %v", bad, res.Status, res.Err())
		}
	}
	res = f.s.LegacyToJID("777000")
	if res.Status != abi.StatusOK || !contains(string(res.Reply), `"777000"`) {
		t.Fatalf("777000: %d %s", res.Status, res.Reply)
	}
	if res := f.s.LegacyToJID("x"); res.Status != abi.StatusError {
		t.Fatalf("x: %d", res.Status)
	}
	// Without a session too.
	if res := f.h.Send(abi.EventJIDToLegacy, abi.JIDToLegacy{Username: "abc"}); res.Status != abi.StatusError {
		t.Fatalf("sessionless: %d", res.Status)
	}
}

func asABI(err error, target **abi.Error) bool {
	e, ok := err.(*abi.Error)
	*target = e
	return ok
}

func TestLoginWithCode(t *testing.T) {
	f := newFx(t)
	res := f.s.Login(abi.Values{"phone": "+1 555 000 0001"})
	if res.Status != abi.StatusOK || f.s.LoggedIn {
		t.Fatalf("login: %d", res.Status)
	}
	p := request(f.pending("setTdlibParameters"))
	if p["device_model"] == "" || p["use_message_database"] != true {
		t.Fatalf("parameters: %v", p)
	}
	f.event(simple("authorizationStateWaitTdlibParameters"))
	f.answer("setTdlibParameters", `{"@type":"ok"}`)
	f.event(simple("authorizationStateWaitPhoneNumber"))
	if got := request(f.pending("setAuthenticationPhoneNumber"))["phone_number"]; got != phone {
		t.Fatalf("phone sent: %v", got)
	}
	res = f.event(authUpdate(`{"@type":"authorizationStateWaitCode","code_info":{"@type":"authenticationCodeInfo","phone_number":"+15550000001"}}`))
	ps := calls[abi.Prompt](res, abi.CallPrompt)
	if len(ps) != 1 || ps[0].Prompt != "code" || ps[0].Text != "Enter the code Telegram sent to +15550000001" || ps[0].Secret {
		t.Fatalf("prompt: %+v", ps)
	}
	f.answer("setAuthenticationPhoneNumber", `{"@type":"ok"}`)

	// A wrong code: TDLib's reason and the question again.
	f.check(f.s.Input("code", " 11111 "))
	if got := request(f.pending("checkAuthenticationCode"))["code"]; got != "11111" {
		t.Fatalf("code sent: %v", got)
	}
	res = f.refuse("checkAuthenticationCode", 400, "PHONE_CODE_INVALID")
	ps = calls[abi.Prompt](res, abi.CallPrompt)
	if len(ps) != 1 || ps[0].Prompt != "code" || !contains(ps[0].Text, "PHONE_CODE_INVALID") || !contains(ps[0].Text, "Enter the code") {
		t.Fatalf("retry prompt: %+v", ps)
	}
	f.check(f.s.Input("code", "12345"))
	f.event(simple("authorizationStateReady"))
	f.answer("checkAuthenticationCode", `{"@type":"ok"}`)
	if f.s.LoggedIn {
		t.Fatal("logged in before getMe answered")
	}
	f.answer("getMe", userJSON(9000001, "Alice", "Sim", "", "15550000001", "", false, false, ""))
	if !f.s.LoggedIn || f.s.Status != "Telegram: +15550000001" {
		t.Fatalf("logged in %v, status %q", f.s.LoggedIn, f.s.Status)
	}
	if kv := f.s.KV(); kv[keyMe] != "9000001" || kv[keyAuth] != "ready" || kv[keyPhone] != phone {
		t.Fatalf("storage: %v", kv)
	}
}

func TestLoginWithPassword(t *testing.T) {
	f := newFx(t)
	f.check(f.s.Login(abi.Values{"phone": "+15550000002"}))
	f.event(simple("authorizationStateWaitPhoneNumber"))
	f.event(authUpdate(`{"@type":"authorizationStateWaitCode"}`))
	f.check(f.s.Input("code", "12345"))
	res := f.event(authUpdate(`{"@type":"authorizationStateWaitPassword","password_hint":"a classic","has_recovery_email_address":false}`))
	ps := calls[abi.Prompt](res, abi.CallPrompt)
	if len(ps) != 1 || ps[0].Prompt != "password" || !ps[0].Secret || !contains(ps[0].Text, "password") || !contains(ps[0].Text, "a classic") {
		t.Fatalf("password prompt: %+v", ps)
	}
	f.answer("checkAuthenticationCode", `{"@type":"ok"}`)
	f.check(f.s.Input("password", "nope"))
	res = f.refuse("checkAuthenticationPassword", 400, "PASSWORD_HASH_INVALID")
	ps = calls[abi.Prompt](res, abi.CallPrompt)
	if len(ps) != 1 || ps[0].Prompt != "password" || !ps[0].Secret || !contains(ps[0].Text, "PASSWORD_HASH_INVALID") {
		t.Fatalf("password retry: %+v", ps)
	}
	f.check(f.s.Input("password", "hunter2"))
	if got := request(f.pending("checkAuthenticationPassword"))["password"]; got != "hunter2" {
		t.Fatalf("password sent: %v", got)
	}
	f.event(simple("authorizationStateReady"))
	f.answer("checkAuthenticationPassword", `{"@type":"ok"}`)
	f.answer("getMe", userJSON(9000002, "Bob", "Sim", "", "15550000002", "", false, false, ""))
	if !f.s.LoggedIn || f.s.Status != "Telegram: +15550000002" {
		t.Fatalf("logged in %v, status %q", f.s.LoggedIn, f.s.Status)
	}
}

func TestLoginInvalidPhone(t *testing.T) {
	f := newFx(t)
	f.check(f.s.Login(abi.Values{"phone": "+19990000000"}))
	f.event(simple("authorizationStateWaitPhoneNumber"))
	f.refuse("setAuthenticationPhoneNumber", 400, "PHONE_NUMBER_INVALID")
	if f.s.LoggedIn || !contains(f.s.LoginError, "PHONE_NUMBER_INVALID") || !contains(f.s.LoginError, "+19990000000") {
		t.Fatalf("login error %q", f.s.LoginError)
	}
	// Another refusal of the phone number asks for it again.
	f.check(f.s.Login(abi.Values{"phone": "+19990000000"}))
	f.event(simple("authorizationStateWaitPhoneNumber"))
	res := f.refuse("setAuthenticationPhoneNumber", 400, "PHONE_NUMBER_BANNED")
	ps := calls[abi.Prompt](res, abi.CallPrompt)
	if len(ps) != 1 || ps[0].Prompt != "phone" || !contains(ps[0].Text, "PHONE_NUMBER_BANNED") {
		t.Fatalf("phone prompt: %+v", ps)
	}
	f.check(f.s.Input("phone", "bad"))
	f.check(f.s.Input("phone", "+15550000001"))
	if got := request(f.pending("setAuthenticationPhoneNumber"))["phone_number"]; got != phone {
		t.Fatalf("phone sent: %v", got)
	}
	// A registration that is not a phone number fails at once.
	res = f.s.Login(abi.Values{"phone": "12"})
	if !contains(f.s.LoginError, "international format") {
		t.Fatalf("bad registration: %q %v", f.s.LoginError, res.Methods())
	}
}

// A new login on a TDLib client that is already logged in (re-login, a gateway restart with
// TDLib's database): setTdlibParameters is refused or answered with Ready.
func TestLoginAlreadyAuthorized(t *testing.T) {
	f := newFx(t)
	f.check(f.s.Login(abi.Values{"phone": phone}))
	f.refuse("setTdlibParameters", 400, "Unexpected setTdlibParameters")
	f.answer("getAuthorizationState", `{"@type":"authorizationStateReady"}`)
	f.answer("getMe", userJSON(9000001, "Alice", "Sim", "", "15550000001", "", false, false, ""))
	if !f.s.LoggedIn {
		t.Fatal("not logged in")
	}
	// A restarted gateway: TDLib's database makes it ready at once.
	g := newFx(t)
	g.check(g.s.Login(abi.Values{"phone": phone}))
	g.event(`{"@type":"updateOption","name":"my_id","value":{"@type":"optionValueInteger","value":"9000001"}}`)
	g.event(simple("authorizationStateReady"))
	g.answer("setTdlibParameters", `{"@type":"ok"}`)
	g.answer("getMe", userJSON(9000001, "Alice", "Sim", "", "15550000001", "", false, false, ""))
	if !g.s.LoggedIn || g.hasPending("setAuthenticationPhoneNumber") {
		t.Fatal("not logged in at once")
	}
}

func TestSessionRevoked(t *testing.T) {
	f := newFx(t)
	f.login()
	res := f.event(simple("authorizationStateLoggingOut"))
	lo := calls[abi.SessionError](res, abi.CallLogout)
	if len(lo) != 1 || !contains(lo[0].Error, "terminated") {
		t.Fatalf("logout: %v", res.Methods())
	}
	res = f.event(simple("authorizationStateClosed"))
	if len(res.Calls) != 0 {
		t.Fatalf("after closed: %v", res.Methods())
	}
	// The gateway's own logout is not a revocation.
	g := newFx(t)
	g.login()
	g.check(g.s.Logout())
}

// A crash during the login: the fresh instance asks TDLib where the login is, and does not
// ask the question already asked.
func TestLoginRestored(t *testing.T) {
	f := newFx(t)
	f.check(f.s.Login(abi.Values{"phone": phone}))
	f.event(simple("authorizationStateWaitPhoneNumber"))
	f.event(simple("authorizationStateWaitCode"))
	f.s.LoggedIn = true // the host restores every session of the instance
	f.h.Restart()
	res := f.answer("getAuthorizationState", `{"@type":"authorizationStateWaitCode"}`)
	if len(res.Filter(abi.CallPrompt)) != 0 {
		t.Fatalf("asked again: %v", res.Calls)
	}
	f.check(f.s.Input("code", "12345"))
	f.event(simple("authorizationStateReady"))
	res = f.answer("getMe", userJSON(9000001, "Alice", "Sim", "", "15550000001", "", false, false, ""))
	if len(res.Filter(abi.CallLoggedIn)) != 1 {
		t.Fatalf("not logged in: %v", res.Methods())
	}
	// A crash once logged in: nothing to redo.
	res = f.h.Restart()[0]
	if len(res.Filter(abi.CallBridgeCall)) != 0 || len(res.Filter(abi.CallLoggedIn)) != 0 {
		t.Fatalf("restored: %v", res.Methods())
	}
}
