package plugin

import (
	"errors"
	"fmt"
	"strings"

	"github.com/xmppgw/gateway/abi"
)

// Errors of Submit and of Result.Err, for errors.Is.
var (
	// ErrQueueFull: the session's queue holds Options.QueueSize events; the event was refused at
	// once. The session layer answers the stanza with a wait/resource-constraint error.
	ErrQueueFull = errors.New("session queue full")
	// ErrTrapped: the instance trapped (a panic, an abort, a bad pointer) while handling the
	// event; it was destroyed and replaced.
	ErrTrapped = errors.New("instance trapped")
	// ErrTimeout: the event ran past Options.EventTimeout; the instance was destroyed and replaced.
	ErrTimeout = errors.New("event deadline exceeded")
	// ErrMemory: the instance hit Options.MemoryLimitMB; it was destroyed and replaced.
	ErrMemory = errors.New("memory limit exceeded")
	// ErrSessionStopped: the session crashed its instance more than Options.MaxCrashesPerSession
	// times; its events are refused until Forget.
	ErrSessionStopped = errors.New("session stopped after repeated crashes")
	// ErrStopped: the plugin is closed, or it stopped itself because crashes hit many sessions
	// (Healthy says why).
	ErrStopped = errors.New("plugin stopped")
	// ErrBadStatus: gw_event returned a status that is not an abi.Status of ABI v1.
	ErrBadStatus = errors.New("unknown event status")
)

// Errors of Load and Check, for errors.Is. The messages name the file and what is wrong.
var (
	// ErrNotWasm: the file is not a WebAssembly binary module.
	ErrNotWasm = errors.New("not a WebAssembly module")
	// ErrNotPlugin: the module has no ABI marker export.
	ErrNotPlugin = errors.New("not a gateway plugin")
	// ErrABIVersion: the module's ABI marker names a major version this gateway does not speak,
	// or is malformed.
	ErrABIVersion = errors.New("unsupported ABI version")
	// ErrMissingExport: an export of the ABI is missing or has the wrong type.
	ErrMissingExport = errors.New("missing or mistyped export")
	// ErrImport: the module imports something the gateway does not provide, or with the wrong type.
	ErrImport = errors.New("unsupported import")
)

// checkError is a load-time problem: its message, and the sentinel it matches.
type checkError struct {
	msg  string
	kind error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.kind }

func checkErrorf(kind error, format string, args ...any) error {
	return &checkError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// VersionError says which ABI version a module speaks when this gateway does not speak it.
type VersionError struct {
	Module       string // the file, or "module" for Check
	Major, Minor int    // what the module's marker says
}

// Error reads "plugins/x.wasm speaks ABI v2.0, this gateway speaks v1.0".
func (e *VersionError) Error() string {
	return fmt.Sprintf("%s speaks ABI v%d.%d, this gateway speaks v%d.%d", e.Module, e.Major, e.Minor, abi.Major, abi.Minor)
}

// Is makes errors.Is(err, ErrABIVersion) true.
func (e *VersionError) Is(target error) bool { return target == ErrABIVersion }

// fileError prefixes a load error with the file it is about.
type fileError struct {
	path string
	err  error
}

func (e *fileError) Error() string { return e.path + ": " + e.err.Error() }
func (e *fileError) Unwrap() error { return e.err }

// inFile names the file in err, unless err already does (a VersionError).
func inFile(path string, err error) error {
	var ve *VersionError
	if errors.As(err, &ve) {
		ve.Module = path
		return err
	}
	return &fileError{path: path, err: err}
}

// CrashError is Result.Err of the event that crashed an instance, and what CrashHandler gets.
// errors.Is matches its Cause (ErrTrapped, ErrTimeout or ErrMemory), and ErrSessionStopped when
// this crash stopped the session.
type CrashError struct {
	Plugin  string
	Session string
	Event   abi.EventType
	// Cause is ErrTrapped, ErrTimeout or ErrMemory.
	Cause error
	// Err is what the runtime reported (a wasm stack trace, an exit code), possibly nil.
	Err error
	// SessionStopped: this crash put the session over Options.MaxCrashesPerSession.
	SessionStopped bool
}

// Error reads "plugin[telegram] event[message.text] session[a@b]: instance trapped: ...", with
// only the first line of the runtime's report.
func (e *CrashError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plugin[%s] event[%s]", e.Plugin, e.Event)
	if e.Session != "" {
		fmt.Fprintf(&b, " session[%s]", e.Session)
	}
	b.WriteString(": ")
	b.WriteString(e.Cause.Error())
	if e.Err != nil {
		msg, _, _ := strings.Cut(e.Err.Error(), "\n")
		b.WriteString(": ")
		b.WriteString(msg)
	}
	if e.SessionStopped {
		b.WriteString(" (")
		b.WriteString(ErrSessionStopped.Error())
		b.WriteString(")")
	}
	return b.String()
}

// Unwrap gives the cause, the runtime's error and ErrSessionStopped, as they apply.
func (e *CrashError) Unwrap() []error {
	errs := []error{e.Cause}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.SessionStopped {
		errs = append(errs, ErrSessionStopped)
	}
	return errs
}
