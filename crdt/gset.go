package crdt

import "slices"

// GSet is a grow-only set of strings; join is union.
type GSet struct {
	elems map[string]struct{}
}

// NewGSet returns an empty set.
func NewGSet() *GSet { return &GSet{elems: map[string]struct{}{}} }

// Add inserts e and returns the delta {e}.
func (s *GSet) Add(e string) *GSet {
	s.elems[e] = struct{}{}
	d := NewGSet()
	d.elems[e] = struct{}{}
	return d
}

// Contains reports whether e is in the set.
func (s *GSet) Contains(e string) bool {
	_, ok := s.elems[e]
	return ok
}

// Elements returns the elements, sorted.
func (s *GSet) Elements() []string {
	out := make([]string, 0, len(s.elems))
	for e := range s.elems {
		out = append(out, e)
	}
	slices.Sort(out)
	return out
}

// Len returns the number of elements.
func (s *GSet) Len() int { return len(s.elems) }

// Join merges o into s (union).
func (s *GSet) Join(o *GSet) {
	for e := range o.elems {
		s.elems[e] = struct{}{}
	}
}

// Clone returns an independent copy.
func (s *GSet) Clone() *GSet {
	c := NewGSet()
	c.Join(s)
	return c
}

func (s *GSet) write(w *Writer) {
	es := s.Elements()
	w.Uvarint(uint64(len(es)))
	for _, e := range es {
		w.String(e)
	}
}

func readGSet(r *Reader) *GSet {
	s := NewGSet()
	n := r.Count(1)
	prev := ""
	for i := range n {
		e := r.String()
		if r.err != nil {
			return s
		}
		if i > 0 && e <= prev {
			r.Fail("set elements not strictly increasing")
			return s
		}
		prev = e
		s.elems[e] = struct{}{}
	}
	return s
}

// Encode returns the canonical encoding.
func (s *GSet) Encode() []byte {
	w := newWriter()
	s.write(w)
	return w.finish(KindGSet)
}

// DecodeGSet decodes a GSet.
func DecodeGSet(b []byte) (*GSet, error) {
	r := openReader(b, KindGSet)
	s := readGSet(r)
	if err := r.close(); err != nil {
		return nil, err
	}
	return s, nil
}
