#!/usr/bin/env bash
# Installs the toolchains that build the plugins written in C, Rust and AssemblyScript
# (examples/echo-*, sdk/{c,rust,assemblyscript}) on Debian 12, as root. Idempotent: what is
# already installed is left alone.
#
#   C               clang lld wasi-libc libclang-rt-14-dev-wasm32 (Debian)
#   Rust 1.63       rustc cargo libstd-rust-dev-wasm32 and the crates the Rust SDK uses, from
#                   Debian's librust-*-dev packages (cargo builds offline against
#                   /usr/share/cargo/registry: see examples/echo-rust/.cargo/config.toml)
#   AssemblyScript  assemblyscript and json-as, pinned, from npm into .deps/node (needs Node.js
#                   20 or newer and npm; Debian's nodejs is installed if there is no node at all)
#
# Options: --no-apt skips the Debian packages, --no-npm the npm packages. Print nothing but the
# environment to build with: --env (eval "$(scripts/wasm-toolchains.sh --env)").
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE_DIR="$ROOT/.deps/node"

# Debian packages. The librust-*-dev crates are the ones sdk/rust depends on (serde,
# serde_derive, serde_json and what they pull in).
DEB_C=(clang lld wasi-libc libclang-rt-14-dev-wasm32)
DEB_RUST=(rustc cargo libstd-rust-dev-wasm32 librust-serde-dev librust-serde-derive-dev librust-serde-json-dev)
# npm packages, pinned exactly (package.json of .deps/node says the same).
ASC_VERSION=0.28.20
JSON_AS_VERSION=1.6.0

apt=1 npmi=1 envonly=0
for a in "$@"; do
  case "$a" in
    --no-apt) apt=0 ;;
    --no-npm) npmi=0 ;;
    --env) envonly=1 ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "wasm-toolchains: unknown argument $a" >&2; exit 2 ;;
  esac
done

say() { echo "wasm-toolchains: $*"; }

env_lines() {
  # Debian's rustc and cargo, not a rustup toolchain that may come first on PATH (it has no
  # wasm32-wasi standard library offline).
  echo "RUSTC=/usr/bin/rustc"
  echo "RUSTDOC=/usr/bin/rustdoc"
  echo "CARGO=/usr/bin/cargo"
  echo "ASC=$NODE_DIR/node_modules/.bin/asc"
  echo "NODE_MODULES=$NODE_DIR/node_modules"
}

if [ "$envonly" = 1 ]; then env_lines; exit 0; fi

missing_debs() {
  local p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || printf ' %s' "$p"
  done
}

if [ "$apt" = 1 ]; then
  debs=("${DEB_C[@]}" "${DEB_RUST[@]}")
  command -v node >/dev/null 2>&1 || debs+=(nodejs)
  command -v npm >/dev/null 2>&1 || debs+=(npm)
  missing="$(missing_debs "${debs[@]}")"
  if [ -n "$missing" ]; then
    [ "$(id -u)" = 0 ] || { say "run as root to install:$missing"; exit 1; }
    say "installing:$missing"
    apt-get update -qq
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
  else
    say "Debian packages present"
  fi
fi

if [ "$npmi" = 1 ]; then
  command -v npm >/dev/null 2>&1 || { say "npm is missing (run without --no-apt)"; exit 1; }
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  [ "$major" -ge 20 ] || say "warning: Node.js $(node --version 2>/dev/null) is older than assemblyscript's >= 20"
  want="assemblyscript@$ASC_VERSION json-as@$JSON_AS_VERSION"
  have=""
  if [ -f "$NODE_DIR/node_modules/assemblyscript/package.json" ] && [ -f "$NODE_DIR/node_modules/json-as/package.json" ]; then
    have="assemblyscript@$(node -p "require('$NODE_DIR/node_modules/assemblyscript/package.json').version") json-as@$(node -p "require('$NODE_DIR/node_modules/json-as/package.json').version")"
  fi
  if [ "$have" != "$want" ]; then
    say "npm install $want into ${NODE_DIR#"$ROOT"/}"
    mkdir -p "$NODE_DIR"
    cat >"$NODE_DIR/package.json" <<EOF
{
  "name": "xmppgw-wasm-toolchains",
  "private": true,
  "description": "AssemblyScript toolchain for the gateway's plugins; written by scripts/wasm-toolchains.sh",
  "dependencies": {
    "assemblyscript": "$ASC_VERSION",
    "json-as": "$JSON_AS_VERSION"
  }
}
EOF
    (cd "$NODE_DIR" && npm install --no-audit --no-fund --loglevel=error --save-exact)
  else
    say "npm packages present ($have)"
  fi
fi

# Report what builds with what.
ok=1
check() { if "$@" >/dev/null 2>&1; then say "ok: $*"; else say "MISSING: $*"; ok=0; fi; }
if [ "$apt" = 1 ]; then
  check clang --version
  check test -f /usr/lib/wasm32-wasi/libc.a
  check test -d /usr/lib/rustlib/wasm32-wasi
  check /usr/bin/cargo --version
fi
[ "$npmi" = 0 ] || check "$NODE_DIR/node_modules/.bin/asc" --version
[ "$ok" = 1 ] || exit 1
