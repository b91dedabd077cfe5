package bench

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// JoinAfterUp needs member processes; the default comparison validates.
func TestSwimConfigJoinAfterUpNeedsProcs(t *testing.T) {
	c := DefaultSwimConfig()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	c.JoinAfterUp = true
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "JoinAfterUp") {
		t.Fatalf("JoinAfterUp without Procs: %v", err)
	}
	c.Procs, c.HearsayBin = true, "/bin/true"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

// releaseAll runs members 1..n-1's joins, none before the instant it
// returns, and joins their errors.
func TestReleaseAllStartsEveryJoinAfterTheRelease(t *testing.T) {
	var mu sync.Mutex
	var starts []time.Time
	var seen []int
	release, err := releaseAll(8, func(i int) error {
		mu.Lock()
		starts, seen = append(starts, time.Now()), append(seen, i)
		mu.Unlock()
		if i == 3 {
			return errors.New("member 3 failed")
		}
		return nil
	})
	slices.Sort(seen)
	if !slices.Equal(seen, []int{1, 2, 3, 4, 5, 6, 7}) {
		t.Fatalf("joins of %v; want members 1..7 once each", seen)
	}
	for _, at := range starts {
		if at.Before(release) {
			t.Fatalf("a join started at %v, before the release at %v", at, release)
		}
	}
	if err == nil || !strings.Contains(err.Error(), "member 3 failed") {
		t.Fatalf("errors not joined: %v", err)
	}
}
