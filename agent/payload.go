package agent

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Every payload the agent broadcasts starts with a kind byte, so that an
// application's payload (Publish) can never be taken for a keyspace delta,
// whatever its bytes.
const (
	// payloadDelta: a keyspace delta whose writer is the broadcast's
	// origin (plumtree names the origin of every message).
	payloadDelta = 0x01
	// payloadApp: an application payload from Publish, for OnDeliver.
	payloadApp = 0x02
	// payloadDeltaFrom: a keyspace delta that names its writer. GossipSub
	// messages carry no author here (WithNoAuthor), and the peer a message
	// came from is only the last forwarder.
	payloadDeltaFrom = 0x03
	// payloadAppNonce: an application payload from Publish over GossipSub,
	// after 8 random bytes. GossipSub names a message by the hash of its
	// bytes (there is no author or sequence number to add), so without
	// them a payload published twice was delivered once.
	payloadAppNonce = 0x04
)

// appNonceLen is the length of payloadAppNonce's random prefix.
const appNonceLen = 8

// deltaPayload is a decoded keyspace delta broadcast.
type deltaPayload struct {
	writer membership.NodeID // "" for payloadDelta: the broadcast's origin
	dot    uint64            // the writer's anti-entropy dot counter
	key    string
	delta  []byte // the store's delta; aliases the payload
}

// encodeApp frames an application payload.
func encodeApp(p []byte) []byte {
	return append([]byte{payloadApp}, p...)
}

// encodeAppNonce frames an application payload for GossipSub.
func encodeAppNonce(p []byte) []byte {
	b := make([]byte, 1+appNonceLen, 1+appNonceLen+len(p))
	b[0] = payloadAppNonce
	rand.Read(b[1 : 1+appNonceLen]) // never fails (crypto/rand)
	return append(b, p...)
}

// encodeDelta frames a keyspace delta: the kind byte, the writer (only when
// writer is not empty: payloadDeltaFrom) as a length-prefixed binary peer
// ID, the writer's dot counter, the key, then the store's delta.
func encodeDelta(writer peer.ID, dot uint64, key string, delta []byte) []byte {
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(writer)+len(key)+len(delta))
	if writer == "" {
		b = append(b, payloadDelta)
	} else {
		b = append(b, payloadDeltaFrom)
		b = binary.AppendUvarint(b, uint64(len(writer)))
		b = append(b, writer...)
	}
	b = binary.AppendUvarint(b, dot)
	b = binary.AppendUvarint(b, uint64(len(key)))
	b = append(b, key...)
	return append(b, delta...)
}

var errShortPayload = errors.New("agent: truncated delta payload")

// decodeDelta decodes a payload of kind payloadDelta or payloadDeltaFrom.
// It never panics; a payloadDeltaFrom must name a valid peer ID.
func decodeDelta(p []byte) (deltaPayload, error) {
	var d deltaPayload
	if len(p) == 0 || (p[0] != payloadDelta && p[0] != payloadDeltaFrom) {
		return d, errors.New("agent: not a delta payload")
	}
	kind := p[0]
	p = p[1:]
	field := func() ([]byte, error) {
		n, k := binary.Uvarint(p)
		if k <= 0 || n > uint64(len(p)-k) {
			return nil, errShortPayload
		}
		f := p[k : k+int(n)]
		p = p[k+int(n):]
		return f, nil
	}
	if kind == payloadDeltaFrom {
		w, err := field()
		if err != nil {
			return d, err
		}
		id, err := peer.IDFromBytes(w)
		if err == nil {
			// The writer must be named the way SWIM and plumtree name
			// it: an ID whose text form parses back to it.
			_, err = peer.Decode(id.String())
		}
		if err != nil {
			return d, fmt.Errorf("agent: delta payload names no valid writer: %w", err)
		}
		d.writer = nodeID(id)
	}
	dot, k := binary.Uvarint(p)
	if k <= 0 {
		return d, errShortPayload
	}
	p = p[k:]
	key, err := field()
	if err != nil {
		return d, err
	}
	d.dot, d.key, d.delta = dot, string(key), p
	return d, nil
}
