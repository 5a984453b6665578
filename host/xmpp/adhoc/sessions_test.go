package adhoc

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	s := &Sessions{now: func() time.Time { return now }}
	const romeo, juliet = "romeo@montague.net/orchard", "juliet@capulet.com/balcony"

	s.Put(romeo, "s1", 1)
	if v, ok := s.Get(romeo, "s1"); !ok || v != 1 {
		t.Fatalf("Get = %v, %v", v, ok)
	}
	if _, ok := s.Get(juliet, "s1"); ok {
		t.Fatal("another requester got the session")
	}
	if _, ok := s.Get("romeo@montague.net/other", "s1"); ok {
		t.Fatal("another resource of the requester got the session")
	}

	// Put refreshes the expiry; Get does not.
	now = now.Add(DefaultTTL - time.Second)
	s.Put(romeo, "s1", 2)
	now = now.Add(DefaultTTL - time.Second)
	if v, ok := s.Get(romeo, "s1"); !ok || v != 2 {
		t.Fatalf("refreshed session: Get = %v, %v", v, ok)
	}
	now = now.Add(time.Second)
	if _, ok := s.Get(romeo, "s1"); ok {
		t.Fatal("expired session still there")
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d after Get of an expired session", s.Len())
	}

	s.Put(romeo, "a", nil)
	s.Put(juliet, "b", nil)
	s.Delete(romeo, "a")
	s.Delete(romeo, "unknown")
	if _, ok := s.Get(romeo, "a"); ok || s.Len() != 1 {
		t.Fatalf("Delete: Len = %d", s.Len())
	}
}

func TestSessionsSweep(t *testing.T) {
	start := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	now := start
	s := &Sessions{TTL: time.Minute, now: func() time.Time { return now }}
	for i := range 5 {
		now = start.Add(time.Duration(i) * 10 * time.Second)
		s.Put("r", fmt.Sprint(i), i)
	}
	tests := []struct {
		at        time.Duration
		removed   int
		remaining int
	}{
		{59 * time.Second, 0, 5},
		{60 * time.Second, 1, 4},
		{85 * time.Second, 2, 2},
		{10 * time.Minute, 2, 0},
	}
	for _, tc := range tests {
		if got := s.Sweep(start.Add(tc.at)); got != tc.removed || s.Len() != tc.remaining {
			t.Errorf("Sweep(+%v) = %d, Len %d; want %d, %d", tc.at, got, s.Len(), tc.removed, tc.remaining)
		}
	}
}

func TestSessionsZeroValueAndConcurrency(t *testing.T) {
	var s Sessions
	if _, ok := s.Get("r", "x"); ok || s.Len() != 0 || s.Sweep(time.Now()) != 0 {
		t.Fatal("zero Sessions not empty")
	}
	s.Delete("r", "x")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			r := fmt.Sprint("requester", g)
			for i := range 200 {
				id := NewID()
				s.Put(r, id, i)
				if v, ok := s.Get(r, id); !ok || v != i {
					t.Errorf("Get = %v, %v", v, ok)
				}
				if i%2 == 0 {
					s.Delete(r, id)
				}
				s.Sweep(time.Now())
			}
		})
	}
	wg.Wait()
	if s.Len() != 8*100 {
		t.Fatalf("Len = %d, want %d", s.Len(), 800)
	}
}

func TestNewID(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		id := NewID()
		if len(id) != 26 || seen[id] {
			t.Fatalf("NewID = %q (len %d, seen %v)", id, len(id), seen[id])
		}
		seen[id] = true
	}
}
