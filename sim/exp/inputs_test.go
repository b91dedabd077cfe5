package exp

import "testing"

// Degenerate inputs are refused with an error (found in review,
// 2026-12-07): a crash fraction of 1 spun forever looking for a live node
// other than the sender, Steady 0 printed NaN for every (a)/(b) figure, and
// a SWIM cluster of 0 or 1 panicked.
func TestExperimentsRefuseDegenerateInputs(t *testing.T) {
	pt := func(edit func(*PlumtreeConfig)) error {
		cfg := DefaultPlumtreeConfig(20, 1)
		cfg.Warmup, cfg.Steady, cfg.ChurnCycles, cfg.Recovery = 1, 1, 0, 0
		cfg.CrashFractions = nil
		edit(&cfg)
		_, err := Plumtree(cfg, nil)
		return err
	}
	if err := pt(func(c *PlumtreeConfig) { c.CrashFractions = []float64{1} }); err == nil {
		t.Error("plumtree: crash fraction 1 accepted")
	}
	if err := pt(func(c *PlumtreeConfig) { c.Steady = 0 }); err == nil {
		t.Error("plumtree: Steady 0 accepted")
	}
	if err := pt(func(c *PlumtreeConfig) { c.ChurnCycles, c.ChurnPerCycle = 100, 50 }); err == nil {
		t.Error("plumtree: a churn scenario crashing every node accepted")
	}
	if err := pt(func(*PlumtreeConfig) {}); err != nil {
		t.Errorf("plumtree: a sound config refused: %v", err)
	}
	for _, n := range []int{0, 1, 2} {
		cfg := DefaultSwimConfig()
		cfg.Sizes = []int{n}
		if _, err := Swim(cfg, nil); err == nil {
			t.Errorf("swim: a cluster of %d accepted", n)
		}
	}
}
