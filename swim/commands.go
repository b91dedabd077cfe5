package swim

import (
	"errors"
	"fmt"
	"time"
)

var (
	errInvalidContact = errors.New("swim: join contact must be another node with a valid ID")
	errLeft           = errors.New("swim: this node has left")
)

// Leave announces a graceful departure: our record becomes left with a
// higher incarnation and is gossiped; probing stops. Keep ticking the
// core for a few gossip intervals so the news gets out.
func (c *Core) Leave(now time.Duration) error {
	if c.left {
		return errLeft
	}
	c.start(now)
	c.left = true
	c.inc = nextInc(c.inc)
	c.probe = nil
	c.broadcastSelf()
	// Push the news out now rather than at the next gossip round.
	c.nextGossip = now
	c.tickGossip(now)
	return nil
}

// SetMeta replaces this node's metadata, raises its incarnation and
// disseminates the new record. The sum of key and value lengths is bounded
// by Config.MaxMetaBytes.
func (c *Core) SetMeta(now time.Duration, meta map[string]string) error {
	if c.left {
		return errLeft
	}
	if n := metaSize(meta); n > c.cfg.MaxMetaBytes {
		return fmt.Errorf("swim: metadata is %d bytes; Config.MaxMetaBytes is %d", n, c.cfg.MaxMetaBytes)
	}
	for k := range meta {
		if k == "" {
			return errors.New("swim: metadata key is empty")
		}
	}
	c.start(now)
	c.meta = copyMeta(meta)
	c.inc = nextInc(c.inc)
	c.bq.addMember(c.selfRecord(), c.cfg.MaxBroadcasts)
	return nil
}
