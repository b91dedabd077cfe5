package antientropy

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestSetMemberMatchesSetMembers: any sequence of one-member changes
// leaves the same member list, and drops the same per-peer state, as
// SetMembers with the resulting set.
func TestSetMemberMatchesSetMembers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		self := NodeID("self")
		inc, err1 := New(testConfig(), self, NewMemStore(), rand.New(rand.NewPCG(1, 2)))
		whole, err2 := New(testConfig(), self, NewMemStore(), rand.New(rand.NewPCG(1, 2)))
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		ids := []NodeID{self, ""}
		for i := range 6 {
			ids = append(ids, NodeID(fmt.Sprintf("n%d", i)))
		}
		live := map[NodeID]bool{}
		for _, step := range rapid.SliceOfN(rapid.Custom(func(t *rapid.T) [2]int {
			return [2]int{rapid.IntRange(0, len(ids)-1).Draw(t, "id"), rapid.IntRange(0, 1).Draw(t, "live")}
		}), 0, 40).Draw(t, "steps") {
			id, up := ids[step[0]], step[1] == 1
			inc.SetMember(id, up)
			live[id] = up
			var set []NodeID
			for _, k := range slices.Sorted(maps.Keys(live)) {
				if live[k] {
					set = append(set, k)
				}
			}
			whole.SetMembers(0, set)
			// Per-peer state (what ack records after a session) for every
			// member on both, so that removals have something to drop.
			for _, k := range whole.members {
				inc.peers[k], whole.peers[k] = &peerInfo{}, &peerInfo{}
			}
			if !slices.Equal(inc.members, whole.members) {
				t.Fatalf("after %q live=%v: members %v, SetMembers gives %v", id, up, inc.members, whole.members)
			}
			if !slices.Equal(slices.Sorted(maps.Keys(inc.peers)), slices.Sorted(maps.Keys(whole.peers))) {
				t.Fatalf("after %q live=%v: peers %v, SetMembers keeps %v", id, up,
					slices.Sorted(maps.Keys(inc.peers)), slices.Sorted(maps.Keys(whole.peers)))
			}
		}
	})
}
