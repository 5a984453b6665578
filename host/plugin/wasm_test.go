package plugin

import (
	"context"
	"errors"

	"github.com/tetratelabs/wazero"
)

// A tiny encoder of Wasm binary modules, for hand-made test modules (no WAT tools needed).

const (
	i32 byte = 0x7f
	i64 byte = 0x7e
)

type wfunc struct {
	export          string // "" when not exported
	params, results []byte
	body            []byte // instructions, without the final end; nil pushes zero results
}

type wimport struct {
	module, name    string
	params, results []byte
}

type wdata struct {
	offset uint32
	bytes  []byte
}

type wmodule struct {
	imports  []wimport
	funcs    []wfunc
	memPages uint32 // 0: no memory
	memName  string // export name of the memory; "" for none
	data     []wdata
	start    int // index into funcs + 1; 0 for none
}

func (m wmodule) encode() []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	section := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	vec := func(items [][]byte) []byte {
		b := appendU32(nil, uint32(len(items)))
		for _, it := range items {
			b = append(b, it...)
		}
		return b
	}
	funcType := func(params, results []byte) []byte {
		b := []byte{0x60}
		b = appendU32(b, uint32(len(params)))
		b = append(b, params...)
		b = appendU32(b, uint32(len(results)))
		return append(b, results...)
	}
	var types, imports, funcs, exports, code [][]byte
	for i, im := range m.imports {
		types = append(types, funcType(im.params, im.results))
		b := appendName(nil, im.module)
		b = appendName(b, im.name)
		b = append(b, 0x00)
		imports = append(imports, appendU32(b, uint32(i)))
	}
	for i, f := range m.funcs {
		ti := uint32(len(m.imports) + i)
		types = append(types, funcType(f.params, f.results))
		funcs = append(funcs, appendU32(nil, ti))
		if f.export != "" {
			b := appendName(nil, f.export)
			b = append(b, 0x00)
			exports = append(exports, appendU32(b, uint32(len(m.imports)+i)))
		}
		body := []byte{0} // no locals
		if f.body == nil {
			for _, r := range f.results {
				switch r {
				case i32:
					body = append(body, 0x41, 0)
				case i64:
					body = append(body, 0x42, 0)
				}
			}
		} else {
			body = append(body, f.body...)
		}
		body = append(body, 0x0b)
		code = append(code, append(appendU32(nil, uint32(len(body))), body...))
	}
	if m.memName != "" {
		exports = append(exports, append(appendName(nil, m.memName), 0x02, 0x00))
	}
	section(1, vec(types))
	if len(imports) > 0 {
		section(2, vec(imports))
	}
	section(3, vec(funcs))
	if m.memPages > 0 {
		section(5, vec([][]byte{appendU32([]byte{0x00}, m.memPages)}))
	}
	section(7, vec(exports))
	if m.start > 0 {
		section(8, appendU32(nil, uint32(len(m.imports)+m.start-1)))
	}
	section(10, vec(code))
	if len(m.data) > 0 {
		var segs [][]byte
		for _, d := range m.data {
			b := []byte{0x00, 0x41}
			b = appendSLEB(b, int64(d.offset))
			b = append(b, 0x0b)
			b = appendU32(b, uint32(len(d.bytes)))
			segs = append(segs, append(b, d.bytes...))
		}
		section(11, vec(segs))
	}
	return out
}

// i32Const encodes i32.const v.
func i32Const(v int32) []byte { return appendSLEB([]byte{0x41}, int64(v)) }

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

const tinyInitReply = `{"name":"Tiny"}`

// tinyPlugin is a minimal valid plugin: gw_alloc returns a fixed buffer, gw_event replies
// {"name":"Tiny"} and returns 0, except that an envelope over 1000 bytes makes it loop forever.
func tinyPlugin() wmodule {
	return wmodule{
		imports: []wimport{{module: "gateway_v1", name: "reply", params: []byte{i32, i32}}},
		funcs: []wfunc{
			{export: "gw_abi_v1_0"},
			{export: "gw_alloc", params: []byte{i32}, results: []byte{i32}, body: i32Const(4096)},
			{export: "gw_free", params: []byte{i32, i32}},
			{export: "gw_event", params: []byte{i32, i32}, results: []byte{i32}, body: cat(
				[]byte{0x20, 0x01}, i32Const(1000), []byte{0x4b}, // local.get 1; i32.const 1000; i32.gt_u
				[]byte{0x04, 0x40, 0x03, 0x40, 0x0c, 0x00, 0x0b, 0x0b}, // if; loop; br 0; end; end
				i32Const(1024), i32Const(int32(len(tinyInitReply))), []byte{0x10, 0x00}, // call reply
				i32Const(0),
			)},
		},
		memPages: 2,
		memName:  "memory",
		data:     []wdata{{offset: 1024, bytes: []byte(tinyInitReply)}},
	}
}

// checkRaw compiles a module with wazero and returns the names of its exported globals.
func checkRaw(bin []byte) (string, error) {
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, bin)
	if err != nil {
		return "", err
	}
	if g := mod.ExportedGlobal(interruptExport); g == nil {
		return "", errors.New("no interrupt global")
	}
	return interruptExport, nil
}
