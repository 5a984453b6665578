package xmpp

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
)

// Element is an XML element read from or written to the component stream: a stanza or one of
// its payloads. It is a small tree, so that routers and XEP packages can look at any child
// without a schema.
type Element struct {
	Name     xml.Name
	Attr     []xml.Attr
	Children []*Element
	// Text is the element's character data (concatenated), for leaf elements such as <body/>.
	Text string
}

// maxDepth bounds nesting so that a hostile stream cannot exhaust the stack.
const maxDepth = 64

// ErrTooDeep reports an element nested deeper than the reader accepts.
var ErrTooDeep = errors.New("xmpp: element nested too deeply")

// ReadElement reads the element that start opened from r, up to its end tag.
func ReadElement(r xml.TokenReader, start xml.StartElement) (*Element, error) {
	return readElement(r, start, 0)
}

func readElement(r xml.TokenReader, start xml.StartElement, depth int) (*Element, error) {
	if depth > maxDepth {
		return nil, ErrTooDeep
	}
	e := &Element{Name: start.Name}
	if len(start.Attr) > 0 {
		e.Attr = make([]xml.Attr, 0, len(start.Attr))
		for _, a := range start.Attr {
			if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
				continue // namespaces live in Name.Space
			}
			e.Attr = append(e.Attr, a)
		}
	}
	var text strings.Builder
	for {
		tok, err := r.Token()
		if err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			c, err := readElement(r, t, depth+1)
			if err != nil {
				return nil, err
			}
			e.Children = append(e.Children, c)
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			e.Text = text.String()
			return e, nil
		}
	}
}

// ParseElement reads one element from its XML text (as AppendXML wrote it).
func ParseElement(s string) (*Element, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	for {
		tok, err := d.Token()
		if err != nil {
			return nil, err
		}
		if start, ok := tok.(xml.StartElement); ok {
			return ReadElement(d, start)
		}
	}
}

// Get returns the value of the attribute with the given local name (no namespace), or "".
func (e *Element) Get(local string) string {
	for _, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			return a.Value
		}
	}
	return ""
}

// Set sets an attribute (no namespace), replacing an existing one.
func (e *Element) Set(local, value string) {
	for i, a := range e.Attr {
		if a.Name.Local == local && a.Name.Space == "" {
			e.Attr[i].Value = value
			return
		}
	}
	e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: local}, Value: value})
}

// Child returns the first child with the given namespace and local name, or nil.
func (e *Element) Child(space, local string) *Element {
	for _, c := range e.Children {
		if c.Name.Local == local && c.Name.Space == space {
			return c
		}
	}
	return nil
}

// ChildNS returns the first child in the given namespace, whatever its name, or nil.
func (e *Element) ChildNS(space string) *Element {
	for _, c := range e.Children {
		if c.Name.Space == space {
			return c
		}
	}
	return nil
}

// ChildrenNS returns the children in the given namespace, in order: what a parser of that
// namespace reads, extensions left out.
func (e *Element) ChildrenNS(space string) iter.Seq[*Element] {
	return func(yield func(*Element) bool) {
		for _, c := range e.Children {
			if c.Name.Space == space && !yield(c) {
				return
			}
		}
	}
}

// Elem builds an element in namespace space with attributes given as name/value pairs.
func Elem(space, local string, attrs ...string) *Element {
	e := &Element{Name: xml.Name{Space: space, Local: local}}
	if len(attrs)%2 != 0 {
		panic("xmpp.Elem: odd number of attribute strings")
	}
	for i := 0; i < len(attrs); i += 2 {
		if attrs[i+1] != "" {
			e.Attr = append(e.Attr, xml.Attr{Name: xml.Name{Local: attrs[i]}, Value: attrs[i+1]})
		}
	}
	return e
}

// Add appends children and returns e, for building trees in one expression.
func (e *Element) Add(children ...*Element) *Element {
	e.Children = append(e.Children, children...)
	return e
}

// WithText sets the character data and returns e.
func (e *Element) WithText(s string) *Element {
	e.Text = s
	return e
}

// AppendXML appends the element's serialisation to b. A namespace is declared wherever it differs
// from the parent's, which is what the component stream (default namespace
// jabber:component:accept) expects. The stanza itself is written in parentNS.
func (e *Element) AppendXML(b []byte, parentNS string) []byte {
	b = append(b, '<')
	b = append(b, e.Name.Local...)
	if e.Name.Space != parentNS && e.Name.Space != "" {
		b = append(b, ` xmlns="`...)
		b = AppendEscaped(b, e.Name.Space)
		b = append(b, '"')
	}
	for _, a := range e.Attr {
		b = append(b, ' ')
		if a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
			b = append(b, "xml:"...)
		}
		b = append(b, a.Name.Local...)
		b = append(b, `="`...)
		b = AppendEscaped(b, a.Value)
		b = append(b, '"')
	}
	if len(e.Children) == 0 && e.Text == "" {
		return append(b, "/>"...)
	}
	b = append(b, '>')
	b = AppendEscaped(b, e.Text)
	ns := e.Name.Space
	if ns == "" {
		ns = parentNS
	}
	for _, c := range e.Children {
		b = c.AppendXML(b, ns)
	}
	b = append(b, "</"...)
	b = append(b, e.Name.Local...)
	return append(b, '>')
}

// String returns the element as XML in the component namespace, for logs and tests.
func (e *Element) String() string { return string(e.AppendXML(nil, NSComponent)) }

// xmlSpecial marks the bytes AppendEscaped replaces: the five XML special characters and the
// control characters, white space included.
var xmlSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	for _, c := range `<>&"'` {
		t[c] = true
	}
	return t
}()

// AppendEscaped appends s to b as AppendXML writes text and attribute values: the five XML
// special characters and white space other than the blank escaped (so that values survive
// parsing unchanged: a raw CR would be read back as LF), the other control characters, which
// XML 1.0 forbids, replaced by U+FFFD. It is exported so that code writing stanzas straight
// into a byte buffer (package presence) puts on the wire exactly what an Element would. JIDs,
// hashes and most text have nothing to escape and are copied at once.
func AppendEscaped(b []byte, s string) []byte {
	i := 0
	for i < len(s) && !xmlSpecial[s[i]] {
		i++
	}
	if i == len(s) {
		return append(b, s...)
	}
	b = append(b, s[:i]...)
	last := i
	for ; i < len(s); i++ {
		var esc string
		switch c := s[i]; c {
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '&':
			esc = "&amp;"
		case '"':
			esc = "&quot;"
		case '\'':
			esc = "&apos;"
		case '\t':
			esc = "&#x9;"
		case '\n':
			esc = "&#xA;"
		case '\r':
			esc = "&#xD;"
		default:
			if !xmlSpecial[c] {
				continue
			}
			esc = "\uFFFD"
		}
		b = append(b, s[last:i]...)
		b = append(b, esc...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// Stanza kinds, the local names of the three top-level stanzas.
const (
	KindMessage  = "message"
	KindPresence = "presence"
	KindIQ       = "iq"
)

// Namespaces used on the component stream.
const (
	NSComponent = "jabber:component:accept"
	NSStanzas   = "urn:ietf:params:xml:ns:xmpp-stanzas"
)

// ErrorType is the type attribute of a stanza error (RFC 6120 8.3.2).
type ErrorType string

// Stanza error types.
const (
	ErrTypeCancel   ErrorType = "cancel"
	ErrTypeContinue ErrorType = "continue"
	ErrTypeModify   ErrorType = "modify"
	ErrTypeAuth     ErrorType = "auth"
	ErrTypeWait     ErrorType = "wait"
)

// StanzaError is an RFC 6120 stanza error: a type, a defined condition and a human text.
type StanzaError struct {
	Type      ErrorType
	Condition string // e.g. "item-not-found", "service-unavailable", "resource-constraint"
	Text      string
}

// Error implements error.
func (e *StanzaError) Error() string {
	if e.Text == "" {
		return e.Condition
	}
	return fmt.Sprintf("%s: %s", e.Condition, e.Text)
}

// Element returns the <error/> child for a stanza.
func (e *StanzaError) Element() *Element {
	el := Elem(NSComponent, "error", "type", string(e.Type))
	el.Add(Elem(NSStanzas, e.Condition))
	if e.Text != "" {
		t := Elem(NSStanzas, "text").WithText(e.Text)
		t.Attr = append(t.Attr, xml.Attr{Name: xml.Name{Space: "xml", Local: "lang"}, Value: "en"})
		el.Add(t)
	}
	return el
}

// ErrorReply builds the error answer to stanza s: same kind and id, from and to swapped,
// type="error", the original payload left out.
func ErrorReply(s *Element, se *StanzaError) *Element {
	r := Elem(NSComponent, s.Name.Local, "type", "error", "id", s.Get("id"), "from", s.Get("to"), "to", s.Get("from"))
	return r.Add(se.Element())
}

// IQResult builds the result answer to IQ s, with an optional payload.
func IQResult(s *Element, payload ...*Element) *Element {
	r := Elem(NSComponent, KindIQ, "type", "result", "id", s.Get("id"), "from", s.Get("to"), "to", s.Get("from"))
	return r.Add(payload...)
}

// SplitJID splits a JID into local part, domain and resource without validating it; the
// server has already validated what it routes to the component.
func SplitJID(j string) (local, domain, resource string) {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		j, resource = j[:i], j[i+1:]
	}
	if i := strings.IndexByte(j, '@'); i >= 0 {
		local, j = j[:i], j[i+1:]
	}
	return local, j, resource
}

// Bare returns the JID without its resource.
func Bare(j string) string {
	if i := strings.IndexByte(j, '/'); i >= 0 {
		return j[:i]
	}
	return j
}

// Renamespace returns a deep copy of e in which every element in namespace from is moved to
// namespace to: a stanza built for the component stream becomes a jabber:client stanza to wrap
// in a <forwarded/> (XEP-0297).
func (e *Element) Renamespace(from, to string) *Element {
	c := &Element{Name: e.Name, Attr: append([]xml.Attr(nil), e.Attr...), Text: e.Text}
	if c.Name.Space == from {
		c.Name.Space = to
	}
	if len(e.Children) > 0 {
		c.Children = make([]*Element, len(e.Children))
		for i, ch := range e.Children {
			c.Children[i] = ch.Renamespace(from, to)
		}
	}
	return c
}
