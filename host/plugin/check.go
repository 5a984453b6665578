package plugin

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/xmppgw/gateway/abi"
)

// ModuleInfo is what Check learns about a module: its ABI version, exports, imports and memory.
type ModuleInfo struct {
	// ABIMajor and ABIMinor are the version the module's marker export declares.
	ABIMajor, ABIMinor int
	// Reactor is true when the module exports _initialize (WASI reactor; Go c-shared).
	Reactor bool
	// Exports are the exported functions, by name.
	Exports []Func
	// Imports are the imported functions, in the module's order.
	Imports []Func
	// MemoryMin is the initial size of the exported memory, in 64 KiB pages.
	MemoryMin uint32
	// MemoryMax is the declared maximum in pages, 0 when the module declares none.
	MemoryMax uint32
}

// Func names an imported or exported function and its type.
type Func struct {
	Module string // the import module; empty for an export
	Name   string
	Type   string // e.g. "func(i32, i32) i32"
}

// The functions of ABI v1 and their types.
var (
	guestExports = []Func{
		{Name: abi.ExportAlloc, Type: "func(i32) i32"},
		{Name: abi.ExportFree, Type: "func(i32, i32)"},
		{Name: abi.ExportEvent, Type: "func(i32, i32) i32"},
	}
	hostImports = map[string]string{
		abi.ImportCall:   "func(i32, i32, i32, i32) i32",
		abi.ImportResult: "func(i32, i32) i32",
		abi.ImportReply:  "func(i32, i32)",
		abi.ImportLog:    "func(i32, i32, i32)",
	}
)

// Check decodes and validates a module and checks it against ABI v1 without running it: the
// version marker, the exports, the imports (gateway_v1 and WASI only) and the memory. It is what
// Load checks before instantiating, for the plugin checker; its errors do not name a file.
func Check(ctx context.Context, wasm []byte) (*ModuleInfo, error) {
	if !isWasm(wasm) {
		return nil, ErrNotWasm
	}
	// The interpreter only decodes and validates: much faster than compiling to machine code.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
	defer rt.Close(ctx)
	wasi, err := wasi_snapshot_preview1.NewBuilder(rt).Compile(ctx)
	if err != nil {
		return nil, err
	}
	cm, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		return nil, checkErrorf(ErrNotWasm, "invalid module: %v", err)
	}
	info, err := checkModule("module", cm, wasi.ExportedFunctions())
	if err != nil {
		return nil, err
	}
	// Load instruments the module for deadlines and refuses a start function: check that too.
	if _, hasStart, err := instrument(wasm); err != nil {
		return nil, fmt.Errorf("cannot instrument the module: %w", err)
	} else if hasStart {
		return nil, errStartFunction
	}
	return info, nil
}

var errStartFunction = checkErrorf(ErrMissingExport, "has a start function, which would run outside any deadline: export it as %s instead", abi.ExportInitialize)

func isWasm(b []byte) bool { return len(b) >= 8 && string(b[:4]) == "\x00asm" }

// checkModule checks a compiled module against ABI v1; subject names it in a VersionError.
func checkModule(subject string, cm wazero.CompiledModule, wasi map[string]api.FunctionDefinition) (*ModuleInfo, error) {
	info := &ModuleInfo{}
	exports := cm.ExportedFunctions()

	// 1. The version marker.
	var markers []string
	for name := range exports {
		if strings.HasPrefix(name, abi.MarkerPrefix) {
			markers = append(markers, name)
		}
	}
	sort.Strings(markers)
	switch len(markers) {
	case 0:
		return nil, checkErrorf(ErrNotPlugin, "no ABI marker export %s<major>_<minor>: %v", abi.MarkerPrefix, ErrNotPlugin)
	case 1:
	default:
		return nil, checkErrorf(ErrABIVersion, "several ABI marker exports (%s): a plugin speaks one ABI version", strings.Join(markers, ", "))
	}
	marker := markers[0]
	major, minor, ok := parseMarker(marker)
	if !ok {
		return nil, checkErrorf(ErrABIVersion, "malformed ABI marker export %s: want %s<major>_<minor>, e.g. %s%d_%d", marker, abi.MarkerPrefix, abi.MarkerPrefix, abi.Major, abi.Minor)
	}
	if t := funcType(exports[marker]); t != "func()" {
		return nil, checkErrorf(ErrMissingExport, "export %s has type %s, want func()", marker, t)
	}
	info.ABIMajor, info.ABIMinor = major, minor
	if major != abi.Major {
		return nil, &VersionError{Module: subject, Major: major, Minor: minor}
	}

	// 2. The exports of the ABI.
	for _, want := range guestExports {
		def, ok := exports[want.Name]
		if !ok {
			return nil, checkErrorf(ErrMissingExport, "missing export %s (%s)", want.Name, want.Type)
		}
		if t := funcType(def); t != want.Type {
			return nil, checkErrorf(ErrMissingExport, "export %s has type %s, want %s", want.Name, t, want.Type)
		}
	}
	if def, ok := exports[abi.ExportInitialize]; ok {
		if t := funcType(def); t != "func()" {
			return nil, checkErrorf(ErrMissingExport, "export %s has type %s, want func()", abi.ExportInitialize, t)
		}
		info.Reactor = true
	} else if _, ok := exports["_start"]; ok {
		return nil, checkErrorf(ErrMissingExport, "exports _start but not %s: build the plugin as a reactor (Go: -buildmode=c-shared)", abi.ExportInitialize)
	}
	mem, ok := cm.ExportedMemories()["memory"]
	if !ok {
		return nil, checkErrorf(ErrMissingExport, "missing export memory (memory)")
	}
	info.MemoryMin = mem.Min()
	if max, ok := mem.Max(); ok {
		info.MemoryMax = max
	}
	for name, def := range exports {
		info.Exports = append(info.Exports, Func{Name: name, Type: funcType(def)})
	}
	sort.Slice(info.Exports, func(i, j int) bool { return info.Exports[i].Name < info.Exports[j].Name })

	// 3. The imports: gateway_v1 and WASI, nothing else.
	for _, m := range cm.ImportedMemories() {
		mod, name, _ := m.Import()
		return nil, checkErrorf(ErrImport, "imports memory %s.%s: a plugin defines its own memory", mod, name)
	}
	for _, def := range cm.ImportedFunctions() {
		mod, name, _ := def.Import()
		t := funcType(def)
		info.Imports = append(info.Imports, Func{Module: mod, Name: name, Type: t})
		var want string
		switch mod {
		case abi.ImportModule:
			want, ok = hostImports[name]
		case wasi_snapshot_preview1.ModuleName:
			var d api.FunctionDefinition
			if d, ok = wasi[name]; ok {
				want = funcType(d)
			}
		default:
			return nil, checkErrorf(ErrImport, "imports %s.%s, but this gateway provides only modules %s and %s", mod, name, abi.ImportModule, wasi_snapshot_preview1.ModuleName)
		}
		if !ok {
			return nil, checkErrorf(ErrImport, "imports %s.%s, which this gateway does not provide", mod, name)
		}
		if t != want {
			return nil, checkErrorf(ErrImport, "import %s.%s has type %s, want %s", mod, name, t, want)
		}
	}
	return info, nil
}

// parseMarker reads "gw_abi_v1_0" as 1, 0.
func parseMarker(name string) (major, minor int, ok bool) {
	a, b, ok := strings.Cut(strings.TrimPrefix(name, abi.MarkerPrefix), "_")
	if !ok || !isDecimal(a) || !isDecimal(b) {
		return 0, 0, false
	}
	major, err1 := strconv.Atoi(a)
	minor, err2 := strconv.Atoi(b)
	return major, minor, err1 == nil && err2 == nil
}

func isDecimal(s string) bool {
	if s == "" || len(s) > 6 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// funcType writes a function type as Go-like text: "func(i32, i32) i32", "func()".
func funcType(def api.FunctionDefinition) string {
	var b strings.Builder
	b.WriteString("func(")
	for i, t := range def.ParamTypes() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(api.ValueTypeName(t))
	}
	b.WriteString(")")
	res := def.ResultTypes()
	if len(res) == 1 {
		b.WriteString(" ")
		b.WriteString(api.ValueTypeName(res[0]))
	} else if len(res) > 1 {
		b.WriteString(" (")
		for i, t := range res {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(api.ValueTypeName(t))
		}
		b.WriteString(")")
	}
	return b.String()
}
