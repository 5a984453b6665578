package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
)

// workerOf returns the pool slot a session is pinned to.
func workerOf(p *Plugin, session string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if s := p.sessions[session]; s != nil {
		return s.w.idx
	}
	return -1
}

func instanceOfWorker(p *Plugin, i int) *instance {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.workers[i].inst
}

func echo(t *testing.T, p *Plugin, session, msg string) {
	t.Helper()
	r, err := p.Do(context.Background(), session, abi.EventText, chat("c"), text("id-"+msg, msg))
	if err != nil {
		t.Fatalf("%s %q: %v", session, msg, err)
	}
	var got struct {
		Echo    string `json:"echo"`
		Session string `json:"session"`
	}
	if err := json.Unmarshal(r.Reply, &got); err != nil || got.Echo != msg || got.Session != session {
		t.Fatalf("%s %q: reply %s (%v)", session, msg, r.Reply, err)
	}
}

// TestConcurrentSessions runs many sessions over a pool of 2 instances from many goroutines and
// checks that each session's events ran in order (run it with -race).
func TestConcurrentSessions(t *testing.T) {
	checkGoroutines(t)
	rec := &recorder{}
	o := testOptions()
	o.QueueSize = 64
	p := loadGuest(t, rec, o)
	const sessions, events = 8, 40
	var wg sync.WaitGroup
	results := make([][]string, sessions)
	var mu sync.Mutex
	for s := 0; s < sessions; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id := fmt.Sprintf("user%d@x", s)
			var done sync.WaitGroup
			for e := 0; e < events; e++ {
				done.Add(1)
				err := p.Submit(id, abi.EventText, chat("c"), text("m", strconv.Itoa(e)), func(r Result) {
					defer done.Done()
					var got struct{ Echo string }
					if r.Err != nil || json.Unmarshal(r.Reply, &got) != nil {
						t.Errorf("%s: %v %s", id, r.Err, r.Reply)
					}
					mu.Lock()
					results[s] = append(results[s], got.Echo)
					mu.Unlock()
				})
				if err != nil {
					t.Error(err)
					done.Done()
				}
			}
			done.Wait()
		}()
	}
	wg.Wait()
	pinned := map[int]int{}
	for s := 0; s < sessions; s++ {
		id := fmt.Sprintf("user%d@x", s)
		pinned[workerOf(p, id)]++
		var want, calls []string
		for e := 0; e < events; e++ {
			want = append(want, strconv.Itoa(e))
			calls = append(calls, fmt.Sprintf(`contact.text {"legacy_id":"c","id":"m","text":"%d"}`, e))
		}
		if !slices.Equal(results[s], want) {
			t.Errorf("%s: done order %v", id, results[s])
		}
		if got := rec.callsOf(id); !slices.Equal(got, calls) {
			t.Errorf("%s: host calls %v", id, got)
		}
	}
	if pinned[0] != sessions/2 || pinned[1] != sessions/2 {
		t.Errorf("pinning %v", pinned)
	}
}

// TestPoolGrows: with SessionsPerInstance, sessions beyond it get instances of their own,
// which serve them like the first ones, replace themselves after a crash, and close with the
// plugin.
func TestPoolGrows(t *testing.T) {
	checkGoroutines(t)
	rec := &recorder{}
	o := testOptions()
	o.SessionsPerInstance = 2
	p := loadGuest(t, rec, o)
	const sessions = 7
	for i := range sessions {
		echo(t, p, fmt.Sprintf("u%d", i), "hello")
	}
	load := map[int]int{}
	for i := range sessions {
		load[workerOf(p, fmt.Sprintf("u%d", i))]++
	}
	if len(load) != 4 {
		t.Fatalf("7 sessions at 2 per instance on %d instances (%v), want 4", len(load), load)
	}
	seen := map[*instance]bool{}
	for w, n := range load {
		in := instanceOfWorker(p, w)
		if n > 2 || in == nil || seen[in] {
			t.Fatalf("instance %d: %d sessions, instance %p (load %v)", w, n, in, load)
		}
		seen[in] = true
	}
	// A crash on an added instance replaces it alone.
	last := workerOf(p, "u6")
	before := instanceOfWorker(p, last)
	if r, _ := p.Do(context.Background(), "u6", abi.EventText, chat("c"), text("bad", "panic")); !errors.Is(r.Err, ErrTrapped) {
		t.Fatalf("panic on an added instance: %v", r.Err)
	}
	echo(t, p, "u6", "again")
	if instanceOfWorker(p, last) == before || instanceOfWorker(p, 0) == nil {
		t.Fatal("the crashed added instance was not replaced")
	}
	echo(t, p, "u0", "again")
}

// TestFaults crashes an instance three ways; only that instance is replaced.
func TestFaults(t *testing.T) {
	for _, tt := range []struct {
		text    string
		cause   error
		timeout time.Duration
	}{
		{"panic", ErrTrapped, 10 * time.Second},
		{"loop", ErrTimeout, 300 * time.Millisecond},
		{"oom", ErrMemory, 10 * time.Second}, // filling 64 MiB takes a while under -race
		{"sleep", ErrTimeout, 300 * time.Millisecond},
	} {
		t.Run(tt.text, func(t *testing.T) {
			checkGoroutines(t)
			rec := &recorder{}
			o := testOptions()
			o.EventTimeout = tt.timeout
			p := loadGuest(t, rec, o)
			// a, c and e (idle) on instance 0, b and d on instance 1.
			for _, s := range []string{"a", "b", "c", "d", "e"} {
				echo(t, p, s, "hello")
			}
			if workerOf(p, "a") != 0 || workerOf(p, "b") != 1 || workerOf(p, "c") != 0 || workerOf(p, "e") != 0 {
				t.Fatal("unexpected pinning")
			}
			in0, in1 := instanceOfWorker(p, 0), instanceOfWorker(p, 1)

			crashed := make(chan Result, 1)
			if err := p.Submit("a", abi.EventText, chat("c"), text("bad", tt.text), func(r Result) { crashed <- r }); err != nil {
				t.Fatal(err)
			}
			// c waits behind the crash on the same instance; b is served meanwhile.
			cDone := make(chan Result, 1)
			p.Submit("c", abi.EventText, chat("c"), text("c2", "after"), func(r Result) { cDone <- r })
			echo(t, p, "b", "during")
			if tt.cause == ErrTimeout {
				select {
				case <-crashed:
					t.Error("b was answered only after a's event ended")
				default:
				}
			}
			r := <-crashed
			var ce *CrashError
			if !errors.Is(r.Err, tt.cause) || !errors.As(r.Err, &ce) || ce.Session != "a" || ce.Event != abi.EventText || ce.Plugin != "test" {
				t.Fatalf("crash result: %v", r.Err)
			}
			if rc := <-cDone; rc.Err != nil {
				t.Fatalf("c after the crash: %v", rc.Err)
			}
			echo(t, p, "a", "again")
			echo(t, p, "b", "again")

			if instanceOfWorker(p, 0) == in0 {
				t.Error("instance 0 not replaced")
			}
			if instanceOfWorker(p, 1) != in1 {
				t.Error("instance 1 replaced")
			}
			restored := `session.message {"text":"restored"}`
			// e is idle: it is restored all the same.
			for i := 0; i < 100 && len(rec.callsOf("e")) < 2; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			for s, want := range map[string][]string{
				"e": {"contact.text hello", restored},
				"d": {"contact.text hello"},
				"a": {"contact.text hello", restored, "contact.text again"},
				"c": {"contact.text hello", restored, "contact.text after"},
				"b": {"contact.text hello", "contact.text during", "contact.text again"},
			} {
				var got []string
				for _, c := range rec.callsOf(s) {
					if c == restored {
						got = append(got, c)
						continue
					}
					var req abi.ContactText
					json.Unmarshal([]byte(c[len("contact.text "):]), &req)
					got = append(got, "contact.text "+req.Text)
				}
				if !slices.Equal(got, want) {
					t.Errorf("%s: calls %q, want %q", s, got, want)
				}
			}
			rec.mu.Lock()
			crashes := slices.Clone(rec.crashes)
			rec.mu.Unlock()
			if len(crashes) != 1 || crashes[0] != "a message.text "+r.Err.Error() {
				t.Errorf("crash handler: %q", crashes)
			}
		})
	}
}

// blockingHost blocks contact.text calls with text "block" until release is closed.
type blockingHost struct {
	recorder
	entered chan struct{}
	release chan struct{}
}

func (h *blockingHost) Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	var t abi.ContactText
	if method == abi.CallContactText && json.Unmarshal(req, &t) == nil && t.Text == "block" {
		h.entered <- struct{}{}
		<-h.release
	}
	return h.recorder.Call(ctx, session, method, req)
}

func TestQueueFull(t *testing.T) {
	checkGoroutines(t)
	h := &blockingHost{entered: make(chan struct{}, 1), release: make(chan struct{})}
	o := testOptions()
	o.Instances = 1
	o.QueueSize = 2
	p := loadGuest(t, h, o)
	var wg sync.WaitGroup
	submit := func(session, msg string) error {
		wg.Add(1)
		err := p.Submit(session, abi.EventText, nil, text("", msg), func(r Result) {
			defer wg.Done()
			if r.Err != nil {
				t.Errorf("%s: %v", msg, r.Err)
			}
		})
		if err != nil {
			wg.Done()
		}
		return err
	}
	if err := submit("a", "block"); err != nil {
		t.Fatal(err)
	}
	<-h.entered // the first event is in the instance: the queue is empty again
	for i := 0; i < 2; i++ {
		if err := submit("a", "queued"); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	if err := submit("a", "refused"); err != ErrQueueFull {
		t.Fatalf("got %v, want ErrQueueFull", err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("Submit blocked for %s", d)
	}
	// Another session has its own queue.
	if err := submit("b", "other"); err != nil {
		t.Fatal(err)
	}
	close(h.release)
	wg.Wait()
}

func TestCrashesStopSession(t *testing.T) {
	checkGoroutines(t)
	rec := &recorder{}
	o := testOptions()
	o.Instances = 1
	o.MaxCrashesPerSession = 2
	p := loadGuest(t, rec, o)
	for i := 1; i <= 2; i++ {
		if _, err := p.Do(context.Background(), "a", abi.EventText, nil, text("", "panic")); !errors.Is(err, ErrTrapped) || errors.Is(err, ErrSessionStopped) {
			t.Fatalf("crash %d: %v", i, err)
		}
	}
	// The third crash stops the session; what was queued behind it fails.
	third := make(chan Result, 1)
	queued := make(chan Result, 1)
	p.Submit("a", abi.EventText, nil, text("", "panic"), func(r Result) { third <- r })
	p.Submit("a", abi.EventText, nil, text("", "hello"), func(r Result) { queued <- r })
	if r := <-third; !errors.Is(r.Err, ErrTrapped) || !errors.Is(r.Err, ErrSessionStopped) {
		t.Fatalf("third crash: %v", r.Err)
	}
	if r := <-queued; !errors.Is(r.Err, ErrSessionStopped) {
		t.Fatalf("queued: %v", r.Err)
	}
	if err := p.Submit("a", abi.EventText, nil, text("", "hello"), nil); !errors.Is(err, ErrSessionStopped) {
		t.Fatalf("submit: %v", err)
	}
	echo(t, p, "b", "still fine")
	if p.Healthy() != nil {
		t.Fatal(p.Healthy())
	}
	p.Forget("a")
	echo(t, p, "a", "back")
}

func TestCrashStormStopsPlugin(t *testing.T) {
	checkGoroutines(t)
	o := testOptions()
	o.MaxCrashedSessions = 2
	p := loadGuest(t, &recorder{}, o)
	for i := 0; i < 3; i++ {
		if _, err := p.Do(context.Background(), fmt.Sprint("s", i), abi.EventText, nil, text("", "panic")); !errors.Is(err, ErrTrapped) {
			t.Fatal(err)
		}
	}
	err := p.Healthy()
	if !errors.Is(err, ErrStopped) || err.Error() != "plugin[test]: plugin stopped: 3 sessions crashed it within 1m0s" {
		t.Fatalf("Healthy: %v", err)
	}
	if err := p.Submit("s9", abi.EventText, nil, text("", "hi"), nil); !errors.Is(err, ErrStopped) {
		t.Fatal(err)
	}
}

func TestClosePartialStart(t *testing.T) {
	checkGoroutines(t)
	testHookStartInstance = func(i int) error {
		if i == 1 {
			return errors.New("hook: no second instance")
		}
		return nil
	}
	defer func() { testHookStartInstance = nil }()
	if _, err := Load(context.Background(), guestWasm, &recorder{}, testOptions()); err == nil || err.Error() != "hook: no second instance" {
		t.Fatal(err)
	}
}

func TestCloseInterrupts(t *testing.T) {
	checkGoroutines(t)
	o := testOptions()
	o.EventTimeout = time.Minute
	p, err := Load(context.Background(), guestWasm, &recorder{}, o)
	if err != nil {
		t.Fatal(err)
	}
	running := make(chan Result, 1)
	queued := make(chan Result, 1)
	p.Submit("a", abi.EventText, nil, text("", "loop"), func(r Result) { running <- r })
	p.Submit("a", abi.EventText, nil, text("", "hello"), func(r Result) { queued <- r })
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := p.Close(ctx); err != context.DeadlineExceeded {
		t.Fatalf("Close: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %s", d)
	}
	if r := <-running; !errors.Is(r.Err, ErrStopped) {
		t.Errorf("running: %v", r.Err)
	}
	if r := <-queued; !errors.Is(r.Err, ErrStopped) {
		t.Errorf("queued: %v", r.Err)
	}
	if err := p.Submit("a", abi.EventText, nil, nil, nil); !errors.Is(err, ErrStopped) {
		t.Error(err)
	}
	if err := p.Close(context.Background()); err != nil {
		t.Error(err)
	}
}

func TestStatusesAndCalls(t *testing.T) {
	checkGoroutines(t)
	rec := &recorder{}
	p := loadGuest(t, rec, testOptions())
	ctx := context.Background()
	do := func(msg string) (Result, error) {
		return p.Do(ctx, "a@x", abi.EventText, nil, text("", msg))
	}
	if r, err := do("unhandled"); err != nil || r.Status != abi.StatusUnhandled {
		t.Errorf("unhandled: %+v %v", r, err)
	}
	var ae *abi.Error
	if r, err := do("error"); r.Status != abi.StatusError || !errors.As(err, &ae) || ae.Code != abi.CodeNetwork || ae.Message != "the network said no" {
		t.Errorf("error: %+v %v", r, err)
	}
	if r, err := do("badstatus"); r.Status != 7 || !errors.Is(err, ErrBadStatus) || err.Error() != "plugin[test] event[message.text]: unknown event status 7" {
		t.Errorf("badstatus: %+v %v", r, err)
	}
	// A host call failing with an *abi.Error: the guest sees -code and the ErrorReply.
	if r, err := do("callerr"); err != nil || string(r.Reply) != `{"n":-2,"resp":{"error":{"code":"not_found","message":"no key {\"key\":\"missing\"}"}}}` {
		t.Errorf("callerr: %s %v", r.Reply, err)
	}
	// Any other error is internal; the method name reaches the Host as is.
	if r, err := do("unknown"); err != nil || string(r.Reply) != `{"n":-8,"resp":{"error":{"code":"internal","message":"recorder: unknown method no.such.method"}}}` {
		t.Errorf("unknown: %s %v", r.Reply, err)
	}
	// An event the guest does not know.
	if r, err := p.Do(ctx, "a@x", "no.such.event", nil, nil); err != nil || r.Status != abi.StatusUnhandled {
		t.Errorf("unknown event: %+v %v", r, err)
	}
	if _, err := do("log"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	logs := slices.Clone(rec.logs)
	rec.mu.Unlock()
	want := []string{"a@x 4 hello from a@x", "a@x 0 to stdout", "a@x 4 to stderr, in two writes"}
	if !slices.Equal(logs, want) {
		t.Errorf("logs %q, want %q", logs, want)
	}
}

func TestDoContext(t *testing.T) {
	checkGoroutines(t)
	h := &blockingHost{entered: make(chan struct{}, 1), release: make(chan struct{})}
	p := loadGuest(t, h, testOptions())
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-h.entered; cancel() }()
	if _, err := p.Do(ctx, "a", abi.EventText, nil, text("", "block")); err != context.Canceled {
		t.Fatal(err)
	}
	close(h.release)
}

// TestHostCallContext: Host.Call's context carries the deadline and ends with the event.
func TestHostCallContext(t *testing.T) {
	checkGoroutines(t)
	var got context.Context
	var deadline time.Time
	var errDuring error
	h := &funcHost{call: func(ctx context.Context) {
		got = ctx
		deadline, _ = ctx.Deadline()
		errDuring = ctx.Err()
	}}
	o := testOptions()
	p := loadGuest(t, h, o)
	start := time.Now()
	if _, err := p.Do(context.Background(), "a", abi.EventText, nil, text("", "x")); err != nil {
		t.Fatal(err)
	}
	if errDuring != nil || deadline.Before(start) || deadline.After(start.Add(o.EventTimeout+time.Second)) {
		t.Errorf("during: err %v deadline %v", errDuring, deadline)
	}
	select {
	case <-got.Done():
	default:
		t.Error("context not done after the event")
	}
}

type funcHost struct {
	recorder
	call func(ctx context.Context)
}

func (h *funcHost) Call(ctx context.Context, session string, method abi.Method, req []byte) ([]byte, error) {
	h.call(ctx)
	return h.recorder.Call(ctx, session, method, req)
}

// TestLoopDoesNotBlockGC: guests spinning in compiled code must let a stop-the-world garbage
// collection through (Go cannot preempt compiled Wasm; the instrumentation gives it safe
// points), and still be stopped by their deadline. Without the safe points this test hangs until
// go test's timeout: the collector waits for the loops, and the deadline timers wait for it.
func TestLoopDoesNotBlockGC(t *testing.T) {
	for _, procs := range []int{runtime.GOMAXPROCS(0), 1} {
		t.Run(fmt.Sprint("GOMAXPROCS=", procs), func(t *testing.T) {
			checkGoroutines(t)
			o := testOptions()
			o.EventTimeout = 2 * time.Second
			p := loadGuest(t, &recorder{}, o)
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(procs))
			// Both instances spin.
			res := make(chan Result, 2)
			p.Submit("a", abi.EventText, nil, text("", "loop"), func(r Result) { res <- r })
			p.Submit("b", abi.EventText, nil, text("", "loop"), func(r Result) { res <- r })
			time.Sleep(50 * time.Millisecond)
			// ReadMemStats stops the world, as the collector does.
			start := time.Now()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			d := time.Since(start)
			if procs > 1 {
				runtime.GC() // with one P, its sweep loop yields to the spinning guests per span
			}
			t.Logf("stop-the-world took %s, then GC %s, while the guests spun", d, time.Since(start)-d)
			if d > time.Second {
				t.Errorf("stop-the-world held up for %s", d)
			}
			for i := 0; i < 2; i++ {
				if r := <-res; !errors.Is(r.Err, ErrTimeout) {
					t.Fatal(r.Err)
				}
			}
			echo(t, p, "c", "fine")
		})
	}
}
