package config

import (
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Summary describes in plain text what this configuration would run, for
// `gateway check-config`. It never contains a secret: no gateway secret,
// no api_hash, and for postgres only the host and database of the DSN.
func (c *Config) Summary() string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }

	w("config file:  %s", c.File)
	w("data dir:     %s", c.DataDir)
	w("log:          level %s, format %s", c.Log.Level, c.Log.Format)
	w("xmpp server:  %s (component port)", net.JoinHostPort(c.XMPP.Host, strconv.Itoa(c.XMPP.Port)))
	w("store:        %s", c.Store.location())
	if c.Store.KeepMessageIDs > 0 {
		w("message ids:  kept %d days", c.Store.KeepMessageIDs/(24*time.Hour))
	} else {
		w("message ids:  kept forever")
	}
	switch {
	case c.Admin.Listen == "":
		w("admin:        disabled")
	case c.Admin.AllowPublic:
		w("admin:        http://%s (public listening allowed)", c.Admin.Listen)
	default:
		w("admin:        http://%s", c.Admin.Listen)
	}

	for _, g := range c.Gateways {
		w("")
		w("gateway %s", g.JID)
		w("  type:          %s", g.Type)
		w("  name:          %s", g.Name)
		if g.Plugin == "" {
			w("  plugin:        none (disco and ping only)")
		} else {
			w("  plugin:        %s", g.Plugin)
		}
		if len(g.Bridges) == 0 {
			w("  bridges:       none")
		} else {
			w("  bridges:       %s", strings.Join(g.Bridges, ", "))
		}
		w("  may register:  %s", g.registration())
		l := g.Limits
		inst := fmt.Sprintf("%d instances", l.Instances)
		if l.SessionsPerInstance > 0 {
			inst = fmt.Sprintf("%d instances at start, at most %d sessions each", l.Instances, l.SessionsPerInstance)
		}
		w("  limits:        %s, %d MB memory each, %s per event, queue %d, storage %d KB",
			inst, l.MemoryMB, short(l.EventTimeout), l.Queue, l.StorageQuotaKB)
		if len(g.Config) == 0 {
			w("  config keys:   none")
		} else {
			keys := make([]string, 0, len(g.Config))
			for k := range g.Config {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			w("  config keys:   %s", strings.Join(keys, ", "))
		}
	}

	names := make([]string, 0, len(c.Bridges))
	for name := range c.Bridges {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		br := c.Bridges[name]
		w("")
		w("bridge %s", name)
		w("  backend:       %s", br.Backend)
		switch br.Backend {
		case "sim":
			if br.Fixture == "" {
				w("  fixture:       built-in demo")
			} else {
				w("  fixture:       %s", br.Fixture)
			}
		case "tdlib":
			w("  api_id:        %d", br.APIID)
			if br.UseTestDC {
				w("  data centers:  test")
			} else {
				w("  data centers:  production")
			}
		}
	}
	return b.String()
}

// registration says who may register with the gateway.
func (g *Gateway) registration() string {
	var who []string
	if len(g.AllowDomains) > 0 {
		who = append(who, "users of "+strings.Join(g.AllowDomains, ", "))
	}
	if g.AllowRegex != "" {
		who = append(who, "bare JIDs matching "+strconv.Quote(g.AllowRegex))
	}
	if len(who) == 0 {
		return "nobody"
	}
	return strings.Join(who, "; or ")
}

// location describes the store without credentials: the sqlite path, or the
// postgres host and database.
func (s Store) location() string {
	dsn := s.DSN.Reveal()
	if s.Driver != "postgres" {
		return s.Driver + " " + dsn
	}
	var host, port, db string
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		if u, err := url.Parse(dsn); err == nil {
			host, port = u.Hostname(), u.Port()
			db = strings.TrimPrefix(u.Path, "/")
			if h := u.Query().Get("host"); host == "" && h != "" {
				host = h
			}
		}
	} else {
		f := pgFields(dsn)
		host, port, db = f["host"], f["port"], f["dbname"]
	}
	if host == "" {
		host = "default host"
	}
	if port != "" {
		host = net.JoinHostPort(host, port)
	}
	if db == "" {
		db = "default database"
	}
	return fmt.Sprintf("postgres, host %s, database %s", host, db)
}
