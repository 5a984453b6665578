package files

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/host/xmpp"
	"github.com/xmppgw/gateway/host/xmpp/disco"
	"github.com/xmppgw/gateway/host/xmpp/form"
)

// NSUpload is the namespace of XEP-0363: HTTP File Upload.
const NSUpload = "urn:xmpp:http:upload:0"

// IQFunc sends an IQ request (its id is set by the sender) and returns the answer: a result, or
// an error stanza with a nil error. A failure to send or a timeout is an error.
type IQFunc func(ctx context.Context, iq *xmpp.Element) (*xmpp.Element, error)

// Service is an XEP-0363 upload service.
type Service struct {
	JID     string
	MaxSize int64 // the service's max-file-size; 0: it announced none
}

// Uploader puts files on users' servers with XEP-0363. It finds each server's service once
// (disco#items of the server's domain, then disco#info of each item, then of the domain
// itself) and remembers it. It is safe for concurrent use.
type Uploader struct {
	// From is the JID the IQs are sent from (the gateway's); it is skipped among the items.
	From string
	// IQ sends the IQs.
	IQ IQFunc
	// Client makes the HTTP PUT; default: a client with a 10 minute timeout. Uploads go to the
	// user's own server, which the gateway trusts: they are not limited to public addresses.
	Client *http.Client
	// IQTimeout bounds each IQ; default 20 seconds.
	IQTimeout time.Duration
	// CacheFound and CacheMissing are how long a found service, and the absence of one, are
	// remembered; defaults 1 hour and 5 minutes.
	CacheFound, CacheMissing time.Duration

	mu       sync.Mutex
	services map[string]*discovery
}

// discovery is the search for one domain's service, shared by the uploads that wait for it.
type discovery struct {
	done    chan struct{}
	service Service
	err     error
	expires time.Time
}

func (u *Uploader) iqTimeout() time.Duration {
	if u.IQTimeout > 0 {
		return u.IQTimeout
	}
	return 20 * time.Second
}

// Discover returns the upload service of a domain (the user's server), or ErrNoUploadService.
func (u *Uploader) Discover(ctx context.Context, domain string) (Service, error) {
	u.mu.Lock()
	if u.services == nil {
		u.services = map[string]*discovery{}
	}
	d := u.services[domain]
	if d != nil {
		select {
		case <-d.done:
			if time.Now().After(d.expires) {
				d = nil
			}
		default:
		}
	}
	mine := d == nil
	if mine {
		d = &discovery{done: make(chan struct{})}
		u.services[domain] = d
	}
	u.mu.Unlock()
	if mine {
		d.service, d.err = u.discover(ctx, domain)
		found, missing := u.CacheFound, u.CacheMissing
		if found <= 0 {
			found = time.Hour
		}
		if missing <= 0 {
			missing = 5 * time.Minute
		}
		switch {
		case d.err == nil:
			d.expires = time.Now().Add(found)
		case errors.Is(d.err, ErrNoUploadService):
			d.expires = time.Now().Add(missing)
		default: // could not ask: ask again next time
		}
		close(d.done)
	}
	select {
	case <-d.done:
		return d.service, d.err
	case <-ctx.Done():
		return Service{}, errorf(ErrUnavailable, "looking for the upload service of %s: %v", domain, ctx.Err())
	}
}

// Forget drops what is known of a domain's service (after an upload to it failed).
func (u *Uploader) Forget(domain string) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if d := u.services[domain]; d != nil {
		select {
		case <-d.done:
			delete(u.services, domain)
		default:
		}
	}
}

func (u *Uploader) discover(ctx context.Context, domain string) (Service, error) {
	items, err := u.query(ctx, domain, disco.NSItems)
	if err != nil {
		return Service{}, err
	}
	var candidates []string
	for _, it := range items.Children {
		if it.Name.Local == "item" && it.Get("node") == "" && it.Get("jid") != "" && it.Get("jid") != u.From {
			candidates = append(candidates, it.Get("jid"))
		}
	}
	candidates = append(candidates, domain)
	for _, jid := range candidates {
		info, err := u.query(ctx, jid, disco.NSInfo)
		if err != nil {
			if _, ok := isRefused(err); ok {
				continue // that item does not answer disco#info: not an upload service
			}
			return Service{}, err
		}
		if s, ok := uploadService(jid, info); ok {
			return s, nil
		}
	}
	return Service{}, errorf(ErrNoUploadService, "%s offers no HTTP upload (XEP-0363) service", domain)
}

// uploadService reads a disco#info answer: does it advertise XEP-0363, and with what cap?
func uploadService(jid string, info *xmpp.Element) (Service, bool) {
	found := false
	for _, f := range info.Children {
		if f.Name.Local == "feature" && f.Get("var") == NSUpload {
			found = true
		}
	}
	if !found {
		return Service{}, false
	}
	s := Service{JID: jid}
	for _, x := range info.Children {
		if x.Name.Space != form.NS || x.Name.Local != "x" {
			continue
		}
		f, err := form.Parse(x)
		if err != nil || f.Value("FORM_TYPE") != NSUpload {
			continue
		}
		if n, err := strconv.ParseInt(f.Value("max-file-size"), 10, 64); err == nil && n > 0 {
			s.MaxSize = n
		}
	}
	return s, true
}

// refusedError is an IQ answered with an error.
type refusedError struct{ to, reason string }

func (e *refusedError) Error() string { return e.to + " refused: " + e.reason }

func isRefused(err error) (*refusedError, bool) {
	var re *refusedError
	ok := errors.As(err, &re)
	return re, ok
}

// query sends a disco query (or any empty <query/> get) and returns the answer's query.
func (u *Uploader) query(ctx context.Context, to, ns string) (*xmpp.Element, error) {
	r, err := u.iq(ctx, to, xmpp.Elem(ns, "query"))
	if err != nil {
		return nil, err
	}
	q := r.Child(ns, "query")
	if q == nil {
		return nil, errorf(ErrUnavailable, "%s answered disco without a <query/>", to)
	}
	return q, nil
}

// iq sends a get to `to` and returns the result; an error answer is errIQRefused with its text.
func (u *Uploader) iq(ctx context.Context, to string, payload *xmpp.Element) (*xmpp.Element, error) {
	ctx, cancel := context.WithTimeout(ctx, u.iqTimeout())
	defer cancel()
	iq := xmpp.Elem(xmpp.NSComponent, xmpp.KindIQ, "type", "get", "from", u.From, "to", to).Add(payload)
	r, err := u.IQ(ctx, iq)
	if err != nil {
		return nil, errorf(ErrUnavailable, "%s did not answer: %v", to, err)
	}
	if r.Get("type") == "error" {
		return nil, &refusedError{to: to, reason: stanzaError(r)}
	}
	return r, nil
}

// stanzaError describes the <error/> of an error stanza: its condition and text.
func stanzaError(st *xmpp.Element) string {
	for _, e := range st.Children {
		if e.Name.Local != "error" {
			continue
		}
		cond, text := "", ""
		for _, c := range e.Children {
			if c.Name.Space != xmpp.NSStanzas {
				continue
			}
			if c.Name.Local == "text" {
				text = c.Text
			} else if cond == "" {
				cond = c.Name.Local
			}
		}
		if text != "" {
			return cond + " (" + text + ")"
		}
		return cond
	}
	return "error"
}

// Slot is an upload slot: where to PUT, with which headers, and where the file is then.
type Slot struct {
	Put     string
	Headers http.Header
	Get     string
}

// RequestSlot asks the service for a slot for a file.
func (u *Uploader) RequestSlot(ctx context.Context, s Service, name string, size int64, typ string) (Slot, error) {
	r, err := u.iq(ctx, s.JID, xmpp.Elem(NSUpload, "request", "filename", name,
		"size", strconv.FormatInt(size, 10), "content-type", typ))
	if err != nil {
		if re, ok := isRefused(err); ok {
			return Slot{}, errorf(ErrUnavailable, "%s refused an upload slot for %q (%d bytes): %s", s.JID, name, size, re.reason)
		}
		return Slot{}, err
	}
	el := r.Child(NSUpload, "slot")
	if el == nil {
		return Slot{}, errorf(ErrUnavailable, "%s answered without a slot", s.JID)
	}
	put, get := el.Child(NSUpload, "put"), el.Child(NSUpload, "get")
	if put == nil || get == nil {
		return Slot{}, errorf(ErrUnavailable, "%s answered an incomplete slot", s.JID)
	}
	slot := Slot{Put: put.Get("url"), Get: get.Get("url"), Headers: http.Header{}}
	for _, u := range []string{slot.Put, slot.Get} {
		if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") || p.Host == "" {
			return Slot{}, errorf(ErrUnavailable, "%s gave a slot with a bad URL %q", s.JID, u)
		}
	}
	for _, h := range put.Children {
		if h.Name.Local != "header" {
			continue
		}
		// XEP-0363 allows these three only; newlines would forge other headers.
		name := http.CanonicalHeaderKey(h.Get("name"))
		if (name == "Authorization" || name == "Cookie" || name == "Expires") && !strings.ContainsAny(h.Text, "\r\n") {
			slot.Headers.Add(name, h.Text)
		}
	}
	return slot, nil
}

// Put uploads size bytes of body to the slot.
func (u *Uploader) Put(ctx context.Context, slot Slot, body io.Reader, size int64, typ string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, slot.Put, body)
	if err != nil {
		return errorf(ErrUnavailable, "upload request: %v", err)
	}
	req.ContentLength = size
	if size == 0 {
		req.Body = http.NoBody
	}
	for k, v := range slot.Headers {
		req.Header[k] = v
	}
	req.Header.Set("Content-Type", typ)
	client := u.Client
	if client == nil {
		client = defaultUploadClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return errorf(ErrUnavailable, "upload: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return errorf(ErrUnavailable, "the upload server answered %s", resp.Status)
	}
	return nil
}

var defaultUploadClient = &http.Client{Timeout: 10 * time.Minute}

// Upload puts a file on the upload service of domain (the user's server) and returns the URL
// it can be downloaded from. The name defaults to "file" with an extension for its type.
func (u *Uploader) Upload(ctx context.Context, domain string, f File) (string, error) {
	s, err := u.Discover(ctx, domain)
	if err != nil {
		return "", err
	}
	if s.MaxSize > 0 && f.Size > s.MaxSize {
		return "", errorf(ErrTooLarge, "the file has %d bytes, %s accepts at most %d", f.Size, s.JID, s.MaxSize)
	}
	typ := f.Type
	if typ == "" {
		typ = "application/octet-stream"
	}
	name := CleanName(f.Name)
	if name == "" {
		name = "file"
		name += extension(typ)
	}
	slot, err := u.RequestSlot(ctx, s, name, f.Size, typ)
	if err != nil {
		u.Forget(domain)
		return "", err
	}
	body, err := os.Open(f.Path)
	if err != nil {
		return "", fmt.Errorf("files: %w", err)
	}
	defer body.Close()
	if err := u.Put(ctx, slot, body, f.Size, typ); err != nil {
		return "", err
	}
	return slot.Get, nil
}

// extension returns a file name extension for a MIME type, or "".
func extension(typ string) string {
	mt, _, err := mime.ParseMediaType(typ)
	if err != nil {
		return ""
	}
	switch mt {
	case "image/jpeg":
		return ".jpg"
	case "text/plain":
		return ".txt"
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		return exts[0]
	}
	return ""
}
