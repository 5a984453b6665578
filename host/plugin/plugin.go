package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/xmppgw/gateway/abi"
)

// Host is what the runtime hands plugin calls to. The session and roster layers implement it;
// tests use a recorder. Its methods run on the goroutine of the instance handling the event, so
// they must not block for long (slow work is an asynchronous call answered later by an event),
// and must not wait for an event of the plugin (Do) nor Close it. They may Submit.
type Host interface {
	// Call performs a host call of the plugin for session ("" during init). req aliases the
	// plugin's memory and is valid only until Call returns. An *abi.Error gives its code to the
	// guest; any other error becomes CodeInternal. A nil response reads as {}; the response is
	// kept until the guest's next call or the end of the event. ctx carries the event's deadline
	// and ends when the event ends.
	Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error)
	// Log writes a line the plugin logged, or printed on stdout (LogInfo) or stderr (LogWarn).
	Log(session string, level abi.LogLevel, msg string)
}

// CrashHandler is an optional interface of a Host: PluginCrashed is called, on the instance's
// goroutine, after an event of session crashed its instance (err is a *CrashError), so that the
// session layer can tell the user. The session's events go on after a session.restored event,
// unless errors.Is(err, ErrSessionStopped).
type CrashHandler interface {
	PluginCrashed(session string, ev abi.EventType, err error)
}

// Options configure Load. Zero values take the defaults given.
type Options struct {
	// Name names the plugin in logs and errors. Default: the file name without ".wasm".
	Name string
	// CacheDir holds wazero's compilation cache, shared across runs (and plugins). Empty: no
	// on-disk cache, every Load compiles (about 1 s for a Go plugin, 50 ms from the cache).
	CacheDir string
	// Instances is the size of the instance pool at Load. Default: runtime.NumCPU().
	Instances int
	// SessionsPerInstance, when positive, grows the pool: a new session whose instances all
	// hold this many sessions gets a new instance. A plugin that keeps much per session in
	// its memory (contacts, message caches) then stays within MemoryLimitMB however many
	// users log in. 0: the Instances share every session.
	SessionsPerInstance int
	// MemoryLimitMB caps each instance's linear memory. Default: 256.
	MemoryLimitMB int
	// EventTimeout bounds each event (and _initialize, and init). Default: 10 s.
	EventTimeout time.Duration
	// QueueSize bounds the events waiting per session; past it Submit returns ErrQueueFull.
	// Default: 64.
	QueueSize int
	// Init is the payload of the init event. Init.ABI defaults to this gateway's "1.0".
	Init abi.Init
	// MaxCrashesPerSession: a session whose events crashed an instance more often than this is
	// stopped (ErrSessionStopped) until Forget. Default: 3. Negative: never stopped.
	MaxCrashesPerSession int
	// MaxCrashedSessions: when more distinct sessions than this crashed an instance within
	// CrashWindow, the whole plugin stops (Healthy says why). Default: 10. Negative: never.
	MaxCrashedSessions int
	// CrashWindow is the window of MaxCrashedSessions. Default: one minute.
	CrashWindow time.Duration
	// Logger gets the runtime's own reports (crashes, restarts, stops). Default: slog.Default().
	Logger *slog.Logger
}

func (o *Options) setDefaults(path string) {
	if o.Name == "" {
		o.Name = strings.TrimSuffix(filepath.Base(path), ".wasm")
	}
	if o.Instances <= 0 {
		o.Instances = runtime.NumCPU()
	}
	if o.MemoryLimitMB <= 0 {
		o.MemoryLimitMB = 256
	}
	if o.MemoryLimitMB > 4096 {
		o.MemoryLimitMB = 4096
	}
	if o.EventTimeout <= 0 {
		o.EventTimeout = 10 * time.Second
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 64
	}
	if o.Init.ABI == "" {
		o.Init.ABI = fmt.Sprintf("%d.%d", abi.Major, abi.Minor)
	}
	if len(o.Init.Config) == 0 {
		o.Init.Config = json.RawMessage("{}")
	}
	if o.MaxCrashesPerSession == 0 {
		o.MaxCrashesPerSession = 3
	}
	if o.MaxCrashedSessions == 0 {
		o.MaxCrashedSessions = 10
	}
	if o.CrashWindow <= 0 {
		o.CrashWindow = time.Minute
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Result is the outcome of one event.
type Result struct {
	// Status is what gw_event returned. StatusUnhandled is reported as is: the session layer
	// applies the ABI's default.
	Status abi.Status
	// Reply is the JSON the plugin gave with reply, if any; the caller owns it.
	Reply []byte
	// Err is nil for StatusOK and StatusUnhandled. Otherwise: the plugin's *abi.Error
	// (StatusError), an error matching ErrBadStatus, a *CrashError (ErrTrapped, ErrTimeout,
	// ErrMemory), or one matching ErrSessionStopped or ErrStopped.
	Err error
}

// Plugin is a loaded plugin: one compiled module, a pool of instances, sessions pinned to them.
// Its methods are safe for concurrent use.
type Plugin struct {
	name, path string
	host       Host
	crash      CrashHandler
	opts       Options
	log        *slog.Logger
	base       context.Context // Load's context without its cancellation
	values     context.Context // Load's context, for Value only (WithoutCancel's Value allocates)
	memLimit   uint64          // bytes per instance
	initEvent  []byte          // the init payload

	rt       wazero.Runtime
	cache    wazero.CompilationCache
	compiled wazero.CompiledModule
	module   *ModuleInfo
	info     abi.InitReply

	wg       sync.WaitGroup // workers
	closeMu  sync.Mutex     // serialises Close
	isClosed bool

	mu       sync.Mutex // guards everything below, and the queues of sessions and workers
	sessions map[string]*session
	workers  []*worker
	stopErr  error
	crashes  []crashRecord
}

type crashRecord struct {
	at      time.Time
	session string
}

// session is one user's serial stream of events, pinned to one worker.
type session struct {
	id       string
	w        *worker
	q        taskQueue
	onReady  bool // in w.ready
	running  bool // its event is in the instance now
	restore  bool // session.restored goes first
	stopped  bool // over MaxCrashesPerSession
	forget   bool // Forget was called while busy
	crashCnt int
}

// task is one queued event.
type task struct {
	ev      abi.EventType
	chat    abi.Chat
	hasChat bool
	payload []byte
	done    func(Result)
}

// Load reads, compiles (through the cache), checks and starts a plugin: see the package doc.
// Its errors name the file and what is wrong. A failed Load leaves nothing running.
func Load(ctx context.Context, wasmPath string, host Host, o Options) (*Plugin, error) {
	bin, err := os.ReadFile(wasmPath)
	if err != nil {
		return nil, err
	}
	o.setDefaults(wasmPath)
	p := &Plugin{
		name:     o.Name,
		path:     wasmPath,
		host:     host,
		opts:     o,
		log:      o.Logger.With("plugin", o.Name),
		base:     context.WithoutCancel(ctx),
		values:   ctx,
		memLimit: uint64(o.MemoryLimitMB) << 20,
		sessions: make(map[string]*session),
	}
	p.crash, _ = host.(CrashHandler)
	if p.initEvent, err = json.Marshal(o.Init); err != nil {
		return nil, fmt.Errorf("plugin[%s]: init payload: %w", p.name, err)
	}
	if err := p.start(ctx, bin); err != nil {
		p.release(ctx)
		return nil, err
	}
	for _, w := range p.workers {
		p.wg.Add(1)
		go w.loop()
	}
	return p, nil
}

// start does steps 1 to 3 of the lifecycle; on error, release cleans up what it made.
func (p *Plugin) start(ctx context.Context, bin []byte) error {
	// 1. Compile once, through the cache.
	if !isWasm(bin) {
		return inFile(p.path, ErrNotWasm)
	}
	inst, err := p.instrumented(ctx, bin)
	if err != nil {
		return inFile(p.path, err)
	}
	cfg := wazero.NewRuntimeConfigCompiler().
		// The page limit is left at wasm32's maximum: the memory allocator of each instance
		// enforces MemoryLimitMB itself, so that it knows a trap came from the limit.
		WithMemoryLimitPages(65536).
		WithCloseOnContextDone(false)
	if p.opts.CacheDir != "" {
		if p.cache, err = wazero.NewCompilationCacheWithDir(p.opts.CacheDir); err != nil {
			return fmt.Errorf("plugin[%s]: compilation cache %s: %w", p.name, p.opts.CacheDir, err)
		}
		cfg = cfg.WithCompilationCache(p.cache)
	}
	p.rt = wazero.NewRuntimeWithConfig(ctx, cfg)
	if p.compiled, err = p.rt.CompileModule(ctx, inst); err != nil {
		return inFile(p.path, checkErrorf(ErrNotWasm, "invalid module: %v", err))
	}

	// 2. Check the ABI from the compiled module, before instantiating anything.
	wasi, err := wasi_snapshot_preview1.NewBuilder(p.rt).Compile(ctx)
	if err != nil {
		return err
	}
	if p.module, err = checkModule(p.path, p.compiled, wasi.ExportedFunctions()); err != nil {
		return inFile(p.path, err)
	}
	if p.module.ABIMinor > abi.Minor {
		p.log.Warn("plugin speaks a newer minor ABI version: calls new in it fail with unknown_method",
			"file", p.path, "abi", fmt.Sprintf("%d.%d", p.module.ABIMajor, p.module.ABIMinor))
	}
	if min := uint64(p.module.MemoryMin) << 16; min > p.memLimit {
		return inFile(p.path, fmt.Errorf("initial memory of %d MiB exceeds the limit of %d MiB", min>>20, p.opts.MemoryLimitMB))
	}
	if _, err := p.rt.InstantiateModule(ctx, wasi, wazero.NewModuleConfig()); err != nil {
		return err
	}
	if err := p.instantiateHostModule(ctx); err != nil {
		return err
	}

	// 3. Instantiate and init the pool.
	for i := 0; i < p.opts.Instances; i++ {
		w := &worker{p: p, idx: i, wake: make(chan struct{}, 1), sessions: make(map[*session]struct{})}
		if testHookStartInstance != nil {
			if err := testHookStartInstance(i); err != nil {
				return err
			}
		}
		in, err := p.newInstance(w)
		if err != nil {
			return inFile(p.path, err)
		}
		w.inst = in
		p.workers = append(p.workers, w)
		if i == 0 {
			p.info = in.initReply
		}
	}
	return nil
}

// testHookStartInstance, when set by a test, runs before each instance of Load starts.
var testHookStartInstance func(i int) error

// instrumented returns the module with its interrupt checks, or the reason it cannot be loaded.
func (p *Plugin) instrumented(ctx context.Context, bin []byte) ([]byte, error) {
	out, hasStart, err := instrument(bin)
	if err != nil {
		// Prefer wazero's report on a malformed module to the instrumenter's.
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfigInterpreter())
		defer rt.Close(ctx)
		if _, cerr := rt.CompileModule(ctx, bin); cerr != nil {
			return nil, checkErrorf(ErrNotWasm, "invalid module: %v", cerr)
		}
		return nil, fmt.Errorf("cannot instrument the module: %w", err)
	}
	if hasStart {
		return nil, errStartFunction
	}
	return out, nil
}

// Info returns what the plugin declared in its reply to init.
func (p *Plugin) Info() abi.InitReply { return p.info }

// Module returns what Load learnt about the module: ABI version, exports, imports, memory.
func (p *Plugin) Module() *ModuleInfo { return p.module }

// Healthy returns nil while the plugin runs, and why it stopped otherwise (ErrStopped).
func (p *Plugin) Healthy() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopErr
}

// Submit queues an event for session and returns at once. Events of one session run one at a
// time, in order; done, if not nil, is called with the result on the instance's goroutine (it
// must not block, nor call Close; it may Submit). payload is nil, JSON as []byte or json.RawMessage (not copied: leave it
// alone until done), or a value to marshal. Submit returns ErrQueueFull when the session's queue
// is full, an error matching ErrSessionStopped or ErrStopped, or a marshalling error; then done
// is never called.
func (p *Plugin) Submit(sessionID string, ev abi.EventType, chat *abi.Chat, payload any, done func(Result)) error {
	data, err := payloadBytes(payload)
	if err != nil {
		return fmt.Errorf("plugin[%s] event[%s]: payload: %w", p.name, ev, err)
	}
	t := task{ev: ev, payload: data, done: done}
	if chat != nil {
		t.chat, t.hasChat = *chat, true
	}
	p.mu.Lock()
	if p.stopErr != nil {
		err := p.stopErr
		p.mu.Unlock()
		return err
	}
	s := p.sessions[sessionID]
	if s == nil {
		s = p.newSession(sessionID)
	}
	switch {
	case s.stopped:
		p.mu.Unlock()
		return fmt.Errorf("plugin[%s] session[%s]: %w", p.name, sessionID, ErrSessionStopped)
	case s.q.n >= p.opts.QueueSize:
		p.mu.Unlock()
		return ErrQueueFull
	}
	s.q.push(t)
	p.schedule(s)
	p.mu.Unlock()
	return nil
}

// Do submits an event and waits for its result. It returns the Result and its Err, Submit's
// error, or ctx.Err() if ctx ends first (the event still runs).
func (p *Plugin) Do(ctx context.Context, sessionID string, ev abi.EventType, chat *abi.Chat, payload any) (Result, error) {
	ch := make(chan Result, 1)
	if err := p.Submit(sessionID, ev, chat, payload, func(r Result) { ch <- r }); err != nil {
		return Result{}, err
	}
	select {
	case r := <-ch:
		return r, r.Err
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Forget drops a session's pinning and crash count, once its queued events have run: call it
// after the session ended (logout, unregister), or to give a stopped session another chance.
func (p *Plugin) Forget(sessionID string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sessions[sessionID]; s != nil {
		s.forget = true
		p.maybeForget(s)
	}
}

// maybeForget deletes a session marked to forget once it is idle. Call with p.mu held.
func (p *Plugin) maybeForget(s *session) {
	if s.forget && s.q.n == 0 && !s.running && !s.onReady {
		delete(p.sessions, s.id)
		delete(s.w.sessions, s)
	}
}

// newSession pins a new session to the least loaded worker, or to a new one when every worker
// holds SessionsPerInstance sessions. Call with p.mu held.
func (p *Plugin) newSession(id string) *session {
	w := p.workers[0]
	for _, o := range p.workers[1:] {
		if len(o.sessions) < len(w.sessions) {
			w = o
		}
	}
	if n := p.opts.SessionsPerInstance; n > 0 && len(w.sessions) >= n && p.stopErr == nil {
		w = p.addWorker()
	}
	s := &session{id: id, w: w}
	s.q.max = p.opts.QueueSize
	p.sessions[id] = s
	w.sessions[s] = struct{}{}
	return s
}

// addWorker starts a worker whose instance it creates itself, before its first event (an
// instance takes milliseconds to start: not under p.mu). Call with p.mu held.
func (p *Plugin) addWorker() *worker {
	w := &worker{p: p, idx: len(p.workers), wake: make(chan struct{}, 1), sessions: make(map[*session]struct{})}
	p.workers = append(p.workers, w)
	p.wg.Add(1)
	go w.loop()
	p.log.Info("plugin instance added", "instance", w.idx, "sessions_per_instance", p.opts.SessionsPerInstance)
	return w
}

// schedule puts a session with work on its worker's ready list. Call with p.mu held.
func (p *Plugin) schedule(s *session) {
	if s.onReady || s.running || s.stopped || (s.q.n == 0 && !s.restore) {
		return
	}
	s.onReady = true
	s.w.ready.push(s)
	select {
	case s.w.wake <- struct{}{}:
	default:
	}
}

// stop stops the plugin with err: queued events fail with it, workers end after their current
// event. The first error stays.
func (p *Plugin) stop(err error) {
	p.mu.Lock()
	if p.stopErr != nil {
		p.mu.Unlock()
		return
	}
	p.stopErr = err
	var failed []task
	for _, s := range p.sessions {
		for s.q.n > 0 {
			failed = append(failed, s.q.pop())
		}
		s.restore = false
	}
	for _, w := range p.workers {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
	p.mu.Unlock()
	for _, t := range failed {
		if t.done != nil {
			t.done(Result{Status: abi.StatusError, Err: err})
		}
	}
}

// Close stops the plugin and frees it: queued events fail with ErrStopped, events in progress
// finish, or are interrupted when ctx ends; then every instance and the runtime are closed.
// It may be called more than once.
func (p *Plugin) Close(ctx context.Context) error {
	p.closeMu.Lock()
	defer p.closeMu.Unlock()
	if p.isClosed {
		return nil
	}
	p.isClosed = true
	p.stop(fmt.Errorf("plugin[%s]: %w: closed", p.name, ErrStopped))
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		p.mu.Lock()
		for _, w := range p.workers {
			if w.inst != nil {
				w.inst.interruptNow()
			}
		}
		p.mu.Unlock()
		<-done
	}
	p.release(context.WithoutCancel(ctx))
	return err
}

// release closes what start made; it works after a partial start.
func (p *Plugin) release(ctx context.Context) {
	for _, w := range p.workers {
		if w.inst != nil {
			w.inst.close(ctx)
			w.inst = nil
		}
	}
	if p.rt != nil {
		_ = p.rt.Close(ctx)
	}
	if p.cache != nil {
		_ = p.cache.Close(ctx)
	}
}

// payloadBytes turns Submit's payload into JSON.
func payloadBytes(payload any) ([]byte, error) {
	switch v := payload.(type) {
	case nil:
		return nil, nil
	case []byte:
		return v, nil
	case json.RawMessage:
		return v, nil
	default:
		return json.Marshal(v)
	}
}

// taskQueue is a session's FIFO of events, a ring that grows up to max.
type taskQueue struct {
	buf     []task
	head, n int
	max     int
}

func (q *taskQueue) push(t task) {
	if q.n == len(q.buf) {
		size := max(4, 2*len(q.buf))
		if size > q.max {
			size = max(q.max, q.n+1)
		}
		buf := make([]task, size)
		for i := 0; i < q.n; i++ {
			buf[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = buf, 0
	}
	q.buf[(q.head+q.n)%len(q.buf)] = t
	q.n++
}

func (q *taskQueue) pop() task {
	t := q.buf[q.head]
	q.buf[q.head] = task{}
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return t
}

// sessionRing is a worker's FIFO of sessions with work.
type sessionRing struct {
	buf     []*session
	head, n int
}

func (r *sessionRing) push(s *session) {
	if r.n == len(r.buf) {
		buf := make([]*session, max(8, 2*len(r.buf)))
		for i := 0; i < r.n; i++ {
			buf[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = s
	r.n++
}

func (r *sessionRing) pop() *session {
	s := r.buf[r.head]
	r.buf[r.head] = nil
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return s
}

// errorReply encodes err as the ErrorReply a failed host call leaves pending, and its code.
func errorReply(err error) (abi.Code, []byte) {
	var ae *abi.Error
	if !errors.As(err, &ae) || ae == nil {
		ae = &abi.Error{Code: abi.CodeInternal, Message: err.Error()}
	}
	b, _ := json.Marshal(abi.ErrorReply{Error: ae})
	return ae.Code, b
}

// Every method of ABI v1, so that a host call's name becomes an abi.Method without allocating.
var methods = func() map[string]abi.Method {
	m := make(map[string]abi.Method)
	for _, c := range []abi.Method{
		abi.CallContactGet, abi.CallContactList, abi.CallContactUpdate, abi.CallContactAdd,
		abi.CallContactReady, abi.CallContactFailed, abi.CallContactText, abi.CallContactFile,
		abi.CallContactCorrect, abi.CallContactRetract, abi.CallContactReact,
		abi.CallContactDisplayed, abi.CallContactReceived, abi.CallContactState,
		abi.CallMessageSent, abi.CallMessageFailed, abi.CallLoggedIn, abi.CallLoginFailed,
		abi.CallLogout, abi.CallStatus, abi.CallGatewayMessage, abi.CallPrompt,
		abi.CallRegistrationResult, abi.CallSearchResult, abi.CallKVGet, abi.CallKVSet,
		abi.CallKVDelete, abi.CallKVKeys, abi.CallTimerSet, abi.CallTimerCancel,
		abi.CallBridgeCall, abi.CallFileFetch, abi.CallFileRelease,
	} {
		m[string(c)] = c
	}
	return m
}()

// instantiateHostModule provides the imports of module gateway_v1.
func (p *Plugin) instantiateHostModule(ctx context.Context) error {
	i32 := api.ValueTypeI32
	b := p.rt.NewHostModuleBuilder(abi.ImportModule)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostCall), []api.ValueType{i32, i32, i32, i32}, []api.ValueType{i32}).
		WithParameterNames("method_ptr", "method_len", "req_ptr", "req_len").Export(abi.ImportCall)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostResult), []api.ValueType{i32, i32}, []api.ValueType{i32}).
		WithParameterNames("ptr", "cap").Export(abi.ImportResult)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostReply), []api.ValueType{i32, i32}, nil).
		WithParameterNames("ptr", "len").Export(abi.ImportReply)
	b.NewFunctionBuilder().WithGoModuleFunction(api.GoModuleFunc(hostLog), []api.ValueType{i32, i32, i32}, nil).
		WithParameterNames("level", "ptr", "len").Export(abi.ImportLog)
	_, err := b.Instantiate(ctx)
	return err
}
