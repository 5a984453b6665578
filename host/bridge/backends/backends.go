// Package backends registers every bridge backend of this build with host/bridge: "sim"
// always, "tdlib" in builds with the libtdjson tag (make build). Import it for its side effect:
//
//	import _ "github.com/xmppgw/gateway/host/bridge/backends"
package backends

import (
	_ "github.com/xmppgw/gateway/host/bridge/sim"   // "sim"
	_ "github.com/xmppgw/gateway/host/bridge/tdlib" // "tdlib", with the libtdjson tag
)
