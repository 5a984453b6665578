package files

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/xmpp"
)

const alice = "alice@example.org"

func openStore(t *testing.T, o Options) *Store {
	t.Helper()
	if o.Dir == "" {
		o.Dir = filepath.Join(t.TempDir(), "files")
	}
	s, err := Open(o)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreHandles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "files")
	if err := os.MkdirAll(filepath.Join(dir, "u-old"), 0o700); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, Options{Dir: dir, MaxHandles: 3, MaxBytes: 100})
	if _, err := os.Stat(filepath.Join(dir, "u-old")); !os.IsNotExist(err) {
		t.Errorf("Open left a previous run's files: %v", err)
	}

	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 12)...)
	f, err := s.Create(alice, bytes.NewReader(png), Meta{Name: "../../etc/a.png"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if f.Size != 20 || f.Type != "image/png" || f.Name != "a.png" || !strings.HasPrefix(f.Handle, "f-") {
		t.Errorf("created %+v", f)
	}
	if p, ok := s.Path(alice, f.Handle); !ok || p != f.Path || !strings.HasPrefix(p, dir) {
		t.Errorf("path %q %v", p, ok)
	}
	if b, _ := os.ReadFile(f.Path); !bytes.Equal(b, png) {
		t.Errorf("content %q", b)
	}
	if _, ok := s.Path("bob@example.org", f.Handle); ok {
		t.Error("another user resolves alice's handle")
	}
	if got := f.ABI(); got != (abi.File{Handle: f.Handle, Size: 20, Type: "image/png", Name: "a.png"}) {
		t.Errorf("ABI %+v", got)
	}
	if id, ok := ParseHandleRef("handle:" + f.Handle); !ok || id != f.Handle {
		t.Errorf("ParseHandleRef %q %v", id, ok)
	}

	// The host's reference outlives the plugin's release.
	ref, err := s.Acquire(alice, f.Handle)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Release(alice, f.Handle); err != nil {
		t.Fatal(err)
	}
	if err := s.Release(alice, f.Handle); !errors.Is(err, ErrNotFound) || Code(err) != abi.CodeNotFound {
		t.Errorf("second release: %v", err)
	}
	if _, err := os.Stat(ref.Path); err != nil {
		t.Errorf("file gone while referenced: %v", err)
	}
	if n, b := s.Usage(alice); n != 0 || b != 20 {
		t.Errorf("usage %d %d", n, b)
	}
	ref.Release()
	ref.Release()
	if _, err := os.Stat(ref.Path); !os.IsNotExist(err) {
		t.Errorf("file left after the last reference: %v", err)
	}
	if n, b := s.Usage(alice); n != 0 || b != 0 {
		t.Errorf("usage %d %d", n, b)
	}

	// Size cap, byte quota, handle quota.
	if _, err := s.Create(alice, strings.NewReader(strings.Repeat("x", 11)), Meta{}, 10); !errors.Is(err, ErrTooLarge) || Code(err) != abi.CodeQuota {
		t.Errorf("over the cap: %v", err)
	}
	if _, err := s.Create(alice, strings.NewReader(strings.Repeat("x", 101)), Meta{}, 0); !errors.Is(err, ErrQuota) {
		t.Errorf("over the quota: %v", err)
	}
	var last File
	for i := range 3 {
		if last, err = s.Create(alice, strings.NewReader("hello"), Meta{Type: "text/plain"}, 0); err != nil {
			t.Fatalf("file %d: %v", i, err)
		}
	}
	if _, err := s.Room(alice); !errors.Is(err, ErrQuota) {
		t.Errorf("a 4th handle: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(last.Path))
	if len(entries) != 3 {
		t.Errorf("%d files on disk, want 3 (failed creations must leave nothing)", len(entries))
	}

	// Import copies a local file.
	if err := s.Release(alice, last.Handle); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(t.TempDir(), "notes.txt")
	_ = os.WriteFile(src, []byte("some notes"), 0o600)
	imp, err := s.Import(alice, src, Meta{})
	if err != nil || imp.Name != "notes.txt" || imp.Size != 10 || !strings.HasPrefix(imp.Type, "text/plain") {
		t.Errorf("import %+v %v", imp, err)
	}

	// Wipe removes everything of the user, and an old reference stays harmless.
	ref, _ = s.Acquire(alice, imp.Handle)
	if err := s.Wipe(alice); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Dir(imp.Path)); !os.IsNotExist(err) {
		t.Errorf("user folder left: %v", err)
	}
	if _, ok := s.Path(alice, imp.Handle); ok {
		t.Error("handle resolves after wipe")
	}
	g, err := s.Create(alice, strings.NewReader("again"), Meta{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	ref.Release()
	if n, b := s.Usage(alice); n != 1 || b != 5 {
		t.Errorf("usage after wipe and a stale release: %d %d", n, b)
	}
	if _, ok := s.Path(alice, g.Handle); !ok {
		t.Error("new handle lost")
	}
}

func TestNonPublic(t *testing.T) {
	for addr, public := range map[string]bool{
		"8.8.8.8": true, "2a00:1450:4007:80e::200e": true, "93.184.216.34": true,
		"127.0.0.1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "100.64.0.1": false, "0.0.0.0": false, "::1": false, "::": false,
		"fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "64:ff9b::10.0.0.1": false,
		"2002:c0a8:0101::1": false, "224.0.0.1": false, "255.255.255.255": false, "198.18.0.1": false,
	} {
		if got := nonPublic(netip.MustParseAddr(addr)) == ""; got != public {
			t.Errorf("%s: public %v, want %v", addr, got, public)
		}
	}
}

// serve starts an HTTP server on loopback.
func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestFetch(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 200) // 2000 bytes
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/plain/report.pdf":
			w.Header().Set("Content-Type", "application/octet-stream")
			_, _ = w.Write([]byte("%PDF-1.4 a small pdf"))
		case "/named":
			w.Header().Set("Content-Disposition", `attachment; filename="holiday.txt"`)
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte("sun"))
		case "/big":
			_, _ = w.Write(body)
		case "/chunked":
			w.(http.Flusher).Flush() // no Content-Length
			for range 20 {
				_, _ = w.Write(body[:100])
				w.(http.Flusher).Flush()
			}
		case "/missing":
			http.NotFound(w, r)
		case "/redirect":
			http.Redirect(w, r, "/named", http.StatusFound)
		}
	})
	st := openStore(t, Options{})
	f := NewFetcher(FetchOptions{AllowPrivate: true})
	ctx := context.Background()

	got, err := f.Fetch(ctx, st, alice, srv.URL+"/plain/report.pdf", 1000)
	if err != nil || got.Type != "application/pdf" || got.Name != "report.pdf" || got.Size != 20 {
		t.Errorf("sniffed: %+v %v", got, err)
	}
	got, err = f.Fetch(ctx, st, alice, srv.URL+"/redirect", 1000)
	if err != nil || got.Type != "text/plain; charset=utf-8" || got.Name != "holiday.txt" || got.Size != 3 {
		t.Errorf("named, redirected: %+v %v", got, err)
	}
	if got, err = f.Fetch(ctx, st, alice, srv.URL+"/big", 2000); err != nil || got.Size != 2000 {
		t.Errorf("at the cap: %+v %v", got, err)
	}
	for _, p := range []string{"/big", "/chunked"} {
		_, err := f.Fetch(ctx, st, alice, srv.URL+p, 1999)
		if !errors.Is(err, ErrTooLarge) || ABIError(err).Code != abi.CodeQuota {
			t.Errorf("%s over the cap: %v", p, err)
		}
	}
	if _, err := f.Fetch(ctx, st, alice, srv.URL+"/missing", 0); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "404") {
		t.Errorf("404: %v", err)
	}
	for _, u := range []string{"ftp://example.org/a", "file:///etc/passwd", "http:///nohost", "%zz"} {
		if _, err := f.Fetch(ctx, st, alice, u, 0); !errors.Is(err, ErrBadURL) || Code(err) != abi.CodeBadRequest {
			t.Errorf("%s: %v", u, err)
		}
	}
	if n, _ := st.Usage(alice); n != 3 {
		t.Errorf("%d handles, want 3 (failed fetches keep nothing)", n)
	}
}

func TestFetchRefusesPrivateAddresses(t *testing.T) {
	var hits atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.URL.Path == "/away" {
			http.Redirect(w, r, "http://127.0.0.1:1/x", http.StatusFound)
			return
		}
		_, _ = w.Write([]byte("secret"))
	})
	st := openStore(t, Options{})
	f := NewFetcher(FetchOptions{})
	ctx := context.Background()

	// Addresses and loopback names in the URL are refused at once.
	for _, u := range []string{srv.URL, "http://10.0.0.5/a", "http://[::1]:8080/", "http://169.254.169.254/latest/meta-data",
		"http://[::ffff:7f00:1]/", "http://localhost:1234/", "http://a.localhost/"} {
		_, err := f.CheckURL(u)
		if !errors.Is(err, ErrForbidden) || Code(err) != abi.CodeForbidden {
			t.Errorf("%s: %v", u, err)
		}
	}
	if _, err := f.CheckURL("https://upload.example.org/a.png"); err != nil {
		t.Errorf("public name: %v", err)
	}

	// A public-looking name whose address turns out to be loopback (DNS answer, rebinding) is
	// refused when dialled: the transport sends every dial of the name to the test server.
	f.transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		return f.dialer.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	_, err := f.Fetch(ctx, st, alice, "http://rebind.example/a", 0)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "127.0.0.1 is a loopback address") {
		t.Errorf("rebinding: %v", err)
	}
	if n := hits.Load(); n != 0 {
		t.Errorf("the private server was reached %d times", n)
	}

	// Allowed (tests, demos): the same fetch works, but a redirect is still checked like a URL.
	f.SetAllowPrivate(true)
	if got, err := f.Fetch(ctx, st, alice, "http://rebind.example/a", 0); err != nil || got.Size != 6 {
		t.Errorf("allowed: %+v %v", got, err)
	}
	f.SetAllowPrivate(false)
	f.transport.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
		// As if public: skip the check for the first hop only.
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	_, err = f.Fetch(ctx, st, alice, "http://public.example/away", 0)
	if !errors.Is(err, ErrForbidden) || !strings.Contains(err.Error(), "127.0.0.1") {
		t.Errorf("redirect to loopback: %v", err)
	}
}

func TestFetchTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		_, _ = w.Write([]byte("a start"))
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	st := openStore(t, Options{})
	f := NewFetcher(FetchOptions{AllowPrivate: true, Timeout: 300 * time.Millisecond})
	start := time.Now()
	_, err := f.Fetch(context.Background(), st, alice, srv.URL+"/slow", 0)
	if !errors.Is(err, ErrUnavailable) || Code(err) != abi.CodeUnavailable || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("slow body: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %s", d)
	}
	if n, b := st.Usage(alice); n != 0 || b != 0 {
		t.Errorf("usage %d %d after a timeout", n, b)
	}
	entries, _ := os.ReadDir(st.userDir(alice))
	if len(entries) != 0 {
		t.Errorf("partial file left: %v", entries)
	}
}

// clientIQ sends the Uploader's IQs through a real client's stream.
func clientIQ(c *prosodytest.Client) IQFunc {
	return func(ctx context.Context, iq *xmpp.Element) (*xmpp.Element, error) {
		return c.IQ(ctx, iq.Get("type"), iq.Get("to"), iq.Children[0])
	}
}

func TestUploadToProsody(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{Upload: true})
	c := srv.NewClient(t, "alice")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	up := &Uploader{IQ: clientIQ(c)}

	svc, err := up.Discover(ctx, srv.Domain)
	if err != nil || svc.JID != srv.UploadJID || svc.MaxSize != 10<<20 {
		t.Fatalf("discover: %+v %v", svc, err)
	}
	if _, err := up.Discover(ctx, "nowhere.invalid"); err == nil {
		t.Error("a domain that does not exist has an upload service")
	}

	st := openStore(t, Options{})
	content := bytes.Repeat([]byte("xmppgw upload "), 1000)
	f, err := st.Create("alice@"+srv.Domain, bytes.NewReader(content), Meta{Name: "notes 1.txt", Type: "text/plain"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	get, err := up.Upload(ctx, srv.Domain, f)
	if err != nil {
		t.Fatalf("upload: %v", err)
	}
	if !strings.HasPrefix(get, "http://"+srv.Domain+":") || !strings.HasSuffix(get, "/notes%201.txt") {
		t.Errorf("GET URL %q", get)
	}
	resp, err := http.Get(get)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(b, content) {
		t.Errorf("GET back: %s, %d bytes", resp.Status, len(b))
	}

	// A fetch of the uploaded file (loopback: allowed here) gives the same bytes.
	fe := NewFetcher(FetchOptions{AllowPrivate: true})
	back, err := fe.Fetch(ctx, st, "alice@"+srv.Domain, get, 0)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(back.Path); !bytes.Equal(b, content) || back.Name != "notes 1.txt" {
		t.Errorf("fetched back %+v", back)
	}

	// Over the service's max-file-size: refused before asking for a slot.
	big := f
	big.Size = svc.MaxSize + 1
	if _, err := up.Upload(ctx, srv.Domain, big); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	// A slot request the service refuses is an error with the server's reason.
	if _, err := up.RequestSlot(ctx, svc, "a/b", 3, "text/plain"); err == nil {
		t.Error("slot for a name with a slash")
	} else {
		t.Logf("refused slot: %v", err)
	}
}

// A server without an upload service: the absence is reported and remembered.
func TestUploadNoService(t *testing.T) {
	asked := 0
	up := &Uploader{From: "gw.example.org", IQ: func(ctx context.Context, iq *xmpp.Element) (*xmpp.Element, error) {
		asked++
		q := iq.Children[0]
		r := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "result")
		switch {
		case q.Name.Local == "query" && strings.HasSuffix(q.Name.Space, "#items"):
			r.Add(xmpp.Elem(q.Name.Space, "query").Add(
				xmpp.Elem(q.Name.Space, "item", "jid", "gw.example.org"),
				xmpp.Elem(q.Name.Space, "item", "jid", "muc.example.org")))
		case iq.Get("to") == "gw.example.org":
			return nil, fmt.Errorf("asked itself")
		case iq.Get("to") == "muc.example.org":
			r.Set("type", "error")
		default:
			r.Add(xmpp.Elem(q.Name.Space, "query").Add(xmpp.Elem(q.Name.Space, "feature", "var", "urn:xmpp:ping")))
		}
		return r, nil
	}}
	ctx := context.Background()
	for range 2 {
		_, err := up.Discover(ctx, "example.org")
		if !errors.Is(err, ErrNoUploadService) || Code(err) != abi.CodeUnavailable || !strings.Contains(err.Error(), "example.org") {
			t.Fatalf("discover: %v", err)
		}
	}
	if asked != 3 { // items, muc, the domain; then cached
		t.Errorf("%d IQs, want 3", asked)
	}
}
