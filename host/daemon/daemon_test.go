package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/admin"
	"github.com/xmppgw/gateway/host/config"
	"github.com/xmppgw/gateway/host/daemon"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/internal/wasmtest"
	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/disco"
)

// startDaemon writes a config for the given [[gateway]] tables and starts a daemon on it.
func startDaemon(t *testing.T, srv *prosodytest.Server, gateways string) *daemon.Daemon {
	t.Helper()
	return startDaemonIn(t, t.TempDir(), srv, gateways)
}

// startDaemonIn starts a daemon whose config and data live in dir, so a test can restart it.
func startDaemonIn(t *testing.T, dir string, srv *prosodytest.Server, gateways string) *daemon.Daemon {
	t.Helper()
	cfg := loadConfig(t, dir, srv.ComponentAddr, "[admin]\nlisten = \"127.0.0.1:0\"\n"+gateways)
	log := slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	d, err := daemon.Start(context.Background(), cfg, daemon.Options{
		Logger: log, MinBackoff: 50 * time.Millisecond, MaxBackoff: 400 * time.Millisecond, AuthBackoff: time.Second,
		PluginCacheDir: wasmtest.CacheDir(),
	})
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	t.Cleanup(d.Stop)
	return d
}

// loadConfig writes dir/gateway.toml for the XMPP server at addr, with its data in dir/data and
// the given tables, and loads it.
func loadConfig(tb testing.TB, dir, addr, tables string) *config.Config {
	tb.Helper()
	host, port, _ := strings.Cut(addr, ":")
	toml := fmt.Sprintf("data_dir = %q\n[xmpp]\nhost = %q\nport = %s\n%s", filepath.Join(dir, "data"), host, port, tables)
	path := filepath.Join(dir, "gateway.toml")
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		tb.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		tb.Fatalf("config: %v", err)
	}
	return cfg
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(b), "\n"))
	return len(b), nil
}

func gatewayTable(jid, secret, typ string) string {
	return fmt.Sprintf("[[gateway]]\njid = %q\nsecret = %q\ntype = %q\n", jid, secret, typ)
}

// health fetches /healthz.
func health(t *testing.T, d *daemon.Daemon) (int, admin.Health) {
	t.Helper()
	resp, err := http.Get("http://" + d.Admin.Addr() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h admin.Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatalf("healthz body: %v", err)
	}
	return resp.StatusCode, h
}

// waitHealth polls /healthz until it answers want.
func waitHealth(t *testing.T, d *daemon.Daemon, want int) admin.Health {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		code, h := health(t, d)
		if code == want {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("healthz: %d %v, want %d", code, h, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metric(t *testing.T, d *daemon.Daemon, name string) string {
	t.Helper()
	resp, err := http.Get("http://" + d.Admin.Addr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, name) {
			return strings.TrimSpace(strings.TrimPrefix(line, name))
		}
	}
	return ""
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestClientSeesGatewayDiscoPingVersion(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	comp := srv.Components[0]
	d := startDaemon(t, srv, gatewayTable(comp.JID, comp.Secret, "telegram"))
	waitHealth(t, d, http.StatusOK)

	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)

	r, err := alice.IQ(ctx, "get", comp.JID, xmpp.Elem(disco.NSInfo, "query"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("type") != "result" {
		t.Fatalf("disco#info: %s", r)
	}
	q := r.Child(disco.NSInfo, "query")
	id := q.Child(disco.NSInfo, "identity")
	if id == nil || id.Get("category") != "gateway" || id.Get("type") != "telegram" || id.Get("name") != "Telegram" {
		t.Fatalf("identity: %s", r)
	}
	feats := map[string]bool{}
	for _, c := range q.Children {
		if c.Name.Local == "feature" {
			feats[c.Get("var")] = true
		}
	}
	for _, f := range []string{disco.NSInfo, disco.NSItems, "urn:xmpp:ping", "jabber:iq:version"} {
		if !feats[f] {
			t.Errorf("feature %s missing in %s", f, r)
		}
	}

	if r, err = alice.IQ(ctx, "get", comp.JID, xmpp.Elem("urn:xmpp:ping", "ping")); err != nil || r.Get("type") != "result" {
		t.Fatalf("ping: %v %v", r, err)
	}
	r, err = alice.IQ(ctx, "get", comp.JID, xmpp.Elem("jabber:iq:version", "query"))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("version: %v %v", r, err)
	}
	if n := r.Child("jabber:iq:version", "query").Child("jabber:iq:version", "name"); n == nil || n.Text != "xmppgw" {
		t.Fatalf("version name: %s", r)
	}
	if r, err = alice.IQ(ctx, "get", comp.JID, xmpp.Elem(disco.NSItems, "query")); err != nil || r.Get("type") != "result" {
		t.Fatalf("disco#items: %v %v", r, err)
	}

	// What the gateway does not implement gets an error, not silence.
	r, err = alice.IQ(ctx, "get", comp.JID, xmpp.Elem("urn:example:nothing", "query"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Get("type") != "error" || r.Child("jabber:client", "error").Child(xmpp.NSStanzas, "service-unavailable") == nil {
		t.Fatalf("unknown IQ: %s", r)
	}
	if got := metric(t, d, `gateway_stanzas_in_total{gateway="telegram.localhost",kind="iq"}`); got == "" || got == "0" {
		t.Fatalf("iq in metric = %q", got)
	}
	// The server advertised XEP-0356 privileges right after the handshake.
	if p := d.Gateways[0].Privileges("localhost"); !p.RosterGet() || !p.RosterSet() || !p.MessageOutgoing() {
		t.Fatalf("privileges = %+v", p)
	}
}

func TestReconnectAfterServerRestart(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	comp := srv.Components[0]
	d := startDaemon(t, srv, gatewayTable(comp.JID, comp.Secret, "telegram"))
	waitHealth(t, d, http.StatusOK)
	if got := metric(t, d, `gateway_component_reconnects_total{gateway="telegram.localhost"}`); got != "0" {
		t.Fatalf("reconnects before = %q", got)
	}

	srv.Stop()
	h := waitHealth(t, d, http.StatusServiceUnavailable)
	if !strings.Contains(h.Checks["component telegram.localhost"], "not connected") || h.Checks["store"] != "ok" {
		t.Fatalf("healthz while down: %+v", h)
	}
	if got := metric(t, d, `gateway_component_connected{gateway="telegram.localhost"}`); got != "0" {
		t.Fatalf("connected while down = %q", got)
	}

	srv.Start()
	waitHealth(t, d, http.StatusOK)
	if got := metric(t, d, `gateway_component_reconnects_total{gateway="telegram.localhost"}`); got != "1" {
		t.Fatalf("reconnects after = %q, want 1", got)
	}
	alice := srv.NewClient(t, "alice")
	if r, err := alice.IQ(ctxT(t), "get", comp.JID, xmpp.Elem("urn:xmpp:ping", "ping")); err != nil || r.Get("type") != "result" {
		t.Fatalf("ping after reconnect: %v %v", r, err)
	}
}

func TestWrongSecretIsReportedAndRetriedSlowly(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{})
	d := startDaemon(t, srv, gatewayTable(srv.Components[0].JID, "not-the-secret", "telegram"))
	h := waitHealth(t, d, http.StatusServiceUnavailable)
	deadline := time.Now().Add(10 * time.Second)
	for !errors.Is(d.Gateways[0].Status().LastError, xmpp.ErrAuth) {
		if time.Now().After(deadline) {
			t.Fatalf("last error = %v, want ErrAuth", d.Gateways[0].Status().LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
	_, h = health(t, d)
	if msg := h.Checks["component telegram.localhost"]; !strings.Contains(msg, "refused the component secret") {
		t.Fatalf("healthz says %q", msg)
	}
	// AuthBackoff is 1 s here, jittered down to no less than half, so 1.5 s sees at most 3 more
	// attempts; the connect backoff (50 ms) would give about 20.
	before := d.Gateways[0].Status().Attempts
	time.Sleep(1500 * time.Millisecond)
	if n := d.Gateways[0].Status().Attempts - before; n > 3 {
		t.Fatalf("%d attempts in 1.5 s: a wrong secret must be retried slowly", n)
	}
	if got := metric(t, d, `gateway_errors_total{gateway="telegram.localhost",kind="auth"}`); got == "" || got == "0" {
		t.Fatalf("auth errors metric = %q", got)
	}
}

func TestSeveralGatewaysInOneProcess(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{Components: []prosodytest.Component{
		{JID: "telegram.localhost", Privileged: true}, {JID: "echo.localhost"},
	}})
	d := startDaemon(t, srv, gatewayTable("telegram.localhost", srv.Components[0].Secret, "telegram")+
		gatewayTable("echo.localhost", srv.Components[1].Secret, "echo"))
	waitHealth(t, d, http.StatusOK)
	alice := srv.NewClient(t, "alice")
	for jid, typ := range map[string]string{"telegram.localhost": "telegram", "echo.localhost": "echo"} {
		r, err := alice.IQ(ctxT(t), "get", jid, xmpp.Elem(disco.NSInfo, "query"))
		if err != nil {
			t.Fatal(err)
		}
		id := r.Child(disco.NSInfo, "query").Child(disco.NSInfo, "identity")
		if id == nil || id.Get("type") != typ {
			t.Fatalf("%s: %s", jid, r)
		}
	}
	// A message to a puppet of a gateway the user is not registered with gets an error back.
	ctx := ctxT(t)
	msg := xmpp.Elem("jabber:client", "message", "type", "chat", "id", "m1", "to", "123@echo.localhost").
		Add(xmpp.Elem("jabber:client", "body").WithText("hello"))
	if err := alice.Send(ctx, msg); err != nil {
		t.Fatal(err)
	}
	r := waitFor(t, alice, "error on m1", func(e *xmpp.Element) bool { return e.Get("id") == "m1" })
	if r.Name.Local != "message" || r.Get("type") != "error" {
		t.Fatalf("got %s", r)
	}
}
