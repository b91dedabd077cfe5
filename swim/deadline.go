package swim

import "time"

// NextDeadline is the earliest time at which Tick has something to do: a
// probe to start, a direct or indirect probe timeout, a relayed ping-req's
// deadline, a suspicion's expiry, a gossip round while updates are
// queued, a push-pull, a join retry, a FUSE resend or deadline, the reaping
// of dead members. ok is false when nothing is pending.
//
// A driver may tick the core at those times instead of every
// TickInterval (the agent does: an idle agent then wakes a few times a
// second instead of ten, and timers fire on time rather than up to a
// TickInterval late). The driver must ask again after every Step, Tick or
// command, since each may move a deadline earlier. Asking also notes the
// answer: a Tick that comes more than TickInterval after the deadline it
// was armed for means the process did not run meanwhile, and Tick treats
// it as a stall (see stalled), as it does a gap of two TickIntervals
// between Ticks under a fixed cadence.
func (c *Core) NextDeadline() (at time.Duration, ok bool) {
	if !c.started {
		c.armed = 0
		return 0, true
	}
	at, ok = c.deadline()
	if ok {
		c.armed = at
	} else {
		c.armed = 0
	}
	return at, ok
}

func (c *Core) deadline() (at time.Duration, ok bool) {
	add := func(t time.Duration) {
		if !ok || t < at {
			at, ok = t, true
		}
	}
	if !c.left {
		if p := c.probe; p != nil {
			if p.indirect {
				add(p.end)
			} else {
				add(p.ackBy)
			}
		} else {
			add(c.nextProbe)
		}
		for _, k := range c.checks {
			if k.indirect {
				add(k.end)
			} else {
				add(min(k.ackBy, k.end))
			}
		}
		for _, r := range c.relays {
			add(r.deadline)
		}
		for _, id := range c.suspects {
			if m := c.members[id]; m != nil && m.susp != nil {
				add(m.susp.deadline)
			}
		}
		if c.cfg.PushPullInterval > 0 {
			add(c.nextPushPull)
		}
		if c.join != nil {
			add(c.join.retryAt)
		}
		if c.syncAt > 0 {
			add(c.syncAt)
		}
	}
	if c.bq.len() > 0 {
		add(c.nextGossip)
	}
	for _, gid := range c.fuse.active {
		g := c.fuse.groups[gid]
		if g == nil || !g.active {
			continue
		}
		if g.phase == phaseCreating {
			add(g.deadline)
		}
		for _, o := range g.out {
			add(o.nextAt)
		}
	}
	if len(c.fuse.firedLog) > 0 {
		add(c.fuse.fired[c.fuse.firedLog[0]] + c.cfg.DeadRetention)
	}
	if len(c.ids) > c.live {
		// Dead or left members wait to be reaped.
		add(c.nextReap)
	}
	return at, ok
}
