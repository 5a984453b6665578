package session

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/bridge"
)

// A session reaches a bridge through one client of it, opened at the first bridge.call: the
// plugin's request goes out with "@extra" set to a token, and the client's stream is read by a
// goroutine that posts answers (bridge.response, with the plugin's context) and the bridge's own
// updates (bridge.event) to the session. Files cross as handles: "handle:<id>" where TDLib wants
// a path, and a downloaded file comes back as a new handle.

// bridgeConn is one session's client of one bridge.
type bridgeConn struct {
	name    string
	client  bridge.Client
	pending map[string]json.RawMessage // token -> the plugin's context; owned by the actor
	handles map[string]string          // downloaded path -> handle, so a file is imported once
}

// keySecret names the per-user database encryption key of a bridge in the store.
func keySecret(name string) string { return "bridge/" + name + "/key" }

func (s *Session) bridgeCall(r abi.BridgeCall) ([]byte, error) {
	be, ok := s.m.cfg.Bridges[r.Bridge]
	if !ok {
		return nil, abi.Errorf(abi.CodeForbidden, "bridge %q is not granted to this gateway", r.Bridge)
	}
	bc, err := s.bridgeConn(r.Bridge, be)
	if err != nil {
		return nil, err
	}
	req, err := bridge.MapInputFiles(r.Request, func(p string) (string, error) {
		id, ok := bridge.IsHandlePath(p)
		if !ok {
			return "", fmt.Errorf("a local path must be a file handle (handle:<id>), not %q", p)
		}
		path, ok := s.m.FilePath(s.user, id)
		if !ok {
			return "", fmt.Errorf("no file handle %q", id)
		}
		return path, nil
	})
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadRequest, "%v", err)
	}
	s.nextReq++
	token := "b" + strconv.Itoa(s.nextReq)
	req, err = bridge.WithExtra(req, strconv.Quote(token))
	if err != nil {
		return nil, abi.Errorf(abi.CodeBadRequest, "%v", err)
	}
	if err := bc.client.Send(req); err != nil {
		return nil, abi.Errorf(abi.CodeUnavailable, "bridge %q: %v", r.Bridge, err)
	}
	bc.pending[token] = r.Context
	return marshal(abi.Token{Token: token})
}

// bridgeConn returns the session's client of a bridge, opening it at the first use.
func (s *Session) bridgeConn(name string, be bridge.Backend) (*bridgeConn, error) {
	if bc := s.bridges[name]; bc != nil {
		return bc, nil
	}
	key, err := s.m.st.Secret(s.ctx, s.m.cfg.JID, s.user, keySecret(name), func() ([]byte, error) {
		k := make([]byte, 32)
		_, err := rand.Read(k)
		return k, err
	})
	if err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "bridge %q: %v", name, err)
	}
	dir := filepath.Join(s.m.cfg.UserDataDir(s.user), name)
	if s.m.cfg.DataDir == "" {
		dir = ""
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, abi.Errorf(abi.CodeInternal, "bridge %q: %v", name, err)
	}
	client, err := be.Open(s.ctx, bridge.Session{User: s.user, DataDir: dir, Key: key})
	if err != nil {
		return nil, abi.Errorf(abi.CodeUnavailable, "bridge %q: %v", name, err)
	}
	bc := &bridgeConn{name: name, client: client, pending: map[string]json.RawMessage{}, handles: map[string]string{}}
	if s.bridges == nil {
		s.bridges = map[string]*bridgeConn{}
	}
	s.bridges[name] = bc
	go s.readBridge(bc)
	return bc, nil
}

// readBridge posts everything the client delivers to the session, in order.
func (s *Session) readBridge(bc *bridgeConn) {
	for msg := range bc.client.Updates() {
		s.post(func() { s.onBridgeMessage(bc, msg) })
	}
	s.post(func() { s.bridgeClosed(bc) })
}

// onBridgeMessage delivers an answer or an update to the plugin; it runs on the actor.
func (s *Session) onBridgeMessage(bc *bridgeConn, msg []byte) {
	msg = bridge.MapLocalFiles(msg, func(path string, complete bool) string {
		if !complete {
			return ""
		}
		if h, ok := bc.handles[path]; ok {
			if _, live := s.m.FilePath(s.user, h); live {
				return "handle:" + h
			}
			// The plugin released it: a later mention gets a fresh handle.
		}
		f, err := s.m.FileImport(s.user, path, "", "")
		if err != nil {
			s.log.Warn("bridge file not imported", "bridge", bc.name, "err", err)
			return ""
		}
		bc.handles[path] = f.Handle
		return "handle:" + f.Handle
	})
	extra, rest, ok := bridge.Extra(msg)
	if !ok {
		s.deliver(abi.EventBridgeEvent, nil, abi.BridgeEvent{Bridge: bc.name, Event: msg})
		return
	}
	var token string
	if err := json.Unmarshal(extra, &token); err != nil {
		return // not one of ours
	}
	ctx, pending := bc.pending[token]
	if !pending {
		return
	}
	delete(bc.pending, token)
	s.deliver(abi.EventBridgeResponse, nil, abi.BridgeResponse{Token: token, Context: ctx, Response: rest})
}

// bridgeClosed fails the calls still waiting on a client whose stream ended; the next
// bridge.call opens a new one.
func (s *Session) bridgeClosed(bc *bridgeConn) {
	if s.bridges[bc.name] == bc {
		delete(s.bridges, bc.name)
	}
	for token, ctx := range bc.pending {
		s.deliver(abi.EventBridgeResponse, nil, abi.BridgeResponse{Token: token, Context: ctx,
			Error: abi.Errorf(abi.CodeUnavailable, "the bridge %q closed the session", bc.name)})
	}
	clear(bc.pending)
}

// closeBridges closes the session's bridge clients (logout, unregister, shutdown).
func (s *Session) closeBridges() {
	for name, bc := range s.bridges {
		if err := bc.client.Close(); err != nil && !errors.Is(err, bridge.ErrClosed) {
			s.log.Warn("close bridge client", "bridge", name, "err", err)
		}
		delete(s.bridges, name)
	}
}
