package store

import (
	"fmt"

	"github.com/ipfs/go-datastore/query"
)

// Footprint is what the keyspace occupies in the datastore: the values of
// the key records and of the node dictionary, as written (not the
// datastore keys, which hold the user keys, nor the datastore's own
// overhead).
type Footprint struct {
	Records     int   // key records (keys with a state, deleted ones included)
	RecordBytes int64 // bytes of all key records
	Nodes       int   // node dictionary entries
	NodeBytes   int64 // bytes of all node dictionary entries
}

// Footprint reads the datastore and measures the records and the node
// dictionary it holds (BenchmarkCatchUp's meta-B/key and docs/store.md).
func (s *Store) Footprint() (Footprint, error) {
	var fp Footprint
	for _, q := range []struct {
		prefix string
		n      *int
		bytes  *int64
	}{{prefixRecord, &fp.Records, &fp.RecordBytes}, {prefixRecordV2, &fp.Records, &fp.RecordBytes}, {prefixRecordV1, &fp.Records, &fp.RecordBytes}, {prefixNode, &fp.Nodes, &fp.NodeBytes}} {
		res, err := s.ds.Query(bg(), query.Query{Prefix: q.prefix})
		if err != nil {
			return Footprint{}, fmt.Errorf("store: query %s: %w", q.prefix, err)
		}
		for r := range res.Next() {
			if r.Error != nil {
				res.Close()
				return Footprint{}, fmt.Errorf("store: read %s: %w", q.prefix, r.Error)
			}
			*q.n++
			*q.bytes += int64(len(r.Value))
		}
		res.Close()
	}
	return fp, nil
}
