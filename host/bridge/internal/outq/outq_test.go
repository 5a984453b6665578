package outq

import (
	"fmt"
	"testing"
	"time"
)

func TestOrderAndFinish(t *testing.T) {
	q := New()
	for i := 0; i < 1000; i++ {
		if !q.Push([]byte(fmt.Sprint(i))) {
			t.Fatal("push refused")
		}
	}
	q.Finish()
	if q.Push([]byte("late")) {
		t.Fatal("push after Finish accepted")
	}
	i := 0
	for b := range q.C() {
		if string(b) != fmt.Sprint(i) {
			t.Fatalf("got %s, want %d", b, i)
		}
		i++
	}
	if i != 1000 {
		t.Fatalf("%d delivered", i)
	}
}

func TestAbortWithoutReader(t *testing.T) {
	q := New()
	q.Push([]byte("a"))
	q.Push([]byte("b"))
	time.Sleep(10 * time.Millisecond) // the pump blocks on its first send
	done := make(chan struct{})
	go func() { q.Abort(); q.Abort(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Abort hung")
	}
	for range q.C() {
	}
	if q.Push([]byte("c")) {
		t.Fatal("push after Abort accepted")
	}
}
