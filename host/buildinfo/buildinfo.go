// Package buildinfo says which build of the gateway is running, for `gateway version`, XEP-0092
// answers and logs.
package buildinfo

import "runtime/debug"

// Name is the software name the gateway reports (XEP-0092).
const Name = "xmppgw"

// version is set at link time: -ldflags "-X github.com/xmppgw/gateway/host/buildinfo.version=v0.1.0".
var version string

// Version returns the release version, or the VCS revision for a development build.
func Version() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}
