package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// Errors returned by Send.
var (
	ErrClosed          = errors.New("transport: closed")
	ErrQueueFull       = errors.New("transport: outbound queue full, message dropped")
	ErrUnknownProtocol = errors.New("transport: protocol not registered")
	ErrSelf            = errors.New("transport: cannot send to self")
	// ErrNilMessage: a nil message (or a typed nil) went out as an empty
	// frame, which the receiver then counted as bad.
	ErrNilMessage = errors.New("transport: nil message")
)

// Inbound is one decoded message from a peer.
type Inbound struct {
	From  peer.ID
	Proto protocol.ID
	Msg   proto.Message
}

type senderKey struct {
	peer  peer.ID
	proto protocol.ID
}

type protoEntry struct {
	newMsg func() proto.Message
	stats  *counters
}

// Transport carries protobuf messages between peers over long-lived libp2p
// streams, one per (peer, protocol) and direction. See doc.go.
type Transport struct {
	h   host.Host
	cfg Config
	log *slog.Logger

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	inbound chan Inbound
	events  *eventQueue
	notif   *network.NotifyBundle

	mu        sync.Mutex
	closed    bool
	protos    map[protocol.ID]*protoEntry
	senders   map[senderKey]*sender
	inStreams map[network.Stream]struct{}
	up        map[peer.ID]struct{}
}

// New starts a Transport on h. The caller keeps ownership of h and closes it
// after Close.
func New(h host.Host, cfg Config, log *slog.Logger) (*Transport, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &Transport{
		h:         h,
		cfg:       cfg,
		log:       log.With("component", "transport", "self", h.ID().String()),
		ctx:       ctx,
		cancel:    cancel,
		inbound:   make(chan Inbound, cfg.InboundLen),
		events:    newEventQueue(cfg.EventQueueLen),
		protos:    make(map[protocol.ID]*protoEntry),
		senders:   make(map[senderKey]*sender),
		inStreams: make(map[network.Stream]struct{}),
		up:        make(map[peer.ID]struct{}),
	}
	t.wg.Add(1)
	go func() {
		defer t.wg.Done()
		t.events.run(ctx)
	}()
	t.notif = &network.NotifyBundle{ConnectedF: t.connected, DisconnectedF: t.disconnected}
	h.Network().Notify(t.notif)
	// Peers connected before New are reported up too.
	for _, p := range h.Network().Peers() {
		t.markUp(p)
	}
	return t, nil
}

// Register adds a protocol: inbound streams with this ID are accepted and
// their frames decoded with newMsg, which must return a fresh message each
// call. Register before sending on or expecting traffic for proto.
func (t *Transport) Register(proto protocol.ID, newMsg func() proto.Message) {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return
	}
	if _, ok := t.protos[proto]; !ok {
		t.protos[proto] = &protoEntry{newMsg: newMsg, stats: &counters{}}
	}
	t.mu.Unlock()
	t.h.SetStreamHandler(proto, t.handleStream)
}

// Inbound returns the channel of decoded messages. It is closed by Close.
func (t *Transport) Inbound() <-chan Inbound { return t.inbound }

// Events returns the channel of PeerUp and PeerDown events, in the order
// they happened. It is closed by Close.
func (t *Transport) Events() <-chan PeerEvent { return t.events.out }

// Host returns the libp2p host the transport runs on.
func (t *Transport) Host() host.Host { return t.h }

// AddAddrs records addresses for p in the peerstore so that Send can dial it.
// ttl is how long they are kept (peerstore.PermanentAddrTTL for seeds).
func (t *Transport) AddAddrs(p peer.AddrInfo, ttl time.Duration) {
	t.h.Peerstore().AddAddrs(p.ID, p.Addrs, ttl)
}

// Send encodes msg and enqueues it for the (to, proto) stream, dialing and
// opening the stream in the background if needed. It never blocks on the
// network. msg is encoded before Send returns, so the caller may reuse it.
// A full queue drops the message, counts it and returns ErrQueueFull.
// A later failure to deliver is reported as a PeerDown event.
func (t *Transport) Send(to peer.ID, proto protocol.ID, msg proto.Message) error {
	if to == t.h.ID() {
		return ErrSelf
	}
	t.mu.Lock()
	e, ok := t.protos[proto]
	t.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: %s", ErrUnknownProtocol, proto)
	}
	if msg == nil || !msg.ProtoReflect().IsValid() {
		return ErrNilMessage
	}
	body, err := marshal(msg)
	if err != nil {
		return fmt.Errorf("transport: encode %T: %w", msg, err)
	}
	if len(body) > t.cfg.MaxFrameSize {
		e.stats.tooLarge.Add(1)
		return fmt.Errorf("%w: %s message of %d bytes, limit %d", ErrFrameTooLarge, proto, len(body), t.cfg.MaxFrameSize)
	}

	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return ErrClosed
	}
	k := senderKey{to, proto}
	s, ok := t.senders[k]
	if !ok {
		s = newSender(t, k, e.stats)
		t.senders[k] = s
		t.wg.Add(1)
		go s.run()
	}
	// Enqueue under t.mu: a sender is removed from the map under t.mu
	// before it drains its queue, so nothing is left behind uncounted.
	select {
	case s.queue <- body:
		return nil
	default:
		e.stats.droppedFull.Add(1)
		return fmt.Errorf("%w: peer %s, protocol %s", ErrQueueFull, to, proto)
	}
}

func marshal(msg proto.Message) ([]byte, error) {
	return proto.MarshalOptions{}.Marshal(msg)
}

// Disconnect flushes the queued messages to p (bounded by FlushTimeout),
// then closes all connections to p. A PeerDown follows once the
// connections are gone. Sending to p afterwards dials it again.
func (t *Transport) Disconnect(p peer.ID) error {
	ss := t.takeSenders(func(k senderKey) bool { return k.peer == p })
	deadline := time.NewTimer(t.cfg.FlushTimeout)
	defer deadline.Stop()
	for _, s := range ss {
		s.requestFlush()
	}
	for _, s := range ss {
		select {
		case <-s.done:
		case <-deadline.C:
			// Out of time: stop the rest without flushing.
			for _, s := range ss {
				s.stop()
			}
		}
		<-s.done
	}
	return t.h.Network().ClosePeer(p)
}

// takeSenders removes the matching senders from the map and returns them.
func (t *Transport) takeSenders(match func(senderKey) bool) []*sender {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []*sender
	for k, s := range t.senders {
		if match(k) {
			delete(t.senders, k)
			out = append(out, s)
		}
	}
	return out
}

// removeSender deletes s from the map if it is still the current sender.
func (t *Transport) removeSender(s *sender) {
	t.mu.Lock()
	if t.senders[s.key] == s {
		delete(t.senders, s.key)
	}
	t.mu.Unlock()
}

// Stats returns a snapshot of the counters.
func (t *Transport) Stats() Stats {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := Stats{Protocols: make(map[protocol.ID]ProtocolStats, len(t.protos)), EventsDropped: t.events.dropped.Load()}
	for id, e := range t.protos {
		st.Protocols[id] = e.stats.snapshot()
	}
	return st
}

// Close stops every goroutine of the transport, resets its streams, and
// closes the Inbound and Events channels. Queued messages are dropped
// (use Disconnect first to flush). It does not close the host.
func (t *Transport) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	protos := make([]protocol.ID, 0, len(t.protos))
	for id := range t.protos {
		protos = append(protos, id)
	}
	t.mu.Unlock()

	t.h.Network().StopNotify(t.notif)
	for _, id := range protos {
		t.h.RemoveStreamHandler(id)
	}
	t.cancel()
	for _, s := range t.takeSenders(func(senderKey) bool { return true }) {
		s.stop()
	}
	t.mu.Lock()
	for st := range t.inStreams {
		_ = st.Reset()
	}
	t.mu.Unlock()
	t.wg.Wait()
	close(t.inbound)
	close(t.events.out)
	return nil
}
