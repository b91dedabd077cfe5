package trace

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/crdt/text"
)

const traces = "/work/shared/data/editing-traces"

func load(t *testing.T, name string) *Trace {
	t.Helper()
	path := filepath.Join(traces, name)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("trace not available: %v", err)
	}
	tr, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// TestAutomergePaper: replaying all 259,778 edits ends exactly at
// endContent, locally and on a peer applying the deltas.
func TestAutomergePaper(t *testing.T) {
	t0 := time.Now()
	tr := load(t, "automerge-paper.json.gz")
	t.Logf("load %v", time.Since(t0))
	d, deltas, err := ReplaySequential(tr, true)
	if err != nil {
		t.Fatal(err)
	}
	if d.Text() != tr.EndContent {
		t.Fatalf("local replay: %d chars, want %d (endContent)", d.Len(), len([]rune(tr.EndContent)))
	}
	r, err := ApplyRemote(deltas)
	if err != nil {
		t.Fatal(err)
	}
	if r.Text() != tr.EndContent {
		t.Fatal("remote replay does not end at endContent")
	}
}

// TestAutomergePaperReusing: the deltas ReplayReusing produces into one
// reused Delta, encoded as they are shipped, rebuild endContent on a peer.
func TestAutomergePaperReusing(t *testing.T) {
	tr := load(t, "automerge-paper.json.gz")
	var wire [][]byte
	d, err := ReplayReusing(tr, func(x text.Delta) { wire = append(wire, text.EncodeDelta(x)) })
	if err != nil {
		t.Fatal(err)
	}
	if d.Text() != tr.EndContent {
		t.Fatal("local replay does not end at endContent")
	}
	r, err := text.New("remote")
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range wire {
		x, err := text.DecodeDelta(b)
		if err != nil {
			t.Fatalf("delta %d: %v", i, err)
		}
		if err := r.Apply(x); err != nil {
			t.Fatalf("delta %d: %v", i, err)
		}
	}
	if r.Text() != tr.EndContent || !bytes.Equal(r.Encode(), d.Encode()) {
		t.Fatal("peer applying the shipped deltas differs")
	}
}

// TestFriendsForever: two replicas receive each other's transactions in
// random causal orders, with duplicates; they must converge.
func TestFriendsForever(t *testing.T) {
	tr := load(t, "friendsforever.json.gz")
	seeds := []uint64{1, 2, 3}
	if testing.Short() {
		seeds = seeds[:1]
	}
	var first string
	for _, seed := range seeds {
		c, err := ReplayConcurrent(tr, rand.New(rand.NewPCG(seed, seed)))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		a, b := c.Replicas[0], c.Replicas[1]
		if a.Text() != b.Text() {
			t.Fatalf("seed %d: replicas diverged (%d vs %d chars)", seed, a.Len(), b.Len())
		}
		if !bytes.Equal(a.Encode(), b.Encode()) {
			t.Fatalf("seed %d: encodings differ", seed)
		}
		if a.Parked() != 0 || b.Parked() != 0 {
			t.Fatalf("seed %d: parked ops remain", seed)
		}
		if first == "" {
			first = a.Text()
		} else if a.Text() != first {
			t.Fatalf("seed %d: text differs from seed %d's", seed, seeds[0])
		}
		t.Logf("seed %d: %d chars, matches endContent: %v", seed, a.Len(), a.Text() == tr.EndContent)
	}
}
