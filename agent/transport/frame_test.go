package transport_test

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/hearsay-mesh/hearsay/agent/transport"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

const fuzzMax = 4096

func frameOf(t testing.TB, bodies ...[]byte) []byte {
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	for _, b := range bodies {
		if err := transport.WriteFrame(w, b, fuzzMax); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestFrameRoundTripAndErrors(t *testing.T) {
	bodies := [][]byte{{}, []byte("a"), bytes.Repeat([]byte{0xab}, 300), bytes.Repeat([]byte{1}, fuzzMax)}
	r := bufio.NewReader(bytes.NewReader(frameOf(t, bodies...)))
	for i, want := range bodies {
		got, err := transport.ReadFrame(r, fuzzMax)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("frame %d: %v, len %d want %d", i, err, len(got), len(want))
		}
	}
	if _, err := transport.ReadFrame(r, fuzzMax); err != io.EOF {
		t.Fatalf("at end: %v, want io.EOF", err)
	}
	var sink bytes.Buffer
	if err := transport.WriteFrame(bufio.NewWriter(&sink), make([]byte, fuzzMax+1), fuzzMax); !errors.Is(err, transport.ErrFrameTooLarge) {
		t.Fatalf("WriteFrame oversize: %v", err)
	}
	for name, tc := range map[string]struct {
		in   []byte
		want error
	}{
		"oversize":  {[]byte{0x81, 0x20}, transport.ErrFrameTooLarge},
		"overflow":  {bytes.Repeat([]byte{0xff}, 11), transport.ErrMalformedFrame},
		"10th byte": {append(bytes.Repeat([]byte{0xff}, 9), 0x02), transport.ErrMalformedFrame},
		"cut body":  {[]byte{0x03, 'a'}, io.ErrUnexpectedEOF},
		"cut len":   {[]byte{0x80}, io.ErrUnexpectedEOF},
	} {
		_, err := transport.ReadFrame(bufio.NewReader(bytes.NewReader(tc.in)), fuzzMax)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{})
	f.Add(frameOf(f, []byte("hello"), nil, []byte("x")))
	f.Add([]byte{0x81, 0x20})
	f.Add(bytes.Repeat([]byte{0xff}, 11))
	f.Add([]byte{0x80, 0x00, 0x01, 'z'}) // non-canonical length
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bufio.NewReader(bytes.NewReader(data))
		for {
			body, err := transport.ReadFrame(r, fuzzMax)
			if err != nil {
				return
			}
			if len(body) > fuzzMax {
				t.Fatalf("body of %d bytes exceeds limit %d", len(body), fuzzMax)
			}
			again, err := transport.ReadFrame(bufio.NewReader(bytes.NewReader(frameOf(t, body))), fuzzMax)
			if err != nil || !bytes.Equal(again, body) {
				t.Fatalf("re-framed body does not round-trip: %v", err)
			}
		}
	})
}

func FuzzDecodeFrame(f *testing.F) {
	good, _ := proto.Marshal(&wrapperspb.BytesValue{Value: []byte("payload")})
	f.Add(frameOf(f, good))
	f.Add(frameOf(f, []byte{0x0a, 0x05, 'x'}))
	f.Add(frameOf(f, []byte{0x00}))
	f.Add(frameOf(f, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}))
	newMsg := func() proto.Message { return &wrapperspb.BytesValue{} }
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := transport.ReadFrame(bufio.NewReader(bytes.NewReader(data)), fuzzMax)
		if err != nil {
			return
		}
		m, err := transport.DecodeMessage(body, newMsg)
		if err != nil {
			return
		}
		enc, err := proto.Marshal(m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		m2, err := transport.DecodeMessage(enc, newMsg)
		if err != nil || !proto.Equal(m, m2) {
			t.Fatalf("decoded message does not round-trip: %v", err)
		}
	})
}

// A frame's body is allocated as its bytes arrive: a peer that announces a
// 1 MiB frame and sends nothing more makes ReadFrame allocate at most
// 64 KiB, not 1 MiB (three bytes per stream pinned hundreds of MiB
// across a few hundred streams).
func TestReadFrameAllocatesAsBytesArrive(t *testing.T) {
	r := bufio.NewReader(bytes.NewReader([]byte{0x80, 0x80, 0x40})) // a 1 MiB length, then EOF
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := transport.ReadFrame(r, 1<<20); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadFrame of a header alone: %v", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 128<<10 {
		t.Fatalf("a 3-byte header made ReadFrame allocate %d bytes", got)
	}
	// A whole frame larger than one chunk still reads back exactly.
	body := make([]byte, 3*64<<10+5)
	for i := range body {
		body[i] = byte(i)
	}
	var buf bytes.Buffer
	w := bufio.NewWriter(&buf)
	if err := transport.WriteFrame(w, body, 1<<20); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	got, err := transport.ReadFrame(bufio.NewReader(&buf), 1<<20)
	if err != nil || !bytes.Equal(got, body) {
		t.Fatalf("a %d-byte frame read back as %d bytes, %v", len(body), len(got), err)
	}
}
