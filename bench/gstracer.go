package bench

import (
	"sync/atomic"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// gsTracer counts what GossipSub sends and receives, the way plumtree's
// Stats count it: payload messages received, and control entries sent.
type gsTracer struct {
	payloadsIn atomic.Uint64 // messages in received RPCs (duplicates included)
	control    atomic.Uint64 // IHAVE, IWANT, GRAFT, PRUNE, IDONTWANT entries sent
	dropped    atomic.Uint64 // RPCs dropped by a full outbound queue
}

func (t *gsTracer) RecvRPC(rpc *pubsub.RPC) {
	t.payloadsIn.Add(uint64(len(rpc.GetPublish())))
}

func (t *gsTracer) SendRPC(rpc *pubsub.RPC, _ peer.ID) {
	c := rpc.GetControl()
	if c == nil {
		return
	}
	n := len(c.GetIhave()) + len(c.GetIwant()) + len(c.GetGraft()) + len(c.GetPrune()) + len(c.GetIdontwant())
	t.control.Add(uint64(n))
}

func (t *gsTracer) DropRPC(*pubsub.RPC, peer.ID) { t.dropped.Add(1) }

func (t *gsTracer) OnNewOutboundStream(peer.ID, protocol.ID)             {}
func (t *gsTracer) OnClosedOutboundStream(peer.ID)                       {}
func (t *gsTracer) Join(string)                                          {}
func (t *gsTracer) Leave(string)                                         {}
func (t *gsTracer) Graft(peer.ID, string)                                {}
func (t *gsTracer) Prune(peer.ID, string)                                {}
func (t *gsTracer) ValidateMessage(*pubsub.Message)                      {}
func (t *gsTracer) DeliverMessage(*pubsub.Message)                       {}
func (t *gsTracer) RejectMessage(*pubsub.Message, string)                {}
func (t *gsTracer) DuplicateMessage(*pubsub.Message)                     {}
func (t *gsTracer) ThrottlePeer(peer.ID)                                 {}
func (t *gsTracer) UndeliverableMessage(*pubsub.Message)                 {}
func (t *gsTracer) SendRPCCompleted(*pubsub.RPC, peer.ID, time.Duration) {}
