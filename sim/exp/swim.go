package exp

import (
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/hearsay-mesh/hearsay/sim"
	"github.com/hearsay-mesh/hearsay/swim"
)

// SwimConfig sets up `hearsay sim swim`.
type SwimConfig struct {
	Seed uint64
	// Sizes are the cluster sizes N measured for detection, bytes and
	// metadata dissemination.
	Sizes []int
	// Crashes is how many members are crashed, one at a time, per size
	// and hint setting.
	Crashes int
	// Hints lists the detection runs per size: false measures with
	// PeerDown ignored (plain SWIM), true with Config.PeerDownProbe on
	// and every member told PeerDown when a member crashes.
	Hints []bool
	// Loss is the message loss probability.
	Loss float64
	// Slow members have SlowDelay added to every message on their links.
	Slow      int
	SlowDelay time.Duration
	// Detector is swim.DetectorSWIM or swim.DetectorPhi.
	Detector string
	// Pauses are SIGSTOP-like pause lengths tried PauseTrials times each.
	Pauses      []time.Duration
	PauseTrials int
	// MetaTrials is how many SetMeta disseminations are timed per size.
	MetaTrials int
	// FuseN, Groups, GroupSize: the FUSE measurements (a cluster of
	// FuseN with Groups groups of GroupSize members).
	FuseN, Groups, GroupSize int
	// FuseTrials is how many groups are signalled (and crashed into).
	FuseTrials int
	// JoinSizes are the cluster sizes for the join-through-one-seed test.
	JoinSizes []int
	// Connect, when set, models connection setup in every phase
	// (sim.Config.Connect: a sample per connection, one setup at a time
	// per member), as libp2p's dial, Noise handshake and identify cost.
	Connect sim.Latency
	// Swim is the core's configuration; zero means DefaultLANConfig.
	Swim swim.Config
}

// DefaultSwimConfig is what `hearsay sim swim` runs without flags.
func DefaultSwimConfig() SwimConfig {
	return SwimConfig{
		Seed: 1, Sizes: []int{50, 200}, Crashes: 200, Hints: []bool{false, true}, SlowDelay: 300 * time.Millisecond,
		Detector: swim.DetectorSWIM,
		Pauses:   []time.Duration{1500 * time.Millisecond, 2 * time.Second, 3 * time.Second, 4 * time.Second}, PauseTrials: 20,
		MetaTrials: 40, FuseN: 200, Groups: 1000, GroupSize: 16, FuseTrials: 40, JoinSizes: []int{50, 200},
	}
}

func (c SwimConfig) core() swim.Config {
	sc := c.Swim
	if sc.ProbeInterval == 0 {
		sc = swim.DefaultLANConfig()
	}
	if c.Detector != "" {
		sc.Detector = c.Detector
	}
	return sc
}

func (c SwimConfig) net(seed uint64, n int) sim.Config {
	net := sim.DefaultConfig(seed)
	net.Loss = c.Loss
	net.CountBytes = true
	net.Connect = c.Connect
	if c.Slow > 0 {
		slow := make([]bool, n)
		for i := 0; i < c.Slow && i+1 < n; i++ {
			slow[n-1-i] = true // the last indexes; node 0 is the seed
		}
		net.Latency = slowLatency{Base: net.Latency, Slow: slow, Extra: c.SlowDelay}
	}
	return net
}

// Swim runs the SWIM experiments and returns their tables.
func Swim(cfg SwimConfig, progress Progress) ([]*Table, error) {
	sc := cfg.core()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	for _, sizes := range [][]int{cfg.Sizes, cfg.JoinSizes} {
		for _, n := range sizes {
			if n < 3 {
				return nil, fmt.Errorf("swim experiment: a cluster of %d members; want at least 3 (one crashes, one detects, one confirms)", n)
			}
		}
	}
	steps := len(cfg.Sizes)*len(cfg.Hints) + len(cfg.Pauses) + 2 + len(cfg.JoinSizes)
	done := 0
	step := func(what string) { done++; progress.report(done, steps, what) }

	det := &Table{Title: "swim: failure detection, bandwidth, dissemination",
		Columns: []string{"N", "hint", "loss", "slow", "crashes", "first-detect(periods)", "+-se", "first-suspect(s)", "dead p50(s)", "dead p99(s)", "dead max(s)", "all-know p99(s)", "false-deaths", "B/member/s", "meta p50(s)", "meta p99(s)"}}
	for _, n := range cfg.Sizes {
		for _, hint := range cfg.Hints {
			r, err := swimDetection(cfg, sc, n, hint)
			if err != nil {
				return nil, err
			}
			det.Add(n, hint, cfg.Loss, cfg.Slow, len(r.first), mean(r.periods), stderr(r.periods), mean(r.suspect), quantile(r.first, 0.5), quantile(r.first, 0.99), quantile(r.first, 1),
				quantile(r.all, 0.99), r.falseDeaths, r.bytesPerMember, quantile(r.meta, 0.5), quantile(r.meta, 0.99))
			step(fmt.Sprintf("detection N=%d hint=%v", n, hint))
		}
	}
	det.Notes = append(det.Notes,
		"first-detect: the paper's measure, in periods T counted from the crash: the period in which some member's round-robin probe of the crashed member starts (and then fails), floor((probe start - crash)/T)+1; expected e/(e-1)=1.58 (with hint, round-robin probes are cut short, so read it on hint=false rows); +-se is its standard error",
		"hint: PeerDownProbe on and every member told PeerDown 50 ms after the crash (connections reset); false: PeerDown ignored",
		"dead: time from crash to the first member declaring it dead; all-know: until every live member has",
		"B/member/s: encoded SWIM bytes sent per member per second in steady state (no crash, no update)",
		"meta: SetMeta at one member until every live member has the new record")

	pause := &Table{Title: "swim: SIGSTOP-like pauses (N=50)", Columns: []string{"pause(s)", "trials", "suspected", "declared-dead"}}
	for _, p := range cfg.Pauses {
		susp, dead, err := swimPauses(cfg, sc, 50, p)
		if err != nil {
			return nil, err
		}
		pause.Add(p.Seconds(), cfg.PauseTrials, susp, dead)
		step(fmt.Sprintf("pause %v", p))
	}
	pause.Notes = append(pause.Notes, "declared-dead: trials in which any member declared the paused one dead")

	fuse, err := swimFuse(cfg, sc)
	if err != nil {
		return nil, err
	}
	step("fuse")
	step("fuse bytes")

	join := &Table{Title: "swim: join through one seed", Columns: []string{"N", "all-see-all(s)", "suspicions", "false-deaths", "connections"}}
	for _, n := range cfg.JoinSizes {
		r, err := swimJoin(cfg, sc, n)
		if err != nil {
			return nil, err
		}
		join.Add(n, r.formed.Seconds(), r.suspicions, r.deaths, r.conns)
		step(fmt.Sprintf("join N=%d", n))
	}
	join.Notes = append(join.Notes, "every member calls Join(seed) at a random time in the first 100 ms; time from the first Join until every member sees every other alive (60 s: not formed); suspicions and false-deaths are member events over those 60 s (nobody crashes)")
	if cfg.Connect != nil {
		join.Notes = append(join.Notes, fmt.Sprintf("connections modelled (--connect): each costs a sample of %v, one setup at a time per member; connections = those set up in the 60 s; probes wait for a connection up to ConnectTimeout %v, %d inconclusive waits in a row allowed", cfg.Connect, sc.ConnectTimeout, sc.InconclusiveProbes))
	}
	return []*Table{det, pause, fuse, join}, nil
}

func mean(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s / float64(len(xs))
}

// stderr is the standard error of the mean.
func stderr(xs []float64) float64 {
	if len(xs) < 2 {
		return math.NaN()
	}
	m, v := mean(xs), 0.0
	for _, x := range xs {
		v += (x - m) * (x - m)
	}
	return math.Sqrt(v / float64(len(xs)-1) / float64(len(xs)))
}

// quantile is the nearest-rank quantile.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}
