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
	secMemory   = 5
	secExport   = 7
	secStart    = 8
	secCode     = 10
	secTag      = 13
	secDataCnt  = 12
	secNumKinds = 14
)

// sectionRank orders the known sections as the binary format requires.
var sectionRank = [secNumKinds]int{1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13}

var testFlagOnly bool

// yieldInterval is how many backward branches a guest takes between two safe points.
const yieldInterval = 1024

// instrument returns a copy of the module in which every backward branch (every loop iteration)
// first counts down a new global. Every yieldInterval iterations it then
//
//   - runs memory.grow 0, which wazero's compiler engine serves in Go: the goroutine passes a
//     safe point, so that the Go scheduler and garbage collector are not held up by a long loop
//     (Go cannot preempt a goroutine in compiled Wasm; a pending stop-the-world would otherwise
//     wait for the loop to end, with every other goroutine, and the deadline timer, stopped);
//   - traps with "unreachable" if another new global, exported as interruptExport, is non-zero:
//     the host sets it when the event's deadline passes.
//
// This stops a runaway guest (an infinite loop; unbounded recursion ends in a stack overflow
// anyway) for a few instructions per iteration, where wazero's WithCloseOnContextDone costs a
// goroutine per export call and a trip to Go per iteration.
//
// Custom sections that hold code offsets (DWARF, code metadata) are dropped: they would be wrong.
//
// hasStart reports a start section: its function would run at instantiation, outside any
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
		case secImport:
			n, mem, err := countImports(body)
			if err != nil {
				return nil, false, fmt.Errorf("import section: %w", err)
			}
			importedGlobals = n
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

	// New globals: the flag (mut i32) (i32.const 0) and the counter (mut i32) (i32.const N).
	newGlobals := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41}
	newGlobals = appendSLEB(newGlobals, yieldInterval)
	newGlobals = append(newGlobals, 0x0b)
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
			check := backEdgeCheck(flag, counter, hasMemory)
			if testFlagOnly {
				check = append(appendU32([]byte{0x23}, flag), 0x04, 0x40, 0x00, 0x0b)
			}
			body, err := instrumentCode(s.body, check)
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

// backEdgeCheck is the code run before a backward branch:
//
//	counter = counter - 1
//	if counter <= 0 {
//		counter = yieldInterval
//		drop(memory.grow(0))        // a safe point; only when the module has a memory
//		if flag { unreachable }
//	}
func backEdgeCheck(flag, counter uint32, hasMemory bool) []byte {
	b := appendU32([]byte{0x23}, counter)
	b = append(b, 0x41, 0x01, 0x6b, 0x24) // i32.const 1; i32.sub; global.set
	b = appendU32(b, counter)
	b = appendU32(append(b, 0x23), counter)
	b = append(b, 0x41, 0x00, 0x4c, 0x04, 0x40, 0x41) // i32.const 0; i32.le_s; if; i32.const
	b = appendSLEB(b, yieldInterval)
	b = appendU32(append(b, 0x24), counter)
	if hasMemory {
		b = append(b, 0x41, 0x00, 0x40, 0x00, 0x1a) // i32.const 0; memory.grow 0; drop
	}
	b = appendU32(append(b, 0x23), flag)
	return append(b, 0x04, 0x40, 0x00, 0x0b, 0x0b) // if; unreachable; end; end
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

// instrumentCode rewrites the code section, inserting check where instrumentFunc says.
func instrumentCode(body, check []byte) ([]byte, error) {
	r := &reader{b: body}
	n := r.u32()
	out := appendU32(make([]byte, 0, len(body)+len(body)/8), n)
	var fn []byte
	var labels []bool
	for i := uint32(0); i < n; i++ {
		size := r.u32()
		code := r.bytes(int(size))
		if r.err != nil {
			return nil, r.err
		}
		var err error
		fn, labels, err = instrumentFunc(fn[:0], labels[:0], code, check)
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

// instrumentFunc appends the instrumented function body (locals and expression) to out: the
// check goes before every branch that can go backwards (br, br_if, br_table to a loop label;
// tail calls; try_table, whose catch clauses branch), so that straight-line code and function
// entry pay nothing and every iteration of a loop pays one check.
// labels is scratch space for the control stack.
func instrumentFunc(out []byte, labels []bool, code, check []byte) ([]byte, []bool, error) {
	r := &reader{b: code}
	groups := r.u32()
	for i := uint32(0); i < groups && r.err == nil; i++ {
		r.u32()
		r.valType()
	}
	if r.err != nil {
		return nil, labels, r.err
	}
	out = append(out, code[:r.off]...)
	copied := r.off
	// The control stack: true for a loop. The function body is the outermost block.
	labels = append(labels, false)
	isLoop := func(depth uint32) bool {
		return int(depth) < len(labels) && labels[len(labels)-1-int(depth)]
	}
	for r.off < len(code) && r.err == nil {
		start := r.off
		op := r.byte()
		backward := false
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
			labels = labels[:len(labels)-1]
		case op == 0x18: // delegate l: ends a try
			r.u32()
			if len(labels) == 0 {
				r.fail("unbalanced delegate")
				break
			}
			labels = labels[:len(labels)-1]
		case op == 0x0c || op == 0x0d || op == 0xd4 || op == 0xd6: // br, br_if, br_on_null, br_on_non_null
			backward = isLoop(r.u32())
		case op == 0x0e: // br_table
			n := r.u32()
			for j := uint32(0); j <= n && r.err == nil; j++ {
				if isLoop(r.u32()) {
					backward = true
				}
			}
		case op == 0x12 || op == 0x15: // return_call, return_call_ref
			r.u32()
			backward = true
		case op == 0x13: // return_call_indirect
			r.u32()
			r.u32()
			backward = true
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
		if backward {
			out = append(out, code[copied:start]...)
			out = append(out, check...)
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
