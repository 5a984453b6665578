package sim

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // avatar and picture sizes
	_ "image/jpeg" // avatar and picture sizes
	_ "image/png"  // avatar and picture sizes
	"io/fs"
	"mime"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

// Fixture is a simulated Telegram: accounts that can log in, and users. See the package
// documentation for the file format.
type Fixture struct {
	// Reactions are the emoji reactions every chat allows, in order; empty: any reaction.
	Reactions []string `toml:"reactions"`
	// MaxReactions is how many reactions one person may put on a message (Telegram: 1, 3
	// with Premium); default 1.
	MaxReactions int `toml:"max_reactions"`
	// History is how many messages the simulation keeps per chat; default 1000.
	History int `toml:"history"`

	Accounts []FixtureAccount `toml:"account"`
	Users    []FixtureUser    `toml:"user"`
	Bulk     []FixtureBulk    `toml:"bulk"`

	name  string // file name, for errors
	files map[string]*fileData
}

// FixtureAccount is a Telegram account a session can log in to.
type FixtureAccount struct {
	Phone        string      `toml:"phone"`
	Code         string      `toml:"code"`
	Password     string      `toml:"password"`
	PasswordHint string      `toml:"password_hint"`
	Me           FixtureUser `toml:"me"`
	Contacts     []int64     `toml:"contacts"`
	// Chats are the users with whom a private chat exists at the start (getChats lists them).
	Chats []int64 `toml:"chats"`
}

// FixtureUser is a Telegram user (a contact, a stranger, or an account's own user).
type FixtureUser struct {
	ID        int64    `toml:"id"`
	FirstName string   `toml:"first_name"`
	LastName  string   `toml:"last_name"`
	Usernames []string `toml:"usernames"`
	Phone     string   `toml:"phone"`
	Bio       string   `toml:"bio"`
	Bot       bool     `toml:"bot"`
	Verified  bool     `toml:"verified"`
	// Status is online, offline, recently, last_week, last_month or empty (default).
	Status string `toml:"status"`
	// OnlineFor (online) is how long the online status lasts from the start of the simulation
	// and after each message the user sends; default 1h.
	OnlineFor string `toml:"online_for"`
	// LastSeen (offline) is how long before the start of the simulation the user was last
	// online; default 1h.
	LastSeen string `toml:"last_seen"`
	// Avatar is an image file, relative to the fixture file.
	Avatar string `toml:"avatar"`
	// Behaviour is silent (default), echo or plain.
	Behaviour string `toml:"behaviour"`
	// Delay (echo, plain) is how long the user "types" before answering; default 0.
	Delay string `toml:"delay"`
	// Photo (echo) is the picture the user answers the text "photo" with, relative to the
	// fixture file; default a small built-in picture.
	Photo string `toml:"photo"`
}

// FixtureBulk generates many accounts sharing one set of contacts, for benchmarks.
type FixtureBulk struct {
	// Accounts is how many accounts; their phone numbers count up from PhoneFrom.
	Accounts  int    `toml:"accounts"`
	PhoneFrom string `toml:"phone_from"`
	Code      string `toml:"code"`
	Password  string `toml:"password"`
	// MeIDFrom is the user id of the first account's own user; the others count up.
	MeIDFrom int64 `toml:"me_id_from"`
	// Contacts is how many contacts each account has: users ContactIDFrom, ContactIDFrom+1, ...
	// named "Contact <n>", created by this table and shared by all its accounts.
	Contacts      int    `toml:"contacts"`
	ContactIDFrom int64  `toml:"contact_id_from"`
	Behaviour     string `toml:"behaviour"`
	Status        string `toml:"status"`
	Delay         string `toml:"delay"`
}

// fileData is a file of the fixture (an avatar, a picture), read at load.
type fileData struct {
	name          string
	mime          string
	data          []byte
	width, height int32
}

// FixtureError is a problem in a fixture file, at a line (0 when unknown).
type FixtureError struct {
	File string
	Line int
	Msg  string
}

func (e *FixtureError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.File, e.Msg)
}

// LoadFixture reads a fixture file; files it names are relative to its folder.
func LoadFixture(file string) (*Fixture, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	return ParseFixture(nil, abs, data, file)
}

// ParseFixture parses a fixture. The files it names are relative to the folder of name, in
// fsys, or in the operating system's file system when fsys is nil; display is the file name
// errors show.
func ParseFixture(fsys fs.FS, name string, data []byte, display string) (*Fixture, error) {
	fx := &Fixture{name: display, files: map[string]*fileData{}}
	src := string(data)
	md, err := toml.Decode(src, fx)
	if err != nil {
		return nil, fx.tomlError(err)
	}
	idx := indexLines(src)
	var errs []error
	fail := func(path, format string, args ...any) {
		errs = append(errs, &FixtureError{File: display, Line: idx.lineOf(path), Msg: path + ": " + fmt.Sprintf(format, args...)})
	}
	seen := map[string]int{}
	for _, k := range md.Undecoded() {
		p := k.String()
		line := idx.nthUnindexed(p, seen[p])
		seen[p]++
		errs = append(errs, &FixtureError{File: display, Line: line, Msg: fmt.Sprintf("unknown key %q", p)})
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	dir := path.Dir(name)
	if fsys == nil {
		dir = filepath.Dir(name)
	}
	fx.validate(fsys, dir, fail)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return fx, nil
}

var lineRE = regexp.MustCompile(`line (\d+)`)

func (fx *Fixture) tomlError(err error) error {
	var pe toml.ParseError
	if errors.As(err, &pe) {
		return &FixtureError{File: fx.name, Line: pe.Position.Line, Msg: pe.Message}
	}
	msg := strings.TrimPrefix(err.Error(), "toml: ")
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		n, _ := strconv.Atoi(m[1])
		msg = strings.TrimPrefix(strings.TrimPrefix(msg, m[0]), " ")
		return &FixtureError{File: fx.name, Line: n, Msg: msg}
	}
	return &FixtureError{File: fx.name, Msg: msg}
}

var (
	usernameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{2,31}$`)
	statuses   = []string{"online", "offline", "recently", "last_week", "last_month", "empty"}
	behaviours = []string{"silent", "echo", "plain"}
)

func (fx *Fixture) validate(fsys fs.FS, dir string, fail func(path, format string, args ...any)) {
	if fx.MaxReactions == 0 {
		fx.MaxReactions = 1
	}
	if fx.MaxReactions < 1 || fx.MaxReactions > 11 {
		fail("max_reactions", "must be 1..11")
	}
	if fx.History == 0 {
		fx.History = 1000
	}
	if fx.History < 10 {
		fail("history", "must be at least 10")
	}
	for i, r := range fx.Reactions {
		if strings.TrimSpace(r) == "" {
			fail(fmt.Sprintf("reactions[%d]", i), "empty reaction")
		}
	}
	ids := map[int64]string{}
	usernames := map[string]string{}
	phones := map[string]string{}
	user := func(p string, u *FixtureUser) {
		if u.ID <= 0 {
			fail(p+".id", "a user id > 0 is required")
		} else if prev, dup := ids[u.ID]; dup {
			fail(p+".id", "user id %d is also %s", u.ID, prev)
		} else {
			ids[u.ID] = p
		}
		if strings.TrimSpace(u.FirstName) == "" {
			fail(p+".first_name", "a first name is required")
		}
		for j, n := range u.Usernames {
			q := fmt.Sprintf("%s.usernames[%d]", p, j)
			if !usernameRE.MatchString(n) {
				fail(q, "%q is not a username (a letter, then 2-31 letters, digits or _)", n)
			} else if prev, dup := usernames[strings.ToLower(n)]; dup {
				fail(q, "username %q is also %s's", n, prev)
			} else {
				usernames[strings.ToLower(n)] = p
			}
		}
		if u.Phone != "" {
			d := digits(u.Phone)
			if d == "" {
				fail(p+".phone", "%q is not a phone number", u.Phone)
			} else if prev, dup := phones[d]; dup {
				fail(p+".phone", "phone number is also %s's", prev)
			} else {
				phones[d] = p
			}
		}
		if u.Status == "" {
			u.Status = "empty"
		}
		if !contains(statuses, u.Status) {
			fail(p+".status", "unknown status %q (want one of %s)", u.Status, strings.Join(statuses, ", "))
		}
		for _, d := range []struct{ key, val string }{{"online_for", u.OnlineFor}, {"last_seen", u.LastSeen}, {"delay", u.Delay}} {
			if d.val == "" {
				continue
			}
			if v, err := time.ParseDuration(d.val); err != nil || v < 0 {
				fail(p+"."+d.key, "%q is not a duration such as \"90s\" or \"2h\"", d.val)
			}
		}
		if u.Behaviour == "" {
			u.Behaviour = "silent"
		}
		if !contains(behaviours, u.Behaviour) {
			fail(p+".behaviour", "unknown behaviour %q (want one of %s)", u.Behaviour, strings.Join(behaviours, ", "))
		}
		for _, f := range []struct{ key, val string }{{"avatar", u.Avatar}, {"photo", u.Photo}} {
			if f.val == "" {
				continue
			}
			if err := fx.readFile(fsys, dir, f.val); err != nil {
				fail(p+"."+f.key, "%v", err)
			}
		}
	}
	for i := range fx.Users {
		user(fmt.Sprintf("user[%d]", i), &fx.Users[i])
	}
	accPhones := map[string]string{}
	for i := range fx.Accounts {
		a := &fx.Accounts[i]
		p := fmt.Sprintf("account[%d]", i)
		d := digits(a.Phone)
		if d == "" || len(d) < 5 {
			fail(p+".phone", "a phone number is required, e.g. \"+15550000001\"")
		} else if prev, dup := accPhones[d]; dup {
			fail(p+".phone", "phone number is also %s's", prev)
		} else {
			accPhones[d] = p
		}
		if a.Code == "" {
			fail(p+".code", "a login code is required")
		}
		if a.Me.Phone == "" {
			a.Me.Phone = a.Phone
		}
		user(p+".me", &a.Me)
		for _, list := range []struct {
			key string
			ids []int64
		}{{"contacts", a.Contacts}, {"chats", a.Chats}} {
			for j, id := range list.ids {
				if _, ok := ids[id]; !ok || id == a.Me.ID {
					fail(fmt.Sprintf("%s.%s[%d]", p, list.key, j), "no user %d", id)
				}
			}
		}
	}
	for i := range fx.Bulk {
		b := &fx.Bulk[i]
		p := fmt.Sprintf("bulk[%d]", i)
		if b.Accounts < 1 {
			fail(p+".accounts", "must be at least 1")
		}
		from, err := strconv.ParseInt(digits(b.PhoneFrom), 10, 64)
		if err != nil || from <= 0 {
			fail(p+".phone_from", "a phone number is required, e.g. \"+16660000000\"")
		}
		if b.Code == "" {
			fail(p+".code", "a login code is required")
		}
		if b.MeIDFrom <= 0 {
			fail(p+".me_id_from", "a user id > 0 is required")
		}
		if b.Contacts < 0 || (b.Contacts > 0 && b.ContactIDFrom <= 0) {
			fail(p+".contact_id_from", "a user id > 0 is required")
		}
		if b.Status == "" {
			b.Status = "online"
		}
		if !contains(statuses, b.Status) {
			fail(p+".status", "unknown status %q", b.Status)
		}
		if b.Behaviour == "" {
			b.Behaviour = "plain"
		}
		if !contains(behaviours, b.Behaviour) {
			fail(p+".behaviour", "unknown behaviour %q", b.Behaviour)
		}
		if b.Delay != "" {
			if _, err := time.ParseDuration(b.Delay); err != nil {
				fail(p+".delay", "%q is not a duration", b.Delay)
			}
		}
		for n := int64(0); n < int64(b.Accounts) && err == nil; n++ {
			d := strconv.FormatInt(from+n, 10)
			if prev, dup := accPhones[d]; dup {
				fail(p+".phone_from", "phone number +%s is also %s's", d, prev)
				break
			}
			accPhones[d] = p
		}
		for _, r := range []struct {
			from int64
			n    int
		}{{b.MeIDFrom, b.Accounts}, {b.ContactIDFrom, b.Contacts}} {
			for id := r.from; id < r.from+int64(r.n) && r.from > 0; id++ {
				if prev, dup := ids[id]; dup {
					fail(p, "user id %d is also %s", id, prev)
					break
				}
				ids[id] = p
			}
		}
	}
}

// readFile reads a file the fixture names, once.
func (fx *Fixture) readFile(fsys fs.FS, dir, name string) error {
	if _, ok := fx.files[name]; ok {
		return nil
	}
	var p string
	var data []byte
	var err error
	if fsys == nil {
		p = filepath.FromSlash(name)
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		data, err = os.ReadFile(p)
	} else {
		p = path.Clean(path.Join(dir, filepath.ToSlash(name)))
		data, err = fs.ReadFile(fsys, p)
	}
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("cannot read %q: %v", name, err)
	}
	f := &fileData{name: filepath.Base(p), data: data, mime: mime.TypeByExtension(filepath.Ext(p))}
	if f.mime == "" {
		f.mime = "application/octet-stream"
	}
	if cfg, format, err := image.DecodeConfig(bytes.NewReader(data)); err == nil {
		f.width, f.height = int32(cfg.Width), int32(cfg.Height)
		f.mime = "image/" + format
	}
	fx.files[name] = f
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// digits keeps the digits of a phone number: "+1 555-000" -> "1555000".
func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// duration parses a validated duration, or returns def for "".
func duration(s string, def time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, _ := time.ParseDuration(s)
	return d
}

// lineIndex maps the indexed path of each key of a TOML text ("user[2].status",
// "account[0].me.id") to the line where it is defined. The text was accepted by the TOML
// library, so a tolerant line scanner is enough.
type lineIndex struct {
	lines     map[string]int
	unindexed map[string][]int // "user.status" -> lines, in order
}

var arrayIndexRE = regexp.MustCompile(`\[\d+\]`)

func (x *lineIndex) lineOf(p string) int {
	for {
		if n, ok := x.lines[p]; ok {
			return n
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			return 0
		}
		p = p[:i]
	}
}

func (x *lineIndex) nthUnindexed(p string, n int) int {
	if l := x.unindexed[p]; n < len(l) {
		return l[n]
	}
	return 0
}

func indexLines(src string) *lineIndex {
	x := &lineIndex{lines: map[string]int{}, unindexed: map[string][]int{}}
	add := func(p string, line int) {
		if _, ok := x.lines[p]; !ok {
			x.lines[p] = line
		}
		u := arrayIndexRE.ReplaceAllString(p, "")
		x.unindexed[u] = append(x.unindexed[u], line)
	}
	count := map[string]int{} // unindexed array-of-tables path -> elements so far
	prefix := ""
	// resolve turns header keys into an indexed path, following arrays of tables.
	resolve := func(parts []string, isArray bool) string {
		var b, u strings.Builder
		for i, part := range parts {
			if i > 0 {
				b.WriteByte('.')
				u.WriteByte('.')
			}
			b.WriteString(part)
			u.WriteString(part)
			last := i == len(parts)-1
			if last && isArray {
				n := count[u.String()]
				count[u.String()] = n + 1
				fmt.Fprintf(&b, "[%d]", n)
			} else if n, ok := count[u.String()]; ok {
				fmt.Fprintf(&b, "[%d]", n-1)
			}
		}
		return b.String()
	}
	depth := 0     // open [ or { of a multi-line value
	inString := "" // open multi-line string delimiter
	arrPath, arrN := "", 0
	// elements indexes the elements of a multi-line array that start on a line.
	elements := func(text string, n int) {
		for i := 0; i < countItems(text); i++ {
			add(fmt.Sprintf("%s[%d]", arrPath, arrN), n)
			arrN++
		}
	}
	for i, line := range strings.Split(src, "\n") {
		n := i + 1
		t := strings.TrimSpace(line)
		if inString != "" {
			if strings.Contains(t, inString) {
				inString = ""
			}
			continue
		}
		if depth > 0 {
			if depth == 1 && arrPath != "" {
				elements(t, n)
			}
			depth += bracketDepth(t)
			continue
		}
		if t == "" || t[0] == '#' {
			continue
		}
		if strings.HasPrefix(t, "[[") {
			end := strings.Index(t, "]]")
			if end < 0 {
				continue
			}
			prefix = resolve(splitKey(t[2:end]), true)
			add(prefix, n)
			continue
		}
		if t[0] == '[' {
			end := strings.IndexByte(t, ']')
			if end < 0 {
				continue
			}
			prefix = resolve(splitKey(t[1:end]), false)
			add(prefix, n)
			continue
		}
		eq := keyEnd(t)
		if eq < 0 {
			continue
		}
		key := strings.Join(splitKey(t[:eq]), ".")
		p := key
		if prefix != "" {
			p = prefix + "." + key
		}
		add(p, n)
		val := strings.TrimSpace(t[eq+1:])
		for _, q := range []string{`"""`, `'''`} {
			if strings.HasPrefix(val, q) && !strings.Contains(val[3:], q) {
				inString = q
			}
		}
		if inString == "" {
			depth = bracketDepth(val)
			if depth < 0 {
				depth = 0
			}
			if depth == 1 && strings.HasPrefix(val, "[") {
				arrPath, arrN = p, 0
				elements(val[1:], n)
			} else {
				arrPath = ""
			}
		}
	}
	return x
}

// keyEnd finds the "=" ending the key of a key/value line, outside quotes.
func keyEnd(t string) int {
	var q byte
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '=':
			return i
		}
	}
	return -1
}

// splitKey splits a dotted key, removing quotes and spaces.
func splitKey(k string) []string {
	var parts []string
	for _, p := range strings.Split(k, ".") {
		p = strings.TrimSpace(p)
		p = strings.Trim(p, `"'`)
		parts = append(parts, p)
	}
	return parts
}

// countItems counts the array elements that start in a line of a multi-line array: the
// non-empty comma-separated pieces outside strings, brackets and comments.
func countItems(t string) int {
	n, d := 0, 0
	var q byte
	item := false
	for i := 0; i < len(t) && d >= 0; i++ {
		c := t[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
			item = true
		case c == '#':
			i = len(t)
		case c == '[' || c == '{':
			d++
			item = true
		case c == ']' || c == '}':
			d--
		case c == ',' && d == 0:
			if item {
				n++
			}
			item = false
		case c != ' ' && c != '\t':
			item = true
		}
	}
	if item {
		n++
	}
	return n
}

// bracketDepth counts the [ and { a line opens minus those it closes, outside strings and
// comments.
func bracketDepth(t string) int {
	d := 0
	var q byte
	for i := 0; i < len(t); i++ {
		c := t[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#':
			return d
		case c == '[' || c == '{':
			d++
		case c == ']' || c == '}':
			d--
		}
	}
	return d
}
