package transport

import (
	"bufio"
	"errors"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
)

// handleStream is the libp2p stream handler for every registered protocol.
// It runs on its own goroutine (started by libp2p) and reads frames until
// the stream ends, the transport closes or the peer misbehaves.
func (t *Transport) handleStream(str network.Stream) {
	pid := str.Protocol()
	from := str.Conn().RemotePeer()
	t.mu.Lock()
	e, ok := t.protos[pid]
	if t.closed || !ok {
		t.mu.Unlock()
		_ = str.Reset()
		return
	}
	t.wg.Add(1)
	t.inStreams[str] = struct{}{}
	t.mu.Unlock()
	defer func() {
		t.mu.Lock()
		delete(t.inStreams, str)
		t.mu.Unlock()
		t.wg.Done()
	}()

	// Inbound streams are read-only; the write side is closed on EOF so that
	// a flushing sender knows all its frames were read.
	r := bufio.NewReader(str)
	for {
		body, err := ReadFrame(r, t.cfg.MaxFrameSize)
		if err != nil {
			switch {
			case errors.Is(err, io.EOF):
				_ = str.Close() // the peer closed its side cleanly
			case errors.Is(err, ErrFrameTooLarge), errors.Is(err, ErrMalformedFrame), errors.Is(err, io.ErrUnexpectedEOF):
				t.badFrame(str, e, err)
			default:
				// Reset by the peer, connection gone, or Close: the
				// connection notifications report the peer if it is down.
				_ = str.Reset()
			}
			return
		}
		msg, err := DecodeMessage(body, e.newMsg)
		if err != nil {
			t.badFrame(str, e, err)
			return
		}
		select {
		case t.inbound <- Inbound{From: from, Proto: pid, Msg: msg}:
			e.stats.received.Add(1)
		case <-t.ctx.Done():
			_ = str.Reset()
			return
		}
	}
}

// badFrame resets a stream whose peer sent input we refuse, logs why and
// counts it. The connection and the peer's other streams stay up.
func (t *Transport) badFrame(str network.Stream, e *protoEntry, err error) {
	// Count and log before the reset, so whoever sees the reset also sees
	// the count.
	e.stats.badFrames.Add(1)
	t.log.Warn("reset inbound stream: bad frame",
		"peer", str.Conn().RemotePeer().String(),
		"protocol", string(str.Protocol()),
		"reason", err.Error())
	_ = str.Reset()
}
