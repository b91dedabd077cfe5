package trace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hearsay-mesh/hearsay/crdt/text"
)

func TestBenchTraceReport(t *testing.T) {
	if testing.Short() {
		t.Skip("replays automerge-paper several times")
	}
	path := filepath.Join(traces, "automerge-paper.json.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	var out strings.Builder
	res, err := BenchTrace(path, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !res.MatchesEnd || res.Encoded == 0 || !strings.Contains(out.String(), "remote apply") {
		t.Fatalf("unexpected result %+v", res)
	}
}

func BenchmarkAutomergePaperLocal(b *testing.B) {
	tr := loadB(b, "automerge-paper.json.gz")
	b.ResetTimer()
	for range b.N {
		if _, _, err := ReplaySequential(tr, false); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAutomergePaperLocalReusing produces every transaction's delta
// into one reused Delta (AppendInsert, AppendDelete).
func BenchmarkAutomergePaperLocalReusing(b *testing.B) {
	tr := loadB(b, "automerge-paper.json.gz")
	b.ResetTimer()
	for range b.N {
		if _, err := ReplayReusing(tr, nil); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutomergePaperLocalWithDeltas(b *testing.B) {
	tr := loadB(b, "automerge-paper.json.gz")
	b.ResetTimer()
	for range b.N {
		if _, _, err := ReplaySequential(tr, true); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutomergePaperRemote(b *testing.B) {
	tr := loadB(b, "automerge-paper.json.gz")
	_, deltas, err := ReplaySequential(tr, true)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := ApplyRemote(deltas); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAutomergePaperDecode(b *testing.B) {
	tr := loadB(b, "automerge-paper.json.gz")
	d, _, err := ReplaySequential(tr, false)
	if err != nil {
		b.Fatal(err)
	}
	enc := d.Encode()
	b.ReportMetric(float64(len(enc)), "encoded-bytes")
	b.ResetTimer()
	for range b.N {
		if _, err := text.Decode(enc, "x"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFriendsForever(b *testing.B) {
	tr := loadB(b, "friendsforever.json.gz")
	b.ResetTimer()
	for range b.N {
		if _, err := ReplayConcurrent(tr, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// loaded caches parsed traces: the testing package calls a benchmark
// function several times (to find b.N, and once per -count), and parsing
// the JSON took longer than the replays being measured.
var loaded = map[string]*Trace{}

func loadB(b *testing.B, name string) *Trace {
	if tr, ok := loaded[name]; ok {
		return tr
	}
	path := filepath.Join(traces, name)
	if _, err := os.Stat(path); err != nil {
		b.Skip(err)
	}
	tr, err := Load(path)
	if err != nil {
		b.Fatal(err)
	}
	loaded[name] = tr
	return tr
}
