package checker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
)

// Session is the bare JID of the user the scenario runs as.
const Session = "user@example.org"

// Options configure Run. Zero values take the defaults given.
type Options struct {
	// Fixture supplies registration values, prompt answers, the contact to test and canned bridge
	// answers (see the package documentation). Nil: an empty fixture.
	Fixture *Fixture
	// Bridge answers bridge calls. Default: NewFixtureBridge(Fixture.Bridge).
	Bridge Bridge
	// Bridges are granted to the plugin besides the fixture's and those its answers name.
	Bridges []string
	// BridgeWait is how long a step waits for a bridge's answer when nothing else is pending and
	// bridge calls are unanswered (the fixture's bridge answers at once). Default: 5 s.
	BridgeWait time.Duration
	// EventTimeout bounds each event, as the gateway's event_timeout does. Default: 10 s.
	EventTimeout time.Duration
	// MemoryLimitMB caps the instance's linear memory. Default: 256.
	MemoryLimitMB int
	// StorageQuota is the kv.* quota in bytes (keys and values). Default: 1 MiB.
	StorageQuota int
	// MaxEvents bounds the events one step may deliver while it waits for an answer. Default: 100.
	MaxEvents int
	// CacheDir is wazero's compilation cache (see plugin.Options). Empty: none.
	CacheDir string
	// Trace, when set, gets every event delivered, every host call with its answer and every line
	// the plugin logs, one per line.
	Trace io.Writer
}

func (o *Options) setDefaults() {
	if o.Fixture == nil {
		o.Fixture = &Fixture{}
	}
	if o.Bridge == nil {
		o.Bridge = NewFixtureBridge(o.Fixture.Bridge)
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 10 * time.Second
	}
	if o.BridgeWait <= 0 {
		o.BridgeWait = 5 * time.Second
	}
	if o.MemoryLimitMB <= 0 {
		o.MemoryLimitMB = 256
	}
	if o.StorageQuota <= 0 {
		o.StorageQuota = 1 << 20
	}
	if o.MaxEvents <= 0 {
		o.MaxEvents = 100
	}
}

// Report is the outcome of a check: what the module is, and each step's verdict, in order. The
// steps stop after "module" or "init" when those fail, since nothing else can run.
type Report struct {
	// File is the module checked.
	File string `json:"file"`
	// Module is what plugin.Check learnt of the module; nil when the check failed.
	Module *plugin.ModuleInfo `json:"-"`
	// Name is the network's name from the plugin's init reply; empty if init did not succeed.
	Name string `json:"name,omitempty"`
	// Steps are the steps run, in order.
	Steps []Step `json:"steps"`
}

// Step is the verdict of one step of the scenario.
type Step struct {
	// Name is the step's name: module, init, validate, login, fill, update_info, text,
	// jid_mapping, logout.
	Name string `json:"name"`
	// OK is true when the step passed.
	OK bool `json:"ok"`
	// Detail says what the plugin did, or why the step failed.
	Detail string `json:"detail,omitempty"`
}

// OK reports whether every step passed (and there was at least one).
func (r *Report) OK() bool {
	for _, s := range r.Steps {
		if !s.OK {
			return false
		}
	}
	return len(r.Steps) > 0
}

func (r *Report) add(name string, ok bool, detail string) {
	r.Steps = append(r.Steps, Step{Name: name, OK: ok, Detail: detail})
}

// failed returns the number of failed steps.
func (r *Report) failed() int {
	n := 0
	for _, s := range r.Steps {
		if !s.OK {
			n++
		}
	}
	return n
}

// WriteText writes the report for a person: the module's description, then one line per step,
// "PASS name: detail" or "FAIL name: reason", then a summary line.
func (r *Report) WriteText(w io.Writer) {
	fmt.Fprintf(w, "plugin %s\n", r.File)
	if m := r.Module; m != nil {
		kind := "no _initialize"
		if m.Reactor {
			kind = "WASI reactor"
		}
		max := "no maximum"
		if m.MemoryMax > 0 {
			max = fmt.Sprintf("maximum %d pages", m.MemoryMax)
		}
		fmt.Fprintf(w, "  ABI v%d.%d, %s\n", m.ABIMajor, m.ABIMinor, kind)
		fmt.Fprintf(w, "  memory: %d pages (%d KiB) initial, %s\n", m.MemoryMin, uint64(m.MemoryMin)*64, max)
		fmt.Fprintf(w, "  exports:\n")
		for _, f := range m.Exports {
			fmt.Fprintf(w, "    %-24s %s\n", f.Name, f.Type)
		}
		fmt.Fprintf(w, "  imports:\n")
		for _, f := range m.Imports {
			fmt.Fprintf(w, "    %-40s %s\n", f.Module+"."+f.Name, f.Type)
		}
	}
	for _, s := range r.Steps {
		verdict := "PASS"
		if !s.OK {
			verdict = "FAIL"
		}
		if s.Detail == "" {
			fmt.Fprintf(w, "%s %s\n", verdict, s.Name)
		} else {
			fmt.Fprintf(w, "%s %s: %s\n", verdict, s.Name, s.Detail)
		}
	}
	if r.OK() {
		fmt.Fprintf(w, "ok: all %d steps passed\n", len(r.Steps))
	} else {
		fmt.Fprintf(w, "FAIL: %d of %d steps failed\n", r.failed(), len(r.Steps))
	}
}

// MarshalJSON writes the report with the module in snake_case and an overall "ok".
func (r *Report) MarshalJSON() ([]byte, error) {
	type fn struct {
		Module string `json:"module,omitempty"`
		Name   string `json:"name"`
		Type   string `json:"type"`
	}
	type module struct {
		ABI       string `json:"abi"`
		Reactor   bool   `json:"reactor"`
		Exports   []fn   `json:"exports"`
		Imports   []fn   `json:"imports"`
		MemoryMin uint32 `json:"memory_min_pages"`
		MemoryMax uint32 `json:"memory_max_pages,omitempty"`
	}
	type report Report // without this method
	rep := report(*r)
	if rep.Steps == nil {
		rep.Steps = []Step{}
	}
	out := struct {
		OK     bool    `json:"ok"`
		Module *module `json:"module,omitempty"`
		*report
	}{OK: r.OK(), report: &rep}
	if m := r.Module; m != nil {
		out.Module = &module{ABI: fmt.Sprintf("%d.%d", m.ABIMajor, m.ABIMinor), Reactor: m.Reactor,
			Exports: []fn{}, Imports: []fn{}, MemoryMin: m.MemoryMin, MemoryMax: m.MemoryMax}
		for _, f := range m.Exports {
			out.Module.Exports = append(out.Module.Exports, fn{Name: f.Name, Type: f.Type})
		}
		for _, f := range m.Imports {
			out.Module.Imports = append(out.Module.Imports, fn{Module: f.Module, Name: f.Name, Type: f.Type})
		}
	}
	return json.Marshal(out)
}

// Run checks the module at wasmPath: plugin.Check, then the conformance scenario of the package
// documentation. Problems of the plugin are failed steps of the Report; Run returns an error only
// when it cannot check at all (the file cannot be read) or ctx ends, with the steps run so far.
func Run(ctx context.Context, wasmPath string, o Options) (*Report, error) {
	o.setDefaults()
	bin, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, err
	}
	r := &Report{File: wasmPath}

	// The module, without running it.
	info, err := plugin.Check(ctx, bin)
	if err != nil {
		r.add("module", false, err.Error())
		return r, ctx.Err()
	}
	r.Module = info
	detail := fmt.Sprintf("ABI v%d.%d, %d exports, %d imports", info.ABIMajor, info.ABIMinor, len(info.Exports), len(info.Imports))
	if info.ABIMinor > abi.Minor {
		detail += fmt.Sprintf("; newer than this gateway's v%d.%d: calls new in it fail with unknown_method", abi.Major, abi.Minor)
	}
	r.add("module", true, detail)

	// init, through Load.
	fx := o.Fixture
	granted := map[string]bool{}
	for _, b := range append(append([]string{}, fx.Bridges...), o.Bridges...) {
		granted[b] = true
	}
	for _, a := range fx.Bridge {
		if a.Bridge != "" {
			granted[a.Bridge] = true
		}
	}
	var bridges []string
	for b := range granted {
		bridges = append(bridges, b)
	}
	sort.Strings(bridges)
	h := newHost(ctx, o.StorageQuota, bridges, o.Bridge, o.BridgeWait, o.Trace)
	if o.Trace != nil {
		fmt.Fprintf(o.Trace, "-> init\n")
	}
	p, err := plugin.Load(ctx, wasmPath, h, plugin.Options{
		CacheDir:             o.CacheDir,
		Instances:            1,
		MemoryLimitMB:        o.MemoryLimitMB,
		EventTimeout:         o.EventTimeout,
		QueueSize:            8,
		Init:                 abi.Init{Gateway: Domain, Config: fx.Config, Bridges: bridges},
		MaxCrashesPerSession: -1,
		MaxCrashedSessions:   -1,
		Logger:               slog.New(slog.DiscardHandler),
	})
	if err != nil {
		r.add("init", false, strings.TrimPrefix(err.Error(), wasmPath+": ")+h.notes(mark{})+"; no other step can run")
		return r, ctx.Err()
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = p.Close(cctx)
	}()
	c := &checker{ctx: ctx, p: p, h: h, o: o, fx: fx, info: p.Info()}
	r.Name = c.info.Name
	c.step(r, "init", c.checkInit)
	if !r.Steps[len(r.Steps)-1].OK {
		return r, ctx.Err()
	}
	c.step(r, "validate", c.checkValidate)
	c.step(r, "login", c.checkLogin)
	c.step(r, "fill", c.checkFill)
	c.step(r, "update_info", c.checkUpdateInfo)
	c.step(r, "text", c.checkText)
	c.step(r, "jid_mapping", c.checkJIDMapping)
	c.step(r, "logout", c.checkLogout)
	return r, ctx.Err()
}

// checker runs the scenario on a loaded plugin.
type checker struct {
	ctx    context.Context
	p      *plugin.Plugin
	h      *host
	o      Options
	fx     *Fixture
	info   abi.InitReply
	values abi.Values
	target string // the contact of update_info, text and jid_mapping
	m      mark   // the start of the current step
}

// step runs one step and records its verdict, with the host's notes when it failed.
func (c *checker) step(r *Report, name string, f func() (string, error)) {
	c.m = c.h.mark()
	if c.o.Trace != nil {
		fmt.Fprintf(c.o.Trace, "== %s\n", name)
	}
	detail, err := f()
	if err != nil {
		r.add(name, false, err.Error()+c.h.notes(c.m))
	} else {
		r.add(name, true, detail)
	}
}

// errIdle: the step waits for an answer and the host has nothing left to deliver.
var errIdle = errors.New("nothing else is pending")

// deliver sends one event to the session and applies the gateway's default for an unhandled
// contact.update_info. Its error names the event and says what went wrong.
func (c *checker) deliver(ev pending) (plugin.Result, error) {
	if c.o.Trace != nil {
		var b []byte
		if ev.payload != nil {
			b, _ = json.Marshal(ev.payload)
		}
		fmt.Fprintf(c.o.Trace, "-> %s %s\n", ev.ev, clip(string(b), 300))
	}
	// The runtime enforces EventTimeout; this bound only keeps a wedged runtime from hanging.
	ctx, cancel := context.WithTimeout(c.ctx, 2*c.o.EventTimeout+10*time.Second)
	defer cancel()
	res, err := c.p.Do(ctx, Session, ev.ev, ev.chat, ev.payload)
	if c.o.Trace != nil {
		switch {
		case err != nil:
			fmt.Fprintf(c.o.Trace, "<- %v\n", err)
		case len(res.Reply) > 0:
			fmt.Fprintf(c.o.Trace, "<- status %d, reply %s\n", res.Status, clip(string(res.Reply), 300))
		default:
			fmt.Fprintf(c.o.Trace, "<- status %d\n", res.Status)
		}
	}
	if ev.ev == abi.EventUpdateInfo && (err != nil || res.Status == abi.StatusUnhandled) {
		c.h.setReady(ev.contact)
	}
	if err != nil {
		return res, fmt.Errorf("%s: %s", ev.ev, describe(err))
	}
	return res, nil
}

// describe says why an event failed, without the runtime's plugin and session prefix.
func describe(err error) string {
	var ae *abi.Error
	var ce *plugin.CrashError
	switch {
	case errors.As(err, &ae):
		return fmt.Sprintf("status 2 (error): %v", ae)
	case errors.As(err, &ce):
		s := ce.Cause.Error()
		if ce.Err != nil {
			msg, _, _ := strings.Cut(ce.Err.Error(), "\n")
			s += ": " + msg
		}
		return s
	case errors.Is(err, plugin.ErrBadStatus):
		_, after, _ := strings.Cut(err.Error(), plugin.ErrBadStatus.Error())
		return "returned status" + after + ", not 0, 1 or 2"
	case errors.Is(err, context.DeadlineExceeded):
		return "no result: the runtime did not end the event"
	}
	return err.Error()
}

// drive delivers first, then what the host delivers next (queued events, then timers), until goal
// says the step is over, an event fails, nothing is pending (errIdle), or MaxEvents events ran.
// Prompts are answered from the fixture as they come. It returns first's result.
func (c *checker) drive(first pending, goal func(plugin.Result) (bool, error)) (plugin.Result, error) {
	res, err := c.deliver(first)
	if err != nil {
		return res, err
	}
	for n := 1; ; n++ {
		if err := c.answerPrompts(); err != nil {
			return res, err
		}
		done, err := goal(res)
		if err != nil || done {
			return res, err
		}
		if n >= c.o.MaxEvents {
			return res, fmt.Errorf("still waiting after %d events", n)
		}
		ev, ok := c.h.next(false)
		if !ok {
			return res, errIdle
		}
		if ev.ev == abi.EventUpdateInfo {
			if ct, ok := c.h.get(ev.contact); !ok || ct.Ready {
				continue // the gateway skips a contact that became ready meanwhile
			}
		}
		if _, err := c.deliver(ev); err != nil {
			return res, err
		}
	}
}

// settle delivers the bridge answers and inputs queued (not update_info, not timers), as the
// gateway would right after an event, up to MaxEvents.
func (c *checker) settle() error {
	for n := 0; n < c.o.MaxEvents; n++ {
		if err := c.answerPrompts(); err != nil {
			return err
		}
		ev, ok := c.h.next(true)
		if !ok {
			return nil
		}
		if _, err := c.deliver(ev); err != nil {
			return err
		}
	}
	return nil
}

// answerPrompts queues the fixture's answer to every prompt asked since the last call, as the
// user's session.input; a prompt the fixture cannot answer is an error.
func (c *checker) answerPrompts() error {
	for _, p := range c.h.takePrompts() {
		answer, ok := c.fx.answer(p)
		if !ok {
			return fmt.Errorf("the plugin asked %q (prompt %q) and the fixture has no answer: add {\"id\": %q, \"answer\": \"...\"} to its prompts",
				p.Text, p.Prompt, p.Prompt)
		}
		c.h.enqueue(pending{ev: abi.EventInput, payload: abi.Input{Prompt: p.Prompt, Text: answer}})
	}
	return nil
}

// quote shortens and quotes a string for a detail.
func quote(s string) string { return fmt.Sprintf("%q", clip(s, 80)) }
