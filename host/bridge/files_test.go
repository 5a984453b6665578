package bridge_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/host/bridge"
)

func TestMapInputFiles(t *testing.T) {
	resolve := func(p string) (string, error) {
		if id, ok := bridge.IsHandlePath(p); ok {
			return "/data/handles/" + id, nil
		}
		return "", errors.New("not a handle")
	}
	req := `{"@type":"sendMessage","chat_id":9007199254740993,"input_message_content":{"@type":"inputMessagePhoto","photo":{"@type":"inputFileLocal","path":"handle:f-7"},"thumbnail":{"@type":"inputThumbnail","thumbnail":{"@type":"inputFileLocal","path":"handle:f-8"}}}}`
	out, err := bridge.MapInputFiles([]byte(req), resolve)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"path":"/data/handles/f-7"`, `"path":"/data/handles/f-8"`, `"chat_id":9007199254740993`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("%s lacks %s", out, want)
		}
	}
	if _, err := bridge.MapInputFiles([]byte(`{"@type":"sendMessage","x":{"@type":"inputFileLocal","path":"/etc/passwd"}}`), resolve); err == nil {
		t.Error("a host path was let through")
	}
	if _, err := bridge.MapInputFiles([]byte(`{"@type":"sendMessage","x":{"@type":"inputFileGenerated","original_path":"/etc/passwd"}}`), resolve); err == nil {
		t.Error("inputFileGenerated was let through")
	}
	plain := []byte(`{"@type":"getMe"}`)
	if out, err := bridge.MapInputFiles(plain, resolve); err != nil || string(out) != string(plain) {
		t.Errorf("untouched request changed: %s %v", out, err)
	}
}

func TestMapLocalFiles(t *testing.T) {
	n := 0
	fn := func(p string, done bool) string {
		n++
		if !done {
			return ""
		}
		return "handle:f-" + p[len(p)-1:]
	}
	noPath := []byte(`{"@type":"updateUser","user":{"id":1,"profile_photo":{"small":{"@type":"file","id":3,"local":{"@type":"localFile","path":"","is_downloading_completed":false}}}}}`)
	if out := bridge.MapLocalFiles(noPath, fn); string(out) != string(noPath) || n != 0 {
		t.Fatalf("a message without paths was rewritten: %s", out)
	}
	msg := `{"@type":"updateFile","file":{"@type":"file","id":3,"size":9007199254740993,"local":{"@type":"localFile","path":"/data/files/photos/3_a","is_downloading_completed":true}}}`
	out := string(bridge.MapLocalFiles([]byte(msg), fn))
	if !strings.Contains(out, `"path":"handle:f-a"`) || !strings.Contains(out, `"size":9007199254740993`) {
		t.Fatalf("rewritten: %s", out)
	}
	partial := `{"@type":"file","local":{"@type":"localFile","path":"/data/x","is_downloading_completed":false}}`
	if out := string(bridge.MapLocalFiles([]byte(partial), fn)); !strings.Contains(out, `"path":""`) {
		t.Fatalf("partial: %s", out)
	}
	other := `{"@type":"file","local":{"path":"/data/y","@type":"localFile","is_downloading_completed":true}}`
	if out := string(bridge.MapLocalFiles([]byte(other), fn)); !strings.Contains(out, `"path":"handle:f-y"`) {
		t.Fatalf("other key order: %s", out)
	}
}
