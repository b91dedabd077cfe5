package text

import (
	"testing"

	"pgregory.net/rapid"
)

// fataler is what testing.T and rapid.T share.
type fataler interface {
	Helper()
	Fatal(args ...any)
}

func mustNew(t fataler, name string) *Doc {
	t.Helper()
	d, err := New(name)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// splice is the sequential reference model.
func splice(m []rune, pos, del int, ins string) []rune {
	out := append([]rune{}, m[:pos]...)
	out = append(out, []rune(ins)...)
	return append(out, m[pos+del:]...)
}

var alphabet = []rune("ab€😀 \n")

func genText(t *rapid.T, label string) string {
	rs := rapid.SliceOfN(rapid.SampledFrom(alphabet), 1, 6).Draw(t, label)
	return string(rs)
}

// TestModel checks a single replica against []rune splicing.
func TestModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		d := mustNew(t, "a")
		var m []rune
		for i := range rapid.IntRange(1, 200).Draw(t, "ops") {
			_ = i
			if len(m) > 0 && rapid.Bool().Draw(t, "del") {
				pos := rapid.IntRange(0, len(m)-1).Draw(t, "pos")
				n := rapid.IntRange(1, len(m)-pos).Draw(t, "n")
				if _, err := d.Delete(pos, n); err != nil {
					t.Fatal(err)
				}
				m = splice(m, pos, n, "")
			} else {
				pos := rapid.IntRange(0, len(m)).Draw(t, "pos")
				s := genText(t, "s")
				if _, err := d.Insert(pos, s); err != nil {
					t.Fatal(err)
				}
				m = splice(m, pos, 0, s)
			}
			if got := d.Text(); got != string(m) {
				t.Fatalf("text %q, model %q", got, string(m))
			}
			if d.Len() != len(m) {
				t.Fatalf("Len %d, model %d", d.Len(), len(m))
			}
		}
	})
}

func TestInsertDeleteBounds(t *testing.T) {
	d := mustNew(t, "a")
	if _, err := d.Insert(1, "x"); err == nil {
		t.Fatal("insert past end accepted")
	}
	if _, err := d.Insert(0, "héllo"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Delete(3, 3); err == nil {
		t.Fatal("delete past end accepted")
	}
	if _, err := d.Delete(1, 1); err != nil {
		t.Fatal(err)
	}
	if got := d.Text(); got != "hllo" {
		t.Fatalf("got %q", got)
	}
	if _, err := New(""); err == nil {
		t.Fatal("empty agent accepted")
	}
}
