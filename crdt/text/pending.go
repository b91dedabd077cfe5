package text

import "container/heap"

// op is one received operation in interned form.
type op struct {
	del         bool
	a, s, n     uint32
	left, right dot
	text        string // inserts only, n code points
}

// waiter is an operation parked until its agent holds need characters.
type waiter struct {
	need uint32
	no   uint64 // arrival order, to break ties deterministically
	op   op
}

// waitHeap is a min-heap of waiters by (need, no).
type waitHeap []waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].need != h[j].need {
		return h[i].need < h[j].need
	}
	return h[i].no < h[j].no
}
func (h waitHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *waitHeap) Push(x any)   { *h = append(*h, x.(waiter)) }
func (h *waitHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}

// blocker returns the agent and character count op waits for, if any.
func (d *Doc) blocker(o *op) (uint32, uint32, bool) {
	if o.del {
		if next := d.agents[o.a].next(); next < o.s+o.n {
			return o.a, o.s + o.n, true
		}
		return 0, 0, false
	}
	if next := d.agents[o.a].next(); next < o.s {
		return o.a, o.s, true
	}
	for _, x := range [2]dot{o.left, o.right} {
		if !x.isNone() && !d.has(x) {
			return x.a, x.s + 1, true
		}
	}
	return 0, 0, false
}

// dropParked forgets every parked operation.
func (d *Doc) dropParked() {
	for i := range d.agents {
		d.agents[i].waiting = nil
	}
	d.dropped += uint64(d.parked)
	d.parked = 0
}

// run executes ops, parking those not causally ready and waking parked ones
// as the agents they wait for advance.
func (d *Doc) runOps(queue []op) {
	for len(queue) > 0 {
		o := queue[0]
		queue = queue[1:]
		if x, need, ok := d.blocker(&o); ok {
			d.seqNo++
			heap.Push(&d.agents[x].waiting, waiter{need: need, no: d.seqNo, op: o})
			d.parked++
			continue
		}
		if o.del {
			d.applyDelete(o)
			continue
		}
		d.applyInsert(o)
		ag := d.agents[o.a]
		for ag.waiting.Len() > 0 && ag.waiting[0].need <= ag.next() {
			w := heap.Pop(&ag.waiting).(waiter)
			d.parked--
			queue = append(queue, w.op)
		}
	}
}
