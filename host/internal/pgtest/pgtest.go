// Package pgtest starts a private PostgreSQL server on loopback for tests,
// from the distribution's binaries (Debian: /usr/lib/postgresql/15/bin).
//
// One server is started per test binary, on first use, and shared: every
// Start call gets a fresh, empty database on it. Packages that use Start
// should stop the server at exit from TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
// Without that, a watchdog process still stops the server and removes its
// files shortly after the test binary exits, however it exits.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" database/sql driver
)

// binDirs are searched, in order, for the PostgreSQL server binaries.
var binDirs = []string{"/usr/lib/postgresql/15/bin"}

// skipMsg is the only reason a test is skipped rather than failed.
const skipMsg = "PostgreSQL not installed (make deps installs it)"

// server is the shared PostgreSQL instance of this test binary.
type server struct {
	bin     string    // directory of initdb, pg_ctl
	dir     string    // temporary directory: data/, log, unix socket
	port    int       // TCP port on 127.0.0.1
	asUser  string    // "postgres" when running as root, else ""
	dsn     string    // DSN of the maintenance database "postgres"
	watch   *exec.Cmd // watchdog that cleans up if the test binary dies
	started bool
}

var (
	once   sync.Once
	mu     sync.Mutex // guards shared and startErr after once
	shared *server
	// startErr is the failure of the shared start, with the server log.
	startErr error
	// notInstalled is set when no PostgreSQL binaries were found.
	notInstalled bool
)

// Start returns a DSN (postgres://gw@127.0.0.1:PORT/t_xxx?sslmode=disable)
// to a new empty database on the shared test server, starting the server on
// first use. The database is dropped when t finishes. It skips t when the
// PostgreSQL binaries are not installed and fails t, with the server log,
// on any other problem.
func Start(t testing.TB) (dsn string) {
	t.Helper()
	once.Do(func() {
		bin := findBin()
		if bin == "" {
			notInstalled = true
			return
		}
		s, err := start(bin)
		mu.Lock()
		shared, startErr = s, err
		mu.Unlock()
	})
	if notInstalled {
		t.Skip(skipMsg)
	}
	mu.Lock()
	s, err := shared, startErr
	mu.Unlock()
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	if s == nil || !s.isStarted() {
		t.Fatal("pgtest: server already stopped (Start called after Main finished)")
	}

	name := "t_" + randomHex(8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.admin(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v%s", err, s.logTail())
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		// FORCE: connections a test leaked must not fail the drop.
		if err := s.admin(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database: %v%s", err, s.logTail())
		}
	})
	return fmt.Sprintf("postgres://gw@127.0.0.1:%d/%s?sslmode=disable", s.port, name)
}

// Main runs the tests of m, stops the shared server (if one was started)
// and exits with the tests' status. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if err := Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "pgtest:", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Stop stops the shared server and removes its files; Main calls it. It is
// a no-op when no server was started. Start fails afterwards.
func Stop() error {
	mu.Lock()
	s := shared
	if s == nil || !s.started {
		mu.Unlock()
		return nil
	}
	s.started = false
	mu.Unlock()
	return s.stop()
}

func (s *server) isStarted() bool {
	mu.Lock()
	defer mu.Unlock()
	return s.started
}

func findBin() string {
	for _, d := range binDirs {
		if fileExists(filepath.Join(d, "initdb")) && fileExists(filepath.Join(d, "pg_ctl")) {
			return d
		}
	}
	return ""
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func start(bin string) (*server, error) {
	s := &server{bin: bin}
	if os.Geteuid() == 0 {
		// initdb refuses to run as root: run the server as "postgres".
		s.asUser = "postgres"
	}
	// Not t.TempDir: the directory must be handed over to postgres and
	// outlive the first test. Under /tmp, short enough for the unix socket
	// path and traversable by the postgres user.
	base := os.TempDir()
	if s.asUser != "" {
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("temp dir: %w", err)
	}
	s.dir = dir
	fail := func(err error) (*server, error) {
		log := s.logTail()
		if stopErr := s.stop(); stopErr != nil {
			err = errors.Join(err, stopErr)
		}
		return nil, fmt.Errorf("%w%s", err, log)
	}
	if s.asUser != "" {
		u, err := user.Lookup(s.asUser)
		if err != nil {
			return fail(fmt.Errorf("user %s: %w", s.asUser, err))
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return fail(fmt.Errorf("chown %s: %w", dir, err))
		}
	}
	s.startWatchdog()

	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-A", "trust", "-U", "gw",
		"-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"); err != nil {
		return fail(fmt.Errorf("initdb: %w\n%s", err, out))
	}
	// A free port can be taken by someone else before the server binds it:
	// try a few.
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			return fail(err)
		}
		opts := fmt.Sprintf("-k %s -p %d -h 127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200", dir, port)
		out, err := s.run("pg_ctl", "-D", data, "-o", opts, "-l", filepath.Join(dir, "log"), "-w", "-t", "60", "start")
		if err != nil {
			lastErr = fmt.Errorf("pg_ctl start (port %d): %w\n%s", port, err, out)
			continue
		}
		mu.Lock()
		s.port, s.started = port, true
		mu.Unlock()
		s.dsn = fmt.Sprintf("postgres://gw@127.0.0.1:%d/postgres?sslmode=disable", port)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := s.admin(ctx, "SELECT 1"); err != nil {
			return fail(fmt.Errorf("connect: %w", err))
		}
		return s, nil
	}
	return fail(lastErr)
}

// command builds the command for PostgreSQL binary name, run as the
// postgres user when the test runs as root.
func (s *server) command(name string, args ...string) *exec.Cmd {
	path := filepath.Join(s.bin, name)
	var cmd *exec.Cmd
	if s.asUser != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.asUser, "--", path}, args...)...)
	} else {
		cmd = exec.Command(path, args...)
	}
	// The postgres user may not be able to enter the test's directory.
	cmd.Dir = s.dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	return cmd
}

func (s *server) run(name string, args ...string) ([]byte, error) {
	cmd := s.command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.Bytes(), err
}

// startWatchdog starts a detached shell that waits for this process to
// exit, then stops the server and removes its directory. It covers test
// binaries that never reach Main's cleanup (no TestMain, a -timeout panic,
// a kill). Its output goes to /dev/null so that go test does not wait for it.
func (s *server) startWatchdog() {
	stop := s.command("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
	script := `p=$1; d=$2; shift 2
while kill -0 "$p" 2>/dev/null; do sleep 1; done
"$@" >/dev/null 2>&1
rm -rf "$d"`
	args := append([]string{"-c", script, "pgtest-watchdog", strconv.Itoa(os.Getpid()), s.dir}, stop.Args...)
	cmd := exec.Command("/bin/sh", args...)
	cmd.Dir = "/"
	cmd.SysProcAttr = detached()
	if err := cmd.Start(); err == nil {
		s.watch = cmd
	}
}

// stop stops the server (if running), removes its directory and ends the
// watchdog. When the server cannot be stopped, the watchdog is left to try
// again after the test binary exits.
func (s *server) stop() error {
	if s.dir == "" {
		return nil
	}
	data := filepath.Join(s.dir, "data")
	if fileExists(filepath.Join(data, "postmaster.pid")) {
		if out, err := s.run("pg_ctl", "-D", data, "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
			return fmt.Errorf("pg_ctl stop: %w\n%s", err, out)
		}
	}
	err := os.RemoveAll(s.dir)
	if s.watch != nil {
		s.watch.Process.Kill()
		s.watch.Wait()
		s.watch = nil
	}
	return err
}

// admin runs a statement on the maintenance database.
func (s *server) admin(ctx context.Context, q string) error {
	db, err := sql.Open("pgx", s.dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, q)
	return err
}

// logTail returns the end of the server log, to append to failures.
func (s *server) logTail() string {
	if s.dir == "" {
		return ""
	}
	b, err := os.ReadFile(filepath.Join(s.dir, "log"))
	if err != nil || len(b) == 0 {
		return ""
	}
	const max = 8 << 10
	if len(b) > max {
		b = b[len(b)-max:]
	}
	return "\n--- postgres log ---\n" + strings.TrimRight(string(b), "\n")
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
