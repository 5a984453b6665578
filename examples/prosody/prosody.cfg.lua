-- Prosody 0.12 configuration for running the gateway next to it on one machine.
-- The demo (`make demo`) uses this file as is; an admin can start from it. Values come from
-- the environment (Prosody reads ENV_X as $X):
--   GW_XMPP_DIR        folder for data, logs, pid file and certs/localhost.{crt,key}
--   GW_C2S_PORT        client port (5222)
--   GW_COMPONENT_PORT  component port the gateway connects to (5347)
--   GW_HTTP_PORT       HTTP port for file upload (5280)
--   GW_SECRET          the gateway component's secret
local base = ENV_GW_XMPP_DIR
run_as_root = true                 -- mod_posix refuses uid 0 otherwise
daemonize = false
pidfile = base .. "/prosody.pid"
data_path = base .. "/data"
log = { { levels = { min = "info" }, to = "file", filename = base .. "/prosody.log" } }
interfaces = { "127.0.0.1" }
-- Send small stanzas at once: with Nagle's algorithm on, about one in ten round trips waits ~40 ms.
network_settings = { nagle = false }
c2s_ports = { tonumber(ENV_GW_C2S_PORT) }
component_ports = { tonumber(ENV_GW_COMPONENT_PORT) }
component_interfaces = { "127.0.0.1" }
http_ports = { tonumber(ENV_GW_HTTP_PORT) }
http_interfaces = { "127.0.0.1" }
https_ports = { }
s2s_ports = { }
modules_disabled = { "s2s" }
certificates = base .. "/certs"
ssl = { certificate = base .. "/certs/localhost.crt"; key = base .. "/certs/localhost.key" }
-- Loopback only: plain-text logins are accepted for simple test clients; real clients use STARTTLS
-- with the self-signed certificate.
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
authentication = "internal_plain"
allow_registration = true
min_seconds_between_registrations = 0
modules_enabled = { "roster"; "saslauth"; "disco"; "ping"; "version"; "register"; "carbons";
  "pep"; "vcard_legacy"; "mam"; "privilege"; "tls" }

VirtualHost "localhost"
  -- XEP-0356: the gateway may manage its puppets in users' rosters and send carbons for them.
  privileged_entities = { ["telegram.localhost"] = { roster = "both"; message = "outgoing" } }

Component "telegram.localhost"
  component_secret = ENV_GW_SECRET
  modules_enabled = { "privilege" }       -- privilege must be loaded on the component too

Component "upload.localhost" "http_file_share"
  http_host = "localhost"
  http_external_url = "http://localhost:" .. ENV_GW_HTTP_PORT .. "/"
  http_file_share_size_limit = 10 * 1024 * 1024
