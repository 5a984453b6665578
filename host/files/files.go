// Package files holds the files a gateway handles for its users (abi section 9, "Files"): the
// handle store, downloads for file.fetch, and uploads to the user's server (XEP-0363).
//
// Files never travel inside the plugin's JSON. A file is a handle, a short id such as "f-7",
// that names a file on disk below the store's folder, one folder per user:
//
//	<Dir>/u-<escaped user JID>/f-7
//
// A [Store] creates handles ([Store.Create], [Store.Import], and [Fetcher.Fetch] for a URL),
// resolves them ([Store.Get], [Store.Path]: what a bridge does with "handle:f-7"), lets the
// host keep a file past the plugin's release ([Store.Acquire]), releases them
// ([Store.Release]) and wipes a user's files ([Store.Wipe]). It caps the number of handles and
// the bytes each user holds ([ErrQuota]). Handles do not survive a restart of the gateway: Open
// empties the folder.
//
// A [Fetcher] downloads http and https URLs with a size cap ([ErrTooLarge]) and a timeout, and
// refuses loopback, private, link-local and other non-public addresses ([ErrForbidden]) unless
// allowed: every address is checked when it is dialled (net.Dialer.Control), so neither a
// redirect nor a DNS answer that changes between checks (DNS rebinding) gets around it.
//
// An [Uploader] finds the XEP-0363 service of a user's server by disco and puts files there.
//
// Errors wrap the sentinel errors of this package; [Code] maps them to ABI error codes.
package files

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/xmppgw/gateway/abi"
)

// Errors of this package; the errors returned wrap them (errors.Is) with the details.
var (
	ErrNotFound    = errors.New("no such file handle")
	ErrQuota       = errors.New("file quota exceeded")
	ErrTooLarge    = errors.New("file over the size cap")
	ErrForbidden   = errors.New("address not allowed")
	ErrBadURL      = errors.New("not an http or https URL")
	ErrUnavailable = errors.New("file server unavailable")
	// ErrNoUploadService: the user's server offers no XEP-0363 upload service.
	ErrNoUploadService = errors.New("no HTTP upload service")
)

// Code maps an error of this package to the ABI error code a plugin gets.
func Code(err error) abi.Code {
	switch {
	case errors.Is(err, ErrNotFound):
		return abi.CodeNotFound
	case errors.Is(err, ErrQuota), errors.Is(err, ErrTooLarge):
		return abi.CodeQuota
	case errors.Is(err, ErrForbidden):
		return abi.CodeForbidden
	case errors.Is(err, ErrBadURL):
		return abi.CodeBadRequest
	case errors.Is(err, ErrUnavailable), errors.Is(err, ErrNoUploadService):
		return abi.CodeUnavailable
	}
	return abi.CodeInternal
}

// ABIError turns an error of this package into the ABI error a plugin gets.
func ABIError(err error) *abi.Error {
	var ae *abi.Error
	if errors.As(err, &ae) {
		return ae
	}
	return &abi.Error{Code: Code(err), Message: err.Error()}
}

// Defaults of [Options].
const (
	DefaultMaxHandles = 256
	DefaultMaxBytes   = 1 << 30 // 1 GiB per user
)

// Options configures a [Store].
type Options struct {
	// Dir is the store's folder (required), e.g. <data_dir>/files/<gateway JID>. Open empties it.
	Dir string
	// MaxHandles caps the handles a user holds at once; default DefaultMaxHandles.
	MaxHandles int
	// MaxBytes caps the bytes of the files a user holds at once (including files only the host
	// still holds, being uploaded); default DefaultMaxBytes.
	MaxBytes int64
}

// File is a file the store holds: a handle and where its bytes are.
type File struct {
	Handle string // e.g. "f-7"
	Path   string // the file on disk; read-only for everyone but the store
	Size   int64
	Type   string // MIME type, e.g. "image/png"
	Name   string // file name, e.g. "holiday.jpg"; may be empty
}

// ABI returns the File object a plugin sees.
func (f File) ABI() abi.File {
	return abi.File{Handle: f.Handle, Size: f.Size, Type: f.Type, Name: f.Name}
}

// Meta is what is known of a file before its bytes are read.
type Meta struct {
	Type string // MIME type; empty or application/octet-stream: sniffed from the content
	Name string // file name; a path is reduced to its last element
}

// blob is one file on disk, shared by a handle and the host's references to it.
type blob struct {
	File
	refs int // the handle (while the plugin holds it) and each Ref
}

type userFiles struct {
	dir     string
	handles map[string]*blob
	bytes   int64 // sum of the sizes of live blobs
}

// Store holds the file handles of the users of one gateway. It is safe for concurrent use.
type Store struct {
	o   Options
	seq atomic.Uint64

	mu    sync.Mutex
	users map[string]*userFiles
}

// Open creates the store in o.Dir, removing whatever a previous run left there.
func Open(o Options) (*Store, error) {
	if o.Dir == "" {
		return nil, errors.New("files: no folder")
	}
	if o.MaxHandles <= 0 {
		o.MaxHandles = DefaultMaxHandles
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if err := os.RemoveAll(o.Dir); err != nil {
		return nil, fmt.Errorf("files: clear %s: %w", o.Dir, err)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	return &Store{o: o, users: map[string]*userFiles{}}, nil
}

// Dir returns the store's folder.
func (s *Store) Dir() string { return s.o.Dir }

// NewID returns a fresh id "f-N", unique in the store: handles use them, and so may the tokens
// of the asynchronous calls that make handles.
func (s *Store) NewID() string { return "f-" + strconv.FormatUint(s.seq.Add(1), 10) }

// userDir is the folder of a user's files. The "u-" prefix keeps "." and ".." out.
func (s *Store) userDir(user string) string {
	return filepath.Join(s.o.Dir, "u-"+url.PathEscape(user))
}

// user returns the user's files, creating the record; s.mu is held.
func (s *Store) user(user string) *userFiles {
	u := s.users[user]
	if u == nil {
		u = &userFiles{dir: s.userDir(user), handles: map[string]*blob{}}
		s.users[user] = u
	}
	return u
}

// Room reports how many bytes user may still store, or ErrQuota when the user holds the most
// handles allowed or has no bytes left.
func (s *Store) Room(user string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.room(s.user(user))
}

func (s *Store) room(u *userFiles) (int64, error) {
	if len(u.handles) >= s.o.MaxHandles {
		return 0, errorf(ErrQuota, "%d file handles held, the most allowed; release some", len(u.handles))
	}
	left := s.o.MaxBytes - u.bytes
	if left <= 0 {
		return 0, errorf(ErrQuota, "%d bytes of files held, the most allowed; release some", u.bytes)
	}
	return left, nil
}

// Create stores what r yields as a new handle of user. It reads at most max bytes (0: no cap
// but the user's quota): more is ErrTooLarge (or ErrQuota when the quota is the tighter
// bound), and nothing is kept. A missing or generic type is sniffed from the first bytes.
func (s *Store) Create(user string, r io.Reader, meta Meta, max int64) (File, error) {
	room, err := s.Room(user)
	if err != nil {
		return File{}, err
	}
	limit, over := max, ErrTooLarge
	if limit <= 0 || room < limit {
		limit, over = room, ErrQuota
	}
	dir := s.userDir(user)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return File{}, fmt.Errorf("files: %w", err)
	}
	id := s.NewID()
	path := filepath.Join(dir, id)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return File{}, fmt.Errorf("files: %w", err)
	}
	sn := &sniffer{}
	n, err := io.Copy(f, io.TeeReader(io.LimitReader(r, limit+1), sn))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && n > limit {
		if over == ErrQuota {
			err = errorf(ErrQuota, "the file is larger than the %d bytes left to this user", limit)
		} else {
			err = errorf(ErrTooLarge, "the file is larger than the %d byte cap", limit)
		}
	}
	if err != nil {
		_ = os.Remove(path)
		return File{}, err
	}
	typ := meta.Type
	if typ == "" || strings.HasPrefix(typ, "application/octet-stream") {
		typ = http.DetectContentType(sn.buf)
	}
	b := &blob{File: File{Handle: id, Path: path, Size: n, Type: typ, Name: CleanName(meta.Name)}, refs: 1}

	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(user)
	if _, err := s.room(u); err != nil || u.bytes+n > s.o.MaxBytes {
		// Others were created meanwhile.
		_ = os.Remove(path)
		if err == nil {
			err = errorf(ErrQuota, "%d bytes of files held, the most allowed; release some", u.bytes)
		}
		return File{}, err
	}
	u.handles[id] = b
	u.bytes += n
	return b.File, nil
}

// Import copies a local file (a bridge's download) into a new handle of user.
func (s *Store) Import(user, path string, meta Meta) (File, error) {
	f, err := os.Open(path)
	if err != nil {
		return File{}, fmt.Errorf("files: %w", err)
	}
	defer f.Close()
	if meta.Name == "" {
		meta.Name = filepath.Base(path)
	}
	return s.Create(user, f, meta, 0)
}

// Get returns the file of a handle the user holds.
func (s *Store) Get(user, handle string) (File, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[user]; u != nil {
		if b := u.handles[handle]; b != nil {
			return b.File, nil
		}
	}
	return File{}, errorf(ErrNotFound, "no file handle %q", handle)
}

// Path returns where the file of a handle the user holds is on disk: what a bridge gives the
// network's library where the plugin wrote "handle:<id>". The file must not be changed.
func (s *Store) Path(user, handle string) (string, bool) {
	f, err := s.Get(user, handle)
	return f.Path, err == nil
}

// Release drops a handle the user holds. Its file is removed once no Ref holds it either.
func (s *Store) Release(user, handle string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[user]
	if u == nil || u.handles[handle] == nil {
		return errorf(ErrNotFound, "no file handle %q", handle)
	}
	b := u.handles[handle]
	delete(u.handles, handle)
	s.unref(u, b)
	return nil
}

// unref drops one reference to b; s.mu is held.
func (s *Store) unref(u *userFiles, b *blob) {
	b.refs--
	if b.refs > 0 {
		return
	}
	u.bytes -= b.Size
	_ = os.Remove(b.Path)
}

// Ref is the host's own reference to a handle's file (abi contact.file: "the host takes its own
// reference"): the file stays until the Ref is released, even if the plugin releases the handle.
type Ref struct {
	File
	s    *Store
	user string
	u    *userFiles
	b    *blob
	once sync.Once
}

// Acquire takes a reference to the file of a handle the user holds.
func (s *Store) Acquire(user, handle string) (*Ref, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.users[user]
	if u == nil || u.handles[handle] == nil {
		return nil, errorf(ErrNotFound, "no file handle %q", handle)
	}
	b := u.handles[handle]
	b.refs++
	return &Ref{File: b.File, s: s, user: user, u: u, b: b}, nil
}

// Release drops the reference; it is safe to call more than once.
func (r *Ref) Release() {
	r.once.Do(func() {
		r.s.mu.Lock()
		defer r.s.mu.Unlock()
		if r.s.users[r.user] != r.u || r.b.refs <= 0 {
			return // wiped meanwhile
		}
		r.s.unref(r.u, r.b)
	})
}

// Wipe removes every handle and file of user (unregistration, the end of a session). Refs
// still held find their file gone.
func (s *Store) Wipe(user string) error {
	s.mu.Lock()
	delete(s.users, user)
	s.mu.Unlock()
	if err := os.RemoveAll(s.userDir(user)); err != nil {
		return fmt.Errorf("files: %w", err)
	}
	return nil
}

// Usage returns how many handles and bytes user holds.
func (s *Store) Usage(user string) (handles int, bytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u := s.users[user]; u != nil {
		return len(u.handles), u.bytes
	}
	return 0, 0
}

// CleanName makes a file name safe for a path element and an upload slot: the last element of
// a path, without control characters; "" stays "".
func CleanName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	if name == "." || name == ".." {
		return ""
	}
	if len(name) > 200 {
		name = strings.ToValidUTF8(name[len(name)-200:], "")
	}
	return name
}

// sniffer keeps the first bytes written, for http.DetectContentType.
type sniffer struct{ buf []byte }

func (s *sniffer) Write(p []byte) (int, error) {
	if room := 512 - len(s.buf); room > 0 {
		s.buf = append(s.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// HandlePrefix starts a handle written where a bridge's JSON wants a local path:
// "handle:f-7" (abi section 9).
const HandlePrefix = "handle:"

// ParseHandleRef returns the handle id of a "handle:<id>" string.
func ParseHandleRef(s string) (string, bool) {
	id, ok := strings.CutPrefix(s, HandlePrefix)
	return id, ok && id != ""
}

// kindError is an error of one of the package's kinds (ErrNotFound, ...) whose message is only
// its details: "10.0.0.5 is a private address", not "address not allowed: 10.0.0.5 is ...".
type kindError struct {
	kind error
	msg  string
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

func errorf(kind error, format string, args ...any) error {
	return &kindError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
