package sim

import (
	"encoding/binary"
	"hash"
	"hash/fnv"
	"time"

	"google.golang.org/protobuf/proto"
)

// traceHash folds delivered events into a 64-bit FNV-1a hash.
type traceHash struct {
	h   hash.Hash64
	buf [32]byte
}

func newTraceHash() traceHash { return traceHash{h: fnv.New64a()} }

func (t *traceHash) header(kind byte, at time.Duration, a, b int32, p int16) {
	t.buf[0] = kind
	binary.LittleEndian.PutUint64(t.buf[1:], uint64(at))
	binary.LittleEndian.PutUint32(t.buf[9:], uint32(a))
	binary.LittleEndian.PutUint32(t.buf[13:], uint32(b))
	binary.LittleEndian.PutUint16(t.buf[17:], uint16(p))
	t.h.Write(t.buf[:19])
}

func (t *traceHash) deliver(at time.Duration, from, to int32, p int16, msg proto.Message, content bool) {
	t.header('d', at, from, to, p)
	if msg == nil {
		return
	}
	t.h.Write([]byte(msg.ProtoReflect().Descriptor().FullName()))
	if content {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(msg)
		t.h.Write(b)
	}
}

func (t *traceHash) linkDown(at time.Duration, n, peer int32) {
	t.header('x', at, n, peer, 0)
}

// TraceHash is the hash of every delivery and link-down so far. Two runs
// with the same seed and the same inputs have equal hashes.
func (s *Sim) TraceHash() uint64 { return s.trace.h.Sum64() }
