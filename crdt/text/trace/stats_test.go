package trace

import "testing"

// TestAutomergeShape checks the encoded size target.
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
	enc := len(d.Encode())
	t.Logf("canonical runs %d, deleted ranges %d, text bytes %d, encoded %d",
		len(st.Inserts), len(st.Deletes), len(tr.EndContent), enc)
	if enc > 150_000 {
		t.Fatalf("encoded automerge-paper is %d bytes, target 150,000", enc)
	}
}
