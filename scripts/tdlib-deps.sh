#!/usr/bin/env bash
# Installs TDLib's JSON library (libtdjson 1.8.40, the build github.com/zelenin/go-tdlib
# v0.7.6 is generated for) into .deps/tdlib, for builds with the libtdjson tag:
#
#   .deps/tdlib/lib/libtdjson.so.1.8.40   the library, from the npm package prebuilt-tdlib
#   .deps/tdlib/lib/libtdjson.so          a link to it, for the linker
#   .deps/tdlib/include/td/telegram/td_json_client.h
#                                         the project's own header: the package has none, and
#                                         go-tdlib and host/bridge/tdlib need only four functions
#
# Idempotent: a complete install is left alone (pass --force to redo it). At the end it prints
# the cgo settings to build with, as shell assignments (eval "$(scripts/tdlib-deps.sh --env)"
# prints only those). Needs npm and the npm registry; Linux x86-64 with glibc.
set -euo pipefail

VERSION=0.1008040.0   # prebuilt-tdlib carrying TDLib 1.8.40 at commit 22d49d5 (go-tdlib v0.7.6)
SONAME=libtdjson.so.1.8.40
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEST="$ROOT/.deps/tdlib"
LIB="$DEST/lib"
INC="$DEST/include"

force=0 envonly=0
for a in "$@"; do
  case "$a" in
    --force) force=1 ;;
    --env) envonly=1 ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "tdlib-deps: unknown argument $a" >&2; exit 2 ;;
  esac
done

say() { [ "$envonly" = 1 ] || echo "tdlib-deps: $*"; }

header() {
  mkdir -p "$INC/td/telegram"
  cat >"$INC/td/telegram/td_json_client.h.tmp" <<'EOF'
/*
 * The four functions of TDLib's JSON interface (td/telegram/td_json_client.h of TDLib 1.8.40)
 * that go-tdlib and host/bridge/tdlib call. Written by scripts/tdlib-deps.sh; the library is
 * libtdjson.so.1.8.40 from the npm package prebuilt-tdlib@0.1008040.0.
 */
#ifndef XMPPGW_TD_JSON_CLIENT_H
#define XMPPGW_TD_JSON_CLIENT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Returns an identifier of a new TDLib instance; it sends nothing until its first request. */
int td_create_client_id(void);

/* Sends a request (a JSON-serialized object) to the TDLib client with the identifier client_id. */
void td_send(int client_id, const char *request);

/* Receives an incoming update or answer, for any client, waiting at most timeout seconds.
 * Returns NULL on timeout. Not reentrant: call it from one thread at a time. The result lives
 * until the next call of td_receive or td_execute on the same thread. */
const char *td_receive(double timeout);

/* Synchronously executes a request that may be executed synchronously (e.g. setLogVerbosityLevel). */
const char *td_execute(const char *request);

#ifdef __cplusplus
}
#endif

#endif
EOF
  mv "$INC/td/telegram/td_json_client.h.tmp" "$INC/td/telegram/td_json_client.h"
}

installed() {
  [ -f "$LIB/$SONAME" ] && [ -L "$LIB/libtdjson.so" ] && [ -f "$DEST/VERSION" ] &&
    [ "$(cat "$DEST/VERSION")" = "$VERSION" ]
}

if [ "$force" = 1 ] || ! installed; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) pkg=linux-x64-glibc ;;
    Linux-aarch64) pkg=linux-arm64-glibc ;;
    *) echo "tdlib-deps: no prebuilt TDLib for $(uname -s)-$(uname -m)" >&2; exit 1 ;;
  esac
  command -v npm >/dev/null || { echo "tdlib-deps: npm is required (apt-get install npm)" >&2; exit 1; }
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  say "npm install prebuilt-tdlib@$VERSION (about 50 MB)"
  (cd "$scratch" && npm init -y >/dev/null && \
    npm install --no-audit --no-fund --loglevel=error "prebuilt-tdlib@$VERSION" >/dev/null)
  so="$scratch/node_modules/@prebuilt-tdlib/$pkg/libtdjson.so"
  [ -f "$so" ] || { echo "tdlib-deps: $so not found in the npm package" >&2; exit 1; }
  commit="$(sed -n 's/.*"commit": *"\([0-9a-f]*\)".*/\1/p' "$scratch/node_modules/prebuilt-tdlib/package.json" | head -1)"
  case "$commit" in
    22d49d5*) ;;
    *) echo "tdlib-deps: prebuilt-tdlib@$VERSION carries TDLib commit '$commit', not 22d49d5" >&2; exit 1 ;;
  esac
  mkdir -p "$LIB"
  cp "$so" "$LIB/$SONAME.tmp"
  chmod 0755 "$LIB/$SONAME.tmp"
  mv "$LIB/$SONAME.tmp" "$LIB/$SONAME"
  ln -sfn "$SONAME" "$LIB/libtdjson.so"
  echo "$VERSION" >"$DEST/VERSION"
  say "installed $LIB/$SONAME (TDLib commit $commit)"
else
  say "TDLib $SONAME already in $LIB"
fi
header

CFLAGS="-I$INC"
LDFLAGS="-L$LIB -Wl,-rpath,$LIB"
if [ "$envonly" = 1 ]; then
  echo "export CGO_CFLAGS='$CFLAGS' CGO_LDFLAGS='$LDFLAGS' LD_LIBRARY_PATH='$LIB'"
  exit 0
fi
cat <<EOF
tdlib-deps: build and test with the libtdjson tag using:
  CGO_CFLAGS='$CFLAGS'
  CGO_LDFLAGS='$LDFLAGS'
  LD_LIBRARY_PATH='$LIB'   (not needed with the rpath above; for binaries moved elsewhere)
e.g.
  CGO_CFLAGS='$CFLAGS' CGO_LDFLAGS='$LDFLAGS' go test -tags libtdjson ./host/bridge/tdlib/
EOF
