package store

import (
	"fmt"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/hearsay-mesh/hearsay/crdt"
	"pgregory.net/rapid"
)

// TestConvergenceRandomDelivery runs random operations of every type on
// three replicas and delivers their deltas in random order with duplicates
// (and sometimes full states instead); once everything is delivered, every
// replica reads the same value for every key and holds byte-equal states.
func TestConvergenceRandomDelivery(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		nodes := []crdt.NodeID{"a", "b", "c"}
		reps := make([]*Store, len(nodes))
		for i, n := range nodes {
			s, err := Open(OpenMemory(), n, DefaultOptions())
			if err != nil {
				rt.Fatal(err)
			}
			reps[i] = s
		}
		keys := []string{"k0", "k1", "k2"}
		var deltas [][]byte
		deliver := func(to int, d []byte) {
			if _, err := reps[to].ApplyDelta(d, 1000); err != nil {
				rt.Fatalf("apply to %s: %v", nodes[to], err)
			}
		}
		steps := rapid.IntRange(1, 40).Draw(rt, "steps")
		for step := range steps {
			i := rapid.IntRange(0, len(reps)-1).Draw(rt, "node")
			s := reps[i]
			if len(deltas) > 0 && rapid.Bool().Draw(rt, "deliver") {
				d := deltas[rapid.IntRange(0, len(deltas)-1).Draw(rt, "delta")]
				deliver(i, d)
				continue
			}
			key := rapid.SampledFrom(keys).Draw(rt, "key")
			d, err := randomOp(rt, s, key, int64(step))
			if err != nil {
				continue // wrong type, missing key: nothing to ship
			}
			deltas = append(deltas, d)
		}
		// Deliver everything everywhere, in a random order, some twice;
		// sometimes by full state exchange instead.
		for i := range reps {
			order := rapid.Permutation(deltas).Draw(rt, "order")
			for _, d := range order {
				deliver(i, d)
				if rapid.IntRange(0, 9).Draw(rt, "dup") == 0 {
					deliver(i, d)
				}
			}
			if rapid.Bool().Draw(rt, "antientropy") {
				j := (i + 1) % len(reps)
				reps[i].Range(func(k string, _ [16]byte) bool {
					st, _ := reps[i].State(k)
					if _, err := reps[j].MergeState(k, st); err != nil {
						rt.Fatalf("merge state: %v", err)
					}
					return true
				})
			}
		}
		for _, k := range keys {
			v0, ok0 := reps[0].Get(k)
			for i, r := range reps[1:] {
				v, ok := r.Get(k)
				if ok != ok0 || !v.Equal(v0) {
					rt.Fatalf("key %s: %s has %+v (%v), %s has %+v (%v)", k, nodes[0], v0, ok0, nodes[i+1], v, ok)
				}
				if r.Digest(k) != reps[0].Digest(k) {
					rt.Fatalf("key %s: digests differ", k)
				}
			}
		}
		for i, r := range reps {
			checkFeedMissesNothing(rt, nodes[i], r, keys)
		}
		k0, _ := reps[0].Keys("", "", 0)
		for _, r := range reps[1:] {
			if k, _ := r.Keys("", "", 0); !slices.Equal(k, k0) {
				rt.Fatalf("keys differ: %v vs %v", k0, k)
			}
		}
	})
}

// randomOp runs one random mutator on key.
func randomOp(rt *rapid.T, s *Store, key string, now int64) ([]byte, error) {
	elem := rapid.SampledFrom([]string{"x", "y", "z"}).Draw(rt, "elem")
	var d []byte
	var err error
	switch op := rapid.IntRange(0, 8).Draw(rt, "op"); op {
	case 0:
		d, _, err = s.Put(key, fmt.Sprint("v", now), now)
	case 1:
		d, _, err = s.PutMV(key, fmt.Sprint("m", now))
	case 2:
		d, _, err = s.Inc(key, rapid.Int64Range(-5, 5).Draw(rt, "by"))
	case 3:
		d, _, err = s.Add(key, elem)
	case 4:
		d, _, err = s.Remove(key, elem)
	case 5:
		d, _, err = s.Del(key)
	case 6, 7:
		n := 0
		if v, ok := s.Get(key); ok && v.Type == TypeText {
			n = utf8.RuneCountInString(v.Str)
		}
		pos := rapid.IntRange(0, n).Draw(rt, "pos")
		if op == 6 || n == pos {
			d, _, err = s.TextInsert(key, pos, rapid.SampledFrom([]string{"a", "bc", "é"}).Draw(rt, "text"))
		} else {
			d, _, err = s.TextDelete(key, pos, rapid.IntRange(1, n-pos).Draw(rt, "n"))
		}
	case 8:
		d, _, err = s.Dec(key, 1)
	}
	return d, err
}

// checkFeedMissesNothing: the feed is numbered 1..Seq without gaps, and for
// every key the last change in the feed shows the key's current value, so a
// client that applies the feed in order ends with what Get returns.
func checkFeedMissesNothing(rt *rapid.T, node crdt.NodeID, s *Store, keys []string) {
	feed, err := s.Changes(0, 1<<20)
	if err != nil {
		rt.Fatalf("%s: changes: %v", node, err)
	}
	last := map[string]*Value{}
	seen := map[string]bool{}
	for i, c := range feed {
		if c.Seq != uint64(i+1) {
			rt.Fatalf("%s: change %d has seq %d", node, i, c.Seq)
		}
		last[c.Key], seen[c.Key] = c.Value, true
	}
	if uint64(len(feed)) != s.Seq() {
		rt.Fatalf("%s: %d changes, seq %d", node, len(feed), s.Seq())
	}
	for _, k := range keys {
		v, ok := s.Get(k)
		fv := last[k]
		switch {
		case ok && (fv == nil || !fv.Equal(v)):
			rt.Fatalf("%s: key %s is %+v, feed ends with %+v", node, k, v, fv)
		case !ok && fv != nil:
			rt.Fatalf("%s: key %s absent, feed ends with %+v", node, k, fv)
		case ok && !seen[k]:
			rt.Fatalf("%s: key %s never in the feed", node, k)
		}
	}
}
