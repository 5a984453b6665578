package adhoc

import (
	"crypto/rand"
	"sync"
	"time"
)

// DefaultTTL is how long a session lives after its last Put when Sessions.TTL is zero.
const DefaultTTL = 10 * time.Minute

// Sessions holds the state of multi-step commands between steps, keyed by the requester's
// full JID and the session id, so that one requester cannot continue another's session
// (XEP-0050 section 3.3). A session expires TTL after its last Put. The state is opaque to
// Sessions; keep the command's node in it and check it on each step (answering bad-sessionid
// on a mismatch). The zero value is ready to use; Sessions is safe for concurrent use and must
// not be copied.
type Sessions struct {
	// TTL is the session lifetime; zero means DefaultTTL. Set it before first use.
	TTL time.Duration

	mu  sync.Mutex
	m   map[sessionKey]sessionEntry
	now func() time.Time // nil means time.Now; tests replace it
}

type sessionKey struct{ requester, id string }

type sessionEntry struct {
	state   any
	expires time.Time
}

// NewID returns a new random session id (128 bits from crypto/rand, base32).
func NewID() string { return rand.Text() }

func (s *Sessions) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// Put stores state for the session and (re)starts its expiry: call it after every step.
func (s *Sessions) Put(requester, id string, state any) {
	ttl := s.TTL
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = make(map[sessionKey]sessionEntry)
	}
	s.m[sessionKey{requester, id}] = sessionEntry{state: state, expires: s.clock().Add(ttl)}
}

// Get returns the state of a live session. An unknown or expired session gives false (answer
// bad-sessionid or session-expired); an expired one is removed.
func (s *Sessions) Get(requester, id string) (state any, ok bool) {
	k := sessionKey{requester, id}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[k]
	if !ok {
		return nil, false
	}
	if !s.clock().Before(e.expires) {
		delete(s.m, k)
		return nil, false
	}
	return e.state, true
}

// Delete ends a session (completed or canceled). Deleting an unknown session does nothing.
func (s *Sessions) Delete(requester, id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, sessionKey{requester, id})
}

// Sweep removes the sessions expired at now and returns how many it removed. Call it
// periodically (e.g. every minute) so that abandoned sessions do not accumulate.
func (s *Sessions) Sweep(now time.Time) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, e := range s.m {
		if !now.Before(e.expires) {
			delete(s.m, k)
			n++
		}
	}
	return n
}

// Len returns the number of stored sessions, expired ones not yet swept included.
func (s *Sessions) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}
