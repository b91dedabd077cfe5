package transport

import (
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/protocol"
)

// ProtocolStats are cumulative counters for one registered protocol.
type ProtocolStats struct {
	Sent              uint64 // frames written and flushed to a stream
	SentBytes         uint64 // bytes of those frames, length prefixes included (what the stream carried for us)
	Flushes           uint64 // flushes of a stream's writer: about one stream write (one yamux frame) each
	Received          uint64 // frames decoded and handed to the Inbound channel
	DroppedQueueFull  uint64 // messages Send refused because the stream's queue was full
	DroppedSendFailed uint64 // queued messages discarded because dial, stream open or write failed, or the peer went down
	RejectedTooLarge  uint64 // messages Send refused because they encode to more than MaxFrameSize
	BadFrames         uint64 // inbound streams reset for an oversized, truncated or undecodable frame
	Dials             uint64 // connections this node set up to open a stream of this protocol (the peer had none)
}

// Stats is a snapshot of the transport's counters.
type Stats struct {
	Protocols     map[protocol.ID]ProtocolStats
	EventsDropped uint64 // PeerUp/PeerDown events lost because EventQueueLen was reached
}

type counters struct {
	sent, sentBytes, flushes, received, droppedFull, droppedFailed, tooLarge, badFrames, dials atomic.Uint64
}

func (c *counters) snapshot() ProtocolStats {
	return ProtocolStats{
		Sent:              c.sent.Load(),
		SentBytes:         c.sentBytes.Load(),
		Flushes:           c.flushes.Load(),
		Received:          c.received.Load(),
		DroppedQueueFull:  c.droppedFull.Load(),
		DroppedSendFailed: c.droppedFailed.Load(),
		RejectedTooLarge:  c.tooLarge.Load(),
		BadFrames:         c.badFrames.Load(),
		Dials:             c.dials.Load(),
	}
}
