package trace

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBenchTraceConcurrentReport(t *testing.T) {
	path := filepath.Join(traces, "friendsforever.json.gz")
	if _, err := os.Stat(path); err != nil {
		t.Skip(err)
	}
	var out strings.Builder
	res, err := BenchTrace(path, &out)
	if err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + out.String())
	if !res.Concurrent || res.Checked || res.FinalLen == 0 {
		t.Fatalf("unexpected result %+v", res)
	}
}
