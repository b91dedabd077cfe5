package swim_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

// event is one recorded event with its time.
type event struct {
	at time.Duration
	ev membership.Event
}

type proc struct {
	core   *swim.Core
	events []event
}

func (p *proc) Cores() []membership.Core { return []membership.Core{p.core} }
func (p *proc) Route(now time.Duration, ev membership.Event) {
	p.events = append(p.events, event{now, ev})
}

// cluster is n SWIM nodes in the simulator; node i joins through node 0
// at a random time in the first second.
type cluster struct {
	t    *testing.T
	seed uint64
	s    *sim.Sim
}

func newCluster(t *testing.T, seed uint64, n int, net sim.Config, cfg swim.Config) *cluster {
	t.Helper()
	s, err := sim.New(net, n, func(id membership.NodeID, index int, rng *rand.Rand) sim.Process {
		c, err := swim.New(membership.Node{ID: id}, cfg, rng)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		return &proc{core: c}
	})
	if err != nil {
		t.Fatal(err)
	}
	cl := &cluster{t: t, seed: seed, s: s}
	for i := 1; i < n; i++ {
		i := i
		s.At(time.Duration(s.Rand().Int64N(int64(time.Second))), func() {
			s.Invoke(i, func(now time.Duration) {
				if err := cl.core(i).Join(now, membership.Node{ID: sim.NodeName(0)}); err != nil {
					t.Fatalf("seed %d: join: %v", seed, err)
				}
			})
		})
	}
	return cl
}

func (cl *cluster) proc(i int) *proc      { return cl.s.Process(i).(*proc) }
func (cl *cluster) core(i int) *swim.Core { return cl.proc(i).core }

// converged reports whether every live node sees every live node alive.
func (cl *cluster) converged() bool {
	n := cl.s.N()
	for i := 0; i < n; i++ {
		if !cl.s.Alive(i) {
			continue
		}
		c := cl.core(i)
		for j := 0; j < n; j++ {
			if j == i || !cl.s.Alive(j) {
				continue
			}
			m, ok := c.Member(sim.NodeName(j))
			if !ok || m.State != membership.StateAlive {
				return false
			}
		}
	}
	return true
}

func (cl *cluster) waitConverged(limit time.Duration) {
	cl.t.Helper()
	if !cl.s.RunUntil(cl.s.Now()+limit, cl.converged) {
		cl.t.Fatalf("seed %d: cluster did not converge within %v", cl.seed, limit)
	}
}

// memberEvents counts MemberEvents of a change about a node (any node if
// about is empty) across all live nodes, after since.
func (cl *cluster) memberEvents(ch membership.MemberChange, about membership.NodeID, since time.Duration) int {
	k := 0
	for i := 0; i < cl.s.N(); i++ {
		if !cl.s.Alive(i) {
			continue
		}
		for _, e := range cl.proc(i).events {
			if me, ok := e.ev.(membership.MemberEvent); ok && e.at >= since && me.Change == ch && (about == "" || me.Node.ID == about) {
				k++
			}
		}
	}
	return k
}

// randomSeed is a fresh seed, or HEARSAY_SEED to replay a failure.
func randomSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if v, err := strconv.ParseUint(os.Getenv("HEARSAY_SEED"), 10, 64); err == nil {
		seed = v
	}
	t.Logf("seed %d", seed)
	return seed
}

func membershipID(s string) membership.NodeID { return membership.NodeID(s) }
func int64ToDur(i int) time.Duration          { return time.Duration(i) * 100 * time.Millisecond }
