package agent

import "time"

// tickPlan schedules every core's Tick from the loop goroutine itself, on
// one timer armed for the earliest due core, instead of a ticker goroutine
// per core posting to a channel. Cores with equal intervals tick on the same
// wake-up. A core that can say it is idle (busy reports false) is ticked
// only every idle interval while it is, and on its own cadence again once
// busy: plumtree has nothing to do between messages, and ticks (wake-ups)
// were most of an idle agent's CPU (docs/swim-bench.md).
//
// A core that can say when its next Tick has work (at, from the core's
// NextDeadline: SWIM, anti-entropy) is ticked then instead, but never
// sooner than a tenth of its interval after its last tick (a deadline
// that did not move cannot spin the loop) and never later than the idle
// interval after it.
//
// A core whose tick comes late (the loop was busy) ticks once; the missed
// ticks are skipped, not queued, and its cadence restarts from then.
type tickPlan struct {
	every  []time.Duration // per core; <= 0 never ticks
	idle   []time.Duration // per core; > 0 with busy: tick this seldom while idle
	busy   []func() bool
	at     []func() (time.Time, bool) // per core; non-nil: deadline-driven
	next   []time.Time                // next tick on the core's cadence
	last   []time.Time                // last tick
	asleep []bool                     // ticks were skipped because the core was idle
}

func newTickPlan(start time.Time, every, idle []time.Duration, busy []func() bool, at []func() (time.Time, bool)) *tickPlan {
	n := len(every)
	p := &tickPlan{every: every, idle: idle, busy: busy, at: at,
		next: make([]time.Time, n), last: make([]time.Time, n), asleep: make([]bool, n)}
	for i, iv := range every {
		p.last[i] = start
		if iv > 0 {
			p.next[i] = start.Add(iv)
		}
	}
	return p
}

func (p *tickPlan) idleNow(i int) bool {
	return p.idle != nil && p.idle[i] > 0 && p.busy[i] != nil && !p.busy[i]()
}

// maxDeadlineWait bounds the wait of a deadline-driven core.
const maxDeadlineWait = time.Second

func (p *tickPlan) deadlineDriven(i int) bool { return p.at != nil && p.at[i] != nil }

// dueAt is when core i should tick next.
func (p *tickPlan) dueAt(i int) time.Time {
	if p.deadlineDriven(i) {
		lo, hi := p.last[i].Add(p.every[i]/10), p.last[i].Add(maxDeadlineWait)
		t, ok := p.at[i]()
		switch {
		case !ok || t.After(hi):
			return hi
		case t.Before(lo):
			return lo
		}
		return t
	}
	if p.idleNow(i) {
		if t := p.last[i].Add(p.idle[i]); t.After(p.next[i]) {
			return t
		}
	}
	return p.next[i]
}

// due returns the cores to tick at now, in core order, and schedules their
// next tick. An idle core not due keeps its cadence and is marked asleep.
func (p *tickPlan) due(now time.Time, out []int) []int {
	out = out[:0]
	for i, iv := range p.every {
		if iv <= 0 {
			continue
		}
		if p.deadlineDriven(i) {
			if !now.Before(p.dueAt(i)) {
				out = append(out, i)
				p.last[i] = now
			}
			continue
		}
		if now.Before(p.dueAt(i)) {
			if !now.Before(p.next[i]) { // skipped while idle
				p.asleep[i] = true
				p.next[i] = p.next[i].Add(iv * (now.Sub(p.next[i])/iv + 1))
			}
			continue
		}
		out = append(out, i)
		p.last[i] = now
		p.next[i] = p.next[i].Add(iv)
		if !p.next[i].After(now) {
			p.next[i] = now.Add(iv) // late: skip the missed ticks
		}
	}
	return out
}

// woken returns the asleep cores that are busy again (the driver must
// tell them, plumtree.Core.Resume) and marks them awake.
func (p *tickPlan) woken(out []int) []int {
	out = out[:0]
	for i, a := range p.asleep {
		if a && !p.idleNow(i) {
			p.asleep[i] = false
			out = append(out, i)
		}
	}
	return out
}

// wait is how long from now until the earliest due tick (0 if one is due
// already); ok is false when no core ticks at all.
func (p *tickPlan) wait(now time.Time) (d time.Duration, ok bool) {
	for i, iv := range p.every {
		if iv <= 0 {
			continue
		}
		w := max(p.dueAt(i).Sub(now), 0)
		if !ok || w < d {
			d, ok = w, true
		}
	}
	return d, ok
}
