package sim

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// gossipCore is a tiny core for testing the simulator: on each tick it
// sends a counter to a random known peer; on receipt it remembers the
// largest counter and the sender.
type gossipCore struct {
	membership.Outbox
	rng     *rand.Rand
	peers   []membership.NodeID
	max     uint64
	got     int
	downs   []membership.NodeID
	counter uint64
}

func (g *gossipCore) Protocol() membership.ProtocolID { return "/test/gossip" }
func (g *gossipCore) NewMessage() proto.Message       { return &wrapperspb.UInt64Value{} }
func (g *gossipCore) TickInterval() time.Duration     { return 100 * time.Millisecond }
func (g *gossipCore) Step(_ time.Duration, _ membership.NodeID, m proto.Message) error {
	v, ok := m.(*wrapperspb.UInt64Value)
	if !ok {
		return fmt.Errorf("unexpected %T", m)
	}
	g.got++
	if v.Value > g.max {
		g.max = v.Value
	}
	return nil
}
func (g *gossipCore) Tick(time.Duration) {
	g.counter++
	to := g.peers[g.rng.IntN(len(g.peers))]
	g.Send(to, &wrapperspb.UInt64Value{Value: g.counter})
}
func (g *gossipCore) PeerDown(_ time.Duration, p membership.NodeID) { g.downs = append(g.downs, p) }

type gossipProc struct{ core *gossipCore }

func (p *gossipProc) Cores() []membership.Core              { return []membership.Core{p.core} }
func (p *gossipProc) Route(time.Duration, membership.Event) {}

func newGossipSim(t *testing.T, cfg Config, n int) *Sim {
	t.Helper()
	s, err := New(cfg, n, func(id membership.NodeID, index int, rng *rand.Rand) Process {
		var peers []membership.NodeID
		for j := 0; j < n; j++ {
			if j != index {
				peers = append(peers, NodeName(j))
			}
		}
		return &gossipProc{core: &gossipCore{rng: rng, peers: peers}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func runHash(t *testing.T, seed uint64) (uint64, uint64) {
	cfg := DefaultConfig(seed)
	cfg.Loss, cfg.Duplicate, cfg.Reorder = 0.05, 0.05, 0.1
	cfg.TraceContent = true
	s := newGossipSim(t, cfg, 30)
	s.At(2*time.Second, func() { s.Crash(3) })
	s.At(3*time.Second, func() { s.Partition([]int{0, 1, 2, 4, 5}) })
	s.At(4*time.Second, func() { s.Heal(); s.Restart(3) })
	s.Run(6 * time.Second)
	return s.TraceHash(), s.Events()
}

func TestSameSeedSameTrace(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	h1, n1 := runHash(t, seed)
	h2, n2 := runHash(t, seed)
	if h1 != h2 || n1 != n2 {
		t.Fatalf("seed %d: two runs differ: hash %x/%x events %d/%d", seed, h1, h2, n1, n2)
	}
	h3, _ := runHash(t, seed+1)
	if h3 == h1 {
		t.Fatalf("seed %d and %d gave the same trace hash %x", seed, seed+1, h1)
	}
}

func TestLossDuplicationCounted(t *testing.T) {
	cfg := DefaultConfig(7)
	cfg.Loss, cfg.Duplicate = 0.2, 0.1
	s := newGossipSim(t, cfg, 10)
	s.Run(10 * time.Second)
	st := s.Stats().Protocol("/test/gossip")
	if st.Sent == 0 || st.Lost == 0 || st.Duplicated == 0 {
		t.Fatalf("expected sends, losses and duplicates: %+v", st)
	}
	lossRate := float64(st.Lost) / float64(st.Sent)
	if lossRate < 0.15 || lossRate > 0.25 {
		t.Fatalf("loss rate %.3f, configured 0.2", lossRate)
	}
	if got := st.Delivered + uint64(s.InFlight()); got != st.Sent-st.Lost+st.Duplicated {
		t.Fatalf("delivered %d + in flight %d != sent %d - lost %d + duplicated %d", st.Delivered, s.InFlight(), st.Sent, st.Lost, st.Duplicated)
	}
}

func TestCrashedTargetGivesPeerDown(t *testing.T) {
	s := newGossipSim(t, DefaultConfig(1), 3)
	s.Crash(2)
	s.Run(5 * time.Second)
	g := s.Process(0).(*gossipProc).core
	if len(g.downs) == 0 {
		t.Fatal("node 0 never saw PeerDown for crashed node 2")
	}
	for _, d := range g.downs {
		if d != NodeName(2) {
			t.Fatalf("PeerDown for %s, only n2 is down", d)
		}
	}
	if s.Stats().Protocol("/test/gossip").Unreachable == 0 {
		t.Fatal("no unreachable deliveries counted")
	}
}

func TestPartitionBlocksUntilHeal(t *testing.T) {
	s := newGossipSim(t, DefaultConfig(3), 4)
	s.Partition([]int{0, 1}, []int{2, 3})
	s.Run(3 * time.Second)
	if s.Reachable(0, 2) || !s.Reachable(0, 1) {
		t.Fatal("partition reachability wrong")
	}
	before := s.Stats().Protocol("/test/gossip").Unreachable
	if before == 0 {
		t.Fatal("no message was blocked by the partition")
	}
	s.Heal()
	g := s.Process(2).(*gossipProc).core
	got := g.got
	s.Run(6 * time.Second)
	if g.got == got {
		t.Fatal("node 2 received nothing after heal")
	}
}

func TestFIFOPerLinkWithoutReorder(t *testing.T) {
	cfg := DefaultConfig(11)
	cfg.Latency = Uniform{Min: time.Millisecond, Max: 200 * time.Millisecond}
	s, err := New(cfg, 2, func(id membership.NodeID, index int, rng *rand.Rand) Process {
		return &orderProc{core: &orderCore{peer: NodeName(1 - index)}}
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Run(20 * time.Second)
	for i := 0; i < 2; i++ {
		c := s.Process(i).(*orderProc).core
		if c.got < 100 {
			t.Fatalf("node %d got only %d messages", i, c.got)
		}
		if c.outOfOrder != 0 {
			t.Fatalf("node %d saw %d out-of-order messages on a FIFO link", i, c.outOfOrder)
		}
	}
}

// orderCore sends a numbered message every tick, to peer, or (with rng) to
// a random one of n nodes, numbering per destination; it counts messages
// that arrive out of order on their link.
type orderCore struct {
	membership.Outbox
	peer            membership.NodeID
	next, last      uint64
	got, outOfOrder int

	n, self  int
	rng      *rand.Rand
	nextTo   map[int]uint64
	lastFrom map[membership.NodeID]uint64
}

func (c *orderCore) Protocol() membership.ProtocolID { return "/test/order" }
func (c *orderCore) NewMessage() proto.Message       { return &wrapperspb.UInt64Value{} }
func (c *orderCore) TickInterval() time.Duration     { return 10 * time.Millisecond }
func (c *orderCore) Step(_ time.Duration, from membership.NodeID, m proto.Message) error {
	v := m.(*wrapperspb.UInt64Value).Value
	last := c.last
	if c.rng != nil {
		last = c.lastFrom[from]
	}
	if v < last {
		c.outOfOrder++
	}
	if c.rng != nil {
		if c.lastFrom == nil {
			c.lastFrom = map[membership.NodeID]uint64{}
		}
		c.lastFrom[from] = v
	} else {
		c.last = v
	}
	c.got++
	return nil
}
func (c *orderCore) Tick(time.Duration) {
	if c.rng == nil {
		c.next++
		c.Send(c.peer, &wrapperspb.UInt64Value{Value: c.next})
		return
	}
	if c.nextTo == nil {
		c.nextTo = map[int]uint64{}
	}
	to := c.rng.IntN(c.n - 1)
	if to >= c.self {
		to++
	}
	c.nextTo[to]++
	c.Send(NodeName(to), &wrapperspb.UInt64Value{Value: c.nextTo[to]})
}
func (c *orderCore) PeerDown(time.Duration, membership.NodeID) {}

type orderProc struct{ core *orderCore }

func (p *orderProc) Cores() []membership.Core              { return []membership.Core{p.core} }
func (p *orderProc) Route(time.Duration, membership.Event) {}

func TestPauseHoldsMessagesUntilResume(t *testing.T) {
	s := newGossipSim(t, DefaultConfig(5), 4)
	s.Run(2 * time.Second)
	g := s.Process(1).(*gossipProc).core
	s.Pause(1)
	got, counter := g.got, g.counter
	s.Run(5 * time.Second)
	if g.got != got || g.counter != counter {
		t.Fatalf("a paused node received %d and ticked %d times", g.got-got, g.counter-counter)
	}
	for _, i := range []int{0, 2, 3} {
		if downs := s.Process(i).(*gossipProc).core.downs; len(downs) != 0 {
			t.Fatalf("node %d saw PeerDown %v for a paused (not crashed) peer", i, downs)
		}
	}
	s.Resume(1)
	s.Run(s.Now())
	if g.got == got {
		t.Fatal("the messages held during the pause were not delivered on resume")
	}
	if g.counter == counter {
		t.Fatal("a resumed node did not tick at once")
	}
}

func TestSetLossValidates(t *testing.T) {
	s := newGossipSim(t, DefaultConfig(5), 2)
	if err := s.SetLoss(1.5); err == nil {
		t.Fatal("SetLoss(1.5) accepted")
	}
	if err := s.SetLoss(0.5); err != nil {
		t.Fatal(err)
	}
	s.Run(10 * time.Second)
	if st := s.Stats().Protocol("/test/gossip"); st.Lost == 0 {
		t.Fatal("no loss after SetLoss(0.5)")
	}
}

func TestWireRoundTrip(t *testing.T) {
	cfg := DefaultConfig(9)
	cfg.Wire = true
	s := newGossipSim(t, cfg, 5)
	s.Run(5 * time.Second)
	st := s.Stats().Protocol("/test/gossip")
	if st.Delivered == 0 || st.EncodeFailed != 0 || st.DecodeFailed != 0 {
		t.Fatalf("wire mode: %+v", st)
	}
	var max uint64
	for i := 0; i < 5; i++ {
		if m := s.Process(i).(*gossipProc).core.max; m > max {
			max = m
		}
	}
	if max == 0 {
		t.Fatal("decoded messages carried no values")
	}
}

// Many nodes sending to random peers: every link stays FIFO, and the
// per-link ordering state holds only links with messages in flight, not
// every link ever used.
func TestFIFOStateStaysBounded(t *testing.T) {
	const n = 200
	cfg := DefaultConfig(12)
	cfg.Latency = Uniform{Min: time.Millisecond, Max: 200 * time.Millisecond}
	s, err := New(cfg, n, func(id membership.NodeID, index int, rng *rand.Rand) Process {
		return &orderProc{core: &orderCore{n: n, self: index, rng: rng}}
	})
	if err != nil {
		t.Fatal(err)
	}
	links := map[[2]membership.NodeID]bool{}
	maxFIFO := 0
	for range 100 {
		s.RunFor(100 * time.Millisecond)
		maxFIFO = max(maxFIFO, len(s.fifo))
	}
	for i := range n {
		c := s.Process(i).(*orderProc).core
		if c.outOfOrder != 0 {
			t.Fatalf("node %d saw %d out-of-order messages on a FIFO link", i, c.outOfOrder)
		}
		for from := range c.lastFrom {
			links[[2]membership.NodeID{from, NodeName(i)}] = true
		}
	}
	// 200 nodes x 100 sends a second x 10 s touch nearly all 39,800
	// directed links; about 200 x 20 messages are in flight at a time.
	if len(links) < 30000 {
		t.Fatalf("only %d links used; the bound below would prove nothing", len(links))
	}
	if maxFIFO > 12000 {
		t.Fatalf("FIFO state reached %d entries for %d links used: links without messages in flight are kept", maxFIFO, len(links))
	}
}
