package main

import (
	"encoding/json"
	"strconv"

	"github.com/xmppgw/gateway/plugins/telegram/internal/tdjson"
)

// The plugin's own JSON (contexts and pending sends), written and read by hand: the same
// members as their struct tags say, empty ones left out.

func appendStr(b []byte, k, v string) []byte {
	if v == "" {
		return b
	}
	return tdjson.AppendString(tdjson.AppendKey(b, k), v)
}

func appendInt(b []byte, k string, v int64) []byte {
	if v == 0 {
		return b
	}
	return strconv.AppendInt(tdjson.AppendKey(b, k), v, 10)
}

func appendTrue(b []byte, k string, v bool) []byte {
	if !v {
		return b
	}
	return append(tdjson.AppendKey(b, k), "true"...)
}

// raw is c as JSON, for the SDK's calls (which marshal anything else with encoding/json).
func (c callCtx) raw() json.RawMessage { return c.appendJSON(nil) }

// appendJSON appends c as encoding/json marshals it.
func (c *callCtx) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = tdjson.AppendString(tdjson.AppendKey(b, "op"), c.Op)
	b = appendStr(b, "x", c.X)
	b = appendInt(b, "u", c.User)
	b = appendInt(b, "c", c.Chat)
	b = appendInt(b, "m", c.Msg)
	b = appendInt(b, "r", c.Reply)
	b = appendStr(b, "h", c.Handle)
	if len(c.Content) > 0 {
		b = append(tdjson.AppendKey(b, "ct"), c.Content...)
	}
	b = appendStr(b, "k", c.Kind)
	b = appendStr(b, "n", c.Name)
	b = appendStr(b, "t", c.Mime)
	b = appendStr(b, "cap", c.Caption)
	b = appendTrue(b, "cb", c.Carbon)
	b = appendTrue(b, "rd", c.Ready)
	b = appendStr(b, "p", c.Photo)
	if len(c.Reacts) > 0 {
		b = append(tdjson.AppendKey(b, "re"), '[')
		for i, r := range c.Reacts {
			if i > 0 {
				b = append(b, ',')
			}
			b = tdjson.AppendString(b, r)
		}
		b = append(b, ']')
	}
	b = appendStr(b, "q", c.Req)
	b = appendStr(b, "qs", c.Query)
	b = appendInt(b, "e", c.Expires)
	return append(b, '}')
}

func (c *callCtx) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "op":
			d.String(&c.Op)
		case "x":
			d.String(&c.X)
		case "u":
			d.Int(&c.User)
		case "c":
			d.Int(&c.Chat)
		case "m":
			d.Int(&c.Msg)
		case "r":
			d.Int(&c.Reply)
		case "h":
			d.String(&c.Handle)
		case "ct":
			c.Content = d.Raw()
		case "k":
			d.String(&c.Kind)
		case "n":
			d.String(&c.Name)
		case "t":
			d.String(&c.Mime)
		case "cap":
			d.String(&c.Caption)
		case "cb":
			d.Bool(&c.Carbon)
		case "rd":
			d.Bool(&c.Ready)
		case "p":
			d.String(&c.Photo)
		case "re":
			d.Strings(&c.Reacts)
		case "q":
			d.String(&c.Req)
		case "qs":
			d.String(&c.Query)
		case "e":
			d.Int(&c.Expires)
		default:
			d.Skip()
		}
	}
}

// appendJSON appends p as encoding/json marshals it.
func (p *pendingSend) appendJSON(b []byte) []byte {
	b = append(b, '{')
	b = tdjson.AppendString(tdjson.AppendKey(b, "x"), p.X)
	b = appendStr(b, "h", p.Handle)
	return append(b, '}')
}

func (p *pendingSend) decode(d *tdjson.Decoder) {
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "x":
			d.String(&p.X)
		case "h":
			d.String(&p.Handle)
		default:
			d.Skip()
		}
	}
}
