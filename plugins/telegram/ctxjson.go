package main

import (
	"encoding/json"

	"github.com/xmppgw/gateway/sdk/go/jsonwire"
)

// The plugin's own JSON (contexts and pending sends), written and read by hand: the same
// members as their struct tags say, empty ones left out.

// raw is c as JSON, for the SDK's calls (which marshal anything else with encoding/json).
func (c callCtx) raw() json.RawMessage { return c.appendJSON(nil) }

// appendJSON appends c as encoding/json marshals it.
func (c *callCtx) appendJSON(b []byte) []byte {
	e := jsonwire.Encoder{B: b, Start: len(b), HTML: true}
	e.Open()
	e.Str("op", c.Op)
	e.StrOmit("x", c.X)
	e.IntOmit("u", c.User)
	e.IntOmit("c", c.Chat)
	e.IntOmit("m", c.Msg)
	e.IntOmit("r", c.Reply)
	e.StrOmit("h", c.Handle)
	e.RawOmit("ct", c.Content)
	e.StrOmit("k", c.Kind)
	e.StrOmit("n", c.Name)
	e.StrOmit("t", c.Mime)
	e.StrOmit("cap", c.Caption)
	e.BoolOmit("cb", c.Carbon)
	e.BoolOmit("rd", c.Ready)
	e.StrOmit("p", c.Photo)
	e.StrsOmit("re", c.Reacts)
	e.StrOmit("q", c.Req)
	e.StrOmit("qs", c.Query)
	e.IntOmit("e", c.Expires)
	e.Close()
	return e.B
}

func (c *callCtx) field(d *jsonwire.Decoder, k []byte) bool {
	switch string(k) {
	case "op":
		return str(d, &c.Op)
	case "x":
		return str(d, &c.X)
	case "u":
		return i64(d, &c.User)
	case "c":
		return i64(d, &c.Chat)
	case "m":
		return i64(d, &c.Msg)
	case "r":
		return i64(d, &c.Reply)
	case "h":
		return str(d, &c.Handle)
	case "ct":
		return rawJSON(d, &c.Content)
	case "k":
		return str(d, &c.Kind)
	case "n":
		return str(d, &c.Name)
	case "t":
		return str(d, &c.Mime)
	case "cap":
		return str(d, &c.Caption)
	case "cb":
		return flag(d, &c.Carbon)
	case "rd":
		return flag(d, &c.Ready)
	case "p":
		return str(d, &c.Photo)
	case "re":
		return strs(d, &c.Reacts)
	case "q":
		return str(d, &c.Req)
	case "qs":
		return str(d, &c.Query)
	case "e":
		return i64(d, &c.Expires)
	}
	return false
}

// appendJSON appends p as encoding/json marshals it.
func (p *pendingSend) appendJSON(b []byte) []byte {
	e := jsonwire.Encoder{B: b, Start: len(b), HTML: true}
	e.Open()
	e.Str("x", p.X)
	e.StrOmit("h", p.Handle)
	e.Close()
	return e.B
}

func (p *pendingSend) field(d *jsonwire.Decoder, k []byte) bool {
	return string(k) == "x" && str(d, &p.X) ||
		string(k) == "h" && str(d, &p.Handle)
}
