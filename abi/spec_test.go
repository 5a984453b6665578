package abi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
)

// This file checks README.md, the normative ABI text, against the Go types: every event and
// method has a JSON example in the README, and every example decodes, with unknown fields
// refused, into the type the constant's doc comment names, with every required field present.

// newOf returns a factory of *T, the zero value a README example is decoded into.
func newOf[T any]() func() any { return func() any { return new(T) } }

// empty is the type of a `{}` request or response.
type empty struct{}

// eventSpec is one EventType constant: its payload and reply types (nil: none), and whether its
// envelope carries a chat.
type eventSpec struct {
	name    string // the Go constant's name
	typ     abi.EventType
	payload func() any
	reply   func() any
	chat    bool
}

// methodSpec is one Method constant: its request and response types. A nil response means `{}`;
// its example is optional.
type methodSpec struct {
	name     string // the Go constant's name
	method   abi.Method
	request  func() any
	response func() any
}

var eventSpecs = []eventSpec{
	{"EventInit", abi.EventInit, newOf[abi.Init](), newOf[abi.InitReply](), false},
	{"EventLogin", abi.EventLogin, newOf[abi.Login](), nil, false},
	{"EventLogout", abi.EventLogout, nil, nil, false},
	{"EventUnregister", abi.EventUnregister, nil, nil, false},
	{"EventRestored", abi.EventRestored, nil, nil, false},
	{"EventInput", abi.EventInput, newOf[abi.Input](), nil, false},
	{"EventValidate", abi.EventValidate, newOf[abi.Validate](), nil, false},
	{"EventSearch", abi.EventSearch, newOf[abi.Search](), nil, false},
	{"EventFill", abi.EventFill, nil, nil, false},
	{"EventJIDToLegacy", abi.EventJIDToLegacy, newOf[abi.JIDToLegacy](), newOf[abi.JIDToLegacyReply](), false},
	{"EventLegacyToJID", abi.EventLegacyToJID, newOf[abi.LegacyToJID](), newOf[abi.LegacyToJIDReply](), false},
	{"EventUpdateInfo", abi.EventUpdateInfo, newOf[abi.ContactRef](), nil, false},
	{"EventFriendRequest", abi.EventFriendRequest, newOf[abi.ContactRef](), nil, false},
	{"EventText", abi.EventText, newOf[abi.Text](), nil, true},
	{"EventFile", abi.EventFile, newOf[abi.FileMessage](), nil, true},
	{"EventCorrect", abi.EventCorrect, newOf[abi.Correct](), nil, true},
	{"EventRetract", abi.EventRetract, newOf[abi.Retract](), nil, true},
	{"EventReact", abi.EventReact, newOf[abi.React](), nil, true},
	{"EventDisplayed", abi.EventDisplayed, newOf[abi.Displayed](), nil, true},
	{"EventChatState", abi.EventChatState, newOf[abi.ChatState](), nil, true},
	{"EventBridgeResponse", abi.EventBridgeResponse, newOf[abi.BridgeResponse](), nil, false},
	{"EventBridgeEvent", abi.EventBridgeEvent, newOf[abi.BridgeEvent](), nil, false},
	{"EventTimer", abi.EventTimer, newOf[abi.Timer](), nil, false},
	{"EventFileFetched", abi.EventFileFetched, newOf[abi.FileFetched](), nil, false},
}

var methodSpecs = []methodSpec{
	{"CallContactGet", abi.CallContactGet, newOf[abi.ContactGet](), newOf[abi.Contact]()},
	{"CallContactList", abi.CallContactList, newOf[empty](), newOf[abi.ContactList]()},
	{"CallContactUpdate", abi.CallContactUpdate, newOf[abi.ContactUpdate](), nil},
	{"CallContactAdd", abi.CallContactAdd, newOf[abi.ContactRef](), nil},
	{"CallContactReady", abi.CallContactReady, newOf[abi.ContactRef](), nil},
	{"CallContactFailed", abi.CallContactFailed, newOf[abi.ContactFailed](), nil},
	{"CallContactText", abi.CallContactText, newOf[abi.ContactText](), nil},
	{"CallContactFile", abi.CallContactFile, newOf[abi.ContactFile](), nil},
	{"CallContactCorrect", abi.CallContactCorrect, newOf[abi.ContactCorrect](), nil},
	{"CallContactRetract", abi.CallContactRetract, newOf[abi.ContactMsgRef](), nil},
	{"CallContactReact", abi.CallContactReact, newOf[abi.ContactReact](), nil},
	{"CallContactDisplayed", abi.CallContactDisplayed, newOf[abi.ContactMsgRef](), nil},
	{"CallContactReceived", abi.CallContactReceived, newOf[abi.ContactMsgRef](), nil},
	{"CallContactState", abi.CallContactState, newOf[abi.ContactState](), nil},
	{"CallMessageSent", abi.CallMessageSent, newOf[abi.MessageSent](), nil},
	{"CallMessageFailed", abi.CallMessageFailed, newOf[abi.MessageFailed](), nil},
	{"CallLoggedIn", abi.CallLoggedIn, newOf[abi.SessionStatus](), nil},
	{"CallLoginFailed", abi.CallLoginFailed, newOf[abi.SessionError](), nil},
	{"CallLogout", abi.CallLogout, newOf[abi.SessionError](), nil},
	{"CallStatus", abi.CallStatus, newOf[abi.SessionStatus](), nil},
	{"CallGatewayMessage", abi.CallGatewayMessage, newOf[abi.GatewayMessage](), nil},
	{"CallPrompt", abi.CallPrompt, newOf[abi.Prompt](), nil},
	{"CallRegistrationResult", abi.CallRegistrationResult, newOf[abi.RegistrationResult](), nil},
	{"CallSearchResult", abi.CallSearchResult, newOf[abi.SearchResult](), nil},
	{"CallKVGet", abi.CallKVGet, newOf[abi.KVKey](), newOf[abi.KVValue]()},
	{"CallKVSet", abi.CallKVSet, newOf[abi.KVSet](), nil},
	{"CallKVDelete", abi.CallKVDelete, newOf[abi.KVKey](), nil},
	{"CallKVKeys", abi.CallKVKeys, newOf[abi.KVKey](), newOf[abi.KVKeys]()},
	{"CallTimerSet", abi.CallTimerSet, newOf[abi.TimerSet](), nil},
	{"CallTimerCancel", abi.CallTimerCancel, newOf[abi.TimerRef](), nil},
	{"CallBridgeCall", abi.CallBridgeCall, newOf[abi.BridgeCall](), newOf[abi.Token]()},
	{"CallFileFetch", abi.CallFileFetch, newOf[abi.FileFetch](), newOf[abi.Token]()},
	{"CallFileRelease", abi.CallFileRelease, newOf[abi.FileRef](), nil},
}

// TestSpecTablesComplete checks that the tables above list exactly the EventType and Method
// constants declared in the package, with the same values.
func TestSpecTablesComplete(t *testing.T) {
	consts := parseConsts(t)
	check := func(kind string, declared map[string]string, listed map[string]string) {
		for name, v := range declared {
			lv, ok := listed[name]
			switch {
			case !ok:
				t.Errorf("%s constant %s (%q) is missing from the spec table in spec_test.go", kind, name, v)
			case lv != v:
				t.Errorf("%s constant %s is %q in the source but %q in the spec table", kind, name, v, lv)
			}
		}
		for name := range listed {
			if _, ok := declared[name]; !ok {
				t.Errorf("spec table lists %s %s, which the package does not declare", kind, name)
			}
		}
	}
	evs := map[string]string{}
	for _, e := range eventSpecs {
		evs[e.name] = string(e.typ)
	}
	ms := map[string]string{}
	for _, m := range methodSpecs {
		ms[m.name] = string(m.method)
	}
	check("EventType", consts["EventType"], evs)
	check("Method", consts["Method"], ms)
	if len(consts["EventType"]) == 0 || len(consts["Method"]) == 0 {
		t.Fatalf("found no EventType or Method constants in the package source: %v", consts)
	}
}

// parseConsts returns, by type name (EventType, Method), the package's constants of that type:
// name -> string value.
func parseConsts(t *testing.T) map[string]map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]string{"EventType": {}, "Method": {}}
	fset := token.NewFileSet()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range file.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.CONST {
				continue
			}
			var typ string // the type of the current spec, carried over by implicit repetition
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				switch {
				case vs.Type != nil:
					typ = ""
					if id, ok := vs.Type.(*ast.Ident); ok {
						typ = id.Name
					}
				case len(vs.Values) > 0:
					typ = "" // untyped or of another type
				}
				m, ok := out[typ]
				if !ok {
					continue
				}
				for i, name := range vs.Names {
					if i >= len(vs.Values) {
						t.Errorf("%s: constant %s of type %s has no explicit value", fset.Position(name.Pos()), name.Name, typ)
						continue
					}
					lit, ok := vs.Values[i].(*ast.BasicLit)
					if !ok || lit.Kind != token.STRING {
						t.Errorf("%s: constant %s of type %s is not a string literal", fset.Position(name.Pos()), name.Name, typ)
						continue
					}
					v, err := strconv.Unquote(lit.Value)
					if err != nil {
						t.Fatal(err)
					}
					m[name.Name] = v
				}
			}
		}
	}
	return out
}

// example is one ```json block of README.md with its marker.
type example struct {
	line int    // line of the opening fence, 1-based
	kind string // envelope, request, response, reply, error
	name string // event type or method; empty for error
	body []byte
}

func (e example) String() string {
	if e.name == "" {
		return fmt.Sprintf("README.md:%d (%s)", e.line, e.kind)
	}
	return fmt.Sprintf("README.md:%d (%s %s)", e.line, e.kind, e.name)
}

var markerRE = regexp.MustCompile(`^<!-- example: (?:(envelope|request|response|reply) (\S+)|(error)) -->$`)

// readExamples extracts the marked ```json blocks of README.md. It fails on a ```json block with
// no marker within the 3 lines above it, on a malformed marker, and on a marker no block uses.
func readExamples(t *testing.T) []example {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	type marker struct {
		kind, name string
		used       bool
	}
	markers := map[int]*marker{} // by line index
	for i, l := range lines {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "<!-- example:") {
			continue
		}
		m := markerRE.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("README.md:%d: malformed example marker %q", i+1, l)
			continue
		}
		if m[3] != "" {
			markers[i] = &marker{kind: m[3]}
		} else {
			markers[i] = &marker{kind: m[1], name: m[2]}
		}
	}
	var out []example
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```json" {
			continue
		}
		var mk *marker
		for j := i - 1; j >= 0 && j >= i-3; j-- {
			if m := markers[j]; m != nil {
				mk = m
				break
			}
		}
		start := i
		var body strings.Builder
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body.WriteString(lines[i])
			body.WriteByte('\n')
		}
		if i == len(lines) {
			t.Errorf("README.md:%d: unterminated ```json block", start+1)
		}
		if mk == nil {
			t.Errorf("README.md:%d: ```json block without an <!-- example: ... --> marker in the 3 lines above", start+1)
			continue
		}
		mk.used = true
		out = append(out, example{line: start + 1, kind: mk.kind, name: mk.name, body: []byte(body.String())})
	}
	for i, m := range markers {
		if !m.used {
			t.Errorf("README.md:%d: example marker is not followed by a ```json block within 3 lines", i+1)
		}
	}
	return out
}

// decodeStrict decodes exactly one JSON value into v, refusing unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

var rawType = reflect.TypeFor[json.RawMessage]()

// missingRequired lists the required fields (those whose json tag lacks omitempty) absent from
// raw, a JSON encoding of a value of type typ, recursively.
func missingRequired(typ reflect.Type, raw json.RawMessage, path string) []string {
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	if typ == rawType || len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var missing []string
	switch typ.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			return []string{path + ": " + err.Error()}
		}
		missing = append(missing, missingInStruct(typ, obj, path)...)
	case reflect.Slice:
		if typ.Elem().Kind() == reflect.Uint8 { // []byte: a base64 string
			return nil
		}
		var elems []json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return []string{path + ": " + err.Error()}
		}
		for i, e := range elems {
			missing = append(missing, missingRequired(typ.Elem(), e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case reflect.Map:
		var elems map[string]json.RawMessage
		if err := json.Unmarshal(raw, &elems); err != nil {
			return []string{path + ": " + err.Error()}
		}
		for k, e := range elems {
			missing = append(missing, missingRequired(typ.Elem(), e, path+"."+k)...)
		}
	}
	return missing
}

func missingInStruct(typ reflect.Type, obj map[string]json.RawMessage, path string) []string {
	var missing []string
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct { // embedded: its fields are promoted
				missing = append(missing, missingInStruct(ft, obj, path)...)
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		v, ok := obj[name]
		if !ok {
			if !strings.Contains(","+opts+",", ",omitempty,") && !strings.Contains(","+opts+",", ",omitzero,") {
				missing = append(missing, path+"."+name)
			}
			continue
		}
		missing = append(missing, missingRequired(f.Type, v, path+"."+name)...)
	}
	return missing
}

// checkValue decodes body strictly into a value from factory and checks its required fields.
func checkValue(t *testing.T, ex example, what string, factory func() any, body []byte) {
	t.Helper()
	v := factory()
	if err := decodeStrict(body, v); err != nil {
		t.Errorf("%s: %s does not decode into %T: %v", ex, what, v, err)
		return
	}
	for _, m := range missingRequired(reflect.TypeOf(v), body, what) {
		t.Errorf("%s: required field %s is missing (type %T)", ex, m, v)
	}
}

// TestREADMEExamples decodes every marked example of README.md into its Go type and checks that
// every event and method has its examples.
func TestREADMEExamples(t *testing.T) {
	events := map[abi.EventType]eventSpec{}
	for _, e := range eventSpecs {
		events[e.typ] = e
	}
	methods := map[abi.Method]methodSpec{}
	for _, m := range methodSpecs {
		methods[m.method] = m
	}
	seen := map[string]bool{} // kind + " " + name
	errorExamples := 0

	for _, ex := range readExamples(t) {
		seen[ex.kind+" "+ex.name] = true
		switch ex.kind {
		case "error":
			errorExamples++
			var er abi.ErrorReply
			if err := decodeStrict(ex.body, &er); err != nil {
				t.Errorf("%s: does not decode into abi.ErrorReply: %v", ex, err)
				continue
			}
			for _, m := range missingRequired(reflect.TypeOf(er), ex.body, "error reply") {
				t.Errorf("%s: required field %s is missing", ex, m)
			}
			if er.Error == nil || er.Error.Code.String() == "" || er.Error.Message == "" {
				t.Errorf("%s: error reply without code or message", ex)
				continue
			}
			checkCodeName(t, ex, ex.body)

		case "envelope":
			spec, ok := events[abi.EventType(ex.name)]
			if !ok {
				t.Errorf("%s: unknown event type %q", ex, ex.name)
				continue
			}
			var env abi.Envelope
			if err := decodeStrict(ex.body, &env); err != nil {
				t.Errorf("%s: does not decode into abi.Envelope: %v", ex, err)
				continue
			}
			for _, m := range missingRequired(reflect.TypeOf(env), ex.body, "envelope") {
				t.Errorf("%s: required field %s is missing", ex, m)
			}
			if env.Type != spec.typ {
				t.Errorf("%s: envelope type is %q, marker says %q", ex, env.Type, spec.typ)
			}
			if spec.typ == abi.EventInit && env.Session != "" {
				t.Errorf("%s: init has no session, example has %q", ex, env.Session)
			}
			if spec.typ != abi.EventInit && env.Session == "" {
				t.Errorf("%s: envelope.session is missing", ex)
			}
			if spec.chat && env.Chat == nil {
				t.Errorf("%s: envelope.chat is missing", ex)
			}
			if !spec.chat && env.Chat != nil {
				t.Errorf("%s: envelope.chat is set on an event without a chat", ex)
			}
			switch {
			case spec.payload == nil && len(env.Payload) != 0:
				t.Errorf("%s: event %s has no payload, example has one", ex, spec.typ)
			case spec.payload != nil && len(env.Payload) == 0:
				t.Errorf("%s: envelope.payload is missing", ex)
			case spec.payload != nil:
				checkValue(t, ex, "payload", spec.payload, env.Payload)
				if bytes.Contains(env.Payload, []byte(`"error"`)) {
					checkCodeName(t, ex, env.Payload)
				}
			}

		case "reply":
			spec, ok := events[abi.EventType(ex.name)]
			if !ok {
				t.Errorf("%s: unknown event type %q", ex, ex.name)
				continue
			}
			if spec.reply == nil {
				t.Errorf("%s: event %s has no reply", ex, spec.typ)
				continue
			}
			checkValue(t, ex, "reply", spec.reply, ex.body)

		case "request", "response":
			spec, ok := methods[abi.Method(ex.name)]
			if !ok {
				t.Errorf("%s: unknown method %q", ex, ex.name)
				continue
			}
			factory := spec.request
			if ex.kind == "response" {
				factory = spec.response
				if factory == nil {
					factory = newOf[empty]()
				}
			}
			checkValue(t, ex, ex.kind, factory, ex.body)
		}
	}

	for _, e := range eventSpecs {
		if !seen["envelope "+string(e.typ)] {
			t.Errorf("README.md has no <!-- example: envelope %s --> for %s", e.typ, e.name)
		}
		if e.reply != nil && !seen["reply "+string(e.typ)] {
			t.Errorf("README.md has no <!-- example: reply %s --> for %s", e.typ, e.name)
		}
	}
	for _, m := range methodSpecs {
		if !seen["request "+string(m.method)] {
			t.Errorf("README.md has no <!-- example: request %s --> for %s", m.method, m.name)
		}
		if m.response != nil && !seen["response "+string(m.method)] {
			t.Errorf("README.md has no <!-- example: response %s --> for %s", m.method, m.name)
		}
	}
	if errorExamples == 0 {
		t.Error("README.md has no <!-- example: error --> block")
	}
}

// checkCodeName fails if an "error" object in body carries a code name the package does not
// define (abi.Code decodes an unknown name as internal, which would hide a typo).
func checkCodeName(t *testing.T, ex example, body []byte) {
	t.Helper()
	var v struct {
		Error *struct {
			Code string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Error == nil {
		return
	}
	var c abi.Code
	if err := c.UnmarshalText([]byte(v.Error.Code)); err != nil || c.String() != v.Error.Code {
		t.Errorf("%s: unknown error code %q", ex, v.Error.Code)
	}
}

// TestREADMEErrorCodes checks that the error table of README.md lists every code with its number
// and name.
func TestREADMEErrorCodes(t *testing.T) {
	readme := readREADME(t)
	n := 0
	for c := abi.Code(1); !strings.HasPrefix(c.String(), "code_"); c++ {
		n++
		row := fmt.Sprintf("| %d | `%s` |", int32(c), c)
		if !strings.Contains(readme, row) {
			t.Errorf("README.md error table lacks the row %q", row)
		}
	}
	if n == 0 {
		t.Fatal("no error codes found")
	}
}

// TestREADMENames checks that README.md names every export, import and the marker.
func TestREADMENames(t *testing.T) {
	readme := readREADME(t)
	names := []string{
		abi.ImportModule,
		fmt.Sprintf("%s%d_%d", abi.MarkerPrefix, abi.Major, abi.Minor),
		abi.ExportAlloc, abi.ExportFree, abi.ExportEvent, abi.ExportInitialize,
		abi.ImportCall, abi.ImportResult, abi.ImportReply, abi.ImportLog,
	}
	for _, n := range names {
		if !strings.Contains(readme, "`"+n+"`") {
			t.Errorf("README.md does not mention `%s`", n)
		}
	}
	for _, l := range []abi.LogLevel{abi.LogDebug, abi.LogInfo, abi.LogWarn, abi.LogError} {
		if !strings.Contains(readme, fmt.Sprintf("`%d`", l)) {
			t.Errorf("README.md does not give log level `%d`", l)
		}
	}
}

// TestREADMEFieldsDocumented checks that every JSON field of every payload, reply, request and
// response type is named somewhere in README.md.
func TestREADMEFieldsDocumented(t *testing.T) {
	readme := readREADME(t)
	var factories []func() any
	for _, e := range eventSpecs {
		factories = append(factories, e.payload, e.reply)
	}
	for _, m := range methodSpecs {
		factories = append(factories, m.request, m.response)
	}
	factories = append(factories, newOf[abi.Envelope](), newOf[abi.ErrorReply]())
	done := map[reflect.Type]bool{}
	var missing []string
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || done[typ] {
			return
		}
		done[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if f.Anonymous && name == "" {
				walk(f.Type)
				continue
			}
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(readme, "`"+name+"`") {
				missing = append(missing, typ.Name()+"."+name)
			}
			walk(f.Type)
		}
	}
	for _, f := range factories {
		if f != nil {
			walk(reflect.TypeOf(f()))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("README.md never names the JSON field of %s", m)
	}
}

func readREADME(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
