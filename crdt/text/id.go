package text

import "math"

// ID names one character: the agent that typed it and the agent's sequence
// number for it (0 for the agent's first character, counting every character
// the agent ever inserted). The zero ID (Agent == "") means "none": the start
// or the end of the document when used as an origin.
type ID struct {
	Agent string
	Seq   uint32
}

// IsZero reports whether id is the "none" ID.
func (id ID) IsZero() bool { return id.Agent == "" }

// noAgent marks the absent dot (document start or end).
const noAgent = math.MaxUint32

// dot is an ID inside a Doc, with the agent interned to a small index.
type dot struct {
	a, s uint32
}

var none = dot{a: noAgent}

func (d dot) isNone() bool { return d.a == noAgent }

// agent is what a Doc keeps per agent: its name, the content of every
// character it typed (indexed by seq; 0 for characters only known deleted)
// and the arena id of the leaf holding each of its characters.
type agent struct {
	name    string
	text    []rune
	leafOf  []uint32
	waiting waitHeap
}

// next is the number of this agent's characters the Doc holds: the Doc always
// holds a prefix 0..next-1 of each agent's sequence.
func (a *agent) next() uint32 { return uint32(len(a.text)) }

// intern returns the index for an agent name, adding it if new.
func (d *Doc) intern(name string) uint32 {
	if d.last < uint32(len(d.agents)) && d.agents[d.last].name == name {
		return d.last
	}
	if i, ok := d.byName[name]; ok {
		d.last = i
		return i
	}
	i := uint32(len(d.agents))
	d.agents = append(d.agents, &agent{name: name})
	d.byName[name] = i
	return i
}

// has reports whether the Doc holds the character x.
func (d *Doc) has(x dot) bool {
	return x.a < uint32(len(d.agents)) && x.s < d.agents[x.a].next()
}

func (d *Doc) toID(x dot) ID {
	if x.isNone() {
		return ID{}
	}
	return ID{Agent: d.agents[x.a].name, Seq: x.s}
}

func (d *Doc) toDot(id ID) dot {
	if id.IsZero() {
		return none
	}
	return dot{a: d.intern(id.Agent), s: id.Seq}
}

// reserve makes room for n more characters in a's arrays, doubling their
// capacity when it runs out. (append grows large slices by 1.25x, which
// copied and allocated about five times the final size when characters
// arrive one at a time.)
func (a *agent) reserve(n int) {
	if cap(a.text)-len(a.text) < n {
		a.text = growCap(a.text, n)
	}
	if cap(a.leafOf)-len(a.leafOf) < n {
		a.leafOf = growCap(a.leafOf, n)
	}
}

func growCap[T any](s []T, n int) []T {
	out := make([]T, len(s), max(2*cap(s), len(s)+n, 256))
	copy(out, s)
	return out
}
