package exp

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

// pollUntil runs the simulation in steps of every until cond holds or the
// clock reaches limit; checking after every event would cost O(n^2) each.
func pollUntil(s *sim.Sim, limit, every time.Duration, cond func() bool) bool {
	for s.Now() < limit {
		if cond() {
			return true
		}
		s.RunFor(every)
	}
	return cond()
}

type detectionResult struct {
	// periods: the paper's first-detection measure, from round-robin
	// probes only (see swimDetection).
	periods, suspect, first, all, meta []float64
	falseDeaths                        int
	bytesPerMember                     float64
}

func (cl *swimCluster) settle(limit time.Duration) error {
	if !pollUntil(cl.s, cl.s.Now()+limit, 50*time.Millisecond, cl.converged) {
		return fmt.Errorf("swim: %d members did not converge within %v", cl.s.N(), limit)
	}
	cl.s.RunFor(10 * time.Second) // let join gossip drain
	return nil
}

// steadyBytes is encoded bytes per member per second over a window.
func (cl *swimCluster) steadyBytes(window time.Duration) float64 {
	b0 := cl.bytes()
	cl.s.RunFor(window)
	return float64(cl.bytes()-b0) / float64(cl.liveCount()) / window.Seconds()
}

// swimDetection crashes cfg.Crashes members one at a time. With hint, the
// cores act on PeerDown and every live member is told PeerDown about the
// crashed one LinkDownDelay after the crash, as the agent's transport
// does when a crashed process's connections are reset (this assumes every
// member holds a connection to it); without, PeerDown is ignored.
func swimDetection(cfg SwimConfig, sc swim.Config, n int, hint bool) (detectionResult, error) {
	var r detectionResult
	sc.PeerDownProbe = hint
	cl, err := newSwimCluster(cfg.Seed, n, cfg.net(cfg.Seed, n), sc, time.Second)
	if err != nil {
		return r, err
	}
	if err := cl.settle(60 * time.Second); err != nil {
		return r, err
	}
	s := cl.s
	crashed := make([]bool, n)
	// False deaths: any member declared dead that was not crashed.
	var hook func(now time.Duration, node int, ev membership.Event)
	cl.rec.on = func(now time.Duration, node int, ev membership.Event) {
		if me, ok := ev.(membership.MemberEvent); ok && me.Change == membership.MemberFailed {
			if j, ok := s.Index(me.Node.ID); ok && !crashed[j] {
				r.falseDeaths++
			}
		}
		if hook != nil {
			hook(now, node, ev)
		}
	}
	r.bytesPerMember = cl.steadyBytes(180 * time.Second)

	for t := 0; t < cfg.MetaTrials; t++ {
		v := s.Rand().IntN(n)
		want := fmt.Sprint(t)
		got, start := 0, s.Now()
		var doneAt time.Duration
		hook = func(now time.Duration, node int, ev membership.Event) {
			if me, ok := ev.(membership.MemberEvent); ok && me.Node.ID == sim.NodeName(v) && me.Meta["v"] == want {
				if got++; got == cl.liveCount()-1 {
					doneAt = now
				}
			}
		}
		s.Invoke(v, func(now time.Duration) { _ = cl.node(v).SetMeta(now, map[string]string{"v": want}) })
		pollUntil(s, s.Now()+10*time.Second, 10*time.Millisecond, func() bool { return doneAt > 0 })
		if doneAt > 0 {
			r.meta = append(r.meta, (doneAt - start).Seconds())
		} else {
			r.meta = append(r.meta, 10)
		}
		s.RunFor(2 * time.Second)
	}

	T := sc.ProbeInterval
	for k := 0; k < cfg.Crashes; k++ {
		v := 1 + s.Rand().IntN(n-1)
		s.RunFor(time.Duration(s.Rand().Int64N(int64(T)))) // random phase
		crashAt := s.Now()
		var probe, susp, first, last time.Duration = -1, -1, -1, -1
		knows := 0
		id := sim.NodeName(v)
		hook = func(now time.Duration, node int, ev membership.Event) {
			switch e := ev.(type) {
			case swim.ProbeFailed:
				if e.Node == id && !e.Hint && e.Started >= crashAt && (probe < 0 || e.Started < probe) {
					probe = e.Started
				}
			case membership.MemberEvent:
				if e.Node.ID != id {
					return
				}
				switch e.Change {
				case membership.MemberSuspect:
					if susp < 0 {
						susp = now
					}
				case membership.MemberFailed:
					if first < 0 {
						first = now
					}
					if knows++; knows == n-1 {
						last = now
					}
				}
			}
		}
		crashed[v] = true
		s.Crash(v)
		if hint {
			net := cfg.net(cfg.Seed, n)
			s.At(crashAt+net.LinkDownDelay, func() {
				for i := 0; i < n; i++ {
					if s.Alive(i) {
						s.Invoke(i, func(now time.Duration) { cl.node(i).PeerDown(now, id) })
					}
				}
			})
		}
		pollUntil(s, s.Now()+60*time.Second, 50*time.Millisecond, func() bool { return last >= 0 })
		if probe >= 0 {
			r.periods = append(r.periods, float64((probe-crashAt)/T)+1)
		}
		if susp >= 0 {
			r.suspect = append(r.suspect, (susp - crashAt).Seconds())
		}
		if first >= 0 {
			r.first = append(r.first, (first - crashAt).Seconds())
		}
		if last >= 0 {
			r.all = append(r.all, (last - crashAt).Seconds())
		}
		hook = nil
		// Bring it back (a fresh process refutes its death) for the
		// next round, so N stays constant.
		s.Restart(v)
		crashed[v] = false
		s.Invoke(v, func(now time.Duration) { _ = cl.node(v).Join(now, membership.Node{ID: sim.NodeName(0)}) })
		if err := cl.settle(60 * time.Second); err != nil {
			return r, err
		}
	}
	return r, nil
}

func swimPauses(cfg SwimConfig, sc swim.Config, n int, pause time.Duration) (suspected, dead int, err error) {
	cl, err := newSwimCluster(cfg.Seed+uint64(pause), n, cfg.net(cfg.Seed+uint64(pause), n), sc, time.Second)
	if err != nil {
		return 0, 0, err
	}
	if err := cl.settle(60 * time.Second); err != nil {
		return 0, 0, err
	}
	s := cl.s
	for t := 0; t < cfg.PauseTrials; t++ {
		v := 1 + s.Rand().IntN(n-1)
		id := sim.NodeName(v)
		sus, dd := false, false
		cl.rec.on = func(now time.Duration, node int, ev membership.Event) {
			if me, ok := ev.(membership.MemberEvent); ok && me.Node.ID == id {
				sus = sus || me.Change == membership.MemberSuspect
				dd = dd || me.Change == membership.MemberFailed
			}
		}
		s.RunFor(time.Duration(s.Rand().Int64N(int64(sc.ProbeInterval))))
		s.Pause(v)
		s.RunFor(pause)
		s.Resume(v)
		s.RunFor(20 * time.Second)
		if sus {
			suspected++
		}
		if dd {
			dead++
		}
		cl.rec.on = nil
		if err := cl.settle(60 * time.Second); err != nil {
			return 0, 0, err
		}
	}
	return suspected, dead, nil
}

// swimFuse measures FUSE: signal latency, crash-trigger latency, and the
// bytes that groups add in steady state.
func swimFuse(cfg SwimConfig, sc swim.Config) (*Table, error) {
	t := &Table{Title: fmt.Sprintf("swim: FUSE groups (N=%d, %d groups of %d)", cfg.FuseN, cfg.Groups, cfg.GroupSize),
		Columns: []string{"metric", "p50", "p99", "max", "unit"}}
	n := cfg.FuseN
	baseCl, err := newSwimCluster(cfg.Seed, n, cfg.net(cfg.Seed, n), sc, time.Second)
	if err != nil {
		return nil, err
	}
	if err := baseCl.settle(60 * time.Second); err != nil {
		return nil, err
	}
	baseCl.s.RunFor(20 * time.Second)
	base := baseCl.steadyBytes(300 * time.Second)

	cl, err := newSwimCluster(cfg.Seed, n, cfg.net(cfg.Seed, n), sc, time.Second)
	if err != nil {
		return nil, err
	}
	if err := cl.settle(60 * time.Second); err != nil {
		return nil, err
	}
	s := cl.s
	pick := rand.New(rand.NewPCG(cfg.Seed, 0xf05e))
	members := map[swim.GroupID][]int{}
	var created []swim.GroupID
	triggered := map[swim.GroupID]map[int]time.Duration{}
	cl.rec.on = func(now time.Duration, node int, ev membership.Event) {
		switch e := ev.(type) {
		case swim.FuseCreated:
			if e.Creator {
				created = append(created, e.Group)
			}
		case swim.FuseTriggered:
			if triggered[e.Group] == nil {
				triggered[e.Group] = map[int]time.Duration{}
			}
			triggered[e.Group][node] = now
		}
	}
	for g := 0; g < cfg.Groups; g++ {
		perm := pick.Perm(n)[:cfg.GroupSize]
		creator := perm[0]
		ids := make([]membership.NodeID, len(perm))
		for i, j := range perm {
			ids[i] = sim.NodeName(j)
		}
		s.Invoke(creator, func(now time.Duration) {
			if gid, err := cl.node(creator).CreateGroup(now, ids); err == nil {
				members[gid] = perm
			}
		})
		s.RunFor(20 * time.Millisecond)
	}
	s.RunFor(20 * time.Second)
	withGroups := cl.steadyBytes(300 * time.Second)
	t.Add("groups created", len(created), "", "", fmt.Sprintf("of %d", cfg.Groups))
	t.Add("bytes/member/s without groups", base, "", "", "B/s")
	t.Add("bytes/member/s with groups", withGroups, "", "", "B/s")
	t.Add("group overhead", 100*(withGroups-base)/base, "", "", "%")

	allTriggered := func(g swim.GroupID, start time.Duration) (time.Duration, bool) {
		var last time.Duration
		for _, j := range members[g] {
			if !s.Alive(j) {
				continue
			}
			at, ok := triggered[g][j]
			if !ok {
				return 0, false
			}
			if at-start > last {
				last = at - start
			}
		}
		return last, true
	}
	var sig, crash []float64
	next := 0
	nextGroup := func() (swim.GroupID, bool) {
		for next < len(created) {
			g := created[next]
			next++
			if len(triggered[g]) == 0 {
				return g, true
			}
		}
		return "", false
	}
	for k := 0; k < cfg.FuseTrials; k++ {
		g, ok := nextGroup()
		if !ok {
			break
		}
		m := members[g][pick.IntN(len(members[g]))]
		start := s.Now()
		s.Invoke(m, func(now time.Duration) { _ = cl.node(m).Signal(now, g) })
		var lat time.Duration
		if pollUntil(s, start+10*time.Second, 5*time.Millisecond, func() bool { var ok bool; lat, ok = allTriggered(g, start); return ok }) {
			sig = append(sig, lat.Seconds()*1000)
		} else {
			sig = append(sig, 10000)
		}
		s.RunFor(time.Second)
	}
	for k := 0; k < cfg.FuseTrials/4; k++ {
		g, ok := nextGroup()
		if !ok {
			break
		}
		victim := members[g][1+pick.IntN(len(members[g])-1)]
		start := s.Now()
		s.Crash(victim)
		var lat time.Duration
		if pollUntil(s, start+60*time.Second, 20*time.Millisecond, func() bool { var ok bool; lat, ok = allTriggered(g, start); return ok }) {
			crash = append(crash, lat.Seconds())
		} else {
			crash = append(crash, 60)
		}
		s.RunFor(5 * time.Second)
	}
	t.Add("signal reaches every live member", quantile(sig, 0.5), quantile(sig, 0.99), quantile(sig, 1), "ms")
	t.Add("member crash triggers every live member", quantile(crash, 0.5), quantile(crash, 0.99), quantile(crash, 1), "s")
	t.Notes = append(t.Notes, fmt.Sprintf("%d signal trials, %d crash trials; crashed members stay down", len(sig), len(crash)),
		"bytes: two clusters from the same seed, one with groups, over the same 300 s steady window")
	return t, nil
}

// joinResult is one join-through-one-seed run.
type joinResult struct {
	formed             time.Duration // 60 s: not formed
	suspicions, deaths int           // member events over the 60 s
	conns              uint64        // connections set up (sim.Config.Connect)
}

func swimJoin(cfg SwimConfig, sc swim.Config, n int) (joinResult, error) {
	cl, err := newSwimCluster(cfg.Seed, n, cfg.net(cfg.Seed, n), sc, 100*time.Millisecond)
	if err != nil {
		return joinResult{}, err
	}
	var r joinResult
	cl.rec.on = func(_ time.Duration, _ int, ev membership.Event) {
		if me, ok := ev.(membership.MemberEvent); ok {
			switch me.Change {
			case membership.MemberSuspect:
				r.suspicions++
			case membership.MemberFailed:
				r.deaths++
			}
		}
	}
	r.formed = 60 * time.Second
	if pollUntil(cl.s, 60*time.Second, 10*time.Millisecond, cl.converged) {
		r.formed = cl.s.Now()
	}
	cl.s.Run(60 * time.Second) // the whole minute's events
	r.conns = cl.s.Stats().Connections
	return r, nil
}
