package agent

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/libp2p/go-libp2p/core/peer"
)

// storeDelta returns a genuine store delta: writer's Put of key.
func storeDelta(t *testing.T, writer peer.ID, key, value string) []byte {
	t.Helper()
	st, err := store.Open(store.OpenMemory(), crdt.NodeID(nodeID(writer)), store.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	delta, _, err := st.Put(key, value, time.Now().UnixNano())
	if err != nil {
		t.Fatal(err)
	}
	return delta
}

func TestDeltaPayloadRoundTrip(t *testing.T) {
	w := testPeerID(t)
	for _, writer := range []peer.ID{"", w} {
		p := encodeDelta(writer, 42, "k/1", []byte("delta bytes"))
		d, err := decodeDelta(p)
		if err != nil {
			t.Fatalf("writer %q: %v", writer, err)
		}
		wantWriter := ""
		if writer != "" {
			wantWriter = string(nodeID(writer))
		}
		if string(d.writer) != wantWriter || d.dot != 42 || d.key != "k/1" || string(d.delta) != "delta bytes" {
			t.Fatalf("writer %q: decoded %+v", writer, d)
		}
		for n := 0; n < len(p)-len("delta bytes"); n++ {
			if _, err := decodeDelta(p[:n]); err == nil {
				t.Fatalf("writer %q: a payload cut to %d bytes decoded", writer, n)
			}
		}
	}
	if _, err := decodeDelta(encodeApp([]byte{payloadDelta, 1, 1, 'k'})); err == nil {
		t.Fatal("an application payload decoded as a delta")
	}
	bad := append([]byte{payloadDeltaFrom, 3}, "abc"...)
	bad = append(bad, 1, 1, 'k')
	if _, err := decodeDelta(bad); err == nil {
		t.Fatal("a delta naming an invalid peer ID decoded")
	}
}

func FuzzDecodeDelta(f *testing.F) {
	f.Add(encodeDelta("", 1, "k", []byte{1, 2}))
	f.Add(encodeDelta(peer.ID("\x00\x24\x08\x01\x12\x20"+string(make([]byte, 32))), 9, "key", nil))
	f.Add([]byte{payloadDeltaFrom, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, p []byte) {
		d, err := decodeDelta(p)
		if err != nil {
			return
		}
		var w peer.ID
		if d.writer != "" {
			id, err := peer.Decode(string(d.writer))
			if err != nil {
				t.Fatalf("decoded writer %q is not a peer ID: %v", d.writer, err)
			}
			w = id
		}
		if again := encodeDelta(w, d.dot, d.key, d.delta); !bytes.Equal(again, p) {
			// Varints may be non-minimal on the wire; what decodes must
			// still decode to the same fields.
			d2, err := decodeDelta(again)
			if err != nil || d2.writer != d.writer || d2.dot != d.dot || d2.key != d.key || !bytes.Equal(d2.delta, d.delta) {
				t.Fatalf("re-encoding %x gave %x, decoded %+v %v", p, again, d2, err)
			}
		}
	})
}

func testPeerID(t *testing.T) peer.ID {
	t.Helper()
	id, err := peer.Decode("12D3KooWNEFm52XtABdUA42utR3ZvBLw69RxAE8vx43m7CgyLQ2g")
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// An application payload whose bytes are exactly a keyspace delta's reaches
// every agent's OnDeliver unchanged and writes no key: the kind byte keeps
// Publish and the keyspace apart.
func TestPublishedPayloadIsNeverAKeyspaceWrite(t *testing.T) {
	const n = 3
	var mu sync.Mutex
	got := map[int][]byte{}
	agents := testAgents(t, n, BroadcastPlumtree, func(i int, d Delivery) {
		mu.Lock()
		got[i] = append([]byte(nil), d.Payload...)
		mu.Unlock()
	})
	ctx := context.Background()
	waitUntil(t, 10*time.Second, "every agent to have a broadcast neighbour", func() bool {
		for _, a := range agents {
			p, err := a.Peers(ctx)
			if err != nil || len(p.Active) == 0 {
				return false
			}
		}
		return true
	})
	payload := encodeDelta("", 1, "forged", storeDelta(t, agents[0].ID(), "forged", "v"))
	if err := agents[0].Publish(ctx, payload); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "the payload at every agent", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == n
	})
	for i, a := range agents {
		if !bytes.Equal(got[i], payload) {
			t.Errorf("agent %d: OnDeliver got %x, want %x", i, got[i], payload)
		}
		if v, err := a.Get(ctx, "forged"); !errors.Is(err, ErrNotFound) {
			t.Errorf("agent %d: the published payload wrote a key: %+v %v", i, v, err)
		}
	}
}

// A GossipSub delta names its writer: the agent that merges it records the
// writer's dot, not one of the forwarder's, whoever forwarded it.
func TestGossipSubDeltaRecordsItsWriter(t *testing.T) {
	agents := testAgents(t, 3, BroadcastGossipSub, func(int, Delivery) {})
	writer, forwarder, receiver := agents[0], agents[1], agents[2]
	payload := encodeDelta(writer.ID(), 1, "k", storeDelta(t, writer.ID(), "k", "v"))
	ctx := context.Background()
	var wrote, forwarded uint64
	if err := receiver.Do(ctx, func(time.Duration) {
		receiver.deliver(Delivery{Origin: forwarder.ID(), Payload: payload})
		k := receiver.ae.Clock()
		wrote, forwarded = k.Max(nodeID(writer.ID())), k.Max(nodeID(forwarder.ID()))
	}); err != nil {
		t.Fatal(err)
	}
	if wrote != 1 || forwarded != 0 {
		t.Fatalf("receiver's clock: writer's dots up to %d (want 1), forwarder's up to %d (want 0)", wrote, forwarded)
	}
	if v, err := receiver.Get(ctx, "k"); err != nil || v.Str != "v" {
		t.Fatalf("receiver's k = %+v, %v; want v", v, err)
	}
}

// Under GossipSub a delta must name its writer: one without (kind 0x01,
// from an older node or a forger) is dropped, not credited to the peer
// that forwarded it.
func TestGossipSubDropsDeltasWithoutWriter(t *testing.T) {
	agents := testAgents(t, 3, BroadcastGossipSub, func(int, Delivery) {})
	writer, forwarder, receiver := agents[0], agents[1], agents[2]
	payload := encodeDelta("", 7, "k", storeDelta(t, writer.ID(), "k", "v"))
	ctx := context.Background()
	var fw uint64
	if err := receiver.Do(ctx, func(time.Duration) {
		receiver.deliver(Delivery{Origin: forwarder.ID(), Payload: payload})
		fw = receiver.ae.Clock().Max(nodeID(forwarder.ID()))
	}); err != nil {
		t.Fatal(err)
	}
	if fw != 0 {
		t.Fatalf("the writer's delta was recorded as the forwarder's dot %d", fw)
	}
	if _, err := receiver.Get(ctx, "k"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the delta without a writer was applied: %v", err)
	}
}

// The same bytes published twice are delivered twice with either protocol
// (GossipSub names a message by the hash of its bytes, so it dropped the
// second copy until Publish added a nonce).
func TestRepeatedPublishIsDeliveredEachTime(t *testing.T) {
	for _, proto := range []string{BroadcastPlumtree, BroadcastGossipSub} {
		t.Run(proto, func(t *testing.T) {
			var mu sync.Mutex
			got := map[int]int{}
			agents := testAgents(t, 2, proto, func(i int, d Delivery) {
				if string(d.Payload) == "ping" {
					mu.Lock()
					got[i]++
					mu.Unlock()
				}
			})
			ctx := context.Background()
			waitUntil(t, 10*time.Second, "a broadcast neighbour each", func() bool {
				for _, a := range agents {
					if proto == BroadcastGossipSub {
						if a.GossipSubMesh() == 0 {
							return false
						}
						continue
					}
					if p, err := a.Peers(ctx); err != nil || len(p.Active) == 0 {
						return false
					}
				}
				return true
			})
			for range 2 {
				if err := agents[0].Publish(ctx, []byte("ping")); err != nil {
					t.Fatal(err)
				}
			}
			waitUntil(t, 10*time.Second, "two deliveries at each agent", func() bool {
				mu.Lock()
				defer mu.Unlock()
				return got[0] == 2 && got[1] == 2
			})
		})
	}
}
