package session

// Files both ways (abi section 9, "Files"; host/files does the work).
//
// From the user: a message to a puppet carrying an XEP-0066 URL (<x xmlns='jabber:x:oob'>) is a
// file (message.file) rather than a text. Its caption is the body without the URL (usually
// empty: clients send the URL as the body); its name is the URL's last path element and its
// type is guessed from the name, unless XEP-0446 metadata (inside XEP-0447 file sharing) says
// better; its size is only known from that metadata. The plugin downloads it with file.fetch.
//
// file.fetch returns a token at once and downloads in a goroutine (size cap Config.MaxFileSize
// or the plugin's lower max_size, a timeout, public addresses only unless
// Config.FetchAllowPrivate) into a handle of the user's; the answer is posted to the session
// and delivered as file.fetched. Handles live in <DataDir>/files/<gateway JID>/, one folder
// per user, emptied when the gateway starts; a user holds at most 256 handles and 1 GiB (or 4
// times MaxFileSize if that is more), and at most maxFetches downloads run for a user at once.
//
// To the user: contact.file takes the host's own reference to the plugin's handle and returns
// {} at once; a goroutine uploads the file to the user's server (XEP-0363: the service is found
// by disco#items of the user's domain and disco#info of each item, once per domain, and asked
// for a slot from the gateway's JID), then the puppet sends a message whose body is the URL,
// with <x xmlns='jabber:x:oob'><url>URL</url></x>, so that clients show the file inline; the
// network's message id maps to that message. A caption follows as a second, plain message
// (clients show a body that is not exactly the URL as text, not as the file). A failed upload
// becomes a message from the puppet saying which file could not be delivered and why (mapped to
// the network's id in place of the file), never silence. The file arrives after the upload, so
// it may come after messages the contact sent later.

import (
	"context"
	"fmt"
	"mime"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/files"
	"github.com/xmppgw/gateway/host/roster"
	"github.com/xmppgw/gateway/host/xmpp"
)

// defaultMaxFileSize is Config.MaxFileSize when it is not set.
const defaultMaxFileSize = 100 << 20

// maxFetches bounds the downloads running at once for one user.
const maxFetches = 16

// Namespaces of file sharing metadata (XEP-0447, XEP-0446).
const (
	nsSFS      = "urn:xmpp:sfs:0"
	nsFileMeta = "urn:xmpp:file:metadata:0"
)

// fileState is the files part of a Manager, made at the first use.
type fileState struct {
	once  sync.Once
	err   error
	store *files.Store
	fetch *files.Fetcher
	up    *files.Uploader

	mu       sync.Mutex
	fetching map[string]int // user -> downloads running
}

// fileStates holds the fileState of each Manager.
var fileStates sync.Map // *Manager -> *fileState

// files returns the manager's file store, downloader and uploader, opening them at the first
// use (which empties the store's folder: handles do not survive a restart).
func (m *Manager) files() (*fileState, error) {
	v, _ := fileStates.LoadOrStore(m, &fileState{})
	fs := v.(*fileState)
	fs.once.Do(func() { fs.err = fs.open(m) })
	return fs, fs.err
}

func (fs *fileState) open(m *Manager) error {
	dir := ""
	if m.cfg.DataDir != "" {
		dir = filepath.Join(m.cfg.DataDir, "files", m.cfg.JID)
	} else {
		d, err := os.MkdirTemp("", "xmppgw-files-")
		if err != nil {
			return abi.Errorf(abi.CodeInternal, "file store: %v", err)
		}
		dir = d
	}
	maxBytes := max(int64(files.DefaultMaxBytes), 4*m.maxFileSize())
	st, err := files.Open(files.Options{Dir: dir, MaxBytes: maxBytes})
	if err != nil {
		return abi.Errorf(abi.CodeInternal, "file store: %v", err)
	}
	fs.store = st
	fs.fetch = files.NewFetcher(files.FetchOptions{AllowPrivate: m.cfg.FetchAllowPrivate, UserAgent: "xmppgw (" + m.cfg.JID + ")"})
	fs.up = &files.Uploader{From: m.cfg.JID, IQ: m.iq}
	fs.fetching = map[string]int{}
	return nil
}

// maxFileSize is the gateway's cap on a download.
func (m *Manager) maxFileSize() int64 {
	if m.cfg.MaxFileSize > 0 {
		return m.cfg.MaxFileSize
	}
	return defaultMaxFileSize
}

// iq sends an IQ and waits for its answer (an error stanza is an answer); never call it on the
// actor or the link's reader.
func (m *Manager) iq(ctx context.Context, iq *xmpp.Element) (*xmpp.Element, error) {
	type answer struct {
		r   *xmpp.Element
		err error
	}
	ch := make(chan answer, 1)
	timeout := 30 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	m.link.SendIQ(ctx, iq, timeout, func(r *xmpp.Element, err error) { ch <- answer{r, err} })
	select {
	case a := <-ch:
		return a.r, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// FilePath resolves a file handle that user's plugin holds to the file's path on disk. A bridge
// calls it where the plugin wrote "handle:<id>" in place of a local path (see
// files.ParseHandleRef); false means no such handle. The file is the host's: read it, never
// change or move it, and do not use the path after the plugin released the handle.
func (m *Manager) FilePath(user, handle string) (string, bool) {
	fs, err := m.files()
	if err != nil {
		return "", false
	}
	return fs.store.Path(user, handle)
}

// FileImport copies a local file (a bridge's download) into a new handle of user, which the
// plugin then holds: a bridge answers "handle:<id>" in place of the path. typ and name may be
// empty (the type is then sniffed, the name taken from the path). Errors are *abi.Error (quota
// when the user holds too much).
func (m *Manager) FileImport(user, path, typ, name string) (abi.File, error) {
	fs, err := m.files()
	if err != nil {
		return abi.File{}, err
	}
	f, err := fs.store.Import(user, path, files.Meta{Type: typ, Name: name})
	if err != nil {
		return abi.File{}, files.ABIError(err)
	}
	return f.ABI(), nil
}

// AllowPrivateFetches changes Config.FetchAllowPrivate of a running gateway, for tests and demos
// whose configuration cannot set it: file.fetch may then reach loopback and private addresses.
func (m *Manager) AllowPrivateFetches(allow bool) {
	if fs, err := m.files(); err == nil {
		fs.fetch.SetAllowPrivate(allow)
	}
}

// wipeFiles removes every file handle of user and its files (unregistration).
func (m *Manager) wipeFiles(user string) {
	fs, err := m.files()
	if err != nil {
		m.log.Error("wipe files", "user", user, "err", err)
		return
	}
	if err := fs.store.Wipe(user); err != nil {
		m.log.Error("wipe files", "user", user, "err", err)
	}
}

// fileFetch starts a download (file.fetch).
func (s *Session) fileFetch(r abi.FileFetch) ([]byte, error) {
	fs, err := s.m.files()
	if err != nil {
		return nil, err
	}
	if _, err := fs.fetch.CheckURL(r.URL); err != nil {
		return nil, files.ABIError(fmt.Errorf("file.fetch: %w", err))
	}
	if _, err := fs.store.Room(s.user); err != nil {
		return nil, files.ABIError(err)
	}
	fs.mu.Lock()
	if fs.fetching[s.user] >= maxFetches {
		fs.mu.Unlock()
		return nil, abi.Errorf(abi.CodeQuota, "file.fetch: %d downloads already running; wait for their file.fetched", maxFetches)
	}
	fs.fetching[s.user]++
	fs.mu.Unlock()

	limit := s.m.maxFileSize()
	if r.MaxSize > 0 && r.MaxSize < limit {
		limit = r.MaxSize
	}
	token := fs.store.NewID()
	ctx, user, rawURL, rctx := s.ctx, s.user, r.URL, r.Context
	go func() {
		f, err := fs.fetch.Fetch(ctx, fs.store, user, rawURL, limit)
		fs.mu.Lock()
		if fs.fetching[user]--; fs.fetching[user] <= 0 {
			delete(fs.fetching, user)
		}
		fs.mu.Unlock()
		s.post(func() { s.fileFetched(fs, token, rctx, f, err) })
	}()
	return marshal(abi.Token{Token: token})
}

// fileFetched delivers the answer of a download; a handle the plugin did not take is released.
func (s *Session) fileFetched(fs *fileState, token string, rctx abi.Raw, f files.File, err error) {
	ev := abi.FileFetched{Token: token, Context: rctx}
	if err != nil {
		ev.Error = files.ABIError(fmt.Errorf("file.fetch: %w", err))
		s.log.Info("file.fetch failed", "token", token, "err", err)
	} else {
		a := f.ABI()
		ev.File = &a
	}
	status, _, derr := s.deliver(abi.EventFileFetched, nil, ev)
	if ev.File != nil && (derr != nil || status == abi.StatusUnhandled) {
		s.log.Warn("file.fetched not handled: handle released", "token", token, "handle", f.Handle)
		_ = fs.store.Release(s.user, f.Handle)
	}
}

// fileRelease drops a handle (file.release).
func (s *Session) fileRelease(r abi.FileRef) ([]byte, error) {
	fs, err := s.m.files()
	if err != nil {
		return nil, err
	}
	if err := fs.store.Release(s.user, r.Handle); err != nil {
		return nil, files.ABIError(err)
	}
	return empty, nil
}

// contactFile uploads a contact's file to the user's server and sends it (contact.file).
func (s *Session) contactFile(r abi.ContactFile) ([]byte, error) {
	fs, err := s.m.files()
	if err != nil {
		return nil, err
	}
	c := s.roster.Get(r.LegacyID)
	if c == nil {
		if c, err = s.contact(r.LegacyID, ""); err != nil {
			return nil, err
		}
	}
	if r.ID != "" {
		// Network events are idempotent by network id: a file seen before is not uploaded again.
		if _, err := s.m.st.XMPPMsgID(s.ctx, s.m.cfg.JID, s.user, c.LegacyID, r.ID); err == nil {
			s.m.duplicates.Add(1)
			return empty, nil
		}
	}
	ref, err := fs.store.Acquire(s.user, r.File.Handle)
	if err != nil {
		return nil, files.ABIError(err)
	}
	f := ref.File
	if r.File.Name != "" {
		f.Name = r.File.Name
	}
	if r.File.Type != "" && (f.Type == "" || strings.HasPrefix(f.Type, "application/octet-stream")) {
		f.Type = r.File.Type
	}
	ctx, domain := s.ctx, s.domain
	go func() {
		defer ref.Release()
		u, err := fs.up.Upload(ctx, domain, f)
		s.post(func() { s.sendFile(r, f, u, err) })
	}()
	return empty, nil
}

// sendFile sends the uploaded file (and its caption) from the puppet, or says why it could not.
func (s *Session) sendFile(r abi.ContactFile, f files.File, u string, err error) {
	if err != nil {
		s.log.Warn("a contact's file could not be uploaded", "contact", r.LegacyID, "id", r.ID, "err", err)
		meta := r.MsgMeta
		meta.Carbon = false
		text := fmt.Sprintf("[A file could not be delivered to you: %s: %s]", describeFile(f), err)
		if _, err := s.fromContact(meta, r.ID, func(m *xmpp.Element, _ *roster.Contact) {
			m.Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(text))
		}); err != nil {
			s.log.Error("file failure message not sent", "err", err)
		}
		return
	}
	if _, err := s.fromContact(r.MsgMeta, r.ID, func(m *xmpp.Element, c *roster.Contact) {
		body := u
		if r.ReplyTo != "" {
			body = s.addReply(m, c, r.ReplyTo, "", u)
		}
		m.Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(body),
			xmpp.Elem(nsOOB, "x").Add(xmpp.Elem(nsOOB, "url").WithText(u)),
			xmpp.Elem(nsMarkers, "markable"))
	}); err != nil {
		s.log.Error("file message not sent", "err", err)
		return
	}
	if r.Caption != "" {
		if _, err := s.fromContact(r.MsgMeta, "", func(m *xmpp.Element, _ *roster.Contact) {
			m.Add(xmpp.Elem(xmpp.NSComponent, "body").WithText(r.Caption))
		}); err != nil {
			s.log.Error("file caption not sent", "err", err)
		}
	}
}

// describeFile names a file for the user: its name (or type) and size.
func describeFile(f files.File) string {
	what := f.Name
	if what == "" {
		what = "a file"
		if f.Type != "" {
			what += " (" + f.Type + ")"
		}
	}
	return what + ", " + humanSize(f.Size)
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// fileMessage reads a file the user sent (an XEP-0066 URL) from a message to a puppet, or
// reports false for anything else. body is the message's body.
func (s *Session) fileMessage(st *xmpp.Element, c *roster.Contact, body string) (abi.FileMessage, bool) {
	x := st.Child(nsOOB, "x")
	if x == nil {
		return abi.FileMessage{}, false
	}
	ue := x.Child(nsOOB, "url")
	if ue == nil || strings.TrimSpace(ue.Text) == "" {
		return abi.FileMessage{}, false
	}
	fm := abi.FileMessage{ID: st.Get("id"), URL: strings.TrimSpace(ue.Text)}
	text := body
	if r := st.Child(nsReply, "reply"); r != nil {
		fm.ReplyTo = s.legacyMsgID(c, r.Get("id"))
		text = stripFallback(st, body, nsReply)
	}
	// The body is the URL (what clients send), or a caption with or without the URL in it.
	if text = strings.TrimSpace(text); text != fm.URL {
		fm.Caption = strings.TrimSpace(strings.Replace(text, fm.URL, "", 1))
	}
	if pu, err := url.Parse(fm.URL); err == nil && pu.Path != "" && !strings.HasSuffix(pu.Path, "/") {
		fm.Name = files.CleanName(path.Base(pu.Path))
	}
	// XEP-0447 file sharing with XEP-0446 metadata, when the client sent it.
	if sfs := st.Child(nsSFS, "file-sharing"); sfs != nil {
		if meta := sfs.Child(nsFileMeta, "file"); meta != nil {
			if n := meta.Child(nsFileMeta, "name"); n != nil && files.CleanName(n.Text) != "" {
				fm.Name = files.CleanName(n.Text)
			}
			if t := meta.Child(nsFileMeta, "media-type"); t != nil {
				fm.Type = strings.TrimSpace(t.Text)
			}
			if sz := meta.Child(nsFileMeta, "size"); sz != nil {
				if n, err := strconv.ParseInt(strings.TrimSpace(sz.Text), 10, 64); err == nil && n >= 0 {
					fm.Size = n
				}
			}
		}
	}
	if fm.Type == "" && fm.Name != "" {
		if t := mime.TypeByExtension(path.Ext(fm.Name)); t != "" {
			fm.Type = t
		}
	}
	return fm, true
}
