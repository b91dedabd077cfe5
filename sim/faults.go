package sim

// Crash stops node i at once: its pending ticks are dropped and messages
// in flight to it are lost (their senders see PeerDown after
// Config.LinkDownDelay).
func (s *Sim) Crash(i int) {
	nd := &s.nodes[i]
	if !nd.alive {
		return
	}
	nd.alive = false
	nd.epoch++
	nd.proc, nd.cores = nil, nil
}

// Restart brings a crashed node back as a fresh process from the factory,
// with its own new random stream. It does nothing to a live node.
func (s *Sim) Restart(i int) {
	nd := &s.nodes[i]
	if nd.alive {
		return
	}
	nd.restarts++
	s.start(i)
}

// Partition splits the network: nodes in the same group can reach each
// other, nodes in different groups cannot. Nodes not named in any group
// form one more group of their own.
func (s *Sim) Partition(groups ...[]int) {
	for i := range s.group {
		s.group[i] = 0
	}
	for g, members := range groups {
		for _, i := range members {
			s.group[i] = int32(g + 1)
		}
	}
}

// Heal removes every partition.
func (s *Sim) Heal() {
	for i := range s.group {
		s.group[i] = 0
	}
}

// Reachable reports whether a message from a to b would arrive now.
func (s *Sim) Reachable(a, b int) bool { return s.reachable(int32(a), int32(b)) }
