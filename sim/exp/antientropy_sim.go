package exp

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
)

// aeProc is a simulated node running only the anti-entropy core over an
// in-memory store; every node knows every member (a static list).
type aeProc struct {
	core  *antientropy.Core
	store *antientropy.MemStore
}

func (p *aeProc) Cores() []membership.Core              { return []membership.Core{p.core} }
func (p *aeProc) Route(time.Duration, membership.Event) {}

func buildAESim(cfg antientropy.Config, seed uint64, n int) (*sim.Sim, error) {
	ids := make([]membership.NodeID, n)
	for i := range ids {
		ids[i] = sim.NodeName(i)
	}
	var ferr error
	sc := sim.DefaultConfig(seed)
	sc.CountBytes = true
	s, err := sim.New(sc, n, func(id membership.NodeID, _ int, rng *rand.Rand) sim.Process {
		st := antientropy.NewMemStore()
		c, err := antientropy.New(cfg, id, st, rng)
		if err != nil {
			ferr = err
			return nil
		}
		c.SetMembers(0, ids)
		return &aeProc{core: c, store: st}
	})
	if ferr != nil {
		return nil, ferr
	}
	return s, err
}

func aeNode(s *sim.Sim, i int) *aeProc { return s.Process(i).(*aeProc) }

// aeWrite makes a local write at node i; with broadcast, an ideal
// broadcast stand-in delivers the state 20 ms later to every node the
// writer can reach at that moment (no plumtree: this experiment measures
// anti-entropy).
func aeWrite(s *sim.Sim, i int, key string, broadcast bool) {
	var d antientropy.Dot
	var st []byte
	s.Invoke(i, func(now time.Duration) {
		p := aeNode(s, i)
		d = p.core.NextDot()
		st = p.store.Put(key, []byte(fmt.Sprint(now)), d)
		if err := p.core.Wrote(now, key, d); err != nil {
			panic(err)
		}
	})
	if !broadcast {
		return
	}
	s.At(s.Now()+20*time.Millisecond, func() {
		for j := 0; j < s.N(); j++ {
			if j == i || !s.Reachable(i, j) {
				continue
			}
			s.Invoke(j, func(now time.Duration) {
				p := aeNode(s, j)
				if _, err := p.store.Merge(key, st); err != nil {
					panic(err)
				}
				if err := p.core.Applied(now, key, []antientropy.Dot{d}); err != nil {
					panic(err)
				}
			})
		}
	})
}

// aeEqual reports whether every node has the same store (Merkle root)
// and the same clock as node 0.
func aeEqual(s *sim.Sim) bool {
	r, h := aeNode(s, 0).core.Root(), aeNode(s, 0).core.ClockHash()
	for i := 1; i < s.N(); i++ {
		if p := aeNode(s, i); p.core.Root() != r || p.core.ClockHash() != h {
			return false
		}
	}
	return true
}

func aeStats(s *sim.Sim) antientropy.Stats {
	var t antientropy.Stats
	for i := 0; i < s.N(); i++ {
		st := aeNode(s, i).core.Stats()
		t.SessionsStarted += st.SessionsStarted
		t.InSync += st.InSync
		t.DeltaSessions += st.DeltaSessions
		t.TreeSessions += st.TreeSessions
		t.Abandoned += st.Abandoned
		t.ObjectsPulled += st.ObjectsPulled
		t.ObjectsPushed += st.ObjectsPushed
	}
	return t
}

func partitionHealTable(cfg AntiEntropyConfig) (*Table, error) {
	s, err := buildAESim(cfg.Core, cfg.Seed, cfg.Nodes)
	if err != nil {
		return nil, err
	}
	n := cfg.Nodes
	var sides [2][]int
	for i := 0; i < n; i++ {
		sides[i%2] = append(sides[i%2], i)
	}
	rng := s.Rand()
	start := 5 * time.Second
	heal := start + cfg.Partition
	s.At(start, func() { s.Partition(sides[0], sides[1]) })
	gap := time.Duration(float64(time.Second) / cfg.WriteRate)
	writes := 0
	for side := 0; side < 2; side++ {
		writers := sides[side][:cfg.WritersPerSide]
		for t := start + gap/2 + time.Duration(side)*gap/4; t < heal; t += gap {
			w := writers[rng.IntN(len(writers))]
			key := fmt.Sprintf("k%d", rng.IntN(cfg.Keys))
			s.At(t, func() { aeWrite(s, w, key, true) })
			writes++
		}
	}
	s.Run(heal)
	before := aeStats(s)
	s.Heal()
	converged := time.Duration(-1)
	for s.Now() < heal+5*time.Minute {
		s.RunFor(250 * time.Millisecond)
		if aeEqual(s) {
			converged = s.Now() - heal
			break
		}
	}
	after := aeStats(s)
	t := &Table{
		Title:   fmt.Sprintf("Partition heal: %d nodes in two halves for %v, writes on both sides, then healed", n, cfg.Partition),
		Columns: []string{"nodes", "writes", "keys", "converged after heal", "bound", "delta sessions", "tree sessions", "objects pulled+pushed", "log entries (n0)"},
	}
	conv := "not within 5 min"
	if converged >= 0 {
		conv = converged.String()
	}
	t.Add(n, writes, cfg.Keys, conv, "30s", after.DeltaSessions-before.DeltaSessions, after.TreeSessions-before.TreeSessions,
		after.ObjectsPulled+after.ObjectsPushed-before.ObjectsPulled-before.ObjectsPushed, aeNode(s, 0).core.LogEntries())
	t.Notes = []string{
		fmt.Sprintf("%d writers per side, %.3g writes/s per side; an ideal broadcast stand-in reaches the writer's side in 20 ms", cfg.WritersPerSide, cfg.WriteRate),
		fmt.Sprintf("sessions every %v with a random member (static full member list); converged = every store (Merkle root) and clock equal, checked every 250 ms", cfg.Core.SyncInterval),
	}
	if converged < 0 {
		return t, fmt.Errorf("exp: partition heal did not converge within 5 minutes")
	}
	return t, nil
}

type aeConverge struct {
	rounds          int
	sessionsPerNode float64
	bytesPerNode    float64
}

// convergeAlone has node 0 write 10 keys with no broadcast and counts
// the sync rounds until every node holds them.
func convergeAlone(cfg AntiEntropyConfig, n int) (aeConverge, error) {
	s, err := buildAESim(cfg.Core, cfg.Seed+uint64(n), n)
	if err != nil {
		return aeConverge{}, err
	}
	s.Run(2 * time.Second)
	t0 := s.Now()
	for k := 0; k < 10; k++ {
		aeWrite(s, 0, fmt.Sprintf("k%d", k), false)
	}
	before := s.Stats().Protocol(antientropy.Protocol)
	sess := aeStats(s).SessionsStarted
	for !aeEqual(s) {
		if s.Now()-t0 > 10*time.Minute {
			return aeConverge{}, fmt.Errorf("exp: %d nodes did not converge by anti-entropy in 10 minutes", n)
		}
		s.RunFor(cfg.Core.SyncInterval / 10)
	}
	el := s.Now() - t0
	after := s.Stats().Protocol(antientropy.Protocol)
	rounds := int((el + cfg.Core.SyncInterval - 1) / cfg.Core.SyncInterval)
	return aeConverge{
		rounds:          rounds,
		sessionsPerNode: float64(aeStats(s).SessionsStarted-sess) / float64(n),
		bytesPerNode:    float64(after.Bytes-before.Bytes) / float64(n),
	}, nil
}
