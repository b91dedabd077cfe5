package bench

import "testing"

func TestConnectedCountsReachableNodesOverEitherEnd(t *testing.T) {
	links := map[string][]string{
		"a": {"b"},
		"c": {"b"}, // b lists nobody: the link is known at c's end only
		"d": {"e"},
	}
	if got := connected(links, "a"); got != 3 {
		t.Fatalf("reachable from a: %d, want 3 (a, b, c)", got)
	}
	if got := connected(links, "e"); got != 2 {
		t.Fatalf("reachable from e: %d, want 2 (d, e)", got)
	}
}
