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

// MemberGOMAXPROCS goes into both implementations' member environments,
// needs member processes, and cannot be negative.
func TestSwimConfigMemberGOMAXPROCS(t *testing.T) {
	c := DefaultSwimConfig()
	c.Procs, c.HearsayBin = true, "hearsay"
	if env := c.memberEnv(); env != nil {
		t.Fatalf("default member environment %q; want none", env)
	}
	c.MemberGOMAXPROCS = 2
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if env := c.memberEnv(); len(env) != 1 || env[0] != "GOMAXPROCS=2" {
		t.Fatalf("member environment %q; want GOMAXPROCS=2", env)
	}
	c.MemberGOMAXPROCS = -1
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "MemberGOMAXPROCS") {
		t.Fatalf("MemberGOMAXPROCS -1: %v", err)
	}
	c.MemberGOMAXPROCS, c.Procs = 1, false
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "needs Procs") {
		t.Fatalf("MemberGOMAXPROCS without Procs: %v", err)
	}
}
