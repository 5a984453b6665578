//go:build !gw_stdjson

package wire

import (
	"encoding/json"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// Std reports whether this build uses encoding/json for everything (tag gw_stdjson).
const Std = false

// DecodeEnvelope reads an event envelope. The byte fields alias b (or hold unescaped copies).
func DecodeEnvelope(b []byte, env *Envelope) error {
	*env = Envelope{}
	d := jsonwire.NewDecoder(b, jsonwire.Alias)
	if !d.Object() {
		if d.Err() == nil {
			d.Fail("null envelope")
		}
		return d.Err()
	}
	for d.Field() {
		switch string(d.LowerKey()) {
		case "type":
			env.Type = d.StrBytes()
		case "session":
			env.Session = d.StrBytes()
		case "chat":
			if d.Object() {
				env.HasChat = true
				for d.Field() {
					switch string(d.LowerKey()) {
					case "id":
						env.ChatID = d.StrBytes()
					case "kind":
						env.ChatKind = d.StrBytes()
					default:
						d.Skip()
					}
				}
			}
		case "payload":
			env.Payload = d.Raw()
		default:
			d.Skip()
		}
	}
	return d.End()
}

// UnmarshalEvent decodes an event payload into v; json.RawMessage fields alias b.
func UnmarshalEvent(b []byte, v any) error { return unmarshal(b, v, true) }

// Unmarshal decodes b into v; nothing aliases b.
func Unmarshal(b []byte, v any) error { return unmarshal(b, v, false) }

func unmarshal(b []byte, v any, alias bool) error {
	var m jsonwire.Mode
	if alias {
		m = jsonwire.Alias
	}
	d := jsonwire.NewDecoder(b, m)
	if !decodeKnown(&d, v) {
		return json.Unmarshal(b, v)
	}
	return d.End()
}

// decodeKnown decodes the types this package knows; it returns false for others.
func decodeKnown(d *jsonwire.Decoder, v any) bool {
	switch v := v.(type) {
	case *abi.Text:
		*v = abi.Text{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "id":
				v.ID = d.Str()
			case "origin_id":
				v.OriginID = d.Str()
			case "text":
				v.Text = d.Str()
			case "reply_to":
				v.ReplyTo = d.Str()
			case "thread":
				v.Thread = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.FileMessage:
		*v = abi.FileMessage{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "id":
				v.ID = d.Str()
			case "url":
				v.URL = d.Str()
			case "name":
				v.Name = d.Str()
			case "type":
				v.Type = d.Str()
			case "size":
				v.Size = d.Int()
			case "caption":
				v.Caption = d.Str()
			case "reply_to":
				v.ReplyTo = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.Correct:
		*v = abi.Correct{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "id":
				v.ID = d.Str()
			case "target":
				v.Target = d.Str()
			case "text":
				v.Text = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.Retract:
		*v = abi.Retract{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "id":
				v.ID = d.Str()
			case "target":
				v.Target = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.React:
		*v = abi.React{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "id":
				v.ID = d.Str()
			case "target":
				v.Target = d.Str()
			case "reactions":
				v.Reactions = d.Strs()
			default:
				d.Skip()
			}
		}
	case *abi.Displayed:
		*v = abi.Displayed{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "target":
				v.Target = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.ChatState:
		*v = abi.ChatState{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "state":
				v.State = abi.State(d.Str())
			default:
				d.Skip()
			}
		}
	case *abi.ContactRef:
		*v = abi.ContactRef{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "legacy_id":
				v.LegacyID = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.BridgeResponse:
		*v = abi.BridgeResponse{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "token":
				v.Token = d.Str()
			case "context":
				v.Context = d.Raw()
			case "response":
				v.Response = d.Raw()
			case "error":
				v.Error = decodeError(d)
			default:
				d.Skip()
			}
		}
	case *abi.BridgeEvent:
		*v = abi.BridgeEvent{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "bridge":
				v.Bridge = d.Str()
			case "event":
				v.Event = d.Raw()
			default:
				d.Skip()
			}
		}
	case *abi.Timer:
		*v = abi.Timer{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "timer":
				v.Timer = d.Str()
			case "context":
				v.Context = d.Raw()
			default:
				d.Skip()
			}
		}
	case *abi.FileFetched:
		*v = abi.FileFetched{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "token":
				v.Token = d.Str()
			case "context":
				v.Context = d.Raw()
			case "file":
				if d.Null() {
					continue
				}
				v.File = new(abi.File)
				decodeFile(d, v.File)
			case "error":
				v.Error = decodeError(d)
			default:
				d.Skip()
			}
		}
	case *abi.Login:
		*v = abi.Login{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "registration":
				v.Registration = d.StrMap()
			default:
				d.Skip()
			}
		}
	case *abi.Input:
		*v = abi.Input{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "prompt":
				v.Prompt = d.Str()
			case "text":
				v.Text = d.Str()
			case "expired":
				v.Expired = d.Bool()
			default:
				d.Skip()
			}
		}
	case *abi.Validate:
		*v = abi.Validate{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "request":
				v.Request = d.Str()
			case "values":
				v.Values = d.StrMap()
			default:
				d.Skip()
			}
		}
	case *abi.Search:
		*v = abi.Search{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "request":
				v.Request = d.Str()
			case "query":
				v.Query = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.JIDToLegacy:
		*v = abi.JIDToLegacy{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "username":
				v.Username = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.LegacyToJID:
		*v = abi.LegacyToJID{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "legacy_id":
				v.LegacyID = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.Contact:
		decodeContact(d, v)
	case *abi.ContactList:
		*v = abi.ContactList{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "contacts":
				if d.Array() {
					v.Contacts = []abi.Contact{}
					for d.Elem() {
						v.Contacts = append(v.Contacts, abi.Contact{})
						decodeContact(d, &v.Contacts[len(v.Contacts)-1])
					}
				}
			default:
				d.Skip()
			}
		}
	case *abi.Token:
		*v = abi.Token{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "token":
				v.Token = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.KVValue:
		*v = abi.KVValue{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "value":
				v.Value = d.Str()
			default:
				d.Skip()
			}
		}
	case *abi.KVKeys:
		*v = abi.KVKeys{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "keys":
				v.Keys = d.Strs()
			default:
				d.Skip()
			}
		}
	case *abi.ErrorReply:
		*v = abi.ErrorReply{}
		for ok := d.Object(); ok && d.Field(); {
			switch string(d.LowerKey()) {
			case "error":
				v.Error = decodeError(d)
			default:
				d.Skip()
			}
		}
	default:
		return false
	}
	return true
}

func decodeError(d *jsonwire.Decoder) *abi.Error {
	if d.Null() {
		return nil
	}
	e := &abi.Error{}
	for ok := d.Object(); ok && d.Field(); {
		switch string(d.LowerKey()) {
		case "code":
			_ = e.Code.UnmarshalText(d.StrBytes())
		case "message":
			e.Message = d.Str()
		default:
			d.Skip()
		}
	}
	return e
}

func decodeVCard(d *jsonwire.Decoder, v *abi.VCard) {
	for ok := d.Object(); ok && d.Field(); {
		switch string(d.LowerKey()) {
		case "full_name":
			v.FullName = d.Str()
		case "given":
			v.Given = d.Str()
		case "family":
			v.Family = d.Str()
		case "nickname":
			v.Nickname = d.Str()
		case "phone":
			v.Phone = d.Str()
		case "email":
			v.Email = d.Str()
		case "url":
			v.URL = d.Str()
		case "note":
			v.Note = d.Str()
		default:
			d.Skip()
		}
	}
}

func decodeFile(d *jsonwire.Decoder, f *abi.File) {
	for ok := d.Object(); ok && d.Field(); {
		switch string(d.LowerKey()) {
		case "handle":
			f.Handle = d.Str()
		case "size":
			f.Size = d.Int()
		case "type":
			f.Type = d.Str()
		case "name":
			f.Name = d.Str()
		default:
			d.Skip()
		}
	}
}

func decodeContact(d *jsonwire.Decoder, c *abi.Contact) {
	*c = abi.Contact{}
	for ok := d.Object(); ok && d.Field(); {
		switch string(d.LowerKey()) {
		case "legacy_id":
			c.LegacyID = d.Str()
		case "jid":
			c.JID = d.Str()
		case "name":
			c.Name = d.Str()
		case "client_type":
			c.ClientType = d.Str()
		case "friend":
			c.Friend = d.Bool()
		case "presence":
			if d.Null() {
				continue
			}
			p := &abi.Presence{}
			for ok := d.Object(); ok && d.Field(); {
				switch string(d.LowerKey()) {
				case "show":
					p.Show = abi.Show(d.Str())
				case "status":
					p.Status = d.Str()
				case "last_seen":
					p.LastSeen = d.Int()
				default:
					d.Skip()
				}
			}
			c.Presence = p
		case "vcard":
			if d.Null() {
				continue
			}
			c.VCard = &abi.VCard{}
			decodeVCard(d, c.VCard)
		case "avatar_id":
			c.AvatarID = d.Str()
		case "ready":
			c.Ready = d.Bool()
		default:
			d.Skip()
		}
	}
}

// Append appends v as JSON; types this package does not know go through encoding/json.
func Append(b []byte, v any) ([]byte, error) {
	e := jsonwire.Encoder{B: b, Start: len(b)}
	if encodeKnown(&e, v) {
		return e.B, nil
	}
	j, err := json.Marshal(v)
	if err != nil {
		return b, err
	}
	return append(b, j...), nil
}

func meta(e *jsonwire.Encoder, m *abi.MsgMeta) {
	e.Str("legacy_id", m.LegacyID)
	e.BoolOmit("carbon", m.Carbon)
	e.IntOmit("when", m.When)
}

// encodeKnown writes the types this package knows, all objects; it writes nothing and returns
// false for others.
func encodeKnown(e *jsonwire.Encoder, v any) bool {
	n := len(e.B)
	e.Open()
	switch v := v.(type) {
	case *abi.ContactText:
		meta(e, &v.MsgMeta)
		e.Str("id", v.ID)
		e.Str("text", v.Text)
		e.StrOmit("reply_to", v.ReplyTo)
		e.StrOmit("reply_text", v.ReplyText)
	case *abi.MessageSent:
		e.Str("id", v.ID)
		e.Str("legacy_id", v.LegacyID)
	case *abi.MessageFailed:
		e.Str("id", v.ID)
		e.Str("error", v.Error)
	case *abi.ContactState:
		meta(e, &v.MsgMeta)
		e.Str("state", string(v.State))
	case *abi.ContactMsgRef:
		meta(e, &v.MsgMeta)
		e.Str("id", v.ID)
	case *abi.ContactCorrect:
		meta(e, &v.MsgMeta)
		e.Str("id", v.ID)
		e.Str("text", v.Text)
	case *abi.ContactReact:
		meta(e, &v.MsgMeta)
		e.Str("id", v.ID)
		e.Strs("reactions", v.Reactions)
	case *abi.ContactFile:
		meta(e, &v.MsgMeta)
		e.Str("id", v.ID)
		e.Key("file")
		e.Open()
		e.Str("handle", v.File.Handle)
		e.Int("size", v.File.Size)
		e.StrOmit("type", v.File.Type)
		e.StrOmit("name", v.File.Name)
		e.Close()
		e.StrOmit("caption", v.Caption)
		e.StrOmit("reply_to", v.ReplyTo)
	case *abi.ContactRef:
		e.Str("legacy_id", v.LegacyID)
	case *abi.ContactFailed:
		e.Str("legacy_id", v.LegacyID)
		e.Str("error", v.Error)
	case *abi.ContactUpdate:
		e.Str("legacy_id", v.LegacyID)
		if v.Name != nil {
			e.Str("name", *v.Name)
		}
		if a := v.Avatar; a != nil {
			e.Key("avatar")
			e.Open()
			e.StrOmit("handle", a.Handle)
			e.BytesOmit("data", a.Data)
			e.StrOmit("type", a.Type)
			e.StrOmit("id", a.ID)
			e.Close()
		}
		if c := v.VCard; c != nil {
			e.Key("vcard")
			e.Open()
			e.StrOmit("full_name", c.FullName)
			e.StrOmit("given", c.Given)
			e.StrOmit("family", c.Family)
			e.StrOmit("nickname", c.Nickname)
			e.StrOmit("phone", c.Phone)
			e.StrOmit("email", c.Email)
			e.StrOmit("url", c.URL)
			e.StrOmit("note", c.Note)
			e.Close()
		}
		if p := v.Presence; p != nil {
			e.Key("presence")
			e.Open()
			e.Str("show", string(p.Show))
			e.StrOmit("status", p.Status)
			e.IntOmit("last_seen", p.LastSeen)
			e.Close()
		}
		if v.ClientType != nil {
			e.Str("client_type", *v.ClientType)
		}
		if v.Friend != nil {
			e.Bool("friend", *v.Friend)
		}
	case *abi.SessionStatus:
		e.StrOmit("status", v.Status)
		e.StrOmit("show", string(v.Show))
	case *abi.SessionError:
		e.Str("error", v.Error)
	case *abi.GatewayMessage:
		e.Str("text", v.Text)
	case *abi.Prompt:
		e.Str("prompt", v.Prompt)
		e.Str("text", v.Text)
		e.BoolOmit("secret", v.Secret)
	case *abi.RegistrationResult:
		e.Str("request", v.Request)
		e.StrOmit("error", v.Error)
	case *abi.SearchResult:
		e.Str("request", v.Request)
		e.StrOmit("legacy_id", v.LegacyID)
		e.StrOmit("error", v.Error)
	case *abi.KVKey:
		e.Str("key", v.Key)
	case *abi.KVSet:
		e.Str("key", v.Key)
		e.Str("value", v.Value)
	case *abi.TimerSet:
		e.Str("timer", v.Timer)
		e.Int("after_ms", v.AfterMS)
		e.RawOmit("context", v.Context)
	case *abi.TimerRef:
		e.Str("timer", v.Timer)
	case *abi.BridgeCall:
		e.Str("bridge", v.Bridge)
		e.Raw("request", v.Request)
		e.RawOmit("context", v.Context)
	case *abi.FileFetch:
		e.Str("url", v.URL)
		e.IntOmit("max_size", v.MaxSize)
		e.RawOmit("context", v.Context)
	case *abi.FileRef:
		e.Str("handle", v.Handle)
	case *abi.JIDToLegacyReply:
		e.Str("legacy_id", v.LegacyID)
	case *abi.LegacyToJIDReply:
		e.Str("username", v.Username)
	case *abi.ErrorReply:
		e.Key("error")
		if v.Error == nil {
			e.B = append(e.B, "null"...)
		} else {
			e.Open()
			e.Str("code", v.Error.Code.String())
			e.Str("message", v.Error.Message)
			e.Close()
		}
	default:
		e.B = e.B[:n]
		return false
	}
	e.Close()
	return true
}
