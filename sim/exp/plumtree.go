package exp

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
	"github.com/hearsay-mesh/hearsay/sim"
)

// PlumtreeConfig sets up `hearsay sim plumtree`.
type PlumtreeConfig struct {
	Nodes int
	Seed  uint64
	// Core is every node's plumtree configuration.
	Core plumtree.Config
	// Overlay is every node's HyParView configuration.
	Overlay hyparview.Config
	// Cycle is one broadcast's slot of virtual time: the message is sent at
	// its start and its deliveries, duplicates and repairs are counted
	// until its end; HyParView's shuffles and repairs run throughout.
	Cycle time.Duration
	// Warmup cycles (single sender) before measuring.
	Warmup int
	// Steady is how many cycles scenarios (a) and (b) measure.
	Steady int
	// ChurnCycles and ChurnPerCycle: scenario (c) crashes ChurnPerCycle
	// random nodes at the start of each of ChurnCycles cycles.
	ChurnCycles, ChurnPerCycle int
	// CrashFractions: scenario (d) crashes each fraction of the nodes at
	// once (a fresh network per fraction) and measures Recovery cycles.
	CrashFractions []float64
	Recovery       int
}

// DefaultPlumtreeConfig is the issue-3 experiment for n nodes.
func DefaultPlumtreeConfig(nodes int, seed uint64) PlumtreeConfig {
	return PlumtreeConfig{
		Nodes: nodes, Seed: seed,
		Core:    plumtree.DefaultConfig(),
		Overlay: hyparview.SimConfig(),
		Cycle:   time.Second,
		Warmup:  10, Steady: 20,
		ChurnCycles: 100, ChurnPerCycle: 50,
		CrashFractions: []float64{0.4, 0.6, 0.8},
		Recovery:       6,
	}
}

// ptProc is one simulated node: HyParView feeding plumtree and the flood baseline.
type ptProc struct {
	hv    *hyparview.HyParView
	pt    *plumtree.Core
	fl    *ptFloodCore
	net   *ptNet
	index int
}

func (p *ptProc) Cores() []membership.Core { return []membership.Core{p.hv, p.pt, p.fl} }

func (p *ptProc) Route(now time.Duration, ev membership.Event) {
	switch e := ev.(type) {
	case membership.NeighborUp:
		p.pt.NeighborUp(now, e.Node)
		p.fl.up(e.Node.ID)
	case membership.NeighborDown:
		p.pt.NeighborDown(now, e.Node)
		p.fl.down(e.Node.ID)
	case plumtree.Delivered:
		p.net.delivered(p.index, e.ID, e.Hops, false)
	}
}

// msgStats is what one broadcast did.
type msgStats struct {
	by         []bool
	delivered  int
	receptions int
	ldh        int
	dupDeliver int
	late       int // deliveries after the message's cycle
}

type ptNet struct {
	s     *sim.Sim
	procs []*ptProc
	msgs  map[plumtree.MessageID]*msgStats
	flood map[plumtree.MessageID]*msgStats
	// past holds the messages whose cycle ended: a node that delivers one
	// later counts as late (not in the cycle's reliability), so that the
	// eventual reliability can be reported too.
	past map[plumtree.MessageID]*msgStats
	last *msgStats // the last cycle's message
}

func (n *ptNet) delivered(i int, id plumtree.MessageID, hops int, flood bool) {
	m := n.msgs
	if flood {
		m = n.flood
	}
	st := m[id]
	if st == nil {
		if ps := n.past[id]; !flood && ps != nil && !ps.by[i] {
			ps.by[i] = true
			ps.late++
		}
		return
	}
	if st.by[i] {
		st.dupDeliver++
		return
	}
	st.by[i] = true
	st.delivered++
	st.ldh = max(st.ldh, hops)
}

// Delivered implements sim.Observer: it counts payload receptions.
func (n *ptNet) Delivered(_ time.Duration, _, _ int, p membership.ProtocolID, msg any) {
	env, ok := msg.(*pb.Envelope)
	if !ok {
		return
	}
	g := env.GetGossip()
	if g == nil {
		return
	}
	id := plumtree.MessageID{Origin: membership.NodeID(g.GetId().GetOrigin()), Seq: g.GetId().GetSeq()}
	m := n.msgs
	if p == ptFloodProtocol {
		m = n.flood
	} else if p != plumtree.Protocol {
		return
	}
	if st := m[id]; st != nil {
		st.receptions++
	}
}

func newPtNet(cfg PlumtreeConfig, seed uint64) (*ptNet, error) {
	n := &ptNet{msgs: map[plumtree.MessageID]*msgStats{}, flood: map[plumtree.MessageID]*msgStats{}, past: map[plumtree.MessageID]*msgStats{}}
	var ferr error
	s, err := sim.New(sim.DefaultConfig(seed), cfg.Nodes, func(id membership.NodeID, i int, rng *rand.Rand) sim.Process {
		hv, err := hyparview.New(membership.Node{ID: id}, cfg.Overlay, rng)
		if err != nil {
			ferr = err
		}
		pt, err := plumtree.New(id, cfg.Core, rng)
		if err != nil {
			ferr = err
		}
		p := &ptProc{hv: hv, pt: pt, net: n, index: i}
		p.fl = &ptFloodCore{self: id, seen: map[plumtree.MessageID]bool{}, onDel: func(mid plumtree.MessageID, hops int) {
			n.delivered(i, mid, hops, true)
		}}
		for len(n.procs) <= i {
			n.procs = append(n.procs, nil)
		}
		n.procs[i] = p
		return p
	})
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	n.s = s
	s.SetObserver(n)
	// Nodes join one after another through a random earlier node.
	gap := time.Millisecond
	for i := 1; i < cfg.Nodes; i++ {
		s.At(time.Duration(i)*gap, func() {
			c := s.Rand().IntN(i)
			s.Invoke(i, func(now time.Duration) { n.procs[i].hv.Join(now, membership.Node{ID: s.ID(c)}) })
		})
	}
	s.Run(time.Duration(cfg.Nodes)*gap + 5*cfg.Overlay.ShuffleInterval)
	return n, nil
}

func (n *ptNet) live() int {
	k := 0
	for i := 0; i < n.s.N(); i++ {
		if n.s.Alive(i) {
			k++
		}
	}
	return k
}

// cycleResult is one row.
type cycleResult struct {
	live, delivered int
	rel, rmr        float64
	ldh, dup        int
}

func (n *ptNet) result(st *msgStats) cycleResult {
	r := cycleResult{live: n.live(), ldh: st.ldh, dup: st.dupDeliver}
	for i, ok := range st.by {
		if ok && n.s.Alive(i) {
			r.delivered++
		}
	}
	r.rel = float64(r.delivered) / float64(r.live)
	if st.delivered > 1 {
		r.rmr = float64(st.receptions)/float64(st.delivered-1) - 1
	}
	return r
}

// churnSettle is how many cycles scenario (c) waits after its last cycle
// before counting late deliveries.
const churnSettle = 5

// churnNeverRow names the summary row counting churn deliveries that never
// happened.
const churnNeverRow = "(c) (message, live node) pairs never delivered"

// reliabilityNow is the share of the nodes alive now that delivered st's
// message, in its cycle or later, and how many of them did not.
func (n *ptNet) reliabilityNow(st *msgStats) (float64, int) {
	live, got := 0, 0
	for i, ok := range st.by {
		if n.s.Alive(i) {
			live++
			if ok {
				got++
			}
		}
	}
	return float64(got) / float64(max(live, 1)), live - got
}

// cycle broadcasts one plumtree message from sender and runs one cycle.
func (n *ptNet) cycle(sender int, d time.Duration) cycleResult {
	st := &msgStats{by: make([]bool, n.s.N())}
	n.s.Invoke(sender, func(now time.Duration) {
		id, err := n.procs[sender].pt.Broadcast(now, []byte("payload"))
		if err == nil {
			n.msgs[id] = st // the own Delivered event is routed after this returns
		}
	})
	n.s.RunFor(d)
	for id, s := range n.msgs {
		if s == st {
			delete(n.msgs, id) // later receptions no longer counted
			n.past[id] = st    // but later deliveries are, as late ones
		}
	}
	n.last = st
	return n.result(st)
}

// floodLDH floods one message from sender on the current overlay.
func (n *ptNet) floodCycle(sender int, d time.Duration) cycleResult {
	st := &msgStats{by: make([]bool, n.s.N())}
	n.s.Invoke(sender, func(time.Duration) {
		id := n.procs[sender].fl.broadcast()
		n.flood[id] = st
		n.delivered(sender, id, 0, true)
	})
	n.s.RunFor(d)
	clear(n.flood)
	return n.result(st)
}

func (n *ptNet) randomLive(rng *rand.Rand, not int) int {
	for {
		i := rng.IntN(n.s.N())
		if i != not && n.s.Alive(i) {
			return i
		}
	}
}

func (n *ptNet) graftsAndDrops() (grafts, drops uint64) {
	for i, p := range n.procs {
		if n.s.Alive(i) {
			st := p.pt.Stats()
			grafts += st.GraftsSent
			drops += st.LazyDropped + st.MissingDropped + st.MissingGaveUp
		}
	}
	return
}

var cycleColumns = []string{"scenario", "cycle", "live", "reliability", "RMR", "LDH", "flood LDH", "grafts", "drops"}

func addRow(t *Table, scen string, c int, r cycleResult, flood string, g, d uint64) {
	t.Add(scen, c, r.live, fmt.Sprintf("%.4f", r.rel), fmt.Sprintf("%.4f", r.rmr), r.ldh, flood, g, d)
}

// Plumtree runs scenarios (a)-(d) and returns a per-cycle table and a summary.
func Plumtree(cfg PlumtreeConfig, progress Progress) ([]*Table, error) {
	if cfg.Nodes < 10 {
		return nil, fmt.Errorf("plumtree experiment: Nodes = %d; want >= 10", cfg.Nodes)
	}
	if cfg.Steady < 1 {
		return nil, fmt.Errorf("plumtree experiment: Steady = %d; want >= 1 (scenarios (a) and (b) average over it)", cfg.Steady)
	}
	for _, f := range cfg.CrashFractions {
		if f <= 0 || f >= 1 {
			return nil, fmt.Errorf("plumtree experiment: crash fraction %v; want in (0, 1) (the sender survives)", f)
		}
	}
	if c := cfg.ChurnCycles * cfg.ChurnPerCycle; c > cfg.Nodes/2 {
		// Crashed nodes stay down: the defaults (100 x 50) suit 10,000
		// nodes; at 1,000 they left two survivors by cycle 19.
		return nil, fmt.Errorf("plumtree experiment: scenario (c) crashes %d x %d = %d of %d nodes; want at most half (lower --churn or --churn-cycles)", cfg.ChurnCycles, cfg.ChurnPerCycle, c, cfg.Nodes)
	}
	if err := cfg.Core.Validate(); err != nil {
		return nil, err
	}
	if err := cfg.Overlay.Validate(); err != nil {
		return nil, err
	}
	total := cfg.Warmup + 2*cfg.Steady + cfg.ChurnCycles + len(cfg.CrashFractions)*(cfg.Warmup+1+cfg.Recovery)
	done := 0
	step := func(what string) { done++; progress.report(done, total, what) }
	cycles := &Table{Title: fmt.Sprintf("plumtree per cycle: %d nodes, seed %d, per-origin trees %v", cfg.Nodes, cfg.Seed, cfg.Core.PerOriginTrees), Columns: cycleColumns}
	sum := &Table{Title: "plumtree summary (means over the measured cycles)", Columns: []string{"figure", "value", "target"}}

	n, err := newPtNet(cfg, cfg.Seed)
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	sender := 0
	for c := 0; c < cfg.Warmup; c++ {
		n.cycle(sender, cfg.Cycle)
		step("warm-up")
	}
	type agg struct {
		rmr, ldh, fl, rel float64
		k                 int
		minRel            float64
	}
	measure := func(scen string, pick func() int, flood bool) agg {
		a := agg{minRel: 1}
		for c := 0; c < cfg.Steady; c++ {
			s := pick()
			r := n.cycle(s, cfg.Cycle)
			fl := ""
			if flood {
				f := n.floodCycle(s, cfg.Cycle/2)
				fl = fmt.Sprint(f.ldh)
				a.fl += float64(f.ldh)
			}
			g, d := n.graftsAndDrops()
			addRow(cycles, scen, c, r, fl, g, d)
			a.rmr += r.rmr
			a.ldh += float64(r.ldh)
			a.rel += r.rel
			a.minRel = min(a.minRel, r.rel)
			a.k++
			step(scen)
		}
		return a
	}
	single := measure("a single", func() int { return sender }, true)
	random := measure("b random", func() int { return n.randomLive(rng, -1) }, true)
	k := float64(cfg.Steady)
	sum.Add("(a) RMR, single sender", single.rmr/k, "<= 0.01")
	sum.Add("(a) LDH, single sender", single.ldh/k, "<= flood LDH + 1")
	sum.Add("(a) flood LDH, same senders", single.fl/k, "")
	sum.Add("(a) min reliability", single.minRel, "1")
	sum.Add("(b) RMR, random sender", random.rmr/k, "<= 0.05")
	sum.Add("(b) LDH, random sender", random.ldh/k, "<= 1.5 x (a) LDH")
	sum.Add("(b) flood LDH, same senders", random.fl/k, "")
	sum.Add("(b) min reliability", random.minRel, "1")

	// (c) churn: ChurnPerCycle crashes at the start of every cycle.
	churn := agg{minRel: 1}
	var churnMsgs []*msgStats
	for c := 0; c < cfg.ChurnCycles; c++ {
		for k := 0; k < cfg.ChurnPerCycle && n.live() > 2; k++ {
			n.s.Crash(n.randomLive(rng, sender))
		}
		r := n.cycle(sender, cfg.Cycle)
		churnMsgs = append(churnMsgs, n.last)
		g, d := n.graftsAndDrops()
		addRow(cycles, "c churn", c, r, "", g, d)
		churn.rmr += r.rmr
		churn.minRel = min(churn.minRel, r.rel)
		if r.dup > 0 {
			return nil, fmt.Errorf("seed %d: a node delivered a message twice", cfg.Seed)
		}
		step("churn")
	}
	sum.Add(fmt.Sprintf("(c) min reliability within the cycle, %d failures/cycle x %d", cfg.ChurnPerCycle, cfg.ChurnCycles), churn.minRel, "1")
	// Reliability as the paper defines it (the share of correct nodes
	// that deliver the message, whenever): let late deliveries land, then
	// count, over the nodes alive now, who delivered each churn message.
	n.s.RunFor(churnSettle * cfg.Cycle)
	eventual, late, never := 1.0, 0, 0
	for _, st := range churnMsgs {
		rel, missing := n.reliabilityNow(st)
		eventual = min(eventual, rel)
		late += st.late
		never += missing
	}
	sum.Add(fmt.Sprintf("(c) min reliability incl. deliveries after the cycle (%d cycles' settle)", churnSettle), fmt.Sprintf("%.6f", eventual), "1")
	sum.Add("(c) deliveries after their cycle, all churn messages", late, "")
	sum.Add(churnNeverRow, never, "0")
	sum.Add("(c) mean RMR under churn", churn.rmr/float64(max(cfg.ChurnCycles, 1)), "")

	// (d) mass crash, a fresh network per fraction.
	for fi, frac := range cfg.CrashFractions {
		n, err := newPtNet(cfg, cfg.Seed+uint64(fi)+1)
		if err != nil {
			return nil, err
		}
		scen := fmt.Sprintf("d crash %.0f%%", frac*100)
		var pre float64
		for c := 0; c < cfg.Warmup; c++ {
			pre = n.cycle(sender, cfg.Cycle).rmr
			step(scen + " warm-up")
		}
		kill := int(frac * float64(cfg.Nodes))
		for k := 0; k < kill; k++ {
			n.s.Crash(n.randomLive(rng, sender))
		}
		back := -1
		for c := 0; c <= cfg.Recovery; c++ {
			r := n.cycle(sender, cfg.Cycle)
			g, d := n.graftsAndDrops()
			addRow(cycles, scen, c, r, "", g, d)
			if back < 0 && r.rel == 1 && r.rmr <= pre+0.01 {
				back = c
			}
			step(scen)
		}
		sum.Add(fmt.Sprintf("(d) %.0f%% crash: pre-failure RMR", frac*100), pre, "")
		sum.Add(fmt.Sprintf("(d) %.0f%% crash: cycles to 100%% reliability and pre-failure RMR (+0.01)", frac*100), back, "<= 2 (cycle 0 is the crash cycle)")
	}
	return []*Table{cycles, sum}, nil
}
