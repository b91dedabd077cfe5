package trace

import (
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/hearsay-mesh/hearsay/crdt/text"
)

// applyTxn applies a transaction's patches to d as local edits, appending
// their operations to out.
func applyTxn(d *text.Doc, x *Txn, out *text.Delta) error {
	for i := range x.Patches {
		p := &x.Patches[i]
		if p.Del > 0 {
			if err := d.AppendDelete(out, p.Pos, p.Del); err != nil {
				return err
			}
		}
		if p.Ins != "" {
			if err := d.AppendInsert(out, p.Pos, p.Ins); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyTxnPublic applies a transaction's patches with Insert and Delete,
// each returning its own Delta, which it drops.
func applyTxnPublic(d *text.Doc, x *Txn) error {
	for i := range x.Patches {
		p := &x.Patches[i]
		if p.Del > 0 {
			if _, err := d.Delete(p.Pos, p.Del); err != nil {
				return err
			}
		}
		if p.Ins != "" {
			if _, err := d.Insert(p.Pos, p.Ins); err != nil {
				return err
			}
		}
	}
	return nil
}

// AgentName is the replica name used for trace agent i.
func AgentName(i int) string { return fmt.Sprintf("agent%d", i) }

// ReplaySequential replays a sequential trace as local edits of one replica.
// With keep, it also returns each transaction's delta (the start content's
// insert, if any, first); without, each edit is an Insert or Delete call
// whose returned Delta is dropped.
func ReplaySequential(t *Trace, keep bool) (*text.Doc, []text.Delta, error) {
	d, err := text.New(AgentName(0))
	if err != nil {
		return nil, nil, err
	}
	var deltas []text.Delta
	if keep {
		deltas = make([]text.Delta, 0, len(t.Txns)+1)
	}
	if t.StartContent != "" {
		x, err := d.Insert(0, t.StartContent)
		if err != nil {
			return nil, nil, err
		}
		if keep {
			deltas = append(deltas, x)
		}
	}
	for i := range t.Txns {
		if !keep {
			if err := applyTxnPublic(d, &t.Txns[i]); err != nil {
				return nil, nil, fmt.Errorf("txn %d: %w", i, err)
			}
			continue
		}
		var dl text.Delta
		if err := applyTxn(d, &t.Txns[i], &dl); err != nil {
			return nil, nil, fmt.Errorf("txn %d: %w", i, err)
		}
		deltas = append(deltas, dl)
	}
	return d, deltas, nil
}

// ReplayReusing replays a sequential trace as local edits like
// ReplaySequential, producing each transaction's delta with AppendInsert and
// AppendDelete into one reused Delta, as an agent that encodes and ships
// each delta before the next edit would. ship, if not nil, sees each delta
// before its storage is reused.
func ReplayReusing(t *Trace, ship func(text.Delta)) (*text.Doc, error) {
	d, err := text.New(AgentName(0))
	if err != nil {
		return nil, err
	}
	var buf text.Delta
	if t.StartContent != "" {
		if err := d.AppendInsert(&buf, 0, t.StartContent); err != nil {
			return nil, err
		}
		if ship != nil {
			ship(buf)
		}
	}
	for i := range t.Txns {
		buf.Inserts, buf.Deletes = buf.Inserts[:0], buf.Deletes[:0]
		if err := applyTxn(d, &t.Txns[i], &buf); err != nil {
			return nil, fmt.Errorf("txn %d: %w", i, err)
		}
		if ship != nil {
			ship(buf)
		}
	}
	return d, nil
}

// Concurrent is the outcome of replaying a concurrent trace.
type Concurrent struct {
	Replicas []*text.Doc // one per agent, each holding every transaction
	Deltas   []text.Delta
}

// ReplayConcurrent replays a concurrent trace with one replica per agent.
// Before each transaction, the agent's replica receives the transactions of
// its parents' history it has not seen; at the end every replica receives
// the rest. With rng nil both happen in trace order; otherwise each batch is
// delivered in a random order, with random duplicates, which the replicas
// must buffer and sort out.
func ReplayConcurrent(t *Trace, rng *rand.Rand) (*Concurrent, error) {
	n := len(t.Txns)
	out := &Concurrent{Deltas: make([]text.Delta, n)}
	seen := make([][]bool, t.NumAgents)
	for a := range t.NumAgents {
		d, err := text.New(AgentName(a))
		if err != nil {
			return nil, err
		}
		out.Replicas = append(out.Replicas, d)
		seen[a] = make([]bool, n)
	}
	last := make([]int, t.NumAgents)
	for a := range last {
		last[a] = -1
	}
	var stack, batch []int
	for i, x := range t.Txns {
		a, d := x.Agent, out.Replicas[x.Agent]
		// Collect the unseen part of the parents' history.
		batch = batch[:0]
		stack = append(stack[:0], x.Parents...)
		reached := last[a] < 0
		for len(stack) > 0 {
			p := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			reached = reached || p == last[a]
			if seen[a][p] {
				continue
			}
			seen[a][p] = true
			batch = append(batch, p)
			stack = append(stack, t.Txns[p].Parents...)
		}
		if !reached {
			return nil, fmt.Errorf("txn %d: agent %d's previous txn %d is not an ancestor", i, a, last[a])
		}
		if err := deliver(d, out.Deltas, batch, rng); err != nil {
			return nil, fmt.Errorf("txn %d: %w", i, err)
		}
		if d.Parked() != 0 {
			return nil, fmt.Errorf("txn %d: replica %d has %d parked ops after receiving the parents", i, a, d.Parked())
		}
		if err := applyTxn(d, &t.Txns[i], &out.Deltas[i]); err != nil {
			return nil, fmt.Errorf("txn %d: %w", i, err)
		}
		seen[a][i] = true
		last[a] = i
	}
	for a, d := range out.Replicas {
		batch = batch[:0]
		for i := range n {
			if !seen[a][i] {
				batch = append(batch, i)
			}
		}
		if err := deliver(d, out.Deltas, batch, rng); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// deliver applies deltas[batch...] to d: in trace order without rng, else
// shuffled with about one in eight duplicated.
func deliver(d *text.Doc, deltas []text.Delta, batch []int, rng *rand.Rand) error {
	slices.Sort(batch)
	if rng != nil {
		for _, i := range batch {
			if rng.IntN(8) == 0 {
				batch = append(batch, i)
			}
		}
		rng.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
	}
	for _, i := range batch {
		if err := d.Apply(deltas[i]); err != nil {
			return err
		}
	}
	return nil
}

// ApplyRemote applies deltas in order to a fresh replica, as a peer would.
func ApplyRemote(deltas []text.Delta) (*text.Doc, error) {
	d, err := text.New("remote")
	if err != nil {
		return nil, err
	}
	for i, x := range deltas {
		if err := d.Apply(x); err != nil {
			return nil, fmt.Errorf("delta %d: %w", i, err)
		}
	}
	return d, nil
}
