package exp

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

// stackProc is one node running the agent's protocol stack: HyParView,
// SWIM and plumtree, wired as the agent wires them.
type stackProc struct {
	hv        *hyparview.HyParView
	sw        *swim.Core
	pt        *plumtree.Core
	delivered int
}

func (p *stackProc) Cores() []membership.Core { return []membership.Core{p.hv, p.sw, p.pt} }

func (p *stackProc) Route(now time.Duration, ev membership.Event) {
	switch e := ev.(type) {
	case membership.NeighborUp:
		p.pt.NeighborUp(now, e.Node)
	case membership.NeighborDown:
		p.pt.NeighborDown(now, e.Node)
	case membership.MemberEvent:
		if e.Change == membership.MemberFailed || e.Change == membership.MemberLeft {
			p.hv.PeerDown(now, e.Node.ID)
		}
	case plumtree.Delivered:
		p.delivered++
	}
}

// TestStackOverTheWire runs the whole stack with every message encoded
// and decoded as the agent's transport does, so a codec bug in any core
// (a field the receiver cannot parse, a string that is not UTF-8) fails
// here rather than only between real agents.
func TestStackOverTheWire(t *testing.T) {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	cfg := sim.DefaultConfig(seed)
	cfg.Wire = true
	const n = 40
	s, err := sim.New(cfg, n, func(id membership.NodeID, index int, rng *rand.Rand) sim.Process {
		self := membership.Node{ID: id, Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}}
		hv, err := hyparview.New(self, hyparview.SimConfig(), rng)
		if err != nil {
			t.Fatal(err)
		}
		sw, err := swim.New(self, swim.DefaultLocalConfig(), rng)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := plumtree.New(id, plumtree.DefaultConfig(), rng)
		if err != nil {
			t.Fatal(err)
		}
		return &stackProc{hv: hv, sw: sw, pt: pt}
	})
	if err != nil {
		t.Fatal(err)
	}
	contact := membership.Node{ID: s.ID(0)}
	for i := 1; i < n; i++ {
		p := s.Process(i).(*stackProc)
		s.Invoke(i, func(now time.Duration) {
			p.hv.Join(now, contact)
			if err := p.sw.Join(now, contact); err != nil {
				t.Fatal(err)
			}
		})
	}
	s.RunFor(10 * time.Second)
	p0 := s.Process(0).(*stackProc)
	s.Invoke(0, func(now time.Duration) {
		if err := p0.sw.SetMeta(now, map[string]string{"name": "zero"}); err != nil {
			t.Fatal(err)
		}
		if _, err := p0.pt.Broadcast(now, []byte("hello")); err != nil {
			t.Fatal(err)
		}
	})
	s.Crash(n - 1)
	s.RunFor(20 * time.Second)
	for _, ps := range s.Stats().PerProtocol {
		if ps.EncodeFailed != 0 || ps.DecodeFailed != 0 || ps.Rejected != 0 {
			t.Fatalf("seed %d: %s: %d encode and %d decode failures, %d rejected", seed, ps.Protocol, ps.EncodeFailed, ps.DecodeFailed, ps.Rejected)
		}
		if ps.Delivered == 0 {
			t.Fatalf("seed %d: %s delivered nothing", seed, ps.Protocol)
		}
	}
	for i := 0; i < n-1; i++ {
		p := s.Process(i).(*stackProc)
		if p.delivered != 1 {
			t.Fatalf("seed %d: node %d delivered the broadcast %d times", seed, i, p.delivered)
		}
		m, ok := p.sw.Member(s.ID(0))
		if i > 0 && (!ok || m.Meta["name"] != "zero") {
			t.Fatalf("seed %d: node %d did not learn node 0's metadata: %+v", seed, i, m)
		}
		if dead, ok := p.sw.Member(s.ID(n - 1)); !ok || dead.State != membership.StateDead {
			t.Fatalf("seed %d: node %d sees crashed node as %v", seed, i, dead.State)
		}
	}
}
