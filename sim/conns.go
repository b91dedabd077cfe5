package sim

import (
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
)

// conn is a connection between two nodes (Config.Connect): usable from
// ready on, while both ends run the processes they ran when it was set up.
type conn struct {
	ready        time.Duration
	lifeA, lifeB uint32 // lives of the lower and the higher index
}

// peerUpper is a core that wants to hear of new connections.
type peerUpper interface {
	PeerUp(now time.Duration, peer membership.NodeID)
}

func connKey(a, b int32) (uint64, int32, int32) {
	if a > b {
		a, b = b, a
	}
	return uint64(a)<<32 | uint64(uint32(b)), a, b
}

// connReady returns when a message from `from` to `to` sent now can leave:
// now, or when the connection between them is set up. Without
// Config.Connect, or to a node that cannot be reached (the message is lost
// and the sender told, as before), it is now. A missing or dead connection
// is set up here: after both nodes' earlier setups, a sample of Connect;
// both nodes hear of it then (evConnUp).
func (s *Sim) connReady(from, to int32) time.Duration {
	if s.cfg.Connect == nil || !s.reachable(from, to) {
		return s.now
	}
	key, lo, hi := connKey(from, to)
	c, ok := s.conns[key]
	if ok && c.lifeA == s.nodes[lo].life && c.lifeB == s.nodes[hi].life {
		return max(c.ready, s.now)
	}
	start := max(s.now, s.hsBusy[from], s.hsBusy[to])
	c = conn{ready: start + s.cfg.Connect.Sample(s.rng, int(from), int(to)), lifeA: s.nodes[lo].life, lifeB: s.nodes[hi].life}
	s.conns[key] = c
	s.hsBusy[from], s.hsBusy[to] = c.ready, c.ready
	s.stats.Connections++
	s.push(event{at: c.ready, kind: evConnUp, node: from, from: to, life: s.nodes[from].life})
	s.push(event{at: c.ready, kind: evConnUp, node: to, from: from, life: s.nodes[to].life})
	return c.ready
}

// connUp tells node e.node's cores that its connection to e.from is up.
func (s *Sim) connUp(e event) {
	nd := &s.nodes[e.node]
	if !nd.alive || nd.life != e.life {
		return
	}
	if key, lo, hi := connKey(e.node, e.from); !s.connLive(key, lo, hi) {
		return // the other end's process died during the setup
	}
	if nd.paused {
		nd.held = append(nd.held, e)
		return
	}
	if far := &s.nodes[e.from]; far.paused {
		// A paused process cannot do its half of the handshake: the
		// setup ends when it resumes (Resume re-pushes what it held).
		far.held = append(far.held, e)
		return
	}
	peer := s.ids[e.from]
	for _, c := range nd.cores {
		if u, ok := c.(peerUpper); ok {
			u.PeerUp(s.now, peer)
		}
	}
	s.drain(int(e.node))
}

// connsDied tells the other end of each of node i's connections that it
// closed with i's process (a reset connection: PeerDown after
// LinkDownDelay), in index order.
func (s *Sim) connsDied(i int32) {
	if s.cfg.Connect == nil || s.cfg.LinkDownDelay <= 0 {
		return
	}
	for j := range s.nodes {
		j := int32(j)
		key, lo, hi := connKey(i, j)
		if j == i || !s.connLive(key, lo, hi) {
			continue
		}
		c := s.conns[key]
		delete(s.conns, key)
		if c.ready <= s.now && s.nodes[j].alive {
			s.push(event{at: s.now + s.cfg.LinkDownDelay, kind: evLinkDown, node: j, from: i, life: s.nodes[j].life})
		}
	}
}

// connLive reports whether the connection between lo and hi was set up by
// the processes they run now.
func (s *Sim) connLive(key uint64, lo, hi int32) bool {
	c, ok := s.conns[key]
	return ok && c.lifeA == s.nodes[lo].life && c.lifeB == s.nodes[hi].life
}
