package checker

import (
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
	"github.com/xmppgw/gateway/host/xmpp/jidesc"
)

// Ids the scenario gives to its requests.
const (
	validateRequest = "checker-reg-1"
	textID          = "checker-msg-1"
	defaultText     = "Hello from the plugin checker"
	defaultPhone    = "+15550000001"
	defaultValue    = "checker"
)

// firstCall returns the first successful call since the step began that one of methods made and
// that match accepts (decoded into T).
func firstCall[T any](c *checker, match func(abi.Method, T) bool, methods ...abi.Method) (abi.Method, T, bool) {
	c.h.mu.Lock()
	defer c.h.mu.Unlock()
	for _, rec := range c.h.calls[c.m.calls:] {
		if rec.err != nil {
			continue
		}
		for _, m := range methods {
			var v T
			if rec.method == m && json.Unmarshal(rec.req, &v) == nil && (match == nil || match(m, v)) {
				return m, v, true
			}
		}
	}
	var zero T
	return "", zero, false
}

// checkInit checks the init reply Load decoded.
func (c *checker) checkInit() (string, error) {
	in := c.info
	if strings.TrimSpace(in.Name) == "" {
		return "", errors.New("the init reply has no name")
	}
	seen := map[string]bool{}
	var fields []string
	for i, f := range in.Registration.Fields {
		if f.Type == "fixed" {
			continue
		}
		if f.Var == "" {
			return "", fmt.Errorf("registration field %d (label %q) has no var", i+1, f.Label)
		}
		if seen[f.Var] {
			return "", fmt.Errorf("registration field var %q is used twice", f.Var)
		}
		seen[f.Var] = true
		if f.Required {
			fields = append(fields, f.Var+" (required)")
		} else {
			fields = append(fields, f.Var)
		}
	}
	detail := fmt.Sprintf("%q; registration: ", in.Name)
	if len(fields) == 0 {
		detail += "none"
	} else {
		detail += strings.Join(fields, ", ")
	}
	if len(in.Features) > 0 {
		detail += "; features: " + strings.Join(in.Features, ", ")
	}
	return detail, nil
}

// registrationValues fills the registration form as a user would: the fixture's values, else
// the field's default, else a plausible value for a required field.
func (c *checker) registrationValues() abi.Values {
	v := abi.Values{}
	for _, f := range c.info.Registration.Fields {
		if f.Type == "fixed" || f.Var == "" {
			continue
		}
		if x, ok := c.fx.Registration[f.Var]; ok {
			v[f.Var] = x
			continue
		}
		switch {
		case f.Value != "":
			v[f.Var] = f.Value
		case !f.Required:
		case f.Type == "list-single" && len(f.Options) > 0:
			v[f.Var] = f.Options[0]
		case f.Type == "boolean":
			v[f.Var] = "true"
		case strings.EqualFold(f.Var, "phone"):
			v[f.Var] = defaultPhone
		default:
			v[f.Var] = defaultValue
		}
	}
	for k, x := range c.fx.Registration {
		if _, ok := v[k]; !ok {
			v[k] = x
		}
	}
	return v
}

// formatValues writes values as "a=1, b=2", hiding nothing: they are the checker's or the
// fixture's.
func formatValues(v abi.Values) string {
	if len(v) == 0 {
		return "the empty form"
	}
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = k + "=" + quote(v[k])
	}
	return strings.Join(keys, ", ")
}

func (c *checker) checkValidate() (string, error) {
	c.values = c.registrationValues()
	c.h.expectRequest(validateRequest)
	isResult := func(_ abi.Method, r abi.RegistrationResult) bool { return r.Request == validateRequest }
	_, err := c.drive(pending{ev: abi.EventValidate, payload: abi.Validate{Request: validateRequest, Values: c.values}},
		func(res plugin.Result) (bool, error) {
			_, _, ok := firstCall(c, isResult, abi.CallRegistrationResult)
			return ok || res.Status == abi.StatusUnhandled, nil
		})
	if errors.Is(err, errIdle) {
		return "", fmt.Errorf("registration.validate handled, but the plugin never called registration.result for request %q, and %v", validateRequest, err)
	}
	if err != nil {
		return "", err
	}
	if _, r, ok := firstCall(c, isResult, abi.CallRegistrationResult); ok {
		if r.Error != "" {
			return fmt.Sprintf("refused %s: %s (set registration values in the fixture)", formatValues(c.values), quote(r.Error)), nil
		}
		return "accepted " + formatValues(c.values), nil
	}
	return "unhandled: the gateway accepts " + formatValues(c.values), nil
}

func (c *checker) checkLogin() (string, error) {
	_, err := c.drive(pending{ev: abi.EventLogin, payload: abi.Login{Registration: c.values}},
		func(res plugin.Result) (bool, error) {
			if res.Status == abi.StatusUnhandled {
				return false, errors.New(`session.login unhandled: the gateway's default fails every login ("not supported by this network")`)
			}
			_, _, ok := firstCall[json.RawMessage](c, nil, abi.CallLoggedIn, abi.CallLoginFailed)
			return ok, nil
		})
	prompts := len(callsSince[abi.Prompt](c.h, c.m, abi.CallPrompt))
	if errors.Is(err, errIdle) {
		return "", fmt.Errorf("the plugin called neither session.logged_in nor session.login_failed, and %v", err)
	}
	if err != nil {
		return "", err
	}
	var detail string
	method, raw, _ := firstCall[json.RawMessage](c, nil, abi.CallLoggedIn, abi.CallLoginFailed)
	if method == abi.CallLoggedIn {
		var s abi.SessionStatus
		_ = json.Unmarshal(raw, &s)
		detail = "logged in"
		if s.Status != "" {
			detail += ": " + quote(s.Status)
		}
	} else {
		var s abi.SessionError
		_ = json.Unmarshal(raw, &s)
		detail = "login failed: " + quote(s.Error)
	}
	if prompts > 0 {
		detail += fmt.Sprintf(" (after %d prompts answered from the fixture)", prompts)
	}
	return detail, nil
}

func (c *checker) checkFill() (string, error) {
	res, err := c.deliver(pending{ev: abi.EventFill})
	if err != nil {
		return "", err
	}
	if err := c.settle(); err != nil {
		return "", err
	}
	ids, added := c.h.contactsSince(c.m.contacts)
	detail := ""
	if res.Status == abi.StatusUnhandled {
		detail = "unhandled; "
	}
	names := ids
	if len(names) > 5 {
		names = append(names[:5:5], "...")
	}
	detail += fmt.Sprintf("%d contacts created", len(ids))
	if len(ids) > 0 {
		detail += " (" + strings.Join(names, ", ") + ")"
	}
	return detail + fmt.Sprintf(", %d added to the roster", added), nil
}

func (c *checker) checkUpdateInfo() (string, error) {
	id := c.fx.Contact
	if id == "" {
		c.h.mu.Lock()
		if len(c.h.order) > 0 {
			id = c.h.order[0]
		}
		c.h.mu.Unlock()
	}
	if id == "" {
		return "", errors.New(`no contact to test: the plugin created none, and the fixture names none (set "contact" in the fixture)`)
	}
	if _, err := c.h.ensure(id); err != nil {
		return "", fmt.Errorf("contact %q cannot be created: %v", id, err)
	}
	c.target = id
	c.h.unqueueUpdateInfo(id)
	isEnd := func(_ abi.Method, r abi.ContactFailed) bool { return r.LegacyID == id }
	res, err := c.drive(pending{ev: abi.EventUpdateInfo, payload: abi.ContactRef{LegacyID: id}, contact: id},
		func(res plugin.Result) (bool, error) {
			_, _, ok := firstCall(c, isEnd, abi.CallContactReady, abi.CallContactFailed)
			return ok || res.Status == abi.StatusUnhandled, nil
		})
	if errors.Is(err, errIdle) {
		return "", fmt.Errorf("contact.update_info for %q handled, but the plugin called neither contact.ready nor contact.failed for it, and %v", id, err)
	}
	if err != nil {
		return "", err
	}
	ct, _ := c.h.get(id)
	method, r, ok := firstCall(c, isEnd, abi.CallContactReady, abi.CallContactFailed)
	switch {
	case !ok || res.Status == abi.StatusUnhandled:
		return fmt.Sprintf("unhandled: the gateway makes contact %q ready as it is", id), nil
	case method == abi.CallContactFailed:
		return fmt.Sprintf("contact %q failed: %s", id, quote(r.Error)), nil
	}
	detail := fmt.Sprintf("contact %q ready", id)
	if ct.Name != "" {
		detail += ", name " + quote(ct.Name)
	}
	if ct.Presence != nil {
		detail += ", " + string(ct.Presence.Show)
	}
	return detail + ", jid " + ct.JID, nil
}

func (c *checker) checkText() (string, error) {
	if c.target == "" {
		return "", errors.New("no contact to write to (see update_info)")
	}
	if _, err := c.h.ensure(c.target); err != nil {
		return "", fmt.Errorf("contact %q cannot be created: %v", c.target, err)
	}
	text := c.fx.Text
	if text == "" {
		text = defaultText
	}
	c.h.expectMessage(textID)
	isVerdict := func(_ abi.Method, r abi.MessageFailed) bool { return r.ID == textID }
	_, err := c.drive(pending{ev: abi.EventText, chat: &abi.Chat{ID: c.target, Kind: abi.ChatDirect}, payload: abi.Text{ID: textID, Text: text}},
		func(res plugin.Result) (bool, error) {
			if res.Status == abi.StatusUnhandled {
				return false, errors.New(`message.text unhandled: the gateway answers every message of the user with an error ("not supported by this network")`)
			}
			_, _, ok := firstCall(c, isVerdict, abi.CallMessageSent, abi.CallMessageFailed)
			return ok, nil
		})
	if errors.Is(err, errIdle) {
		return "", fmt.Errorf("the plugin called neither message.sent nor message.failed with id %q, and %v", textID, err)
	}
	if err != nil {
		return "", err
	}
	method, _, _ := firstCall(c, isVerdict, abi.CallMessageSent, abi.CallMessageFailed)
	var detail string
	if method == abi.CallMessageSent {
		_, s, _ := firstCall(c, func(_ abi.Method, r abi.MessageSent) bool { return r.ID == textID }, abi.CallMessageSent)
		detail = fmt.Sprintf("sent to %q, legacy id %s", c.target, quote(s.LegacyID))
	} else {
		_, f, _ := firstCall(c, isVerdict, abi.CallMessageFailed)
		detail = fmt.Sprintf("message.failed: %s", quote(f.Error))
	}
	if _, t, ok := firstCall(c, func(_ abi.Method, t abi.ContactText) bool { return t.LegacyID == c.target }, abi.CallContactText); ok {
		detail += "; the contact answered " + quote(t.Text)
	}
	return detail, nil
}

func (c *checker) checkJIDMapping() (string, error) {
	// The round trip is checked on a contact the plugin created, whose username it chose or
	// accepted; one the checker created (the fixture's) got the default mapping.
	username, id, custom := defaultValue, "", false
	if ct, ok := c.h.get(c.target); ok {
		username = jidesc.Fold(ct.username)
		if !ct.byChecker {
			id, custom = c.target, ct.custom
		}
	}
	var parts []string

	res, err := c.deliver(pending{ev: abi.EventJIDToLegacy, payload: abi.JIDToLegacy{Username: username}})
	if err != nil {
		return "", err
	}
	if res.Status == abi.StatusUnhandled {
		parts = append(parts, "jid_username_to_legacy_id unhandled (XEP-0106 unescaping)")
	} else {
		var r abi.JIDToLegacyReply
		if err := decodeReply(res.Reply, &r); err != nil {
			return "", fmt.Errorf("contact.jid_username_to_legacy_id: %v", err)
		}
		if r.LegacyID == "" {
			return "", fmt.Errorf("contact.jid_username_to_legacy_id: the reply %s has no legacy_id", clip(string(res.Reply), 200))
		}
		if id != "" && r.LegacyID != id {
			return "", fmt.Errorf("contact.jid_username_to_legacy_id maps %q to %q, but it is the username of contact %q", username, r.LegacyID, id)
		}
		parts = append(parts, fmt.Sprintf("jid_username_to_legacy_id %q -> %q", username, r.LegacyID))
	}

	if id == "" {
		id = c.target
	}
	if id == "" {
		id = defaultValue
	}
	res, err = c.deliver(pending{ev: abi.EventLegacyToJID, payload: abi.LegacyToJID{LegacyID: id}})
	if err != nil {
		return "", err
	}
	if res.Status == abi.StatusUnhandled {
		parts = append(parts, "legacy_id_to_jid_username unhandled (XEP-0106 escaping)")
	} else {
		var r abi.LegacyToJIDReply
		if err := decodeReply(res.Reply, &r); err != nil {
			return "", fmt.Errorf("contact.legacy_id_to_jid_username: %v", err)
		}
		if err := jidesc.Valid(r.Username); err != nil {
			return "", fmt.Errorf("contact.legacy_id_to_jid_username maps %q to %q, not a valid JID local part: %v", id, r.Username, err)
		}
		if custom && jidesc.Fold(r.Username) != username {
			return "", fmt.Errorf("contact.legacy_id_to_jid_username maps %q to %q, but contact.get created it as %q", id, r.Username, username)
		}
		parts = append(parts, fmt.Sprintf("legacy_id_to_jid_username %q -> %q", id, r.Username))
	}
	return strings.Join(parts, "; "), nil
}

// decodeReply decodes the reply of a mapping event, which must have one.
func decodeReply(reply []byte, v any) error {
	if len(reply) == 0 {
		return errors.New("status 0 without a reply (the gateway treats it as bad_request)")
	}
	if err := json.Unmarshal(reply, v); err != nil {
		return fmt.Errorf("the reply %s does not decode: %v", clip(string(reply), 200), err)
	}
	return nil
}

func (c *checker) checkLogout() (string, error) {
	res, err := c.deliver(pending{ev: abi.EventLogout})
	if err != nil {
		return "", err
	}
	if res.Status == abi.StatusUnhandled {
		return "unhandled: the gateway ends the session anyway", nil
	}
	return "handled", nil
}
