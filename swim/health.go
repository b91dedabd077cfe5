package swim

import "time"

// healthDelta moves Lifeguard's local health multiplier within
// [0, MaxLocalHealth].
func (c *Core) healthDelta(d int) {
	c.lhm += d
	if c.lhm < 0 {
		c.lhm = 0
	}
	if c.lhm > c.cfg.MaxLocalHealth {
		c.lhm = c.cfg.MaxLocalHealth
	}
}

// scaled stretches a duration by (LHM+1).
func (c *Core) scaled(d time.Duration) time.Duration {
	return d * time.Duration(c.lhm+1)
}
