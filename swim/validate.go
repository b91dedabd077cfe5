package swim

import (
	"errors"
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/swim/pb"
)

// Wire limits that do not depend on the configuration.
const (
	maxIDLen      = 256 // bytes of a node or group ID
	maxAddrs      = 16
	maxAddrLen    = 256
	maxPiggyback  = 512 // updates or triggers per envelope
	maxMetaEntry  = 64  // metadata entries per member
	maxFuseReason = int32(pb.FuseReason_FUSE_REASON_CREATE_FAILED)
)

var errNoBody = errors.New("swim: envelope has no body")

// validate checks every field of a received envelope before anything is
// applied, so a bad message changes nothing.
func (c *Core) validate(from membership.NodeID, env *pb.Envelope) error {
	if env == nil {
		return errNoBody
	}
	if !from.Valid() || from == c.self.ID {
		return fmt.Errorf("swim: bad sender %q", from)
	}
	if len(env.Updates) > maxPiggyback || len(env.Triggers) > maxPiggyback {
		return fmt.Errorf("swim: %d updates and %d triggers; at most %d each", len(env.Updates), len(env.Triggers), maxPiggyback)
	}
	for i, u := range env.Updates {
		if err := c.validMember(u); err != nil {
			return fmt.Errorf("swim: update %d: %w", i, err)
		}
	}
	for i, t := range env.Triggers {
		if err := validTrigger(t); err != nil {
			return fmt.Errorf("swim: trigger %d: %w", i, err)
		}
	}
	switch b := env.Body.(type) {
	case *pb.Envelope_Ping:
		p := b.Ping
		if p == nil || p.Seq == 0 {
			return errors.New("swim: ping without seq")
		}
		if p.Target != "" && p.Target != string(c.self.ID) {
			return fmt.Errorf("swim: ping for %q reached %q", p.Target, c.self.ID)
		}

	case *pb.Envelope_PingReq:
		r := b.PingReq
		if r == nil || r.Seq == 0 {
			return errors.New("swim: ping-req without seq")
		}
		if err := validID(r.Target); err != nil || r.Target == string(from) {
			return fmt.Errorf("swim: ping-req target %q from %q", r.Target, from)
		}

	case *pb.Envelope_Ack:
		if b.Ack == nil || b.Ack.Seq == 0 {
			return errors.New("swim: ack without seq")
		}
	case *pb.Envelope_Nack:
		if b.Nack == nil || b.Nack.Seq == 0 {
			return errors.New("swim: nack without seq")
		}
	case *pb.Envelope_PushPull:
		p := b.PushPull
		if p == nil {
			return errNoBody
		}
		if len(p.Members) > c.cfg.MaxMembers {
			return fmt.Errorf("swim: push-pull of %d members; Config.MaxMembers is %d", len(p.Members), c.cfg.MaxMembers)
		}
		for i, u := range p.Members {
			if err := c.validMember(u); err != nil {
				return fmt.Errorf("swim: push-pull member %d: %w", i, err)
			}
		}
	case *pb.Envelope_Gossip:
		if b.Gossip == nil {
			return errNoBody
		}
	case *pb.Envelope_Fuse:
		return c.validFuse(from, b.Fuse)
	default:
		return errNoBody
	}
	return nil
}

func validID(id string) error {
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("ID of %d bytes; want 1..%d", len(id), maxIDLen)
	}
	return nil
}

func (c *Core) validMember(u *pb.Member) error {
	if u == nil {
		return errors.New("nil member")
	}
	if err := validID(u.Id); err != nil {
		return err
	}
	if len(u.Addrs) > maxAddrs {
		return fmt.Errorf("%d addresses; at most %d", len(u.Addrs), maxAddrs)
	}
	for _, a := range u.Addrs {
		if len(a) > maxAddrLen {
			return fmt.Errorf("address of %d bytes; at most %d", len(a), maxAddrLen)
		}
	}
	if u.Incarnation == 0 {
		return errors.New("incarnation 0")
	}

	if u.State < pb.State_STATE_ALIVE || u.State > pb.State_STATE_LEFT {
		return fmt.Errorf("state %d", u.State)
	}
	if len(u.Meta) > maxMetaEntry {
		return fmt.Errorf("%d metadata entries; at most %d", len(u.Meta), maxMetaEntry)
	}
	size := 0
	for _, kv := range u.Meta {
		if kv == nil || kv.Key == "" {
			return errors.New("empty metadata key")
		}
		size += len(kv.Key) + len(kv.Value)
	}
	if size > c.cfg.MaxMetaBytes {
		return fmt.Errorf("metadata of %d bytes; Config.MaxMetaBytes is %d", size, c.cfg.MaxMetaBytes)
	}
	if len(u.From) > maxIDLen {
		return fmt.Errorf("from of %d bytes", len(u.From))
	}
	if u.State == pb.State_STATE_SUSPECT && u.From == "" {
		return errors.New("suspect without from")
	}
	return nil
}

func validTrigger(t *pb.FuseTrigger) error {
	if t == nil {
		return errors.New("nil trigger")
	}
	if err := validID(t.Group); err != nil {
		return err
	}
	if int32(t.Reason) < 1 || int32(t.Reason) > maxFuseReason {
		return fmt.Errorf("reason %d", t.Reason)
	}
	if len(t.Member) > maxIDLen {
		return fmt.Errorf("member of %d bytes", len(t.Member))
	}
	return nil
}

func (c *Core) validFuse(from membership.NodeID, f *pb.FuseMsg) error {
	if f == nil {
		return errNoBody
	}
	if err := validID(f.Group); err != nil {
		return fmt.Errorf("swim: fuse group: %w", err)
	}
	if len(f.Member) > maxIDLen {
		return fmt.Errorf("swim: fuse member of %d bytes", len(f.Member))
	}
	switch f.Kind {
	case pb.FuseKind_FUSE_CREATE:
		if len(f.Members) < 2 || len(f.Members) > c.cfg.MaxGroupSize {
			return fmt.Errorf("swim: fuse group of %d members; want 2..%d", len(f.Members), c.cfg.MaxGroupSize)
		}
		seenSelf, seenFrom := false, false
		for i, m := range f.Members {
			if err := validID(m); err != nil {
				return fmt.Errorf("swim: fuse member %d: %w", i, err)
			}
			if i > 0 && f.Members[i-1] >= m {
				return errors.New("swim: fuse members not sorted and unique")
			}
			seenSelf = seenSelf || m == string(c.self.ID)
			seenFrom = seenFrom || m == string(from)
		}
		if !seenSelf || !seenFrom {
			return errors.New("swim: fuse group must include its creator and the receiver")
		}
	case pb.FuseKind_FUSE_SIGNAL:
		if int32(f.Reason) < 1 || int32(f.Reason) > maxFuseReason {
			return fmt.Errorf("swim: fuse reason %d", f.Reason)
		}
	case pb.FuseKind_FUSE_CREATE_ACK, pb.FuseKind_FUSE_CONFIRM, pb.FuseKind_FUSE_SIGNAL_ACK:
	default:
		return fmt.Errorf("swim: fuse kind %d", f.Kind)
	}
	return nil
}
