// Package disco implements the answering side of XEP-0030: Service Discovery, and the XEP-0115
// capabilities hash of what it answers.
package disco

import (
	"crypto/sha1"
	"encoding/base64"
	"sort"
	"strings"

	"github.com/xmppgw/gateway/host/xmpp"
)

// Namespaces of XEP-0030.
const (
	NSInfo  = "http://jabber.org/protocol/disco#info"
	NSItems = "http://jabber.org/protocol/disco#items"
)

// Identity is a disco identity: category, type and a human name.
type Identity struct {
	Category, Type, Name string
}

// Info is what an entity answers to disco#info.
type Info struct {
	Identities []Identity
	Features   []string
	// Forms are XEP-0128 extensions, such as XEP-0444's reaction restrictions.
	Forms []Form
}

// Form is an XEP-0128 service discovery extension: a result data form identified by its
// FORM_TYPE.
type Form struct {
	Type   string // the FORM_TYPE value
	Fields []FormField
}

// FormField is one field of a Form.
type FormField struct {
	Var    string
	Values []string
}

// nsData is XEP-0004.
const nsData = "jabber:x:data"

// Element returns the <query xmlns=disco#info/> payload, for node (empty for the entity itself).
func (in Info) Element(node string) *xmpp.Element {
	q := xmpp.Elem(NSInfo, "query", "node", node)
	for _, id := range in.Identities {
		q.Add(xmpp.Elem(NSInfo, "identity", "category", id.Category, "type", id.Type, "name", id.Name))
	}
	for _, f := range in.Features {
		q.Add(xmpp.Elem(NSInfo, "feature", "var", f))
	}
	for _, f := range in.Forms {
		x := xmpp.Elem(nsData, "x", "type", "result").Add(
			xmpp.Elem(nsData, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.Elem(nsData, "value").WithText(f.Type)))
		for _, fl := range f.Fields {
			field := xmpp.Elem(nsData, "field", "var", fl.Var)
			for _, v := range fl.Values {
				field.Add(xmpp.Elem(nsData, "value").WithText(v))
			}
			x.Add(field)
		}
		q.Add(x)
	}
	return q
}

// CapsHash returns the XEP-0115 verification string (sha-1, base64) of in.
func (in Info) CapsHash() string {
	ids := make([]string, len(in.Identities))
	for i, id := range in.Identities {
		ids[i] = id.Category + "/" + id.Type + "//" + id.Name
	}
	sort.Strings(ids)
	fs := append([]string(nil), in.Features...)
	sort.Strings(fs)
	var b strings.Builder
	for _, s := range ids {
		b.WriteString(s)
		b.WriteByte('<')
	}
	for _, s := range fs {
		b.WriteString(s)
		b.WriteByte('<')
	}
	forms := append([]Form(nil), in.Forms...)
	sort.Slice(forms, func(i, j int) bool { return forms[i].Type < forms[j].Type })
	for _, f := range forms {
		b.WriteString(f.Type)
		b.WriteByte('<')
		fields := append([]FormField(nil), f.Fields...)
		sort.Slice(fields, func(i, j int) bool { return fields[i].Var < fields[j].Var })
		for _, fl := range fields {
			b.WriteString(fl.Var)
			b.WriteByte('<')
			vals := append([]string(nil), fl.Values...)
			sort.Strings(vals)
			for _, v := range vals {
				b.WriteString(v)
				b.WriteByte('<')
			}
		}
	}
	sum := sha1.Sum([]byte(b.String())) // #nosec G401 -- XEP-0115 mandates sha-1 here
	return base64.StdEncoding.EncodeToString(sum[:])
}

// Item is one disco#items entry.
type Item struct {
	JID, Node, Name string
}

// ItemsElement returns the <query xmlns=disco#items/> payload listing items.
func ItemsElement(node string, items []Item) *xmpp.Element {
	q := xmpp.Elem(NSItems, "query", "node", node)
	for _, it := range items {
		q.Add(xmpp.Elem(NSItems, "item", "jid", it.JID, "node", it.Node, "name", it.Name))
	}
	return q
}
