package daemon_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"mellium.im/xmlstream"
	mxmpp "mellium.im/xmpp"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/bridge/sim"
	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/fakexmpp"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/store"
	"github.com/xmppgw/gateway/host/xmpp"
)

// Benchmarks of the Telegram plugin (plugins/telegram) on the simulated Telegram
// (host/bridge/sim) with generated accounts: a [[bulk]] table of accounts +16660000000,
// +16660000001, ... (code 12345), each with the same contacts 30000000, 30000001, ...
// Registered users are user<i>@localhost with the phone +16660000000+i. Each login asks for the
// code as a chat message from the gateway, answered by a chat message back.

const (
	benchPhoneFrom = 16660000000
	benchCode      = "12345"
)

func benchPhone(i int) string { return "+" + strconv.FormatInt(benchPhoneFrom+int64(i), 10) }

func benchUser(i int) string { return "user" + strconv.Itoa(i) + "@localhost" }

// bulkFixture writes a fixture with accounts accounts of contacts contacts each into dir.
func bulkFixture(b *testing.B, dir string, accounts, contacts int) string {
	b.Helper()
	text := fmt.Sprintf("[[bulk]]\naccounts = %d\nphone_from = %q\ncode = %q\nme_id_from = 20000000\n"+
		"contacts = %d\ncontact_id_from = 30000000\n", accounts, benchPhone(0), benchCode, contacts)
	path := filepath.Join(dir, "bulk.toml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		b.Fatal(err)
	}
	return path
}

// telegramBenchDaemon starts a daemon on dir with the Telegram plugin on the simulated Telegram
// with fixture, against the XEP-0114 server at addr.
func telegramBenchDaemon(b *testing.B, dir, addr, secret, fixture, extra string) *daemon.Daemon {
	b.Helper()
	return startBenchDaemon(b, dir, addr, fmt.Sprintf("[bridge.telegram]\nbackend = \"sim\"\nfixture = %q\n"+
		"[[gateway]]\njid = %q\nsecret = %q\ntype = \"telegram\"\nplugin = %q\nbridges = [\"telegram\"]\n%s",
		fixture, gwJID, secret, wasmtest.Build(b, "plugins/telegram"), extra))
}

// registerPhones writes n registrations with the Telegram form (field phone) into the store of
// dir, as registerUsers does for the echo plugin.
func registerPhones(b *testing.B, dir string, n int) {
	b.Helper()
	putUsers(b, dir, n, func(i int) store.User {
		return store.User{Gateway: gwJID, JID: benchUser(i), Form: []byte(`{"phone":"` + benchPhone(i) + `"}`), State: "active"}
	})
}

// isCodePrompt reports whether a stanza is the gateway's question for the login code.
func isCodePrompt(e *xmpp.Element) bool {
	if e.Name.Local != xmpp.KindMessage || xmpp.Bare(e.Get("from")) != gwJID {
		return false
	}
	for _, c := range e.Children {
		if c.Name.Local == "body" && strings.Contains(c.Text, "Enter the code Telegram sent to") {
			return true
		}
	}
	return false
}

// answerCodes makes srv answer every code prompt with the user's chat reply (on a goroutine of
// its own, not on the server's reader). It returns the count of answers sent.
func answerCodes(b *testing.B, srv *fakexmpp.Server) *atomic.Int64 {
	var answered atomic.Int64
	queue := make(chan string, 4096)
	srv.OnStanza(func(e *xmpp.Element) {
		if debugPushes != nil && e.Name.Local == xmpp.KindIQ && e.Get("type") == "set" {
			if q := e.Child("jabber:iq:roster", "query"); q != nil {
				debugMu.Lock()
				u := debugPushes[e.Get("to")]
				if u == nil {
					u = map[string]int{}
					debugPushes[e.Get("to")] = u
				}
				for _, it := range q.Children {
					u[it.Get("jid")]++
				}
				debugMu.Unlock()
			}
		}
		if isCodePrompt(e) {
			queue <- xmpp.Bare(e.Get("to"))
		}
	})
	go func() {
		for user := range queue {
			m := xmpp.Elem(xmpp.NSComponent, xmpp.KindMessage, "type", "chat", "id", "code-"+user,
				"from", user+"/bench", "to", gwJID).Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(benchCode))
			if err := srv.Send(m); err != nil {
				b.Logf("answer %s: %v", user, err)
				continue
			}
			answered.Add(1)
		}
	}()
	return &answered
}

// BenchmarkTelegramLogin1000 registers 1,000 Telegram accounts of the simulated Telegram with 200
// contacts each (a [[bulk]] fixture), all logging in at once when the gateway starts, against a
// server that answers at once (fakexmpp, which also answers each code prompt with the user's
// chat reply). It reports, from the component link coming up: the time until every session is
// logged in, and until all rosters are synced (the last of the 1,000 x 201 roster pushes: the
// contacts and the gateway); and the memory per session, (RSS after GC with the 1,000 sessions -
// RSS with none) / 1,000, the simulated Telegram (in the process) included.
//
// BENCH_TELEGRAM_USERS and BENCH_TELEGRAM_CONTACTS change the scale (defaults 1000 and 200);
// BENCH_TELEGRAM_DEBUG=1 prints progress and, on failure, which rosters are incomplete.
func BenchmarkTelegramLogin1000(b *testing.B) {
	users, contacts := benchEnvInt(b, "BENCH_TELEGRAM_USERS", 1000), benchEnvInt(b, "BENCH_TELEGRAM_CONTACTS", 200)
	want := int64(users * (contacts + 1))
	// The plugin keeps every session's contacts in its memory (about 1 MiB per account with 200
	// contacts): with 1,000 accounts on the default two instances (one per core) the default
	// limit of 64 MiB per instance is exceeded. So, as the shipped gateway.toml does, the
	// benchmark keeps 40 sessions per instance (the pool grows to 25) and the default memory
	// and event limits. BENCH_TELEGRAM_EXTRA replaces these lines of the [[gateway]] table
	// ("\n" for newlines), e.g. "[gateway.limits]\nmemory_mb = 512\nevent_timeout = \"60s\"" for
	// two large instances.
	extra := "[gateway.limits]\nsessions_per_instance = 40\n"
	if v, ok := os.LookupEnv("BENCH_TELEGRAM_EXTRA"); ok {
		extra = strings.ReplaceAll(v, `\n`, "\n")
	}
	for range b.N {
		dir := b.TempDir()
		fixture := bulkFixture(b, dir, users, contacts)
		registerPhones(b, dir, users)
		srv, err := fakexmpp.Start("localhost")
		if err != nil {
			b.Fatal(err)
		}
		answered := answerCodes(b, srv)
		d := telegramBenchDaemon(b, dir, srv.Addr(), "s", fixture, extra)
		for !d.Gateways[0].Status().Connected {
			time.Sleep(time.Millisecond)
		}
		up := d.Gateways[0].Status().Since
		cpu0 := processCPU(b)
		m := d.Gateways[0].Sessions()
		var loggedIn time.Duration
		// A session writes its roster once it runs out of work, so with many sessions sharing
		// the plugin's instances the pushes come late and all at once: no stall detection.
		deadline := time.Now().Add(30 * time.Minute)
		nextLog := time.Now().Add(30 * time.Second)
		for srv.RosterPushes.Load() < want {
			if loggedIn == 0 && m.Connected() >= users {
				loggedIn = time.Since(up)
			}
			if debugPushes != nil && time.Now().After(nextLog) {
				fmt.Fprintf(os.Stderr, "%s: %d of %d roster pushes, %d of %d logged in\n",
					time.Since(up).Round(time.Second), srv.RosterPushes.Load(), want, m.Connected(), users)
				nextLog = nextLog.Add(30 * time.Second)
			}
			if time.Now().After(deadline) {
				debugReport(b, contacts)
				b.Fatalf("%d of %d roster pushes; %d of %d sessions logged in; %d codes answered",
					srv.RosterPushes.Load(), want, m.Connected(), users, answered.Load())
			}
			time.Sleep(time.Millisecond)
		}
		if loggedIn == 0 {
			for m.Connected() < users {
				time.Sleep(time.Millisecond)
			}
			loggedIn = time.Since(up)
		}
		synced := srv.LastRosterPush().Sub(up)
		cpu := processCPU(b) - cpu0
		settle(&srv.RosterPushes)
		settle(&srv.Presences)
		syncedSettled := srv.LastRosterPush().Sub(up)
		pushes := srv.RosterPushes.Load()
		with := settledRSS(b)
		d.Stop()
		srv.Close()

		// The same gateway, fixture included, with no users: the memory baseline.
		without := baselineRSS(b, func(dir string, srv *fakexmpp.Server) *daemon.Daemon {
			return telegramBenchDaemon(b, dir, srv.Addr(), "s", fixture, extra)
		})

		b.ReportMetric(float64(loggedIn.Milliseconds()), "ms-all-logged-in")
		b.ReportMetric(float64(synced.Milliseconds()), "ms-rosters-synced")
		b.ReportMetric(float64(cpu.Milliseconds()), "ms-cpu-to-synced")
		b.ReportMetric(float64(syncedSettled.Milliseconds()), "ms-last-push-after-settling")
		b.ReportMetric(float64(pushes), "roster-pushes")
		simOnly := simSessionMemory(b, fixture, users, contacts)
		b.ReportMetric(float64(with-without)/float64(users)/1024, "KiB-per-session")
		b.ReportMetric(simOnly/1024, "KiB-per-session-sim-alone")
		b.ReportMetric(float64(answered.Load()), "codes-answered")
	}
}

// BenchmarkTelegramLoginProsody is the same login through a real Prosody 0.12, at a scale it
// finishes in reasonable time (BENCH_TELEGRAM_PROSODY_USERS, default 20, x
// BENCH_TELEGRAM_PROSODY_CONTACTS, default 200): each user's client logs in, answers the code
// prompt and goes offline at once, so Prosody's mod_privilege updates offline rosters. It
// reports the gateway's time to the last roster push sent and Prosody's time to the last push
// answered, from the component link coming up.
func BenchmarkTelegramLoginProsody(b *testing.B) {
	users := benchEnvInt(b, "BENCH_TELEGRAM_PROSODY_USERS", 20)
	contacts := benchEnvInt(b, "BENCH_TELEGRAM_PROSODY_CONTACTS", 200)
	want := int64(users * (contacts + 1))
	for range b.N {
		accounts := map[string]string{}
		for i := range users {
			accounts["user"+strconv.Itoa(i)] = "pw" + strconv.Itoa(i)
		}
		srv := prosodytest.Start(b, prosodytest.Options{Users: accounts})
		dir := b.TempDir()
		fixture := bulkFixture(b, dir, users, contacts)
		registerPhones(b, dir, users)

		// Every user's client: initial presence, the code prompt answered, then offline.
		var offline sync.WaitGroup
		for i := range users {
			offline.Add(1)
			go func() {
				defer offline.Done()
				if err := answerAndLeave(b, srv, "user"+strconv.Itoa(i), accounts["user"+strconv.Itoa(i)]); err != nil {
					b.Error(err)
				}
			}()
		}
		time.Sleep(500 * time.Millisecond) // the clients are online before the gateway starts

		pros := findProcess(b, srv.ConfigPath())
		prosCPU0 := procCPU(pros)
		d := telegramBenchDaemon(b, dir, srv.ComponentAddr, srv.Components[0].Secret, fixture, "")
		for !d.Gateways[0].Status().Connected {
			time.Sleep(time.Millisecond)
		}
		up := d.Gateways[0].Status().Since
		m := d.Gateways[0].Sessions()
		var gone atomic.Int64 // when the last client left, since up
		go func() { offline.Wait(); gone.Store(int64(time.Since(up))) }()
		var sent, loggedIn time.Duration
		deadline := time.Now().Add(15 * time.Minute)
		for m.RosterPushesAnswered() < want {
			if sent == 0 && m.RosterPushes() >= want {
				sent = time.Since(up)
			}
			if loggedIn == 0 && m.Connected() >= users {
				loggedIn = time.Since(up)
			}
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d pushes answered (%d sent), %d of %d logged in",
					m.RosterPushesAnswered(), want, m.RosterPushes(), m.Connected(), users)
			}
			time.Sleep(time.Millisecond)
		}
		answeredAt := time.Since(up)
		prosCPU := procCPU(pros) - prosCPU0
		if sent == 0 {
			sent = answeredAt
		}
		offline.Wait()
		b.ReportMetric(float64(loggedIn.Milliseconds()), "ms-all-logged-in")
		b.ReportMetric(float64(time.Duration(gone.Load()).Milliseconds()), "ms-all-clients-offline")
		b.ReportMetric(float64(sent.Milliseconds()), "ms-gateway-last-push-sent")
		b.ReportMetric(float64(answeredAt.Milliseconds()), "ms-prosody-last-push-answered")
		b.ReportMetric(float64(m.RosterPushes()), "roster-pushes")
		b.ReportMetric(float64(prosCPU.Milliseconds()), "ms-prosody-cpu")
		d.Stop()
		// Every push was answered, but an error answers too: count what Prosody stored.
		if n := storedRosterItems(b, srv.Dir); n != want {
			b.Errorf("Prosody's stored rosters hold %d items of the gateway, want %d", n, want)
		}
	}
}

// answerAndLeave logs user in to Prosody (initial presence), waits for the gateway's code
// prompt, answers it and disconnects.
func answerAndLeave(b *testing.B, srv *prosodytest.Server, user, password string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	sess, err := prosodytest.Dial(ctx, b, srv.C2SAddr, user+"@"+srv.Domain, password)
	if err != nil {
		return err
	}
	prompt := make(chan struct{}, 1)
	go func() {
		_ = sess.Serve(mxmpp.HandlerFunc(func(r xmlstream.TokenReadEncoder, start *xml.StartElement) error {
			el, err := xmpp.ReadElement(r, *start)
			if err != nil {
				return err
			}
			if isCodePrompt(el) {
				select {
				case prompt <- struct{}{}:
				default:
				}
			}
			return nil
		}))
	}()
	presence := xml.StartElement{Name: xml.Name{Local: "presence"}}
	if err := sess.Send(ctx, &tokens{toks: []xml.Token{presence, presence.End()}}); err != nil {
		return fmt.Errorf("%s: presence: %w", user, err)
	}
	select {
	case <-prompt:
	case <-ctx.Done():
		return fmt.Errorf("%s: no code prompt: %w", user, ctx.Err())
	}
	msg := xml.StartElement{Name: xml.Name{Local: "message"}, Attr: []xml.Attr{
		{Name: xml.Name{Local: "to"}, Value: gwJID}, {Name: xml.Name{Local: "type"}, Value: "chat"}, {Name: xml.Name{Local: "id"}, Value: "code"}}}
	body := xml.StartElement{Name: xml.Name{Local: "body"}}
	if err := sess.Send(ctx, &tokens{toks: []xml.Token{msg, body, xml.CharData(benchCode), body.End(), msg.End()}}); err != nil {
		return fmt.Errorf("%s: answer: %w", user, err)
	}
	_ = sess.Close()
	return sess.Conn().Close()
}

// findProcess returns the pid of the process whose command line contains arg.
func findProcess(b *testing.B, arg string) int {
	b.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, f := range dirs {
		if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), arg) {
			pid, _ := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			return pid
		}
	}
	b.Fatalf("no process with %q in its command line", arg)
	return 0
}

// procCPU returns a process's CPU time (user and system) from /proc.
func procCPU(pid int) time.Duration {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	s := string(data)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

// storedRosterItems counts the gateway's items (the gateway and its puppets) in the rosters
// Prosody stored (internal storage: data/<host>/roster/<user>.dat, Lua tables keyed by JID).
func storedRosterItems(b *testing.B, dir string) int64 {
	b.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "data", "*", "roster", "*.dat"))
	if len(files) == 0 {
		b.Errorf("no roster files below %s", dir)
	}
	var n int64
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			b.Fatal(err)
		}
		n += int64(strings.Count(string(data), "telegram.localhost\"]"))
	}
	return n
}

// tokens is an xml.TokenReader over a slice.
type tokens struct {
	toks []xml.Token
	i    int
}

func (t *tokens) Token() (xml.Token, error) {
	if t.i >= len(t.toks) {
		return nil, io.EOF
	}
	t.i++
	return t.toks[t.i-1], nil
}

// simSessionMemory estimates what the simulated Telegram alone keeps per logged-in session (it
// runs in the gateway's process, so KiB-per-session includes it): the RSS after GC of users
// clients of a fresh backend on fixture, each logged in and asked what the plugin asks at a fill
// (getContacts, then getUser and getUserFullInfo per contact), minus the RSS before, per client.
func simSessionMemory(b *testing.B, fixture string, users, contacts int) float64 {
	b.Helper()
	be, err := sim.New(fixture, bridge.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	dir := b.TempDir()
	before := settledRSS(b)
	clients := make([]bridge.Client, 0, users)
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	for i := range users {
		c, err := be.Open(context.Background(), bridge.Session{User: benchUser(i), DataDir: filepath.Join(dir, strconv.Itoa(i)), Key: []byte("k")})
		if err != nil {
			b.Fatal(err)
		}
		clients = append(clients, c)
		// call sends requests and reads the stream until all of them are answered.
		call := func(reqs ...string) {
			for _, r := range reqs {
				if err := c.Send([]byte(r[:len(r)-1] + `,"@extra":"x"}`)); err != nil {
					b.Fatal(err)
				}
			}
			for n := 0; n < len(reqs); {
				select {
				case msg, ok := <-c.Updates():
					if !ok {
						b.Fatal("sim: the client's stream ended")
					}
					if strings.Contains(string(msg), `"@extra":"x"`) {
						n++
					}
				case <-time.After(10 * time.Second):
					b.Fatalf("sim: %d of %d answers", n, len(reqs))
				}
			}
		}
		call(`{"@type":"setTdlibParameters"}`)
		call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"` + benchPhone(i) + `"}`)
		call(`{"@type":"checkAuthenticationCode","code":"` + benchCode + `"}`)
		call(`{"@type":"getContacts"}`)
		reqs := make([]string, 0, 2*contacts)
		for k := range contacts {
			id := strconv.Itoa(30000000 + k)
			reqs = append(reqs, `{"@type":"getUser","user_id":`+id+`}`, `{"@type":"getUserFullInfo","user_id":`+id+`}`)
		}
		call(reqs...)
	}
	after := settledRSS(b)
	return float64(after-before) / float64(users)
}

// processCPU returns the CPU time the process used so far (user and system): the gateway, the
// simulated Telegram and the fake server all run in it.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchEnvInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		b.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}

var (
	debugMu     sync.Mutex
	debugPushes map[string]map[string]int
)

func init() {
	if os.Getenv("BENCH_TELEGRAM_DEBUG") != "" {
		debugPushes = map[string]map[string]int{}
	}
}

func debugReport(b *testing.B, contacts int) {
	if debugPushes == nil {
		return
	}
	debugMu.Lock()
	defer debugMu.Unlock()
	byCount := map[int]int{}
	shown := 0
	for u, items := range debugPushes {
		byCount[len(items)]++
		if len(items) != contacts+1 && shown < 5 {
			shown++
			var missing []string
			for i := range contacts {
				if j := strconv.Itoa(30000000+i) + "@" + gwJID; items[j] == 0 && len(missing) < 5 {
					missing = append(missing, j)
				}
			}
			b.Logf("%s: %d items, missing %v...", u, len(items), missing)
		}
	}
	b.Logf("users by roster items pushed: %v", byCount)
}
