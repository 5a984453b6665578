// Package prosodytest runs a real Prosody XMPP server for integration tests.
//
// Each Server gets its own temporary folder, free loopback ports, a generated
// configuration, a self-signed certificate and pre-registered users. The
// server runs as a child process of the test binary and is stopped by
// t.Cleanup (and killed by the kernel if the test binary dies, on Linux).
//
// Prosody 0.12 and prosody-modules must be installed (`make deps`); tests
// using this package fail, they never skip, when it is missing.
package prosodytest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const (
	// readyTimeout bounds how long Start waits for the ports to accept.
	readyTimeout = 15 * time.Second
	// portFreeTimeout bounds how long Start waits for ports of a previous run.
	portFreeTimeout = 10 * time.Second
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 5 * time.Second
)

// Component is an XEP-0114 external component configured on the server.
type Component struct {
	// JID is the component's domain, e.g. "telegram.localhost".
	JID string
	// Secret is the handshake secret. Start fills in a random one if empty.
	Secret string
	// Privileged grants the component XEP-0356 privileges on the
	// VirtualHost: roster = "both", message = "outgoing".
	Privileged bool
}

// Options configures Start. The zero value is a usable default.
type Options struct {
	// Domain is the VirtualHost. Default "localhost".
	Domain string
	// Components are the external components. If nil, one privileged
	// component "telegram.<Domain>" with a random secret is configured; a
	// non-nil empty slice configures none.
	Components []Component
	// Users maps local parts to passwords of accounts registered before the
	// server starts. If nil, {"alice": "alice", "bob": "bob"}; a non-nil
	// empty map registers none.
	Users map[string]string
	// Upload adds an XEP-0363 http_file_share component "upload.<Domain>"
	// served over plain HTTP on HTTPAddr.
	Upload bool
	// Debug makes Prosody log at debug level (every stanza) instead of info.
	Debug bool
}

// Server is a running (or stopped) Prosody instance owned by one test.
//
// Its methods report failures with t.Fatal on the testing.TB passed to Start,
// so call them from the test's goroutine.
type Server struct {
	// Dir is the server's folder: config, certs, data, prosody.log.
	Dir string
	// Domain is the VirtualHost, e.g. "localhost".
	Domain string
	// C2SAddr is the client-to-server listener, "127.0.0.1:port"
	// (plain TCP with STARTTLS offered, not required).
	C2SAddr string
	// ComponentAddr is the XEP-0114 component listener, "127.0.0.1:port".
	ComponentAddr string
	// HTTPAddr is the plain HTTP listener, "127.0.0.1:port". Prosody only
	// opens it when an HTTP module is loaded (Options.Upload).
	HTTPAddr string
	// UploadJID is the http_file_share component, "upload.<Domain>", or
	// empty when Options.Upload was false.
	UploadJID string
	// Components are the configured components with their secrets filled in.
	Components []Component
	// Users are the accounts registered by Start (local part -> password).
	Users map[string]string

	t     testing.TB
	debug bool
	env   []string
	bin   string // prosody
	ctl   string // prosodyctl

	mu      sync.Mutex
	cmd     *exec.Cmd
	done    chan struct{} // closed when the running child has exited
	waitErr error         // set before done is closed
}

// Start creates a fresh server in a new temporary folder with free loopback
// ports, writes its config and certificate, registers o.Users, starts
// Prosody and waits until the c2s and component ports (and the HTTP port
// with o.Upload) accept connections. t.Cleanup stops it. Any failure is
// fatal and includes the tail of prosody.log.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin, err := exec.LookPath("prosody")
	if err != nil {
		t.Fatal("prosody not installed: run `make deps`")
	}
	ctl, err := exec.LookPath("prosodyctl")
	if err != nil {
		t.Fatal("prosody not installed: run `make deps`")
	}

	s := &Server{
		Dir:    t.TempDir(),
		Domain: o.Domain,
		Users:  o.Users,
		t:      t,
		debug:  o.Debug,
		bin:    bin,
		ctl:    ctl,
	}
	if s.Domain == "" {
		s.Domain = "localhost"
	}
	if s.Users == nil {
		s.Users = map[string]string{"alice": "alice", "bob": "bob"}
	}
	if o.Components == nil {
		s.Components = []Component{{JID: "telegram." + s.Domain, Privileged: true}}
	} else {
		s.Components = append([]Component(nil), o.Components...)
	}
	for i := range s.Components {
		if s.Components[i].Secret == "" {
			s.Components[i].Secret = randomSecret()
		}
	}
	if o.Upload {
		s.UploadJID = "upload." + s.Domain
	}

	ports, err := freePorts(3)
	if err != nil {
		t.Fatalf("prosodytest: %v", err)
	}
	s.C2SAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[0]))
	s.ComponentAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[1]))
	s.HTTPAddr = net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[2]))
	s.env = append(os.Environ(),
		"GW_XMPP_DIR="+s.Dir,
		"GW_C2S_PORT="+strconv.Itoa(ports[0]),
		"GW_COMPONENT_PORT="+strconv.Itoa(ports[1]),
		"GW_HTTP_PORT="+strconv.Itoa(ports[2]),
	)

	if err := s.writeFiles(); err != nil {
		t.Fatalf("prosodytest: %v", err)
	}
	for user, pass := range s.Users {
		s.Register(user, pass)
	}
	t.Cleanup(s.Stop)
	s.Start()
	return s
}

// writeFiles writes the config, the certificate and the data folder.
func (s *Server) writeFiles() error {
	pair, err := certFor(s.Domain)
	if err != nil {
		return err
	}
	certs := filepath.Join(s.Dir, "certs")
	for _, d := range []string{certs, filepath.Join(s.Dir, "data")} {
		if err := os.MkdirAll(d, 0o750); err != nil {
			return err
		}
	}
	files := []struct {
		name string
		data []byte
	}{
		{filepath.Join(certs, s.Domain+".crt"), pair.cert},
		{filepath.Join(certs, s.Domain+".key"), pair.key},
		{s.ConfigPath(), []byte(s.renderConfig())},
	}
	for _, f := range files {
		if err := os.WriteFile(f.name, f.data, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// ConfigPath returns the path of the generated prosody.cfg.lua. Commands run
// against it need the server's environment (GW_XMPP_DIR and the ports).
func (s *Server) ConfigPath() string {
	return filepath.Join(s.Dir, "prosody.cfg.lua")
}

// Env returns the environment Prosody and prosodyctl are run with: the test
// binary's environment plus GW_XMPP_DIR, GW_C2S_PORT, GW_COMPONENT_PORT and
// GW_HTTP_PORT, which the config reads.
func (s *Server) Env() []string {
	return append([]string(nil), s.env...)
}

// Register creates the account user@Domain with password using prosodyctl,
// or changes its password if it exists. It works whether the server is
// running or not.
func (s *Server) Register(user, password string) {
	s.t.Helper()
	cmd := exec.Command(s.ctl, "--config", s.ConfigPath(), "register", user, s.Domain, password)
	cmd.Env = s.env
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		s.t.Fatalf("prosodytest: prosodyctl register %s@%s: %v\n%s", user, s.Domain, err, out)
	}
}

// Start starts Prosody again with the same ports, folder and data after Stop,
// waiting first until the previous run's ports are free and then until the
// new run accepts connections. It does nothing if the server is running.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	running := false
	if s.cmd != nil {
		select {
		case <-s.done: // exited on its own; start it again
			s.cmd, s.done = nil, nil
		default:
			running = true
		}
	}
	s.mu.Unlock()
	if running {
		return
	}

	addrs := s.addrs()
	if err := waitPortsFree(addrs, portFreeTimeout); err != nil {
		s.t.Fatalf("prosodytest: %v", err)
	}

	begin := time.Now()
	done, err := s.spawn()
	if err != nil {
		s.t.Fatalf("prosodytest: start prosody: %v", err)
	}
	if err := waitReady(addrs, done, readyTimeout); err != nil {
		s.mu.Lock()
		werr := s.waitErr
		s.mu.Unlock()
		s.Stop()
		if werr != nil {
			err = fmt.Errorf("%w (prosody: %v)", err, werr)
		}
		s.t.Fatalf("prosodytest: %v\n%s", err, s.logTail(40))
	}
	s.t.Logf("prosodytest: prosody ready in %v (c2s %s, component %s, dir %s)",
		time.Since(begin).Round(time.Millisecond), s.C2SAddr, s.ComponentAddr, s.Dir)
}

// addrs returns the addresses that must accept connections when ready.
func (s *Server) addrs() []string {
	a := []string{s.C2SAddr, s.ComponentAddr}
	if s.UploadJID != "" {
		a = append(a, s.HTTPAddr)
	}
	return a
}

// spawn starts the child. It is started and waited for by one goroutine
// locked to its OS thread, because Linux delivers Pdeathsig when the thread
// that forked the child exits, not the process; the locked thread lives until
// the child has exited.
func (s *Server) spawn() (chan struct{}, error) {
	stderr, err := os.OpenFile(filepath.Join(s.Dir, "prosody.stderr"),
		os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(s.bin, "-F", "--config", s.ConfigPath())
	cmd.Env = s.env
	cmd.Dir = s.Dir
	cmd.Stdout = stderr
	cmd.Stderr = stderr
	cmd.SysProcAttr = sysProcAttr()

	done := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer stderr.Close()
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		s.mu.Lock()
		s.cmd, s.done, s.waitErr = cmd, done, nil
		s.mu.Unlock()
		started <- nil
		err := cmd.Wait()
		s.mu.Lock()
		s.waitErr = err
		if err == nil {
			s.waitErr = errors.New("exited")
		}
		s.mu.Unlock()
		close(done)
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	return done, nil
}

// Stop sends SIGTERM to Prosody's process group and waits for it to exit,
// sending SIGKILL after a few seconds. It is idempotent and is registered
// with t.Cleanup by Start.
func (s *Server) Stop() {
	s.mu.Lock()
	cmd, done := s.cmd, s.done
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	pid := cmd.Process.Pid
	_ = killGroup(pid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(stopTimeout):
		_ = killGroup(pid, syscall.SIGKILL)
		<-done
	}
	s.mu.Lock()
	if s.cmd == cmd {
		s.cmd, s.done = nil, nil
	}
	s.mu.Unlock()
}

// Restart stops and starts the server, keeping ports, folder and data.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	s.Start()
}

// Log returns the content of prosody.log (and of the child's stderr, if it
// wrote any), for failure messages.
func (s *Server) Log() string {
	b, err := os.ReadFile(filepath.Join(s.Dir, "prosody.log"))
	if err != nil {
		b = []byte(fmt.Sprintf("(no prosody.log: %v)\n", err))
	}
	if e, _ := os.ReadFile(filepath.Join(s.Dir, "prosody.stderr")); len(strings.TrimSpace(string(e))) > 0 {
		b = append(b, "--- stdout/stderr ---\n"...)
		b = append(b, e...)
	}
	return string(b)
}

// logTail returns the last n lines of Log.
func (s *Server) logTail(n int) string {
	lines := strings.Split(strings.TrimRight(s.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{"..."}, lines[len(lines)-n:]...)
	}
	return "--- prosody.log (tail) ---\n" + strings.Join(lines, "\n")
}

// randomSecret returns 32 hex characters.
func randomSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// freePorts returns n distinct free TCP ports on 127.0.0.1. The listeners
// are closed before returning, so another process may take a port before
// Prosody does; that race is accepted.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// waitPortsFree waits until every addr can be listened on.
func waitPortsFree(addrs []string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, a := range addrs {
		for {
			l, err := net.Listen("tcp", a)
			if err == nil {
				l.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("port %s still in use after %v: %v", a, timeout, err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nil
}

// waitReady waits until every addr accepts a TCP connection, the child exits
// (done is closed) or timeout passes.
func waitReady(addrs []string, done <-chan struct{}, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for _, a := range addrs {
		for {
			select {
			case <-done:
				return errors.New("prosody exited before it was ready")
			default:
			}
			c, err := net.DialTimeout("tcp", a, 200*time.Millisecond)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s not accepting after %v: %v", a, timeout, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	return nil
}
