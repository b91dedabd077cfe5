package crdt

import "fmt"

// checkSetIndex panics (rapid reports it with the seed) if the store of f
// breaks its representation invariants (see checkSetStore) or if the dot
// index of f is not exactly the dots of its entries.
func checkSetIndex(f *SetField) {
	checkSetStore(&f.adds)
	checkSetStore(&f.rms)
	if f.where == nil {
		return // dropped by a full-state join; rebuilt on demand
	}
	n := 0
	for _, st := range []*setStore{&f.adds, &f.rms} {
		st.each(func(e string, s dotSet) {
			for _, x := range s {
				n++
				if f.where[x.Dot] != e {
					panic(fmt.Sprintf("index: dot %v -> %q, held by %q", x.Dot, f.where[x.Dot], e))
				}
			}
		})
	}
	if n != len(f.where) {
		panic(fmt.Sprintf("index has %d dots, store %d", len(f.where), n))
	}
}

// checkSetStore panics unless: run is strictly increasing by element; dead
// counts its nil slots; recent holds no element of run; every live entry
// has a non-empty sorted dot set; and the store is within its compaction
// bound.
func checkSetStore(st *setStore) {
	dead := 0
	for i, x := range st.run {
		if i > 0 && st.run[i-1].elem >= x.elem {
			panic(fmt.Sprintf("run not strictly increasing at %d: %q, %q", i, st.run[i-1].elem, x.elem))
		}
		if x.dots == nil {
			dead++
		} else if len(x.dots) == 0 || !x.dots.sorted() {
			panic(fmt.Sprintf("bad entry %q: %v", x.elem, x.dots))
		}
	}
	if dead != st.dead {
		panic(fmt.Sprintf("%d dead slots, counted %d", dead, st.dead))
	}
	for e, s := range st.recent {
		if len(s) == 0 || !s.sorted() {
			panic(fmt.Sprintf("bad recent entry %q: %v", e, s))
		}
		if _, inRun := st.search(e); inRun {
			panic(fmt.Sprintf("%q both in run and recent", e))
		}
	}
	if len(st.recent)+st.dead > compactMin+len(st.run)/compactFrac {
		panic(fmt.Sprintf("not compacted: %d recent, %d dead, run %d", len(st.recent), st.dead, len(st.run)))
	}
}

// checkMapIndex does the same for a map and, recursively, its fields.
func checkMapIndex(f *MapField) {
	n := 0
	for k, v := range f.fields {
		if v.Empty() {
			panic(fmt.Sprintf("empty field %v kept", k))
		}
		v.Dots(func(d Dot) {
			n++
			if f.where[d] != k {
				panic(fmt.Sprintf("index: dot %v -> %v, held by %v", d, f.where[d], k))
			}
		})
		switch e := v.(type) {
		case *SetField:
			checkSetIndex(e)
		case *MapField:
			checkMapIndex(e)
		}
	}
	if n != len(f.where) {
		panic(fmt.Sprintf("index has %d dots, store %d", len(f.where), n))
	}
}
