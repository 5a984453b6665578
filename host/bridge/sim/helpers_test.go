package sim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/xmppgw/gateway/host/bridge"
)

// testWorld is the fixture of most tests: the demo's people without delays.
const testWorld = `
reactions = ["👍", "❤", "😂"]

[[account]]
phone = "+15550000001"
code = "12345"
contacts = [1001, 1002, 1003, 1004, 1005, 777000]

[account.me]
id = 9000001
first_name = "Alice"

[[account]]
phone = "+15550000002"
code = "12345"
password = "hunter2"
password_hint = "classic"
contacts = [1001]

[account.me]
id = 9000002
first_name = "Bob"

[[user]]
id = 1001
first_name = "Eve"
last_name = "Echo"
phone = "+15550001001"
bio = "I repeat whatever you say."
status = "online"
online_for = "10m"
avatar = "a/eve.png"
behaviour = "echo"

[[user]]
id = 1002
first_name = "Dora"
usernames = ["dora"]
status = "offline"
last_seen = "2h"

[[user]]
id = 1003
first_name = "Liam"
last_name = "Lastweek"
status = "last_week"

[[user]]
id = 1004
first_name = "Helper"
last_name = "Bot"
bot = true

[[user]]
id = 1005
first_name = "Plain"
last_name = "Echo"
status = "recently"
behaviour = "plain"

[[user]]
id = 777000
first_name = "Telegram"
phone = "42777"

[[user]]
id = 2000
first_name = "Stranger"
phone = "+15550002000"
usernames = ["stranger"]
status = "last_month"
`

var testStart = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func testFixture(t testing.TB, text string) *Fixture {
	t.Helper()
	fsys := fstest.MapFS{"a/eve.png": {Data: builtinPicture}}
	fx, err := ParseFixture(fsys, "world.toml", []byte(text), "world.toml")
	if err != nil {
		t.Fatal(err)
	}
	return fx
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func newTestBackend(t testing.TB, text string) *Backend {
	t.Helper()
	now := testStart
	b := NewFromFixture(testFixture(t, text), bridge.Options{Logger: quietLogger(), Now: func() time.Time { return now }})
	t.Cleanup(func() { b.Close() })
	return b
}

// obj is a decoded TDLib object.
type obj map[string]any

// get follows a dotted path ("message.content.text.text"); numbers index arrays.
func (o obj) get(path string) any {
	var v any = map[string]any(o)
	for _, k := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case obj:
			v = x[k]
		case []any:
			i, err := strconv.Atoi(k)
			if err != nil || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

func (o obj) str(path string) string {
	s, _ := o.get(path).(string)
	return s
}

func (o obj) num(path string) int64 {
	switch x := o.get(path).(type) {
	case json.Number:
		n, _ := x.Int64()
		return n
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return 0
}

func (o obj) typ() string { return o.str("@type") }

func decode(t testing.TB, raw []byte) obj {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(string(raw)))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("bad JSON %s: %v", raw, err)
	}
	return m
}

// tclient drives one client as the host would.
type tclient struct {
	t     testing.TB
	c     bridge.Client
	n     int
	queue []obj // updates received and not yet taken
}

func openClient(t testing.TB, b *Backend, dir string, key string) *tclient {
	t.Helper()
	c, err := b.Open(context.Background(), bridge.Session{User: "alice@example.org", DataDir: dir, Key: []byte(key)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &tclient{t: t, c: c}
}

// read returns the next message of the stream.
func (c *tclient) read() (obj, bool) {
	c.t.Helper()
	select {
	case raw, ok := <-c.c.Updates():
		if !ok {
			return nil, false
		}
		return decode(c.t, raw), true
	case <-time.After(5 * time.Second):
		c.t.Fatalf("no message from the client in 5s")
		return nil, false
	}
}

// call sends a request and returns its answer; updates seen meanwhile are queued.
func (c *tclient) call(req string) obj {
	c.t.Helper()
	c.n++
	extra := fmt.Sprintf(`"x%d"`, c.n)
	data, err := bridge.WithExtra([]byte(req), extra)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := c.c.Send(data); err != nil {
		c.t.Fatalf("send %s: %v", req, err)
	}
	for {
		m, ok := c.read()
		if !ok {
			c.t.Fatalf("stream ended waiting for the answer to %s", req)
		}
		if x, has := m["@extra"]; has {
			if x != extra[1:len(extra)-1] {
				c.t.Fatalf("answer with @extra %v, want %s", x, extra)
			}
			delete(m, "@extra")
			return m
		}
		c.queue = append(c.queue, m)
	}
}

// sync returns every update queued before now (a later request's answer comes after them).
func (c *tclient) sync() []obj {
	c.t.Helper()
	c.call(`{"@type":"getAuthorizationState"}`)
	q := c.queue
	c.queue = nil
	return q
}

// types lists the @type of updates, with the state of authorization updates.
func types(us []obj) []string {
	var out []string
	for _, u := range us {
		s := u.typ()
		switch s {
		case "updateAuthorizationState":
			s += ":" + u.str("authorization_state.@type")
		case "updateChatAction":
			s += ":" + u.str("action.@type")
		}
		out = append(out, s)
	}
	return out
}

func wantTypes(t testing.TB, us []obj, want ...string) {
	t.Helper()
	got := types(us)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("updates:\n got  %s\n want %s", strings.Join(got, " "), strings.Join(want, " "))
	}
}

func wantOK(t testing.TB, m obj) {
	t.Helper()
	if m.typ() != "ok" {
		t.Fatalf("answer %v, want ok", m)
	}
}

func wantError(t testing.TB, m obj, code int64, msg string) {
	t.Helper()
	if m.typ() != "error" || m.num("code") != code || m.str("message") != msg {
		t.Fatalf("answer %v, want error %d %s", m, code, msg)
	}
}

// login runs the whole login of an account and returns the client, updates taken.
func login(t testing.TB, b *Backend, dir, phone, password string) *tclient {
	t.Helper()
	c := openClient(t, b, dir, "key")
	wantOK(t, c.call(`{"@type":"setTdlibParameters","api_id":1,"api_hash":"x"}`))
	wantOK(t, c.call(`{"@type":"setAuthenticationPhoneNumber","phone_number":"`+phone+`"}`))
	wantOK(t, c.call(`{"@type":"checkAuthenticationCode","code":"12345"}`))
	if password != "" {
		wantOK(t, c.call(`{"@type":"checkAuthenticationPassword","password":"`+password+`"}`))
	}
	us := c.sync()
	if last := types(us); len(last) == 0 || last[len(last)-1] != "updateAuthorizationState:authorizationStateReady" {
		t.Fatalf("login updates %v", last)
	}
	return c
}

// find returns the first update of type typ.
func find(t testing.TB, us []obj, typ string) obj {
	t.Helper()
	for _, u := range us {
		if u.typ() == typ {
			return u
		}
	}
	t.Fatalf("no %s in %v", typ, types(us))
	return nil
}

func bridgeOptions() bridge.Options {
	return bridge.Options{Logger: quietLogger(), Now: func() time.Time { return testStart }}
}
