package plumtree

import (
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
	"google.golang.org/protobuf/proto"
)

// Step implements membership.Core. The message is validated whole first:
// an error means nothing changed. The message is only read, never kept
// beyond its payload (which is shared, read-only, with the layer above).
func (c *Core) Step(now time.Duration, from membership.NodeID, msg proto.Message) error {
	if err := c.step(now, from, msg); err != nil {
		c.stats.Rejected++
		return err
	}
	return nil
}

func (c *Core) step(now time.Duration, from membership.NodeID, msg proto.Message) error {
	if !from.Valid() || from == c.self {
		return fmt.Errorf("plumtree: message from invalid peer %q", string(from))
	}
	env, ok := msg.(*pb.Envelope)
	if !ok || env == nil {
		return fmt.Errorf("plumtree: unexpected message type %T", msg)
	}
	switch body := env.Body.(type) {
	case *pb.Envelope_Gossip:
		g, err := c.checkGossip(body.Gossip)
		if err != nil {
			return err
		}
		c.onGossip(now, from, g)
	case *pb.Envelope_Ihave:
		entries, err := c.checkIHave(body.Ihave)
		if err != nil {
			return err
		}
		c.onIHave(now, from, entries)
	case *pb.Envelope_Graft:
		g, err := c.checkGraft(body.Graft)
		if err != nil {
			return err
		}
		c.onGraft(from, g)
	case *pb.Envelope_Prune:
		origins, err := c.checkPrune(body.Prune)
		if err != nil {
			return err
		}
		c.onPrune(from, origins)
	default:
		return fmt.Errorf("plumtree: envelope without a known body")
	}
	return nil
}
