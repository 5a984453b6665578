package checker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/xmppgw/gateway/abi"
)

// Fixture is what a plugin's author supplies to the scenario: registration values, prompt
// answers, the contact to test and canned bridge answers. The package documentation describes
// its file format; every field is optional.
type Fixture struct {
	// Config is init's config object, the gateway's [gateway.config] table. Default: {}.
	Config json.RawMessage `json:"config,omitempty"`
	// Bridges are the bridges granted in init, besides those named in Bridge.
	Bridges []string `json:"bridges,omitempty"`
	// Registration gives registration values by field var; they win over the defaults.
	Registration map[string]string `json:"registration,omitempty"`
	// Prompts answer session.prompt; the first that matches a prompt answers it.
	Prompts []PromptAnswer `json:"prompts,omitempty"`
	// Contact is the legacy id that update_info, text and jid_mapping test. Default: the first
	// contact the plugin creates.
	Contact string `json:"contact,omitempty"`
	// Text is the body of the test message. Default: "Hello from the plugin checker".
	Text string `json:"text,omitempty"`
	// Bridge are the canned answers to bridge.call; the first that matches a call answers it.
	Bridge []BridgeAnswer `json:"bridge,omitempty"`
}

// PromptAnswer answers a session.prompt that has the ID, or whose text contains Match (compared
// without regard to case). An entry with neither matches every prompt.
type PromptAnswer struct {
	ID     string `json:"id,omitempty"`
	Match  string `json:"match,omitempty"`
	Answer string `json:"answer"`
}

func (a PromptAnswer) matches(p abi.Prompt) bool {
	if a.ID != "" && a.ID != p.Prompt {
		return false
	}
	return a.Match == "" || strings.Contains(strings.ToLower(p.Text), strings.ToLower(a.Match))
}

// answer returns the fixture's answer to a prompt.
func (f *Fixture) answer(p abi.Prompt) (string, bool) {
	for _, a := range f.Prompts {
		if a.matches(p) {
			return a.Answer, true
		}
	}
	return "", false
}

// BridgeAnswer is a canned answer to the bridge calls it matches: those to Bridge (any when
// empty) whose request has Type as its "@type" (or "type") field, when Type is set, and whose
// compact JSON contains Contains, when set.
type BridgeAnswer struct {
	Bridge   string `json:"bridge,omitempty"`
	Type     string `json:"type,omitempty"`
	Contains string `json:"contains,omitempty"`
	// Response is the bridge.response's response; absent, with no Error: {}.
	Response json.RawMessage `json:"response,omitempty"`
	// Error, when set, is the bridge.response's error instead.
	Error *abi.Error `json:"error,omitempty"`
	// Events are delivered as bridge.event events after the response, in order.
	Events []json.RawMessage `json:"events,omitempty"`
	// Once: the entry answers one call only.
	Once bool `json:"once,omitempty"`
}

// LoadFixture reads a fixture file: TOML when its name ends in ".toml", JSON otherwise. Unknown
// keys are errors, so that a misspelt key does not go unnoticed.
func LoadFixture(path string) (*Fixture, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if strings.HasSuffix(path, ".toml") {
		var m map[string]any
		if _, err := toml.Decode(string(b), &m); err != nil {
			return nil, fmt.Errorf("fixture %s: %w", path, err)
		}
		if b, err = json.Marshal(m); err != nil {
			return nil, fmt.Errorf("fixture %s: %w", path, err)
		}
	}
	f := new(Fixture)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(f); err != nil {
		return nil, fmt.Errorf("fixture %s: %w", path, err)
	}
	for i, a := range f.Bridge {
		if len(a.Response) > 0 && a.Error != nil {
			return nil, fmt.Errorf("fixture %s: bridge answer %d has both a response and an error", path, i+1)
		}
	}
	if len(f.Config) > 0 && !bytes.HasPrefix(bytes.TrimSpace(f.Config), []byte("{")) {
		return nil, fmt.Errorf("fixture %s: config must be an object", path)
	}
	return f, nil
}

// Bridge is the bridge side of the plugin's bridge.call during a check: the fixture's canned
// answers (NewFixtureBridge), or an adapter to a real or simulated bridge. The host has already
// checked that the bridge is granted, and gives each call its token. Like the gateway's bridges,
// a Bridge is asynchronous: Call sends, and the answers (and the bridge's own events) come back,
// in order, from Next.
type Bridge interface {
	// Call sends request, made by session to bridge, whose answer must carry token. It must not
	// block: it runs inside the plugin's host call. An error fails the host call itself (an
	// *abi.Error gives its code, any other error is internal).
	Call(ctx context.Context, session, bridge, token string, request json.RawMessage) error
	// Next returns the bridge's next message for the checker, waiting up to wait for one when
	// none is ready; ok is false when none came. The checker waits only while calls are
	// unanswered.
	Next(ctx context.Context, wait time.Duration) (m BridgeMessage, ok bool)
}

// BridgeMessage is what a bridge delivers: the answer to a call (Token set, and Response or
// Error), delivered as bridge.response, or one of its own events (Event set), delivered as
// bridge.event.
type BridgeMessage struct {
	Bridge   string
	Token    string
	Response json.RawMessage
	Error    *abi.Error
	Event    json.RawMessage
}

// NewFixtureBridge returns the Bridge that answers from a fixture's canned answers, at once. A
// call no answer matches gets the error unavailable, "no canned response in the fixture".
func NewFixtureBridge(answers []BridgeAnswer) Bridge {
	return &fixtureBridge{answers: answers, used: make([]bool, len(answers))}
}

type fixtureBridge struct {
	mu      sync.Mutex
	answers []BridgeAnswer
	used    []bool
	out     []BridgeMessage
}

func (b *fixtureBridge) Call(_ context.Context, _, bridge, token string, request json.RawMessage) error {
	var compact bytes.Buffer
	if err := json.Compact(&compact, request); err != nil {
		compact.Reset()
		compact.Write(request)
	}
	var typed struct {
		AtType string `json:"@type"`
		Type   string `json:"type"`
	}
	_ = json.Unmarshal(request, &typed)
	b.mu.Lock()
	defer b.mu.Unlock()
	for i, a := range b.answers {
		switch {
		case b.used[i],
			a.Bridge != "" && a.Bridge != bridge,
			a.Type != "" && a.Type != typed.AtType && a.Type != typed.Type,
			a.Contains != "" && !strings.Contains(compact.String(), a.Contains):
			continue
		}
		if a.Once {
			b.used[i] = true
		}
		m := BridgeMessage{Bridge: bridge, Token: token, Response: a.Response, Error: a.Error}
		if m.Error == nil && len(m.Response) == 0 {
			m.Response = json.RawMessage("{}")
		}
		b.out = append(b.out, m)
		for _, e := range a.Events {
			b.out = append(b.out, BridgeMessage{Bridge: bridge, Event: e})
		}
		return nil
	}
	b.out = append(b.out, BridgeMessage{Bridge: bridge, Token: token, Error: abi.Errorf(abi.CodeUnavailable, "no canned response in the fixture")})
	return nil
}

func (b *fixtureBridge) Next(context.Context, time.Duration) (BridgeMessage, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.out) == 0 {
		return BridgeMessage{}, false
	}
	m := b.out[0]
	b.out = b.out[1:]
	return m, true
}
