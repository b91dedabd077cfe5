package antientropy

import (
	"fmt"
	"testing"
	"time"

	"pgregory.net/rapid"
)

// TestRandomReplicasConverge: random writes at 3-5 replicas, some spread
// by a lossy "broadcast", random sessions over a lossy network; once the
// loss stops and a few sessions run, every replica holds the same store,
// tree and clock. Small logs force the Merkle path and eviction.
func TestRandomReplicasConverge(t *testing.T) {
	rapid.Check(t, func(rt *rapid.T) {
		cfg := testConfig()
		cfg.MaxLogEntries = rapid.SampledFrom([]int{0, 3, 1000}).Draw(rt, "maxLog")
		cfg.MaxLogAnswer = rapid.SampledFrom([]int{0, 5, 1000}).Draw(rt, "maxAnswer")
		cfg.MerkleFanout = rapid.SampledFrom([]int{2, 4, 16}).Draw(rt, "fanout")
		cfg.MerkleDepth = rapid.IntRange(1, 3).Draw(rt, "depth")
		n := rapid.IntRange(3, 5).Draw(rt, "replicas")
		// Some replicas merge a message's objects as one batch.
		batch := rapid.SliceOfN(rapid.Bool(), n, n).Draw(rt, "batch")
		nw := newNetStores(t, n, cfg, rapid.Uint64().Draw(rt, "seed"), func(i int, m *MemStore) Store {
			if batch[i] {
				return &batchMem{MemStore: m}
			}
			return m
		})
		nw.loss = rapid.SampledFrom([]float64{0, 0.1, 0.3}).Draw(rt, "loss")
		steps := rapid.IntRange(1, 60).Draw(rt, "steps")
		for s := 0; s < steps; s++ {
			i := rapid.IntRange(0, n-1).Draw(rt, "node")
			switch rapid.IntRange(0, 3).Draw(rt, "op") {
			case 0, 1:
				key := fmt.Sprintf("k%d", rapid.IntRange(0, 12).Draw(rt, "key"))
				d := nw.write(i, key, fmt.Sprint(s))
				st, _ := nw.nodes[i].store.Get(key)
				for j := range nw.nodes {
					if j != i && nw.rng.Float64() < 0.5 { // partial broadcast
						if _, err := nw.nodes[j].store.Merge(key, st); err != nil {
							rt.Fatal(err)
						}
						if err := nw.nodes[j].core.Applied(nw.now, key, []Dot{d}); err != nil {
							rt.Fatal(err)
						}
					}
				}
			case 2:
				j := rapid.IntRange(0, n-1).Draw(rt, "peer")
				if j != i {
					nw.sync(i, j)
				}
			case 3:
				nw.tick(time.Duration(rapid.IntRange(1, 30).Draw(rt, "ticks")) * cfg.TickInterval)
			}
		}
		nw.loss = 0
		nw.tick(cfg.SessionTimeout + cfg.TickInterval)
		for round := 0; round < 2; round++ {
			for i := range nw.nodes {
				for j := range nw.nodes {
					if i != j {
						nw.sync(i, j)
					}
				}
			}
		}
		if err := nw.converged(); err != nil {
			rt.Fatal(err)
		}
	})
}
