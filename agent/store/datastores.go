package store

import (
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	pebbleds "github.com/ipfs/go-ds-pebble"
)

// OpenPebble opens (creating if needed) a pebble datastore in directory
// dir whose every write and batch commit is synced to disk before it
// returns (pebble.Sync; go-ds-pebble's default is NoSync), with a
// compaction scheduler that does not wake the process ten times a second
// (compaction.go). Close it after the Store's last call.
func OpenPebble(dir string) (datastore.Batching, error) {
	opts := &pebble.Options{}
	opts.Experimental.CompactionScheduler = newCompactionScheduler()
	d, err := pebbleds.NewDatastore(dir, pebbleds.WithPebbleOpts(opts), pebbleds.WithPebbleWriteOptions(pebble.Sync))
	if err != nil {
		return nil, fmt.Errorf("store: open pebble in %s: %w", dir, err)
	}
	return d, nil
}

// OpenMemory returns an empty in-memory datastore (tests, simulations, an
// agent started without a data directory). Nothing in it survives the
// process.
func OpenMemory() datastore.Batching {
	return dssync.MutexWrap(datastore.NewMapDatastore())
}
