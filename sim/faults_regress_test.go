package sim

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// cmdCore sends only when told to (no ticks) and records what it sees.
type cmdCore struct {
	membership.Outbox
	got   int
	downs int
}

func (c *cmdCore) Protocol() membership.ProtocolID { return "/test/cmd" }
func (c *cmdCore) NewMessage() proto.Message       { return &wrapperspb.UInt64Value{} }
func (c *cmdCore) TickInterval() time.Duration     { return 0 }
func (c *cmdCore) Tick(time.Duration)              {}
func (c *cmdCore) Step(time.Duration, membership.NodeID, proto.Message) error {
	c.got++
	return nil
}
func (c *cmdCore) PeerDown(time.Duration, membership.NodeID) { c.downs++ }

type cmdProc struct{ core *cmdCore }

func (p *cmdProc) Cores() []membership.Core              { return []membership.Core{p.core} }
func (p *cmdProc) Route(time.Duration, membership.Event) {}

func newCmdSim(t *testing.T) *Sim {
	t.Helper()
	cfg := DefaultConfig(1)
	cfg.Latency = Fixed(10 * time.Millisecond)
	cfg.LinkDownDelay = 50 * time.Millisecond
	s, err := New(cfg, 2, func(membership.NodeID, int, *rand.Rand) Process {
		return &cmdProc{core: &cmdCore{}}
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func cmd(s *Sim, i int) *cmdCore { return s.Process(i).(*cmdProc).core }

// Regression tests for the fault model (found in review, 2026-12-07).

// A sender paused after sending to a crashed peer sees PeerDown once it
// resumes: the link-down in flight when Resume ran carried the pre-Resume
// epoch and was dropped as stale.
func TestLinkDownSurvivesResume(t *testing.T) {
	s := newCmdSim(t)
	s.Crash(1)
	sendOne(s)
	s.Pause(0)
	s.Run(20 * time.Millisecond) // delivery fails at 10 ms, link-down due at 60 ms
	s.Resume(0)
	s.Run(500 * time.Millisecond)
	if d := cmd(s, 0).downs; d != 1 {
		t.Fatalf("sender saw PeerDown %d times, want 1 (the link-down in flight across Resume was dropped)", d)
	}
}

// sendOne has node 0 send one message to node 1.
func sendOne(s *Sim) {
	s.Invoke(0, func(time.Duration) { cmd(s, 0).Send(NodeName(1), &wrapperspb.UInt64Value{Value: 1}) })
}

// Messages in flight to a crashed node are lost even if it restarts before
// they arrive (the new process got them).
func TestInFlightToCrashedNodeLostAcrossRestart(t *testing.T) {
	s := newCmdSim(t)
	sendOne(s)
	s.Crash(1)
	s.Run(5 * time.Millisecond)
	s.Restart(1)
	s.Run(100 * time.Millisecond)
	if g := cmd(s, 1).got; g != 0 {
		t.Fatalf("restarted process received %d message(s) sent to its crashed predecessor", g)
	}
}

// A paused node sends nothing: Invoke ran commands on it and put their
// sends on the wire.
func TestPausedNodeSendsNothing(t *testing.T) {
	s := newCmdSim(t)
	s.Pause(0)
	sendOne(s)
	s.Run(100 * time.Millisecond)
	if g := cmd(s, 1).got; g != 0 {
		t.Fatalf("a paused node's send was delivered (%d) while it was still paused", g)
	}
}
