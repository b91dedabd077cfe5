package sim

// Crash stops node i at once: its pending ticks are dropped and messages
// in flight to it are lost (their senders see PeerDown after
// Config.LinkDownDelay).
func (s *Sim) Crash(i int) {
	nd := &s.nodes[i]
	if !nd.alive {
		return
	}
	s.connsDied(int32(i))
	nd.alive = false
	nd.paused = false
	nd.held = nil
	nd.epoch++
	nd.life++
	nd.proc, nd.cores = nil, nil
}

// Pause freezes node i as SIGSTOP freezes a process: its cores get no
// ticks and no messages, and send nothing, but its links stay up, so
// messages to it wait (in order) and no sender sees PeerDown. Resume
// delivers what waited.
func (s *Sim) Pause(i int) {
	nd := &s.nodes[i]
	if nd.alive {
		nd.paused = true
	}
}

// Resume wakes a paused node: every core ticks at once (as a process's
// overdue timers fire when it wakes), then the messages that waited are
// delivered in arrival order.
func (s *Sim) Resume(i int) {
	nd := &s.nodes[i]
	if !nd.alive || !nd.paused {
		return
	}
	nd.paused = false
	nd.epoch++
	s.startTicks(i, false)
	held := nd.held
	nd.held = nil
	for _, e := range held {
		e.at = s.now
		s.push(e)
	}
}

// Paused reports whether node i is paused.
func (s *Sim) Paused(i int) bool { return s.nodes[i].paused }

// SetLoss changes the random loss probability from now on (a test can
// let a cluster form on a clean network, then turn loss on).
func (s *Sim) SetLoss(p float64) error {
	c := s.cfg
	c.Loss = p
	if err := c.Validate(); err != nil {
		return err
	}
	s.cfg.Loss = p
	return nil
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
