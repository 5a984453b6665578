package daemon_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/config"
	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/fakexmpp"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/store"
)

// benchDaemon starts a daemon on dir against the fake server, with the echo plugin.
func benchDaemon(b *testing.B, dir string, srv *fakexmpp.Server, extra string) *daemon.Daemon {
	b.Helper()
	return startBenchDaemon(b, dir, srv.Addr(), fmt.Sprintf(
		"[[gateway]]\njid = %q\nsecret = \"s\"\ntype = \"echo\"\nplugin = %q\n%s", gwJID, wasmtest.Build(b, "plugins/echo"), extra))
}

// startBenchDaemon starts a daemon on dir connecting to the server at addr, with quiet logs, no
// admin listener and the given [[gateway]] and [bridge] tables.
func startBenchDaemon(b *testing.B, dir, addr, tables string) *daemon.Daemon {
	b.Helper()
	cfg := loadConfig(b, dir, addr, "[log]\nlevel = \"error\"\n[admin]\nlisten = \"\"\n"+tables)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
	d, err := daemon.Start(context.Background(), cfg, daemon.Options{Logger: log, MinBackoff: 10 * time.Millisecond, PluginCacheDir: wasmtest.CacheDir()})
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// registerUsers writes n registrations of the echo network straight into the store of dir.
func registerUsers(b *testing.B, dir string, n int) {
	b.Helper()
	putUsers(b, dir, n, func(i int) store.User {
		return store.User{Gateway: gwJID, JID: "user" + strconv.Itoa(i) + "@localhost", Form: []byte(`{"name":"U"}`), State: "active"}
	})
}

// putUsers writes n users made by user into the store of dir.
func putUsers(b *testing.B, dir string, n int, user func(i int) store.User) {
	b.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{DSN: filepath.Join(dir, "data", "gateway.db")})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	for i := range n {
		if err := st.PutUser(ctx, user(i)); err != nil {
			b.Fatal(err)
		}
	}
}

// waitConnected waits until n sessions are logged in and returns how long it took.
func waitConnected(b *testing.B, d *daemon.Daemon, n int, start time.Time) time.Duration {
	b.Helper()
	deadline := start.Add(5 * time.Minute)
	for d.Gateways[0].Sessions() == nil || d.Gateways[0].Sessions().Connected() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d sessions connected", d.Gateways[0].Sessions().Connected(), n)
		}
		time.Sleep(2 * time.Millisecond)
	}
	return time.Since(start)
}

// settle waits until a counter has not moved for 300 ms.
func settle(c interface{ Load() int64 }) {
	last := c.Load()
	for {
		time.Sleep(300 * time.Millisecond)
		now := c.Load()
		if now == last {
			return
		}
		last = now
	}
}

// rss returns the process's resident memory in bytes.
func rss(b *testing.B) int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		b.Skip("no /proc/self/statm")
	}
	f := strings.Fields(string(data))
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func settledRSS(b *testing.B) int64 {
	for range 3 {
		runtime.GC()
		debug.FreeOSMemory()
		time.Sleep(50 * time.Millisecond)
	}
	return rss(b)
}

// baselineRSS is settledRSS of a daemon that start starts on a fresh folder and fake server, once
// it is connected, with no users: what a benchmark subtracts to get memory per session.
func baselineRSS(b *testing.B, start func(dir string, srv *fakexmpp.Server) *daemon.Daemon) int64 {
	b.Helper()
	srv, err := fakexmpp.Start("localhost")
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	d := start(b.TempDir(), srv)
	defer d.Stop()
	for !d.Gateways[0].Status().Connected {
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	return settledRSS(b)
}

// BenchmarkSessions1000 logs in 1,000 registered echo users (each filling 5 contacts) against a
// server that answers at once (from start, plugin compilation included), restarts the gateway,
// and reports the time until all are logged in again (the compiled plugin now cached), the
// roster pushes that restart caused (0: the rosters were unchanged), and the memory per idle
// session: (RSS with 1,000 sessions - RSS with none) / 1,000, both after GC.
func BenchmarkSessions1000(b *testing.B) {
	const users = 1000
	for range b.N {
		dir := b.TempDir()
		registerUsers(b, dir, users)
		srv, err := fakexmpp.Start("localhost")
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		d := benchDaemon(b, dir, srv, "")
		first := waitConnected(b, d, users, start)
		settle(&srv.RosterPushes)
		d.Stop()
		before := srv.RosterPushes.Load()

		// The same server keeps the rosters across the gateway's restart.
		start = time.Now()
		d = benchDaemon(b, dir, srv, "")
		relogin := waitConnected(b, d, users, start)
		time.Sleep(200 * time.Millisecond) // let the fills and presences settle
		with := settledRSS(b)
		pushes := srv.RosterPushes.Load() - before
		d.Stop()
		srv.Close()

		// The same gateway with no users, for the memory baseline.
		without := baselineRSS(b, func(dir string, srv *fakexmpp.Server) *daemon.Daemon { return benchDaemon(b, dir, srv, "") })

		b.ReportMetric(float64(first.Milliseconds()), "ms-first-login")
		b.ReportMetric(float64(relogin.Milliseconds()), "ms-relogin-after-restart")
		b.ReportMetric(float64(with-without)/users/1024, "KiB-per-idle-session")
		b.ReportMetric(float64(pushes), "roster-pushes-after-restart")
	}
}

// BenchmarkFill5000 logs in one user whose roster fill yields 5,000 contacts, against a server
// that answers each roster push at once, and reports the gateway's time from the component link
// coming up (the session starts then) to the last roster push received.
func BenchmarkFill5000(b *testing.B) {
	for range b.N {
		dir := b.TempDir()
		registerUsers(b, dir, 1)
		srv, err := fakexmpp.Start("localhost")
		if err != nil {
			b.Fatal(err)
		}
		d := benchDaemon(b, dir, srv, "[gateway.config]\ncontacts = 4995\n")
		for !d.Gateways[0].Status().Connected {
			time.Sleep(time.Millisecond)
		}
		up := d.Gateways[0].Status().Since
		deadline := time.Now().Add(2 * time.Minute)
		for srv.RosterPushes.Load() < 5001 { // 5,000 puppets and the gateway
			if time.Now().After(deadline) {
				b.Fatalf("only %d roster pushes", srv.RosterPushes.Load())
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(srv.LastRosterPush().Sub(up).Milliseconds()), "ms-login-to-last-push")
		d.Stop()
		srv.Close()
	}
}

// BenchmarkFillProsody logs in one user whose fill yields 500 contacts through a real Prosody
// and reports the gateway's time to the last roster push sent and Prosody's time to the last
// push answered (mod_privilege rewrites the whole roster per push).
func BenchmarkFillProsody(b *testing.B) {
	const contacts = 500
	for range b.N {
		srv := prosodytest.Start(b, prosodytest.Options{})
		dir := b.TempDir()
		host, port, _ := strings.Cut(srv.ComponentAddr, ":")
		toml := fmt.Sprintf("data_dir = %q\n[log]\nlevel = \"error\"\n[xmpp]\nhost = %q\nport = %s\n[admin]\nlisten = \"\"\n"+
			"[[gateway]]\njid = %q\nsecret = %q\ntype = \"echo\"\nplugin = %q\n[gateway.config]\ncontacts = %d\n",
			filepath.Join(dir, "data"), host, port, gwJID, srv.Components[0].Secret, wasmtest.Build(b, "plugins/echo"), contacts-5)
		path := filepath.Join(dir, "gateway.toml")
		if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		st, err := store.Open(ctx, store.Options{DSN: filepath.Join(dir, "data", "gateway.db")})
		if err != nil {
			b.Fatal(err)
		}
		if err := st.PutUser(ctx, store.User{Gateway: gwJID, JID: "alice@localhost", Form: []byte(`{"name":"A"}`)}); err != nil {
			b.Fatal(err)
		}
		st.Close()
		// alice is online, as a user with a large roster would be: Prosody sends each change
		// to her client too.
		srv.NewClient(b, "alice")
		cfg, err := config.Load(path)
		if err != nil {
			b.Fatal(err)
		}
		log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		d, err := daemon.Start(ctx, cfg, daemon.Options{Logger: log, PluginCacheDir: wasmtest.CacheDir()})
		if err != nil {
			b.Fatal(err)
		}
		for !d.Gateways[0].Status().Connected {
			time.Sleep(time.Millisecond)
		}
		up := d.Gateways[0].Status().Since
		m := d.Gateways[0].Sessions()
		var sent time.Duration
		deadline := time.Now().Add(10 * time.Minute)
		for m.RosterPushesAnswered() < contacts+1 {
			if sent == 0 && m.RosterPushes() >= contacts+1 {
				sent = time.Since(up)
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d pushes answered", m.RosterPushesAnswered(), contacts+1)
			}
			time.Sleep(time.Millisecond)
		}
		b.ReportMetric(float64(sent.Milliseconds()), "ms-gateway-last-push-sent")
		b.ReportMetric(float64(time.Since(up).Milliseconds()), "ms-prosody-last-push-answered")
		d.Stop()
	}
}
