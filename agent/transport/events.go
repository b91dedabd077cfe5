package transport

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
)

// PeerEvent is PeerUp or PeerDown. The owner type-switches on it.
type PeerEvent interface{ peerEvent() }

// PeerUp reports that the first connection to Peer was established (either
// side dialed).
type PeerUp struct {
	Peer peer.ID
}

// PeerDown reports that Peer is unreachable: its last connection closed, or
// a dial, stream open or frame write to it failed. The owner turns it into a
// neighbour failure. It may arrive more than once for one outage, and for a
// peer never reported up (a failed first dial); handle it idempotently.
type PeerDown struct {
	Peer   peer.ID
	Reason error
}

func (PeerUp) peerEvent()   {}
func (PeerDown) peerEvent() {}

// eventQueue decouples libp2p's notification goroutines (which must not
// block) from the owner: push appends to a bounded FIFO, run delivers it in
// order on an unbuffered channel.
type eventQueue struct {
	mu      sync.Mutex
	buf     []PeerEvent
	max     int
	wake    chan struct{}
	out     chan PeerEvent
	dropped atomic.Uint64
}

func newEventQueue(max int) *eventQueue {
	return &eventQueue{max: max, wake: make(chan struct{}, 1), out: make(chan PeerEvent)}
}

// push enqueues ev; it reports false (and counts) when the queue is full.
func (q *eventQueue) push(ev PeerEvent) bool {
	q.mu.Lock()
	if len(q.buf) >= q.max {
		q.mu.Unlock()
		q.dropped.Add(1)
		return false
	}
	q.buf = append(q.buf, ev)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// run delivers queued events to out until ctx is done.
func (q *eventQueue) run(ctx context.Context) {
	for {
		q.mu.Lock()
		if len(q.buf) == 0 {
			q.mu.Unlock()
			select {
			case <-q.wake:
				continue
			case <-ctx.Done():
				return
			}
		}
		ev := q.buf[0]
		q.mu.Unlock()
		select {
		case q.out <- ev:
		case <-ctx.Done():
			return
		}
		q.mu.Lock()
		q.buf[0] = nil
		q.buf = q.buf[1:]
		q.mu.Unlock()
	}
}
