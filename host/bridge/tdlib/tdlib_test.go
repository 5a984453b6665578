//go:build libtdjson

package tdlib_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/xmppgw/gateway/host/bridge"
	_ "github.com/xmppgw/gateway/host/bridge/backends"
	"github.com/xmppgw/gateway/host/config"
)

// With no network, TDLib started with use_test_dc and any api id and hash still reaches
// authorizationStateWaitPhoneNumber; then it closes cleanly.
func TestRealTDLibReachesWaitPhoneNumber(t *testing.T) {
	be, err := bridge.New("", config.Bridge{Name: "telegram", Backend: "tdlib", APIID: 12345,
		APIHash: "0123456789abcdef0123456789abcdef", UseTestDC: true})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	dir := t.TempDir()
	key := make([]byte, 32)
	rand.Read(key)

	for round := 0; round < 2; round++ { // the second round reopens the encrypted database
		cl, err := be.Open(context.Background(), bridge.Session{User: "alice@example.org", DataDir: dir, Key: key})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := be.Open(context.Background(), bridge.Session{User: "alice@example.org", DataDir: dir, Key: key}); err == nil {
			t.Fatal("a second client on the same folder opened")
		}
		// what a plugin sends: no folders, no key, no api id (the bridge fills them in)
		req, _ := bridge.WithExtra([]byte(`{"@type":"setTdlibParameters","use_message_database":true,"use_secret_chats":false,"system_language_code":"en","device_model":"test","application_version":"1"}`), `"p1"`)
		if err := cl.Send(req); err != nil {
			t.Fatal(err)
		}
		req, _ = bridge.WithExtra([]byte(`{"@type":"setLogStream","log_stream":{"@type":"logStreamFile","path":"/tmp/x"}}`), `"p2"`)
		if err := cl.Send(req); err != nil {
			t.Fatal(err)
		}
		var states []string
		answered := map[string]string{}
		deadline := time.After(2 * time.Minute)
	wait:
		for {
			select {
			case msg, ok := <-cl.Updates():
				if !ok {
					t.Fatal("stream ended")
				}
				if strings.Contains(string(msg), `"@client_id"`) {
					t.Errorf("@client_id left in %s", msg)
				}
				var m struct {
					Type  string `json:"@type"`
					Extra string `json:"@extra"`
					State struct {
						Type string `json:"@type"`
					} `json:"authorization_state"`
					Message string `json:"message"`
				}
				if err := json.Unmarshal(msg, &m); err != nil {
					t.Fatalf("%s: %v", msg, err)
				}
				if m.Extra != "" {
					answered[m.Extra] = m.Type + " " + m.Message
				}
				if m.Type == "updateAuthorizationState" {
					states = append(states, m.State.Type)
				}
				if len(states) > 0 && states[len(states)-1] == "authorizationStateWaitPhoneNumber" && answered["p1"] != "" {
					break wait
				}
			case <-deadline:
				t.Fatalf("no authorizationStateWaitPhoneNumber in 2 minutes; states %v", states)
			}
		}
		t.Logf("round %d: states %v, answers %v", round, states, answered)
		if answered["p1"] != "ok " {
			t.Errorf("setTdlibParameters answered %q", answered["p1"])
		}
		if answered["p2"] != "error bridge: setLogStream is not allowed" {
			t.Errorf("setLogStream answered %q", answered["p2"])
		}
		if _, err := os.Stat(filepath.Join(dir, "db")); err != nil {
			t.Errorf("no database folder: %v", err)
		}
		start := time.Now()
		if err := cl.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("round %d: closed in %s", round, time.Since(start))
		for range cl.Updates() {
		}
		if err := cl.Send([]byte(`{"@type":"getMe"}`)); !errors.Is(err, bridge.ErrClosed) {
			t.Fatalf("Send after Close: %v", err)
		}
	}
}

// logOut ends the stream after authorizationStateClosed and frees the session for a new client.
func TestRealTDLibLogOut(t *testing.T) {
	be, err := bridge.New("tdlib", config.Bridge{Name: "telegram", Backend: "tdlib", APIID: 12345,
		APIHash: "0123456789abcdef0123456789abcdef", UseTestDC: true})
	if err != nil {
		t.Fatal(err)
	}
	defer be.Close()
	dir := t.TempDir()
	cl, err := be.Open(context.Background(), bridge.Session{User: "bob@example.org", DataDir: dir, Key: []byte("0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	cl.Send([]byte(`{"@type":"setTdlibParameters"}`))
	var states []string
	deadline := time.After(2 * time.Minute)
	for loggedOut := false; ; {
		select {
		case msg, ok := <-cl.Updates():
			if !ok {
				if len(states) == 0 || states[len(states)-1] != "authorizationStateClosed" {
					t.Fatalf("stream ended after %v", states)
				}
				t.Logf("states %v", states)
				cl.Close()
				cl2, err := be.Open(context.Background(), bridge.Session{User: "bob@example.org", DataDir: dir, Key: []byte("0123456789abcdef")})
				if err != nil {
					t.Fatalf("reopen after logOut: %v", err)
				}
				cl2.Close()
				return
			}
			var m struct {
				Type  string `json:"@type"`
				State struct {
					Type string `json:"@type"`
				} `json:"authorization_state"`
			}
			json.Unmarshal(msg, &m)
			if m.Type == "updateAuthorizationState" {
				states = append(states, m.State.Type)
				if m.State.Type == "authorizationStateWaitPhoneNumber" && !loggedOut {
					loggedOut = true
					if err := cl.Send([]byte(`{"@type":"logOut","@extra":"out"}`)); err != nil {
						t.Fatal(err)
					}
				}
			}
		case <-deadline:
			t.Fatalf("states %v", states)
		}
	}
}
