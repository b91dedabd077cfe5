package antientropy

import (
	"fmt"
	"testing"
)

// TestBatchStoreMergesPerMessage: a replica whose store has MergeBatch
// catches up with one batch per Dots or Objects message, on both the log
// and the Merkle paths; a refused batch changes nothing (no key, no tree
// entry, no dot), drops the session, and a later session repairs all.
func TestBatchStoreMergesPerMessage(t *testing.T) {
	for _, path := range []string{"log", "tree"} {
		t.Run(path, func(t *testing.T) {
			cfg := testConfig()
			cfg.MaxMessageBytes = 16 << 10
			cfg.MaxStateBytes = 1 << 10
			if path == "tree" {
				cfg.MaxLogAnswer = 0
			}
			var bm *batchMem
			nw := newNetStores(t, 2, cfg, 7, func(i int, m *MemStore) Store {
				if i == 1 {
					bm = &batchMem{MemStore: m}
					return bm
				}
				return m
			})
			for k := range 2000 {
				nw.write(0, fmt.Sprintf("key/%04d", k), "some value")
			}
			bm.fail = true
			nw.tolerate = true
			nw.sync(1, 0)
			if len(nw.errs) == 0 {
				t.Fatal("a refused batch did not fail the message")
			}
			one := nw.nodes[1]
			if one.store.Len() != 0 || one.core.Keys() != 0 || one.core.clock.Max(nw.nodes[0].id) != 0 || len(one.core.out) != 0 {
				t.Fatalf("after refused batches: %d keys, %d in the tree, clock %x, %d sessions",
					one.store.Len(), one.core.Keys(), one.core.clock.Encode(), len(one.core.out))
			}
			bm.fail, nw.tolerate = false, false
			nw.sync(1, 0)
			if err := nw.converged(); err != nil {
				t.Fatal(err)
			}
			msgs := nw.msgs[[2]NodeID{nw.nodes[0].id, one.id}]
			if bm.batches < 2 || bm.batches > msgs {
				t.Fatalf("%d batches for %d messages from the holder", bm.batches, msgs)
			}
		})
	}
}
