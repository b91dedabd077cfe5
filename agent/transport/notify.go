package transport

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// ErrConnClosed is the PeerDown reason when the last connection to a peer
// closed (either side closed it, or it failed).
var ErrConnClosed = errors.New("transport: all connections to peer closed")

// connected and disconnected run on libp2p's notification goroutine; they
// must not block, so they only update state and queue events.
func (t *Transport) connected(_ network.Network, c network.Conn) {
	t.markUp(c.RemotePeer())
}

func (t *Transport) markUp(p peer.ID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return
	}
	if _, ok := t.up[p]; ok {
		return
	}
	t.up[p] = struct{}{}
	t.emit(PeerUp{Peer: p})
}

func (t *Transport) disconnected(n network.Network, c network.Conn) {
	p := c.RemotePeer()
	t.mu.Lock()
	// Checked under t.mu: a new connection's Connected callback also takes
	// t.mu, so up/down cannot interleave wrongly.
	if t.closed || n.Connectedness(p) == network.Connected {
		t.mu.Unlock()
		return
	}
	_, wasUp := t.up[p]
	delete(t.up, p)
	if wasUp {
		t.emit(PeerDown{Peer: p, Reason: ErrConnClosed})
	}
	t.mu.Unlock()
	// Streams to p are dead: stop their writers so the next Send redials.
	for _, s := range t.takeSenders(func(k senderKey) bool { return k.peer == p }) {
		s.stop()
	}
}

// emit queues ev for the owner, logging loudly if the queue is full.
func (t *Transport) emit(ev PeerEvent) {
	if !t.events.push(ev) {
		t.log.Error("peer event dropped: event queue full", "event", ev, "limit", t.cfg.EventQueueLen)
	}
}
