// Package plugin is the gateway's plugin runtime. It loads a WebAssembly plugin with wazero,
// checks it against ABI v1 (package abi), runs a pool of instances and feeds them the events of
// the sessions pinned to them: one event at a time per instance, in order per session.
//
// # Lifecycle
//
//  1. Compile once. Load reads the file, instruments it for deadlines (below) and compiles it
//     with wazero's compiler engine through the on-disk compilation cache in Options.CacheDir
//     (a Go plugin: about 1 s cold, 50 ms from the cache). Each plugin has its own wazero
//     Runtime, so its limits are its own.
//  2. Check, before instantiating anything. From the CompiledModule: the ABI marker export
//     gw_abi_v<major>_<minor> (major must be abi.Major; a newer minor loads with a warning), the
//     exports gw_alloc, gw_free, gw_event and memory with their types, _initialize if exported,
//     and the imports: only the gateway_v1 functions of the ABI and WASI preview 1. A module with
//     a start function is refused (it would run outside any deadline). Each error names the file
//     and what is wrong; Check does the same for the plugin checker.
//  3. Instantiate and init. Options.Instances instances are instantiated with real clocks,
//     crypto/rand, no files, no environment, argv = [Options.Name], stdout and stderr sent line
//     by line to Host.Log; _initialize is called if exported, then the init event
//     (Options.Init), whose reply is Info.
//  4. Run. Submit queues an event in its session's bounded queue and returns at once
//     (ErrQueueFull when full). A session is pinned at its first event to the instance with the
//     fewest sessions and stays there until Forget. One goroutine per instance takes the sessions
//     with work in turn, one event each: the envelope goes into memory from gw_alloc, then
//     gw_event, then gw_free. Host calls made during the event act on its session.
//  5. Destroy after a crash. A trap, an event past Options.EventTimeout or a memory growth past
//     Options.MemoryLimitMB destroys that instance only. The event's done gets a *CrashError
//     (ErrTrapped, ErrTimeout, ErrMemory; the event is not delivered again), the Host hears of
//     it if it is a CrashHandler, a fresh instance replaces the dead one (step 3) and every
//     session pinned to it gets session.restored before its next event. A session that crashed
//     its instance more than Options.MaxCrashesPerSession times is stopped (ErrSessionStopped);
//     when more than Options.MaxCrashedSessions sessions crash within Options.CrashWindow, the
//     whole plugin stops (Healthy says why).
//  6. Close. Queued events fail with ErrStopped, events in progress finish (or are interrupted
//     when Close's context ends), then instances, runtime and cache are freed. The same cleanup
//     runs when Load fails part way, so a failed Load leaves nothing behind.
//
// # Deadlines
//
// wazero's WithCloseOnContextDone stops a runaway guest but starts a goroutine for every export
// call (about 1.7 us per call here, and an event makes three) and leaves compiled code at every
// loop iteration. Load instead rewrites the module: every loop iteration counts one in a
// register, and every 1024 iterations the guest passes through Go (a safe point) and checks an
// exported i32 global. A timer per instance sets the global when the event's deadline passes,
// and the guest traps at its next check with "unreachable". The cost is about 60 ns per event
// for the timer and 15-25% of a loop-heavy Go guest's CPU time.
//
// The safe points matter as much as the deadline: Go cannot preempt a goroutine running compiled
// Wasm, so without them a long loop holds up every stop-the-world of the garbage collector, and
// with it the whole process, including the timer that would stop the loop.
//
// A guest sleeping in poll_oneoff is woken by the deadline. A host call in progress is not
// interrupted: the context Host.Call gets ends, and Call should return.
//
// # Memory limit
//
// Each instance's linear memory is backed by an allocator (wazero's experimental
// MemoryAllocator) that refuses to grow past Options.MemoryLimitMB and records that it did, so
// that the trap which usually follows (a Go guest throws "out of memory") is reported as
// ErrMemory rather than ErrTrapped. wazero's own page limit is left at wasm32's 4 GiB.
package plugin
