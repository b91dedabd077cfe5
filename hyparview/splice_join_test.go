package hyparview

import (
	"testing"

	"github.com/hearsay-mesh/hearsay/membership"
)

// spliced checks a full node's answer to a joiner j with SpliceJoins: one
// neighbour z got DISCONNECT and then a FORWARDJOIN for j with TTL 0 (it
// links to j itself), j is active and confirmed, nobody was evicted, and
// the view is still full. It returns z.
func spliced(t *testing.T, h *HyParView, cfg Config, got []string) string {
	t.Helper()
	z := ""
	for i, s := range got {
		if len(s) > 11 && s[len(s)-11:] == ":disconnect" {
			z = s[:len(s)-11]
			if i+1 >= len(got) || got[i+1] != z+":forwardjoin" {
				t.Fatalf("sends %v: DISCONNECT to %s not followed by its FORWARDJOIN", got, z)
			}
		}
	}
	if z == "" || z == "j" {
		t.Fatalf("sends %v: no neighbour handed over", got)
	}
	if h.IsActive(membership.NodeID(z)) || !h.IsActive("j") || !has(got, "j:neighbor-high") || h.ActiveLen() != cfg.ActiveSize {
		t.Fatalf("active %v sends %v", ids(h.Active()), got)
	}
	if st := h.Stats(); st.Evictions != 0 || st.Splices != 1 {
		t.Fatalf("evictions %d splices %d", st.Evictions, st.Splices)
	}
	if !has(ids(h.Passive()), z) {
		t.Fatalf("handed-over %s not in the passive view %v", z, ids(h.Passive()))
	}
	return z
}

// With SpliceJoins a full contact splices the joiner in (no eviction, the
// joiner gets two links: the contact and the neighbour handed over) and
// starts ActiveSize/2 walks rather than one per neighbour.
func TestSpliceJoinAtFullContact(t *testing.T) {
	cfg := testConfig()
	cfg.SpliceJoins = true
	h := connected(t, cfg, "a", "b", "c")
	got := sent(step(t, h, "j", joinMsg(nodeRec("j"))))
	spliced(t, h, cfg, got)
	walks := 0
	for _, s := range got {
		if len(s) > 12 && s[len(s)-12:] == ":forwardjoin" {
			walks++
		}
	}
	// The handed-over neighbour's FORWARDJOIN (TTL 0) is one of them.
	if walks != cfg.ActiveSize/2+1 {
		t.Fatalf("sends %v: %d FORWARDJOINs, want %d walks + 1 hand-over", got, walks, cfg.ActiveSize/2)
	}
}

// Where a walk ends at a full node, the joiner is spliced in too.
func TestSpliceJoinAtWalkEnd(t *testing.T) {
	cfg := testConfig()
	cfg.SpliceJoins = true
	h := connected(t, cfg, "a", "b", "c")
	got := sent(step(t, h, "a", forwardJoinMsg(nodeRec("j"), 0)))
	spliced(t, h, cfg, got)
}

// A node with room takes the joiner without handing anyone over.
func TestSpliceJoinWithRoomAddsOnly(t *testing.T) {
	cfg := testConfig()
	cfg.SpliceJoins = true
	h := connected(t, cfg, "a", "b")
	got := sent(step(t, h, "a", forwardJoinMsg(nodeRec("j"), 0)))
	if !h.IsActive("j") || h.ActiveLen() != 3 || has(got, "a:disconnect") || has(got, "b:disconnect") || h.Stats().Splices != 0 {
		t.Fatalf("active %v sends %v", ids(h.Active()), got)
	}
}
