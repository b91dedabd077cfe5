package crdt

import (
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the process's user+system CPU time (all threads, GC
// included); on a shared machine it is steadier than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// buildORSet adds n elements prefix0..prefix(n-1) at node through the public
// mutator, as a replica would.
func buildORSet(node NodeID, prefix string, n int) *ORSet {
	s := NewORSet(node, AddWins)
	for i := range n {
		s.Add(prefix + strconv.Itoa(i))
	}
	return s
}

func dotsPerElement(s *ORSet) float64 {
	dots := 0
	s.f.adds.each(func(_ string, ds dotSet) { dots += len(ds) })
	return float64(dots) / float64(s.f.adds.len())
}

// BenchmarkORSetMerge1M joins two replicas that each added 1,000,000
// elements concurrently (neither has seen the other): distinct elements, and
// the same elements (every element then ends with two dots). The replicas
// are built once; the clone of the receiving replica before each join and a
// forced GC of the previous round are not timed. cpu-ns/op is the process
// CPU time of the join (GC work triggered inside it included).
func BenchmarkORSetMerge1M(b *testing.B) {
	const n = 1_000_000
	x := buildORSet("node-a", "a", n)
	for _, c := range []struct {
		name, prefix string
		want         int
	}{{"distinct", "b", 2 * n}, {"same", "a", n}} {
		y := buildORSet("node-b", c.prefix, n)
		if dotsPerElement(x) != 1 || dotsPerElement(y) != 1 {
			b.Fatalf("more than one dot per element before merge")
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			var z *ORSet
			var cpu time.Duration
			for range b.N {
				b.StopTimer()
				z = nil
				runtime.GC() // collect the previous round outside the timed region
				z = x.Clone()
				c0 := cpuTime()
				b.StartTimer()
				z.Join(y)
				b.StopTimer()
				cpu += cpuTime() - c0
				b.StartTimer()
			}
			b.StopTimer()
			b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
			if z.Len() != c.want {
				b.Fatalf("merged %d elements, want %d", z.Len(), c.want)
			}
			b.ReportMetric(dotsPerElement(z), "dots/elem")
			b.ReportMetric(float64(len(z.Encode()))/float64(z.Len()), "enc-bytes/elem")
		})
	}
}

// BenchmarkORSetAdd measures one add mutator (delta included).
func BenchmarkORSetAdd(b *testing.B) {
	s := NewORSet("node-a", AddWins)
	i := 0
	for b.Loop() {
		s.Add(strconv.Itoa(i))
		i++
	}
}

// BenchmarkORMapDecode1K decodes a map of 1,000 counter fields.
func BenchmarkORMapDecode1K(b *testing.B) {
	m := NewORMap("node-a")
	for i := range 1000 {
		m.Inc("key"+strconv.Itoa(i), 1)
	}
	enc := m.Encode()
	reg := NewRegistry()
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		if _, err := DecodeORMap(enc, "node-b", reg); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkORSetDeltaJoin1M joins small deltas from a peer into a replica of
// 1,000,000 elements: "add" (the peer adds a new element) and "remove" (the
// peer removes an element of the big set it has observed). Deltas are made
// in untimed batches; the removed elements are re-added, untimed, so the set
// keeps its size. A small delta must cost time proportional to the delta,
// not to the set. cpu-ns/op is the process CPU time of the joins (GC
// included).
func BenchmarkORSetDeltaJoin1M(b *testing.B) {
	const n, batch = 1_000_000, 1024
	big := buildORSet("node-a", "a", n)
	peer, err := DecodeORSet(big.Encode(), "node-b")
	if err != nil {
		b.Fatal(err)
	}
	big.Join(peer.Add("warm-up")) // builds what a small join needs, untimed
	next := 0
	b.Run("add", func(b *testing.B) {
		ds := make([]*ORSet, 0, batch)
		var cpu time.Duration
		for done := 0; done < b.N; done += len(ds) {
			b.StopTimer()
			ds = ds[:0]
			for range min(batch, b.N-done) {
				ds = append(ds, peer.Add("b"+strconv.Itoa(next)))
				next++
			}
			c0 := cpuTime()
			b.StartTimer()
			for _, d := range ds {
				big.Join(d)
			}
			b.StopTimer()
			cpu += cpuTime() - c0
			b.StartTimer()
		}
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
	})
	k := 0
	b.Run("remove", func(b *testing.B) {
		ds := make([]*ORSet, 0, batch)
		es := make([]string, 0, batch)
		var cpu time.Duration
		for done := 0; done < b.N; done += len(ds) {
			b.StopTimer()
			ds, es = ds[:0], es[:0]
			for range min(batch, b.N-done) {
				e := "a" + strconv.Itoa(k%n)
				k++
				es = append(es, e)
				ds = append(ds, peer.Remove(e))
			}
			c0 := cpuTime()
			b.StartTimer()
			for _, d := range ds {
				big.Join(d)
			}
			b.StopTimer()
			cpu += cpuTime() - c0
			for _, e := range es {
				big.Join(peer.Add(e))
			}
			b.StartTimer()
		}
		b.StopTimer()
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/op")
		if !big.Contains("a0") {
			b.Fatal("a re-added element is missing")
		}
	})
}
