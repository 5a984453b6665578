package plugin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

// interruptExport is the name under which instrument exports the interrupt flag it adds.
const interruptExport = "gw_host_interrupt"

// Section ids of the binary format.
const (
	secCustom   = 0
	secImport   = 2
	secGlobal   = 6
	secType     = 1
	secFunction = 3
	secMemory   = 5
	secExport   = 7
	secStart    = 8
	secCode     = 10
	secNumKinds = 14
)

// sectionRank orders the known sections as the binary format requires.
var sectionRank = [secNumKinds]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

// yieldInterval is how many backward branches a guest takes between two safe points; a power
// of two.
const yieldInterval = 1024

// instrument returns a copy of the module in which every backward branch (every loop iteration)
// first counts one in a new local of its function, and every yieldInterval iterations
//
//   - runs memory.grow 0, which wazero's compiler engine serves in Go: the goroutine passes a
//     safe point, so that the Go scheduler and garbage collector are not held up by a long loop
//     (Go cannot preempt a goroutine in compiled Wasm; a pending stop-the-world would otherwise
//     wait for the loop to end, with every other goroutine, and the deadline timer, stopped);
//   - traps with "unreachable" if a new global, exported as interruptExport, is non-zero: the
//     host sets it when the event's deadline passes.
//
// The counter lives in a local (a register) for speed; a function loads it from a new global
// on entry and stores it back on return, so that a loop whose body calls a function with a
// short loop still reaches the interval.
//
// This stops a runaway guest (an infinite loop; unbounded recursion ends in a stack overflow
// anyway) within yieldInterval iterations of its deadline, for a few register instructions per
// iteration (15-25% of a loop-heavy Go guest's CPU time), where wazero's WithCloseOnContextDone
// costs a goroutine per export call and a trip to Go per iteration.
//
// Custom sections that hold code offsets (DWARF, code metadata) are dropped: they would be
// wrong. hasStart reports a start section: its function would run at instantiation, outside any
// deadline, so Load refuses such a module.
func instrument(bin []byte) (out []byte, hasStart bool, err error) {
	r := &reader{b: bin}
	if len(bin) < 8 || string(bin[:4]) != "\x00asm" {
		return nil, false, ErrNotWasm
	}
	if binary.LittleEndian.Uint32(bin[4:8]) != 1 {
		return nil, false, fmt.Errorf("unsupported binary version %d", binary.LittleEndian.Uint32(bin[4:8]))
	}
	r.off = 8

	type section struct {
		id   byte
		body []byte
	}
	var secs []section
	var importedGlobals, definedGlobals uint32
	var hasMemory bool
	var typeParams []uint32 // params of each type
	var funcTypes []uint32  // type of each defined function
	for r.off < len(bin) {
		id := r.byte()
		size := r.u32()
		body := r.bytes(int(size))
		if r.err != nil {
			return nil, false, r.err
		}
		if id == secCustom {
			name := (&reader{b: body}).name()
			if strings.HasPrefix(name, ".debug_") || strings.HasPrefix(name, "metadata.code.") ||
				name == "sourceMappingURL" || name == "external_debug_info" {
				continue
			}
		}
		switch id {
		case secStart:
			hasStart = true
		case secType:
			if typeParams, err = readTypes(body); err != nil {
				return nil, false, fmt.Errorf("type section: %w", err)
			}
		case secFunction:
			sr := &reader{b: body}
			n := sr.u32()
			for i := uint32(0); i < n && sr.err == nil; i++ {
				funcTypes = append(funcTypes, sr.u32())
			}
			if sr.err != nil {
				return nil, false, fmt.Errorf("function section: %w", sr.err)
			}
		case secImport:
			g, mem, err := countImports(body)
			if err != nil {
				return nil, false, fmt.Errorf("import section: %w", err)
			}
			importedGlobals = g
			hasMemory = hasMemory || mem
		case secMemory:
			hasMemory = hasMemory || (len(body) > 0 && body[0] != 0)
		case secGlobal:
			sr := &reader{b: body}
			definedGlobals = sr.u32()
			if sr.err != nil {
				return nil, false, fmt.Errorf("global section: %w", sr.err)
			}
		}
		secs = append(secs, section{id, body})
	}
	flag := importedGlobals + definedGlobals
	counter := flag + 1

	// New globals: the flag and the counter, (mut i32) (i32.const 0).
	newGlobals := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41, 0x00, 0x0b}
	newExport := appendName(nil, interruptExport)
	newExport = append(newExport, 0x03)
	newExport = appendU32(newExport, flag)

	out = make([]byte, 0, len(bin)+len(bin)/16+64)
	out = append(out, bin[:8]...)
	var haveGlobal, haveExport bool
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = appendU32(out, uint32(len(body)))
		out = append(out, body...)
	}
	// insertMissing emits the global and export sections before the first section that must
	// follow them, if the module has none.
	insertMissing := func(beforeRank int) {
		if !haveGlobal && beforeRank > sectionRank[secGlobal] {
			emit(secGlobal, append([]byte{2}, newGlobals...))
			haveGlobal = true
		}
		if !haveExport && beforeRank > sectionRank[secExport] {
			emit(secExport, append([]byte{1}, newExport...))
			haveExport = true
		}
	}
	for _, s := range secs {
		if s.id != secCustom {
			if int(s.id) >= secNumKinds || sectionRank[s.id] == 0 {
				return nil, false, fmt.Errorf("unknown section id %d", s.id)
			}
			insertMissing(sectionRank[s.id])
		}
		switch s.id {
		case secGlobal:
			body, err := appendVecItems(s.body, 2, newGlobals)
			if err != nil {
				return nil, false, fmt.Errorf("global section: %w", err)
			}
			emit(secGlobal, body)
			haveGlobal = true
		case secExport:
			if err := checkNoExport(s.body, interruptExport); err != nil {
				return nil, false, err
			}
			body, err := appendVecItems(s.body, 1, newExport)
			if err != nil {
				return nil, false, fmt.Errorf("export section: %w", err)
			}
			emit(secExport, body)
			haveExport = true
		case secCode:
			params := make([]uint32, len(funcTypes))
			for i, t := range funcTypes {
				if int(t) >= len(typeParams) {
					return nil, false, fmt.Errorf("function %d: type %d out of range", i, t)
				}
				params[i] = typeParams[t]
			}
			ins := &instrumenter{flag: flag, counter: counter, hasMemory: hasMemory}
			body, err := ins.code(s.body, params)
			if err != nil {
				return nil, false, fmt.Errorf("code section: %w", err)
			}
			emit(secCode, body)
		default:
			emit(s.id, s.body)
		}
	}
	insertMissing(1 << 30)
	return out, hasStart, nil
}

// readTypes reads a type section: the number of parameters of each function type.
func readTypes(body []byte) ([]uint32, error) {
	r := &reader{b: body}
	n := r.u32()
	params := make([]uint32, 0, n)
	for i := uint32(0); i < n && r.err == nil; i++ {
		if form := r.byte(); form != 0x60 {
			r.fail("unsupported type form 0x%02x", form)
			break
		}
		np := r.u32()
		for j := uint32(0); j < np && r.err == nil; j++ {
			r.valType()
		}
		nr := r.u32()
		for j := uint32(0); j < nr && r.err == nil; j++ {
			r.valType()
		}
		params = append(params, np)
	}
	return params, r.err
}

// countImports reads an import section: how many globals it imports, and whether a memory.
func countImports(body []byte) (globals uint32, memory bool, err error) {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		r.name()
		r.name()
		switch kind := r.byte(); kind {
		case 0x00: // func: type index
			r.u32()
		case 0x01: // table: reftype, limits
			r.valType()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
			memory = true
		case 0x03: // global: valtype, mut
			r.valType()
			r.byte()
			globals++
		case 0x04: // tag: attribute, type index
			r.byte()
			r.u32()
		default:
			r.fail("unknown import kind 0x%02x", kind)
		}
	}
	return globals, memory, r.err
}

// checkNoExport fails if the export section already has the given name.
func checkNoExport(body []byte, name string) error {
	r := &reader{b: body}
	n := r.u32()
	for i := uint32(0); i < n && r.err == nil; i++ {
		if r.name() == name {
			return fmt.Errorf("the module already exports %s, a name the gateway reserves", name)
		}
		r.byte()
		r.u32()
	}
	return r.err
}

// appendVecItems appends count encoded items to a section body that is a vector.
func appendVecItems(body []byte, count uint32, item []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if r.err != nil {
		return nil, r.err
	}
	out := appendU32(make([]byte, 0, len(body)+len(item)+5), n+count)
	out = append(out, body[r.off:]...)
	return append(out, item...), nil
}

// instrumenter adds the interrupt checks to function bodies.
type instrumenter struct {
	flag, counter uint32 // the new globals
	hasMemory     bool
	local         uint32 // the counter's local in the function being rewritten
}

// enter loads the counter: global.get counter; local.set L.
func (in *instrumenter) enter(b []byte) []byte {
	b = appendU32(append(b, 0x23), in.counter)
	return appendU32(append(b, 0x21), in.local)
}

// exit stores the counter back: local.get L; global.set counter.
func (in *instrumenter) exit(b []byte) []byte {
	b = appendU32(append(b, 0x20), in.local)
	return appendU32(append(b, 0x24), in.counter)
}

// backEdge counts an iteration:
//
//	L = L + 1
//	if L & (yieldInterval-1) == 0 {
//		drop(memory.grow(0))        // a safe point; only when the module has a memory
//		if flag { unreachable }
//	}
func (in *instrumenter) backEdge(b []byte) []byte {
	b = appendU32(append(b, 0x20), in.local)
	b = append(b, 0x41, 0x01, 0x6a, 0x22) // i32.const 1; i32.add; local.tee
	b = appendU32(b, in.local)
	b = append(b, 0x41)
	b = appendSLEB(b, yieldInterval-1)
	b = append(b, 0x71, 0x45, 0x04, 0x40) // i32.and; i32.eqz; if
	if in.hasMemory {
		b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0; memory.grow 0; drop
	}
	b = appendU32(append(b, 0x23), in.flag)
	return append(b, 0x04, 0x40, 0x00, 0x0b, 0x0b) // if; unreachable; end; end
}

// code rewrites the code section; params are the parameter counts of the defined functions.
func (in *instrumenter) code(body []byte, params []uint32) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	if int(n) != len(params) {
		return nil, fmt.Errorf("%d bodies for %d functions", n, len(params))
	}
	out := appendU32(make([]byte, 0, len(body)+len(body)/4), n)
	var fn []byte
	var labels []bool
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, r.err
		}
		var err error
		fn, labels, err = in.function(fn[:0], labels[:0], code, params[i])
		if err != nil {
			return nil, fmt.Errorf("function %d: %w", i, err)
		}
		out = appendU32(out, uint32(len(fn)))
		out = append(out, fn...)
	}
	if r.off != len(body) {
		return nil, errors.New("trailing bytes")
	}
	return out, nil
}

// function appends the rewritten function body to out: a counter local is added and loaded on
// entry; the iteration check goes before every branch that can go backwards (br, br_if,
// br_table to a loop label; tail calls; try_table, whose catch clauses branch), so that
// straight-line code pays nothing; the counter is stored back before every way out (return,
// a branch to the function's label, a tail call, the final end). labels is scratch space.
func (in *instrumenter) function(out []byte, labels []bool, code []byte, nParams uint32) ([]byte, []bool, error) {
	r := &reader{b: code}
	groups := r.u32()
	nLocals := uint64(nParams)
	for i := uint32(0); i < groups && r.err == nil; i++ {
		nLocals += uint64(r.u32())
		r.valType()
	}
	if r.err != nil {
		return nil, labels, r.err
	}
	if nLocals >= 50000 {
		return nil, labels, fmt.Errorf("%d locals", nLocals)
	}
	in.local = uint32(nLocals)
	out = appendU32(out, groups+1)
	out = append(out, code[(&reader{b: code}).skipU32():r.off]...)
	out = append(out, 0x01, 0x7f) // one more i32 local
	out = in.enter(out)
	copied := r.off
	// The control stack: true for a loop. The function body is the outermost block.
	labels = append(labels, false)
	isLoop := func(depth uint32) bool {
		return int(depth) < len(labels) && labels[len(labels)-1-int(depth)]
	}
	isFunc := func(depth uint32) bool { return int(depth) == len(labels)-1 }
	for r.off < len(code) && r.err == nil {
		start := r.off
		op := r.byte()
		backward, leaves := false, false
		switch {
		case op == 0x03: // loop bt
			r.blockType()
			labels = append(labels, true)
		case op == 0x02 || op == 0x04 || op == 0x06: // block, if, try
			r.blockType()
			labels = append(labels, false)
		case op == 0x0b: // end
			if len(labels) == 0 {
				r.fail("unbalanced end")
				break
			}
			leaves = len(labels) == 1 // the function's end
			labels = labels[:len(labels)-1]
		case op == 0x0f: // return
			leaves = true
		case op == 0x18: // delegate l: ends a try
			r.u32()
			if len(labels) == 0 {
				r.fail("unbalanced delegate")
				break
			}
			labels = labels[:len(labels)-1]
		case op == 0x0c || op == 0x0d || op == 0xd4 || op == 0xd6: // br, br_if, br_on_null, br_on_non_null
			d := r.u32()
			backward, leaves = isLoop(d), isFunc(d)
		case op == 0x0e: // br_table
			n := r.u32()
			for j := uint32(0); j <= n && r.err == nil; j++ {
				d := r.u32()
				backward = backward || isLoop(d)
				leaves = leaves || isFunc(d)
			}
		case op == 0x12 || op == 0x15: // return_call, return_call_ref
			r.u32()
			backward, leaves = true, true
		case op == 0x13: // return_call_indirect
			r.u32()
			r.u32()
			backward, leaves = true, true
		case op <= 0x01 || op == 0x05 || op == 0x0a || op == 0x0f || op == 0x19 ||
			op == 0x1a || op == 0x1b || op == 0xd1 || op == 0xd3 || op == 0xd5:
			// no immediate
		case op == 0x07 || op == 0x08 || op == 0x09 || op == 0x10 || op == 0x14 ||
			(op >= 0x20 && op <= 0x26) || op == 0x3f || op == 0x40 || op == 0xd2:
			r.u32()
		case op == 0x11: // call_indirect
			r.u32()
			r.u32()
		case op == 0x1c: // select t*
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				r.valType()
			}
		case op == 0x1f: // try_table bt catch*
			r.blockType()
			n := r.u32()
			for j := uint32(0); j < n && r.err == nil; j++ {
				switch k := r.byte(); k {
				case 0x00, 0x01:
					r.u32()
					r.u32()
				case 0x02, 0x03:
					r.u32()
				default:
					r.fail("unknown catch kind 0x%02x", k)
				}
			}
			labels = append(labels, false)
			backward = n > 0
		case op >= 0x28 && op <= 0x3e:
			r.memArg()
		case op == 0x41:
			r.sleb(32)
		case op == 0x42:
			r.sleb(64)
		case op == 0x43:
			r.bytes(4)
		case op == 0x44:
			r.bytes(8)
		case op >= 0x45 && op <= 0xc4:
			// numeric, no immediate
		case op == 0xd0: // ref.null ht
			r.sleb(33)
		case op == 0xfc:
			switch sub := r.u32(); {
			case sub <= 7:
			case sub == 8 || sub == 10 || sub == 12 || sub == 14:
				r.u32()
				r.u32()
			case sub == 9 || sub == 11 || sub == 13 || (sub >= 15 && sub <= 17):
				r.u32()
			default:
				r.fail("unknown opcode 0xfc %d", sub)
			}
		case op == 0xfd:
			switch sub := r.u32(); {
			case sub <= 11 || sub == 92 || sub == 93:
				r.memArg()
			case sub == 12 || sub == 13:
				r.bytes(16)
			case sub >= 21 && sub <= 34:
				r.byte()
			case sub >= 84 && sub <= 91:
				r.memArg()
				r.byte()
			case sub <= 0x113:
			default:
				r.fail("unknown opcode 0xfd %d", sub)
			}
		case op == 0xfe:
			switch sub := r.u32(); {
			case sub == 3:
				r.byte()
			case sub <= 2 || (sub >= 0x10 && sub <= 0x4e):
				r.memArg()
			default:
				r.fail("unknown opcode 0xfe %d", sub)
			}
		default:
			r.fail("unknown opcode 0x%02x", op)
		}
		if backward || leaves {
			out = append(out, code[copied:start]...)
			if backward {
				out = in.backEdge(out)
			}
			if leaves {
				out = in.exit(out)
			}
			copied = start
		}
	}
	if r.err != nil {
		return nil, labels, r.err
	}
	if len(labels) != 0 {
		return nil, labels, errors.New("unbalanced blocks")
	}
	return append(out, code[copied:]...), labels, nil
}

// reader decodes the binary format; the first error sticks.
type reader struct {
	b   []byte
	off int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("offset %d: "+format, append([]any{r.off}, args...)...)
	}
}

func (r *reader) byte() byte {
	if r.err != nil {
		return 0
	}
	if r.off >= len(r.b) {
		r.fail("unexpected end")
		return 0
	}
	c := r.b[r.off]
	r.off++
	return c
}

func (r *reader) bytes(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.fail("length %d past the end", n)
		return nil
	}
	b := r.b[r.off : r.off+n]
	r.off += n
	return b
}

func (r *reader) u32() uint32 {
	var v uint64
	for shift := 0; shift < 35; shift += 7 {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		v |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			if v > 0xffffffff {
				r.fail("u32 overflow")
			}
			return uint32(v)
		}
	}
	r.fail("u32 too long")
	return 0
}

// sleb skips a signed LEB128 of at most bits bits and returns its value (exact up to 63 bits).
func (r *reader) sleb(bits int) int64 {
	var v int64
	shift := 0
	for i := 0; i < (bits+6)/7; i++ {
		c := r.byte()
		if r.err != nil {
			return 0
		}
		if shift < 64 {
			v |= int64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v
		}
	}
	r.fail("signed LEB too long")
	return 0
}

// skipU32 returns the length of the u32 at the start of r.
func (r *reader) skipU32() int {
	r.u32()
	return r.off
}

func (r *reader) name() string { return string(r.bytes(int(r.u32()))) }

// valType skips a value type, including (ref null? ht) of the GC proposal.
func (r *reader) valType() {
	if c := r.byte(); c == 0x63 || c == 0x64 {
		r.sleb(33)
	}
}

// blockType skips a block type: empty, a value type, or a type index (s33).
func (r *reader) blockType() {
	if v := r.sleb(33); v == -0x1d || v == -0x1c { // 0x63, 0x64: (ref null? ht)
		r.sleb(33)
	}
}

func (r *reader) limits() {
	flags := r.byte()
	r.u32()
	if flags&1 != 0 {
		r.u32()
	}
}

// memArg skips align (with the multi-memory index bit) and offset.
func (r *reader) memArg() {
	align := r.u32()
	if align&0x40 != 0 {
		r.u32()
	}
	r.sleb(64) // offset: u32, or u64 with memory64; the LEB length is all that matters
}

func appendU32(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func appendSLEB(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = appendU32(b, uint32(len(s)))
	return append(b, s...)
}
