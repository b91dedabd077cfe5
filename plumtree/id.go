package plumtree

import (
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// MessageID names a broadcast by its origin and the sequence number the
// origin gave it (1 for its first Broadcast). Origin plus sequence, rather
// than a hash of the payload, makes IDs short, lets two equal payloads be
// two messages, and gives each origin an order a receiver can use to
// remember what it delivered after the cache entry expired.
type MessageID struct {
	Origin membership.NodeID
	Seq    uint64
}

// String renders the ID for logs.
func (id MessageID) String() string { return fmt.Sprintf("%q#%d", string(id.Origin), id.Seq) }

func (id MessageID) less(o MessageID) bool {
	if id.Origin != o.Origin {
		return id.Origin < o.Origin
	}
	return id.Seq < o.Seq
}

func (id MessageID) wire() *pb.MessageID {
	return &pb.MessageID{Origin: []byte(id.Origin), Seq: id.Seq}
}

// idFromWire converts and checks a wire ID.
func idFromWire(w *pb.MessageID) (MessageID, error) {
	if w == nil {
		return MessageID{}, fmt.Errorf("plumtree: missing message id")
	}
	if len(w.Origin) == 0 {
		return MessageID{}, fmt.Errorf("plumtree: message id without origin")
	}
	if w.Seq == 0 {
		return MessageID{}, fmt.Errorf("plumtree: message id with seq 0")
	}
	return MessageID{Origin: membership.NodeID(w.Origin), Seq: w.Seq}, nil
}
