package crdt

import "fmt"

// checkSetIndex panics (rapid reports it with the seed) if the dot index of
// f is not exactly the dots of its entries.
func checkSetIndex(f *SetField) {
	if f.where == nil {
		return // dropped by a full-state join; rebuilt on demand
	}
	n := 0
	for _, m := range []map[string]dotSet{f.adds, f.rms} {
		for e, s := range m {
			if len(s) == 0 || !s.sorted() {
				panic(fmt.Sprintf("bad entry %q: %v", e, s))
			}
			for _, x := range s {
				n++
				if f.where[x.Dot] != e {
					panic(fmt.Sprintf("index: dot %v -> %q, held by %q", x.Dot, f.where[x.Dot], e))
				}
			}
		}
	}
	if n != len(f.where) {
		panic(fmt.Sprintf("index has %d dots, store %d", len(f.where), n))
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
