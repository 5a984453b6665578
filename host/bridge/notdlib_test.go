//go:build !libtdjson

package bridge_test

import (
	"errors"
	"testing"

	"github.com/xmppgw/gateway/host/bridge"
	_ "github.com/xmppgw/gateway/host/bridge/backends"
	"github.com/xmppgw/gateway/host/config"
)

func TestNoTDLibInThisBuild(t *testing.T) {
	_, err := bridge.New("tdlib", config.Bridge{Name: "telegram", Backend: "tdlib", APIID: 1, APIHash: "secret"})
	if !errors.Is(err, bridge.ErrNoTDLib) {
		t.Fatalf("New(tdlib) = %v", err)
	}
	want := `bridge "telegram": this gateway was built without TDLib: rebuild with make build (needs make deps)`
	if err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	be, err := bridge.New("sim", config.Bridge{Name: "telegram", Backend: "sim"})
	if err != nil {
		t.Fatal(err)
	}
	be.Close()
}
