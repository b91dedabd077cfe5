package agent

import "time"

// tickPlan schedules every core's Tick from the loop goroutine itself, on
// one timer armed for the earliest due core, instead of a ticker goroutine
// per core posting to a channel. Cores with equal intervals tick on the same
// wake-up: with the defaults (SWIM and plumtree every 50 ms, anti-entropy
// every 100 ms, HyParView every second) an idle agent wakes 20 times a
// second instead of 51, and each wake-up is one timer firing in the loop
// rather than a goroutine hand-off per core (measured: ticks were most of
// an idle agent's CPU, see docs/swim-bench.md).
//
// A core whose tick comes late (the loop was busy) ticks once; the missed
// ticks are skipped, not queued, and its cadence restarts from then.
type tickPlan struct {
	every []time.Duration // per core; <= 0 never ticks
	next  []time.Time
}

func newTickPlan(start time.Time, every []time.Duration) *tickPlan {
	p := &tickPlan{every: every, next: make([]time.Time, len(every))}
	for i, iv := range every {
		if iv > 0 {
			p.next[i] = start.Add(iv)
		}
	}
	return p
}

// due returns the cores whose tick is due at now, in core order, and
// schedules their next tick.
func (p *tickPlan) due(now time.Time, out []int) []int {
	out = out[:0]
	for i, iv := range p.every {
		if iv <= 0 || now.Before(p.next[i]) {
			continue
		}
		out = append(out, i)
		p.next[i] = p.next[i].Add(iv)
		if !p.next[i].After(now) {
			p.next[i] = now.Add(iv) // late: skip the missed ticks
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
		w := max(p.next[i].Sub(now), 0)
		if !ok || w < d {
			d, ok = w, true
		}
	}
	return d, ok
}
