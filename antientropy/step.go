package antientropy

import (
	"fmt"
	"time"

	pb "github.com/hearsay-mesh/hearsay/antientropy/pb"
	"google.golang.org/protobuf/proto"
)

// Step implements membership.Core. Every field is validated before it is
// used; a message that fails changes nothing it has not already merged
// (merges are idempotent) and returns an error. Received messages are
// only read, never kept or changed.
func (c *Core) Step(now time.Duration, from NodeID, msg proto.Message) error {
	err := c.step(now, from, msg)
	if err != nil {
		c.stats.Rejected++
	}
	return err
}

func (c *Core) step(now time.Duration, from NodeID, msg proto.Message) error {
	env, ok := msg.(*pb.Envelope)
	if !ok || env == nil {
		return fmt.Errorf("antientropy: message of type %T", msg)
	}
	if !from.Valid() || from == c.self {
		return fmt.Errorf("antientropy: message from %q", from)
	}
	switch b := env.Body.(type) {
	case *pb.Envelope_Sync:
		if b.Sync == nil {
			break
		}
		return c.onSync(now, from, b.Sync)
	case *pb.Envelope_Reply:
		if b.Reply == nil {
			break
		}
		return c.onReply(now, from, b.Reply)
	case *pb.Envelope_Dots:
		if b.Dots == nil {
			break
		}
		return c.onDots(now, from, b.Dots)
	case *pb.Envelope_Ack:
		if b.Ack == nil {
			break
		}
		return c.onAck(now, from, b.Ack)
	case *pb.Envelope_Tree:
		if b.Tree == nil {
			break
		}
		return c.onTree(now, from, b.Tree)
	case *pb.Envelope_Leaves:
		if b.Leaves == nil {
			break
		}
		return c.onLeaves(now, from, b.Leaves)
	case *pb.Envelope_Want:
		if b.Want == nil {
			break
		}
		return c.onWant(now, from, b.Want)
	case *pb.Envelope_Objects:
		if b.Objects == nil {
			break
		}
		return c.onObjects(now, from, b.Objects)
	}
	return fmt.Errorf("antientropy: empty or unknown message")
}
