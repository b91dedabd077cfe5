package hyparview

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// Suggest fills free passive slots with nodes in no list, and nothing
// else; Revive takes back only a node remembered as failed; the next
// Tick's repair asks a suggested node for the free active slot.
func TestSuggestFillsOnlyFreePassiveSlots(t *testing.T) {
	cfg := testConfig() // ActiveSize 3, PassiveSize 4
	h := connected(t, cfg, "a", "b")
	h.PeerDown(time.Second, "b") // b is remembered as failed
	h.Ready()
	node := func(id string) membership.Node { return membership.Node{ID: membership.NodeID(id)} }

	for _, id := range []string{"self", "a", "b", ""} {
		if h.Suggest(node(id)) {
			t.Errorf("Suggest(%q) took a node that is self, active, failed or invalid", id)
		}
	}
	if h.Revive(node("z")) || slices.Contains(ids(h.Passive()), "z") {
		t.Fatal("Revive(z) took a node that was never remembered as failed")
	}
	if !h.Revive(node("b")) {
		t.Fatal("Revive(b): a failed node heard from again was not taken back")
	}
	if slices.Contains(ids(h.Failed()), "b") {
		t.Fatal("Revive(b) left b in the failed memory")
	}
	for _, id := range []string{"c", "d", "e"} {
		if !h.Suggest(node(id)) {
			t.Fatalf("Suggest(%s) refused with room in the passive view", id)
		}
	}
	if h.Suggest(node("c")) {
		t.Error("Suggest took a node already in the passive view")
	}
	before := ids(h.Passive())
	if h.Suggest(node("f")) {
		t.Error("Suggest took a node into a full passive view")
	}
	if got := ids(h.Passive()); !slices.Equal(got, before) {
		t.Errorf("Suggest changed a full passive view: %v -> %v", before, got)
	}
	if s := h.Stats().Suggested; s != 4 {
		t.Errorf("Stats.Suggested = %d, want 4", s)
	}
	if r := h.Ready(); len(r.Sends) != 0 {
		t.Fatalf("Suggest sent %v; it must only fill the view", sent(r))
	}

	h.Tick(2 * time.Second)
	asked := 0
	for _, s := range sent(h.Ready()) {
		if to, k, _ := strings.Cut(s, ":"); k == "neighbor-low" && slices.Contains(before, to) {
			asked++
		}
	}
	if asked != 2 {
		t.Errorf("after Tick: %d NEIGHBOR requests to suggested nodes, want 2 (the free active slots)", asked)
	}
}
