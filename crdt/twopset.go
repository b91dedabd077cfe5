package crdt

// TwoPSet is a two-phase set: a G-set of added elements and a G-set of
// removed ones (tombstones). An element is present if added and not
// removed; once removed it can never return. Unlike ORSet it keeps a
// tombstone per removed element, by design.
type TwoPSet struct {
	added, removed *GSet
}

// NewTwoPSet returns an empty set.
func NewTwoPSet() *TwoPSet { return &TwoPSet{added: NewGSet(), removed: NewGSet()} }

// Add inserts e (no effect if e was ever removed) and returns the delta.
func (s *TwoPSet) Add(e string) *TwoPSet {
	d := NewTwoPSet()
	d.added = s.added.Add(e)
	return d
}

// Remove removes e for good and returns the delta. Removing an element
// that was never added also prevents its later addition.
func (s *TwoPSet) Remove(e string) *TwoPSet {
	d := NewTwoPSet()
	d.removed = s.removed.Add(e)
	return d
}

// Contains reports whether e is present.
func (s *TwoPSet) Contains(e string) bool { return s.added.Contains(e) && !s.removed.Contains(e) }

// Elements returns the present elements, sorted.
func (s *TwoPSet) Elements() []string {
	var out []string
	for _, e := range s.added.Elements() {
		if !s.removed.Contains(e) {
			out = append(out, e)
		}
	}
	return out
}

// Join merges o into s.
func (s *TwoPSet) Join(o *TwoPSet) {
	s.added.Join(o.added)
	s.removed.Join(o.removed)
}

// Clone returns an independent copy.
func (s *TwoPSet) Clone() *TwoPSet {
	return &TwoPSet{added: s.added.Clone(), removed: s.removed.Clone()}
}

// Encode returns the canonical encoding.
func (s *TwoPSet) Encode() []byte {
	w := newWriter()
	s.added.write(w)
	s.removed.write(w)
	return w.finish(KindTwoPSet)
}

// DecodeTwoPSet decodes a TwoPSet.
func DecodeTwoPSet(b []byte) (*TwoPSet, error) {
	r := openReader(b, KindTwoPSet)
	s := &TwoPSet{added: readGSet(r), removed: readGSet(r)}
	if err := r.close(); err != nil {
		return nil, err
	}
	return s, nil
}
