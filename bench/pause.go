package bench

import (
	"context"
	"fmt"
	"log/slog"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hearsay-mesh/hearsay/sim/exp"
)

// PauseConfig sets up `hearsay bench pause`: N member processes on
// 127.0.0.1 (hearsay agents, or one memberlist member per process), one
// of which is stopped with SIGSTOP for Pause every Every, for Duration.
// Each length in Pauses is a separate run (a sweep when there are
// several).
type PauseConfig struct {
	Nodes       int
	Pauses      []time.Duration
	Every       time.Duration
	Duration    time.Duration
	Impls       []string
	Settle      time.Duration // wait after formation before the first pause
	FormTimeout time.Duration // bound on formation
	// Recover bounds the wait, after the last pause, for every member to
	// see every other alive again.
	Recover time.Duration
	// Poll is how often each hearsay agent's counters are read over
	// JSON-RPC (its member list is read only when they moved).
	Poll time.Duration
	// HearsayBin is the hearsay executable to run as `hearsay agent`.
	HearsayBin string
	// MemberlistDir as in SwimConfig.
	MemberlistDir string
	Log           *slog.Logger
}

// DefaultPauseConfig is issue 4's false-positive scenario.
func DefaultPauseConfig() PauseConfig {
	return PauseConfig{Nodes: 20, Pauses: []time.Duration{3 * time.Second}, Every: 20 * time.Second,
		Duration: 10 * time.Minute, Impls: []string{ImplHearsay, ImplMemberlist}, Settle: 5 * time.Second,
		FormTimeout: 60 * time.Second, Recover: 60 * time.Second, Poll: 100 * time.Millisecond}
}

// Validate names the first bad field.
func (c PauseConfig) Validate() error {
	switch {
	case c.Nodes < 3 || c.Nodes > 200:
		return fmt.Errorf("bench: Nodes = %d; want 3..200", c.Nodes)
	case len(c.Pauses) == 0:
		return fmt.Errorf("bench: Pauses is empty")
	case c.Every <= 0 || c.Duration < c.Every:
		return fmt.Errorf("bench: Every = %v, Duration = %v; want 0 < Every <= Duration", c.Every, c.Duration)
	case c.Settle < 0 || c.FormTimeout <= 0 || c.Recover <= 0 || c.Poll <= 0:
		return fmt.Errorf("bench: Settle >= 0, FormTimeout, Recover, Poll > 0")
	case len(c.Impls) == 0:
		return fmt.Errorf("bench: Impls is empty")
	}
	for _, p := range c.Pauses {
		if p <= 0 || p >= c.Every {
			return fmt.Errorf("bench: pause %v; want 0 < pause < Every (%v)", p, c.Every)
		}
	}
	for _, i := range c.Impls {
		if i != ImplHearsay && i != ImplMemberlist {
			return fmt.Errorf("bench: implementation %q; want hearsay or memberlist", i)
		}
		if i == ImplHearsay && c.HearsayBin == "" {
			return fmt.Errorf("bench: HearsayBin is empty")
		}
	}
	return nil
}

// pauseTrans is one member's view of another changing state.
type pauseTrans struct {
	at       time.Time
	obs, sub int
	from, to string
}

// pauseCounters are one member's own counters (hearsay: mesh_stats;
// memberlist: its metrics and log lines), and how its transitions were
// seen.
type pauseCounters struct {
	ProbeSuspicions uint64 // suspicions it started after its own probe failed
	Deaths          uint64 // hearsay: deaths it declared itself
	Refutations     uint64 // suspicions or deaths about itself it refuted
	Stalls          uint64 // hearsay: late ticks (it was stopped)
	// Events is what the member itself counted (hearsay: every membership
	// event; memberlist: moves to suspect plus moves to dead); Seen is
	// how many of them the bench saw. Events - Seen were missed.
	Events, Seen uint64
}

func (c pauseCounters) sub(o pauseCounters) pauseCounters {
	return pauseCounters{c.ProbeSuspicions - o.ProbeSuspicions, c.Deaths - o.Deaths, c.Refutations - o.Refutations,
		c.Stalls - o.Stalls, c.Events - o.Events, c.Seen - o.Seen}
}

// pauseView keeps what every member reported about every other.
type pauseView struct {
	mu     sync.Mutex
	n      int
	state  [][]string // observer x member
	trans  []pauseTrans
	seen   []uint64 // transitions seen per observer
	counts []pauseCounters
}

func newPauseView(n int) *pauseView {
	v := &pauseView{n: n, state: make([][]string, n), seen: make([]uint64, n), counts: make([]pauseCounters, n)}
	for i := range v.state {
		v.state[i] = make([]string, n)
	}
	return v
}

// set records that obs holds sub in state st (at time at); it returns
// whether that was a change.
func (v *pauseView) set(at time.Time, obs, sub int, st string) bool {
	old := v.state[obs][sub]
	if old == st {
		return false
	}
	v.state[obs][sub] = st
	v.trans = append(v.trans, pauseTrans{at: at, obs: obs, sub: sub, from: old, to: st})
	v.seen[obs]++
	return true
}

func (v *pauseView) allAlive() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for o := range v.n {
		for s := range v.n {
			if o != s && v.state[o][s] != "alive" {
				return false
			}
		}
	}
	return true
}

func (v *pauseView) snapshot() []pauseCounters {
	v.mu.Lock()
	defer v.mu.Unlock()
	out := slices.Clone(v.counts)
	for i := range out {
		out[i].Seen = v.seen[i]
	}
	return out
}

// pauseCluster is N member processes of one implementation.
type pauseCluster interface {
	view() *pauseView
	pid(i int) int
	// final stops polling and returns every member's counters.
	final(ctx context.Context) []pauseCounters
	close()
}

// pauseResult is one run: one implementation, one pause length.
type pauseResult struct {
	n, victim    int
	pause        time.Duration
	formS        float64
	stops, conts []time.Time
	end          time.Time
	trans        []pauseTrans
	c0, c1       []pauseCounters
	recovered    bool
	recoverS     float64 // from the last SIGCONT to all see all alive
	wall         time.Duration
}

// Pause runs the scenario for every pause length and implementation and
// returns one table.
func Pause(ctx context.Context, cfg PauseConfig, progress exp.Progress) ([]*exp.Table, error) {
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
	res := map[string]map[time.Duration]*pauseResult{}
	for _, p := range cfg.Pauses {
		for _, impl := range cfg.Impls {
			what := fmt.Sprintf("%s N=%d pause %v: ", impl, cfg.Nodes, p)
			start := time.Now()
			var cl pauseCluster
			var err error
			if impl == ImplHearsay {
				cl, err = startHearsayCluster(ctx, cfg)
			} else {
				cl, err = startMemberlistCluster(ctx, cfg, ml.bin)
			}
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			r, err := runPause(ctx, cfg, cl, p, func(done, total int, s string) { progress.Report(done, total, what+s) })
			cl.close()
			if err != nil {
				return nil, fmt.Errorf("%s: %w", what, err)
			}
			r.wall = time.Since(start)
			if res[impl] == nil {
				res[impl] = map[time.Duration]*pauseResult{}
			}
			res[impl][p] = r
		}
	}
	return []*exp.Table{pauseTable(cfg, res)}, nil
}

func runPause(ctx context.Context, cfg PauseConfig, cl pauseCluster, pause time.Duration, report func(int, int, string)) (*pauseResult, error) {
	v := cl.view()
	r := &pauseResult{n: cfg.Nodes, victim: cfg.Nodes - 1, pause: pause}
	t0 := time.Now()
	report(0, 1, "forming")
	ok, err := pollUntil(ctx, 50*time.Millisecond, cfg.FormTimeout, v.allAlive)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("not formed within %v", cfg.FormTimeout)
	}
	r.formS = time.Since(t0).Seconds()
	if err := runFor(ctx, cfg.Settle); err != nil {
		return nil, err
	}
	r.c0 = v.snapshot()
	start := time.Now()
	victim := syscall.Kill // the victim's pid is fixed for the run
	pid := cl.pid(r.victim)
	total := int(cfg.Duration / cfg.Every)
	defer victim(pid, syscall.SIGCONT) // never leave it stopped
	for k := range total {
		report(k, total, "pauses")
		at := start.Add(time.Duration(k) * cfg.Every)
		if err := runFor(ctx, time.Until(at)); err != nil {
			return nil, err
		}
		if err := victim(pid, syscall.SIGSTOP); err != nil {
			return nil, fmt.Errorf("SIGSTOP: %w", err)
		}
		r.stops = append(r.stops, time.Now())
		if err := runFor(ctx, time.Until(r.stops[k].Add(pause))); err != nil {
			return nil, err
		}
		if err := victim(pid, syscall.SIGCONT); err != nil {
			return nil, fmt.Errorf("SIGCONT: %w", err)
		}
		r.conts = append(r.conts, time.Now())
	}
	report(0, 1, "waiting for every view to be alive")
	last := r.conts[len(r.conts)-1]
	if r.recovered, err = pollUntil(ctx, 50*time.Millisecond, cfg.Recover, v.allAlive); err != nil {
		return nil, err
	}
	r.recoverS = time.Since(last).Seconds()
	// The last pause gets the same quiet time after it as the others.
	if err := runFor(ctx, time.Until(start.Add(time.Duration(total)*cfg.Every))); err != nil {
		return nil, err
	}
	r.end = time.Now()
	r.c1 = cl.final(ctx)
	v.mu.Lock()
	r.trans = slices.Clone(v.trans)
	v.mu.Unlock()
	return r, nil
}

// pauseSummary is what pauseTable shows of one run.
type pauseSummary struct {
	victimSuspPauses, victimDeadPauses int
	victimSusp, victimDead             int // observer-events
	recoverS                           []float64
	healthySusp, healthyDead           int
	byVictimSusp, byVictimDead         int // of which by the paused member
	falseWho                           map[string]int
	probeSusp, healthyProbeSusp        uint64
	victimRefutes, victimStalls        uint64
	victimProbeSusp, victimDeaths      uint64
	missed                             int64
}

func summarize(r *pauseResult) pauseSummary {
	s := pauseSummary{falseWho: map[string]int{}}
	for k, stop := range r.stops {
		until := r.end
		if k+1 < len(r.stops) {
			until = r.stops[k+1]
		}
		susp, dead := false, false
		var back time.Time
		for _, t := range r.trans {
			if t.sub != r.victim || t.obs == r.victim || t.at.Before(stop) || !t.at.Before(until) {
				continue
			}
			switch t.to {
			case "suspect":
				susp = true
				s.victimSusp++
			case "dead", "left":
				dead = true
				s.victimDead++
			case "alive":
				back = t.at
			}
		}
		if susp {
			s.victimSuspPauses++
		}
		if dead {
			s.victimDeadPauses++
		}
		if !back.IsZero() {
			s.recoverS = append(s.recoverS, back.Sub(r.conts[k]).Seconds())
		}
	}
	from := r.stops[0]
	for _, t := range r.trans {
		if t.sub == r.victim || t.at.Before(from) || t.at.After(r.end) {
			continue
		}
		switch t.to {
		case "suspect":
			s.healthySusp++
			if t.obs == r.victim {
				s.byVictimSusp++
			}
		case "dead", "left":
			s.healthyDead++
			if t.obs == r.victim {
				s.byVictimDead++
			}
		default:
			continue
		}
		s.falseWho[fmt.Sprintf("%d->%d %s", t.obs, t.sub, t.to)]++
	}
	for i := range r.c1 {
		d := r.c1[i].sub(r.c0[i])
		s.missed += int64(d.Events) - int64(d.Seen)
		if i == r.victim {
			s.victimRefutes, s.victimStalls = d.Refutations, d.Stalls
			s.victimProbeSusp, s.victimDeaths = d.ProbeSuspicions, d.Deaths
		} else {
			s.healthyProbeSusp += d.ProbeSuspicions
		}
	}
	return s
}

func pauseTable(cfg PauseConfig, res map[string]map[time.Duration]*pauseResult) *exp.Table {
	t := &exp.Table{
		Title: fmt.Sprintf("pause: %d member processes on 127.0.0.1, member %d stopped (SIGSTOP) for the pause every %v for %v; hearsay agents (default config) beside memberlist v0.7.0 (LAN config, probe interval 1 s, timeout 500 ms)",
			cfg.Nodes, cfg.Nodes-1, cfg.Every, cfg.Duration),
		Columns: []string{"pause", "metric", "hearsay", "memberlist"},
	}
	sums := map[string]map[time.Duration]pauseSummary{}
	for impl, m := range res {
		sums[impl] = map[time.Duration]pauseSummary{}
		for p, r := range m {
			sums[impl][p] = summarize(r)
		}
	}
	for _, p := range cfg.Pauses {
		row := func(metric string, f func(*pauseResult, pauseSummary) any) {
			cells := []any{p.String(), metric}
			for _, impl := range []string{ImplHearsay, ImplMemberlist} {
				if r := res[impl][p]; r != nil {
					cells = append(cells, f(r, sums[impl][p]))
				} else {
					cells = append(cells, "-")
				}
			}
			t.Add(cells...)
		}
		row("pauses", func(r *pauseResult, _ pauseSummary) any { return len(r.stops) })
		row("pauses in which it was suspected", func(_ *pauseResult, s pauseSummary) any { return s.victimSuspPauses })
		row("pauses in which it was declared dead", func(_ *pauseResult, s pauseSummary) any { return s.victimDeadPauses })
		row("members that suspected it (sum over pauses)", func(_ *pauseResult, s pauseSummary) any { return s.victimSusp })
		row("members that held it dead (sum over pauses)", func(_ *pauseResult, s pauseSummary) any { return s.victimDead })
		row("SIGCONT to the last member seeing it alive again, max (s)", func(_ *pauseResult, s pauseSummary) any { return pctF(s.recoverS, 1) })
		row("healthy members suspected (events)", func(_ *pauseResult, s pauseSummary) any { return s.healthySusp })
		row("healthy members declared dead (events)", func(_ *pauseResult, s pauseSummary) any { return s.healthyDead })
		row("  of which by the paused member after waking: suspected / dead", func(_ *pauseResult, s pauseSummary) any {
			return fmt.Sprintf("%d / %d", s.byVictimSusp, s.byVictimDead)
		})
		row("paused member: own probes that started a suspicion", func(_ *pauseResult, s pauseSummary) any { return s.victimProbeSusp })
		row("paused member: refutations", func(_ *pauseResult, s pauseSummary) any { return s.victimRefutes })
		row("paused member: late ticks seen (stalls)", func(r *pauseResult, s pauseSummary) any {
			if r == res[ImplMemberlist][p] {
				return "-"
			}
			return s.victimStalls
		})
		row("healthy members: own probes that started a suspicion", func(_ *pauseResult, s pauseSummary) any { return s.healthyProbeSusp })
		row("last SIGCONT to all see all alive (s)", func(r *pauseResult, _ pauseSummary) any {
			if !r.recovered {
				return fmt.Sprintf("not within %v", cfg.Recover)
			}
			return r.recoverS
		})
		row("transitions the members counted but polling missed", func(_ *pauseResult, s pauseSummary) any { return s.missed })
	}
	impls := slices.Sorted(func(yield func(string) bool) {
		for k := range res {
			if !yield(k) {
				return
			}
		}
	})
	for _, impl := range impls {
		for _, p := range cfg.Pauses {
			r := res[impl][p]
			if r == nil {
				continue
			}
			s := sums[impl][p]
			note := fmt.Sprintf("%s pause %v: formed in %.1fs, wall %.0fs", impl, p, r.formS, r.wall.Seconds())
			if len(s.falseWho) > 0 {
				keys := make([]string, 0, len(s.falseWho))
				for k := range s.falseWho {
					keys = append(keys, k)
				}
				sort.Strings(keys)
				for i, k := range keys {
					keys[i] = fmt.Sprintf("%s x%d", k, s.falseWho[k])
				}
				note += "; healthy members accused (observer->member): " + strings.Join(keys, ", ")
			}
			t.Notes = append(t.Notes, note)
		}
	}
	t.Notes = append(t.Notes,
		"hearsay: each agent's mesh_stats is polled over JSON-RPC; when its membership-event counter moved, mesh_members is read and then mesh_stats again (kept only if the counter did not move), so every transition is counted and a missed one shows in the last row",
		"memberlist: each member process reads its own member table every 10 ms and prints changes; its memberlist.msg.suspect and memberlist.msg.dead metrics give the counts to check against",
		"own probes (hearsay: swim Suspicions; memberlist: 'Suspect X has failed, no acks received'); refutations (hearsay: swim Refutations; memberlist: 'Refuting a suspect/dead message')")
	return t
}

// stopProc ends a member process started by the bench: SIGCONT (it may
// be stopped), SIGKILL, and waits for it.
func stopProc(cmd *exec.Cmd, exited <-chan struct{}) {
	if cmd.Process == nil {
		return
	}
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Kill()
	<-exited
}
