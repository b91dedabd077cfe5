package text

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the first byte of every encoding this package writes.
const Version = 1

// ErrCorrupt wraps every decoding error.
var ErrCorrupt = errors.New("text: corrupt encoding")

func corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCorrupt, fmt.Sprintf(format, args...))
}

func putUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func putZigzag(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func putString(b []byte, s string) []byte {
	b = putUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// reader decodes untrusted bytes; the first error sticks and every later
// read returns zero values.
type reader struct {
	b   []byte
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = corrupt(format, args...)
	}
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *reader) zigzag() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail("bad varint")
		return 0
	}
	r.b = r.b[n:]
	return v
}

// u32 reads a uvarint that must fit below max.
func (r *reader) u32(max uint64, what string) uint32 {
	v := r.uvarint()
	if v >= max {
		r.fail("%s %d out of range", what, v)
		return 0
	}
	return uint32(v)
}

// count reads a number of items, each taking at least one byte.
func (r *reader) count(what string) int {
	v := r.uvarint()
	if v > uint64(len(r.b)) {
		r.fail("%s count %d exceeds input", what, v)
		return 0
	}
	return int(v)
}

func (r *reader) bytes(n uint64) []byte {
	if r.err != nil {
		return nil
	}
	if n > uint64(len(r.b)) {
		r.fail("length %d exceeds input", n)
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *reader) str() string { return string(r.bytes(r.uvarint())) }

func (r *reader) version() {
	if len(r.b) == 0 {
		r.fail("empty input")
		return
	}
	if r.b[0] != Version {
		r.fail("version %d, want %d", r.b[0], Version)
	}
	r.b = r.b[1:]
}

func (r *reader) done() error {
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d trailing bytes", len(r.b))
	}
	return r.err
}
