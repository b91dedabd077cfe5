package bench

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestTailLinesFollowsAGrowingFile: lines written before and while the
// tail runs, one split across writes, one longer than the read buffer,
// and an unfinished last line are all handed over, in order, once.
func TestTailLinesFollowsAGrowingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "stderr")
	w, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	long := strings.Repeat("x", 200<<10)
	w.WriteString("a\nb")
	var got []string
	tapped := make(chan struct{})
	first := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(tapped)
		tailLines(r, done, func(l []byte) {
			got = append(got, string(l))
			if len(got) == 1 {
				close(first)
			}
		})
	}()
	<-first // the tail is running and at or before "b"
	w.WriteString("c\n" + long + "\nd")
	close(done)
	<-tapped
	want := []string{"a", "bc", long, "d"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %d lines %q..., want %d", len(got), trunc(got), len(want))
	}
}

func trunc(ls []string) []string {
	out := make([]string, len(ls))
	for i, l := range ls {
		out[i] = l[:min(len(l), 10)]
	}
	return out
}
