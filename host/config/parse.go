package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// The raw* types mirror the file. Leaves are `any` so that type mismatches
// are reported by this package, all of them, with precise key paths; tables
// are typed so that MetaData.Undecoded reports unknown keys.
type rawConfig struct {
	DataDir any                  `toml:"data_dir"`
	Log     rawLog               `toml:"log"`
	XMPP    rawXMPP              `toml:"xmpp"`
	Store   rawStore             `toml:"store"`
	Admin   rawAdmin             `toml:"admin"`
	Gateway []rawGateway         `toml:"gateway"`
	Bridge  map[string]rawBridge `toml:"bridge"`
}

type rawLog struct {
	Level  any `toml:"level"`
	Format any `toml:"format"`
}

type rawXMPP struct {
	Host any `toml:"host"`
	Port any `toml:"port"`
}

type rawStore struct {
	Driver  any `toml:"driver"`
	DSN     any `toml:"dsn"`
	DSNFile any `toml:"dsn_file"`
	DSNEnv  any `toml:"dsn_env"`
	Keep    any `toml:"keep_message_ids_days"`
}

type rawAdmin struct {
	Listen      any `toml:"listen"`
	AllowPublic any `toml:"allow_public"`
}

type rawGateway struct {
	JID          any            `toml:"jid"`
	Secret       any            `toml:"secret"`
	SecretFile   any            `toml:"secret_file"`
	SecretEnv    any            `toml:"secret_env"`
	Type         any            `toml:"type"`
	Name         any            `toml:"name"`
	Plugin       any            `toml:"plugin"`
	Bridges      any            `toml:"bridges"`
	AllowDomains any            `toml:"allow_domains"`
	AllowRegex   any            `toml:"allow_regex"`
	Limits       rawLimits      `toml:"limits"`
	Config       map[string]any `toml:"config"`
}

type rawLimits struct {
	Instances      any `toml:"instances"`
	PerInstance    any `toml:"sessions_per_instance"`
	MemoryMB       any `toml:"memory_mb"`
	EventTimeout   any `toml:"event_timeout"`
	Queue          any `toml:"queue"`
	StorageQuotaKB any `toml:"storage_quota_kb"`
	MaxFileMB      any `toml:"max_file_mb"`
	FetchPrivate   any `toml:"fetch_private"`
}

type rawBridge struct {
	Backend     any `toml:"backend"`
	Fixture     any `toml:"fixture"`
	APIID       any `toml:"api_id"`
	APIHash     any `toml:"api_hash"`
	APIHashFile any `toml:"api_hash_file"`
	APIHashEnv  any `toml:"api_hash_env"`
	UseTestDC   any `toml:"use_test_dc"`
}

// backendKeys lists the keys of [bridge.NAME] valid only for one backend.
var backendKeys = map[string]string{
	"fixture":       "sim",
	"api_id":        "tdlib",
	"api_hash":      "tdlib",
	"api_hash_file": "tdlib",
	"api_hash_env":  "tdlib",
	"use_test_dc":   "tdlib",
}

// checker accumulates the problems of one file.
type checker struct {
	file string
	dir  string // absolute directory relative paths are resolved against
	idx  *lineIndex
	errs []error
}

// at records a problem with the key at path, located by the line index.
func (c *checker) at(path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Line: c.idx.lineOf(path), Key: path, Msg: fmt.Sprintf(format, args...)})
}

// missing records a problem with a whole table (typically a missing key),
// which has no line to point at.
func (c *checker) missing(table, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: c.file, Key: table, Msg: fmt.Sprintf(format, args...)})
}

func parse(name string, data []byte) (*Config, error) {
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		dir = filepath.Dir(name)
	}
	c := &checker{file: name, dir: dir}

	// First pass: syntax, and the shape of the tables, so that the typed
	// decode below cannot fail half-way with a vague message.
	var tree map[string]any
	if _, err := toml.Decode(string(data), &tree); err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return nil, errors.Join(&Error{File: name, Line: pe.Position.Line, Msg: "toml syntax: " + pe.Message})
		}
		return nil, errors.Join(&Error{File: name, Msg: err.Error()})
	}
	c.idx = indexLines(string(data))
	if !c.checkShape(tree) {
		return nil, errors.Join(c.errs...)
	}

	var raw rawConfig
	md, err := toml.Decode(string(data), &raw)
	if err != nil { // not expected after checkShape; the message starts with "toml:"
		return nil, errors.Join(&Error{File: name, Msg: err.Error()})
	}
	c.unknownKeys(md)
	cfg := c.build(&raw)
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	cfg.File = name
	return cfg, nil
}

// checkShape verifies that every table the typed decode expects is a table.
func (c *checker) checkShape(tree map[string]any) bool {
	ok := true
	table := func(path string, v any) map[string]any {
		if v == nil {
			return nil
		}
		m, isMap := v.(map[string]any)
		if !isMap {
			c.at(path, "expected a table, got %s", describe(v, false))
			ok = false
		}
		return m
	}
	for _, k := range []string{"log", "xmpp", "store", "admin"} {
		table(k, tree[k])
	}
	switch gws := tree["gateway"].(type) {
	case nil:
	case []map[string]any:
		for i, g := range gws {
			table(fmt.Sprintf("gateway[%d].limits", i), g["limits"])
			table(fmt.Sprintf("gateway[%d].config", i), g["config"])
		}
	case []any:
		for i, e := range gws {
			if g := table(fmt.Sprintf("gateway[%d]", i), e); g != nil {
				table(fmt.Sprintf("gateway[%d].limits", i), g["limits"])
				table(fmt.Sprintf("gateway[%d].config", i), g["config"])
			}
		}
	default:
		c.at("gateway", "expected [[gateway]] tables, got %s", describe(gws, false))
		ok = false
	}
	for name, b := range table("bridge", tree["bridge"]) {
		table(joinKey("bridge", name), b)
	}
	return ok
}

// unknownKeys reports keys of the file that the gateway does not know:
// those toml left undecoded, and those it matched only case-insensitively.
func (c *checker) unknownKeys(md toml.MetaData) {
	seen := map[string]bool{}
	var keys []toml.Key
	add := func(k toml.Key) {
		if len(k) >= 3 && k[0] == "gateway" && k[1] == "config" {
			return // free-form
		}
		if s := k.String(); !seen[s] {
			seen[s] = true
			keys = append(keys, k)
		}
	}
	for _, k := range md.Undecoded() {
		add(k)
	}
	for _, k := range md.Keys() {
		if !inSchema(reflect.TypeFor[rawConfig](), k) {
			add(k)
		}
	}
	var errs []*Error
	for _, k := range keys {
		s := k.String()
		if slices.ContainsFunc(keys, func(o toml.Key) bool {
			return len(o) > len(k) && strings.HasPrefix(o.String(), s+".")
		}) {
			continue // report the unknown keys inside, not the table
		}
		defs := c.idx.byKey[s]
		if len(defs) == 0 {
			errs = append(errs, &Error{File: c.file, Msg: fmt.Sprintf("unknown key %q", s)})
		}
		for _, d := range defs {
			errs = append(errs, &Error{File: c.file, Line: d.line, Msg: fmt.Sprintf("unknown key %q", d.path)})
		}
	}
	slices.SortStableFunc(errs, func(a, b *Error) int { return a.Line - b.Line })
	for _, e := range errs {
		c.errs = append(c.errs, e)
	}
}

// inSchema reports whether key names, with exact case, a field of the raw
// types (anything below a map of `any` or an `any` leaf is accepted here;
// Undecoded covers what lies below a leaf).
func inSchema(t reflect.Type, key toml.Key) bool {
	for _, part := range key {
		if t.Kind() == reflect.Slice {
			t = t.Elem()
		}
		switch t.Kind() {
		case reflect.Struct:
			found := false
			for i := 0; i < t.NumField(); i++ {
				if f := t.Field(i); f.Tag.Get("toml") == part {
					t, found = f.Type, true
					break
				}
			}
			if !found {
				return false
			}
		case reflect.Map:
			t = t.Elem()
		default:
			return true
		}
	}
	return true
}

// build converts and validates the raw values, applying defaults.
func (c *checker) build(raw *rawConfig) *Config {
	cfg := &Config{Bridges: map[string]Bridge{}}

	cfg.DataDir = c.path("data_dir", raw.DataDir, "data", "a directory path")

	cfg.Log.Level = c.oneOf("log.level", raw.Log.Level, "info", "debug", "info", "warn", "error")
	cfg.Log.Format = c.oneOf("log.format", raw.Log.Format, "text", "text", "json")

	cfg.XMPP.Host = c.str("xmpp.host", raw.XMPP.Host, "127.0.0.1", "a host name or IP address", nonEmpty)
	cfg.XMPP.Port = int(c.integer("xmpp.port", raw.XMPP.Port, 5347, 1, 65535, "a port number"))

	c.store(cfg, &raw.Store)
	c.admin(cfg, &raw.Admin)

	// Bridge names are needed to check grants; the bridges themselves are
	// checked after the gateways, in name order.
	names := make([]string, 0, len(raw.Bridge))
	for name := range raw.Bridge {
		names = append(names, name)
	}
	slices.Sort(names)

	if len(raw.Gateway) == 0 {
		c.missing("gateway", "at least one [[gateway]] table is required")
	}
	jids := map[string]int{}
	for i := range raw.Gateway {
		g := c.gateway(i, &raw.Gateway[i], names)
		if g.JID != "" {
			if j, dup := jids[g.JID]; dup {
				c.at(fmt.Sprintf("gateway[%d].jid", i), "duplicate of gateway[%d].jid %q", j, g.JID)
			} else {
				jids[g.JID] = i
			}
		}
		cfg.Gateways = append(cfg.Gateways, g)
	}

	for _, name := range names {
		rb := raw.Bridge[name]
		cfg.Bridges[name] = c.bridge(name, &rb)
	}
	return cfg
}

func (c *checker) store(cfg *Config, raw *rawStore) {
	cfg.Store.Driver = c.oneOf("store.driver", raw.Driver, "sqlite", "sqlite", "postgres")
	dsn, key, set := c.secret("store", false, [3]string{"dsn", "dsn_file", "dsn_env"}, [3]any{raw.DSN, raw.DSNFile, raw.DSNEnv})
	switch cfg.Store.Driver {
	case "sqlite":
		switch d := dsn.Reveal(); {
		case !set:
			dsn = Secret(filepath.Join(cfg.DataDir, "gateway.db"))
		case d == ":memory:" || strings.HasPrefix(d, "file:"):
		default:
			dsn = Secret(c.resolve(d))
		}
	case "postgres":
		if !set {
			c.missing("store", "driver %q needs a dsn: set exactly one of dsn, dsn_file, dsn_env", "postgres")
		} else if dsn != "" && !validPostgresDSN(dsn.Reveal()) {
			c.at(key, "expected a postgres:// URL or key=value DSN (value not shown: it may hold a password)")
		}
	}
	cfg.Store.DSN = dsn
	days := c.integer("store.keep_message_ids_days", raw.Keep, 90, 0, 36500, "a number of days (0 keeps them forever)")
	cfg.Store.KeepMessageIDs = time.Duration(days) * 24 * time.Hour
}

// validPostgresDSN accepts a postgres:// or postgresql:// URL, or a
// key=value connection string.
func validPostgresDSN(s string) bool {
	if strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://") {
		u, err := url.Parse(s)
		return err == nil && (u.Host != "" || u.Path != "")
	}
	return len(pgFields(s)) > 0
}

// pgFields parses a libpq key=value connection string ("host=db
// dbname='my db'"); nil when it is not one.
func pgFields(s string) map[string]string {
	m := map[string]string{}
	s = strings.TrimSpace(s)
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq <= 0 {
			return nil
		}
		k := strings.TrimSpace(s[:eq])
		if k == "" || strings.ContainsAny(k, " \t'") {
			return nil
		}
		s = strings.TrimLeft(s[eq+1:], " \t")
		var v strings.Builder
		if strings.HasPrefix(s, "'") {
			i := 1
			for ; i < len(s) && s[i] != '\''; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				v.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil
			}
			s = s[i+1:]
		} else {
			i := strings.IndexAny(s, " \t")
			if i < 0 {
				i = len(s)
			}
			v.WriteString(s[:i])
			s = s[i:]
		}
		m[k] = v.String()
		s = strings.TrimLeft(s, " \t")
	}
	return m
}

func (c *checker) admin(cfg *Config, raw *rawAdmin) {
	cfg.Admin.AllowPublic = c.boolean("admin.allow_public", raw.AllowPublic, false)
	listen := c.str("admin.listen", raw.Listen, "127.0.0.1:8089", `host:port such as "127.0.0.1:8089", or "" to disable`, nil)
	cfg.Admin.Listen = listen
	if listen == "" {
		return
	}
	// Port 0 picks a free port (tests, several instances on one machine).
	host, port, err := net.SplitHostPort(listen)
	if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
		c.at("admin.listen", `expected host:port such as "127.0.0.1:8089", or "" to disable, got %q`, listen)
		return
	}
	if cfg.Admin.AllowPublic {
		return
	}
	ip := net.ParseIP(host)
	if !strings.EqualFold(host, "localhost") && (ip == nil || !ip.IsLoopback()) {
		c.at("admin.listen", `expected a loopback address such as "127.0.0.1:8089", got %q (set allow_public = true to expose the admin interface, which has no authentication)`, listen)
	}
}

func (c *checker) gateway(i int, raw *rawGateway, bridges []string) Gateway {
	p := fmt.Sprintf("gateway[%d]", i)
	var g Gateway

	if raw.JID == nil {
		c.missing(p, `missing required key "jid" (a domain JID such as "telegram.example.org")`)
	} else {
		jid := strings.ToLower(c.str(p+".jid", raw.JID, "", `a domain JID such as "telegram.example.org"`, nil))
		if s, ok := raw.JID.(string); ok && !validDomain(jid) {
			c.at(p+".jid", `expected a domain JID such as "telegram.example.org", got %q`, s)
		} else {
			g.JID = jid
		}
	}

	g.Secret, _, _ = c.secret(p, true, [3]string{"secret", "secret_file", "secret_env"}, [3]any{raw.Secret, raw.SecretFile, raw.SecretEnv})

	if raw.Type == nil {
		c.missing(p, `missing required key "type" (a disco identity type such as "telegram")`)
	} else {
		g.Type = c.str(p+".type", raw.Type, "", `lower-case letters, digits and "-", such as "telegram"`, func(s string) bool {
			return s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
		})
	}
	def := ""
	if g.Type != "" {
		def = strings.ToUpper(g.Type[:1]) + g.Type[1:]
	}
	g.Name = c.str(p+".name", raw.Name, def, "a non-empty name", nonEmpty)

	if raw.Plugin != nil {
		if path := c.str(p+".plugin", raw.Plugin, "", "a path to a .wasm file", nil); path != "" {
			g.Plugin = c.existingFile(p+".plugin", path)
		}
	}

	list, _ := c.strList(p+".bridges", raw.Bridges, "bridge names")
	for j, name := range list {
		key := fmt.Sprintf("%s.bridges[%d]", p, j)
		switch {
		case !slices.Contains(bridges, name):
			known := "no [bridge.NAME] tables are defined"
			if len(bridges) > 0 {
				q := make([]string, len(bridges))
				for k, b := range bridges {
					q[k] = strconv.Quote(b)
				}
				known = "defined bridges: " + strings.Join(q, ", ")
			}
			c.at(key, "unknown bridge %q; %s", name, known)
		case slices.Contains(g.Bridges, name):
			c.at(key, "bridge %q is listed twice", name)
		default:
			g.Bridges = append(g.Bridges, name)
		}
	}

	if domains, set := c.strList(p+".allow_domains", raw.AllowDomains, "domains"); set {
		g.AllowDomains = []string{}
		for j, d := range domains {
			if !validDomain(strings.ToLower(d)) {
				c.at(fmt.Sprintf("%s.allow_domains[%d]", p, j), `expected a domain such as "example.org", got %q`, d)
				continue
			}
			g.AllowDomains = append(g.AllowDomains, strings.ToLower(d))
		}
	} else if g.JID != "" {
		if _, parent, ok := strings.Cut(g.JID, "."); ok {
			g.AllowDomains = []string{parent}
		} else {
			c.missing(p, `missing key "allow_domains": no default can be derived from the single-label jid %q`, g.JID)
		}
	}

	g.AllowRegex = c.str(p+".allow_regex", raw.AllowRegex, "", "a Go regular expression", nil)
	if g.AllowRegex != "" {
		if _, err := regexp.Compile(g.AllowRegex); err != nil {
			c.at(p+".allow_regex", "expected a Go regular expression: %v", err)
		}
	}

	l := &raw.Limits
	lp := p + ".limits."
	g.Limits.Instances = int(c.integer(lp+"instances", l.Instances, 0, 0, 1<<20, "an instance count (0 = number of CPUs)"))
	if g.Limits.Instances == 0 {
		g.Limits.Instances = runtime.NumCPU()
	}
	g.Limits.SessionsPerInstance = int(c.integer(lp+"sessions_per_instance", l.PerInstance, 0, 0, 1<<20, "a session count (0 = no limit)"))
	g.Limits.MemoryMB = int(c.integer(lp+"memory_mb", l.MemoryMB, 64, 1, 4096, "megabytes"))
	g.Limits.EventTimeout = c.duration(lp+"event_timeout", l.EventTimeout, 2*time.Second, time.Millisecond, 5*time.Minute)
	g.Limits.Queue = int(c.integer(lp+"queue", l.Queue, 256, 1, 65536, "a queue length"))
	g.Limits.StorageQuotaKB = int(c.integer(lp+"storage_quota_kb", l.StorageQuotaKB, 1024, 1, 1<<20, "kilobytes"))
	g.Limits.MaxFileMB = int(c.integer(lp+"max_file_mb", l.MaxFileMB, 100, 1, 1<<16, "megabytes"))
	g.Limits.FetchPrivate = c.boolean(lp+"fetch_private", l.FetchPrivate, false)

	g.Config = raw.Config
	if g.Config == nil {
		g.Config = map[string]any{}
	}
	return g
}

func (c *checker) bridge(name string, raw *rawBridge) Bridge {
	p := joinKey("bridge", name)
	b := Bridge{Name: name}
	if raw.Backend == nil {
		c.missing(p, `missing required key "backend" ("sim" or "tdlib")`)
	} else {
		b.Backend = c.oneOf(p+".backend", raw.Backend, "", "sim", "tdlib")
	}
	if b.Backend == "" {
		return b // nothing more can be checked meaningfully
	}
	values := map[string]any{
		"fixture": raw.Fixture, "api_id": raw.APIID, "api_hash": raw.APIHash,
		"api_hash_file": raw.APIHashFile, "api_hash_env": raw.APIHashEnv, "use_test_dc": raw.UseTestDC,
	}
	wrong := false
	for _, k := range []string{"fixture", "api_id", "api_hash", "api_hash_file", "api_hash_env", "use_test_dc"} {
		if values[k] != nil && backendKeys[k] != b.Backend {
			c.at(p+"."+k, "key is for backend %q, not %q", backendKeys[k], b.Backend)
			wrong = true
		}
	}
	if wrong {
		return b
	}
	switch b.Backend {
	case "sim":
		if f := c.str(p+".fixture", raw.Fixture, "", "a fixture file path", nil); f != "" {
			b.Fixture = c.existingFile(p+".fixture", f)
		}
	case "tdlib":
		if raw.APIID == nil {
			c.missing(p, `missing required key "api_id" (the Telegram application id from my.telegram.org)`)
		} else {
			b.APIID = c.integer(p+".api_id", raw.APIID, 0, 1, math.MaxInt64, "a positive integer")
		}
		b.APIHash, _, _ = c.secret(p, true, [3]string{"api_hash", "api_hash_file", "api_hash_env"}, [3]any{raw.APIHash, raw.APIHashFile, raw.APIHashEnv})
		b.UseTestDC = c.boolean(p+".use_test_dc", raw.UseTestDC, false)
	}
	return b
}

// secret reads a secret from exactly one of the keys names (value, file,
// environment variable) of table. It returns the value, the key it came
// from and whether any was set. Values are never put in messages.
func (c *checker) secret(table string, required bool, names [3]string, values [3]any) (Secret, string, bool) {
	var set []int
	for i, v := range values {
		if v != nil {
			set = append(set, i)
		}
	}
	list := strings.Join(names[:], ", ")
	switch {
	case len(set) == 0:
		if required {
			c.missing(table, "set exactly one of %s", list)
		}
		return "", "", false
	case len(set) > 1:
		got := make([]string, len(set))
		for i, j := range set {
			got[i] = names[j]
		}
		c.errs = append(c.errs, &Error{File: c.file, Line: c.idx.lineOf(table + "." + names[set[1]]), Key: table,
			Msg: fmt.Sprintf("set exactly one of %s, not %s", list, strings.Join(got, " and "))})
		return "", "", true
	}
	i := set[0]
	key := table + "." + names[i]
	s, ok := values[i].(string)
	if !ok {
		c.at(key, "expected a string, got %s", describe(values[i], i == 0))
		return "", key, true
	}
	switch i {
	case 0:
		if s == "" {
			c.at(key, "expected a non-empty string")
		}
		return Secret(s), key, true
	case 1:
		if s == "" {
			c.at(key, "expected a file path, got \"\"")
			return "", key, true
		}
		data, err := os.ReadFile(c.resolve(s))
		if err != nil {
			c.at(key, "file %s: %s", s, fileErr(err))
			return "", key, true
		}
		v := strings.TrimSpace(string(data))
		if v == "" {
			c.at(key, "file %s is empty", s)
		}
		return Secret(v), key, true
	default:
		if s == "" {
			c.at(key, "expected an environment variable name, got \"\"")
			return "", key, true
		}
		v, ok := os.LookupEnv(s)
		switch {
		case !ok:
			c.at(key, "environment variable %s is not set", s)
		case v == "":
			c.at(key, "environment variable %s is empty", s)
		}
		return Secret(v), key, true
	}
}

// existingFile resolves path and checks it names a regular file; it returns
// the absolute path, or "" after recording a problem.
func (c *checker) existingFile(key, path string) string {
	abs := c.resolve(path)
	fi, err := os.Stat(abs)
	switch {
	case err != nil:
		c.at(key, "file %s: %s", path, fileErr(err))
		return ""
	case !fi.Mode().IsRegular():
		c.at(key, "file %s: not a regular file", path)
		return ""
	}
	return abs
}

// fileErr describes why a file could not be used, without repeating its path.
func fileErr(err error) string {
	if errors.Is(err, fs.ErrNotExist) {
		return "no such file"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

// resolve makes path absolute against the config file's directory.
func (c *checker) resolve(path string) string {
	if filepath.IsAbs(path) {
		return filepath.Clean(path)
	}
	return filepath.Join(c.dir, path)
}

// path reads a non-empty path, default def, resolved against the config
// file's directory.
func (c *checker) path(key string, v any, def, what string) string {
	return c.resolve(c.str(key, v, def, what, nonEmpty))
}

func nonEmpty(s string) bool { return s != "" }

// str reads an optional string (def when absent) that must satisfy valid
// when valid is not nil. what describes the expected value.
func (c *checker) str(key string, v any, def, what string, valid func(string) bool) string {
	if v == nil {
		return def
	}
	s, ok := v.(string)
	if !ok {
		c.at(key, "expected %s, got %s", what, describe(v, false))
		return def
	}
	if valid != nil && !valid(s) {
		c.at(key, "expected %s, got %q", what, s)
		return def
	}
	return s
}

// oneOf reads an optional string that must be one of choices.
func (c *checker) oneOf(key string, v any, def string, choices ...string) string {
	q := make([]string, len(choices))
	for i, s := range choices {
		q[i] = strconv.Quote(s)
	}
	what := strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
	return c.str(key, v, def, what, func(s string) bool { return slices.Contains(choices, s) })
}

// integer reads an optional integer in min..max; max == math.MaxInt64
// means no upper bound.
func (c *checker) integer(key string, v any, def, min, max int64, what string) int64 {
	if v == nil {
		return def
	}
	n, ok := v.(int64)
	if !ok || n < min || n > max {
		got := describe(v, false)
		if ok {
			got = strconv.FormatInt(n, 10)
		}
		if max == math.MaxInt64 {
			c.at(key, "expected %s, got %s", what, got)
		} else {
			c.at(key, "expected %s from %d to %d, got %s", what, min, max, got)
		}
		return def
	}
	return n
}

func (c *checker) boolean(key string, v any, def bool) bool {
	if v == nil {
		return def
	}
	b, ok := v.(bool)
	if !ok {
		c.at(key, "expected true or false, got %s", describe(v, false))
		return def
	}
	return b
}

// duration reads an optional duration string such as "2s" in min..max.
func (c *checker) duration(key string, v any, def, min, max time.Duration) time.Duration {
	if v == nil {
		return def
	}
	what := fmt.Sprintf("a duration from %s to %s such as %q", short(min), short(max), short(def))
	s, ok := v.(string)
	if !ok {
		c.at(key, "expected %s, got %s", what, describe(v, false))
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < min || d > max {
		c.at(key, "expected %s, got %q", what, s)
		return def
	}
	return d
}

// short formats a duration without the zero units time.Duration.String adds
// ("5m" rather than "5m0s").
func short(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// strList reads an optional array of strings; set reports whether the key
// was present.
func (c *checker) strList(key string, v any, what string) (list []string, set bool) {
	if v == nil {
		return nil, false
	}
	arr, ok := v.([]any)
	if !ok {
		c.at(key, "expected an array of %s, got %s", what, describe(v, false))
		return nil, true
	}
	list = []string{}
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			c.at(fmt.Sprintf("%s[%d]", key, i), "expected a string, got %s", describe(e, false))
			continue
		}
		list = append(list, s)
	}
	return list, true
}

// describe names a decoded TOML value for a message: its type and, unless
// secret, its value.
func describe(v any, secret bool) string {
	var typ, val string
	switch x := v.(type) {
	case string:
		typ, val = "string", strconv.Quote(x)
	case int64:
		typ, val = "integer", strconv.FormatInt(x, 10)
	case float64:
		typ, val = "float", strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		typ, val = "boolean", strconv.FormatBool(x)
	case map[string]any:
		return "a table"
	case []map[string]any, []any:
		return "an array"
	default:
		return "a date-time"
	}
	if secret {
		return typ
	}
	return typ + " " + val
}

// validDomain reports whether s is a lower-case DNS name: dot-separated
// labels of letters, digits and inner hyphens, 1..63 bytes each.
func validDomain(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		if strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
			return false
		}
	}
	return true
}
