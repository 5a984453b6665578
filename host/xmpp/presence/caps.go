package presence

import (
	"slices"
	"strings"
	"sync"

	"github.com/xmppgw/gateway/host/xmpp/disco"
)

// PuppetInfo returns the disco#info of a puppet: one identity of category "client" with the
// given type (pc, phone, bot, ... from the XEP-0030 registry) and name, and the features,
// sorted and without duplicates (XEP-0115 receivers reject duplicates). features is not
// modified.
func PuppetInfo(clientType, name string, features []string) disco.Info {
	fs := slices.Clone(features)
	slices.Sort(fs)
	return disco.Info{
		Identities: []disco.Identity{{Category: "client", Type: clientType, Name: name}},
		Features:   slices.Compact(fs),
	}
}

// InfoCache computes each distinct puppet disco#info and its XEP-0115 ver once, and shares the
// result between all the puppets that have it: presences for thousands of contacts then carry
// the same *Caps and cost no hashing. All puppets of a cache have the same identity name (the
// gateway's, not the contact's: a per-contact name would give each contact its own ver). It is
// safe for concurrent use; entries are never evicted, as there are few distinct (client type,
// features) pairs.
type InfoCache struct {
	node, name string

	mu    sync.RWMutex
	byKey map[string]*cached // clientType NUL feature NUL feature ...
	byVer map[string]*cached
}

type cached struct {
	info disco.Info
	caps Caps
}

// NewInfoCache returns a cache whose Caps carry node (the gateway software's URI, e.g.
// "https://github.com/xmppgw/gateway") and whose identities carry name.
func NewInfoCache(node, name string) *InfoCache {
	return &InfoCache{node: node, name: name, byKey: map[string]*cached{}, byVer: map[string]*cached{}}
}

// Get returns the disco#info of a puppet with this client type and features, and the caps to
// put in its presence. Both are shared: callers must not modify them. The order of features
// does not change the result. A hit does not allocate.
func (c *InfoCache) Get(clientType string, features []string) (disco.Info, *Caps) {
	var buf [512]byte
	key := append(buf[:0], clientType...)
	for _, f := range features {
		key = append(key, 0)
		key = append(key, f...)
	}
	c.mu.RLock()
	e := c.byKey[string(key)]
	c.mu.RUnlock()
	if e != nil {
		return e.info, &e.caps
	}

	info := PuppetInfo(clientType, c.name, features)
	ver := info.CapsHash()
	c.mu.Lock()
	defer c.mu.Unlock()
	if e = c.byVer[ver]; e == nil { // same set in another order, or a racing Get
		e = &cached{info: info, caps: Caps{Node: c.node, Ver: ver}}
		c.byVer[ver] = e
	}
	c.byKey[string(key)] = e
	return e.info, &e.caps
}

// Lookup returns the disco#info that a disco#info request for node (XEP-0115 "node#ver", as
// clients send to verify caps) asks for, if this cache produced that ver.
func (c *InfoCache) Lookup(node string) (disco.Info, bool) {
	i := strings.LastIndexByte(node, '#')
	if i < 0 || node[:i] != c.node {
		return disco.Info{}, false
	}
	c.mu.RLock()
	e := c.byVer[node[i+1:]]
	c.mu.RUnlock()
	if e == nil {
		return disco.Info{}, false
	}
	return e.info, true
}
