package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/hearsay-mesh/hearsay/crdt"
	"github.com/ipfs/go-datastore"
	"github.com/ipfs/go-datastore/query"
)

// nodeDict is the store-wide node dictionary: it numbers the writers named
// in stored records (0, 1, 2, ... in order of first use), so a record
// names a writer in one or two bytes instead of its 52-character peer ID.
// Each number is persisted once, under /store/n/<number>, in the same
// batch as the first record that uses it, so no durable record ever names
// a number that is not durable too. Numbers are local to this replica:
// State and Digest use node IDs, never numbers.
type nodeDict struct {
	ids     []crdt.NodeID
	num     map[crdt.NodeID]uint64
	durable int // ids[:durable] are in the datastore
}

// Index implements crdt.Dict.
func (d *nodeDict) Index(n crdt.NodeID) uint64 {
	i, ok := d.num[n]
	if !ok {
		i = uint64(len(d.ids))
		d.num[n] = i
		d.ids = append(d.ids, n)
	}
	return i
}

// Node implements crdt.Dict.
func (d *nodeDict) Node(i uint64) (crdt.NodeID, bool) {
	if i >= uint64(len(d.ids)) {
		return "", false
	}
	return d.ids[i], true
}

// putPending adds the numbers assigned since the last commit to batch b.
// A failed commit leaves them pending, and the next batch writes them.
func (d *nodeDict) putPending(b datastore.Batch) error {
	for i := d.durable; i < len(d.ids); i++ {
		if err := b.Put(bg(), nodeKey(uint64(i)), []byte(d.ids[i])); err != nil {
			return fmt.Errorf("store: put node %d: %w", i, err)
		}
	}
	return nil
}

// committed marks every number assigned so far as durable.
func (d *nodeDict) committed(n int) { d.durable = max(d.durable, n) }

// loadDict reads the node dictionary: numbers 0..n-1, each a distinct,
// non-empty node ID of at most crdt.MaxNodeIDLen bytes.
func (s *Store) loadDict() error {
	s.dict = &nodeDict{num: map[crdt.NodeID]uint64{}}
	res, err := s.ds.Query(bg(), query.Query{Prefix: prefixNode})
	if err != nil {
		return fmt.Errorf("store: query node dictionary: %w", err)
	}
	defer res.Close()
	byNum := map[uint64]crdt.NodeID{}
	for r := range res.Next() {
		if r.Error != nil {
			return fmt.Errorf("store: read node dictionary: %w", r.Error)
		}
		name, ok := strings.CutPrefix(r.Key, prefixNode+"/")
		i, err := strconv.ParseUint(name, 16, 64)
		if !ok || err != nil || len(name) != 16 {
			return fmt.Errorf("%w: datastore key %q in the node dictionary", ErrCorrupt, r.Key)
		}
		if len(r.Value) == 0 || len(r.Value) > crdt.MaxNodeIDLen {
			return fmt.Errorf("%w: node %d of the dictionary has an ID of %d bytes", ErrCorrupt, i, len(r.Value))
		}
		byNum[i] = crdt.NodeID(r.Value)
	}
	for i := range uint64(len(byNum)) {
		n, ok := byNum[i]
		if !ok {
			return fmt.Errorf("%w: node dictionary of %d entries lacks number %d", ErrCorrupt, len(byNum), i)
		}
		if _, dup := s.dict.num[n]; dup {
			return fmt.Errorf("%w: node dictionary holds %q twice", ErrCorrupt, n)
		}
		s.dict.Index(n)
	}
	s.dict.committed(len(s.dict.ids))
	return nil
}
