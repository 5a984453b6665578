// Package tdlib is the real Telegram bridge backend ("tdlib"): TDLib 1.8.40's JSON interface
// (libtdjson, the build go-tdlib v0.7.6 is generated for), one TDLib client per session.
//
// It exists only in builds with the libtdjson build tag, which need the library and a header
// (scripts/tdlib-deps.sh installs both into .deps/tdlib and prints the cgo settings):
//
//	bash scripts/tdlib-deps.sh
//	CGO_CFLAGS=-I$PWD/.deps/tdlib/include CGO_LDFLAGS="-L$PWD/.deps/tdlib/lib -Wl,-rpath,$PWD/.deps/tdlib/lib" \
//	    go build -tags libtdjson ./cmd/gateway
//
// Without the tag this package is empty and bridge.New("tdlib", ...) fails with
// bridge.ErrNoTDLib.
//
// Requests and answers are TDLib's own JSON, passed through unchanged, with two exceptions that
// keep the host in charge: setTdlibParameters gets the session's folders (DataDir/db,
// DataDir/files), its database encryption key (Session.Key), and the api id, api hash and
// use_test_dc of the configuration, whatever the plugin wrote there; and requests that would
// reach outside the session (setLogStream, setLogVerbosityLevel, setLogTagVerbosityLevel,
// addLogMessage, setDatabaseEncryptionKey) are refused with error 400. One goroutine per process
// receives from TDLib (td_receive is not reentrant) and hands each answer or update to its
// session's ordered queue, so a slow session never holds up the others.
package tdlib
