package exp

import (
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
	"google.golang.org/protobuf/proto"
)

// ptFloodProtocol is the baseline: eager push of every new message to every
// neighbour but the sender, on the same overlay as plumtree.
const ptFloodProtocol membership.ProtocolID = "/hearsay/exp/plumtree-flood"

// ptFloodCore reuses plumtree's Gossip message; it keeps no tree and no timers.
type ptFloodCore struct {
	membership.Outbox
	self  membership.NodeID
	seq   uint64
	peers []membership.NodeID
	seen  map[plumtree.MessageID]bool
	onDel func(id plumtree.MessageID, hops int)
}

func (f *ptFloodCore) Protocol() membership.ProtocolID { return ptFloodProtocol }
func (f *ptFloodCore) NewMessage() proto.Message       { return &pb.Envelope{} }
func (f *ptFloodCore) TickInterval() time.Duration     { return 0 }
func (f *ptFloodCore) Tick(time.Duration)              {}

func (f *ptFloodCore) PeerDown(_ time.Duration, p membership.NodeID) { f.down(p) }

func (f *ptFloodCore) up(p membership.NodeID) {
	if i, ok := slices.BinarySearch(f.peers, p); !ok {
		f.peers = slices.Insert(f.peers, i, p)
	}
}

func (f *ptFloodCore) down(p membership.NodeID) {
	if i, ok := slices.BinarySearch(f.peers, p); ok {
		f.peers = slices.Delete(f.peers, i, i+1)
	}
}

func (f *ptFloodCore) broadcast() plumtree.MessageID {
	f.seq++
	id := plumtree.MessageID{Origin: f.self, Seq: f.seq}
	f.seen[id] = true
	f.forward(id, 1, "")
	return id
}

func (f *ptFloodCore) forward(id plumtree.MessageID, hops uint32, except membership.NodeID) {
	env := &pb.Envelope{Body: &pb.Envelope_Gossip{Gossip: &pb.Gossip{
		Id: &pb.MessageID{Origin: []byte(id.Origin), Seq: id.Seq}, Hops: hops}}}
	for _, p := range f.peers {
		if p != except {
			f.Send(p, env)
		}
	}
}

func (f *ptFloodCore) Step(_ time.Duration, from membership.NodeID, msg proto.Message) error {
	g := msg.(*pb.Envelope).GetGossip()
	id := plumtree.MessageID{Origin: membership.NodeID(g.GetId().GetOrigin()), Seq: g.GetId().GetSeq()}
	if f.seen[id] {
		return nil
	}
	f.seen[id] = true
	f.onDel(id, int(g.Hops))
	f.forward(id, g.Hops+1, from)
	return nil
}
