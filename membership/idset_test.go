package membership

import (
	"maps"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// Any sequence of Add and Remove leaves the set a model map holds,
// sorted and without repeats, and Has agrees with the map.
func TestIDSetMatchesMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var s IDSet
		model := map[NodeID]bool{}
		ids := []NodeID{"a", "b", "c", "d", "e"}
		for _, op := range rapid.SliceOfN(rapid.IntRange(0, 2*len(ids)-1), 0, 50).Draw(t, "ops") {
			id := ids[op%len(ids)]
			if op < len(ids) {
				s.Add(id)
				model[id] = true
			} else {
				s.Remove(id)
				delete(model, id)
			}
			if want := slices.Sorted(maps.Keys(model)); !slices.Equal([]NodeID(s), want) {
				t.Fatalf("set %v; want %v", s, want)
			}
			for _, x := range ids {
				if s.Has(x) != model[x] {
					t.Fatalf("Has(%s) = %v; want %v", x, s.Has(x), model[x])
				}
			}
		}
	})
}
