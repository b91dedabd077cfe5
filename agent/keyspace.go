package agent

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/crdt"
	ds "github.com/ipfs/go-datastore"
	leveldb "github.com/ipfs/go-ds-leveldb"
)

// Datastores a user can choose with --datastore.
const (
	DatastorePebble = "pebble"
	DatastoreMemory = "memory"
	// DatastoreLevelDB is go-ds-leveldb under DataDir/leveldb, with
	// synced writes.
	DatastoreLevelDB = "leveldb"
)

// openStore opens the datastore and the keyspace on it.
func (a *Agent) openStore() error {
	var d ds.Batching
	switch a.cfg.Datastore {
	case DatastorePebble:
		var err error
		if d, err = store.OpenPebble(filepath.Join(a.cfg.DataDir, "store")); err != nil {
			return err
		}
	case DatastoreMemory:
		d = store.OpenMemory()
	case DatastoreLevelDB:
		l, err := leveldb.NewDatastore(filepath.Join(a.cfg.DataDir, "leveldb"), nil)
		if err != nil {
			return fmt.Errorf("agent: open leveldb: %w", err)
		}
		d = l
	default:
		return fmt.Errorf("agent: Datastore = %q; want pebble, leveldb or memory", a.cfg.Datastore)
	}
	opts := storeOptions(a.cfg.AntiEntropy)
	opts.Logger = a.log
	st, err := store.Open(d, crdt.NodeID(nodeID(a.host.ID())), opts)
	if err != nil {
		d.Close()
		return err
	}
	a.ds, a.st = d, st
	return nil
}

func physNow() int64 { return time.Now().UnixNano() }

// storeOptions are the keyspace's limits: a local write may not make a
// key's state larger than anti-entropy can carry to a replica that missed
// its broadcast (the store's own default, 16 MiB, is not; such a write was
// acknowledged and then never repaired).
func storeOptions(ae antientropy.Config) store.Options {
	opts := store.DefaultOptions()
	opts.MaxStateBytes = min(opts.MaxStateBytes, ae.MaxStateBytes)
	opts.MaxValueBytes = min(opts.MaxValueBytes, opts.MaxStateBytes)
	return opts
}

// notify tells change watchers that the feed moved.
func (a *Agent) notify(changes []store.Change) {
	if len(changes) == 0 {
		return
	}
	for _, w := range a.watchers {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// mutate runs a keyspace mutator on the loop; once it returns (the write
// is durable) the delta is broadcast and the change is returned.
func (a *Agent) mutate(ctx context.Context, f func(st *store.Store) ([]byte, store.Change, error)) (store.Change, error) {
	var (
		delta []byte
		ch    store.Change
		err   error
	)
	if derr := a.Do(ctx, func(now time.Duration) {
		delta, ch, err = f(a.st)
		if err != nil || len(delta) == 0 {
			return
		}
		a.notify([]store.Change{ch})
		dot := a.ae.NextDot()
		if werr := a.ae.Wrote(now, ch.Key, dot); werr != nil {
			a.log.Error("anti-entropy refused a local write", "key", ch.Key, "err", werr)
		}
		if serr := a.saveClock(); serr != nil {
			err = fmt.Errorf("agent: the write is durable but its clock is not: %w", serr)
			return
		}
		if a.pt != nil {
			payload := encodeDelta("", dot.Counter, ch.Key, delta)
			if _, berr := a.pt.Broadcast(now, payload); berr != nil {
				a.log.Warn("broadcast of a delta failed; anti-entropy will carry it", "key", ch.Key, "err", berr)
			}
		}
		if a.gs != nil {
			payload := encodeDelta(a.host.ID(), dot.Counter, ch.Key, delta)
			go func() {
				if perr := a.gs.topic.Publish(context.Background(), payload); perr != nil {
					a.log.Warn("gossipsub publish failed", "key", ch.Key, "err", perr)
				}
			}()
		}
	}); derr != nil {
		return store.Change{}, derr
	}
	return ch, err
}

// Put sets a register key.
func (a *Agent) Put(ctx context.Context, key, value string) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Put(key, value, physNow()) })
}

// Inc adds by to a counter key (Dec with a negative by is the same).
func (a *Agent) Inc(ctx context.Context, key string, by int64) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Inc(key, by) })
}

// Dec subtracts by from a counter key.
func (a *Agent) Dec(ctx context.Context, key string, by int64) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Dec(key, by) })
}

// Add adds elements to a set key.
func (a *Agent) Add(ctx context.Context, key string, elems ...string) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Add(key, elems...) })
}

// Remove removes elements from a set key.
func (a *Agent) Remove(ctx context.Context, key string, elems ...string) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Remove(key, elems...) })
}

// Del deletes a key of any type.
func (a *Agent) Del(ctx context.Context, key string) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.Del(key) })
}

// TextInsert inserts s at code point pos of a text key.
func (a *Agent) TextInsert(ctx context.Context, key string, pos int, s string) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.TextInsert(key, pos, s) })
}

// TextDelete deletes n code points at pos of a text key.
func (a *Agent) TextDelete(ctx context.Context, key string, pos, n int) (store.Change, error) {
	return a.mutate(ctx, func(st *store.Store) ([]byte, store.Change, error) { return st.TextDelete(key, pos, n) })
}

// ErrNotFound is returned by Get for a key that does not exist.
var ErrNotFound = store.ErrNotFound

// Get reads a key.
func (a *Agent) Get(ctx context.Context, key string) (store.Value, error) {
	var (
		v  store.Value
		ok bool
	)
	if err := a.Do(ctx, func(time.Duration) { v, ok = a.st.Get(key) }); err != nil {
		return store.Value{}, err
	}
	if !ok {
		return store.Value{}, fmt.Errorf("%w: %q", ErrNotFound, key)
	}
	return v, nil
}

// Keys lists keys with a prefix, after a cursor key, at most limit.
func (a *Agent) Keys(ctx context.Context, prefix, after string, limit int) (keys []string, next string, err error) {
	err = a.Do(ctx, func(time.Duration) { keys, next = a.st.Keys(prefix, after, limit) })
	return keys, next, err
}

// Changes returns the change feed after a cursor.
func (a *Agent) Changes(ctx context.Context, after uint64, limit int) (out []store.Change, seq uint64, err error) {
	if derr := a.Do(ctx, func(time.Duration) {
		out, err = a.st.Changes(after, limit)
		seq = a.st.Seq()
	}); derr != nil {
		return nil, 0, derr
	}
	return out, seq, err
}

// Watch returns a channel that receives a signal whenever the change
// feed moves, and a function to stop watching.
func (a *Agent) Watch(ctx context.Context) (<-chan struct{}, func(), error) {
	ch := make(chan struct{}, 1)
	if err := a.Do(ctx, func(time.Duration) { a.watchers = append(a.watchers, ch) }); err != nil {
		return nil, nil, err
	}
	stop := func() {
		_ = a.Do(context.Background(), func(time.Duration) {
			for i, w := range a.watchers {
				if w == ch {
					a.watchers = append(a.watchers[:i], a.watchers[i+1:]...)
					return
				}
			}
		})
	}
	return ch, stop, nil
}
