package agent

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	pubsub "github.com/libp2p/go-libp2p-pubsub"
	pubsubpb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Broadcast protocols a user can choose with --broadcast.
const (
	BroadcastPlumtree  = "plumtree"
	BroadcastGossipSub = "gossipsub"
)

// GossipSubTopic is the topic every agent joins when it broadcasts with
// GossipSub.
const GossipSubTopic = "/hearsay/broadcast/1"

// Delivery is a broadcast payload that reached this node.
type Delivery struct {
	// Origin is the peer ID of the node that broadcast it (plumtree).
	// GossipSub messages carry no author here, so with GossipSub it is
	// the neighbour that forwarded the message.
	Origin peer.ID
	// Payload is shared: read it, never modify it.
	Payload []byte
	// Hops is how many links the delivering copy crossed (plumtree only;
	// 0 for the origin and for GossipSub).
	Hops int
	// Repaired: plumtree delivered it through its missing-message path
	// (IHAVE, then GRAFT), not by push on the tree (always false for
	// GossipSub).
	Repaired bool
}

// gossip is the GossipSub alternative: go-libp2p-pubsub on the same host.
type gossip struct {
	ps    *pubsub.PubSub
	topic *pubsub.Topic
	sub   *pubsub.Subscription
	mesh  meshTracer
}

// meshTracer counts the peers in our GossipSub mesh. Until the first
// heartbeat grafts some, a publish can reach nobody (GossipSub sends only
// to peers whose outbound stream is open, and does not retry).
type meshTracer struct {
	size atomic.Int64
}

func (m *meshTracer) Graft(peer.ID, string)                                { m.size.Add(1) }
func (m *meshTracer) Prune(peer.ID, string)                                { m.size.Add(-1) }
func (m *meshTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (m *meshTracer) OnClosedOutboundStream(peer.ID)                       {}
func (m *meshTracer) Join(string)                                          {}
func (m *meshTracer) Leave(string)                                         {}
func (m *meshTracer) ValidateMessage(*pubsub.Message)                      {}
func (m *meshTracer) DeliverMessage(*pubsub.Message)                       {}
func (m *meshTracer) RejectMessage(*pubsub.Message, string)                {}
func (m *meshTracer) DuplicateMessage(*pubsub.Message)                     {}
func (m *meshTracer) ThrottlePeer(peer.ID)                                 {}
func (m *meshTracer) RecvRPC(*pubsub.RPC)                                  {}
func (m *meshTracer) SendRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
func (m *meshTracer) DropRPC(*pubsub.RPC, peer.ID)                         {}
func (m *meshTracer) UndeliverableMessage(*pubsub.Message)                 {}

// GossipSubMesh is how many peers our GossipSub mesh holds (0 with
// plumtree). Publish once it is non-zero: earlier messages can be lost.
func (a *Agent) GossipSubMesh() int {
	if a.gs == nil {
		return 0
	}
	return int(a.gs.mesh.size.Load())
}

// startGossipSub joins the broadcast topic. Messages are not signed, to
// match plumtree, which relies on the authenticated libp2p channel per hop,
// and carry no author or sequence number: the message ID is the SHA-256 of
// the payload, which is why every payload the agent publishes is unique
// (a keyspace delta names its writer and dot; Publish adds a nonce).
func (a *Agent) startGossipSub(ctx context.Context) error {
	opts := []pubsub.Option{
		pubsub.WithMessageSignaturePolicy(pubsub.StrictNoSign),
		pubsub.WithNoAuthor(),
		pubsub.WithMessageIdFn(func(m *pubsubpb.Message) string {
			h := sha256.Sum256(m.Data)
			return string(h[:])
		}),
		pubsub.WithPeerOutboundQueueSize(a.cfg.GossipSubQueue),
		pubsub.WithValidateQueueSize(a.cfg.GossipSubQueue),
	}
	g := &gossip{}
	opts = append(opts, pubsub.WithRawTracer(&g.mesh))
	if a.cfg.GossipSubTracer != nil {
		opts = append(opts, pubsub.WithRawTracer(a.cfg.GossipSubTracer))
	}
	ps, err := pubsub.NewGossipSub(ctx, a.host, opts...)
	if err != nil {
		return fmt.Errorf("agent: gossipsub: %w", err)
	}
	topic, err := ps.Join(GossipSubTopic)
	if err != nil {
		return fmt.Errorf("agent: gossipsub join: %w", err)
	}
	sub, err := topic.Subscribe(pubsub.WithBufferSize(a.cfg.GossipSubQueue))
	if err != nil {
		return fmt.Errorf("agent: gossipsub subscribe: %w", err)
	}
	g.ps, g.topic, g.sub = ps, topic, sub
	a.gs = g
	go a.readGossipSub(ctx, sub)
	return nil
}

func (a *Agent) readGossipSub(ctx context.Context, sub *pubsub.Subscription) {
	for {
		m, err := sub.Next(ctx)
		if err != nil {
			return
		}
		d := Delivery{Origin: m.ReceivedFrom, Payload: m.Data}
		if m.ReceivedFrom == a.host.ID() {
			d.Origin = a.host.ID()
		}
		select {
		case a.cmds <- func(time.Duration) { a.deliver(d) }:
		case <-ctx.Done():
			return
		}
	}
}

// deliver routes a broadcast by its kind byte, on the loop: keyspace
// deltas to the store, application payloads (kind byte stripped) to the
// application hook; anything else is dropped with a warning.
func (a *Agent) deliver(d Delivery) {
	a.delivered++
	if len(d.Payload) == 0 {
		a.log.Warn("dropped an empty broadcast payload", "from", d.Origin.String())
		return
	}
	switch d.Payload[0] {
	case payloadDelta:
		if a.gs != nil {
			// GossipSub names no author: Origin is the last forwarder,
			// and crediting it with the writer's dot would corrupt
			// anti-entropy's clock. GossipSub deltas name their writer.
			a.log.Warn("dropped a keyspace delta without its writer from GossipSub", "from", d.Origin.String())
			return
		}
		a.applyRemoteDelta(d.Origin, d.Payload)
	case payloadDeltaFrom:
		a.applyRemoteDelta(d.Origin, d.Payload)
	case payloadApp:
		if a.cfg.OnDeliver != nil {
			d.Payload = d.Payload[1:]
			a.cfg.OnDeliver(d)
		}
	case payloadAppNonce:
		if len(d.Payload) < 1+appNonceLen {
			a.log.Warn("dropped a truncated broadcast payload", "from", d.Origin.String())
			return
		}
		if a.cfg.OnDeliver != nil {
			d.Payload = d.Payload[1+appNonceLen:]
			a.cfg.OnDeliver(d)
		}
	default:
		a.log.Warn("dropped a broadcast payload of unknown kind", "from", d.Origin.String(), "kind", d.Payload[0])
	}
}

// routeBroadcast handles plumtree's events and feeds it the overlay's.
func (a *Agent) routeBroadcast(now time.Duration, ev membership.Event) bool {
	switch e := ev.(type) {
	case plumtree.Delivered:
		origin, _ := a.ids.peer(e.Origin)
		a.deliver(Delivery{Origin: origin, Payload: e.Payload, Hops: e.Hops, Repaired: e.Repaired})
		return true
	case membership.NeighborUp:
		if a.pt != nil {
			a.pt.NeighborUp(now, e.Node)
		}
	case membership.NeighborDown:
		if a.pt != nil {
			a.pt.NeighborDown(now, e.Node)
		}
	}
	return false
}

// Publish broadcasts payload to every node, with the configured protocol;
// each delivers it to Config.OnDeliver (the payload is framed with one kind
// byte, so plumtree takes at most Plumtree.MaxPayload-1 bytes).
func (a *Agent) Publish(ctx context.Context, payload []byte) error {
	if a.gs != nil {
		return a.gs.topic.Publish(ctx, encodeAppNonce(payload))
	}
	framed := encodeApp(payload)
	var err error
	if derr := a.Do(ctx, func(now time.Duration) {
		_, err = a.pt.Broadcast(now, framed)
	}); derr != nil {
		return derr
	}
	return err
}

// BroadcastStats are the broadcast layer's counters.
type BroadcastStats struct {
	Protocol  string         `json:"protocol"`
	Delivered uint64         `json:"delivered"`
	Plumtree  plumtree.Stats `json:"plumtree"`
	// TransportDrops counts broadcast frames the transport dropped (a full
	// per-peer queue or a failed stream).
	TransportDrops uint64 `json:"transport_drops"`
}

// BroadcastStats reads the counters on the loop.
func (a *Agent) BroadcastStats(ctx context.Context) (BroadcastStats, error) {
	var st BroadcastStats
	err := a.Do(ctx, func(time.Duration) {
		st.Protocol = a.cfg.Broadcast
		st.Delivered = a.delivered
		if a.pt != nil {
			st.Plumtree = a.pt.Stats()
			ps := a.tr.Stats().Protocols[protocol.ID(plumtree.Protocol)]
			st.TransportDrops = ps.DroppedQueueFull + ps.DroppedSendFailed
		}
	})
	return st, err
}

// GossipSubPeers lists the peers GossipSub knows on the broadcast topic
// (empty with plumtree).
func (a *Agent) GossipSubPeers() []peer.ID {
	if a.gs == nil {
		return nil
	}
	return a.gs.topic.ListPeers()
}

var errBadBroadcast = errors.New("want plumtree or gossipsub")
