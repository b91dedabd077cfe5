package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hearsay-mesh/hearsay/rpc"
)

func rpcCall(p *proc, method string, params, out any) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return p.client.Call(ctx, method, params, out)
}

// snapshot reads keys at one agent as canonical JSON ("" for a missing key).
func snapshot(p *proc, keys []string) (map[string]string, error) {
	out := map[string]string{}
	for _, k := range keys {
		var res rpc.GetResult
		err := rpcCall(p, "crdt_get", rpc.KeyParams{Key: k}, &res)
		if err != nil {
			out[k] = ""
			continue
		}
		b, _ := json.Marshal(res.Value)
		out[k] = string(b)
	}
	return out, nil
}

func equalSnapshots(ps []*proc, keys []string) (bool, map[string]string) {
	var first map[string]string
	for _, p := range ps {
		s, err := snapshot(p, keys)
		if err != nil {
			return false, nil
		}
		if first == nil {
			first = s
			continue
		}
		for k, v := range first {
			if s[k] != v {
				return false, first
			}
		}
	}
	return true, first
}

// TestFiveAgentsConvergeAndSurviveSIGKILL is issue 7's end-to-end check,
// as processes on 127.0.0.1: writes of every type at every agent become
// equal everywhere within 2 s; an agent killed with SIGKILL in the middle
// of a stream of writes keeps every write it acknowledged after a restart
// (which rejoins without --join) and catches up on what it missed.
func TestFiveAgentsConvergeAndSurviveSIGKILL(t *testing.T) {
	if testing.Short() {
		t.Skip("starts 5 processes")
	}
	bin := hearsayBinary(t)
	root := t.TempDir()
	ps := []*proc{startAgent(t, bin, filepath.Join(root, "a0"))}
	for i := 1; i < 5; i++ {
		ps = append(ps, startAgent(t, bin, filepath.Join(root, fmt.Sprintf("a%d", i)), ps[0].addr))
	}
	if _, ok := waitFor(20*time.Second, func() bool {
		for _, p := range ps {
			ms, err := p.client.Members(context.Background())
			if err != nil {
				return false
			}
			alive := 0
			for _, m := range ms {
				if m.State == "alive" {
					alive++
				}
			}
			if alive != len(ps) {
				return false
			}
		}
		return true
	}); !ok {
		t.Fatal("the 5 agents did not all see each other alive within 20s")
	}

	// Writes of every type at every agent.
	keys := []string{"hits", "down", "tags", "doc", "gone"}
	for i, p := range ps {
		k := fmt.Sprintf("reg/%d", i)
		keys = append(keys, k)
		v := fmt.Sprintf("v%d", i)
		by := int64(i + 1)
		one := int64(1)
		pos := 0
		word := fmt.Sprintf("w%d ", i)
		calls := []struct {
			m string
			p any
		}{
			{"crdt_put", rpc.PutParams{Key: k, Value: &v}},
			{"crdt_put", rpc.PutParams{Key: "gone", Value: &v}},
			{"crdt_inc", rpc.IncParams{Key: "hits", By: &by}},
			{"crdt_dec", rpc.IncParams{Key: "down", By: &one}},
			{"crdt_add", rpc.SetParams{Key: "tags", Elements: []string{fmt.Sprintf("t%d", i), "x"}}},
			{"text_insert", rpc.TextInsertParams{Key: "doc", Pos: &pos, Text: &word}},
		}
		for _, c := range calls {
			if err := rpcCall(p, c.m, c.p, nil); err != nil {
				t.Fatalf("agent %d %s: %v", i, c.m, err)
			}
		}
	}
	if err := rpcCall(ps[1], "crdt_remove", rpc.SetParams{Key: "tags", Elements: []string{"x"}}, nil); err == nil {
		// x was added at every agent; a remove at one agent removes only what it has seen.
	} else {
		t.Fatal(err)
	}
	if err := rpcCall(ps[2], "crdt_del", rpc.KeyParams{Key: "gone"}, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	took, ok := waitFor(10*time.Second, func() bool { eq, _ := equalSnapshots(ps, keys); return eq })
	_, snap := equalSnapshots(ps, keys)
	t.Logf("all 5 agents equal %v after the last write: %v", took, snap)
	if !ok || time.Since(start) > 2*time.Second+500*time.Millisecond {
		t.Fatalf("agents not equal within 2s of the last write (took %v, equal=%v)", took, ok)
	}
	if snap["hits"] != `{"type":"counter","value":15}` {
		t.Errorf("hits = %s, want 15", snap["hits"])
	}

	// A stream of writes at agent 2; SIGKILL it in the middle.
	victim := ps[2]
	var mu sync.Mutex
	var acked []string
	streamDone := make(chan struct{})
	go func() {
		defer close(streamDone)
		for j := 0; ; j++ {
			k := fmt.Sprintf("stream/%03d", j)
			v := "s"
			if err := rpcCall(victim, "crdt_put", rpc.PutParams{Key: k, Value: &v}, nil); err != nil {
				return
			}
			mu.Lock()
			acked = append(acked, k)
			mu.Unlock()
		}
	}()
	if _, ok := waitFor(10*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(acked) >= 20 }); !ok {
		t.Fatal("the write stream did not get going")
	}
	victim.kill(syscall.SIGKILL)
	<-streamDone
	mu.Lock()
	ackedKeys := append([]string(nil), acked...)
	mu.Unlock()
	t.Logf("agent 2 acknowledged %d writes before SIGKILL", len(ackedKeys))

	// While it is down, the others write.
	var missed []string
	for j := 0; j < 20; j++ {
		k := fmt.Sprintf("during/%03d", j)
		v := "d"
		if err := rpcCall(ps[j%2], "crdt_put", rpc.PutParams{Key: k, Value: &v}, nil); err != nil {
			t.Fatal(err)
		}
		missed = append(missed, k)
	}

	// Restart it from its data directory, without --join.
	restarted := startAgent(t, bin, victim.dataDir)
	ps[2] = restarted
	have, _ := snapshot(restarted, ackedKeys)
	for _, k := range ackedKeys {
		if have[k] == "" {
			t.Fatalf("acknowledged write %s lost across SIGKILL", k)
		}
	}
	all := append(append(append([]string(nil), keys...), ackedKeys...), missed...)
	took, ok = waitFor(60*time.Second, func() bool { eq, _ := equalSnapshots(ps, all); return eq })
	if !ok {
		_, first := equalSnapshots(ps[2:3], all)
		t.Fatalf("the restarted agent did not catch up within 60s; it has %v", first)
	}
	t.Logf("restarted agent caught up with all %d keys %v after its restart", len(all), took)
}
