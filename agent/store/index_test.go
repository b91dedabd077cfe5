package store

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naivePage is the sorted-slice paging the index must match.
func naivePage(keys []string, prefix, after string, limit int) ([]string, string) {
	start := max(prefix, after)
	i, found := slices.BinarySearch(keys, start)
	if found && start == after {
		i++
	}
	var out []string
	for ; i < len(keys) && strings.HasPrefix(keys[i], prefix); i++ {
		if limit > 0 && len(out) == limit {
			return out, out[len(out)-1]
		}
		out = append(out, keys[i])
	}
	return out, ""
}

// TestIndexMatchesSortedSlice drives the chunked index and a sorted slice
// with the same random inserts and deletes (enough to split and merge
// chunks many times) and compares lengths, contents and pages.
func TestIndexMatchesSortedSlice(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var ix index
	var model []string
	key := func() string { return fmt.Sprintf("k/%d/%05d", rng.IntN(4), rng.IntN(5000)) }
	for step := 0; step < 60000; step++ {
		k := key()
		// Mostly inserts in the first half, mostly deletes in the second.
		present := rng.IntN(100) < 80
		if step >= 30000 {
			present = rng.IntN(100) < 20
		}
		ix.set(k, present)
		i, found := slices.BinarySearch(model, k)
		switch {
		case present && !found:
			model = slices.Insert(model, i, k)
		case !present && found:
			model = slices.Delete(model, i, i+1)
		}
		if ix.Len() != len(model) {
			t.Fatalf("step %d: Len %d, want %d", step, ix.Len(), len(model))
		}
		if step%997 == 0 {
			all, next := ix.page("", "", 0)
			if !slices.Equal(all, model) || next != "" {
				t.Fatalf("step %d: index holds %d keys, model %d", step, len(all), len(model))
			}
			for _, ch := range ix.chunks {
				if len(ch) == 0 || len(ch) >= 2*indexChunk {
					t.Fatalf("step %d: chunk of %d keys", step, len(ch))
				}
			}
			for q := 0; q < 20; q++ {
				prefix := []string{"", "k/", "k/1/", "k/2/0", "k/3/49", "z"}[rng.IntN(6)]
				after := []string{"", key(), prefix, "k/0/"}[rng.IntN(4)]
				limit := []int{0, 1, 7, 300, 1000}[rng.IntN(5)]
				got, gn := ix.page(prefix, after, limit)
				want, wn := naivePage(model, prefix, after, limit)
				if !slices.Equal(got, want) || gn != wn {
					t.Fatalf("step %d: page(%q, %q, %d) = %d keys next %q, want %d keys next %q",
						step, prefix, after, limit, len(got), gn, len(want), wn)
				}
			}
		}
	}
	for _, k := range slices.Clone(model) {
		ix.set(k, false)
	}
	if ix.Len() != 0 || len(ix.chunks) != 0 {
		t.Fatalf("after deleting everything: Len %d, %d chunks", ix.Len(), len(ix.chunks))
	}
}

// BenchmarkIndexRandomInsert inserts keys in random order, as anti-entropy
// delivers them (hash order).
func BenchmarkIndexRandomInsert(b *testing.B) {
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = fmt.Sprintf("key/%07d", i)
	}
	rand.New(rand.NewPCG(3, 4)).Shuffle(len(keys), func(i, j int) { keys[i], keys[j] = keys[j], keys[i] })
	for b.Loop() {
		var ix index
		for _, k := range keys {
			ix.set(k, true)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(keys)), "ns/key")
}
