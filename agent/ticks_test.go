package agent

import (
	"slices"
	"testing"
	"time"
)

func TestTickPlanGroupsAndSkipsMissedTicks(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(1000, 0)
	p := newTickPlan(t0, []time.Duration{50 * ms, 50 * ms, 100 * ms, time.Second, 0}, nil, nil, nil)
	if d, ok := p.wait(t0); !ok || d != 50*ms {
		t.Fatalf("first wait %v %v, want 50ms", d, ok)
	}
	var buf []int
	wakeups := 0
	ticks := make([]int, 5)
	now := t0
	for now.Before(t0.Add(time.Second)) || now.Equal(t0.Add(time.Second)) {
		d, ok := p.wait(now)
		if !ok {
			t.Fatal("no core ticks")
		}
		now = now.Add(d)
		if now.After(t0.Add(time.Second)) {
			break
		}
		due := p.due(now, buf)
		if len(due) == 0 {
			t.Fatalf("woke at %v with nothing due", now.Sub(t0))
		}
		wakeups++
		for _, i := range due {
			ticks[i]++
		}
	}
	if want := []int{20, 20, 10, 1, 0}; !slices.Equal(ticks, want) {
		t.Fatalf("ticks per core in 1s %v, want %v", ticks, want)
	}
	if wakeups != 20 {
		t.Fatalf("%d wake-ups in 1s, want 20 (cores with equal or multiple intervals share them)", wakeups)
	}
	// The loop was busy for 330 ms: each late core ticks once, then keeps
	// its cadence from the late tick.
	late := now.Add(330 * ms)
	if due := p.due(late, buf); !slices.Equal(due, []int{0, 1, 2}) {
		t.Fatalf("after a 330ms stall due %v, want [0 1 2]", due)
	}
	if due := p.due(late, buf); len(due) != 0 {
		t.Fatalf("missed ticks queued: %v", due)
	}
	if d, _ := p.wait(late); d != 50*ms {
		t.Fatalf("wait after the late tick %v, want 50ms", d)
	}
}

func TestTickPlanNoCores(t *testing.T) {
	p := newTickPlan(time.Unix(0, 0), []time.Duration{0, -1}, nil, nil, nil)
	if _, ok := p.wait(time.Unix(5, 0)); ok {
		t.Fatal("a plan with no ticking core reports a wait")
	}
}

// An idle sleeper is ticked only every idle interval; busy again, it is
// reported woken once and ticks on its cadence, not at once.
func TestTickPlanIdleCoreSleeps(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(1000, 0)
	isBusy := false
	p := newTickPlan(t0, []time.Duration{100 * ms, 50 * ms}, []time.Duration{0, time.Second},
		[]func() bool{nil, func() bool { return isBusy }}, nil)
	var buf []int
	ticks := []int{0, 0}
	wakeups := 0
	now := t0
	run := func(until time.Time) {
		for {
			d, _ := p.wait(now)
			if now.Add(d).After(until) {
				now = until
				return
			}
			now = now.Add(d)
			wakeups++
			for _, i := range p.due(now, buf) {
				ticks[i]++
			}
		}
	}
	run(t0.Add(2 * time.Second))
	if ticks[0] != 20 || ticks[1] != 2 || wakeups != 20 {
		t.Fatalf("idle 2s: ticks %v, wake-ups %d; want [20 2] and 20", ticks, wakeups)
	}
	now = now.Add(10 * ms) // 2.01 s: a message makes core 1 busy
	isBusy = true
	if w := p.woken(buf); !slices.Equal(w, []int{1}) {
		t.Fatalf("woken %v, want [1]", w)
	}
	if w := p.woken(buf); len(w) != 0 {
		t.Fatalf("woken twice: %v", w)
	}
	if d, _ := p.wait(now); d != 40*ms {
		t.Fatalf("busy core waits %v, want 40ms (its 50ms cadence, not at once)", d)
	}
	ticks = []int{0, 0}
	run(now.Add(time.Second))
	if ticks[1] < 19 {
		t.Fatalf("busy for 1s: core 1 ticked %d times, want about 20", ticks[1])
	}
}

// A deadline-driven core ticks at its deadlines: not every interval while
// its deadline is far, at once when it is due, never sooner than a tenth
// of its interval after its last tick, never later than maxDeadlineWait.
func TestTickPlanDeadlineDriven(t *testing.T) {
	ms := time.Millisecond
	t0 := time.Unix(1000, 0)
	next, have := t0.Add(300*ms), true
	p := newTickPlan(t0, []time.Duration{100 * ms, 100 * ms}, nil, nil,
		[]func() (time.Time, bool){func() (time.Time, bool) { return next, have }, nil})
	var buf []int
	// At 100 ms the fixed core ticks, the deadline core does not.
	if d, _ := p.wait(t0); d != 100*ms {
		t.Fatalf("first wait %v; want 100ms (the fixed core)", d)
	}
	if got := p.due(t0.Add(100*ms), buf); len(got) != 1 || got[0] != 1 {
		t.Fatalf("due at 100ms = %v; want [1]", got)
	}
	if got := p.due(t0.Add(300*ms), buf); len(got) != 2 || got[0] != 0 {
		t.Fatalf("due at 300ms = %v; want [0 1]", got)
	}
	// A deadline that did not move: the core waits 10 ms (interval/10).
	now := t0.Add(300 * ms)
	if d, _ := p.wait(now); d != 10*ms {
		t.Fatalf("wait with a stale deadline %v; want 10ms", d)
	}
	// No deadline at all: wait maxDeadlineWait after the last tick (the
	// fixed core still ticks every 100 ms).
	have = false
	if got := p.dueAt(0); !got.Equal(now.Add(maxDeadlineWait)) {
		t.Fatalf("dueAt with no deadline = %v; want last tick + %v", got.Sub(t0), maxDeadlineWait)
	}
	// A deadline moved earlier by a step is honoured at once.
	have, next = true, now.Add(50*ms)
	if d, _ := p.wait(now.Add(20 * ms)); d != 30*ms {
		t.Fatalf("wait for a deadline 50 ms after the last tick, asked 20 ms after it: %v; want 30ms", d)
	}
}
