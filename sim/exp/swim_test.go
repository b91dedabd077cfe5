package exp

import (
	"os"
	"strings"
	"testing"
	"time"
)

func TestSwimSmall(t *testing.T) {
	cfg := DefaultSwimConfig()
	cfg.Sizes, cfg.Crashes, cfg.MetaTrials = []int{20}, 3, 3
	cfg.Pauses, cfg.PauseTrials = []time.Duration{time.Second}, 2
	cfg.FuseN, cfg.Groups, cfg.GroupSize, cfg.FuseTrials = 20, 10, 4, 4
	cfg.JoinSizes = []int{20}
	tables, err := Swim(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(tables) != 4 || len(tables[0].Rows) != 2 {
		t.Fatalf("tables %v", tables)
	}
	var b strings.Builder
	for _, tb := range tables {
		_ = tb.Print(&b)
	}
	t.Log(b.String())
}

// TestSwimReport runs the full experiment of docs/swim.md when
// HEARSAY_SWIM_REPORT=1 (minutes of CPU).
func TestSwimReport(t *testing.T) {
	if os.Getenv("HEARSAY_SWIM_REPORT") == "" {
		t.Skip("set HEARSAY_SWIM_REPORT=1")
	}
	cfg := DefaultSwimConfig()
	if os.Getenv("HEARSAY_SWIM_LOSS") != "" {
		cfg.Loss, cfg.Slow = 0.05, 5
	}
	if d := os.Getenv("HEARSAY_SWIM_DETECTOR"); d != "" {
		cfg.Detector = d
	}
	tables, err := Swim(cfg, func(done, total int, what string) { t.Logf("%d/%d %s", done, total, what) })
	if err != nil {
		t.Fatal(err)
	}
	for _, tb := range tables {
		_ = tb.Print(os.Stdout)
	}
}
