package swim

import (
	"math"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// suspicion is Lifeguard's shrinking suspicion timer about one member: it
// starts at max and falls logarithmically with each independent
// confirmation, reaching min after k of them.
type suspicion struct {
	start    time.Duration
	min, max time.Duration
	k, n     int
	seen     []membership.NodeID // originator and confirmers
	deadline time.Duration
	probed   bool // our own probe of the suspect failed
	checked  bool // a final check was already scheduled
}

// SuspicionTimeout is Lifeguard's timeout after n of k expected
// confirmations: max - (max-min)*log(n+1)/log(k+1), never below min. With
// k < 1 it is min.
func SuspicionTimeout(n, k int, min, max time.Duration) time.Duration {
	if k < 1 || max <= min {
		return min
	}
	frac := math.Log(float64(n)+1) / math.Log(float64(k)+1)
	t := max - time.Duration(frac*float64(max-min))
	if t < min {
		return min
	}
	return t
}

// SuspicionMin is the minimum suspicion timeout for a cluster of n:
// max(floor, mult*log10(max(1,n))*interval), as memberlist computes it
// plus a floor.
func SuspicionMin(mult float64, n int, interval, floor time.Duration) time.Duration {
	if n < 1 {
		n = 1
	}
	t := time.Duration(mult * math.Log10(float64(n)) * float64(interval))
	if t < floor {
		return floor
	}
	return t
}

func (c *Core) newSuspicion(now time.Duration, from membership.NodeID) *suspicion {
	n := c.NumAlive()
	min := SuspicionMin(c.cfg.SuspicionMult, n, c.cfg.ProbeInterval, c.cfg.SuspicionMinFloor)
	max := time.Duration(c.cfg.SuspicionMaxMult * float64(min))
	k := c.cfg.SuspicionConfirmations
	if n-2 < k {
		k = 0
	}
	if !c.cfg.Lifeguard {
		max, k = min, 0
	}
	s := &suspicion{start: now, min: min, max: max, k: k, seen: []membership.NodeID{from}}
	s.deadline = now + SuspicionTimeout(0, k, min, max)
	return s
}

// confirm records an independent confirmation; it reports whether it was
// new (and so worth passing on).
func (s *suspicion) confirm(from membership.NodeID) bool {
	if s.n >= s.k || !from.Valid() {
		return false
	}
	for _, x := range s.seen {
		if x == from {
			return false
		}
	}
	s.seen = append(s.seen, from)
	s.n++
	s.deadline = s.start + SuspicionTimeout(s.n, s.k, s.min, s.max)
	return true
}

// tickSuspicions declares dead every suspect whose timer ran out.
func (c *Core) tickSuspicions(now time.Duration) {
	kept := c.suspects[:0]
	var due []*member
	for _, id := range c.suspects {
		m := c.members[id]
		if m == nil || m.state != membership.StateSuspect || m.susp == nil {
			continue
		}
		if now >= m.susp.deadline {
			if !m.susp.checked && (!m.susp.probed || m.susp.n == 0) {
				// We only heard of this suspicion, or nobody confirmed
				// ours. Before declaring a death, check the suspect
				// ourselves, directly and through 2k relays (see
				// check): a refutation we missed comes back.
				m.susp.checked = true
				if !c.checking(id) && c.startCheck(now, id, true) {
					m.susp.deadline = c.checks[len(c.checks)-1].end
				} else {
					c.probes.queueConfirm(id, true)
					next := c.nextProbe
					if next < now {
						next = now
					}
					m.susp.deadline = next + c.scaled(c.cfg.ProbeInterval) + c.cfg.TickInterval
				}
				kept = append(kept, id)
				continue
			}
			due = append(due, m)
			continue
		}
		kept = append(kept, id)
	}
	c.suspects = kept
	for _, m := range due {
		if m.state != membership.StateSuspect {
			continue // listed twice (refuted and suspected again)
		}
		c.stats.Deaths++
		c.markDown(now, m, m.inc, membership.StateDead)
		c.bq.addMember(&pb.Member{Id: string(m.node.ID), Incarnation: m.inc, State: pb.State_STATE_DEAD, From: string(c.self.ID)}, c.cfg.MaxBroadcasts)
	}
}
