#!/usr/bin/env bash
# Runs the demo: a fresh Prosody on loopback and the gateway, in the foreground until Ctrl-C,
# which stops both. Ports: DEMO_C2S_PORT (5222), DEMO_COMPONENT_PORT (5347), DEMO_HTTP_PORT (5280).
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
c2s=${DEMO_C2S_PORT:-5222}
comp=${DEMO_COMPONENT_PORT:-5347}
http=${DEMO_HTTP_PORT:-5280}
admin=${DEMO_ADMIN_PORT:-8089}

dir=$top/build/demo
# A fresh server and gateway state each run; the compiled plugin cache is kept.
rm -rf "$dir/xmpp" "$dir/gateway.toml" "$dir"/gateway/gateway.db*
mkdir -p "$dir/xmpp/certs" "$dir/xmpp/data" "$dir/gateway"
openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,DNS:*.localhost" \
  -keyout "$dir/xmpp/certs/localhost.key" -out "$dir/xmpp/certs/localhost.crt" 2>/dev/null

export GW_XMPP_DIR=$dir/xmpp GW_C2S_PORT=$c2s GW_COMPONENT_PORT=$comp GW_HTTP_PORT=$http
GW_SECRET=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')
export GW_SECRET
cfg=$dir/xmpp/prosody.cfg.lua
cp examples/prosody/prosody.cfg.lua "$cfg"
for u in alice bob; do prosodyctl --config "$cfg" register "$u" localhost "$u" >/dev/null; done

# The gateway's config: the shipped demo file with this run's ports.
sed -e "s/^port = .*/port = $comp/" -e "s/^listen = .*/listen = \"127.0.0.1:$admin\"/" \
  -e "s#^data_dir = .*#data_dir = \"$dir/gateway\"#" examples/demo/gateway.toml > "$dir/gateway.toml"

pids=()
cleanup() {
  trap - INT TERM EXIT
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  echo "demo stopped"
}
trap cleanup INT TERM EXIT

prosody --config "$cfg" &
pids+=($!)
for _ in $(seq 100); do
  (exec 3<>/dev/tcp/127.0.0.1/"$comp") 2>/dev/null && break
  sleep 0.1
done

echo "demo: in an XMPP client log in as alice@localhost (password alice) or bob@localhost (password bob) on 127.0.0.1:$c2s (self-signed certificate), register with the gateway telegram.localhost using phone +15550000001 (code 12345; or +15550000002, code 12345, password hunter2), then chat with Eve Echo; health: http://127.0.0.1:$admin/healthz, simulated Telegram: http://127.0.0.1:$admin/bridge/telegram/state"
bin/gateway run -c "$dir/gateway.toml" &
pids+=($!)
wait -n "${pids[@]}" || true
