package hyparview

import (
	"errors"
	"fmt"

	pb "github.com/hearsay-mesh/hearsay/hyparview/pb"
	"github.com/hearsay-mesh/hearsay/membership"
)

// Errors Step returns for messages that make no sense. The message
// changed nothing.
var (
	ErrUnknownMessage = errors.New("hyparview: unknown or empty message")
	ErrBadNode        = errors.New("hyparview: bad node record")
	ErrSelfReference  = errors.New("hyparview: message names the receiver itself")
	ErrSenderMismatch = errors.New("hyparview: node record is not the sender's")
	ErrTooMany        = errors.New("hyparview: node list longer than the limit")
	ErrBadTTL         = errors.New("hyparview: TTL beyond the limit")
)

// record builds the wire form of a node.
func record(n membership.Node) *pb.Node {
	return &pb.Node{Id: []byte(n.ID), Addrs: n.Addrs}
}

// fromRecord converts a validated wire record; the addresses are copied so
// that the core never aliases a message.
func fromRecord(r *pb.Node) membership.Node {
	n := membership.Node{ID: membership.NodeID(r.Id)}
	if len(r.Addrs) > 0 {
		n.Addrs = append([]string(nil), r.Addrs...)
	}
	return n
}

// newEntry builds a view entry from a wire record. The record is kept as
// is: messages are read-only once sent or received.
func newEntry(r *pb.Node) entry {
	n := fromRecord(r)
	return entry{node: n, hash: idHash(string(n.ID)), rec: r}
}

func entryOf(n membership.Node) entry {
	n = n.Clone()
	return entry{node: n, hash: idHash(string(n.ID)), rec: record(n)}
}

func (h *HyParView) checkNode(r *pb.Node) error {
	if r == nil || len(r.Id) == 0 {
		return fmt.Errorf("%w: empty id", ErrBadNode)
	}
	if len(r.Id) > h.cfg.MaxIDBytes {
		return fmt.Errorf("%w: id of %d bytes, limit %d", ErrBadNode, len(r.Id), h.cfg.MaxIDBytes)
	}
	if len(r.Addrs) > h.cfg.MaxAddrs {
		return fmt.Errorf("%w: %d addrs, limit %d", ErrBadNode, len(r.Addrs), h.cfg.MaxAddrs)
	}
	for _, a := range r.Addrs {
		if len(a) == 0 || len(a) > h.cfg.MaxAddrBytes {
			return fmt.Errorf("%w: address of %d bytes, want 1..%d", ErrBadNode, len(a), h.cfg.MaxAddrBytes)
		}
	}
	return nil
}

func (h *HyParView) isSelf(r *pb.Node) bool { return string(r.Id) == string(h.self.ID) }

// checkSender validates a record that must describe the sender.
func (h *HyParView) checkSender(from membership.NodeID, r *pb.Node) error {
	if err := h.checkNode(r); err != nil {
		return err
	}
	if string(r.Id) != string(from) {
		return ErrSenderMismatch
	}
	return nil
}

// checkOther validates a record of a third node, which must not be the
// receiver.
func (h *HyParView) checkOther(r *pb.Node) error {
	if err := h.checkNode(r); err != nil {
		return err
	}
	if h.isSelf(r) {
		return ErrSelfReference
	}
	return nil
}

// checkList validates a node list: bounded length, every record valid.
// Records naming the receiver are allowed (another node's views may hold
// it) and skipped when integrated.
func (h *HyParView) checkList(rs []*pb.Node) error {
	if len(rs) > h.cfg.MaxNodesPerMessage {
		return fmt.Errorf("%w: %d nodes, limit %d", ErrTooMany, len(rs), h.cfg.MaxNodesPerMessage)
	}
	for _, r := range rs {
		if err := h.checkNode(r); err != nil {
			return err
		}
	}
	return nil
}

func (h *HyParView) checkTTL(ttl uint32) error {
	if ttl > uint32(h.cfg.MaxTTL) {
		return fmt.Errorf("%w: %d, limit %d", ErrBadTTL, ttl, h.cfg.MaxTTL)
	}
	return nil
}

// validate checks every field of a message from a peer before any state
// changes.
func (h *HyParView) validate(from membership.NodeID, env *pb.Envelope) error {
	switch k := env.Kind.(type) {
	case *pb.Envelope_Join:
		if k.Join == nil {
			return ErrUnknownMessage
		}
		return h.checkSender(from, k.Join.Node)
	case *pb.Envelope_ForwardJoin:
		if k.ForwardJoin == nil {
			return ErrUnknownMessage
		}
		if err := h.checkOther(k.ForwardJoin.Node); err != nil {
			return err
		}
		return h.checkTTL(k.ForwardJoin.Ttl)
	case *pb.Envelope_Neighbor:
		if k.Neighbor == nil {
			return ErrUnknownMessage
		}
		return h.checkSender(from, k.Neighbor.Node)
	case *pb.Envelope_NeighborReply:
		if k.NeighborReply == nil {
			return ErrUnknownMessage
		}
		if k.NeighborReply.Hint != nil {
			return h.checkOther(k.NeighborReply.Hint)
		}
		return nil
	case *pb.Envelope_Disconnect:
		if k.Disconnect == nil {
			return ErrUnknownMessage
		}
		return nil
	case *pb.Envelope_Shuffle:
		s := k.Shuffle
		if s == nil {
			return ErrUnknownMessage
		}
		if err := h.checkOther(s.Origin); err != nil {
			return err
		}
		if err := h.checkTTL(s.Ttl); err != nil {
			return err
		}
		return h.checkList(s.Nodes)
	case *pb.Envelope_ShuffleReply:
		if k.ShuffleReply == nil {
			return ErrUnknownMessage
		}
		return h.checkList(k.ShuffleReply.Nodes)
	default:
		return ErrUnknownMessage
	}
}

// Envelope constructors: one allocation set per message; the records are
// shared, read-only.

func joinMsg(self *pb.Node) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_Join{Join: &pb.Join{Node: self}}}
}

func forwardJoinMsg(n *pb.Node, ttl int) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_ForwardJoin{ForwardJoin: &pb.ForwardJoin{Node: n, Ttl: uint32(ttl)}}}
}

func neighborMsg(self *pb.Node, high bool) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_Neighbor{Neighbor: &pb.Neighbor{Node: self, HighPriority: high}}}
}

// neighborRequest is a NEIGHBOR from this node, telling how many free
// active slots it has (see onNeighbor's splice).
func (h *HyParView) neighborRequest(high bool) *pb.Envelope {
	env := neighborMsg(h.selfRec, high)
	if free := h.cfg.ActiveSize - h.active.len(); free > 0 {
		env.GetNeighbor().FreeSlots = uint32(free)
	}
	return env
}

func neighborReplyMsg(accepted bool) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_NeighborReply{NeighborReply: &pb.NeighborReply{Accepted: accepted}}}
}

// refusalMsg refuses a NEIGHBOR request, naming hint (may be nil), another
// node that asked for room.
func refusalMsg(hint *pb.Node) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_NeighborReply{NeighborReply: &pb.NeighborReply{Hint: hint}}}
}

func disconnectMsg() *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_Disconnect{Disconnect: &pb.Disconnect{}}}
}

func shuffleMsg(origin *pb.Node, ttl int, nodes []*pb.Node, nonce uint64) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_Shuffle{Shuffle: &pb.Shuffle{Origin: origin, Ttl: uint32(ttl), Nodes: nodes, Nonce: nonce}}}
}

func shuffleReplyMsg(nodes []*pb.Node, nonce uint64) *pb.Envelope {
	return &pb.Envelope{Kind: &pb.Envelope_ShuffleReply{ShuffleReply: &pb.ShuffleReply{Nodes: nodes, Nonce: nonce}}}
}
