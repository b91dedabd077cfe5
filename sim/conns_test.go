package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// connCore records when messages arrive and when PeerUp is called.
type connCore struct {
	membership.Outbox
	got map[membership.NodeID][]time.Duration
	ups map[membership.NodeID][]time.Duration
}

func (c *connCore) Protocol() membership.ProtocolID { return "/test/conn" }
func (c *connCore) NewMessage() proto.Message       { return &wrapperspb.UInt64Value{} }
func (c *connCore) TickInterval() time.Duration     { return 0 }
func (c *connCore) Step(now time.Duration, from membership.NodeID, _ proto.Message) error {
	c.got[from] = append(c.got[from], now)
	return nil
}
func (c *connCore) Tick(time.Duration)                            {}
func (c *connCore) PeerDown(time.Duration, membership.NodeID)     {}
func (c *connCore) PeerUp(now time.Duration, p membership.NodeID) { c.ups[p] = append(c.ups[p], now) }

type connProc struct{ core *connCore }

// newConnSim is n connCore nodes with 10 ms latency and 100 ms connection
// setups, and an accessor for node i's core.
func newConnSim(t *testing.T, n int) (*Sim, func(i int) *connCore) {
	t.Helper()
	cfg := DefaultConfig(1)
	cfg.Latency = Fixed(10 * time.Millisecond)
	cfg.Connect = Fixed(100 * time.Millisecond)
	s, err := New(cfg, n, func(id membership.NodeID, _ int, _ *rand.Rand) Process {
		return &connProc{core: &connCore{got: map[membership.NodeID][]time.Duration{}, ups: map[membership.NodeID][]time.Duration{}}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, func(i int) *connCore { return s.Process(i).(*connProc).core }
}

func (p *connProc) Cores() []membership.Core              { return []membership.Core{p.core} }
func (p *connProc) Route(time.Duration, membership.Event) {}

// With Config.Connect the first message between two nodes waits for the
// connection (Connect's sample), both ends hear PeerUp when it is set up,
// later messages do not wait, a node sets up its connections one at a
// time (three nodes dialling one at once are connected 100, 200 and 300 ms
// later), and a restarted process needs a new connection.
func TestConnectModel(t *testing.T) {
	s, core := newConnSim(t, 4)
	send := func(from, to int) {
		s.Invoke(from, func(time.Duration) { core(from).Send(NodeName(to), &wrapperspb.UInt64Value{Value: 1}) })
	}
	for i := 1; i <= 3; i++ {
		send(i, 0)
	}
	s.RunFor(time.Second)
	for i := 1; i <= 3; i++ {
		ready := time.Duration(i) * 100 * time.Millisecond
		if got := core(0).got[NodeName(i)]; len(got) != 1 || got[0] != ready+10*time.Millisecond {
			t.Errorf("from %d: arrivals %v, want [%v]", i, got, ready+10*time.Millisecond)
		}
		if ups := core(0).ups[NodeName(i)]; len(ups) != 1 || ups[0] != ready {
			t.Errorf("node 0's PeerUp(%d) at %v, want [%v]", i, ups, ready)
		}
		if ups := core(i).ups[NodeName(0)]; len(ups) != 1 || ups[0] != ready {
			t.Errorf("node %d's PeerUp(0) at %v, want [%v]", i, ups, ready)
		}
	}
	// The connection is there: the answer does not wait.
	at := s.Now()
	send(0, 2)
	s.RunFor(time.Second)
	if got := core(2).got[NodeName(0)]; len(got) != 1 || got[0] != at+10*time.Millisecond {
		t.Errorf("answer arrived at %v, want %v", got, at+10*time.Millisecond)
	}
	// A restarted node has no connections.
	s.Crash(2)
	s.Restart(2)
	at = s.Now()
	send(0, 2)
	s.RunFor(time.Second)
	if got := core(2).got[NodeName(0)]; len(got) != 1 || got[0] != at+110*time.Millisecond {
		t.Errorf("after a restart: arrival %v, want %v", got, at+110*time.Millisecond)
	}
	if c := s.Stats().Connections; c != 4 {
		t.Errorf("%d connections set up, want 4", c)
	}
}

// A node that crashes while a connection to it is being set up never
// finishes the setup: the other end must not hear PeerUp for it.
func TestConnectNoPeerUpFromCrashedPeer(t *testing.T) {
	s, core := newConnSim(t, 2)
	s.Invoke(1, func(time.Duration) { core(1).Send(NodeName(0), &wrapperspb.UInt64Value{Value: 1}) })
	s.RunFor(50 * time.Millisecond)
	s.Crash(0)
	s.RunFor(time.Second)
	if ups := core(1).ups[NodeName(0)]; len(ups) != 0 {
		t.Fatalf("node 1 heard PeerUp(0) at %v; node 0 crashed at 50 ms, before the setup could finish", ups)
	}
}

// A paused process cannot do its half of a handshake (on libp2p the
// kernel accepts the TCP connection, but Noise needs the process): the
// dialer must not hear PeerUp until the peer resumes.
func TestConnectPeerUpWaitsForPausedPeer(t *testing.T) {
	s, core := newConnSim(t, 2)
	s.Pause(0)
	s.Invoke(1, func(time.Duration) { core(1).Send(NodeName(0), &wrapperspb.UInt64Value{Value: 1}) })
	s.RunFor(5 * time.Second)
	if ups := core(1).ups[NodeName(0)]; len(ups) != 0 {
		t.Fatalf("node 1 heard PeerUp(0) at %v while node 0 was paused", ups)
	}
	s.Resume(0)
	s.RunFor(time.Second)
	if ups := core(1).ups[NodeName(0)]; len(ups) != 1 || ups[0] != 5*time.Second {
		t.Fatalf("node 1 heard PeerUp(0) at %v; want once, when node 0 resumed (5s)", ups)
	}
	if got := core(0).got[NodeName(1)]; len(got) != 1 {
		t.Fatalf("node 0 got %v from node 1 after resuming; want the one message", got)
	}
}
