package antientropy

func dumpNet(t interface{ Logf(string, ...any) }, nw *net) {
	for _, n := range nw.nodes {
		var ks []string
		for _, k := range n.store.Keys() {
			st, _ := n.store.Get(k)
			d, v, _ := DecodeLWW(st)
			ks = append(ks, k+"="+string(d.Node)+":"+string(rune('0'+d.Counter))+"/"+string(v))
		}
		var ds []Dot
		n.core.clock.Dots(func(d Dot) bool { ds = append(ds, d); return true })
		t.Logf("%s keys %v clock %v log %d stats %+v", n.id, ks, ds, n.core.log.entries, n.core.stats)
	}
}
