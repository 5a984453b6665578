package bridge_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/host/bridge"
	"github.com/xmppgw/gateway/host/config"
)

func TestExtra(t *testing.T) {
	req, err := bridge.WithExtra([]byte(`{"@type":"getMe","@extra":"old","x":"<&>"}`), `"b-42"`)
	if err != nil {
		t.Fatal(err)
	}
	if string(req) != `{"@extra":"b-42","@type":"getMe","x":"<&>"}` {
		t.Fatalf("WithExtra = %s", req)
	}
	if _, err := bridge.WithExtra([]byte(`[1]`), `"x"`); !errors.Is(err, bridge.ErrBadRequest) {
		t.Fatalf("WithExtra of an array: %v", err)
	}
	if _, err := bridge.WithExtra([]byte(`{}`), `b-42`); err == nil {
		t.Fatal("WithExtra of a non-JSON extra worked")
	}
	x, rest, ok := bridge.Extra([]byte(`{"@type":"user","id":1,"@extra":{"t":"b-1"},"@client_id":3}`))
	if !ok || string(x) != `{"t":"b-1"}` || string(rest) != `{"@type":"user","id":1}` {
		t.Fatalf("Extra = %s %s %v", x, rest, ok)
	}
	upd := []byte(`{"@type":"updateUser","text":"@extra"}`)
	if x, rest, ok := bridge.Extra(upd); ok || x != nil || string(rest) != string(upd) {
		t.Fatalf("Extra of an update = %s %s %v", x, rest, ok)
	}
	for in, want := range map[string]string{`{"@type":"getMe"}`: "getMe", `{"@type":""}`: "", `{}`: "", `nope`: ""} {
		got, err := bridge.RequestType([]byte(in))
		if got != want || (want == "") != errors.Is(err, bridge.ErrBadRequest) {
			t.Errorf("RequestType(%s) = %q, %v", in, got, err)
		}
	}
}

type fake struct{}

func (fake) Open(context.Context, bridge.Session) (bridge.Client, error) {
	return nil, errors.New("no")
}
func (fake) Close() error { return nil }

func TestRegistry(t *testing.T) {
	var got bridge.Options
	bridge.Register("fake-for-test", func(cfg config.Bridge, o bridge.Options) (bridge.Backend, error) {
		got = o
		if cfg.Fixture == "bad" {
			return nil, errors.New("bad fixture")
		}
		return fake{}, nil
	})
	if _, err := bridge.New("fake-for-test", config.Bridge{Name: "n"}); err != nil {
		t.Fatal(err)
	}
	if got.Logger == nil || got.Now == nil {
		t.Fatal("defaults not set")
	}
	if _, err := bridge.New("", config.Bridge{Name: "n", Backend: "fake-for-test", Fixture: "bad"}); err == nil || !strings.Contains(err.Error(), `bridge "n": bad fixture`) {
		t.Fatalf("factory error: %v", err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a duplicate registration did not panic")
		}
	}()
	bridge.Register("fake-for-test", nil)
}
