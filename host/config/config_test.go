package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"
)

// gw is a minimal valid [[gateway]] table.
const gw = `[[gateway]]
jid = "telegram.example.org"
secret = "s3cret"
type = "telegram"
`

// setup makes a temporary directory the working directory and writes files
// into it (name -> content).
func setup(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	t.Chdir(dir)
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestBadConfigs(t *testing.T) {
	tests := []struct {
		name  string
		toml  string
		files map[string]string
		env   map[string]string
		want  string // the exact error text; several problems are joined by "\n"
	}{
		{
			name: "syntax error",
			toml: "[xmpp]\nport = 5347\nhost = \n",
			want: `gateway.toml:3: toml syntax: expected value but found '\n' instead`,
		},
		{
			name: "unknown top-level key",
			toml: "data_dir = \"d\"\n\nxmp.port = 3\n" + gw,
			want: `gateway.toml:3: unknown key "xmp.port"`,
		},
		{
			name: "unknown table",
			toml: "[xmp]\nport = 3\nhost = \"h\"\n" + gw,
			want: "gateway.toml:2: unknown key \"xmp.port\"\ngateway.toml:3: unknown key \"xmp.host\"",
		},
		{
			name: "unknown nested key in the second gateway",
			toml: gw + gw + "secrett = \"x\"\n[gateway.limits]\nmemory = 3\n",
			want: "gateway.toml:9: unknown key \"gateway[1].secrett\"\n" +
				"gateway.toml:11: unknown key \"gateway[1].limits.memory\"\n" +
				"gateway.toml:6: gateway[1].jid: duplicate of gateway[0].jid \"telegram.example.org\"",
		},
		{
			name: "unknown key in an inline table",
			toml: gw + "limits = { queue = 3, queu = 4 }\n",
			want: `gateway.toml:5: unknown key "gateway[0].limits.queu"`,
		},
		{
			name: "key with the wrong case",
			toml: "[xmpp]\nPort = 5347\n" + gw,
			want: `gateway.toml:2: unknown key "xmpp.Port"`,
		},
		{
			name: "wrong type",
			toml: "[xmpp]\nport = \"abc\"\n" + gw,
			want: `gateway.toml:2: xmpp.port: expected a port number from 1 to 65535, got string "abc"`,
		},
		{
			name: "table where a value is expected",
			toml: "xmpp = 5\n" + gw,
			want: `gateway.toml:1: xmpp: expected a table, got integer 5`,
		},
		{
			name: "bad port",
			toml: "[xmpp]\nport = 70000\n" + gw,
			want: `gateway.toml:2: xmpp.port: expected a port number from 1 to 65535, got 70000`,
		},
		{
			name: "bad log level",
			toml: "[log]\nlevel = \"verbose\"\n" + gw,
			want: `gateway.toml:2: log.level: expected "debug", "info", "warn" or "error", got "verbose"`,
		},
		{
			name: "jid with local part",
			toml: strings.Replace(gw, "telegram.example.org", "alice@example.org", 1),
			want: `gateway.toml:2: gateway[0].jid: expected a domain JID such as "telegram.example.org", got "alice@example.org"`,
		},
		{
			name: "jid with resource",
			toml: strings.Replace(gw, "telegram.example.org", "telegram.example.org/res", 1),
			want: `gateway.toml:2: gateway[0].jid: expected a domain JID such as "telegram.example.org", got "telegram.example.org/res"`,
		},
		{
			name: "empty jid",
			toml: strings.Replace(gw, "telegram.example.org", "", 1),
			want: `gateway.toml:2: gateway[0].jid: expected a domain JID such as "telegram.example.org", got ""`,
		},
		{
			name: "missing jid",
			toml: "[[gateway]]\nsecret = \"s\"\ntype = \"t\"\n",
			want: `gateway.toml: gateway[0]: missing required key "jid" (a domain JID such as "telegram.example.org")`,
		},
		{
			name: "missing secret",
			toml: "[[gateway]]\njid = \"t.example.org\"\ntype = \"t\"\n",
			want: `gateway.toml: gateway[0]: set exactly one of secret, secret_file, secret_env`,
		},
		{
			name: "two secret sources",
			toml: gw + "secret_env = \"X\"\n",
			want: `gateway.toml:5: gateway[0]: set exactly one of secret, secret_file, secret_env, not secret and secret_env`,
		},
		{
			name: "secret_file missing",
			toml: strings.Replace(gw, `secret = "s3cret"`, `secret_file = "secrets/tg"`, 1),
			want: `gateway.toml:3: gateway[0].secret_file: file secrets/tg: no such file`,
		},
		{
			name:  "secret_file empty",
			toml:  strings.Replace(gw, `secret = "s3cret"`, `secret_file = "secrets/tg"`, 1),
			files: map[string]string{"secrets/tg": " \n"},
			want:  `gateway.toml:3: gateway[0].secret_file: file secrets/tg is empty`,
		},
		{
			name: "secret_env unset",
			toml: strings.Replace(gw, `secret = "s3cret"`, `secret_env = "CONFIG_TEST_UNSET"`, 1),
			want: `gateway.toml:3: gateway[0].secret_env: environment variable CONFIG_TEST_UNSET is not set`,
		},
		{
			name: "secret of the wrong type does not show its value",
			toml: strings.Replace(gw, `"s3cret"`, `123456`, 1),
			want: `gateway.toml:3: gateway[0].secret: expected a string, got integer`,
		},
		{
			name: "plugin missing",
			toml: gw + "\n\nplugin = \"plugins/x.wasm\"\n",
			want: `gateway.toml:7: gateway[0].plugin: file plugins/x.wasm: no such file`,
		},
		{
			name:  "plugin is a directory",
			toml:  gw + "plugin = \"plugins\"\n",
			files: map[string]string{"plugins/x.wasm": "\x00asm"},
			want:  `gateway.toml:5: gateway[0].plugin: file plugins: not a regular file`,
		},
		{
			name: "bad type",
			toml: strings.Replace(gw, `type = "telegram"`, `type = "Tele gram"`, 1),
			want: `gateway.toml:4: gateway[0].type: expected lower-case letters, digits and "-", such as "telegram", got "Tele gram"`,
		},
		{
			name: "unknown bridge granted",
			toml: gw + "bridges = [\n  \"telegram\",\n  \"tg\",\n]\n[bridge.telegram]\nbackend = \"sim\"\n",
			want: `gateway.toml:7: gateway[0].bridges[1]: unknown bridge "tg"; defined bridges: "telegram"`,
		},
		{
			name: "bridge granted but none defined",
			toml: gw + "bridges = [\"tg\"]\n",
			want: `gateway.toml:5: gateway[0].bridges[0]: unknown bridge "tg"; no [bridge.NAME] tables are defined`,
		},
		{
			name: "unknown backend",
			toml: gw + "[bridge.tg]\nbackend = \"matrix\"\n",
			want: `gateway.toml:6: bridge.tg.backend: expected "sim" or "tdlib", got "matrix"`,
		},
		{
			name: "missing backend",
			toml: gw + "[bridge.tg]\n",
			want: `gateway.toml: bridge.tg: missing required key "backend" ("sim" or "tdlib")`,
		},
		{
			name: "tdlib without api_id",
			toml: gw + "[bridge.tg]\nbackend = \"tdlib\"\napi_hash = \"h\"\n",
			want: `gateway.toml: bridge.tg: missing required key "api_id" (the Telegram application id from my.telegram.org)`,
		},
		{
			name: "tdlib with bad api_id and no api_hash",
			toml: gw + "[bridge.tg]\nbackend = \"tdlib\"\napi_id = 0\n",
			want: "gateway.toml:7: bridge.tg.api_id: expected a positive integer, got 0\n" +
				"gateway.toml: bridge.tg: set exactly one of api_hash, api_hash_file, api_hash_env",
		},
		{
			name: "key for the wrong backend",
			toml: gw + "[bridge.tg]\nbackend = \"sim\"\napi_id = 1\n",
			want: `gateway.toml:7: bridge.tg.api_id: key is for backend "tdlib", not "sim"`,
		},
		{
			name: "sim fixture missing",
			toml: gw + "[bridge.demo]\nbackend = \"sim\"\nfixture = \"fx.json\"\n",
			want: `gateway.toml:7: bridge.demo.fixture: file fx.json: no such file`,
		},
		{
			name: "bad allow_regex",
			toml: gw + "allow_regex = '^(a'\n",
			want: "gateway.toml:5: gateway[0].allow_regex: expected a Go regular expression: error parsing regexp: missing closing ): `^(a`",
		},
		{
			name: "bad allow_domains entry",
			toml: gw + "allow_domains = [\"example.org\", \"*.example.org\"]\n",
			want: `gateway.toml:5: gateway[0].allow_domains[1]: expected a domain such as "example.org", got "*.example.org"`,
		},
		{
			name: "bad event_timeout",
			toml: gw + "[gateway.limits]\nevent_timeout = \"10m\"\n",
			want: `gateway.toml:6: gateway[0].limits.event_timeout: expected a duration from 1ms to 5m such as "2s", got "10m"`,
		},
		{
			name: "event_timeout not a string",
			toml: gw + "[gateway.limits]\nevent_timeout = 2\n",
			want: `gateway.toml:6: gateway[0].limits.event_timeout: expected a duration from 1ms to 5m such as "2s", got integer 2`,
		},
		{
			name: "bad memory_mb",
			toml: gw + "[gateway.limits]\nmemory_mb = 0\n",
			want: `gateway.toml:6: gateway[0].limits.memory_mb: expected megabytes from 1 to 4096, got 0`,
		},
		{
			name: "public admin address",
			toml: "[admin]\nlisten = \"0.0.0.0:8089\"\n" + gw,
			want: `gateway.toml:2: admin.listen: expected a loopback address such as "127.0.0.1:8089", got "0.0.0.0:8089" (set allow_public = true to expose the admin interface, which has no authentication)`,
		},
		{
			name: "admin address without port",
			toml: "[admin]\nlisten = \"localhost\"\n" + gw,
			want: `gateway.toml:2: admin.listen: expected host:port such as "127.0.0.1:8089", or "" to disable, got "localhost"`,
		},
		{
			name: "postgres without dsn",
			toml: "[store]\ndriver = \"postgres\"\n" + gw,
			want: `gateway.toml: store: driver "postgres" needs a dsn: set exactly one of dsn, dsn_file, dsn_env`,
		},
		{
			name: "postgres with a bad dsn does not show it",
			toml: "[store]\ndriver = \"postgres\"\ndsn = \"hunter2\"\n" + gw,
			want: `gateway.toml:3: store.dsn: expected a postgres:// URL or key=value DSN (value not shown: it may hold a password)`,
		},
		{
			name: "negative message id retention",
			toml: "[store]\nkeep_message_ids_days = -1\n" + gw,
			want: `gateway.toml:2: store.keep_message_ids_days: expected a number of days (0 keeps them forever) from 0 to 36500, got -1`,
		},
		{
			name: "unknown store driver",
			toml: "[store]\ndriver = \"mysql\"\n" + gw,
			want: `gateway.toml:2: store.driver: expected "sqlite" or "postgres", got "mysql"`,
		},
		{
			name: "duplicate gateway jid",
			toml: gw + "\n" + strings.Replace(gw, "telegram.example.org", "Telegram.Example.org", 1),
			want: `gateway.toml:7: gateway[1].jid: duplicate of gateway[0].jid "telegram.example.org"`,
		},
		{
			name: "no gateway",
			toml: "data_dir = \"d\"\n",
			want: `gateway.toml: gateway: at least one [[gateway]] table is required`,
		},
		{
			name: "gateway is not an array of tables",
			toml: "gateway = \"telegram\"\n",
			want: `gateway.toml:1: gateway: expected [[gateway]] tables, got string "telegram"`,
		},
		{
			name: "single-label jid without allow_domains",
			toml: strings.Replace(gw, "telegram.example.org", "telegram", 1),
			want: `gateway.toml: gateway[0]: missing key "allow_domains": no default can be derived from the single-label jid "telegram"`,
		},
		{
			name: "several problems are all reported",
			toml: "[xmpp]\nport = 0\n[[gateway]]\njid = \"a@b\"\ntype = \"t\"\n[gateway.limits]\nqueue = 0\n",
			want: "gateway.toml:2: xmpp.port: expected a port number from 1 to 65535, got 0\n" +
				"gateway.toml:4: gateway[0].jid: expected a domain JID such as \"telegram.example.org\", got \"a@b\"\n" +
				"gateway.toml: gateway[0]: set exactly one of secret, secret_file, secret_env\n" +
				"gateway.toml:7: gateway[0].limits.queue: expected a queue length from 1 to 65536, got 0",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setup(t, tt.files)
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			cfg, err := Parse("gateway.toml", []byte(tt.toml))
			if err == nil {
				t.Fatalf("Parse succeeded, want error %q; config: %+v", tt.want, cfg)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error:\n got: %s\nwant: %s", got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) || e.File != "gateway.toml" {
				t.Errorf("errors.As(*Error) = %v, %+v", errors.As(err, &e), e)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load = %v, want an error wrapping os.ErrNotExist", err)
	}
}

func TestErrorFields(t *testing.T) {
	setup(t, nil)
	_, err := Parse("gateway.toml", []byte("[xmpp]\nport = 0\n"+gw))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %v", err)
	}
	want := Error{File: "gateway.toml", Line: 2, Key: "xmpp.port", Msg: "expected a port number from 1 to 65535, got 0"}
	if *e != want {
		t.Errorf("got %+v, want %+v", *e, want)
	}
}

func TestDefaults(t *testing.T) {
	dir := setup(t, nil)
	cfg, err := Parse("gateway.toml", []byte(gw))
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if cfg.File != "gateway.toml" || cfg.DataDir != data {
		t.Errorf("File, DataDir = %q, %q; want gateway.toml, %q", cfg.File, cfg.DataDir, data)
	}
	if cfg.Log != (Log{"info", "text"}) || cfg.XMPP != (XMPP{"127.0.0.1", 5347}) {
		t.Errorf("Log, XMPP = %+v, %+v", cfg.Log, cfg.XMPP)
	}
	if cfg.Store.Driver != "sqlite" || cfg.Store.DSN.Reveal() != filepath.Join(data, "gateway.db") {
		t.Errorf("Store = %q %q", cfg.Store.Driver, cfg.Store.DSN.Reveal())
	}
	if cfg.Store.KeepMessageIDs != 90*24*time.Hour {
		t.Errorf("Store.KeepMessageIDs = %v, want 90 days", cfg.Store.KeepMessageIDs)
	}
	if cfg.Admin != (Admin{Listen: "127.0.0.1:8089"}) {
		t.Errorf("Admin = %+v", cfg.Admin)
	}
	if len(cfg.Bridges) != 0 || cfg.Bridges == nil {
		t.Errorf("Bridges = %#v, want an empty map", cfg.Bridges)
	}
	if len(cfg.Gateways) != 1 {
		t.Fatalf("%d gateways", len(cfg.Gateways))
	}
	g := cfg.Gateways[0]
	if g.JID != "telegram.example.org" || g.Secret.Reveal() != "s3cret" || g.Type != "telegram" || g.Name != "Telegram" {
		t.Errorf("gateway = %+v", g)
	}
	if g.Plugin != "" || len(g.Bridges) != 0 || g.AllowRegex != "" {
		t.Errorf("gateway = %+v", g)
	}
	if !slices.Equal(g.AllowDomains, []string{"example.org"}) {
		t.Errorf("AllowDomains = %q", g.AllowDomains)
	}
	wantLimits := Limits{Instances: runtime.NumCPU(), MemoryMB: 64, EventTimeout: 2 * time.Second, Queue: 256, StorageQuotaKB: 1024, MaxFileMB: 100}
	if g.Limits != wantLimits {
		t.Errorf("Limits = %+v, want %+v", g.Limits, wantLimits)
	}
	if g.Config == nil || len(g.Config) != 0 {
		t.Errorf("Config = %#v, want an empty map", g.Config)
	}
}

func TestFullConfig(t *testing.T) {
	dir := setup(t, map[string]string{
		"conf/plugins/tg.wasm":   "\x00asm",
		"conf/secrets/matrix":    "  m-secret\n",
		"conf/fixtures/sim.json": "{}",
		"conf/pg.dsn":            "postgres://gw:pw@db.example.org:5433/gateway?sslmode=require\n",
	})
	t.Setenv("CONFIG_TEST_SECRET", "env-secret")
	t.Setenv("CONFIG_TEST_HASH", "0123abcd")
	src := `data_dir = "/var/lib/gateway"
[log]
level = "debug"
format = "json"
[xmpp]
host = "xmpp.example.org"
port = 5348
[store]
driver = "postgres"
dsn_file = "pg.dsn"
keep_message_ids_days = 30
[admin]
listen = "0.0.0.0:9000"
allow_public = true

[[gateway]]
jid = "telegram.localhost"
secret_env = "CONFIG_TEST_SECRET"
type = "telegram"
name = "Telegram (demo)"
plugin = "plugins/tg.wasm"
bridges = ["tg", "sim"]
allow_regex = '^admin@example\.org$'
[gateway.limits]
instances = 2
sessions_per_instance = 30
memory_mb = 128
event_timeout = "500ms"
queue = 16
storage_quota_kb = 10
max_file_mb = 5
fetch_private = true
[gateway.config]
greeting = "hi"
ratio = 0.5
tags = ["a", "b"]
nested = { deep = { n = 3 } }
[gateway.config.sub]
on = true

[[gateway]]
jid = "matrix.example.org"
secret_file = "secrets/matrix"
type = "matrix"
allow_domains = []

[bridge.tg]
backend = "tdlib"
api_id = 12345
api_hash_env = "CONFIG_TEST_HASH"
use_test_dc = true

[bridge.sim]
backend = "sim"
fixture = "fixtures/sim.json"
`
	if err := os.WriteFile(filepath.Join(dir, "conf/gateway.toml"), []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load("conf/gateway.toml")
	if err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "conf")
	if cfg.DataDir != "/var/lib/gateway" || cfg.Log != (Log{"debug", "json"}) || cfg.XMPP != (XMPP{"xmpp.example.org", 5348}) {
		t.Errorf("top level = %q %+v %+v", cfg.DataDir, cfg.Log, cfg.XMPP)
	}
	if cfg.Store.Driver != "postgres" || cfg.Store.DSN.Reveal() != "postgres://gw:pw@db.example.org:5433/gateway?sslmode=require" {
		t.Errorf("Store = %q %q", cfg.Store.Driver, cfg.Store.DSN.Reveal())
	}
	if cfg.Admin != (Admin{"0.0.0.0:9000", true}) {
		t.Errorf("Admin = %+v", cfg.Admin)
	}
	if len(cfg.Gateways) != 2 {
		t.Fatalf("%d gateways", len(cfg.Gateways))
	}
	g := cfg.Gateways[0]
	if g.Secret.Reveal() != "env-secret" || g.Name != "Telegram (demo)" || g.Plugin != filepath.Join(conf, "plugins/tg.wasm") {
		t.Errorf("gateway[0] = %+v", g)
	}
	if !slices.Equal(g.Bridges, []string{"tg", "sim"}) || !slices.Equal(g.AllowDomains, []string{"localhost"}) || g.AllowRegex != `^admin@example\.org$` {
		t.Errorf("gateway[0] = %+v", g)
	}
	if want := (Limits{2, 30, 128, 500 * time.Millisecond, 16, 10, 5, true}); g.Limits != want {
		t.Errorf("Limits = %+v, want %+v", g.Limits, want)
	}
	js, err := json.Marshal(g.Config)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"greeting":"hi","nested":{"deep":{"n":3}},"ratio":0.5,"sub":{"on":true},"tags":["a","b"]}`; string(js) != want {
		t.Errorf("Config JSON = %s, want %s", js, want)
	}
	g = cfg.Gateways[1]
	if g.Secret.Reveal() != "m-secret" || g.Name != "Matrix" || g.AllowDomains == nil || len(g.AllowDomains) != 0 {
		t.Errorf("gateway[1] = %+v", g)
	}
	if want := (Bridge{Name: "tg", Backend: "tdlib", APIID: 12345, APIHash: "0123abcd", UseTestDC: true}); cfg.Bridges["tg"] != want {
		t.Errorf("bridge tg = %+v", cfg.Bridges["tg"])
	}
	if want := (Bridge{Name: "sim", Backend: "sim", Fixture: filepath.Join(conf, "fixtures/sim.json")}); cfg.Bridges["sim"] != want {
		t.Errorf("bridge sim = %+v", cfg.Bridges["sim"])
	}

	sum := cfg.Summary()
	for _, secret := range []string{"env-secret", "m-secret", "0123abcd", "pw", "gw:"} {
		if strings.Contains(sum, secret) {
			t.Errorf("Summary contains secret %q:\n%s", secret, sum)
		}
	}
	for _, want := range []string{
		"store:        postgres, host db.example.org:5433, database gateway",
		"message ids:  kept 30 days",
		"admin:        http://0.0.0.0:9000 (public listening allowed)",
		"gateway telegram.localhost",
		"  plugin:        " + filepath.Join(conf, "plugins/tg.wasm"),
		"  bridges:       tg, sim",
		`  may register:  users of localhost; or bare JIDs matching "^admin@example\\.org$"`,
		"  limits:        2 instances at start, at most 30 sessions each, 128 MB memory each, 500ms per event, queue 16, storage 10 KB",
		"  config keys:   greeting, nested, ratio, sub, tags",
		"gateway matrix.example.org",
		"  may register:  nobody",
		"bridge tg\n  backend:       tdlib\n  api_id:        12345\n  data centers:  test",
		"bridge sim\n  backend:       sim\n  fixture:       " + filepath.Join(conf, "fixtures/sim.json"),
	} {
		if !strings.Contains(sum, want) {
			t.Errorf("Summary lacks %q:\n%s", want, sum)
		}
	}
}

func TestSqliteDSN(t *testing.T) {
	dir := setup(t, nil)
	for dsn, want := range map[string]string{
		"db/gw.sqlite":         filepath.Join(dir, "db/gw.sqlite"),
		"/abs/gw.db":           "/abs/gw.db",
		":memory:":             ":memory:",
		"file:gw.db?mode=memo": "file:gw.db?mode=memo",
	} {
		cfg, err := Parse("gateway.toml", []byte("[store]\ndsn = \""+dsn+"\"\n"+gw))
		if err != nil {
			t.Fatal(err)
		}
		if got := cfg.Store.DSN.Reveal(); got != want {
			t.Errorf("dsn %q: got %q, want %q", dsn, got, want)
		}
	}
}

func TestPostgresSummary(t *testing.T) {
	setup(t, nil)
	cfg, err := Parse("gateway.toml", []byte("[store]\ndriver = \"postgres\"\ndsn = \"host=db port=5432 user=gw password='se cret' dbname=gateway\"\n"+gw))
	if err != nil {
		t.Fatal(err)
	}
	sum := cfg.Summary()
	if !strings.Contains(sum, "store:        postgres, host db:5432, database gateway\n") || strings.Contains(sum, "se cret") {
		t.Errorf("Summary:\n%s", sum)
	}
}

func TestSample(t *testing.T) {
	cfg, err := Load("../../gateway.toml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Gateways) != 1 || cfg.Gateways[0].JID != "telegram.localhost" || cfg.Bridges["telegram"].Backend != "sim" {
		t.Errorf("sample = %+v", cfg)
	}
	t.Log("\n" + cfg.Summary())
}

func TestSecretRedaction(t *testing.T) {
	const value = "hunter2"
	s := Secret(value)
	type holder struct {
		Name   string
		Secret Secret
		Ptr    *Secret
	}
	h := holder{"x", s, &s}
	var out []string
	for _, f := range []string{"%v", "%s", "%q", "%+v", "%#v", "%x", "%d", "%10s"} {
		out = append(out, fmt.Sprintf(f, s), fmt.Sprintf(f, h))
	}
	out = append(out, fmt.Sprint(s), fmt.Sprintln(s, h), s.String())
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, string(js))
	if want := `{"Name":"x","Secret":"[redacted]","Ptr":"[redacted]"}`; string(js) != want {
		t.Errorf("json = %s, want %s", js, want)
	}
	text, _ := s.MarshalText()
	out = append(out, string(text))
	for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
		func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	} {
		var buf bytes.Buffer
		log := slog.New(newHandler(&buf))
		log.Info("msg", "secret", s, "holder", h, slog.Any("any", s))
		out = append(out, buf.String())
		if !strings.Contains(buf.String(), "[redacted]") {
			t.Errorf("log output lacks [redacted]: %s", buf.String())
		}
	}
	for _, o := range out {
		if strings.Contains(o, value) || strings.Contains(o, fmt.Sprintf("%x", value)) {
			t.Errorf("secret leaked: %s", o)
		}
	}
	if s.Reveal() != value {
		t.Errorf("Reveal = %q", s.Reveal())
	}
	if Secret("").String() != "" {
		t.Errorf("empty secret String = %q", Secret("").String())
	}
}

func TestLineIndex(t *testing.T) {
	src := `a = """
b = 1
"""
c = [
  1, # comment ] with bracket
  { d = 2 },
]
[[g]]
x.y = 1979-05-27 07:32:00Z
[[g]]
"q k" = 'it s'
[g.t]
z = 1
[[g.arr]]
w = 1
`
	idx := indexLines(src)
	for path, want := range map[string]int{
		"a": 1, "c": 4, "c[0]": 5, "c[1]": 6, "c[1].d": 6,
		"g[0]": 8, "g[0].x": 9, "g[0].x.y": 9, "g[1]": 10, `g[1]."q k"`: 11,
		"g[1].t": 12, "g[1].t.z": 13, "g[1].arr[0]": 14, "g[1].arr[0].w": 15,
		"b": 0, "c[7]": 4,
	} {
		if got := idx.lineOf(path); got != want {
			t.Errorf("lineOf(%q) = %d, want %d", path, got, want)
		}
	}
}
