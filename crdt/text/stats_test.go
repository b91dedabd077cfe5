package text

import "testing"

// stats reports the tree shape, for tuning.
func (d *Doc) stats() (leaves, runs int) {
	for _, l := range d.order {
		runs += len(l.runs)
	}
	return len(d.order), runs
}

func TestStatsSmoke(t *testing.T) {
	d := mustNew(t, "a")
	if _, err := d.Insert(0, "abc"); err != nil {
		t.Fatal(err)
	}
	if l, r := d.stats(); l != 1 || r != 1 {
		t.Fatalf("leaves %d runs %d, want 1 1", l, r)
	}
}
