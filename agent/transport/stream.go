package transport

import (
	"context"
	"io"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	msmux "github.com/multiformats/go-multistream"
)

// newStream dials p if needed and opens a stream for proto without waiting
// for identify. libp2p's host.NewStream (and host.Connect) wait until the
// new connection's identify exchange is done, to learn which protocols the
// peer speaks; every hearsay agent speaks ours, so the wait buys nothing
// and costs a round trip plus the peer's identify work. On a saturated
// machine that took seconds after the connection was up: SWIM's ping
// waited for it, and so did the ack, which the target sends on a stream of
// its own (docs/swim-bench.md, "Probes wait for the connection").
//
// The protocol is negotiated lazily, as host.NewStream does once it knows
// the peer speaks it: multistream-select's header and proposal go out with
// the first frame and the answer is read with the first read. A peer that
// does not speak proto resets the stream and the next write fails.
//
// A dial that sets up a connection counts in st.dials: which protocol's
// first message to a peer paid for the connection.
func (t *Transport) newStream(ctx context.Context, p peer.ID, proto protocol.ID, st *counters) (network.Stream, error) {
	n := t.h.Network()
	if n.Connectedness(p) != network.Connected {
		if _, err := n.DialPeer(ctx, p); err != nil {
			return nil, err
		}
		st.dials.Add(1)
	}
	str, err := n.NewStream(network.WithNoDial(ctx, "hearsay: dialed above"), p)
	if err != nil {
		return nil, err
	}
	if err := str.SetProtocol(proto); err != nil {
		_ = str.Reset()
		return nil, err
	}
	return &lazyStream{Stream: str, rw: msmux.NewMSSelect(str, proto)}, nil
}

// lazyStream reads and writes through the lazy multistream-select
// negotiation (as go-libp2p's basic host wraps its streams).
type lazyStream struct {
	network.Stream
	rw io.ReadWriteCloser
}

func (s *lazyStream) Read(b []byte) (int, error)  { return s.rw.Read(b) }
func (s *lazyStream) Write(b []byte) (int, error) { return s.rw.Write(b) }
func (s *lazyStream) Close() error                { return s.rw.Close() }

// CloseWrite flushes the negotiation (if nothing was written yet) before
// half-closing; an error there shows on the next read.
func (s *lazyStream) CloseWrite() error {
	if f, ok := s.rw.(interface{ Flush() error }); ok {
		_ = f.Flush()
	}
	return s.Stream.CloseWrite()
}
