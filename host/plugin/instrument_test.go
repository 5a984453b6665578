package plugin

import (
	"bytes"
	"testing"
)

func TestInstrumentFunction(t *testing.T) {
	in := &instrumenter{flag: 5, counter: 6, hasMemory: true}
	in.local = 1 // one parameter, no local: the counter is local 1
	enter := string(in.enter(nil))
	check := string(in.backEdge(nil))
	exit := string(in.exit(nil))
	hdr := "\x01\x01\x7f" + enter // one local group: the counter
	local3 := &instrumenter{flag: 5, counter: 6, local: 3}
	for _, tt := range []struct {
		name string
		in   string
		want string
	}{
		{"straight line", "\x00\x41\x01\x1a\x0b", hdr + "\x41\x01\x1a" + exit + "\x0b"},
		{"loop back edge", "\x00\x03\x40\x0c\x00\x0b\x0b", hdr + "\x03\x40" + check + "\x0c\x00\x0b" + exit + "\x0b"},
		{"forward br_if out of a loop", "\x00\x02\x40\x03\x40\x20\x00\x0d\x01\x0c\x00\x0b\x0b\x0b",
			hdr + "\x02\x40\x03\x40\x20\x00\x0d\x01" + check + "\x0c\x00\x0b\x0b" + exit + "\x0b"},
		{"br_if to the loop", "\x00\x03\x40\x20\x00\x0d\x00\x0b\x0b", hdr + "\x03\x40\x20\x00" + check + "\x0d\x00\x0b" + exit + "\x0b"},
		{"br_table with a loop target", "\x00\x03\x40\x02\x40\x20\x00\x0e\x01\x00\x01\x0b\x0b\x0b",
			hdr + "\x03\x40\x02\x40\x20\x00" + check + "\x0e\x01\x00\x01\x0b\x0b" + exit + "\x0b"},
		{"br_table forward only", "\x00\x02\x40\x02\x40\x20\x00\x0e\x01\x00\x01\x0b\x0b\x0b",
			hdr + "\x02\x40\x02\x40\x20\x00\x0e\x01\x00\x01\x0b\x0b" + exit + "\x0b"},
		{"br_table to the function", "\x00\x02\x40\x20\x00\x0e\x01\x00\x01\x0b\x0b",
			hdr + "\x02\x40\x20\x00" + exit + "\x0e\x01\x00\x01\x0b" + exit + "\x0b"},
		{"if inside loop, br to loop", "\x00\x03\x40\x20\x00\x04\x40\x0c\x01\x0b\x0b\x0b",
			hdr + "\x03\x40\x20\x00\x04\x40" + check + "\x0c\x01\x0b\x0b" + exit + "\x0b"},
		{"return and br to the function", "\x00\x20\x00\x0d\x00\x0f\x0b",
			hdr + "\x20\x00" + exit + "\x0d\x00" + exit + "\x0f" + exit + "\x0b"},
		{"tail call", "\x00\x12\x00\x0b", hdr + check + exit + "\x12\x00" + exit + "\x0b"},
		{"locals and immediates", "\x01\x02\x7f\x42\x80\x80\x04\x44" + "12345678" + "\xfd\x0c" + "0123456789abcdef" + "\x1a\x1a\x1a\x0b",
			"\x02\x02\x7f\x01\x7f" + string(local3.enter(nil)) +
				"\x42\x80\x80\x04\x44" + "12345678" + "\xfd\x0c" + "0123456789abcdef" + "\x1a\x1a\x1a" + string(local3.exit(nil)) + "\x0b"},
	} {
		got, _, err := in.function(nil, nil, []byte(tt.in), 1)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !bytes.Equal(got, []byte(tt.want)) {
			t.Errorf("%s:\n got % x\nwant % x", tt.name, got, tt.want)
		}
	}
	for _, bad := range []string{"\x00\x03\x40\x0b", "\x00\x0b\x0b", "\x00\xff\x0b", "\x00\x41"} {
		if _, _, err := in.function(nil, nil, []byte(bad), 1); err == nil {
			t.Errorf("% x: no error", bad)
		}
	}
}
