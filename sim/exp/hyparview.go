package exp

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/hearsay-mesh/hearsay/hyparview"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/sim"
)

// HyParViewConfig sets the HyParView experiment, a reproduction of the
// paper's (Leitão, Pereira, Rodrigues, DSN 2007) overlay properties,
// flooding reliability after massive failures, and of hearsay's own
// partition-heal requirement.
type HyParViewConfig struct {
	// Nodes is the overlay size. Paper: 10,000.
	Nodes int
	// Seed drives the whole run; the same seed gives the same trace.
	Seed uint64
	// Fail lists the fractions of nodes crashed at once, one overlay per
	// fraction (rebuilt from the same seed, so every fraction starts from
	// the same overlay). Empty skips the failure experiment.
	Fail []float64
	// Cycles is how many shuffle cycles run after the last join before
	// measuring. Paper: 50.
	Cycles int
	// Core is the HyParView configuration; the zero value means
	// hyparview.SimConfig() (the paper's sizes, a 1 s shuffle cycle).
	Core hyparview.Config
	// JoinGap is the virtual time between two joins: nodes join one after
	// another, each through a random node that joined before it.
	JoinGap time.Duration
	// PathSamples is how many random BFS sources the average shortest
	// path is computed from (all nodes if at least Nodes).
	PathSamples int
	// PartitionNodes is the overlay size of the partition experiment; 0
	// skips it.
	PartitionNodes int
	// PartitionCycles is how long the two halves stay apart, in cycles.
	PartitionCycles int
	// CrashReset models a crash as a process death on a host that stays
	// up: the dead process's TCP connections are reset, so its active
	// neighbours get PeerDown right away (after the network's
	// LinkDownDelay), as the paper's TCP-based failure detector assumes.
	// False models silent crashes: a neighbour notices only when it next
	// sends to the dead node.
	CrashReset bool
	// PartitionRuns is how many seeds (Seed, Seed+1, ...) the partition
	// experiment is repeated with.
	PartitionRuns int
}

// DefaultHyParViewConfig is the paper's setting.
func DefaultHyParViewConfig() HyParViewConfig {
	return HyParViewConfig{
		Nodes:           10000,
		Seed:            1,
		Fail:            []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95},
		Cycles:          50,
		Core:            hyparview.SimConfig(),
		JoinGap:         time.Millisecond,
		PathSamples:     1000,
		PartitionNodes:  1000,
		PartitionCycles: 20,
		PartitionRuns:   5,
		CrashReset:      true,
	}
}

func (c *HyParViewConfig) fill() error {
	d := DefaultHyParViewConfig()
	if c.Core == (hyparview.Config{}) {
		c.Core = d.Core
	}
	if c.JoinGap <= 0 {
		c.JoinGap = d.JoinGap
	}
	if c.PathSamples <= 0 {
		c.PathSamples = d.PathSamples
	}
	if c.PartitionCycles <= 0 {
		c.PartitionCycles = d.PartitionCycles
	}
	if c.PartitionRuns <= 0 {
		c.PartitionRuns = 1
	}
	if c.Nodes < 2 {
		return fmt.Errorf("exp: HyParViewConfig.Nodes = %d; want >= 2", c.Nodes)
	}
	if c.Cycles < 0 {
		return fmt.Errorf("exp: HyParViewConfig.Cycles = %d; want >= 0", c.Cycles)
	}
	for _, f := range c.Fail {
		if f <= 0 || f >= 1 {
			return fmt.Errorf("exp: HyParViewConfig.Fail has %v; want fractions in (0,1)", f)
		}
	}
	if c.PartitionNodes == 1 || c.PartitionNodes < 0 {
		return fmt.Errorf("exp: HyParViewConfig.PartitionNodes = %d; want 0 or >= 2", c.PartitionNodes)
	}
	return c.Core.Validate()
}

// hvRun is one simulated overlay with its flooding layer.
type hvRun struct {
	s     *sim.Sim
	cfg   hyparview.Config
	flood *floodShared
	next  uint8 // next broadcast id
	peak  uint64
	wall  time.Duration
	cpu   time.Duration // process CPU time during the build (meaningful when one build runs at a time)
}

// buildHyParView makes n nodes join one after another, each through a
// random node that joined before it, JoinGap apart, then runs cycles
// shuffle cycles.
func buildHyParView(seed uint64, n, cycles int, cfg hyparview.Config, gap time.Duration, progress func(done, total int)) (*hvRun, error) {
	start, cpu0 := time.Now(), processCPU()
	r := &hvRun{cfg: cfg, flood: newFloodShared(cfg.ShuffleInterval)}
	var ferr error
	s, err := sim.New(sim.DefaultConfig(seed), n, func(id membership.NodeID, _ int, rng *rand.Rand) sim.Process {
		h, err := hyparview.New(membership.Node{ID: id}, cfg, rng)
		if err != nil {
			ferr = err
		}
		p := &hvProc{hv: h}
		p.flood = floodCore{hv: h, sh: r.flood}
		p.cores = [2]membership.Core{h, &p.flood}
		return p
	})
	if err != nil {
		return nil, err
	}
	if ferr != nil {
		return nil, ferr
	}
	r.s = s
	for i := 1; i < n; i++ {
		i := i
		s.At(time.Duration(i)*gap, func() {
			c := s.Rand().IntN(i)
			s.Invoke(i, func(now time.Duration) {
				s.Process(i).(*hvProc).hv.Join(now, membership.Node{ID: s.ID(c)})
			})
		})
	}
	joined := time.Duration(n) * gap
	steps := 20
	for k := 1; k <= steps; k++ {
		s.Run(joined * time.Duration(k) / time.Duration(steps))
		r.samplePeak()
		if progress != nil {
			progress(k, steps+cycles)
		}
	}
	for c := 1; c <= cycles; c++ {
		s.RunFor(cfg.ShuffleInterval)
		r.samplePeak()
		if progress != nil {
			progress(steps+c, steps+cycles)
		}
	}
	r.wall = time.Since(start)
	r.cpu = processCPU() - cpu0
	return r, nil
}

func (r *hvRun) samplePeak() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > r.peak {
		r.peak = ms.HeapInuse
	}
}

// broadcast floods one message from a random live node; resend marks it to
// be forwarded to neighbours that replace failed ones. It returns the id.
func (r *hvRun) broadcast(resend bool) uint8 {
	id := r.next
	r.next++
	if resend {
		r.flood.resend |= 1 << id
	}
	s := r.s
	var src int
	for {
		src = s.Rand().IntN(s.N())
		if s.Alive(src) {
			break
		}
	}
	s.Invoke(src, func(now time.Duration) {
		s.Process(src).(*hvProc).flood.receive(now, id, "")
	})
	return id
}

func (r *hvRun) live() int {
	n := 0
	for i := 0; i < r.s.N(); i++ {
		if r.s.Alive(i) {
			n++
		}
	}
	return n
}

func (r *hvRun) crash(frac float64, reset bool) {
	s := r.s
	perm := s.Rand().Perm(s.N())
	for _, i := range perm[:int(frac*float64(s.N())+0.5)] {
		s.Crash(i)
	}
	if !reset {
		return
	}
	at := s.Now() + sim.DefaultConfig(0).LinkDownDelay
	for i := 0; i < s.N(); i++ {
		if !s.Alive(i) {
			continue
		}
		h := s.Process(i).(*hvProc).hv
		for k := 0; k < h.ActiveLen(); k++ {
			peer := h.ActiveID(k)
			if j, _ := s.Index(peer); !s.Alive(j) {
				i := i
				s.At(at, func() {
					s.Invoke(i, func(now time.Duration) { s.Process(i).(*hvProc).hv.PeerDown(now, peer) })
				})
			}
		}
	}
}

func (r *hvRun) stats() hyparview.Stats {
	var t hyparview.Stats
	for i := 0; i < r.s.N(); i++ {
		if !r.s.Alive(i) {
			continue
		}
		st := r.s.Process(i).(*hvProc).hv.Stats()
		t.HealLinks += st.HealLinks
		t.Evictions += st.Evictions
		t.Probes += st.Probes
		t.ProbesAnswered += st.ProbesAnswered
		t.Requests += st.Requests
	}
	return t
}

func pct(x float64) string { return fmt.Sprintf("%.2f%%", 100*x) }

// HyParView runs the experiment and returns its tables: the overlay's
// properties, flooding reliability after failures, and partition heal.
func HyParView(cfg HyParViewConfig, progress Progress) ([]*Table, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	total := 1 + len(cfg.Fail) + cfg.PartitionRuns*b2i(cfg.PartitionNodes > 0)
	done := 0
	step := func(what string) func(int, int) {
		return func(d, t int) {
			progress.report(done*1000+d*1000/t, total*1000, what)
		}
	}
	r, err := buildHyParView(cfg.Seed, cfg.Nodes, cfg.Cycles, cfg.Core, cfg.JoinGap, step("overlay"))
	if err != nil {
		return nil, err
	}
	tables := []*Table{overlayTable(cfg, r)}
	done++
	if len(cfg.Fail) > 0 {
		t, err := failureTable(cfg, progress, &done, total)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	if cfg.PartitionNodes > 0 {
		t, err := partitionTable(cfg, progress, &done, total)
		if err != nil {
			return nil, err
		}
		tables = append(tables, t)
	}
	progress.report(total*1000, total*1000, "done")
	return tables, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func overlayTable(cfg HyParViewConfig, r *hvRun) *Table {
	g := activeGraph(r.s, cfg.Core.ActiveSize)
	path, sources := g.avgPath(rand.New(rand.NewPCG(cfg.Seed, 7)), cfg.PathSamples)
	lo, hi, mean, std := g.inDegree()
	t := &Table{
		Title:   fmt.Sprintf("hyparview overlay: %d nodes, %d cycles after the last join", cfg.Nodes, cfg.Cycles),
		Columns: []string{"metric", "measured", "paper"},
	}
	t.Add("nodes with a full active view", pct(float64(g.full)/float64(g.nLive)), "~100%")
	t.Add("connected components", g.components(), 1)
	t.Add("one-sided active links", g.asym, 0)
	t.Add(fmt.Sprintf("average shortest path (BFS from %d sources)", sources), path, 6.39)
	t.Add("clustering coefficient", fmt.Sprintf("%.5f", g.clustering()), "0.00092")
	t.Add("in-degree min / max", fmt.Sprintf("%d / %d", lo, hi), "")
	t.Add("in-degree mean / stddev", fmt.Sprintf("%.3f / %.3f", mean, std), "")
	t.Notes = append(t.Notes,
		fmt.Sprintf("joins one after another %v apart, each through a random already-joined node; shuffle cycle %v, tick %v, 5-25 ms latency",
			cfg.JoinGap, cfg.Core.ShuffleInterval, cfg.Core.TickInterval),
		fmt.Sprintf("wall time to build and run %d cycles: %.1f s, process CPU time %.1f s (%d events); peak heap in use %.0f MiB; trace hash %016x (seed %d)",
			cfg.Cycles, r.wall.Seconds(), r.cpu.Seconds(), r.s.Events(), float64(r.peak)/(1<<20), r.s.TraceHash(), cfg.Seed))
	return t
}

func failureTable(cfg HyParViewConfig, progress Progress, done *int, total int) (*Table, error) {
	t := &Table{
		Title: fmt.Sprintf("hyparview flooding reliability after crashing a fraction of %d nodes at once", cfg.Nodes),
		Columns: []string{"failed", "live",
			"msg0 flood", "msg0 bare",
			"cycle1 flood", "cycle1 bare",
			"cycle2 flood", "cycle2 bare",
			"cycle3 flood", "cycle3 bare",
			"components after 3 cycles"},
	}
	iv := cfg.Core.ShuffleInterval
	// Each fraction is an independent simulation from the same seed, so
	// they run in parallel (one goroutine owns each) and the rows do not
	// depend on the schedule.
	rows := make([][]any, len(cfg.Fail))
	errs := make([]error, len(cfg.Fail))
	var mu sync.Mutex
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for fi, f := range cfg.Fail {
		wg.Add(1)
		go func(fi int, f float64) {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := buildHyParView(cfg.Seed, cfg.Nodes, cfg.Cycles, cfg.Core, cfg.JoinGap, nil)
			if err != nil {
				errs[fi] = err
				return
			}
			r.crash(f, cfg.CrashReset)
			live := r.live()
			row := []any{pct(f), live}
			for round := 0; round <= 3; round++ {
				a := r.broadcast(false)
				b := r.broadcast(true)
				r.s.RunFor(iv)
				row = append(row,
					pct(float64(r.flood.delivered[b])/float64(live)),
					pct(float64(r.flood.delivered[a])/float64(live)))
			}
			row = append(row, activeGraph(r.s, cfg.Core.ActiveSize).components())
			rows[fi] = row
			mu.Lock()
			*done++
			progress.report(*done*1000, total*1000, fmt.Sprintf("failures %.0f%%", 100*f))
			mu.Unlock()
		}(fi, f)
	}
	wg.Wait()
	for fi := range rows {
		if errs[fi] != nil {
			return nil, errs[fi]
		}
		t.Add(rows[fi]...)
	}
	t.Notes = append(t.Notes,
		fmt.Sprintf("crash model: CrashReset=%v (true: the dead processes' connections reset, neighbours get PeerDown after 50 ms; false: silent, noticed on the next send)", cfg.CrashReset),
		"each row rebuilds the same overlay from the same seed, crashes the fraction at once, then floods two messages (flood and bare) from two random live nodes at once",
		"(msg0: right after the crash; cycleK: K shuffle cycles later); reliability = share of live nodes reached by the end of that cycle",
		"flood: forward on first receipt to every active neighbour, and to any neighbour that enters the active view within one cycle of the receipt,",
		"  i.e. to the replacement HyParView promotes when a send hits a crashed neighbour (the paper's reactive repair; plumtree does this by IHAVE/GRAFT)",
		"bare: forward once, on first receipt, to the active neighbours of that instant only (sends to crashed nodes still trigger repair)")
	return t, nil
}

func partitionTable(cfg HyParViewConfig, progress Progress, done *int, total int) (*Table, error) {
	t := &Table{
		Title: fmt.Sprintf("hyparview partition heal: %d nodes split in two random halves for %d cycles, then healed",
			cfg.PartitionNodes, cfg.PartitionCycles),
		Columns: []string{"seed", "components before heal", "cycles to one component",
			"full views 5 cycles after", "heal links", "evictions during heal"},
	}
	iv := cfg.Core.ShuffleInterval
	for k := 0; k < cfg.PartitionRuns; k++ {
		seed := cfg.Seed + uint64(k)
		what := fmt.Sprintf("partition seed %d", seed)
		r, err := buildHyParView(seed, cfg.PartitionNodes, cfg.Cycles, cfg.Core, cfg.JoinGap, func(d, tt int) {
			progress.report(*done*1000+d*1000/tt, total*1000, what)
		})
		if err != nil {
			return nil, err
		}
		s := r.s
		n := s.N()
		perm := s.Rand().Perm(n)
		s.Partition(perm[:n/2], perm[n/2:])
		s.RunFor(time.Duration(cfg.PartitionCycles) * iv)
		before := activeGraph(s, cfg.Core.ActiveSize).components()
		st0 := r.stats()
		s.Heal()
		healed := s.Now()
		merged := "not within 20 cycles"
		for s.Now()-healed < 20*iv {
			s.RunFor(iv / 20)
			if activeGraph(s, cfg.Core.ActiveSize).components() == 1 {
				merged = fmt.Sprintf("%.2f", float64(s.Now()-healed)/float64(iv))
				break
			}
		}
		s.Run(healed + 5*iv)
		g := activeGraph(s, cfg.Core.ActiveSize)
		st1 := r.stats()
		t.Add(seed, before, merged, pct(float64(g.full)/float64(g.nLive)),
			st1.HealLinks-st0.HealLinks, st1.Evictions-st0.Evictions)
		*done++
	}
	t.Notes = append(t.Notes,
		"components of the active-view graph (links both ends hold), checked every 1/20 cycle after the heal",
		fmt.Sprintf("heal links: probes of remembered failed nodes that were answered and turned into a high-priority NEIGHBOR (HealProbability %.2f)", cfg.Core.HealProbability))
	return t, nil
}
