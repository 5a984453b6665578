// Command gwbench is the gateway's load driver: it measures echo round trips through a real
// Prosody, the gateway's CPU time per round trip, and the same for a bare component (the floor).
//
// Usage:
//
//	go run ./cmd/gwbench [flags]            run a benchmark (make build first)
//	gwbench floor ...                       (internal) the floor component
//	gwbench gateway -c FILE                 (internal) the gateway daemon linked into gwbench
//
// A run starts a Prosody on free loopback ports in a temporary folder (the configuration of
// examples/prosody/prosody.cfg.lua, a self-signed certificate generated here, users registered
// with prosodyctl), starts the gateway as its own process (bin/gateway run -c FILE, with the
// echo plugin on telegram.localhost, the admin listener on a free port, data in the folder),
// logs in the users as XMPP clients (mellium: STARTTLS, SASL PLAIN, bind, initial presence),
// registers each with the gateway (XEP-0077, form field name) and waits for the gateway's
// "Echo network: logged in as ..." presence. Then every user sends messages to
// plain@telegram.localhost (one message in, one out) or, with -full, to eve@telegram.localhost
// with a receipt request and markable (typing, a displayed marker, the receipt and the echo
// out), and waits for "echo: <tag>", each message carrying a unique tag.
//
// The load runs for -warmup, then for the measured window (-duration), then stops; echoes may
// still arrive for -grace. It reports round trips per second (echoes received in the window),
// the latency of the messages sent in the window (p50, p90, p99, max), messages lost (no echo
// by the end of the grace period: must be 0), duplicates, errors, for -full the receipts and
// markers missing, and the CPU time per round trip of the gateway process, from its own
// accounting (/proc/PID/stat utime+stime at the start and the end of the window, divided by the
// round trips), and likewise of Prosody and of the driver itself.
//
// With -floor the same run then measures the floor: a bare component (gwbench floor, its own
// process) on the same XEP-0114 link code (host/xmpp), sending the same stanzas built with the
// same XML code and making the same store calls per message (host/store, SQLite), without a
// plugin; see floor.go for the list. It prints the gateway's CPU per round trip over the
// floor's, against the targets of issue 5 (at most 2x the floor, at most 56 us per plain round
// trip).
//
// Flags:
//
//	-users N          XMPP clients, each registered with the gateway (20)
//	-duration D       the measured window (20s)
//	-warmup D         load before the window (3s)
//	-grace D          how long echoes may arrive after the load stops (5s)
//	-full             the full exchange (eve: typing, displayed marker, receipt) instead of plain
//	-floor            also measure the floor in the same run, and the ratio
//	-bare             also measure the bare floor: the floor without any store call (the cost of
//	                  the XML and the link alone)
//	-no-mam           run Prosody without mod_mam (its archive costs Prosody about 1.3 ms per
//	                  message, more than everything else)
//	-gateway KIND     bin: bin/gateway (default); inproc: the same daemon linked into gwbench
//	                  (its own process; can write a Go CPU profile); none: only the floor
//	-inflight K       closed loop: messages in flight per user (1)
//	-rate R           open loop: R messages per second over all users (0: closed loop); a user
//	                  skips a tick while -max-inflight of its messages are unanswered
//	-profile DIR      write CPU profiles of the measured window into DIR: pprof for the floor
//	                  and -gateway inproc; for bin/gateway, /debug/pprof/profile from its admin
//	                  listener when it serves net/http/pprof, else perf record; prints the top
//	                  functions by cumulative CPU
//	-json FILE        also write the results as JSON
//	-telegram         the Telegram plugin (build/plugins/telegram.wasm) on the simulated
//	                  Telegram instead of the echo plugin: one generated account per user, the
//	                  load to a plain echo contact (see telegram.go); plain exchange, gateway only
//	-telegram-contacts N   contacts per simulated account (5)
//	-gateway-bin, -plugin, -prosody-config   paths (defaults: bin/gateway,
//	                  build/plugins/echo.wasm, examples/prosody/prosody.cfg.lua in the module)
//	-c2s ADDR -component ADDR -secret S      use a running server instead (domain localhost,
//	                  component telegram.localhost; users are registered in band)
//	-dir DIR, -keep   where the temporary folder goes; keep it (logs, databases)
//	-v                progress messages
//
// The report also gives each process's CPU in cores over the window and that of every other
// process on the machine ("other processes"): with 2 cores, anything else running skews
// throughput and latency much more than CPU per round trip.
//
// A default run (20 users, 3 s + 20 s, plain, gateway only) takes about 35 s; with -floor -bare
// about 90 s. The exit status is 1 when a message was lost or duplicated, an error came back, no
// round trip completed, or for -full a receipt or marker was missing.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	domain   = "localhost"
	gwJID    = "telegram.localhost"
	password = "bench-password"
)

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "floor":
			os.Exit(runFloor(os.Args[2:]))
		case "gateway":
			os.Exit(runGateway(os.Args[2:]))
		}
	}
	os.Exit(runMain(os.Args[1:], os.Stdout, os.Stderr))
}

// options are the driver's flags.
type options struct {
	users                       int
	duration, warmup, grace     time.Duration
	full, floor, bare, noMAM    bool
	gateway                     string
	inflight, maxInflight       int
	rate                        float64
	profile, jsonOut            string
	gatewayBin, plugin, prosCfg string
	c2s, component, secret      string
	dir                         string
	keep, verbose               bool
	telegram                    bool // -telegram: see telegram.go
	tgContacts                  int
	out, errw                   io.Writer
}

func parseFlags(args []string, stdout, stderr io.Writer) (*options, error) {
	o := &options{out: stdout, errw: stderr}
	fs := flag.NewFlagSet("gwbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.users, "users", 20, "XMPP clients, each registered with the gateway")
	fs.DurationVar(&o.duration, "duration", 20*time.Second, "the measured window")
	fs.DurationVar(&o.warmup, "warmup", 3*time.Second, "load before the measured window")
	fs.DurationVar(&o.grace, "grace", 5*time.Second, "how long echoes may arrive after the load stops")
	fs.BoolVar(&o.full, "full", false, "the full exchange with eve (typing, displayed marker, receipt)")
	fs.BoolVar(&o.floor, "floor", false, "also measure the floor component in the same run")
	fs.BoolVar(&o.bare, "bare", false, "also measure the bare floor (no store calls) in the same run")
	fs.BoolVar(&o.noMAM, "no-mam", false, "run Prosody without mod_mam (message archiving costs Prosody more than all else)")
	fs.StringVar(&o.gateway, "gateway", "bin", "`kind` of gateway process: bin, inproc or none")
	fs.IntVar(&o.inflight, "inflight", 1, "closed loop: messages in flight per user")
	fs.Float64Var(&o.rate, "rate", 0, "open loop: messages per second over all users (0: closed loop)")
	fs.IntVar(&o.maxInflight, "max-inflight", 64, "open loop: a user skips a tick with this many messages unanswered")
	fs.StringVar(&o.profile, "profile", "", "write CPU profiles of the measured window into `dir`")
	fs.StringVar(&o.jsonOut, "json", "", "also write the results as JSON to `file`")
	fs.StringVar(&o.gatewayBin, "gateway-bin", "", "the gateway binary (default bin/gateway in the module)")
	fs.StringVar(&o.plugin, "plugin", "", "the echo plugin (default build/plugins/echo.wasm in the module)")
	fs.StringVar(&o.prosCfg, "prosody-config", "", "Prosody configuration (default examples/prosody/prosody.cfg.lua in the module)")
	fs.StringVar(&o.c2s, "c2s", "", "use a running server: its client `address`")
	fs.StringVar(&o.component, "component", "", "use a running server: its component `address`")
	fs.StringVar(&o.secret, "secret", "", "use a running server: the secret of telegram.localhost")
	fs.StringVar(&o.dir, "dir", "", "parent of the temporary folder")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder")
	fs.BoolVar(&o.verbose, "v", false, "progress messages")
	fs.BoolVar(&o.telegram, "telegram", false, "the Telegram plugin on the simulated Telegram instead of the echo plugin")
	fs.IntVar(&o.tgContacts, "telegram-contacts", 5, "-telegram: contacts per simulated account")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	switch {
	case o.users < 1:
		return nil, errors.New("-users must be at least 1")
	case o.duration <= 0:
		return nil, errors.New("-duration must be positive")
	case o.inflight < 1 || o.maxInflight < 1:
		return nil, errors.New("-inflight and -max-inflight must be at least 1")
	case o.gateway != "bin" && o.gateway != "inproc" && o.gateway != "none":
		return nil, fmt.Errorf("-gateway %q: want bin, inproc or none", o.gateway)
	case o.gateway == "none" && !o.floor && !o.bare:
		return nil, errors.New("-gateway none measures nothing without -floor or -bare")
	case (o.c2s == "") != (o.component == ""):
		return nil, errors.New("-c2s and -component go together")
	}
	if o.c2s != "" && o.secret == "" {
		return nil, errors.New("-c2s needs -secret")
	}
	if err := o.checkTelegram(); err != nil {
		return nil, err
	}
	root := moduleRoot()
	def := func(p *string, rel string) {
		if *p == "" && root != "" {
			*p = filepath.Join(root, rel)
		}
		if *p != "" {
			if a, err := filepath.Abs(*p); err == nil {
				*p = a
			}
		}
	}
	def(&o.gatewayBin, "bin/gateway")
	if o.telegram {
		def(&o.plugin, "build/plugins/telegram.wasm")
	}
	def(&o.plugin, "build/plugins/echo.wasm")
	def(&o.prosCfg, "examples/prosody/prosody.cfg.lua")
	if o.gateway != "none" {
		if _, err := os.Stat(o.plugin); err != nil {
			return nil, fmt.Errorf("echo plugin: %w (run make build)", err)
		}
	}
	if o.gateway == "bin" {
		if _, err := os.Stat(o.gatewayBin); err != nil {
			return nil, fmt.Errorf("gateway binary: %w (run make build)", err)
		}
	}
	if o.profile != "" {
		if err := os.MkdirAll(o.profile, 0o755); err != nil {
			return nil, err
		}
		if a, err := filepath.Abs(o.profile); err == nil {
			o.profile = a
		}
	}
	return o, nil
}

// moduleRoot finds the module's folder from the working directory up, "" if not inside it.
func moduleRoot() string {
	d, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if b, err := os.ReadFile(filepath.Join(d, "go.mod")); err == nil && strings.Contains(string(b), "module github.com/xmppgw/gateway\n") {
			return d
		}
		p := filepath.Dir(d)
		if p == d {
			return ""
		}
		d = p
	}
}

func (o *options) logf(format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(o.errw, "gwbench: "+format+"\n", args...)
	}
}

// result is one target's measurement.
type result struct {
	Time        time.Time     `json:"time"`   // end of the window
	Target      string        `json:"target"` // gateway, gateway-inproc, floor, floor-bare
	Exchange    string        `json:"exchange"`
	Users       int           `json:"users"`
	Load        string        `json:"load"`
	Window      time.Duration `json:"window_ns"`
	RoundTrips  int64         `json:"round_trips"`
	RatePerSec  float64       `json:"round_trips_per_sec"`
	P50         time.Duration `json:"p50_ns"`
	P90         time.Duration `json:"p90_ns"`
	P99         time.Duration `json:"p99_ns"`
	Max         time.Duration `json:"max_ns"`
	Sent        int64         `json:"sent"`
	Lost        int64         `json:"lost"`
	Duplicates  int64         `json:"duplicates"`
	Errors      int64         `json:"errors"`
	ErrSample   string        `json:"error_sample,omitempty"`
	Skipped     int64         `json:"skipped_ticks,omitempty"`
	MissingRcpt int64         `json:"missing_receipts,omitempty"`
	MissingDisp int64         `json:"missing_displayed,omitempty"`
	Composing   int64         `json:"composing,omitempty"`
	CPU         time.Duration `json:"cpu_ns"`
	CPUPerRT    time.Duration `json:"cpu_per_round_trip_ns"`
	ProsodyRT   time.Duration `json:"prosody_cpu_per_round_trip_ns,omitempty"`
	Cores       float64       `json:"target_cores"`            // the target's CPU / window
	ProsCores   float64       `json:"prosody_cores,omitempty"` // Prosody's (one thread: 1.0 is its limit)
	Prosody     string        `json:"prosody"`
	OtherCores  float64       `json:"other_cores"` // the rest of the machine during the window
	DriverRT    time.Duration `json:"driver_cpu_per_round_trip_ns"`
	WritesRT    float64       `json:"store_writes_per_round_trip,omitempty"`  // the gateway's, from /metrics
	CommitsRT   float64       `json:"store_commits_per_round_trip,omitempty"` // transactions that committed them
	Profile     string        `json:"profile,omitempty"`
	ProfileTop  string        `json:"-"`
}

func runMain(args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stdout, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "gwbench: %v\n", err)
		return 2
	}
	// Ctrl-C stops the run cleanly: the processes are stopped and the folder removed.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := bench(ctx, o)
	if err != nil {
		fmt.Fprintf(stderr, "gwbench: %v\n", err)
		return 1
	}
	report(o, res)
	if o.jsonOut != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.WriteFile(o.jsonOut, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintf(stderr, "gwbench: %v\n", err)
			return 1
		}
	}
	for _, r := range res {
		if r.Lost > 0 || r.Duplicates > 0 || r.Errors > 0 || r.MissingRcpt > 0 || r.MissingDisp > 0 || r.RoundTrips == 0 {
			return 1
		}
	}
	return 0
}

// bench runs the whole benchmark and returns one result per target.
func bench(ctx context.Context, o *options) ([]result, error) {
	dir, err := os.MkdirTemp(o.dir, "gwbench-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintf(o.errw, "gwbench: keeping %s\n", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	users := make([]string, o.users)
	for i := range users {
		users[i] = "bench" + strconv.Itoa(i)
	}

	var srv *xmppServer
	if o.c2s == "" {
		o.logf("starting prosody, registering %d users", o.users)
		if srv, err = startProsody(filepath.Join(dir, "xmpp"), o.prosCfg, domain, users, password, o.noMAM); err != nil {
			return nil, err
		}
		defer srv.stop()
	} else {
		srv = &xmppServer{domain: domain, c2s: o.c2s, component: o.component, secret: o.secret}
		o.logf("registering %d users in band at %s", o.users, o.c2s)
		if err := parallel(len(users), 4, func(i int) error {
			rctx, cancel := context.WithTimeout(ctx, 20*time.Second)
			defer cancel()
			return registerInBand(rctx, srv.c2s, users[i]+"@"+domain, password)
		}); err != nil {
			return nil, err
		}
	}

	o.logf("logging in %d clients", o.users)
	clients := make([]*client, o.users)
	if err := parallel(len(users), 8, func(i int) error {
		lctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		c, err := dialClient(lctx, i, srv.c2s, users[i]+"@"+domain, password, gwJID)
		clients[i] = c
		return err
	}); err != nil {
		return nil, err
	}
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.close()
			}
		}
	}()

	var targets []string
	if o.gateway != "none" {
		targets = append(targets, "gateway")
	}
	if o.floor {
		targets = append(targets, "floor")
	}
	if o.bare {
		targets = append(targets, "floor-bare")
	}
	var out []result
	for i, t := range targets {
		r, err := measure(ctx, o, srv, clients, dir, t, "r"+strconv.Itoa(i))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", t, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// parallel runs f(0..n-1) with at most k at a time and returns the first error.
func parallel(n, k int, f func(i int) error) error {
	var wg sync.WaitGroup
	sem := make(chan struct{}, k)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if err := f(i); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// target is a running component process under measurement.
type target struct {
	name  string
	p     *proc
	prof  *profiler
	admin string // the gateway's admin listener, for /metrics
}

// startTarget starts the gateway or the floor as its own process and waits until its
// component link is up.
func startTarget(ctx context.Context, o *options, srv *xmppServer, dir, kind string) (*target, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	tdir := filepath.Join(dir, kind)
	if err := os.MkdirAll(tdir, 0o750); err != nil {
		return nil, err
	}
	t := &target{name: kind}
	var cmd *exec.Cmd
	var profile string
	env := os.Environ()
	var ready func() error
	switch kind {
	case "floor", "floor-bare":
		readyFile := filepath.Join(tdir, "ready")
		cmd = exec.Command(self, "floor", "-addr", srv.component, "-jid", gwJID, "-db", filepath.Join(tdir, "floor.db"),
			"-ready", readyFile, "-store="+strconv.FormatBool(kind == "floor"))
		env = append(env, "GWBENCH_SECRET="+srv.secret)
		if o.profile != "" {
			profile = filepath.Join(o.profile, kind+".pprof")
			t.prof = &profiler{kind: "pprof", out: profile, binary: self}
		}
		ready = func() error {
			_, err := os.Stat(readyFile)
			return err
		}
	default:
		ports, err := freePorts(1)
		if err != nil {
			return nil, err
		}
		admin := "127.0.0.1:" + strconv.Itoa(ports[0])
		t.admin = admin
		cfg := filepath.Join(tdir, "gateway.toml")
		toml := fmt.Sprintf(`# generated by gwbench
data_dir = %q
[log]
level = "info"
[xmpp]
host = "127.0.0.1"
port = %s
[admin]
listen = %q
[[gateway]]
jid = %q
secret_env = "GW_SECRET"
type = "telegram"
name = "Echo (gwbench)"
plugin = %q
`, filepath.Join(tdir, "data"), portOf(srv.component), admin, gwJID, o.plugin)
		tg, err := o.telegramTOML(tdir)
		if err != nil {
			return nil, err
		}
		toml += tg
		if err := os.WriteFile(cfg, []byte(toml), 0o600); err != nil {
			return nil, err
		}
		env = append(env, "GW_SECRET="+srv.secret)
		if o.gateway == "inproc" {
			t.name = "gateway-inproc"
			cmd = exec.Command(self, "gateway", "-c", cfg)
			if o.profile != "" {
				profile = filepath.Join(o.profile, "gateway-inproc.pprof")
				t.prof = &profiler{kind: "pprof", out: profile, binary: self}
			}
		} else {
			cmd = exec.Command(o.gatewayBin, "run", "-c", cfg)
			if o.profile != "" {
				// perf until the admin listener serves net/http/pprof (checked once it is up).
				profile = filepath.Join(o.profile, "gateway.perf.data")
				t.prof = &profiler{kind: "perf", out: profile, binary: o.gatewayBin}
				adminAddr := admin
				defer func() {
					if t.p != nil && adminPprof(adminAddr) {
						t.prof.kind, t.prof.out = "http", filepath.Join(o.profile, "gateway.pprof")
						t.prof.url, t.prof.window = "http://"+adminAddr+"/debug/pprof/profile", o.duration
					}
				}()
			}
		}
		ready = func() error {
			resp, err := http.Get("http://" + admin + "/healthz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				return fmt.Errorf("healthz: %s", resp.Status)
			}
			return nil
		}
	}
	if profile != "" {
		env = append(env, "GWBENCH_PROFILE="+profile)
		_ = os.Remove(profile)
	}
	cmd.Env, cmd.Dir = env, tdir
	if t.p, err = startProc(t.name, cmd, filepath.Join(tdir, t.name+".log")); err != nil {
		return nil, err
	}
	if t.prof != nil {
		t.prof.p = t.p
	}
	deadline := time.Now().Add(90 * time.Second)
	for {
		err := ready()
		if err == nil {
			return t, nil
		}
		if e := t.p.exited(); e != nil {
			return nil, e
		}
		if time.Now().After(deadline) {
			t.p.stop(5 * time.Second)
			return nil, fmt.Errorf("%s not ready after 90s: %v\n%s", t.name, err, tail(filepath.Join(tdir, t.name+".log"), 30))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func portOf(addr string) string {
	if i := strings.LastIndexByte(addr, ':'); i >= 0 {
		return addr[i+1:]
	}
	return addr
}

// measure starts one target, prepares the users, runs the load and stops the target.
func measure(ctx context.Context, o *options, srv *xmppServer, clients []*client, dir, kind, gen string) (result, error) {
	o.logf("starting %s", kind)
	t, err := startTarget(ctx, o, srv, dir, kind)
	if err != nil {
		return result{}, err
	}
	defer t.p.stop(10 * time.Second)
	if kind == "gateway" {
		o.logf("registering %d users with the gateway", len(clients))
		if err := parallel(len(clients), 8, func(i int) error {
			rctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			defer cancel()
			if o.telegram {
				return clients[i].registerTelegram(rctx, tgPhone(i))
			}
			return clients[i].registerGateway(rctx, "Bench "+strconv.Itoa(i))
		}); err != nil {
			return result{}, err
		}
	}
	// Let logins, roster fills and presences finish: wait until the target's CPU is idle.
	waitQuiet(600*time.Millisecond, 20*time.Second, func() int64 {
		d, _ := cpuTime(t.p.pid())
		return int64(d)
	})

	cfg := loadConfig{contact: "plain", full: o.full, inflight: o.inflight, rate: o.rate, maxIn: o.maxInflight,
		warmup: o.warmup, window: o.duration, grace: o.grace}
	exchange := "plain"
	if o.telegram {
		cfg.contact, exchange = tgContact(), "telegram-plain"
	}
	if o.full {
		cfg.contact, exchange = "eve", "full"
	}
	load := fmt.Sprintf("closed loop, %d in flight per user", o.inflight)
	if o.rate > 0 {
		load = fmt.Sprintf("open loop, %g msg/s", o.rate)
	}
	o.logf("%s: load for %v + %v (%s)", kind, o.warmup, o.duration, load)

	var cpu0, cpu1, pros0, pros1, self0, self1, sys0, sys1 time.Duration
	var store0, store1 storeCounts
	var t0, t1 time.Time
	var profErr error
	// The profiler starts before the first CPU sample and stops after the last one.
	sample := func(start bool) {
		if start && t.prof != nil {
			profErr = t.prof.start()
		}
		c, _ := cpuTime(t.p.pid())
		var p time.Duration
		if srv.proc != nil {
			p, _ = cpuTime(srv.proc.pid())
		}
		s, _ := cpuTime(os.Getpid())
		all, _ := systemBusy()
		sc := scrapeStore(t.admin)
		if start {
			cpu0, pros0, self0, sys0, store0, t0 = c, p, s, all, sc, time.Now()
			return
		}
		cpu1, pros1, self1, sys1, store1, t1 = c, p, s, all, sc, time.Now()
		if t.prof != nil && profErr == nil {
			profErr = t.prof.stop()
		}
	}
	ts, w0, w1, skipped, err := runLoad(ctx, clients, gwJID, gen, cfg, sample)
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	if e := t.p.exited(); e != nil {
		return result{}, e
	}
	if err != nil {
		return result{}, err
	}
	st := collect(ts, w0, w1, o.full)
	window := t1.Sub(t0)
	r := result{Time: t1, Target: t.name, Exchange: exchange, Users: len(clients), Load: load, Window: window,
		RoundTrips: st.RoundTrips, Sent: st.Sent, Lost: st.Lost, Errors: st.Errors, ErrSample: st.ErrSample,
		Duplicates: st.Dups + st.ExtraReceipts + st.ExtraDisplayed, Skipped: skipped,
		MissingRcpt: st.MissingReceipts, MissingDisp: st.MissingDisplayed, Composing: st.Composing,
		CPU: cpu1 - cpu0,
		P50: percentile(st.Latencies, 50), P90: percentile(st.Latencies, 90), P99: percentile(st.Latencies, 99),
		Max: percentile(st.Latencies, 100)}
	r.Prosody = o.prosCfg
	if root := moduleRoot(); root != "" {
		if rel, err := filepath.Rel(root, o.prosCfg); err == nil && !strings.HasPrefix(rel, "..") {
			r.Prosody = rel
		}
	}
	if o.noMAM {
		r.Prosody += " without mam"
	}
	if srv.proc == nil {
		r.Prosody = "external " + srv.c2s
	}
	if window > 0 {
		r.RatePerSec = float64(st.RoundTrips) / window.Seconds()
		r.Cores = r.CPU.Seconds() / window.Seconds()
		if srv.proc != nil {
			r.ProsCores = (pros1 - pros0).Seconds() / window.Seconds()
		}
		// Everything else the machine ran meanwhile (other processes compete for the cores).
		r.OtherCores = ((sys1 - sys0) - (cpu1 - cpu0) - (self1 - self0)).Seconds() / window.Seconds()
		if srv.proc != nil {
			r.OtherCores -= r.ProsCores
		}
		r.OtherCores = max(r.OtherCores, 0)
	}
	if st.RoundTrips > 0 {
		r.CPUPerRT = r.CPU / time.Duration(st.RoundTrips)
		if srv.proc != nil {
			r.ProsodyRT = (pros1 - pros0) / time.Duration(st.RoundTrips)
		}
		r.DriverRT = (self1 - self0) / time.Duration(st.RoundTrips)
		if store1.ok && store0.ok {
			r.WritesRT = (store1.writes - store0.writes) / float64(st.RoundTrips)
			r.CommitsRT = (store1.commits - store0.commits) / float64(st.RoundTrips)
		}
	}
	if t.prof != nil {
		r.Profile = t.prof.out
		if profErr != nil {
			r.ProfileTop = "profile: " + profErr.Error()
		} else if top, err := t.prof.report(30); err != nil {
			r.ProfileTop = "profile report: " + err.Error()
		} else {
			r.ProfileTop = top
		}
	}
	return r, nil
}

// report prints the results as a table, the floor ratio and the targets.
func report(o *options, res []result) {
	w := o.out
	if len(res) == 0 {
		return
	}
	r0 := res[0]
	fmt.Fprintf(w, "gwbench: %d users, %s exchange, %s, %v window after %v warm-up, prosody: %s\n",
		r0.Users, r0.Exchange, r0.Load, o.duration, o.warmup, r0.Prosody)
	fmt.Fprintf(w, "%-15s %8s %8s %8s %8s %8s %7s %5s %4s %4s %10s %10s %10s\n",
		"target", "rt/s", "p50", "p90", "p99", "max", "sent", "lost", "dup", "err", "cpu/rt", "prosody/rt", "driver/rt")
	for _, r := range res {
		fmt.Fprintf(w, "%-15s %8.1f %8s %8s %8s %8s %7d %5d %4d %4d %10s %10s %10s\n",
			r.Target, r.RatePerSec, ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Sent, r.Lost, r.Duplicates, r.Errors,
			us(r.CPUPerRT), us(r.ProsodyRT), us(r.DriverRT))
	}
	for _, r := range res {
		if r.ErrSample != "" {
			fmt.Fprintf(w, "%s: first error: %s\n", r.Target, r.ErrSample)
		}
		if r.Exchange == "full" {
			fmt.Fprintf(w, "%s: receipts missing %d, displayed markers missing %d, typing notifications %d\n",
				r.Target, r.MissingRcpt, r.MissingDisp, r.Composing)
		}
		if r.Skipped > 0 {
			fmt.Fprintf(w, "%s: %d send ticks skipped (more than -max-inflight unanswered: overload)\n", r.Target, r.Skipped)
		}
		pros := ""
		if r.ProsodyRT > 0 {
			pros = fmt.Sprintf("; prosody %.2f cores", r.ProsCores)
		}
		fmt.Fprintf(w, "%s: %d round trips in %.2fs, %s CPU (%.2f cores%s; other processes %.2f cores)\n",
			r.Target, r.RoundTrips, r.Window.Seconds(), r.CPU, r.Cores, pros, r.OtherCores)
		if r.CommitsRT > 0 {
			fmt.Fprintf(w, "%s: %.2f store writes in %.2f commits per round trip\n", r.Target, r.WritesRT, r.CommitsRT)
		}
	}
	var gw, fl *result
	for i := range res {
		switch res[i].Target {
		case "floor":
			fl = &res[i]
		case "gateway", "gateway-inproc":
			gw = &res[i]
		}
	}
	if gw != nil && r0.Exchange == "plain" {
		fmt.Fprintf(w, "target: gateway CPU per plain round trip %s <= 56 us: %s\n", us(gw.CPUPerRT), verdict(gw.CPUPerRT <= 56*time.Microsecond))
	}
	if gw != nil && fl != nil && fl.CPUPerRT > 0 {
		ratio := float64(gw.CPUPerRT) / float64(fl.CPUPerRT)
		fmt.Fprintf(w, "target: gateway / floor CPU per round trip %.2fx <= 2x: %s\n", ratio, verdict(ratio <= 2))
	}
	telegramReport(o, res)
	for _, r := range res {
		if r.ProfileTop != "" {
			fmt.Fprintf(w, "\n%s: CPU profile of the window (%s), top functions by cumulative CPU:\n%s\n", r.Target, r.Profile, r.ProfileTop)
		}
	}
}

// storeCounts are the gateway's store counters at one moment.
type storeCounts struct {
	writes, commits float64
	ok              bool
}

// scrapeStore reads the store counters from the gateway's /metrics; ok is false without them.
func scrapeStore(admin string) storeCounts {
	var c storeCounts
	if admin == "" {
		return c
	}
	resp, err := http.Get("http://" + admin + "/metrics")
	if err != nil {
		return c
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	found := 0
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch name {
		case "gateway_store_writes_total":
			c.writes, found = n, found+1
		case "gateway_store_commits_total":
			c.commits, found = n, found+1
		}
	}
	c.ok = found == 2
	return c
}

func verdict(ok bool) string {
	if ok {
		return "ok"
	}
	return "MISSED"
}

func ms(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + "ms"
}

func us(d time.Duration) string {
	if d == 0 {
		return "-"
	}
	return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + "us"
}
