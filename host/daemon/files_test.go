package daemon_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/host/internal/prosodytest"
	"github.com/xmppgw/gateway/host/xmpp"
)

const (
	nsUpload = "urn:xmpp:http:upload:0"
	nsOOB    = "jabber:x:oob"
)

// clientUpload uploads content the way a client does (XEP-0363: a slot from the server's
// upload service, then an HTTP PUT) and returns the GET URL.
func clientUpload(t *testing.T, srv *prosodytest.Server, c *prosodytest.Client, name, typ string, content []byte) string {
	t.Helper()
	r, err := c.IQ(ctxT(t), "get", srv.UploadJID, xmpp.Elem(nsUpload, "request",
		"filename", name, "size", strconv.Itoa(len(content)), "content-type", typ))
	if err != nil || r.Get("type") != "result" {
		t.Fatalf("upload slot: %v %v", r, err)
	}
	slot := r.Child(nsUpload, "slot")
	put, get := slot.Child(nsUpload, "put"), slot.Child(nsUpload, "get")
	req, err := http.NewRequest(http.MethodPut, put.Get("url"), bytes.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range put.Children {
		req.Header.Set(h.Get("name"), h.Text)
	}
	req.Header.Set("Content-Type", typ)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("PUT: %s", resp.Status)
	}
	return get.Get("url")
}

func httpGet(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", url, resp.Status, err)
	}
	return b
}

func body(e *xmpp.Element) string {
	if b := e.Child("jabber:client", "body"); b != nil {
		return b.Text
	}
	return ""
}

// fromEve matches a chat message from eve whose body satisfies ok.
func fromEve(ok func(body string) bool) func(*xmpp.Element) bool {
	return func(e *xmpp.Element) bool {
		return e.Name.Local == "message" && e.Get("type") != "error" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID && ok(body(e))
	}
}

// Files both ways through a real Prosody with an XEP-0363 service: the user's upload reaches
// the plugin as message.file; a contact's file (here: the echo network's "file <url>", which
// downloads the URL with file.fetch and sends it back with contact.file) is uploaded to the
// user's server and arrives as an XEP-0066 URL with the same bytes; failures are told.
func TestFilesBothWays(t *testing.T) {
	srv := prosodytest.Start(t, prosodytest.Options{Upload: true})
	dir := t.TempDir()
	d := startDaemonIn(t, dir, srv, echoGateway(t, srv.Components[0].Secret, ""))
	waitHealth(t, d, http.StatusOK)
	mgr := d.Gateways[0].Sessions()
	mgr.AllowPrivateFetches(true) // Prosody's upload service is on loopback
	alice := srv.NewClient(t, "alice")
	ctx := ctxT(t)
	if r := registerUser(t, alice, "Alice"); r.Get("type") != "result" {
		t.Fatalf("register: %s", r)
	}
	waitFor(t, alice, "eve online", func(e *xmpp.Element) bool {
		return e.Name.Local == "presence" && xmpp.Bare(e.Get("from")) == "eve@"+gwJID && e.Get("type") == ""
	})

	// The user's client uploads a file and sends its URL (XEP-0066, body = URL): a file message.
	content := bytes.Repeat([]byte("a picture, or nearly. "), 500)
	url := clientUpload(t, srv, alice, "holiday.txt", "text/plain", content)
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm1", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText(url),
		xmpp.Elem(nsOOB, "x").Add(xmpp.Elem(nsOOB, "url").WithText(url)),
		xmpp.Elem("urn:xmpp:receipts", "request")))
	var receipt bool
	waitFor(t, alice, "echo of the file URL", func(e *xmpp.Element) bool {
		if rc := e.Child("urn:xmpp:receipts", "received"); rc != nil && rc.Get("id") == "fm1" {
			receipt = true
		}
		return fromEve(func(b string) bool { return b == "echo: "+url })(e)
	})
	if !receipt {
		t.Error("no receipt for the file message before its echo")
	}

	// "file <url>": the contact fetches the URL and sends it back as a file, uploaded to the
	// user's server; then the caption, as a second message.
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm2", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText("file "+url)))
	m := waitFor(t, alice, "the file from eve", fromEve(func(b string) bool { return strings.HasPrefix(b, "http://") }))
	oob := m.Child(nsOOB, "x")
	if oob == nil || oob.Child(nsOOB, "url") == nil || oob.Child(nsOOB, "url").Text != body(m) {
		t.Fatalf("file message without an XEP-0066 URL equal to its body: %s", m)
	}
	back := body(m)
	if back == url || !strings.HasPrefix(back, "http://"+srv.Domain+":") || !strings.HasSuffix(back, "/holiday.txt") {
		t.Errorf("file URL %q (uploaded from %q)", back, url)
	}
	if got := httpGet(t, back); !bytes.Equal(got, content) {
		t.Errorf("the file from eve has %d bytes, not the %d sent", len(got), len(content))
	}
	if sid := m.Child("urn:xmpp:sid:0", "stanza-id"); sid == nil {
		t.Errorf("file message without a stanza id: %s", m)
	}
	waitFor(t, alice, "the caption", fromEve(func(b string) bool { return b == "echo: file" }))

	// A file over the upload service's max-file-size (10 MiB in prosodytest) cannot be
	// delivered: the user is told so by the contact, with the reason.
	big := make([]byte, 10<<20+1)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/zip")
		_, _ = w.Write(big)
	}))
	defer web.Close()
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm3", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText("file "+web.URL+"/big.zip")))
	m = waitFor(t, alice, "the failure notice", fromEve(func(b string) bool { return strings.HasPrefix(b, "[A file could not be delivered") }))
	if b := body(m); !strings.Contains(b, "big.zip, 10.0 MiB") || !strings.Contains(b, "accepts at most 10485760") {
		t.Errorf("failure notice: %q", b)
	}

	// A failed download: the plugin gets the reason in file.fetched and tells the user.
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL + "/gone.png"
	closed.Close()
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm5", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText("file "+closedURL)))
	m = waitFor(t, alice, "the fetch failure", fromEve(func(b string) bool { return strings.HasPrefix(b, "echo: could not fetch "+closedURL) }))
	if !strings.Contains(body(m), "unavailable") {
		t.Errorf("fetch failure: %q", body(m))
	}

	// Loopback is refused when not allowed, at the call itself for a loopback name.
	mgr.AllowPrivateFetches(false)
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm6", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText("file "+url)))
	m = waitFor(t, alice, "the refusal", fromEve(func(b string) bool { return strings.HasPrefix(b, "echo: could not fetch "+url) }))
	if !strings.Contains(body(m), "forbidden") || !strings.Contains(body(m), "loopback") {
		t.Errorf("refusal: %q", body(m))
	}
	_ = alice.Send(ctx, xmpp.Elem("jabber:client", "message", "type", "chat", "id", "fm7", "to", "eve@"+gwJID).Add(
		xmpp.Elem("jabber:client", "body").WithText("file "+web.URL+"/a.zip")))
	m = waitFor(t, alice, "the refusal of an address", fromEve(func(b string) bool { return strings.HasPrefix(b, "echo: could not fetch "+web.URL) }))
	if !strings.Contains(body(m), "forbidden") || !strings.Contains(body(m), "127.0.0.1 is a loopback address") {
		t.Errorf("refusal: %q", body(m))
	}

	// Every handle was released (by the plugin, and by the host after each upload).
	userDir := filepath.Join(dir, "data", "files", gwJID, "u-alice@localhost")
	entries, err := os.ReadDir(userDir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("files left in %s: %v", userDir, entries)
	}
}
