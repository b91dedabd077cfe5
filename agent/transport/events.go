package transport

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// PeerEvent is PeerUp, StreamUp or PeerDown. The owner type-switches on it.
type PeerEvent interface{ peerEvent() }

// PeerUp reports that the first connection to Peer was established (either
// side dialed).
type PeerUp struct {
	Peer peer.ID
}

// StreamUp reports that a stream to Peer for Protocol opened: the
// connection is up and the queued messages go out now (the sender does not
// wait for identify; see newStream). A protocol timing its messages
// (SWIM's probes) starts its clock here rather than at PeerUp, which can
// come from another protocol's connection still being set up.
type StreamUp struct {
	Peer     peer.ID
	Protocol protocol.ID
}

// PeerDown reports that Peer is unreachable: its last connection closed, or
// a dial, stream open or frame write to it failed. The owner turns it into a
// neighbour failure. It may arrive more than once for one outage, and for a
// peer never reported up (a failed first dial); handle it idempotently.
type PeerDown struct {
	Peer   peer.ID
	Reason error
}

// TimedOut reports whether the peer went down only because something ran
// out of time (a dial, a stream open or a write that got no answer within
// its bound) rather than being refused or reset. On a saturated machine
// dials to live peers time out too, so this is no evidence that the peer
// is gone.
func (d PeerDown) TimedOut() bool {
	if d.Reason == nil {
		return false
	}
	// A dial of several addresses timed out only if every address did: a
	// refused one is evidence (errors.Is would find the other's timeout).
	var de *swarm.DialError
	if errors.As(d.Reason, &de) && len(de.DialErrors) > 0 {
		for _, te := range de.DialErrors {
			if !isTimeout(te.Cause) {
				return false
			}
		}
		return true
	}
	return isTimeout(d.Reason)
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func (PeerUp) peerEvent()   {}
func (StreamUp) peerEvent() {}
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
