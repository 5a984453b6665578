//go:build libtdjson

package tdlib

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/bridge/internal/outq"
	"github.com/xmppgw/gateway/host/config"
)

func init() {
	bridge.Register("tdlib", func(cfg config.Bridge, o bridge.Options) (bridge.Backend, error) {
		return New(cfg, o)
	})
}

// Version is the TDLib version this backend is built for.
const Version = "1.8.40"

// CloseTimeout bounds how long Close waits for TDLib to close a client.
var CloseTimeout = 30 * time.Second

// LogVerbosity is TDLib's own log level (to standard error): 1 is errors and warnings.
var LogVerbosity = 1

// Backend is the real TDLib: one TDLib client per session.
type Backend struct {
	cfg config.Bridge
	log *slog.Logger

	mu      sync.Mutex
	clients map[string]*client // by DataDir
	closed  bool
}

// New creates the TDLib backend of a bridge; the api id and hash come from cfg.
func New(cfg config.Bridge, o bridge.Options) (*Backend, error) {
	if cfg.APIID <= 0 || cfg.APIHash.Reveal() == "" {
		return nil, errors.New("tdlib: api_id and api_hash are required (https://my.telegram.org, \"API development tools\")")
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return &Backend{cfg: cfg, log: o.Logger, clients: map[string]*client{}}, nil
}

// Open creates the TDLib client of a session. TDLib starts it with its first request.
func (b *Backend) Open(ctx context.Context, s bridge.Session) (bridge.Client, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.DataDir == "" {
		return nil, errors.New("tdlib: the session has no data folder")
	}
	dir := filepath.Clean(s.DataDir)
	for _, d := range []string{dir, filepath.Join(dir, "db"), filepath.Join(dir, "files")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("tdlib: %w", err)
		}
	}
	if err := hub.start(); err != nil {
		return nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errors.New("tdlib: backend is closed")
	}
	if _, busy := b.clients[dir]; busy {
		return nil, fmt.Errorf("tdlib: a client of %s is already open", s.User)
	}
	log := b.log.With("user", s.User)
	if len(s.Key) == 0 {
		log.Warn("tdlib: the session has no database encryption key; its database is not encrypted")
	}
	c := &client{b: b, sess: s, dir: dir, log: log, out: outq.New(), gone: make(chan struct{})}
	c.id = hub.add(c)
	b.clients[dir] = c
	log.Debug("tdlib: client opened", "client_id", c.id)
	return c, nil
}

// Close closes every client (TDLib "close": the sessions stay logged in).
func (b *Backend) Close() error {
	b.mu.Lock()
	b.closed = true
	cs := make([]*client, 0, len(b.clients))
	for _, c := range b.clients {
		cs = append(cs, c)
	}
	b.mu.Unlock()
	var wg sync.WaitGroup
	errs := make([]error, len(cs))
	for i, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = c.Close() }()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// client is one session's TDLib client.
type client struct {
	b    *Backend
	id   int
	sess bridge.Session
	dir  string
	log  *slog.Logger
	out  *outq.Queue

	mu       sync.Mutex
	closing  bool          // Close was called: no more requests
	gone     chan struct{} // closed when TDLib reported authorizationStateClosed
	goneOnce sync.Once
}

// forbidden requests reach outside the session (logs, the key the host keeps).
var forbidden = map[string]bool{
	"setLogStream": true, "setLogVerbosityLevel": true, "setLogTagVerbosityLevel": true,
	"addLogMessage": true, "setDatabaseEncryptionKey": true,
}

// Send passes a request to TDLib, completing setTdlibParameters with the session's settings.
func (c *client) Send(req []byte) error {
	typ, err := bridge.RequestType(req)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing || c.isGone() {
		return bridge.ErrClosed
	}
	if forbidden[typ] {
		c.refuse(req, "bridge: "+typ+" is not allowed")
		return nil
	}
	if typ == "setTdlibParameters" {
		if req, err = c.parameters(req); err != nil {
			c.refuse(req, "bridge: "+err.Error())
			return nil
		}
	}
	tdSend(c.id, req)
	return nil
}

func (c *client) isGone() bool {
	select {
	case <-c.gone:
		return true
	default:
		return false
	}
}

// refuse answers a request with a TDLib error, without TDLib.
func (c *client) refuse(req []byte, msg string) {
	var m struct {
		Extra json.RawMessage `json:"@extra"`
	}
	_ = json.Unmarshal(req, &m)
	e := map[string]any{"@type": "error", "code": 400, "message": msg}
	if len(m.Extra) > 0 {
		e["@extra"] = m.Extra
	}
	data, _ := json.Marshal(e)
	c.out.Push(data)
}

// parameters puts the session's folders and key and the configured api id, hash and data
// center into setTdlibParameters, keeping what else the plugin chose.
func (c *client) parameters(req []byte) ([]byte, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(req, &m); err != nil {
		return req, err
	}
	str := func(s string) json.RawMessage { b, _ := json.Marshal(s); return b }
	cfg := c.b.cfg
	m["database_directory"] = str(filepath.Join(c.dir, "db"))
	m["files_directory"] = str(filepath.Join(c.dir, "files"))
	m["database_encryption_key"] = str(base64.StdEncoding.EncodeToString(c.sess.Key))
	m["api_id"] = json.RawMessage(strconv.FormatInt(cfg.APIID, 10))
	m["api_hash"] = str(cfg.APIHash.Reveal())
	m["use_test_dc"] = json.RawMessage(strconv.FormatBool(cfg.UseTestDC))
	for k, v := range map[string]string{"system_language_code": "en", "device_model": "XMPP gateway", "application_version": "1.0"} {
		if s, ok := m[k]; !ok || string(s) == `""` || string(s) == "null" {
			m[k] = str(v)
		}
	}
	return json.Marshal(m)
}

// Updates delivers TDLib's answers and updates for this session, without "@client_id".
func (c *client) Updates() <-chan []byte { return c.out.C() }

// Close closes the TDLib client (the session stays logged in) and waits for TDLib to let go
// of its database.
func (c *client) Close() error {
	c.mu.Lock()
	already := c.closing
	c.closing = true
	if !already && !c.isGone() {
		tdSend(c.id, []byte(`{"@type":"close","@extra":`+closeExtra+`}`))
	}
	c.mu.Unlock()
	var err error
	select {
	case <-c.gone:
	case <-time.After(CloseTimeout):
		err = fmt.Errorf("tdlib: client of %s did not close in %s", c.sess.User, CloseTimeout)
		c.log.Warn("tdlib: close timed out")
	}
	c.out.Abort()
	c.detach()
	return err
}

func (c *client) detach() {
	hub.remove(c.id, c)
	c.b.mu.Lock()
	if c.b.clients[c.dir] == c {
		delete(c.b.clients, c.dir)
	}
	c.b.mu.Unlock()
}

// closeExtra marks the answer to Close's own "close" request, which the consumer never sees.
const closeExtra = `"xmppgw-bridge-close"`

// deliver takes one message of this client from the receiver.
func (c *client) deliver(msg []byte) {
	if !bytes.Contains(msg, []byte(`"@extra":`+closeExtra)) {
		c.out.Push(msg)
	}
	if bytes.HasPrefix(msg, []byte(`{"@type":"updateAuthorizationState"`)) &&
		bytes.Contains(msg, []byte(`"authorizationStateClosed"`)) {
		c.goneOnce.Do(func() {
			close(c.gone)
			c.out.Finish()
		})
		c.log.Debug("tdlib: client closed", "client_id", c.id)
		c.detach() // the session may open a new client (after logOut, to log in again)
	}
}

// hub is the process's one receiver: td_receive serves every TDLib client of the process.
var hub = &receiver{clients: map[int]*client{}}

type receiver struct {
	once    sync.Once
	err     error
	mu      sync.Mutex
	clients map[int]*client
}

func (r *receiver) start() error {
	r.once.Do(func() {
		ready := make(chan error)
		pprof.Do(context.Background(), pprof.Labels("bridge", "tdlib"), func(context.Context) { go r.run(ready) })
		r.err = <-ready
	})
	return r.err
}

func (r *receiver) add(c *client) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	id := tdCreateClientID()
	r.clients[id] = c
	return id
}

func (r *receiver) remove(id int, c *client) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.clients[id] == c {
		delete(r.clients, id)
	}
}

func (r *receiver) run(ready chan<- error) {
	runtime.LockOSThread() // td_receive's buffer belongs to this thread
	res := tdExecute([]byte(`{"@type":"setLogVerbosityLevel","new_verbosity_level":` + strconv.Itoa(LogVerbosity) + `}`))
	if !bytes.Contains(res, []byte(`"ok"`)) {
		ready <- fmt.Errorf("tdlib: libtdjson did not accept setLogVerbosityLevel: %s", res)
		return
	}
	ready <- nil
	for {
		msg := tdReceive(1)
		if msg == nil {
			continue
		}
		id, body, ok := clientID(msg)
		if !ok {
			continue // a message for no client (TDLib's own log events)
		}
		r.mu.Lock()
		c := r.clients[id]
		r.mu.Unlock()
		if c != nil {
			c.deliver(body)
		}
	}
}

var clientIDKey = []byte(`,"@client_id":`)

// clientID finds the "@client_id" TDLib puts last in every message, and removes it.
func clientID(msg []byte) (int, []byte, bool) {
	if i := bytes.LastIndex(msg, clientIDKey); i > 0 && msg[len(msg)-1] == '}' {
		if id, err := strconv.Atoi(string(msg[i+len(clientIDKey) : len(msg)-1])); err == nil {
			out := append(msg[:i:i], '}')
			return id, out, true
		}
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(msg, &m) != nil {
		return 0, nil, false
	}
	raw, ok := m["@client_id"]
	if !ok {
		return 0, nil, false
	}
	id, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, nil, false
	}
	delete(m, "@client_id")
	out, err := json.Marshal(m)
	if err != nil {
		return 0, nil, false
	}
	return id, out, true
}
