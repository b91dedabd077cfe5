package trace

import (
	"testing"
	"unicode/utf8"
)

func TestAutomergeShape(t *testing.T) {
	if testing.Short() {
		t.Skip()
	}
	tr := load(t, "automerge-paper.json.gz")
	d, _, err := ReplaySequential(tr, false)
	if err != nil {
		t.Fatal(err)
	}
	st := d.State()
	t.Logf("canonical runs %d, deleted ranges %d, text bytes %d, encoded %d",
		len(st.Inserts), len(st.Deletes), len(tr.EndContent), len(d.Encode()))
	_ = utf8.RuneCountInString
}
