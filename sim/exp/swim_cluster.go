package exp

import (
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

// slowLatency adds Extra to every message from or to a slow member, which
// models a member whose message processing lags (an overloaded process).
type slowLatency struct {
	Base  sim.Latency
	Slow  []bool
	Extra time.Duration
}

func (l slowLatency) Sample(r *rand.Rand, from, to int) time.Duration {
	d := l.Base.Sample(r, from, to)
	if (from < len(l.Slow) && l.Slow[from]) || (to < len(l.Slow) && l.Slow[to]) {
		d += l.Extra
	}
	return d
}

// swimNode is one simulated SWIM member; pauses use sim.Pause/Resume.
type swimNode struct {
	*swim.Core
	index int
	rec   *swimRecorder
}

func (n *swimNode) Cores() []membership.Core { return []membership.Core{n} }

func (n *swimNode) Route(now time.Duration, ev membership.Event) {
	if n.rec.on != nil {
		n.rec.on(now, n.index, ev)
	}
}

// swimRecorder passes every routed event to the current phase's hook.
type swimRecorder struct {
	on func(now time.Duration, node int, ev membership.Event)
}

type swimCluster struct {
	s   *sim.Sim
	rec *swimRecorder
	cfg swim.Config
}

// newSwimCluster builds n nodes; joinWithin > 0 makes nodes 1..n-1 join
// through node 0 at random times in [0, joinWithin).
func newSwimCluster(seed uint64, n int, net sim.Config, cfg swim.Config, joinWithin time.Duration) (*swimCluster, error) {
	rec := &swimRecorder{}
	var ferr error
	s, err := sim.New(net, n, func(id membership.NodeID, index int, rng *rand.Rand) sim.Process {
		c, err := swim.New(membership.Node{ID: id}, cfg, rng)
		if err != nil {
			ferr = err
			c, _ = swim.New(membership.Node{ID: id}, swim.DefaultLANConfig(), rng)
		}
		return &swimNode{Core: c, index: index, rec: rec}
	})
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	cl := &swimCluster{s: s, rec: rec, cfg: cfg}
	for i := 1; i < n; i++ {
		i := i
		at := time.Duration(0)
		if joinWithin > 0 {
			at = time.Duration(s.Rand().Int64N(int64(joinWithin)))
		}
		s.At(at, func() {
			s.Invoke(i, func(now time.Duration) { _ = cl.node(i).Join(now, membership.Node{ID: sim.NodeName(0)}) })
		})
	}
	return cl, nil
}

func (cl *swimCluster) node(i int) *swimNode { return cl.s.Process(i).(*swimNode) }

// converged: every live node sees every other live node alive.
func (cl *swimCluster) converged() bool {
	n := cl.s.N()
	for i := 0; i < n; i++ {
		if !cl.s.Alive(i) {
			continue
		}
		c := cl.node(i)
		if c.NumAlive() != cl.liveCount() {
			return false
		}
		for j := 0; j < n; j++ {
			if j == i || !cl.s.Alive(j) {
				continue
			}
			if m, ok := c.Member(sim.NodeName(j)); !ok || m.State != membership.StateAlive {
				return false
			}
		}
	}
	return true
}

func (cl *swimCluster) liveCount() int {
	k := 0
	for i := 0; i < cl.s.N(); i++ {
		if cl.s.Alive(i) {
			k++
		}
	}
	return k
}

func (cl *swimCluster) bytes() uint64 { return cl.s.Stats().Protocol(swim.Protocol).Bytes }
