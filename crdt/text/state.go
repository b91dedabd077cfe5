package text

import "unicode/utf8"

// State returns the whole document as a delta: applying it to any replica
// merges this replica's full state into it (a state-based join). Characters
// that are deleted may be shipped as U+0000, since deleted text is never shown.
func (d *Doc) State() Delta {
	var x Delta
	d.eachRun(func(r run) {
		x.Inserts = append(x.Inserts, Insert{
			ID: d.toID(r.at(0)), Left: d.toID(r.left), Right: d.toID(r.right),
			Text: d.runText(r),
		})
	})
	x.Deletes = d.deletedRanges()
	return x
}

// eachRun calls f with the runs in document order, joining neighbours that
// continue each other whatever their deleted flags (with del false), so the
// sequence does not depend on how this replica happened to split its runs.
func (d *Doc) eachRun(f func(run)) {
	var cur run
	have := false
	for _, l := range d.order {
		for i := range l.runs {
			r := l.runs[i]
			r.del = false
			if have && canAppend(&cur, &r) {
				cur.n += r.n
				continue
			}
			if have {
				f(cur)
			}
			cur, have = r, true
		}
	}
	if have {
		f(cur)
	}
}

func (d *Doc) runText(r run) string {
	rs := d.agents[r.a].text[r.s : r.s+r.n]
	b := make([]byte, 0, len(rs))
	for _, c := range rs {
		b = utf8.AppendRune(b, c)
	}
	return string(b)
}

// deletedRanges lists the deleted characters as ranges sorted by agent name
// then seq, joined where consecutive.
func (d *Doc) deletedRanges() []Range {
	perAgent := make([][]Range, len(d.agents))
	for _, l := range d.order {
		for i := range l.runs {
			if r := &l.runs[i]; r.del {
				perAgent[r.a] = append(perAgent[r.a], Range{ID: ID{Seq: r.s}, Len: r.n})
			}
		}
	}
	var out []Range
	for _, ai := range d.agentsByName() {
		rs := perAgent[ai]
		sortRanges(rs)
		start := len(out)
		for _, r := range rs {
			r.ID.Agent = d.agents[ai].name
			if n := len(out); n > start && out[n-1].ID.Seq+out[n-1].Len == r.ID.Seq {
				out[n-1].Len += r.Len
				continue
			}
			out = append(out, r)
		}
	}
	return out
}
