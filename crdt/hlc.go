package crdt

import (
	"errors"
	"fmt"
	"math"
)

// Timestamp is a hybrid logical clock reading: physical nanoseconds (as
// handed in by the caller, normally Unix nanoseconds) and a logical counter
// that orders events sharing the same physical part.
type Timestamp struct {
	Wall    int64
	Logical uint32
}

// Compare orders timestamps by Wall, then Logical: -1, 0 or +1.
func (t Timestamp) Compare(o Timestamp) int {
	switch {
	case t.Wall < o.Wall:
		return -1
	case t.Wall > o.Wall:
		return 1
	case t.Logical < o.Logical:
		return -1
	case t.Logical > o.Logical:
		return 1
	}
	return 0
}

// IsZero reports whether t is the zero timestamp.
func (t Timestamp) IsZero() bool { return t == Timestamp{} }

// ErrClockAhead is returned (wrapped) by HLC.Observe when a remote timestamp
// lies further in the future than the clock's MaxAhead allows.
var ErrClockAhead = errors.New("crdt: remote timestamp too far ahead of local physical time")

// HLC is a hybrid logical clock (Kulkarni et al., 2014). It never reads the
// wall clock: every call takes the caller's current physical time in
// nanoseconds.
//
// Behaviour under clock jumps:
//   - Local clock jumps backwards: readings stay monotonic; the clock keeps
//     its last physical part and counts up the logical part until physical
//     time catches up.
//   - Remote clock far ahead: Observe refuses to move the clock more than
//     MaxAhead beyond local physical time and returns ErrClockAhead, so one
//     node with a clock set years ahead cannot drag the whole mesh with it.
//   - Logical overflow (2^32 events within one physical nanosecond tick):
//     the physical part is advanced by one nanosecond.
type HLC struct {
	// MaxAhead bounds, in nanoseconds, how far a remote timestamp may pull
	// this clock ahead of local physical time. Zero or negative means no
	// bound.
	MaxAhead int64
	last     Timestamp
}

// NewHLC returns a clock that accepts remote timestamps at most maxAhead
// nanoseconds ahead of local physical time.
func NewHLC(maxAhead int64) *HLC { return &HLC{MaxAhead: maxAhead} }

// Last returns the latest timestamp issued or observed.
func (c *HLC) Last() Timestamp { return c.last }

// Now returns a timestamp for a local event at physical time phys; it is
// strictly greater than every timestamp this clock issued or observed.
func (c *HLC) Now(phys int64) Timestamp {
	if phys > c.last.Wall {
		c.last = Timestamp{Wall: phys}
	} else {
		c.tick()
	}
	return c.last
}

func (c *HLC) tick() {
	if c.last.Logical == math.MaxUint32 {
		c.last = Timestamp{Wall: c.last.Wall + 1}
		return
	}
	c.last.Logical++
}

// Observe merges a timestamp received from a peer at local physical time
// phys and returns the clock's new reading, which is greater than both the
// remote timestamp and every earlier reading. If remote.Wall exceeds
// phys+MaxAhead the clock is left unchanged and an error wrapping
// ErrClockAhead is returned; the caller may still merge the data but should
// treat the peer's clock as faulty.
func (c *HLC) Observe(remote Timestamp, phys int64) (Timestamp, error) {
	if c.MaxAhead > 0 && remote.Wall > phys && remote.Wall-phys > c.MaxAhead {
		return c.last, fmt.Errorf("%w: remote %d, local %d, bound %d ns", ErrClockAhead, remote.Wall, phys, c.MaxAhead)
	}
	switch {
	case phys > c.last.Wall && phys > remote.Wall:
		c.last = Timestamp{Wall: phys}
	case remote.Compare(c.last) > 0:
		c.last = remote
		c.tick()
	default:
		c.tick()
	}
	return c.last, nil
}
