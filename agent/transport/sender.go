package transport

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
)

// maxBatch bounds how many queued frames are written before a flush.
const maxBatch = 64

// sender owns the outbound stream of one (peer, protocol): it dials and
// opens the stream lazily, then drains its queue into it until stopped or
// a write fails. Exactly one goroutine (run) touches the stream's writer.
type sender struct {
	t     *Transport
	key   senderKey
	stats *counters
	queue chan []byte

	ctx    context.Context // cancelled by stop
	cancel context.CancelFunc
	flush  chan struct{} // closed by requestFlush
	done   chan struct{} // closed when run returns

	mu        sync.Mutex
	str       network.Stream
	flushOnce sync.Once
}

func newSender(t *Transport, k senderKey, st *counters) *sender {
	ctx, cancel := context.WithCancel(t.ctx)
	return &sender{
		t: t, key: k, stats: st,
		queue:  make(chan []byte, t.cfg.QueueLen),
		ctx:    ctx,
		cancel: cancel,
		flush:  make(chan struct{}),
		done:   make(chan struct{}),
	}
}

// stop makes run return promptly, dropping what is queued. The stream is
// reset, which also unblocks a write in progress.
func (s *sender) stop() {
	s.cancel()
	s.mu.Lock()
	if s.str != nil {
		_ = s.str.Reset()
	}
	s.mu.Unlock()
}

// requestFlush makes run write what is queued, close the stream and return.
func (s *sender) requestFlush() {
	s.flushOnce.Do(func() { close(s.flush) })
}

func (s *sender) run() {
	defer s.t.wg.Done()
	defer close(s.done)
	str, err := s.open()
	if err != nil {
		s.fail("open stream", err, 0)
		return
	}
	s.t.emit(StreamUp{Peer: s.key.peer, Protocol: s.key.proto})
	// A tag per sender: protection is not refcounted, and an exiting sender
	// must not unprotect the link its successor is using.
	tag := fmt.Sprintf("hearsay:%s:%p", s.key.proto, s)
	s.t.h.ConnManager().Protect(s.key.peer, tag)
	defer s.t.h.ConnManager().Unprotect(s.key.peer, tag)

	w := bufio.NewWriter(str)
	for {
		select {
		case b := <-s.queue:
			if n, err := s.writeBatch(w, str, b); err != nil {
				_ = str.Reset()
				s.fail("write", err, n)
				return
			}
		case <-s.flush:
			if n, err := s.writeBatch(w, str, nil); err != nil {
				_ = str.Reset()
				s.fail("flush", err, n)
				return
			}
			s.closeGracefully(str)
			return
		case <-s.ctx.Done():
			_ = str.Reset()
			s.fail("stopped", s.ctx.Err(), 0)
			return
		}
	}
}

// closeGracefully half-closes the stream and waits (bounded) for the peer's
// reader to close its side, which it does after reading our last frame; then
// Disconnect can close the connection without losing what was flushed.
func (s *sender) closeGracefully(str network.Stream) {
	_ = str.CloseWrite()
	_ = str.SetReadDeadline(time.Now().Add(s.t.cfg.FlushTimeout))
	_, _ = io.Copy(io.Discard, io.LimitReader(str, 1<<16))
	_ = str.Close()
}

// open dials the peer if needed and opens the stream, bounded by DialTimeout.
//
// Every dial bypasses the swarm's dial backoff (network.WithForceDirectDial;
// there are no relayed connections for it to skip): after one failed dial
// the swarm refuses to dial that address again for 5 s, then longer on each
// failure (up to 5 min), without trying. Our protocols pace their own
// retries (SWIM probes a member once per period and decides its liveness
// itself); with the backoff, a probe of a member whose dial had failed a
// moment ago failed on the cached entry instead of testing the member.
// (It is not what made 200 agents' formation storm: that storm was as long
// without the backoff; docs/swim-bench.md, 2026-12-07.)
func (s *sender) open() (network.Stream, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.t.cfg.DialTimeout)
	defer cancel()
	ctx = network.WithForceDirectDial(ctx, "hearsay: protocols pace their own retries")
	str, err := s.t.newStream(ctx, s.key.peer, s.key.proto, s.stats)
	for try := 0; err != nil && ctx.Err() == nil && try < maxHandshakeRetries; try++ {
		if s.t.h.Network().Connectedness(s.key.peer) != network.Connected {
			if !handshakeRace(err) {
				break
			}
			// The security handshake failed ("failed to negotiate"),
			// as it did when both sides dialed at once over TCP with
			// SO_REUSEPORT (now off, see NewHost): the peer may be up,
			// so wait a moment for its connection or dial again,
			// instead of dropping everything queued for it.
			t := time.NewTimer(time.Duration(try+1) * handshakeRetryDelay)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			case <-t.C:
			}
		}
		// Our dial lost, but the peer's connection may be up: use it. If
		// not, dial again (ctx bypasses the dial backoff, see above).
		str, err = s.t.newStream(ctx, s.key.peer, s.key.proto, s.stats)
	}
	if err != nil && s.ctx.Err() == nil && s.t.h.Network().Connectedness(s.key.peer) == network.Connected {
		// Our dial ran out of time (a stale address that does not answer)
		// while the peer connected to us: open the stream on its
		// connection rather than report a connected peer down.
		retry, cancel := context.WithTimeout(s.ctx, s.t.cfg.DialTimeout)
		defer cancel()
		str, err = s.t.newStream(retry, s.key.peer, s.key.proto, s.stats)
	}
	if err != nil {
		return nil, err
	}
	// The read side stays open only to see the peer's close (closeGracefully).
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() != nil {
		_ = str.Reset()
		return nil, s.ctx.Err()
	}
	s.str = str
	return str, nil
}

// writeBatch writes first (if non-nil) and whatever else is queued, up to
// maxBatch frames (all of it when flushing), then flushes. It returns how
// many frames were lost on error.
func (s *sender) writeBatch(w *bufio.Writer, str network.Stream, first []byte) (int, error) {
	_ = str.SetWriteDeadline(time.Now().Add(s.t.cfg.WriteTimeout))
	n, size := 0, 0
	if first != nil {
		if err := WriteFrame(w, first, s.t.cfg.MaxFrameSize); err != nil {
			return 1, err
		}
		n, size = 1, FrameSize(first)
	}
	flushing := first == nil
	for flushing || n < maxBatch {
		var b []byte
		select {
		case b = <-s.queue:
		default:
		}
		if b == nil {
			break
		}
		if err := WriteFrame(w, b, s.t.cfg.MaxFrameSize); err != nil {
			return n + 1, err
		}
		n++
		size += FrameSize(b)
	}
	if err := w.Flush(); err != nil {
		return n, err
	}
	s.stats.sent.Add(uint64(n))
	s.stats.sentBytes.Add(uint64(size))
	s.stats.flushes.Add(1)
	return 0, nil
}

// fail removes the sender, counts lost frames (lost plus all still queued)
// and, unless it was stopped on purpose, reports the peer down.
func (s *sender) fail(op string, err error, lost int) {
	s.t.removeSender(s)
	lost += s.drain()
	s.stats.droppedFailed.Add(uint64(lost))
	if s.ctx.Err() != nil {
		// Stopped by Close, Disconnect or a disconnect notification; the
		// latter already reported PeerDown.
		if lost > 0 {
			s.t.log.Debug("dropped queued messages on stop", "peer", s.key.peer.String(), "protocol", string(s.key.proto), "dropped", lost)
		}
		return
	}
	reason := fmt.Errorf("%s %s: %w", op, s.key.proto, err)
	s.t.log.Warn("peer send failed", "peer", s.key.peer.String(), "protocol", string(s.key.proto), "reason", reason.Error(), "dropped", lost)
	s.t.emit(PeerDown{Peer: s.key.peer, Reason: reason})
}

// drain empties the queue (the sender is already out of the map, so no
// Send can add to it) and returns how many messages it held.
func (s *sender) drain() int {
	n := 0
	for {
		select {
		case <-s.queue:
			n++
		default:
			return n
		}
	}
}

// maxHandshakeRetries bounds the extra stream opens after a failed one;
// handshakeRetryDelay is the wait before the first (doubling after).
const (
	maxHandshakeRetries = 3
	handshakeRetryDelay = 25 * time.Millisecond
)

// handshakeRace reports whether a dial failed in connection upgrade (the
// security or muxer negotiation) rather than in reaching the peer: what a
// simultaneous open of two TCP connections between the same peers can
// cause. A refused or unreachable peer is not retried, so PeerDown stays
// prompt.
func handshakeRace(err error) bool {
	return strings.Contains(err.Error(), "failed to negotiate")
}
