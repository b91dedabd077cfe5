// Package transport is the agent's network side: a libp2p host with a
// persisted identity (NewHost) and a Transport that carries the protocol
// cores' protobuf messages between peers.
//
// # Model
//
// Each core (HyParView, plumtree, SWIM, ...) gets one libp2p protocol ID,
// registered with Register(id, newMsg). Messages travel on long-lived
// streams: for every (peer, protocol) each side opens at most one outbound
// stream, lazily on its first Send, and writes all its messages to that peer
// and protocol on it; the peer's messages arrive on the stream it opened
// (accepted here, read-only). Streams are never opened per message.
//
// A frame is a uvarint length followed by that many bytes of protobuf
// (WriteFrame, ReadFrame). Frames longer than Config.MaxFrameSize are
// refused on both sides.
//
// # What the owner (the agent's event loop) does
//
//   - Send(to, proto, msg) never blocks on the network: it encodes msg (the
//     caller may reuse it afterwards) and enqueues the bytes on the
//     (to, proto) queue, Config.QueueLen deep. A full queue drops the message,
//     counts it (Stats) and returns ErrQueueFull. A writer goroutine per
//     stream dials the peer if needed (addresses from the peerstore, see
//     AddAddrs), opens the stream and drains the queue, batching frames
//     between flushes. Messages on one (peer, protocol) arrive in order.
//   - Inbound() delivers decoded messages. It has Config.InboundLen slots;
//     when the owner falls behind, stream readers block on it, stop reading,
//     and yamux flow control pushes back to the sender, whose queue fills
//     and whose Send starts dropping (counted there). Nothing is dropped on
//     the receiving side; the owner must keep draining Inbound.
//   - Events() delivers PeerUp (first connection to a peer), StreamUp (a
//     sender's stream opened; streams are opened without waiting for
//     identify, see stream.go) and PeerDown (last connection gone, or a
//     dial, stream open or write failed; TimedOut tells a timeout from a
//     refusal). Feed PeerDown to the membership core as a neighbour
//     failure; it can repeat and must be handled idempotently. Events wait in a FIFO of
//     Config.EventQueueLen; overflow is counted and logged at error level.
//   - Disconnect(p) writes what is queued for p (bounded by
//     Config.FlushTimeout), then closes the connections; a PeerDown follows.
//   - Close() stops every goroutine, resets the streams, drops what is
//     queued and closes both channels. It does not close the host.
//
// # Peer input
//
// A frame that is too large, has a malformed length, is cut short or does
// not decode as the protocol's message resets that stream only, with a
// warning log (peer, protocol, reason) and a BadFrames count. The
// connection and the peer's other streams are left alone; nothing a peer
// sends can panic the process or make it allocate more than MaxFrameSize
// per stream.
package transport
