package text

// The document is a list of leaves in document order, each holding up to
// leafCap runs and the count of its visible characters. Lookups by visible
// position walk the leaves from a cached cursor (sequential typing hits the
// same leaf), lookups by ID go through agent.leafOf and then scan one leaf.

const leafCap = 64

type leaf struct {
	id   uint32 // index in Doc.arena, stable
	idx  int    // index in Doc.order, changes when leaves are added before it
	vis  int    // visible characters in runs
	runs []run
}

// cursor is a place in the document: before character off of run ri of leaf
// l. The end of the document is (last leaf, len(runs), 0).
type cursor struct {
	l   *leaf
	ri  int
	off uint32
}

// visCache remembers a leaf and the number of visible characters before it,
// and within the leaf a run index ri and the visible characters in
// l.runs[:ri]. Code that changes l.runs calls touch first, which keeps ri
// at or before the change.
type visCache struct {
	l      *leaf
	start  int
	ri     int
	before int
}

func (d *Doc) initTree() {
	l := &leaf{runs: make([]run, 0, leafCap+2)}
	d.arena = []*leaf{l}
	d.order = []*leaf{l}
	d.cache = visCache{l: l}
}

func (d *Doc) end() cursor {
	l := d.order[len(d.order)-1]
	return cursor{l: l, ri: len(l.runs)}
}

func (d *Doc) isEnd(c cursor) bool {
	return c.ri == len(c.l.runs) && c.l.idx == len(d.order)-1
}

// norm moves a cursor sitting after the last run of a leaf to the next leaf.
func (d *Doc) norm(c cursor) cursor {
	for c.ri == len(c.l.runs) && c.l.idx < len(d.order)-1 {
		c = cursor{l: d.order[c.l.idx+1]}
	}
	return c
}

// itemAt is the character at c, or none at the end.
func (d *Doc) itemAt(c cursor) dot {
	if c.ri == len(c.l.runs) {
		return none
	}
	return c.l.runs[c.ri].at(c.off)
}

// before is the character just before c, or none at the start.
func (d *Doc) before(c cursor) dot {
	if c.off > 0 {
		return c.l.runs[c.ri].at(c.off - 1)
	}
	if c.ri > 0 {
		return c.l.runs[c.ri-1].last()
	}
	for i := c.l.idx - 1; i >= 0; i-- {
		if p := d.order[i]; len(p.runs) > 0 {
			return p.runs[len(p.runs)-1].last()
		}
	}
	return none
}

// after is the cursor just after the character at c (c not at the end).
func (d *Doc) after(c cursor) cursor {
	c.off++
	if c.off == c.l.runs[c.ri].n {
		c.ri++
		c.off = 0
	}
	return d.norm(c)
}

// locate finds the character x, which the Doc must hold. It tries the run
// last written first (sequential typing continues it), then the leaf index.
func (d *Doc) locate(x dot) cursor {
	if h := d.hint; h.l != nil && h.ri < len(h.l.runs) {
		if r := &h.l.runs[h.ri]; r.contains(x) {
			return cursor{l: h.l, ri: h.ri, off: x.s - r.s}
		}
	}
	l := d.arena[d.agents[x.a].leafOf[x.s]]
	for i := range l.runs {
		if r := &l.runs[i]; r.contains(x) {
			return cursor{l: l, ri: i, off: x.s - r.s}
		}
	}
	panic("text: index out of sync with leaves") // an invariant, not input
}

// locateNear is locate, trying first the runs at and around near (a cursor
// from before the last change, possibly stale): consecutive remote deletes,
// such as backspacing, hit the run deleted last or its neighbour.
func (d *Doc) locateNear(x dot, near cursor) cursor {
	if l := near.l; l != nil && l.id < uint32(len(d.arena)) && d.arena[l.id] == l {
		for ri := max(near.ri-1, 0); ri < min(near.ri+2, len(l.runs)); ri++ {
			if r := &l.runs[ri]; r.contains(x) {
				return cursor{l: l, ri: ri, off: x.s - r.s}
			}
		}
	}
	return d.locate(x)
}

// compare orders two normalised cursors.
func compare(a, b cursor) int {
	switch {
	case a.l.idx != b.l.idx:
		return cmpInt(a.l.idx, b.l.idx)
	case a.ri != b.ri:
		return cmpInt(a.ri, b.ri)
	default:
		return cmpInt(int(a.off), int(b.off))
	}
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// visibleAt finds the p-th visible character (0-based, p < d.vis), starting
// from the cached leaf and run: sequential editing stays near them.
func (d *Doc) visibleAt(p int) cursor {
	l, start := d.cache.l, d.cache.start
	ri, before := d.cache.ri, d.cache.before
	if p < start || p >= start+l.vis {
		for p < start {
			l = d.order[l.idx-1]
			start -= l.vis
		}
		for p >= start+l.vis {
			start += l.vis
			l = d.order[l.idx+1]
		}
		ri, before = 0, 0
	}
	rem := p - start
	rs := l.runs
	for rem < before {
		ri--
		before -= int(rs[ri].visible())
	}
	for ; ri < len(rs); ri++ {
		r := &rs[ri]
		if r.del {
			continue
		}
		if rem < before+int(r.n) {
			d.cache = visCache{l: l, start: start, ri: ri, before: before}
			return cursor{l: l, ri: ri, off: uint32(rem - before)}
		}
		before += int(r.n)
	}
	panic("text: visible counts out of sync")
}

// touch must be called before l.runs[j:] change (runs there modified,
// inserted or removed): it moves the cached run back to j if it is after.
func (d *Doc) touch(l *leaf, j int) {
	if c := &d.cache; c.l == l && c.ri > j {
		for c.ri > j {
			c.ri--
			c.before -= int(l.runs[c.ri].visible())
		}
	}
}

// addVis records a change of visible characters in leaf l.
func (d *Doc) addVis(l *leaf, delta int) {
	l.vis += delta
	d.vis += delta
	if l.idx < d.cache.l.idx {
		d.cache.start += delta
	}
}

func (d *Doc) setLeaf(l *leaf, r *run) {
	idx := d.agents[r.a].leafOf[r.s : r.s+r.n]
	for i := range idx {
		idx[i] = l.id
	}
}

func insertAt(rs []run, i int, r run) []run {
	rs = append(rs, run{})
	copy(rs[i+1:], rs[i:])
	rs[i] = r
	return rs
}

// insertRun places r (whose characters the agent arrays already hold) at c,
// and leaves d.hint on the run that holds them.
func (d *Doc) insertRun(c cursor, r run) {
	l, ri := c.l, c.ri
	d.touch(l, ri)
	if c.off > 0 {
		a, b := l.runs[ri].split(c.off)
		l.runs[ri] = a
		ri++
		l.runs = insertAt(l.runs, ri, b)
	} else if ri == 0 && l.idx > 0 {
		l = d.order[l.idx-1]
		ri = len(l.runs)
	}
	if ri > 0 {
		d.touch(l, ri-1)
	}
	if ri > 0 && canAppend(&l.runs[ri-1], &r) {
		l.runs[ri-1].n += r.n
		ri--
	} else {
		l.runs = insertAt(l.runs, ri, r)
	}
	d.setLeaf(l, &r)
	d.addVis(l, int(r.visible()))
	d.hint = cursor{l: l, ri: ri}
	if len(l.runs) > leafCap {
		if first, second, half := d.splitLeaf(l); ri >= half {
			d.hint = cursor{l: second, ri: ri - half}
		} else {
			d.hint = cursor{l: first, ri: ri}
		}
	}
}

// markDeleted deletes k characters starting at c, all within run c.ri, which
// must be visible.
func (d *Doc) markDeleted(c cursor, k uint32) {
	l, ri := c.l, c.ri
	d.addVis(l, -int(k))
	d.typing.ok = false
	d.touch(l, max(ri-1, 0))
	r := &l.runs[ri]
	switch end := c.off + k; {
	case c.off == 0 && k < r.n && ri > 0 && continuesDeleted(&l.runs[ri-1], r):
		// The head joins the deleted run before it.
		l.runs[ri-1].n += k
		r.s += k
		r.n -= k
		r.left = dot{a: r.a, s: r.s - 1}
		return
	case c.off > 0 && end == r.n && ri+1 < len(l.runs) && continuesDeleted(r, &l.runs[ri+1]):
		// The tail joins the deleted run after it.
		nx := &l.runs[ri+1]
		r.n -= k
		nx.s -= k
		nx.n += k
		nx.left = dot{a: r.a, s: nx.s - 1}
		return
	}
	if c.off > 0 {
		a, b := l.runs[ri].split(c.off)
		l.runs[ri] = a
		ri++
		l.runs = insertAt(l.runs, ri, b)
	}
	if k < l.runs[ri].n {
		a, b := l.runs[ri].split(k)
		l.runs[ri] = a
		l.runs = insertAt(l.runs, ri+1, b)
	}
	l.runs[ri].del = true
	// Rejoin deleted neighbours split from the same run.
	if ri+1 < len(l.runs) && canAppend(&l.runs[ri], &l.runs[ri+1]) {
		l.runs[ri].n += l.runs[ri+1].n
		l.runs = append(l.runs[:ri+1], l.runs[ri+2:]...)
	}
	if ri > 0 && canAppend(&l.runs[ri-1], &l.runs[ri]) {
		l.runs[ri-1].n += l.runs[ri].n
		l.runs = append(l.runs[:ri], l.runs[ri+1:]...)
	}
	if len(l.runs) > leafCap {
		d.splitLeaf(l)
	}
}

// continuesDeleted reports whether a and b would be one run if the visible
// one of them were deleted: they were split from the same run of typing and
// exactly one of them is deleted.
func continuesDeleted(a, b *run) bool {
	return a.del != b.del && a.a == b.a && a.s+a.n == b.s && b.left == a.last() && a.right == b.right
}

// splitLeaf splits l's runs in two halves (the first half runs in
// l.runs[:half] before the split): the half with fewer characters moves to
// a new leaf, placed before or after l, and it returns the leaves that now
// hold the first and the second half. Moving the smaller half keeps the
// leafOf rewrites to O(min(left, right)) characters per split: moving the
// second half always rewrote the still-unedited remainder of a long run
// at every split, so edits going front to back through a 1 Mi-character
// paste were quadratic (50,000 deletes took 1.2 s).
func (d *Doc) splitLeaf(l *leaf) (first, second *leaf, half int) {
	half = len(l.runs) / 2
	chars := func(rs []run) (n int) {
		for i := range rs {
			n += int(rs[i].n)
		}
		return n
	}
	moveFirst := chars(l.runs[:half]) < chars(l.runs[half:])
	reset := d.cache.l == l // l's runs and position change
	nl := &leaf{id: uint32(len(d.arena)), runs: make([]run, 0, leafCap+2)}
	d.arena = append(d.arena, nl)
	at := l.idx + 1
	if moveFirst {
		nl.runs = append(nl.runs, l.runs[:half]...)
		l.runs = append(l.runs[:0], l.runs[half:]...)
		at = l.idx
		first, second = nl, l
	} else {
		nl.runs = append(nl.runs, l.runs[half:]...)
		l.runs = l.runs[:half]
		first, second = l, nl
	}
	for i := range nl.runs {
		r := &nl.runs[i]
		nl.vis += int(r.visible())
		d.setLeaf(nl, r)
	}
	l.vis -= nl.vis
	d.order = append(d.order, nil)
	copy(d.order[at+1:], d.order[at:])
	d.order[at] = nl
	for i := at; i < len(d.order); i++ {
		d.order[i].idx = i
	}
	if reset {
		d.cache = visCache{l: d.order[0]}
	}
	return first, second, half
}
