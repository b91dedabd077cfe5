package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"slices"
	"time"

	"github.com/hearsay-mesh/hearsay/sim/exp"
)

// Implementations `hearsay bench swim` can run.
const (
	ImplHearsay    = "hearsay"
	ImplMemberlist = "memberlist"
)

// SwimConfig sets up `hearsay bench swim`: the same scenario on hearsay
// agents and on hashicorp/memberlist, each at every size in Nodes.
type SwimConfig struct {
	Nodes         []int         // cluster sizes
	Impls         []string      // ImplHearsay, ImplMemberlist
	Crashes       int           // members crashed one at a time (never the seed)
	MetaTrials    int           // metadata updates by random members
	Quiet         time.Duration // window over which quiet bandwidth is counted
	Settle        time.Duration // wait after formation before measuring
	FormTimeout   time.Duration // bound on formation
	DetectTimeout time.Duration // bound on one crash's detection everywhere
	MetaTimeout   time.Duration // bound on one metadata update reaching everyone
	ProbeInterval time.Duration // both implementations
	ProbeTimeout  time.Duration // both implementations
	Seed          uint64        // choice of crashed and updated members
	// MemberlistDir holds the memberlist module (bench/memberlist); empty
	// means: look for it from the working directory upwards.
	MemberlistDir string
	// Procs runs every member as its own process: hearsay agents as
	// `HearsayBin agent`, memberlist members as `memberlist-bench -member
	// -events` (see swim_procs.go).
	Procs      bool
	HearsayBin string
	// MemberTick, with Procs and when > 0, runs hearsay members as the
	// hidden `HearsayBin bench swim member --tick MemberTick` (an agent
	// with that SWIM, plumtree and anti-entropy tick interval).
	MemberTick time.Duration
	// LaunchEvery, with Procs, spaces the launches of members 1..N-1
	// (0: all at the same instant).
	LaunchEvery time.Duration
	// JoinAfterUp, with Procs, starts every member without a join, waits
	// until all are up, then has members 1..N-1 join through member 0 at
	// the same instant (hearsay: mesh_join over JSON-RPC; memberlist:
	// Join): formation is timed from the joins instead of from the
	// launch, so it leaves out the processes' start-up.
	JoinAfterUp bool
	// MemberGOMAXPROCS, with Procs and when > 0, sets GOMAXPROCS in every
	// member process of both implementations (0: each one's default:
	// hearsay agents run on one core, memberlist members on all).
	MemberGOMAXPROCS int
	// KeepDir, with Procs, keeps the hearsay members' data directories,
	// each with the member's log (stderr.log), under KeepDir/hearsay-N
	// instead of a temporary directory that is removed.
	KeepDir string
	Log     *slog.Logger
}

// DefaultSwimConfig is issue 4's comparison, with a 30 s quiet window.
func DefaultSwimConfig() SwimConfig {
	return SwimConfig{Nodes: []int{50, 200}, Impls: []string{ImplHearsay, ImplMemberlist},
		Crashes: 5, MetaTrials: 5, Quiet: 30 * time.Second, Settle: 5 * time.Second,
		FormTimeout: 90 * time.Second, DetectTimeout: 60 * time.Second, MetaTimeout: 35 * time.Second,
		ProbeInterval: time.Second, ProbeTimeout: 500 * time.Millisecond, Seed: 1}
}

// Validate names the first bad field.
func (c SwimConfig) Validate() error {
	if len(c.Nodes) == 0 {
		return fmt.Errorf("bench: Nodes is empty")
	}
	for _, n := range c.Nodes {
		if n < 3 || n > 1000 {
			return fmt.Errorf("bench: Nodes has %d; want 3..1000", n)
		}
		if c.Crashes > n-2 {
			return fmt.Errorf("bench: Crashes = %d; want <= Nodes-2 = %d", c.Crashes, n-2)
		}
	}
	if len(c.Impls) == 0 {
		return fmt.Errorf("bench: Impls is empty")
	}
	for _, i := range c.Impls {
		if i != ImplHearsay && i != ImplMemberlist {
			return fmt.Errorf("bench: implementation %q; want hearsay or memberlist", i)
		}
		if i == ImplHearsay && c.Procs && c.HearsayBin == "" {
			return fmt.Errorf("bench: Procs needs HearsayBin")
		}
	}
	switch {
	case c.JoinAfterUp && !c.Procs:
		return fmt.Errorf("bench: JoinAfterUp needs Procs")
	case c.MemberGOMAXPROCS < 0:
		return fmt.Errorf("bench: MemberGOMAXPROCS = %d; want >= 0", c.MemberGOMAXPROCS)
	case c.MemberGOMAXPROCS > 0 && !c.Procs:
		return fmt.Errorf("bench: MemberGOMAXPROCS needs Procs")
	case c.Crashes < 0:
		return fmt.Errorf("bench: Crashes = %d; want >= 0", c.Crashes)
	case c.MetaTrials < 0:
		return fmt.Errorf("bench: MetaTrials = %d; want >= 0", c.MetaTrials)
	case c.Quiet < time.Second:
		return fmt.Errorf("bench: Quiet = %v; want >= 1s", c.Quiet)
	case c.Settle < 0:
		return fmt.Errorf("bench: Settle = %v; want >= 0", c.Settle)
	case c.FormTimeout <= 0 || c.DetectTimeout <= 0 || c.MetaTimeout <= 0:
		return fmt.Errorf("bench: FormTimeout, DetectTimeout, MetaTimeout must be > 0")
	case c.ProbeInterval <= 0 || c.ProbeTimeout <= 0 || c.ProbeTimeout > c.ProbeInterval:
		return fmt.Errorf("bench: ProbeTimeout = %v, ProbeInterval = %v; want 0 < timeout <= interval", c.ProbeTimeout, c.ProbeInterval)
	}
	return nil
}

// swimResult is one implementation's run at one size. The memberlist
// program prints it as JSON; durations are in seconds.
type swimResult struct {
	Nodes  int     `json:"nodes"`
	Formed bool    `json:"formed"`
	FormS  float64 `json:"form_s"`
	// FormAlivePct is the mean share of the others a member saw alive
	// when formation ended (100 when Formed).
	FormAlivePct float64 `json:"form_alive_pct"`
	JoinErrors   int     `json:"join_errors"`

	QuietS           float64 `json:"quiet_s"`
	QuietBytes       uint64  `json:"quiet_bytes"` // protocol payload bytes sent by all members
	BytesPerMS       float64 `json:"bytes_per_m_s"`
	QuietFalseDeaths int     `json:"quiet_false_deaths"` // false deaths reported during the window
	QuietAlivePct    float64 `json:"quiet_alive_pct"`
	QuietCPUS        float64 `json:"quiet_cpu_s"` // CPU seconds the process used in the window

	MetaS      []float64 `json:"meta_s"`
	MetaAllS   []float64 `json:"meta_all_s"`
	MetaMissed int       `json:"meta_missed"`

	CrashS      []float64 `json:"crash_s"`
	CrashFirstS []float64 `json:"crash_first_s"`
	Undetected  int       `json:"undetected"`
	FalseDeaths int       `json:"false_deaths"`

	// hearsay only.
	QuietWrites   uint64        `json:"-"` // stream writes of the SWIM protocol in the window
	QuietAllBytes uint64        `json:"-"` // stream bytes of every libp2p protocol in the window
	Conns         int           `json:"-"` // libp2p connections at the end of the window, all hosts
	Left          int           `json:"-"` // crashed members reported as left (must stay 0)
	AlreadyDead   int           `json:"-"` // live members that held a victim dead (falsely) when it crashed
	Missing       []string      `json:"-"` // who had not declared an undetected crash failed
	PeakHeap      uint64        `json:"-"`
	Wall          time.Duration `json:"-"`

	// --procs only.
	Procs       bool    `json:"-"`
	StartS      float64 `json:"-"` // from the launch to every member process up
	JoinCallsS  float64 `json:"-"` // JoinAfterUp: from the joins' release until every member was told
	RSSMB       float64 `json:"-"` // mean resident set per member process at the end of the quiet window
	HarnessCPUS float64 `json:"-"` // CPU the bench process itself used in the quiet window
	NoBytes     bool    `json:"-"` // bytes not measured (hearsay agent processes)
}

// framingPerWrite estimates what libp2p adds to one stream write on TCP:
// a 12-byte yamux header and a noise frame's 2-byte length and 16-byte tag.
const framingPerWrite = 12 + 18

// Swim runs the comparison and returns its table.
func Swim(ctx context.Context, cfg SwimConfig, progress exp.Progress) ([]*exp.Table, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Log == nil {
		cfg.Log = discardLog()
	}
	ml, err := memberlistFor(ctx, cfg.Impls, cfg.MemberlistDir)
	if err != nil {
		return nil, err
	}
	defer ml.close()
	res := map[string]map[int]*swimResult{ImplHearsay: {}, ImplMemberlist: {}}
	var failed []string
	for _, n := range cfg.Nodes {
		for _, impl := range cfg.Impls {
			var r *swimResult
			var err error
			start := time.Now()
			switch {
			case cfg.Procs:
				var bin string
				if ml != nil {
					bin = ml.bin
				}
				r, err = runSwimProcs(ctx, cfg, impl, n, bin, progress)
			case impl == ImplHearsay:
				r, err = runHearsaySwim(ctx, cfg, n, progress)
			default:
				progress.Report(0, 1, fmt.Sprintf("memberlist N=%d", n))
				r, err = ml.run(ctx, cfg, n)
			}
			if err != nil && impl == ImplMemberlist && ctx.Err() == nil {
				// Keep what the other side measured.
				failed = append(failed, fmt.Sprintf("memberlist N=%d failed: %v", n, err))
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("%s N=%d: %w", impl, n, err)
			}
			r.Wall = time.Since(start)
			res[impl][n] = r
		}
	}
	t := swimTable(cfg, res)
	t.Notes = append(t.Notes, failed...)
	return []*exp.Table{t}, nil
}

// formRow names the formation row by what it is timed from.
func formRow(cfg SwimConfig) string {
	switch {
	case cfg.Procs && cfg.JoinAfterUp:
		return "all see all alive, from the joins (s)"
	case cfg.Procs:
		return "all see all alive, from the launch (s)"
	}
	return "all see all alive (s)"
}

func swimTable(cfg SwimConfig, res map[string]map[int]*swimResult) *exp.Table {
	where := "in one process each"
	if cfg.Procs {
		where = "one OS process per member"
		if cfg.LaunchEvery > 0 {
			where += fmt.Sprintf("; members launched one every %v", cfg.LaunchEvery)
		}
		if cfg.MemberTick > 0 {
			where += fmt.Sprintf("; hearsay SWIM/plumtree/anti-entropy ticks at %v", cfg.MemberTick)
		}
		if cfg.JoinAfterUp {
			where += "; all members up before the joins, formation timed from the joins"
		}
		where += "; " + cfg.memberProcsNote()
	}
	t := &exp.Table{
		Title: fmt.Sprintf("swim: hearsay agents beside memberlist v0.7.0 on 127.0.0.1 (%s), probe interval %v, probe timeout %v, %d crashes, %d metadata updates, quiet window %v",
			where, cfg.ProbeInterval, cfg.ProbeTimeout, cfg.Crashes, cfg.MetaTrials, cfg.Quiet),
		Columns: []string{"scenario", "N", "metric", "hearsay", "memberlist", "hearsay/memberlist"},
	}
	row := func(scn string, n int, metric string, f func(*swimResult) (float64, bool)) {
		var v [2]float64
		var ok [2]bool
		cells := []any{scn, n, metric}
		for i, impl := range []string{ImplHearsay, ImplMemberlist} {
			if r := res[impl][n]; r != nil {
				v[i], ok[i] = f(r)
			}
			if ok[i] {
				cells = append(cells, v[i])
			} else {
				cells = append(cells, "-")
			}
		}
		if ok[0] && ok[1] && v[1] != 0 {
			cells = append(cells, v[0]/v[1])
		} else {
			cells = append(cells, "-")
		}
		t.Add(cells...)
	}
	all := func(f func(*swimResult) float64) func(*swimResult) (float64, bool) {
		return func(r *swimResult) (float64, bool) { return f(r), true }
	}
	ours := func(f func(*swimResult) float64) func(*swimResult) (float64, bool) {
		return func(r *swimResult) (float64, bool) {
			if r.QuietWrites == 0 && r.QuietAllBytes == 0 {
				return 0, false
			}
			return f(r), true
		}
	}
	procs := func(f func(*swimResult) float64) func(*swimResult) (float64, bool) {
		return func(r *swimResult) (float64, bool) { return f(r), r.Procs }
	}
	for _, n := range cfg.Nodes {
		if cfg.Procs {
			row("formation", n, "member processes up, from the launch (s)", procs(func(r *swimResult) float64 { return r.StartS }))
			if cfg.JoinAfterUp {
				row("formation", n, "every member told to join, from the release (s)", procs(func(r *swimResult) float64 { return r.JoinCallsS }))
			}
		}
		row("formation", n, formRow(cfg), all(func(r *swimResult) float64 { return r.FormS }))
		row("formation", n, "others seen alive at that time (%)", all(func(r *swimResult) float64 { return r.FormAlivePct }))
		row("crash", n, "last live member marks dead p50 (s)", all(func(r *swimResult) float64 { return pctF(r.CrashS, 0.5) }))
		row("crash", n, "last live member marks dead p99 (s)", all(func(r *swimResult) float64 { return pctF(r.CrashS, 0.99) }))
		row("crash", n, "last live member marks dead max (s)", all(func(r *swimResult) float64 { return pctF(r.CrashS, 1) }))
		row("crash", n, "first member marks dead p50 (s)", all(func(r *swimResult) float64 { return pctF(r.CrashFirstS, 0.5) }))
		row("crash", n, "crashes not detected everywhere", all(func(r *swimResult) float64 { return float64(r.Undetected) }))
		row("crash", n, "false deaths (events)", all(func(r *swimResult) float64 { return float64(r.FalseDeaths) }))
		row("bandwidth", n, "others seen alive after the quiet window (%)", all(func(r *swimResult) float64 { return r.QuietAlivePct }))
		row("bandwidth", n, "false deaths during the quiet window (events)", all(func(r *swimResult) float64 { return float64(r.QuietFalseDeaths) }))
		row("bandwidth", n, "protocol payload B/s per member", func(r *swimResult) (float64, bool) { return r.BytesPerMS, !r.NoBytes })
		row("bandwidth", n, "payload + est. yamux/noise framing B/s per member", ours(func(r *swimResult) float64 {
			return float64(r.QuietBytes+framingPerWrite*r.QuietWrites) / float64(r.Nodes) / r.QuietS
		}))
		row("bandwidth", n, "all libp2p protocols B/s per member", ours(func(r *swimResult) float64 {
			return float64(r.QuietAllBytes) / float64(r.Nodes) / r.QuietS
		}))
		row("cpu", n, "process CPU ms per member per second (quiet window)", all(func(r *swimResult) float64 {
			return 1000 * r.QuietCPUS / float64(r.Nodes) / r.QuietS
		}))
		if cfg.Procs {
			row("memory", n, "resident set per member process (MB)", procs(func(r *swimResult) float64 { return r.RSSMB }))
		}
		row("metadata", n, "per-receiver p50 (s)", all(func(r *swimResult) float64 { return pctF(r.MetaS, 0.5) }))
		row("metadata", n, "per-receiver p99 (s)", all(func(r *swimResult) float64 { return pctF(r.MetaS, 0.99) }))
		row("metadata", n, "reached everyone, worst trial (s)", all(func(r *swimResult) float64 { return pctF(r.MetaAllS, 1) }))
		row("metadata", n, "receivers missed at the timeout", all(func(r *swimResult) float64 { return float64(r.MetaMissed) }))
	}
	for _, n := range cfg.Nodes {
		for _, impl := range cfg.Impls {
			r := res[impl][n]
			if r == nil {
				continue
			}
			note := fmt.Sprintf("%s N=%d: wall %.0fs, formed %v, join errors %d", impl, n, r.Wall.Seconds(), r.Formed, r.JoinErrors)
			if r.Procs {
				note += fmt.Sprintf(", crashed members reported left %d, members already holding a victim dead when it crashed %d, bench process CPU in the quiet window %.2f s",
					r.Left, r.AlreadyDead, r.HarnessCPUS)
			} else if impl == ImplHearsay {
				note += fmt.Sprintf(", crashed members reported left %d, members already holding a victim dead when it crashed %d, peak heap %.0f MB, libp2p connections per host %.1f",
					r.Left, r.AlreadyDead, float64(r.PeakHeap)/(1<<20), float64(r.Conns)/float64(r.Nodes))
			}
			t.Notes = append(t.Notes, note)
			for _, m := range r.Missing {
				t.Notes = append(t.Notes, fmt.Sprintf("%s N=%d: %s", impl, n, m))
			}
		}
	}
	if cfg.Procs {
		launch := "member 0 starts first, the others are launched at once (or one every --launch-every) joining through it, and formation is timed from the first launch"
		if cfg.JoinAfterUp {
			launch = "every member is started without a join; once all are up, members 1..N-1 are told at one instant to join through member 0 (hearsay: mesh_join over JSON-RPC; memberlist: Join), and formation is timed from that instant"
		}
		t.Notes = append(t.Notes,
			"processes: hearsay members are `hearsay agent --datastore memory --keep-identity` (default config), memberlist members `memberlist-bench -member -events` (LAN config, probe interval 1 s, timeout 500 ms); "+launch,
			"processes: crash = SIGKILL; CPU = sum of the member processes' utime+stime (/proc/PID/stat) over the quiet window; hearsay views come from each agent's \"member\" log lines (stderr), memberlist's from its EventDelegate; hearsay bytes are each agent's transport counters read over JSON-RPC (mesh_stats) at the window's ends: frame bytes (length prefixes included), flushes as stream writes, and \"all libp2p protocols\" is hearsay's four (SWIM, HyParView, plumtree, anti-entropy; no identify)")
	}
	if !cfg.Procs {
		t.Notes = append(t.Notes, "crash: a member is closed without leaving (hearsay: libp2p host closed; memberlist: Shutdown without Leave)")
	}
	t.Notes = append(t.Notes,
		"crash: timed to MemberFailed / NotifyLeave; an undetected crash counts as the timeout",
		"bandwidth: payload bytes handed to the network (hearsay: stream bytes of /hearsay/swim/1.0.0; memberlist: UDP packets + TCP stream writes), no IP/TCP/UDP headers",
		"framing estimate: 30 B per stream write (yamux header + noise length and tag); all libp2p protocols includes HyParView, plumtree, identify")
	return t
}

// pctF is the nearest-rank percentile of xs (p in (0, 1]).
func pctF(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// pollUntil calls done every interval until it returns true (then
// pollUntil does) or limit passes or ctx ends.
func pollUntil(ctx context.Context, every, limit time.Duration, done func() bool) (bool, error) {
	deadline := time.Now().Add(limit)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if done() {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

// runFor lets the cluster run for d.
func runFor(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// discardLog is the logger a bench uses when it is given none.
func discardLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// memberlistFor builds the memberlist runner if impls asks for it; a nil
// runner (memberlist not asked for) is safe to close.
func memberlistFor(ctx context.Context, impls []string, dir string) (*memberlistRunner, error) {
	if !slices.Contains(impls, ImplMemberlist) {
		return nil, nil
	}
	return buildMemberlist(ctx, dir)
}

// memberProcsNote says what GOMAXPROCS the member processes run with.
func (c SwimConfig) memberProcsNote() string {
	switch env := os.Getenv("GOMAXPROCS"); {
	case c.MemberGOMAXPROCS > 0:
		return fmt.Sprintf("GOMAXPROCS=%d in every member", c.MemberGOMAXPROCS)
	case env != "":
		return fmt.Sprintf("GOMAXPROCS=%s in every member (from the environment)", env)
	}
	return "GOMAXPROCS: hearsay 1 (the agent's default), memberlist Go's default"
}

// memberEnv is what the member processes' environment gets on top of the
// bench's own.
func (c SwimConfig) memberEnv() []string {
	if c.MemberGOMAXPROCS > 0 {
		return []string{fmt.Sprintf("GOMAXPROCS=%d", c.MemberGOMAXPROCS)}
	}
	return nil
}
