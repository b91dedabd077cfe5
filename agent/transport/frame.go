package transport

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"

	"google.golang.org/protobuf/proto"
)

// ErrFrameTooLarge is returned when a frame's length exceeds the limit.
var ErrFrameTooLarge = errors.New("transport: frame too large")

// ErrMalformedFrame is returned when a frame's length prefix is not a valid
// uvarint (more than 10 bytes, or overflowing 64 bits).
var ErrMalformedFrame = errors.New("transport: malformed frame length")

// WriteFrame writes one frame, a uvarint length then body, to w. It does not
// flush: the stream writer flushes once its queue is empty, so a burst of
// messages goes out in few packets.
func WriteFrame(w *bufio.Writer, body []byte, maxSize int) error {
	if len(body) > maxSize {
		return fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, len(body), maxSize)
	}
	var hdr [binary.MaxVarintLen64]byte
	n := binary.PutUvarint(hdr[:], uint64(len(body)))
	if _, err := w.Write(hdr[:n]); err != nil {
		return err
	}
	_, err := w.Write(body)
	return err
}

// FrameSize is how many bytes WriteFrame writes for body.
func FrameSize(body []byte) int {
	var hdr [binary.MaxVarintLen64]byte
	return binary.PutUvarint(hdr[:], uint64(len(body))) + len(body)
}

// frameChunk is the most ReadFrame allocates ahead of the bytes that have
// arrived.
const frameChunk = 64 << 10

// ReadFrame reads one frame from r. The length is checked against maxSize
// first, and the body grows as its bytes arrive (at most frameChunk ahead
// of them): a peer that announces a 1 MiB frame and sends nothing more
// holds 64 KiB here, not 1 MiB (three bytes per stream pinned hundreds of
// MiB across a few hundred streams). It returns io.EOF only at a clean
// frame boundary and io.ErrUnexpectedEOF for a truncated frame.
func ReadFrame(r *bufio.Reader, maxSize int) ([]byte, error) {
	n, err := readUvarint(r)
	if err != nil {
		return nil, err
	}
	if n > uint64(maxSize) {
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrFrameTooLarge, n, maxSize)
	}
	body := make([]byte, 0, min(int(n), frameChunk))
	for len(body) < int(n) {
		k := min(int(n)-len(body), frameChunk)
		body = slices.Grow(body, k)
		if _, err := io.ReadFull(r, body[len(body):len(body)+k]); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		body = body[:len(body)+k]
	}
	return body, nil
}

// DecodeMessage unmarshals a frame body into a fresh message from newMsg.
// Unknown fields are kept (a newer peer may add fields).
func DecodeMessage(body []byte, newMsg func() proto.Message) (proto.Message, error) {
	m := newMsg()
	if err := proto.Unmarshal(body, m); err != nil {
		return nil, fmt.Errorf("transport: decode %T: %w", m, err)
	}
	return m, nil
}

// readUvarint is binary.ReadUvarint with an exported overflow error, so the
// reader can tell bad peer input from I/O errors.
func readUvarint(r io.ByteReader) (uint64, error) {
	var x uint64
	var shift uint
	for i := 0; i < binary.MaxVarintLen64; i++ {
		b, err := r.ReadByte()
		if err != nil {
			if i > 0 && errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return 0, err
		}
		if b < 0x80 {
			if i == binary.MaxVarintLen64-1 && b > 1 {
				return 0, ErrMalformedFrame
			}
			return x | uint64(b)<<shift, nil
		}
		x |= uint64(b&0x7f) << shift
		shift += 7
	}
	return 0, ErrMalformedFrame
}
