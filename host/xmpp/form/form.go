// Package form implements XEP-0004: Data Forms, gateway side.
//
// Forms are how a gateway asks users for anything beyond a fixed schema: registration
// (XEP-0077), search (XEP-0055), ad-hoc commands (XEP-0050). A plugin describes a Form, the
// gateway sends its Element, and the user's answer comes back through Parse as a form of type
// submit whose Values the plugin reads.
//
// Parse is strict about what XEP-0004 requires (a known form type, a var on every field that is
// not fixed, unique vars, one value in single-valued fields, boolean values, one value per
// option) and lenient about the rest: a field without a type is text-single, and children in
// other namespaces (XEP-0122 validation, XEP-0221 media) are ignored. Its errors are
// *xmpp.StanzaError with condition bad-request, ready for xmpp.ErrorReply.
package form

import (
	"fmt"
	"strings"

	"github.com/xmppgw/gateway/host/xmpp"
)

// NS is the XEP-0004 namespace.
const NS = "jabber:x:data"

// Form types (XEP-0004 section 3.1).
const (
	TypeForm   = "form"   // the form-processing entity asks for data
	TypeSubmit = "submit" // the form-submitting entity answers
	TypeCancel = "cancel" // the form-submitting entity declines
	TypeResult = "result" // data returned, possibly as a table (Reported and Items)
)

// Field types (XEP-0004 section 3.3). The empty type means TextSingle.
const (
	Boolean     = "boolean"
	Fixed       = "fixed" // display-only text, the only field without a var
	Hidden      = "hidden"
	JIDMulti    = "jid-multi"
	JIDSingle   = "jid-single"
	ListMulti   = "list-multi"
	ListSingle  = "list-single"
	TextMulti   = "text-multi"
	TextPrivate = "text-private"
	TextSingle  = "text-single"
)

// FormType is the var of the hidden field that names the form's schema (XEP-0068).
const FormType = "FORM_TYPE"

// Form is a data form. The zero Type is written as TypeForm.
type Form struct {
	Type  string
	Title string
	// Instructions is free text; each line is written as its own <instructions/> element,
	// because XEP-0004 wants no newlines inside one, and Parse joins them back with "\n".
	Instructions string
	Fields       []Field
	// Reported and Items make a result form a table (section 3.4): Reported declares the
	// columns, each item holds one row's fields.
	Reported []Field
	Items    [][]Field
}

// Field is one form field.
type Field struct {
	Var   string
	Type  string // one of the field type constants; "" is TextSingle
	Label string
	// Desc is a longer help text for the field (no newlines, per XEP-0004).
	Desc     string
	Required bool
	// Values holds the field's values: one for single-valued types, any number for
	// jid-multi, list-multi and text-multi (one per line for text-multi).
	Values []string
	// Options are the choices of a list-single or list-multi field.
	Options []Option
}

// Option is a choice in a list field.
type Option struct {
	Label, Value string
}

// Element returns the <x xmlns='jabber:x:data'/> element for f.
func (f *Form) Element() *xmpp.Element {
	typ := f.Type
	if typ == "" {
		typ = TypeForm
	}
	x := xmpp.Elem(NS, "x", "type", typ)
	if f.Title != "" {
		x.Add(xmpp.Elem(NS, "title").WithText(f.Title))
	}
	if f.Instructions != "" {
		for _, line := range strings.Split(f.Instructions, "\n") {
			x.Add(xmpp.Elem(NS, "instructions").WithText(line))
		}
	}
	for i := range f.Fields {
		x.Add(f.Fields[i].Element())
	}
	if len(f.Reported) > 0 {
		r := xmpp.Elem(NS, "reported")
		for i := range f.Reported {
			r.Add(f.Reported[i].Element())
		}
		x.Add(r)
	}
	for _, item := range f.Items {
		it := xmpp.Elem(NS, "item")
		for i := range item {
			it.Add(item[i].Element())
		}
		x.Add(it)
	}
	return x
}

// Element returns the <field/> element for fd.
func (fd *Field) Element() *xmpp.Element {
	e := xmpp.Elem(NS, "field", "var", fd.Var, "type", fd.Type, "label", fd.Label)
	if fd.Desc != "" {
		e.Add(xmpp.Elem(NS, "desc").WithText(fd.Desc))
	}
	if fd.Required {
		e.Add(xmpp.Elem(NS, "required"))
	}
	for _, v := range fd.Values {
		e.Add(xmpp.Elem(NS, "value").WithText(v))
	}
	for _, o := range fd.Options {
		e.Add(xmpp.Elem(NS, "option", "label", o.Label).Add(xmpp.Elem(NS, "value").WithText(o.Value)))
	}
	return e
}

// Parse reads the <x xmlns='jabber:x:data'/> element e.
func Parse(e *xmpp.Element) (*Form, error) {
	if e == nil || e.Name.Space != NS || e.Name.Local != "x" {
		return nil, badRequest("not a jabber:x:data <x/> element")
	}
	f := &Form{Type: e.Get("type")}
	switch f.Type {
	case TypeForm, TypeSubmit, TypeCancel, TypeResult:
	default:
		return nil, badRequest("unknown form type %q", f.Type)
	}
	var instructions []string
	seen := map[string]bool{}
	sawReported := false
	for c := range e.ChildrenNS(NS) {
		switch c.Name.Local {
		case "title":
			f.Title = c.Text
		case "instructions":
			instructions = append(instructions, c.Text)
		case "field":
			fd, err := parseField(c, seen)
			if err != nil {
				return nil, err
			}
			f.Fields = append(f.Fields, fd)
		case "reported":
			if sawReported {
				return nil, badRequest("more than one <reported/>")
			}
			sawReported = true
			fields, err := parseFields(c)
			if err != nil {
				return nil, err
			}
			f.Reported = fields
		case "item":
			fields, err := parseFields(c)
			if err != nil {
				return nil, err
			}
			f.Items = append(f.Items, fields)
		}
	}
	f.Instructions = strings.Join(instructions, "\n")
	return f, nil
}

// parseFields reads the fields of a <reported/> or <item/>, whose vars are unique within it.
func parseFields(e *xmpp.Element) ([]Field, error) {
	var fields []Field
	seen := map[string]bool{}
	for _, c := range e.Children {
		if c.Name.Space == NS && c.Name.Local == "field" {
			fd, err := parseField(c, seen)
			if err != nil {
				return nil, err
			}
			fields = append(fields, fd)
		}
	}
	return fields, nil
}

func parseField(e *xmpp.Element, seen map[string]bool) (Field, error) {
	fd := Field{Var: e.Get("var"), Type: e.Get("type"), Label: e.Get("label")}
	switch fd.Type {
	case "", Boolean, Fixed, Hidden, JIDMulti, JIDSingle, ListMulti, ListSingle, TextMulti, TextPrivate, TextSingle:
	default:
		return Field{}, badRequest("field %q has unknown type %q", fd.Var, fd.Type)
	}
	if fd.Var == "" && fd.Type != Fixed {
		return Field{}, badRequest("field of type %q without a var", fd.Type)
	}
	if fd.Var != "" {
		if seen[fd.Var] {
			return Field{}, badRequest("field %q appears twice", fd.Var)
		}
		seen[fd.Var] = true
	}
	for c := range e.ChildrenNS(NS) {
		switch c.Name.Local {
		case "desc":
			fd.Desc = c.Text
		case "required":
			fd.Required = true
		case "value":
			fd.Values = append(fd.Values, c.Text)
		case "option":
			var values []string
			for _, v := range c.Children {
				if v.Name.Space == NS && v.Name.Local == "value" {
					values = append(values, v.Text)
				}
			}
			if len(values) != 1 {
				return Field{}, badRequest("option of field %q has %d values, want 1", fd.Var, len(values))
			}
			fd.Options = append(fd.Options, Option{Label: c.Get("label"), Value: values[0]})
		}
	}
	// A field without a type may be any type in a submitted form (the submitter may omit it),
	// so only an explicit single-valued type limits the number of values.
	switch fd.Type {
	case Boolean, Hidden, JIDSingle, ListSingle, TextPrivate, TextSingle:
		if len(fd.Values) > 1 {
			return Field{}, badRequest("field %q of type %s has %d values", fd.Var, fd.Type, len(fd.Values))
		}
	}
	if fd.Type == Boolean && len(fd.Values) == 1 && fd.Values[0] != "" {
		if _, err := ParseBool(fd.Values[0]); err != nil {
			return Field{}, badRequest("field %q: %v", fd.Var, err)
		}
	}
	return fd, nil
}

// WithFormType returns f with the hidden FORM_TYPE field set to ns as its first field, or f
// itself when it already has a FORM_TYPE field. f is not modified. Registration and search
// forms carry it so that clients can tell which protocol the form belongs to (XEP-0068).
func (f *Form) WithFormType(ns string) *Form {
	if f.Field(FormType) != nil {
		return f
	}
	g := *f
	g.Fields = append([]Field{{Var: FormType, Type: Hidden, Values: []string{ns}}}, f.Fields...)
	return &g
}

// Field returns the field named name, or nil. Fields of a result table are not searched.
func (f *Form) Field(name string) *Field {
	for i := range f.Fields {
		if f.Fields[i].Var == name {
			return &f.Fields[i]
		}
	}
	return nil
}

// Value returns the value of the field named name: its values joined with "\n" (one value for
// single-valued fields, the lines of a text-multi), or "" if there is no such field.
func (f *Form) Value(name string) string {
	if fd := f.Field(name); fd != nil {
		return strings.Join(fd.Values, "\n")
	}
	return ""
}

// Values returns every field with a var mapped to its Value, which is what a plugin usually
// wants from a submitted form. Boolean values are returned as sent ("1", "true", ...); use Bool
// to read them.
func (f *Form) Values() map[string]string {
	m := make(map[string]string, len(f.Fields))
	for i := range f.Fields {
		if v := f.Fields[i].Var; v != "" {
			m[v] = strings.Join(f.Fields[i].Values, "\n")
		}
	}
	return m
}

// Bool returns the boolean value of the field named name: true for "1" and "true", false for
// anything else, including a missing field.
func (f *Form) Bool(name string) bool {
	b, _ := ParseBool(f.Value(name))
	return b
}

// ParseBool parses an XEP-0004 boolean: "1" or "true" is true, "0" or "false" is false.
// Anything else (including upper case) is an error.
func ParseBool(s string) (bool, error) {
	switch s {
	case "1", "true":
		return true, nil
	case "0", "false":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q", s)
}

func badRequest(format string, args ...any) *xmpp.StanzaError {
	return &xmpp.StanzaError{Type: xmpp.ErrTypeModify, Condition: "bad-request", Text: "data form: " + fmt.Sprintf(format, args...)}
}
