package session

import (
	"context"
	"errors"
	"log/slog"

	"github.com/xmppgw/gateway/abi"
	"github.com/xmppgw/gateway/host/plugin"
)

// Log writes a line the plugin logged for session.
func (m *Manager) Log(session string, level abi.LogLevel, msg string) {
	m.log.Log(context.Background(), slog.Level(level), msg, "source", "plugin", "user", session)
}

// PluginCrashed tells the user that the plugin failed while handling their input. The input
// itself is answered with an error by whoever waited for it.
func (m *Manager) PluginCrashed(session string, ev abi.EventType, err error) {
	s := m.lookup(session)
	if s == nil {
		return
	}
	text := "The " + m.cfg.Name + " plugin failed while handling your last request (" + string(ev) +
		") and was restarted; your session goes on."
	if errors.Is(err, plugin.ErrSessionStopped) {
		text = "The " + m.cfg.Name + " plugin failed repeatedly on your requests, so your session is stopped. " +
			"Send \"re-login\" to try again."
	}
	s.gatewayMessage(text)
}

// PluginRuntime adapts a loaded plugin to the Runtime a Manager needs.
type PluginRuntime struct{ P *plugin.Plugin }

// Event delivers one event and waits for its result.
func (r PluginRuntime) Event(ctx context.Context, session string, ev abi.EventType, chat *abi.Chat, payload []byte) (abi.Status, []byte, error) {
	res, err := r.P.Do(ctx, session, ev, chat, payload)
	if err != nil {
		return 0, nil, err
	}
	return res.Status, res.Reply, res.Err
}

var (
	_ plugin.Host         = (*Manager)(nil)
	_ plugin.CrashHandler = (*Manager)(nil)
	_ Runtime             = PluginRuntime{}
)
