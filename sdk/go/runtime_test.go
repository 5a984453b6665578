package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/xmppgw/gateway/abi"
)

// rawHost is a minimal host for tests of the runtime itself.
type rawHost struct {
	reply []byte
	logs  []string
}

func (h *rawHost) Call(method string, req []byte) int32 { return 2 }
func (h *rawHost) Result(buf []byte) int32              { return int32(copy(buf, "{}")) }
func (h *rawHost) Reply(b []byte)                       { h.reply = append([]byte(nil), b...) }
func (h *rawHost) Log(level int32, msg string)          { h.logs = append(h.logs, msg) }

type panicky struct{ BaseSession }

func (panicky) OnFill() error { panic("boom") }

type panicPlugin struct{}

func (panicPlugin) Init(Config) (abi.InitReply, error) { return abi.InitReply{Name: "P"}, nil }
func (panicPlugin) NewSession(*Session) SessionHandler { return panicky{} }

func TestPanicIsAnEventError(t *testing.T) {
	h := &rawHost{}
	rt := newRuntime(panicPlugin{}, h)
	st := rt.event([]byte(`{"type":"roster.fill","session":"a@b"}`))
	if st != abi.StatusError {
		t.Fatalf("status %d", st)
	}
	var er abi.ErrorReply
	if err := json.Unmarshal(h.reply, &er); err != nil || er.Error.Code != abi.CodeInternal || !strings.Contains(er.Error.Message, "boom") {
		t.Errorf("reply %s", h.reply)
	}
	if len(h.logs) != 1 || !strings.Contains(h.logs[0], "plugin panic: boom") {
		t.Errorf("logs %q", h.logs)
	}
	// The instance goes on.
	if st := rt.event([]byte(`{"type":"chat.state","session":"a@b","chat":{"id":"x","kind":"direct"},"payload":{"state":"active"}}`)); st != abi.StatusUnhandled {
		t.Errorf("after a panic: %d", st)
	}
}

func TestBadEnvelope(t *testing.T) {
	h := &rawHost{}
	rt := newRuntime(panicPlugin{}, h)
	if st := rt.event([]byte(`{"type":`)); st != abi.StatusError || !strings.Contains(string(h.reply), "bad_request") {
		t.Errorf("%d %s", st, h.reply)
	}
}

func TestContextRoundTrip(t *testing.T) {
	rt := newRuntime(panicPlugin{}, &rawHost{})
	for _, user := range []string{"", `"x"`, `{"a":[1,2]}`} {
		ctx := rt.appendContext(nil, 42, []byte(user))
		id, ours, got := rt.parseContext(ctx)
		if id != 42 || !ours || string(got) != user {
			t.Errorf("%s: %d %v %s", ctx, id, ours, got)
		}
		other := newRuntime(panicPlugin{}, &rawHost{})
		if _, ours, got := other.parseContext(ctx); ours || string(got) != user {
			t.Errorf("another instance: %v %s", ours, got)
		}
	}
	for _, foreign := range []string{`"plain"`, `{"x":1}`, `[1]`, `{"gw":`} {
		if id, ours, got := rt.parseContext([]byte(foreign)); id != 0 || ours || string(got) != foreign {
			t.Errorf("%s: %d %v %s", foreign, id, ours, got)
		}
	}
}
