package antientropy

import "time"

// NextDeadline is the earliest time at which Tick has something to do:
// the next session, a session's timeout, or pruning the dot-key log (only
// while it holds entries or stale acknowledged clocks). A driver may tick
// the core only then instead of every TickInterval, and must ask again
// after every Step, Tick or command. A change of this node's dots is
// noticed (to end an idle back-off, Config.IdleSyncMax) at the next Tick.
func (c *Core) NextDeadline() (at time.Duration, ok bool) {
	if !c.ticked {
		return 0, true
	}
	add := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	add(c.nextSync)
	if c.log.entries > 0 || len(c.intern) > len(c.peers) {
		add(c.nextPrune)
	}
	for _, s := range c.out {
		add(s.last + c.cfg.SessionTimeout)
	}
	if len(c.inOrder) > 0 {
		if s := c.in[c.inOrder[0]]; s != nil {
			add(s.last + c.cfg.SessionTimeout)
		} else {
			add(0) // a stale entry: Tick drops it
		}
	}
	return at, ok
}
