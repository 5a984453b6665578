package tdjson

import (
	"encoding/json"
	"strings"
	"testing"
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
	if !d.Object() {
		return
	}
	for d.Field() {
		switch string(d.Key()) {
		case "@type":
			d.String(&s.Type)
		case "id":
			d.ID(&s.ID)
		case "n":
			d.Int(&s.N)
		case "small":
			d.IntN(&s.Small)
		case "ok":
			d.Bool(&s.OK)
		case "names":
			d.Strings(&s.Names)
		case "ids":
			d.IDs(&s.IDs)
		case "raw":
			s.Raw = d.Raw()
		default:
			d.Skip()
		}
	}
}

func decodeSample(in string) (sample, error) {
	var s sample
	d := NewDecoder([]byte(in))
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
		// Keys encoding/json might match to a field without regard to case.
		{in: `{"ID":5}`, fail: true},
		{in: `{"Other":5}`, fail: true},
		{in: `{"\u0069d":5}`, fail: true},
		{in: `{"ıd":5}`, fail: true},
	} {
		got, err := decodeSample(tc.in)
		if tc.fail {
			if err == nil {
				t.Errorf("%.60q: no error, got %+v", tc.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("%.60q: %v", tc.in, err)
			continue
		}
		if g, w := mustJSON(t, got), mustJSON(t, tc.want); g != w {
			t.Errorf("%.60q: got %s, want %s", tc.in, g, w)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestSkipSyntax: skip accepts exactly what encoding/json accepts (short of depth and keys).
func TestSkipSyntax(t *testing.T) {
	for _, in := range []string{
		`0`, `-0`, `-0.0e-0`, `12.5E+3`, `01`, `1.`, `.1`, `-`, `+1`, `1e`, `0x1`, `Infinity`, `NaN`,
		`"a"`, `"\u00zz"`, `"\/\b\f\n\r\t\"\\"`, "\"\t\"", "\"\xff\"", `"`, `"\`,
		`true`, `false`, `null`, `nul`, `True`, `tru e`,
		`[]`, `[1,2]`, `[1,,2]`, `[,]`, `[1,]`, `[`, `]`, `[[]]`, `[[]`, `[{}]`, `[{]`,
		`{}`, `{"a":1}`, `{"a":1,"b":[{"c":{}}]}`, `{"a"}`, `{"a":}`, `{a:1}`, `{"a":1,}`, `{,}`,
		`{"a":1}}`, `{"a":[}`, `{"a":{]}`, ` { } `, "\n[\r1\t]", `[] []`, ``,
	} {
		d := NewDecoder([]byte(in))
		d.skip()
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
		d := NewDecoder([]byte(in))
		got := "unset"
		d.String(&got)
		if err := d.End(); err != nil || got != want {
			t.Errorf("%q: got %q (%v), want %q", in, got, err, want)
		}
	}
}

func TestAppendString(t *testing.T) {
	for _, s := range []string{
		"", "plain", `quote " and \ backslash`, "<b>&amp;</b>", "tab\t\x00\x1f", "é😀", "\u2028\u2029",
		"bad \xff utf8", "del \x7f",
	} {
		want, _ := json.Marshal(s)
		if got := AppendString([]byte("x"), s); string(got) != "x"+string(want) {
			t.Errorf("%q: got %s, want x%s", s, got, want)
		}
	}
}

func TestAppendKey(t *testing.T) {
	b := AppendKey([]byte("{"), "a")
	b = append(b, '1')
	b = AppendKey(b, "b")
	if b = append(b, "2}"...); string(b) != `{"a":1,"b":2}` {
		t.Errorf("got %s", b)
	}
}

// FuzzDecoder: no input makes the decoder panic, and what it reads is valid JSON.
func FuzzDecoder(f *testing.F) {
	for _, s := range []string{`{"@type":"user","id":12,"names":["a"],"ids":[1,"2"],"raw":{"a":[]}}`, `{"x":[1,{"y":"z"}]}`, `null`, `{"id":"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		_, err := decodeSample(in)
		if err == nil && !json.Valid([]byte(in)) {
			t.Errorf("%q: read, but not valid JSON", in)
		}
	})
}
