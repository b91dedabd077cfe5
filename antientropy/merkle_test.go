package antientropy

import (
	"fmt"
	"slices"
	"testing"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
	"pgregory.net/rapid"
)

// TestMerkleDiffExact: two replicas share a keyspace, then some keys
// change at one or both sides, and some are new. With the log unable to
// answer, the Merkle walk sends exactly the objects of the differing keys:
// B sends its version of every key that differs, A (whose clock B lacks
// dots of) pushes its version of every key that differs, nothing else.
func TestMerkleDiffExact(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := testConfig()
		cfg.MaxLogAnswer, cfg.MaxLogEntries = 0, 0 // no log: only the walk repairs
		cfg.MerkleFanout = rapid.SampledFrom([]int{2, 4, 8, 16}).Draw(rt, "fanout")
		cfg.MerkleDepth = rapid.IntRange(1, 4).Draw(rt, "depth")
		nw := newNet(t, 2, cfg, 9)
		a, b := nw.nodes[0], nw.nodes[1]
		n := rapid.IntRange(1, 300).Draw(rt, "keys")
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("key-%d", i)
			d := nw.write(0, key, "v")
			st, _ := a.store.Get(key)
			b.store.Merge(key, st)
			b.core.Applied(0, key, []Dot{d})
		}
		changedA := rapid.SliceOfDistinct(rapid.IntRange(0, n+20), rapid.ID[int]).Draw(rt, "changedA")
		changedB := rapid.SliceOfDistinct(rapid.IntRange(0, n+20), rapid.ID[int]).Draw(rt, "changedB")
		for _, i := range changedB {
			nw.write(1, fmt.Sprintf("key-%d", i), "b")
		}
		for _, i := range changedA {
			nw.write(0, fmt.Sprintf("key-%d", i), "a")
		}
		var differ []string
		for i := 0; i < n+21; i++ {
			k := fmt.Sprintf("key-%d", i)
			x, _ := a.store.Get(k)
			y, _ := b.store.Get(k)
			if string(x) != string(y) {
				differ = append(differ, k)
			}
		}
		slices.Sort(differ)
		nw.tracing = true
		nw.sync(0, 1)
		sentBy := map[NodeID][]string{}
		for _, m := range nw.trace {
			o, ok := m.m.(*pb.Envelope).Body.(*pb.Envelope_Objects)
			if !ok {
				continue
			}
			objs, err := decodeObjects(o.Objects.Objects, 1<<10, 1<<20)
			if err != nil {
				rt.Fatal(err)
			}
			for _, ob := range objs {
				sentBy[m.from] = append(sentBy[m.from], ob.key)
			}
		}
		if len(changedB) == 0 {
			return // A lacks nothing: no walk
		}
		// Every object sent is of a differing key, and every differing key
		// was sent by one side (the receiver of the Leaves pushes first, so
		// a key whose other version it just overwrote need not come back).
		union := map[string]bool{}
		for _, id := range []NodeID{a.id, b.id} {
			for _, k := range sentBy[id] {
				if _, ok := slices.BinarySearch(differ, k); !ok {
					rt.Fatalf("%s sent key %q, which does not differ", id, k)
				}
				union[k] = true
			}
		}
		if len(union) != len(differ) {
			rt.Fatalf("sent %d distinct keys, %d differ: %v", len(union), len(differ), sentBy)
		}
		if len(sentBy[b.id]) > len(differ) || len(sentBy[a.id]) > len(differ) {
			rt.Fatalf("a key was sent twice by one side: %v", sentBy)
		}
		if err := nw.converged(); err != nil && len(changedA) == 0 {
			rt.Fatal(err)
		}
		nw.sync(1, 0)
		if err := nw.converged(); err != nil {
			rt.Fatal(err)
		}
	})
}
