// Package gateway is the Go SDK for writing legacy-network plugins of the XMPP gateway: Wasm
// modules (GOOS=wasip1) that speak ABI v1 (package abi) to the host. It gives a plugin slidge's
// shape — a Plugin (BaseGateway), one SessionHandler per user (BaseSession), Contacts
// (LegacyContact) — and hides the ABI: the exports, the JSON, the many sessions that one
// instance serves, the contexts of asynchronous calls.
//
// # A plugin
//
// A plugin is a package main that registers its Plugin from an init function (a c-shared module
// runs initialisers, never main) and is built with
//
//	GOOS=wasip1 GOARCH=wasm go build -buildmode=c-shared -o myplugin.wasm .
//
// The SDK owns the module's exports (gw_alloc, gw_free, gw_event and the version marker
// gw_abi_v1_0): importing this package is all it takes. Plugin.Init declares the network;
// Plugin.NewSession returns the handler of one user's session, which gets the user's actions
// (OnText, OnCorrect, ...) and the host's requests (OnLogin, OnFill, OnUpdateInfo, ...). Embed
// BaseSession for the methods you do not implement: they return ErrUnhandled, and the host
// applies its default. Optional hooks are separate interfaces (JIDMapper, Restorer,
// BridgeEventHandler, EventHandler, ...).
//
// # One event at a time, nothing blocks
//
// Each handler runs during one event and must return promptly: a Go guest cannot block inside an
// export (its goroutines do not run between events), and one instance serves many users. Slow
// work is asynchronous: Session.Bridge(name).Call, Session.After and Session.Fetch return at once
// and call their callback during the later event that carries the answer. Host calls (every
// Session and Contact method) act on the session of the event being handled; calling them on
// another session returns ErrWrongSession.
//
// Handlers that end with an answer the host waits for (OnLogin: logged in or failed, OnText:
// sent or failed, OnUpdateInfo: ready or failed, OnValidate, OnSearch) return it, and the SDK
// sends it; or they send it themselves (Session.MessageSent, Contact.Ready, ...), or return
// ErrLater and send it from a callback.
//
// # Crashes
//
// The host holds everything durable (contacts, the plugin's key-value storage, timers, pending
// calls), so an instance may be replaced at any time: the session is then restored on a fresh
// instance (Restorer.OnRestored). Callbacks die with the old instance; the answers to its calls
// come to the hooks (BridgeResponseHandler, TimerHandler, FileFetchedHandler, else EventHandler)
// with the context the plugin gave at call time (Bridge.CallWith, Session.AfterWith,
// Session.FetchWith), so give a context that says enough to resume, and keep state that must
// survive in the host's storage (Session.KVSet).
//
// # Testing
//
// Package sdktest is a fake host: it drives a plugin's handlers with events in an ordinary go
// test, on any GOOS, records every host call with its decoded request, and answers them
// (bridge calls, timers and fetches are answered by the test). Package sdktest/wasmtest runs the
// built .wasm under wazero with the same fake host. plugins/echo is a complete example.
//
// # JSON
//
// The envelope and the frequent payloads and requests are coded by hand (internal/wire): inside
// a wasip1 guest encoding/json's reflection costs tens of microseconds per event. Built with the
// tag gw_stdjson, the SDK uses encoding/json throughout instead. json.RawMessage fields of event
// payloads (bridge events and responses, contexts) share memory with the event, which is never
// reused, so they stay valid after the handler returns.
package gateway
