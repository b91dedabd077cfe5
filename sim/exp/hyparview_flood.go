package exp

import (
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const floodProtocol membership.ProtocolID = "/hearsay/exp/flood"

// floodMax is how many distinct broadcasts one run can carry (a bitmask).
const floodMax = 64

// floodShared is the state every node's flood core shares in one run: the
// message objects (sent by pointer, read-only) and the delivery counts.
type floodShared struct {
	msgs      [floodMax]*wrapperspb.UInt64Value
	resend    uint64 // bit i: broadcast i is also sent to neighbours that come up later
	delivered [floodMax]int
	window    time.Duration // how long after receipt a message is resent to new neighbours
}

func newFloodShared(window time.Duration) *floodShared {
	f := &floodShared{window: window}
	for i := range f.msgs {
		f.msgs[i] = wrapperspb.UInt64(uint64(i))
	}
	return f
}

// floodCore is the paper's flooding broadcast over HyParView's active
// view: on first receipt, forward to every active neighbour but the
// sender. For a broadcast marked resend, a node also forwards it to any
// neighbour that enters its active view within window of the receipt: the
// replacement of a neighbour whose link failed while the message was being
// sent (what a reliable transport over HyParView does on repair).
type floodCore struct {
	membership.Outbox
	hv     *hyparview.HyParView
	sh     *floodShared
	seen   uint64
	recent []floodRecent
}

type floodRecent struct {
	id uint8
	at time.Duration
}

func (f *floodCore) Protocol() membership.ProtocolID { return floodProtocol }
func (f *floodCore) NewMessage() proto.Message       { return &wrapperspb.UInt64Value{} }
func (f *floodCore) TickInterval() time.Duration     { return 0 }
func (f *floodCore) Tick(time.Duration)              {}
func (f *floodCore) PeerDown(time.Duration, membership.NodeID) {
	// HyParView, fed the same PeerDown by the simulator, repairs the view.
}

func (f *floodCore) Step(now time.Duration, from membership.NodeID, m proto.Message) error {
	v, ok := m.(*wrapperspb.UInt64Value)
	if !ok || v.Value >= floodMax {
		return fmt.Errorf("flood: bad message %T", m)
	}
	f.receive(now, uint8(v.Value), from)
	return nil
}

// receive delivers broadcast id and forwards it (from is "" at the source).
func (f *floodCore) receive(now time.Duration, id uint8, from membership.NodeID) {
	bit := uint64(1) << id
	if f.seen&bit != 0 {
		return
	}
	f.seen |= bit
	f.sh.delivered[id]++
	msg := f.sh.msgs[id]
	for k := 0; k < f.hv.ActiveLen(); k++ {
		if to := f.hv.ActiveID(k); to != from {
			f.Send(to, msg)
		}
	}
	if f.sh.resend&bit != 0 {
		f.recent = append(f.recent, floodRecent{id: id, at: now})
	}
}

// neighborUp forwards recent resend broadcasts to a new neighbour.
func (f *floodCore) neighborUp(now time.Duration, id membership.NodeID) {
	k := 0
	for _, r := range f.recent {
		if now-r.at > f.sh.window {
			continue
		}
		f.recent[k] = r
		k++
		f.Send(id, f.sh.msgs[r.id])
	}
	f.recent = f.recent[:k]
}

// hvProc is one simulated node of the experiment: HyParView and flooding.
type hvProc struct {
	hv    *hyparview.HyParView
	flood floodCore
	cores [2]membership.Core
}

func (p *hvProc) Cores() []membership.Core { return p.cores[:] }

func (p *hvProc) Route(now time.Duration, ev membership.Event) {
	if up, ok := ev.(membership.NeighborUp); ok && len(p.flood.recent) > 0 {
		p.flood.neighborUp(now, up.Node.ID)
	}
}
