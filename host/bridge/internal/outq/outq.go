// Package outq is the ordered, unbounded queue between a bridge client and its consumer: the
// producer (TDLib's receive loop, the simulated network) never blocks on a slow session, and the
// consumer reads a channel.
package outq

import "sync"

// Queue delivers pushed messages, in order, on C.
type Queue struct {
	mu      sync.Mutex
	items   [][]byte
	closing bool // no more pushes; C closes once the queue is drained
	wake    chan struct{}
	stop    chan struct{}
	stopped bool
	out     chan []byte
	done    chan struct{}
}

// New starts a queue.
func New() *Queue {
	q := &Queue{
		wake: make(chan struct{}, 1),
		stop: make(chan struct{}),
		out:  make(chan []byte),
		done: make(chan struct{}),
	}
	go q.pump()
	return q
}

// C is the channel messages come out of; it is closed after Finish (once drained) or Abort.
func (q *Queue) C() <-chan []byte { return q.out }

// Done is closed when C has been closed.
func (q *Queue) Done() <-chan struct{} { return q.done }

// Push appends a message; it reports false once the queue is finishing or aborted.
func (q *Queue) Push(b []byte) bool {
	q.mu.Lock()
	if q.closing || q.stopped {
		q.mu.Unlock()
		return false
	}
	q.items = append(q.items, b)
	q.mu.Unlock()
	q.signal()
	return true
}

// Len is the number of messages not yet taken by the consumer.
func (q *Queue) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.items)
}

// Finish refuses further pushes; C is closed after the queued messages were delivered.
func (q *Queue) Finish() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	q.signal()
}

// Abort drops what is queued and closes C at once, even if nobody reads it.
func (q *Queue) Abort() {
	q.mu.Lock()
	if !q.stopped {
		q.stopped = true
		q.items = nil
		close(q.stop)
	}
	q.mu.Unlock()
	<-q.done
}

func (q *Queue) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

func (q *Queue) pump() {
	defer close(q.done)
	defer close(q.out)
	var batch [][]byte
	for {
		q.mu.Lock()
		batch, q.items = q.items, batch[:0]
		closing := q.closing
		q.mu.Unlock()
		if len(batch) == 0 {
			if closing {
				return
			}
			select {
			case <-q.wake:
				continue
			case <-q.stop:
				return
			}
		}
		for i, b := range batch {
			select {
			case q.out <- b:
				batch[i] = nil
			case <-q.stop:
				return
			}
		}
	}
}
