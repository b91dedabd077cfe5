package hyparview

import "testing"

// A second partition within FailedTTL of the first heal heals too: every
// node had spent its one heal draw on the first heal (healDrawn), the
// second heal's answered probes only refilled passive views, and once the
// failed memories were emptied by those answers nothing asked across again
// (found in review, 2026-12-07; 21 of 30 seeds stayed split at 40 nodes).
func TestSecondPartitionHeals(t *testing.T) {
	seed := testSeed(t)
	cfg := SimConfig()
	n := 40
	s := buildOverlay(t, seed, n, cfg)
	s.RunFor(10 * cfg.ShuffleInterval)
	for round := 1; round <= 2; round++ {
		perm := s.Rand().Perm(n)
		s.Partition(perm[:n/2], perm[n/2:])
		s.RunFor(5 * cfg.ShuffleInterval)
		s.Heal()
		healed := s.Now()
		merged := false
		for !merged && s.Now()-healed < 150*cfg.ShuffleInterval {
			s.RunFor(cfg.ShuffleInterval / 10)
			c, _, _ := overlayStats(s, cfg.ActiveSize)
			merged = c == 1
		}
		c, full, _ := overlayStats(s, cfg.ActiveSize)
		t.Logf("seed %d: partition %d: merged %v after %v (components %d, full %.2f)", seed, round, merged, s.Now()-healed, c, full)
		if !merged {
			hl, failed, drawn := uint64(0), 0, 0
			for i := 0; i < n; i++ {
				h := core(s, i)
				hl += h.Stats().HealLinks
				failed += len(h.failed)
				if h.healDrawn {
					drawn++
				}
			}
			t.Logf("full views %.2f, heal links ever %d, failed-memory entries left %d, nodes that already drew %d/%d", full, hl, failed, drawn, n)
			t.Fatalf("seed %d: partition %d (healed at %v) still split %v later: %d components (FailedTTL %v)", seed, round, healed, s.Now()-healed, c, cfg.FailedTTL)
		}
		s.RunFor(5 * cfg.ShuffleInterval)
	}
}
