package jsonwire

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// sample is what the tests decode: a little of everything.
type sample struct {
	Type  string
	ID    int64
	N     int64
	Small int
	OK    bool
	Names []string
	IDs   []int64
	Raw   []byte
}

func (s *sample) decode(d *Decoder) {
	for ok := d.Object(); ok && d.Field(); {
		switch string(d.Key()) {
		case "@type":
			s.Type = d.Str()
		case "id":
			s.ID = d.IntOrString()
		case "n":
			s.N = d.Int()
		case "small":
			s.Small = int(d.Int())
		case "ok":
			s.OK = d.Bool()
		case "names":
			s.Names = d.Strs()
		case "ids":
			if !d.Array() {
				s.IDs = nil
				continue
			}
			s.IDs = []int64{}
			for d.Elem() {
				s.IDs = append(s.IDs, d.IntOrString())
			}
		case "raw":
			s.Raw = d.Raw()
		default:
			d.Skip()
		}
	}
}

func decodeSample(in string, m Mode) (sample, error) {
	var s sample
	d := NewDecoder([]byte(in), m)
	s.decode(&d)
	return s, d.End()
}

func TestDecoder(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want sample
		fail bool
	}{
		{in: `{"@type":"user","id":12,"n":-3,"small":7,"ok":true}`, want: sample{Type: "user", ID: 12, N: -3, Small: 7, OK: true}},
		{in: ` { "@type" : "x" , "id" : "9007199254740993" } `, want: sample{Type: "x", ID: 9007199254740993}},
		{in: `{"id":""}`, want: sample{}},
		{in: `{"id":null,"n":null,"ok":null,"@type":null,"names":null,"ids":null}`, want: sample{}},
		{in: `null`, want: sample{}},
		{in: `{}`, want: sample{}},
		{in: `{"names":["a","b\n","\u00e9\ud83d\ude00"],"ids":[1,"2",null]}`, want: sample{Names: []string{"a", "b\n", "é😀"}, IDs: []int64{1, 2, 0}}},
		{in: `{"names":[],"ids":[]}`, want: sample{Names: []string{}, IDs: []int64{}}},
		{in: `{"raw":{"a":[1,{"b":null}],"c":"d"},"id":1}`, want: sample{Raw: []byte(`{"a":[1,{"b":null}],"c":"d"}`), ID: 1}},
		{in: `{"raw":null}`, want: sample{Raw: []byte(`null`)}},
		{in: `{"other":{"deep":[[[[]]],{}],"x":-1.5e+10,"y":"\"","z":false},"id":3}`, want: sample{ID: 3}},
		{in: `{"@type":"caf\u00e9"}`, want: sample{Type: "café"}},
		{in: "{\"@type\":\"bad \xff utf8\"}", want: sample{Type: "bad \ufffd utf8"}},
		// Malformed input and values of the wrong type stop the decoder.
		{in: ``, fail: true},
		{in: `{`, fail: true},
		{in: `{"id":1`, fail: true},
		{in: `{"id":1,}`, fail: true},
		{in: `{"id" 1}`, fail: true},
		{in: `{"id":1} x`, fail: true},
		{in: `[]`, fail: true},
		{in: `"s"`, fail: true},
		{in: `{"id":1.5}`, fail: true},
		{in: `{"id":1e3}`, fail: true},
		{in: `{"id":"1.5"}`, fail: true},
		{in: `{"id":"12a"}`, fail: true},
		{in: `{"id":"1\u0032"}`, fail: true},
		{in: `{"id":true}`, fail: true},
		{in: `{"id":99999999999999999999}`, fail: true},
		{in: `{"n":"5"}`, fail: true},
		{in: `{"n":05}`, fail: true},
		{in: `{"n":-}`, fail: true},
		{in: `{"ok":1}`, fail: true},
		{in: `{"ok":tru}`, fail: true},
		{in: `{"@type":5}`, fail: true},
		{in: `{"@type":"a\x01b"}`, fail: true},
		{in: `{"@type":"a\qb"}`, fail: true},
		{in: `{"@type":"a\u12"}`, fail: true},
		{in: `{"@type":"abc`, fail: true},
		{in: `{"names":"a"}`, fail: true},
		{in: `{"names":[1]}`, fail: true},
		{in: `{"ids":[1,]}`, fail: true},
		{in: `{"other":[1 2]}`, fail: true},
		{in: `{"other":{"a" 1}}`, fail: true},
		{in: `{"other":{"a":1,}}`, fail: true},
		{in: `{"other":{1:2}}`, fail: true},
		{in: `{"other":[}`, fail: true},
		{in: `{"other":nul}`, fail: true},
		{in: `{"other":+1}`, fail: true},
		{in: `{"other":.5}`, fail: true},
		{in: `{"other":1.}`, fail: true},
		{in: `{"other":1e}`, fail: true},
		{in: `{"other":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`, fail: true},
		// Strict: keys encoding/json might match to a field without regard to case.
		{in: `{"ID":5}`, fail: true},
		{in: `{"Other":5}`, fail: true},
		{in: `{"\u0069d":5}`, fail: true},
		{in: `{"ıd":5}`, fail: true},
	} {
		got, err := decodeSample(tc.in, Strict)
		if tc.fail {
			if err == nil {
				t.Errorf("%.60q: no error, got %+v", tc.in, got)
			} else if !errors.Is(err, ErrSyntax) {
				t.Errorf("%.60q: %v is not ErrSyntax", tc.in, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%.60q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%.60q: got %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

// TestKeys: without Strict, keys are unescaped, and LowerKey folds ASCII case.
func TestKeys(t *testing.T) {
	d := NewDecoder([]byte(`{"ID":1,"\u0069d":2,"Caf\u00e9":3,"ı":4,"é":5}`), 0)
	var keys, lower []string
	for ok := d.Object(); ok && d.Field(); {
		keys = append(keys, string(d.Key()))
		lower = append(lower, string(d.LowerKey()))
		d.Skip()
	}
	if err := d.End(); err != nil {
		t.Fatal(err)
	}
	if w := []string{"ID", "id", "Café", "ı", "é"}; !reflect.DeepEqual(keys, w) {
		t.Errorf("keys %q, want %q", keys, w)
	}
	if w := []string{"id", "id", "café", "ı", "é"}; !reflect.DeepEqual(lower, w) {
		t.Errorf("lower keys %q, want %q", lower, w)
	}
}

// TestRawAlias: Raw copies unless Alias is set.
func TestRawAlias(t *testing.T) {
	in := []byte(`[{"a":1}]`)
	for _, m := range []Mode{0, Alias} {
		d := NewDecoder(in, m)
		d.Array()
		d.Elem()
		r := d.Raw()
		if string(r) != `{"a":1}` || (&r[0] == &in[1]) != (m == Alias) {
			t.Errorf("mode %d: %s aliased %v", m, r, &r[0] == &in[1])
		}
	}
}

// TestSkipSyntax: skip accepts exactly what encoding/json accepts (short of depth).
func TestSkipSyntax(t *testing.T) {
	for _, in := range []string{
		`0`, `-0`, `-0.0e-0`, `12.5E+3`, `01`, `1.`, `.1`, `-`, `+1`, `1e`, `0x1`, `Infinity`, `NaN`,
		`"a"`, `"\u00zz"`, `"\/\b\f\n\r\t\"\\"`, "\"\t\"", "\"\xff\"", `"`, `"\`,
		`true`, `false`, `null`, `nul`, `True`, `tru e`,
		`[]`, `[1,2]`, `[1,,2]`, `[,]`, `[1,]`, `[`, `]`, `[[]]`, `[[]`, `[{}]`, `[{]`,
		`{}`, `{"a":1}`, `{"a":1,"b":[{"c":{}}]}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{,}`,
		`{"a":1}}`, `{"a":[}`, `{"a":{]}`, ` { } `, "\n[\r1\t]", `[] []`, ``,
	} {
		d := NewDecoder([]byte(in), 0)
		d.Skip()
		got := d.End() == nil
		if want := json.Valid([]byte(in)); got != want {
			t.Errorf("%q: skip %v, encoding/json %v", in, got, want)
		}
	}
}

// TestStringLikeJSON: strings decode as encoding/json decodes them.
func TestStringLikeJSON(t *testing.T) {
	for _, in := range []string{
		`""`, `"plain text, quite long to cross a word or two"`, `"é and 😀"`, `"\u003chtml\u003e"`,
		`"\ud83d\ude00"`, `"\ud83d"`, `"\ude00x"`, `"tab\tnew\nline"`, "\"\xc3\x28 invalid\"", "\"\xed\xa0\x80\"",
	} {
		var want string
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		d := NewDecoder([]byte(in), 0)
		if got := d.Str(); d.End() != nil || got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, d.Err(), want)
		}
	}
}

var strCases = []string{
	"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\t\x00\x1f\b\f\r", "é😀", "\u2028\u2029",
	"bad \xff utf8", "del \x7f", "mixed é <\xff> \u2028 \x01",
}

func TestAppendHTMLString(t *testing.T) {
	for _, s := range strCases {
		want, _ := json.Marshal(s)
		if got := AppendHTMLString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want x%s", s, got, want)
		}
	}
}

func TestEncoder(t *testing.T) {
	e := Encoder{B: []byte("x"), Start: 1, HTML: true}
	e.Open()
	e.Str("a", "<")
	e.StrOmit("b", "")
	e.IntOmit("c", 2)
	e.BoolOmit("d", true)
	e.RawOmit("e", []byte(`[1]`))
	e.Strs("f", []string{"g", "h"})
	e.Key("i")
	e.OpenArray()
	e.String("j")
	e.Open()
	e.Close()
	e.CloseArray()
	e.Close()
	if want := `x{"a":"\u003c","c":2,"d":true,"e":[1],"f":["g","h"],"i":["j",{}]}`; string(e.B) != want {
		t.Errorf("got  %s\nwant %s", e.B, want)
	}
}

// unescapeHTML undoes the escapes that AppendHTMLString writes and AppendString does not.
var unescapeHTML = strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&", `\u2028`, "\u2028", `\u2029`, "\u2029", `\ufffd`, "\ufffd")

func FuzzString(f *testing.F) {
	for _, s := range strCases {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendHTMLString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendHTMLString(%q) = %s, want %s", s, got, want)
		}
		got := AppendString(nil, s)
		if !json.Valid(got) || unescapeHTML.Replace(string(got)) != unescapeHTML.Replace(string(want)) {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		var back string
		_ = json.Unmarshal(want, &back)
		d := NewDecoder(got, 0)
		if dec := d.Str(); dec != back || d.End() != nil {
			t.Fatalf("Str(%s) = %q, want %q (%v)", got, dec, back, d.Err())
		}
	})
}

// FuzzDecoder: no input makes the decoder panic, and what it reads is valid JSON.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{"@type":"user","id":12,"names":["a"],"ids":[1,"2"],"raw":{"a":[]}}`, `{"x":[1,{"y":"z"}]}`, `null`, `{"id":"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		for _, m := range []Mode{0, Strict} {
			if _, err := decodeSample(in, m); err == nil && !json.Valid([]byte(in)) {
				t.Errorf("%q: read, but not valid JSON", in)
			}
		}
	})
}

func TestScanners(t *testing.T) {
	for _, s := range []string{"", "abc", "abcdefgh\"", "abcdefghij\\", "a\x01", "abcdefghijklmnop\x1f", "abcdefghé", "\x7f~ !#", "abcdefgh ~~~~~~~~", "ééééééééé\"", "\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\x00"} {
		want, hi := len(s), false
		for i := 0; i < len(s); i++ {
			if c := s[i]; c == '"' || c == '\\' || c < 0x20 {
				want = i
				break
			} else if c >= 0x80 {
				hi = true
			}
		}
		if got, h := scanString([]byte(s)); got != want || h != hi {
			t.Errorf("scanString(%q) = %d %v, want %d %v", s, got, h, want, hi)
		}
		if got, want := indexByte([]byte(s), '\\'), strings.IndexByte(s, '\\'); got != want {
			t.Errorf("indexByte(%q) = %d, want %d", s, got, want)
		}
		if got, want := validUTF8([]byte(s)), utf8.ValidString(s); got != want {
			t.Errorf("validUTF8(%q) = %v, want %v", s, got, want)
		}
	}
}
