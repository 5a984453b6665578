// Package config reads the gateway's TOML configuration file into plain
// structs, applies defaults and validates everything in one place, so that the
// rest of the host can trust its configuration and an administrator gets every
// mistake reported at once, each with file, line, key and what was expected.
//
// The file format is documented by the sample gateway.toml at the root of the
// repository.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"time"
)

// Config is a loaded, defaulted and validated gateway configuration. All
// paths in it are absolute.
type Config struct {
	// File is the path the configuration was loaded from, as given to Load
	// or Parse; it is not a TOML key.
	File string
	// DataDir (data_dir, default "data") is where the gateway keeps its
	// state. A relative path is resolved against the config file's directory.
	DataDir string
	// Log configures the process logger ([log]).
	Log Log
	// XMPP is the XMPP server the components connect to ([xmpp]).
	XMPP XMPP
	// Store is the database holding registrations and plugin storage ([store]).
	Store Store
	// Admin is the local admin HTTP interface ([admin]).
	Admin Admin
	// Gateways are the components to run ([[gateway]]), at least one, in file
	// order.
	Gateways []Gateway
	// Bridges are the network backends plugins may be granted
	// ([bridge.NAME]), keyed by NAME. Never nil.
	Bridges map[string]Bridge
}

// Log configures the process logger.
type Log struct {
	// Level is "debug", "info" (default), "warn" or "error".
	Level string
	// Format is "text" (default) or "json", as for log/slog's handlers.
	Format string
}

// XMPP is the address of the XMPP server's component port (XEP-0114).
type XMPP struct {
	// Host defaults to "127.0.0.1".
	Host string
	// Port defaults to 5347, the usual component port.
	Port int
}

// Store selects the database.
type Store struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string
	// DSN is, for sqlite, a file path (absolute; default
	// <DataDir>/gateway.db) or a "file:" URI or ":memory:"; for postgres, a
	// postgres:// URL or key=value DSN. It is a Secret because a postgres DSN
	// may hold a password; use Reveal to open the database.
	DSN Secret
	// KeepMessageIDs is how long the XMPP <-> network message-id mappings are kept (what
	// corrections, retractions, reactions, replies and markers resolve through); 0 keeps them
	// forever. From keep_message_ids_days, default 90 days.
	KeepMessageIDs time.Duration
}

// Admin configures the admin HTTP interface.
type Admin struct {
	// Listen is the host:port to listen on; "" disables the interface.
	// Default "127.0.0.1:8089". It is a loopback address unless AllowPublic.
	Listen string
	// AllowPublic permits a non-loopback Listen address. The interface has
	// no authentication of its own, hence the explicit opt-in.
	AllowPublic bool
}

// Gateway is one XMPP component and the plugin behind it.
type Gateway struct {
	// JID is the component's domain JID, e.g. "telegram.example.org",
	// lower-cased.
	JID string
	// Secret is the XEP-0114 handshake secret shared with the XMPP server,
	// from exactly one of secret, secret_file or secret_env.
	Secret Secret
	// Type is the disco identity type, e.g. "telegram" ([a-z0-9-]+).
	Type string
	// Name is the disco identity name; default: Type with its first letter
	// upper-cased.
	Name string
	// Plugin is the absolute path of the .wasm module, an existing regular
	// file; "" runs the gateway without a plugin (disco and ping only).
	Plugin string
	// Bridges names the [bridge.NAME] tables the plugin is granted; each
	// exists in Config.Bridges.
	Bridges []string
	// AllowDomains lists the user domains that may register. Default: the
	// JID minus its first label ("example.org" for "telegram.example.org").
	// An explicit empty list admits no domain (only AllowRegex).
	AllowDomains []string
	// AllowRegex, if not "", is a Go regular expression (unanchored: use ^
	// and $) matched against a user's bare JID; a match also admits the
	// user. It is known to compile, so regexp.MustCompile is safe.
	AllowRegex string
	// Limits bound the plugin's resources ([gateway.limits]).
	Limits Limits
	// Config is the free-form [gateway.config] table handed to the plugin
	// as JSON; values are as decoded by BurntSushi/toml (string, int64,
	// float64, bool, time values, []any, map[string]any). Never nil.
	Config map[string]any
}

// Limits bound the resources of one gateway's plugin.
type Limits struct {
	// Instances is the number of plugin instances; 0 in the file means the
	// number of CPUs, which is what is stored here.
	Instances int
	// SessionsPerInstance, when positive, adds an instance whenever a new session finds every
	// instance holding this many sessions (0..1048576, default 0: Instances share all).
	SessionsPerInstance int
	// MemoryMB is the linear memory limit of one instance, 1..4096, default 64.
	MemoryMB int
	// EventTimeout bounds the handling of one event, 1ms..5m, default 2s.
	EventTimeout time.Duration
	// Queue is the number of pending events per gateway, 1..65536,
	// default 256.
	Queue int
	// StorageQuotaKB is the plugin's key-value storage quota in KiB,
	// 1..1048576, default 1024.
	StorageQuotaKB int
	// MaxFileMB caps a file the plugin fetches or sends, 1..65536, default 100.
	MaxFileMB int
	// FetchPrivate lets the plugin fetch files from loopback and private addresses (default
	// false: only public ones). Turn it on only when the XMPP server's upload service is itself
	// on such an address, as in the demo.
	FetchPrivate bool
}

// Bridge is a network backend ([bridge.NAME]) that gateways may be granted.
type Bridge struct {
	// Name is the table key NAME.
	Name string
	// Backend is "sim" (a simulated network for demos and tests) or "tdlib"
	// (Telegram through TDLib).
	Backend string
	// Fixture (sim only) is the absolute path of an existing fixture file;
	// "" selects the built-in demo fixture.
	Fixture string
	// APIID (tdlib only) is the Telegram application id, > 0.
	APIID int64
	// APIHash (tdlib only) is the Telegram application hash, from exactly
	// one of api_hash, api_hash_file or api_hash_env.
	APIHash Secret
	// UseTestDC (tdlib only) selects Telegram's test data centers.
	UseTestDC bool
}

// Secret is a configuration value that must not leak into logs, JSON or
// check-config output: every way of printing or encoding it yields
// "[redacted]" ("" when empty). Reveal returns the value itself.
type Secret string

const redacted = "[redacted]"

// Reveal returns the secret value, for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// String returns "[redacted]", or "" for an empty secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return redacted
}

// Format makes every fmt verb, including %#v and %q, print the redacted form.
func (s Secret) Format(f fmt.State, verb rune) {
	fmt.Fprintf(f, fmt.FormatString(f, verb), s.String())
}

// MarshalText returns the redacted form, for encoders using
// encoding.TextMarshaler.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// MarshalJSON returns the redacted form as a JSON string.
func (s Secret) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// LogValue returns the redacted form, so log/slog never records the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// Error is one problem in a configuration file. Load and Parse return every
// problem found, as *Error values joined with errors.Join (use errors.As for
// the first, or the Unwrap() []error method for all).
type Error struct {
	// File is the config file name as given to Load or Parse.
	File string
	// Line is the 1-based line of the offending key, or 0 when there is
	// none to point at (e.g. a missing key).
	Line int
	// Key is the key path, such as "gateway[1].jid" or "bridge.tg.api_id";
	// "" for syntax errors and unknown keys (whose Msg names the key).
	Key string
	// Msg says what was expected and what was found.
	Msg string
}

// Error formats the problem as "file:line: key: msg", leaving out the line
// and key when they are unknown or empty.
func (e *Error) Error() string {
	s := e.File
	if e.Line > 0 {
		s += ":" + strconv.Itoa(e.Line)
	}
	s += ": "
	if e.Key != "" {
		s += e.Key + ": "
	}
	return s + e.Msg
}

// Load reads the configuration file at path, decodes it, applies defaults
// and validates it. Relative paths inside the file are resolved against the
// file's directory. A non-nil error either wraps the read failure or joins
// one *Error per problem found.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse is Load for a configuration already in memory. name is used in
// error messages and as the config file path: relative paths in the file are
// resolved against filepath.Dir(name), and secret, plugin and fixture files
// are read from disk.
func Parse(name string, data []byte) (*Config, error) {
	return parse(name, data)
}
