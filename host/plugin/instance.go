package plugin

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"github.com/xmppgw/gateway/abi"
)

// worker is one slot of the pool: a goroutine, the instance it enters (replaced after a crash)
// and the sessions pinned to it.
type worker struct {
	p    *Plugin
	idx  int
	wake chan struct{} // a token when ready gets work or the plugin stops

	// Guarded by p.mu.
	ready    sessionRing
	sessions map[*session]struct{} // pinned here
	inst     *instance             // written by the worker goroutine only
}

// loop runs the worker's events until the plugin stops.
func (w *worker) loop() {
	p := w.p
	defer p.wg.Done()
	if !w.started() {
		return
	}
	for {
		p.mu.Lock()
		for w.ready.n == 0 && p.stopErr == nil {
			p.mu.Unlock()
			<-w.wake
			p.mu.Lock()
		}
		if p.stopErr != nil {
			in := w.inst
			w.inst = nil
			p.mu.Unlock()
			if in != nil {
				in.close(p.base)
			}
			return
		}
		s := w.ready.pop()
		s.onReady = false
		if s.q.n == 0 && !s.restore {
			p.mu.Unlock() // its work was cancelled meanwhile
			continue
		}
		var t task
		if s.restore {
			s.restore = false
			t.ev = abi.EventRestored
		} else {
			t = s.q.pop()
		}
		s.running = true
		in := w.inst
		p.mu.Unlock()

		res, crash := in.handle(s.id, &t)
		if crash != nil {
			w.crashed(s, &t, crash)
			continue
		}
		p.mu.Lock()
		s.running = false
		p.schedule(s)
		p.maybeForget(s)
		p.mu.Unlock()
		if t.done != nil {
			t.done(res)
		}
	}
}

// started gives a worker added after Load its instance; it reports false if there is none
// (the plugin stopped meanwhile, or the instance failed to start, which stops the plugin).
func (w *worker) started() bool {
	p := w.p
	p.mu.Lock()
	ready := w.inst != nil
	p.mu.Unlock()
	if ready {
		return true
	}
	in, err := p.newInstance(w)
	p.mu.Lock()
	stopped := p.stopErr != nil
	if err == nil && !stopped {
		w.inst = in
	}
	p.mu.Unlock()
	switch {
	case err != nil:
		err = fmt.Errorf("plugin[%s]: %w: cannot add an instance: %w", p.name, ErrStopped, err)
		p.log.Error("plugin stopped", "error", err.Error())
		p.stop(err)
		return false
	case stopped:
		in.close(p.base)
		return false
	}
	return true
}

// crashed handles an event that destroyed the instance: the event's done gets the error, the
// session's crash count grows (it may stop), the sessions pinned here are marked for
// session.restored, and a fresh instance replaces the dead one, unless the plugin stops.
func (w *worker) crashed(s *session, t *task, crash *CrashError) {
	p := w.p
	now := time.Now()
	p.mu.Lock()
	s.running = false
	stopped := p.stopErr != nil
	var failed []task
	var storm error
	if !stopped {
		s.crashCnt++
		if p.opts.MaxCrashesPerSession >= 0 && s.crashCnt > p.opts.MaxCrashesPerSession {
			s.stopped = true
			crash.SessionStopped = true
			for s.q.n > 0 {
				failed = append(failed, s.q.pop())
			}
		}
		storm = p.recordCrash(now, s.id)
		for o := range w.sessions {
			if !o.stopped {
				o.restore = true
			}
		}
	}
	p.mu.Unlock()

	if stopped {
		// Close interrupted it: no restart.
		if t.done != nil {
			t.done(Result{Status: abi.StatusError, Err: crash})
		}
		return
	}
	attrs := []any{"event", string(crash.Event), "session", crash.Session, "cause", crash.Cause.Error(), "instance", w.idx}
	if crash.Err != nil {
		attrs = append(attrs, "error", crash.Err.Error())
	}
	if crash.SessionStopped {
		attrs = append(attrs, "session_stopped", true)
	}
	p.log.Error("plugin instance crashed", attrs...)
	if storm != nil {
		// Stop first, so that whoever learns of this crash finds the plugin stopped.
		p.log.Error("plugin stopped", "error", storm.Error())
		p.stop(storm)
	}
	if t.done != nil {
		t.done(Result{Status: abi.StatusError, Err: crash})
	}
	stoppedErr := fmt.Errorf("plugin[%s] session[%s]: %w", p.name, s.id, ErrSessionStopped)
	for _, f := range failed {
		if f.done != nil {
			f.done(Result{Status: abi.StatusError, Err: stoppedErr})
		}
	}
	if p.crash != nil {
		p.crash.PluginCrashed(s.id, t.ev, crash)
	}
	if storm != nil {
		return
	}

	// Replace the instance.
	old := w.inst
	old.close(p.base)
	in, err := p.newInstance(w)
	p.mu.Lock()
	w.inst = in
	if err == nil {
		for o := range w.sessions {
			p.schedule(o)
		}
	}
	p.mu.Unlock()
	if err != nil {
		err = fmt.Errorf("plugin[%s]: %w: cannot replace a crashed instance: %w", p.name, ErrStopped, err)
		p.log.Error("plugin stopped", "error", err.Error())
		p.stop(err)
		return
	}
	p.log.Info("plugin instance replaced", "instance", w.idx, "sessions", len(w.sessions))
}

// recordCrash notes a crash of session and returns an error when too many distinct sessions
// crashed within the window. Call with p.mu held.
func (p *Plugin) recordCrash(now time.Time, session string) error {
	keep := p.crashes[:0]
	for _, c := range p.crashes {
		if now.Sub(c.at) < p.opts.CrashWindow {
			keep = append(keep, c)
		}
	}
	p.crashes = append(keep, crashRecord{at: now, session: session})
	if p.opts.MaxCrashedSessions < 0 {
		return nil
	}
	distinct := make(map[string]struct{}, len(p.crashes))
	for _, c := range p.crashes {
		distinct[c.session] = struct{}{}
	}
	if len(distinct) > p.opts.MaxCrashedSessions {
		return fmt.Errorf("plugin[%s]: %w: %d sessions crashed it within %s", p.name, ErrStopped, len(distinct), p.opts.CrashWindow)
	}
	return nil
}

// instance is one wazero module instance of the plugin, entered by its worker only.
type instance struct {
	p   *Plugin
	w   *worker
	mod api.Module
	mem api.Memory

	alloc, free, event api.Function
	interrupt          api.MutableGlobal
	initReply          abi.InitReply

	ctx    eventCtx  // passed to every export call, so host functions find the instance
	stack  [2]uint64 // params and results of the export calls
	env    []byte    // the envelope being written
	memory linearMemory

	// State of the event being handled; worker goroutine only.
	session string
	pending []byte // the response result copies
	reply   []byte
	stdout  lineWriter
	stderr  lineWriter

	// The deadline watchdog, guarded by wd.
	wd         sync.Mutex
	timer      *time.Timer
	running    bool
	deadline   time.Time
	stopCause  error         // ErrTimeout or ErrStopped once interrupted
	ctxErr     error         // what ctx.Err() says
	doneCh     chan struct{} // ctx.Done(), made on demand
	doneClosed bool
	sleepWake  chan struct{} // wakes a guest in nanosleep
}

// newInstance instantiates the module, runs _initialize and the init event.
func (p *Plugin) newInstance(w *worker) (*instance, error) {
	in := &instance{p: p, w: w, sleepWake: make(chan struct{}, 1)}
	in.ctx.in = in
	in.stdout = lineWriter{in: in, level: abi.LogInfo}
	in.stderr = lineWriter{in: in, level: abi.LogWarn}
	in.memory.limit = p.memLimit
	in.timer = time.AfterFunc(time.Hour, in.fire)
	in.timer.Stop()

	cfg := wazero.NewModuleConfig().
		WithName("").
		WithArgs(p.name).
		WithSysWalltime().
		WithSysNanotime().
		WithNanosleep(in.nanosleep).
		WithRandSource(rand.Reader).
		WithStdout(&in.stdout).
		WithStderr(&in.stderr).
		WithStartFunctions()
	ctx := experimental.WithMemoryAllocator(p.base, experimental.MemoryAllocatorFunc(in.allocate))
	ctx = context.WithValue(ctx, instanceKey{}, in)
	mod, err := p.rt.InstantiateModule(ctx, p.compiled, cfg)
	if err != nil {
		in.timer.Stop()
		return nil, fmt.Errorf("instantiate: %w", err)
	}
	in.mod = mod
	in.mem = mod.Memory()
	in.alloc = mod.ExportedFunction(abi.ExportAlloc)
	in.free = mod.ExportedFunction(abi.ExportFree)
	in.event = mod.ExportedFunction(abi.ExportEvent)
	in.interrupt, _ = mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	if in.mem == nil || in.alloc == nil || in.free == nil || in.event == nil || in.interrupt == nil {
		in.close(p.base)
		return nil, errors.New("instantiate: exports missing") // checkModule makes this unreachable
	}

	if fn := mod.ExportedFunction(abi.ExportInitialize); fn != nil {
		in.arm()
		err := fn.CallWithStack(&in.ctx, in.stack[:])
		in.disarm()
		if err != nil {
			crash := in.crashError("", abi.ExportInitialize, err)
			in.close(p.base)
			return nil, crash
		}
	}
	t := task{ev: abi.EventInit, payload: p.initEvent}
	res, crash := in.handle("", &t)
	switch {
	case crash != nil:
		in.close(p.base)
		return nil, fmt.Errorf("init: %w", crash)
	case res.Err != nil:
		in.close(p.base)
		return nil, fmt.Errorf("init: %w", res.Err)
	case res.Status != abi.StatusOK:
		in.close(p.base)
		return nil, errors.New("init: the plugin does not handle init")
	}
	if err := json.Unmarshal(res.Reply, &in.initReply); err != nil {
		in.close(p.base)
		return nil, fmt.Errorf("init: reply %.100q: %w", res.Reply, err)
	}
	return in, nil
}

// close frees the instance; it may be called more than once.
func (in *instance) close(ctx context.Context) {
	in.timer.Stop()
	in.stdout.flush()
	in.stderr.flush()
	if in.mod != nil {
		_ = in.mod.Close(ctx)
		in.mod = nil
	}
}

// handle runs one event in the instance. A non-nil *CrashError means the instance is dead.
func (in *instance) handle(sessionID string, t *task) (Result, *CrashError) {
	var chat *abi.Chat
	if t.hasChat {
		chat = &t.chat
	}
	in.env = appendEnvelope(in.env[:0], t.ev, sessionID, chat, t.payload)
	in.session = sessionID
	in.reply = nil
	in.arm()
	status, err := in.enter(in.env)
	in.disarm()
	in.session = ""
	in.pending = nil
	if err != nil {
		return Result{}, in.crashError(sessionID, t.ev, err)
	}
	if cap(in.env) > 64<<10 {
		in.env = nil // do not keep a large buffer for small events
	}
	switch abi.Status(status) {
	case abi.StatusOK:
		return Result{Status: abi.StatusOK, Reply: in.reply}, nil
	case abi.StatusUnhandled:
		return Result{Status: abi.StatusUnhandled}, nil
	case abi.StatusError:
		var er abi.ErrorReply
		if json.Unmarshal(in.reply, &er) != nil || er.Error == nil {
			er.Error = abi.Errorf(abi.CodeInternal, "plugin %s failed event %s without an error reply", in.p.name, t.ev)
		}
		return Result{Status: abi.StatusError, Reply: in.reply, Err: er.Error}, nil
	default:
		return Result{Status: abi.Status(status), Reply: in.reply,
			Err: fmt.Errorf("plugin[%s] event[%s]: %w %d", in.p.name, t.ev, ErrBadStatus, status)}, nil
	}
}

// enter writes the envelope into guest memory and calls gw_alloc, gw_event, gw_free.
func (in *instance) enter(env []byte) (int32, error) {
	n := uint64(len(env))
	in.stack[0] = n
	if err := in.alloc.CallWithStack(&in.ctx, in.stack[:]); err != nil {
		return 0, err
	}
	ptr := uint32(in.stack[0])
	if ptr == 0 {
		return 0, fmt.Errorf("%s(%d) returned 0", abi.ExportAlloc, n)
	}
	if !in.mem.Write(ptr, env) {
		return 0, fmt.Errorf("%s(%d) returned %#x, outside memory", abi.ExportAlloc, n, ptr)
	}
	in.stack[0], in.stack[1] = uint64(ptr), n
	if err := in.event.CallWithStack(&in.ctx, in.stack[:]); err != nil {
		return 0, err
	}
	status := int32(uint32(in.stack[0]))
	in.stack[0], in.stack[1] = uint64(ptr), n
	if err := in.free.CallWithStack(&in.ctx, in.stack[:]); err != nil {
		return 0, err
	}
	return status, nil
}

// crashError says why the instance died.
func (in *instance) crashError(sessionID string, ev abi.EventType, err error) *CrashError {
	in.wd.Lock()
	cause := in.stopCause
	in.wd.Unlock()
	if cause == nil {
		cause = ErrTrapped
		if in.memory.refused {
			cause = ErrMemory
		}
	}
	return &CrashError{Plugin: in.p.name, Session: sessionID, Event: ev, Cause: cause, Err: err}
}

// arm starts the deadline of an event.
func (in *instance) arm() {
	d := in.p.opts.EventTimeout
	in.memory.refused = false
	in.wd.Lock()
	in.running = true
	in.deadline = time.Now().Add(d)
	in.stopCause, in.ctxErr = nil, nil
	in.doneCh, in.doneClosed = nil, false
	in.wd.Unlock()
	select {
	case <-in.sleepWake:
	default:
	}
	in.timer.Reset(d)
}

// disarm ends the deadline of an event.
func (in *instance) disarm() {
	in.timer.Stop()
	in.wd.Lock()
	in.running = false
	if in.ctxErr == nil {
		in.ctxErr = context.Canceled
	}
	in.closeDone()
	if in.stopCause != nil && in.mod != nil {
		// Interrupted as the event ended: a crash if a call failed, else let the next run.
		in.interrupt.Set(0)
	}
	in.wd.Unlock()
}

// fire is the timer's function: it interrupts the event if it is past its deadline (a late
// timer of an earlier event finds the current one before its deadline and does nothing).
func (in *instance) fire() {
	in.wd.Lock()
	if in.running && in.stopCause == nil && !time.Now().Before(in.deadline) {
		in.interruptLocked(ErrTimeout, context.DeadlineExceeded)
	}
	in.wd.Unlock()
}

// interruptNow interrupts the event in progress, if any (Close).
func (in *instance) interruptNow() {
	in.wd.Lock()
	if in.running && in.stopCause == nil {
		in.interruptLocked(ErrStopped, context.Canceled)
	}
	in.wd.Unlock()
}

func (in *instance) interruptLocked(cause, ctxErr error) {
	in.stopCause, in.ctxErr = cause, ctxErr
	in.closeDone()
	if in.interrupt != nil {
		in.interrupt.Set(1) // the guest traps at its next loop iteration
	}
	select {
	case in.sleepWake <- struct{}{}:
	default:
	}
}

func (in *instance) closeDone() {
	if in.doneCh != nil && !in.doneClosed {
		close(in.doneCh)
		in.doneClosed = true
	}
}

// nanosleep is the guest's sleep (poll_oneoff): real, but cut short by an interrupt.
func (in *instance) nanosleep(ns int64) {
	in.wd.Lock()
	stopped := in.stopCause != nil
	in.wd.Unlock()
	if stopped || ns <= 0 {
		return
	}
	t := time.NewTimer(time.Duration(ns))
	select {
	case <-t.C:
	case <-in.sleepWake:
	}
	t.Stop()
}

// eventCtx is the context of export calls and of Host.Call: it carries the instance, the
// event's deadline, and ends when the event ends or is interrupted. It allocates nothing
// unless Done is called.
type eventCtx struct{ in *instance }

type instanceKey struct{}

// Deadline implements context.Context.
func (c *eventCtx) Deadline() (time.Time, bool) {
	c.in.wd.Lock()
	defer c.in.wd.Unlock()
	return c.in.deadline, true
}

// Done implements context.Context.
func (c *eventCtx) Done() <-chan struct{} {
	in := c.in
	in.wd.Lock()
	defer in.wd.Unlock()
	if in.doneCh == nil {
		in.doneCh = make(chan struct{})
		if in.ctxErr != nil {
			close(in.doneCh)
			in.doneClosed = true
		}
	}
	return in.doneCh
}

// Err implements context.Context.
func (c *eventCtx) Err() error {
	c.in.wd.Lock()
	defer c.in.wd.Unlock()
	return c.in.ctxErr
}

// Value implements context.Context.
func (c *eventCtx) Value(key any) any {
	if _, ok := key.(instanceKey); ok {
		return c.in
	}
	return c.in.p.values.Value(key)
}

// instanceOf finds the instance a host function is called for.
func instanceOf(ctx context.Context) *instance {
	if c, ok := ctx.(*eventCtx); ok {
		return c.in
	}
	if in, ok := ctx.Value(instanceKey{}).(*instance); ok {
		return in
	}
	panic(errors.New("gateway_v1: host function called outside the gateway's plugin runtime"))
}

// guestBytes returns a view of guest memory or traps the guest.
func (in *instance) guestBytes(fn, what string, ptr, n uint32) []byte {
	b, ok := in.mem.Read(ptr, n)
	if !ok {
		panic(fmt.Errorf("%s.%s: %s [%#x, +%d) is outside memory", abi.ImportModule, fn, what, ptr, n))
	}
	return b
}

var emptyObject = []byte("{}")

// hostCall is call(method_ptr, method_len, req_ptr, req_len) -> len or -code.
func hostCall(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceOf(ctx)
	name := in.guestBytes(abi.ImportCall, "method", uint32(stack[0]), uint32(stack[1]))
	req := in.guestBytes(abi.ImportCall, "request", uint32(stack[2]), uint32(stack[3]))
	method, ok := methods[string(name)]
	if !ok {
		method = abi.Method(name)
	}
	resp, err := in.callHost(method, req)
	if err != nil {
		code, body := errorReply(err)
		in.pending = body
		stack[0] = api.EncodeI32(-int32(code))
		return
	}
	if len(resp) == 0 {
		resp = emptyObject
	}
	in.pending = resp
	stack[0] = api.EncodeI32(int32(len(resp)))
}

// callHost calls the Host, turning a panic into CodeInternal: a host bug must not kill the
// instance.
func (in *instance) callHost(method abi.Method, req []byte) (resp []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			in.p.log.Error("host call panicked", "method", string(method), "session", in.session,
				"panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			resp, err = nil, abi.Errorf(abi.CodeInternal, "host call %s failed", method)
		}
	}()
	return in.p.host.Call(&in.ctx, in.session, method, req)
}

// hostResult is result(ptr, cap) -> len: copies the pending response.
func hostResult(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceOf(ctx)
	ptr, capacity := uint32(stack[0]), uint32(stack[1])
	n := uint32(len(in.pending))
	if capacity < n {
		n = capacity
	}
	if n > 0 && !in.mem.Write(ptr, in.pending[:n]) {
		panic(fmt.Errorf("%s.%s: buffer [%#x, +%d) is outside memory", abi.ImportModule, abi.ImportResult, ptr, n))
	}
	stack[0] = api.EncodeI32(int32(len(in.pending)))
}

// hostReply is reply(ptr, len): the event's reply, copied at once.
func hostReply(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceOf(ctx)
	b := in.guestBytes(abi.ImportReply, "reply", uint32(stack[0]), uint32(stack[1]))
	in.reply = append(make([]byte, 0, len(b)), b...)
}

// hostLog is log(level, ptr, len).
func hostLog(ctx context.Context, _ api.Module, stack []uint64) {
	in := instanceOf(ctx)
	b := in.guestBytes(abi.ImportLog, "message", uint32(stack[1]), uint32(stack[2]))
	in.p.host.Log(in.session, abi.LogLevel(api.DecodeI32(stack[0])), string(b))
}

// allocate is the instance's experimental.MemoryAllocator.
func (in *instance) allocate(capacity, _ uint64) experimental.LinearMemory {
	if capacity > in.memory.limit {
		capacity = in.memory.limit
	}
	in.memory.buf = make([]byte, 0, capacity)
	return &in.memory
}

// linearMemory backs an instance's memory and enforces MemoryLimitMB: a growth past it fails
// (memory.grow returns -1) and is recorded, so that the trap that usually follows is reported as
// ErrMemory.
type linearMemory struct {
	buf     []byte
	limit   uint64
	refused bool
}

// Reallocate implements experimental.LinearMemory.
func (m *linearMemory) Reallocate(size uint64) []byte {
	if size > m.limit {
		m.refused = true
		return nil
	}
	if size <= uint64(cap(m.buf)) {
		m.buf = m.buf[:size]
		return m.buf
	}
	// Bytes past len were never handed out: they are still zero, as Wasm requires.
	m.buf = append(m.buf[:cap(m.buf)], make([]byte, size-uint64(cap(m.buf)))...)[:size]
	return m.buf
}

// Free implements experimental.LinearMemory; the garbage collector frees the buffer.
func (m *linearMemory) Free() {}

// lineWriter sends what the guest writes on stdout or stderr to Host.Log, a line at a time.
type lineWriter struct {
	in    *instance
	level abi.LogLevel
	buf   []byte
}

const maxLogLine = 4 << 10

// Write implements io.Writer.
func (w *lineWriter) Write(b []byte) (int, error) {
	n := len(b)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			w.buf = append(w.buf, b...)
			if len(w.buf) >= maxLogLine {
				w.flush()
			}
			break
		}
		w.buf = append(w.buf, b[:i]...)
		w.flush()
		b = b[i+1:]
	}
	return n, nil
}

func (w *lineWriter) flush() {
	line := bytes.TrimRight(w.buf, "\r")
	if len(line) > 0 {
		w.in.p.host.Log(w.in.session, w.level, string(line))
	}
	w.buf = w.buf[:0]
}
