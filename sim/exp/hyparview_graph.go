package exp

import (
	"math"
	"math/rand/v2"

	"github.com/hearsay-mesh/hearsay/sim"
)

// hvGraph is the live nodes' active-view graph as adjacency lists of node
// indexes. out holds each node's active view as the node sees it; und the
// undirected graph of links both ends hold.
type hvGraph struct {
	n      int
	live   []bool
	out    [][]int32
	und    [][]int32
	asym   int // links held by one end only (or to a dead node)
	nLive  int
	full   int // live nodes with a full active view
	degCap int
}

func activeGraph(s *sim.Sim, activeSize int) *hvGraph {
	n := s.N()
	g := &hvGraph{n: n, live: make([]bool, n), out: make([][]int32, n), und: make([][]int32, n), degCap: activeSize}
	for i := 0; i < n; i++ {
		if !s.Alive(i) {
			continue
		}
		g.live[i] = true
		g.nLive++
		h := s.Process(i).(*hvProc).hv
		if h.ActiveLen() >= activeSize {
			g.full++
		}
		for k := 0; k < h.ActiveLen(); k++ {
			j, ok := s.Index(h.ActiveID(k))
			if !ok {
				continue
			}
			g.out[i] = append(g.out[i], int32(j))
		}
	}
	for i := 0; i < n; i++ {
		for _, j := range g.out[i] {
			if !g.live[j] || !contains(g.out[j], int32(i)) {
				g.asym++
				continue
			}
			g.und[i] = append(g.und[i], j)
		}
	}
	return g
}

func contains(xs []int32, x int32) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// components counts the connected components among live nodes.
func (g *hvGraph) components() int {
	seen := make([]bool, g.n)
	queue := make([]int32, 0, g.n)
	c := 0
	for s := 0; s < g.n; s++ {
		if !g.live[s] || seen[s] {
			continue
		}
		c++
		seen[s] = true
		queue = append(queue[:0], int32(s))
		for len(queue) > 0 {
			v := queue[len(queue)-1]
			queue = queue[:len(queue)-1]
			for _, w := range g.und[v] {
				if !seen[w] {
					seen[w] = true
					queue = append(queue, w)
				}
			}
		}
	}
	return c
}

// avgPath is the mean shortest-path length over pairs (source, reachable
// node) for BFS from up to samples random live sources (all if samples
// >= live nodes).
func (g *hvGraph) avgPath(rng *rand.Rand, samples int) (mean float64, sources int) {
	var lives []int32
	for i := 0; i < g.n; i++ {
		if g.live[i] {
			lives = append(lives, int32(i))
		}
	}
	if samples >= len(lives) {
		samples = len(lives)
	} else {
		rng.Shuffle(len(lives), func(a, b int) { lives[a], lives[b] = lives[b], lives[a] })
	}
	dist := make([]int32, g.n)
	queue := make([]int32, 0, g.n)
	var sum, pairs float64
	for _, src := range lives[:samples] {
		for i := range dist {
			dist[i] = -1
		}
		dist[src] = 0
		queue = append(queue[:0], src)
		for h := 0; h < len(queue); h++ {
			v := queue[h]
			for _, w := range g.und[v] {
				if dist[w] < 0 {
					dist[w] = dist[v] + 1
					sum += float64(dist[w])
					pairs++
					queue = append(queue, w)
				}
			}
		}
	}
	if pairs == 0 {
		return 0, samples
	}
	return sum / pairs, samples
}

// clustering is the mean local clustering coefficient of the undirected
// graph over live nodes (nodes with fewer than two neighbours count 0).
func (g *hvGraph) clustering() float64 {
	var total float64
	for v := 0; v < g.n; v++ {
		if !g.live[v] {
			continue
		}
		nb := g.und[v]
		k := len(nb)
		if k < 2 {
			continue
		}
		links := 0
		for a := 0; a < k; a++ {
			for b := a + 1; b < k; b++ {
				if contains(g.und[nb[a]], nb[b]) {
					links++
				}
			}
		}
		total += float64(links) / float64(k*(k-1)/2)
	}
	return total / float64(g.nLive)
}

// inDegree summarises how many live nodes hold each live node in their
// active view.
func (g *hvGraph) inDegree() (min, max int, mean, std float64) {
	in := make([]int, g.n)
	for i := 0; i < g.n; i++ {
		for _, j := range g.out[i] {
			in[j]++
		}
	}
	min = math.MaxInt
	var sum, sq float64
	for i := 0; i < g.n; i++ {
		if !g.live[i] {
			continue
		}
		d := in[i]
		if d < min {
			min = d
		}
		if d > max {
			max = d
		}
		sum += float64(d)
		sq += float64(d) * float64(d)
	}
	mean = sum / float64(g.nLive)
	std = math.Sqrt(math.Max(0, sq/float64(g.nLive)-mean*mean))
	return
}
