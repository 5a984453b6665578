package sim

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFixtureErrors(t *testing.T) {
	tests := []struct {
		file string
		want []string // each must appear in the error
	}{
		{"unknown_key.toml", []string{`testdata/unknown_key.toml:16: unknown key "user.favourite_colour"`}},
		{"bad_values.toml", []string{
			"testdata/bad_values.toml:1: reactions[1]: empty reaction",
			"testdata/bad_values.toml:5: account[0].code: a login code is required",
			"testdata/bad_values.toml:8: account[0].contacts[1]: no user 99",
			`testdata/bad_values.toml:18: user[0].status: unknown status "busy"`,
			`testdata/bad_values.toml:19: user[0].usernames[0]: "b c" is not a username`,
			"testdata/bad_values.toml:22: user[1].id: user id 2 is also user[0]",
			"testdata/bad_values.toml:23: user[1].first_name: a first name is required",
			`testdata/bad_values.toml:24: user[1].behaviour: unknown behaviour "shout"`,
			`testdata/bad_values.toml:25: user[1].delay: "soon" is not a duration`,
			`testdata/bad_values.toml:26: user[1].avatar: cannot read "missing.png"`,
		}},
		{"syntax.toml", []string{"testdata/syntax.toml:3: "}},
		{"wrong_type.toml", []string{"testdata/wrong_type.toml:2: "}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			_, err := LoadFixture(filepath.Join("testdata", tt.file))
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestFixtureRelativeFiles(t *testing.T) {
	fx, err := LoadFixture(filepath.Join("testdata", "good.toml"))
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile(filepath.Join("demo", "avatars", "eve.png"))
	if f := fx.files["../demo/avatars/eve.png"]; f == nil || !bytes.Equal(f.data, want) || f.mime != "image/png" || f.width != 160 {
		t.Fatalf("avatar %+v", f)
	}
}

func TestDemoFixture(t *testing.T) {
	fx, err := DemoFixture()
	if err != nil {
		t.Fatal(err)
	}
	if len(fx.Accounts) != 2 || fx.Accounts[0].Phone != "+15550000001" || fx.Accounts[1].Password != "hunter2" {
		t.Fatalf("accounts %+v", fx.Accounts)
	}
	b := newDemoBackend(t)
	c := login(t, b, t.TempDir(), "+15550000001", "")
	if n := c.call(`{"@type":"getContacts"}`).num("total_count"); n != 6 {
		t.Fatalf("%d contacts", n)
	}
	names := map[int64]string{}
	for _, u := range c.queue {
		if u.str("user.profile_photo.@type") != "profilePhoto" {
			t.Errorf("user %d has no avatar", u.num("user.id"))
		}
		names[u.num("user.id")] = strings.TrimSpace(u.str("user.first_name") + " " + u.str("user.last_name"))
	}
	if names[1001] != "Eve Echo" || names[1003] != "Liam Lastweek" || names[1004] != "Helper Bot" || names[1005] != "Plain Echo" || names[777000] == "" {
		t.Fatalf("contacts %v", names)
	}
	c2 := login(t, b, t.TempDir(), "+15550000002", "hunter2")
	if n := c2.call(`{"@type":"getContacts"}`).num("total_count"); n != 1 {
		t.Fatalf("second account: %d contacts", n)
	}
}

func newDemoBackend(t *testing.T) *Backend {
	fx, err := DemoFixture()
	if err != nil {
		t.Fatal(err)
	}
	b := NewFromFixture(fx, bridgeOptions())
	t.Cleanup(func() { b.Close() })
	return b
}

// The fixture the Telegram plugin ships is a copy of the embedded one (go generate writes it).
func TestShippedFixtureIsTheEmbeddedOne(t *testing.T) {
	shipped := filepath.Join("..", "..", "..", "plugins", "telegram", "fixture")
	err := fs.WalkDir(demoFS, "demo", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		want, _ := demoFS.ReadFile(p)
		got, err := os.ReadFile(filepath.Join(shipped, strings.TrimPrefix(p, "demo/")))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from plugins/telegram/fixture (run go generate ./host/bridge/sim): %v", p, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestLineIndex(t *testing.T) {
	src := "a = 1\n[[x]]\nk = \"\"\"\nb = 2\n\"\"\"\nl = [\n  {c = 3},\n]\n[x.y]\nz = 1\n[[x]]\n\"q.r\" = 2\n"
	idx := indexLines(src)
	for p, want := range map[string]int{"a": 1, "x[0]": 2, "x[0].k": 3, "x[0].l": 6, "x[0].y": 9, "x[0].y.z": 10, "x[1]": 11, "x[1].q.r": 12, "x[1].nothing": 11} {
		if got := idx.lineOf(p); got != want {
			t.Errorf("line of %s = %d, want %d", p, got, want)
		}
	}
	if _, ok := idx.lines["x[0].b"]; ok {
		t.Error("a key inside a multi-line string was indexed")
	}
}
