package store

import (
	"slices"
	"sort"
	"strings"
)

// indexChunk is the size a chunk of the index is split back to when it
// has grown to twice as many keys.
const indexChunk = 256

// index is the sorted set of present keys, for paging. It is a list of
// sorted chunks of at most 2*indexChunk keys, in order, so an insert or
// a delete finds its chunk by binary search and moves at most
// 2*indexChunk strings plus, when a chunk splits or empties, the chunk
// list: O(log n + indexChunk + n/indexChunk) instead of the O(n) of one
// sorted slice (which made catch-up of a large keyspace quadratic, since
// anti-entropy delivers keys in hash order).
type index struct {
	chunks [][]string // each non-empty and sorted; chunk i sorts before chunk i+1
	n      int
}

// chunkFor returns the chunk key belongs in: the first whose last key is
// >= key, or the last chunk. len(ix.chunks) must be > 0.
func (ix *index) chunkFor(key string) int {
	c := sort.Search(len(ix.chunks), func(i int) bool {
		ch := ix.chunks[i]
		return ch[len(ch)-1] >= key
	})
	return min(c, len(ix.chunks)-1)
}

// Len is the number of keys.
func (ix *index) Len() int { return ix.n }

func (ix *index) set(key string, present bool) {
	if len(ix.chunks) == 0 {
		if present {
			ix.chunks = [][]string{{key}}
			ix.n = 1
		}
		return
	}
	c := ix.chunkFor(key)
	ch := ix.chunks[c]
	i, found := slices.BinarySearch(ch, key)
	switch {
	case present && !found:
		ch = slices.Insert(ch, i, key)
		ix.n++
		if len(ch) < 2*indexChunk {
			ix.chunks[c] = ch
			return
		}
		// Split: the upper half moves to a new chunk.
		hi := make([]string, len(ch)-indexChunk, 2*indexChunk)
		copy(hi, ch[indexChunk:])
		clear(ch[indexChunk:])
		ix.chunks[c] = ch[:indexChunk]
		ix.chunks = slices.Insert(ix.chunks, c+1, hi)
	case !present && found:
		ch = slices.Delete(ch, i, i+1)
		ix.n--
		ix.chunks[c] = ch
		switch {
		case len(ch) == 0:
			ix.chunks = slices.Delete(ix.chunks, c, c+1)
		case c+1 < len(ix.chunks) && len(ch)+len(ix.chunks[c+1]) <= indexChunk:
			// Merge small neighbours so deletions do not leave a long
			// list of tiny chunks.
			ix.chunks[c] = append(ch, ix.chunks[c+1]...)
			ix.chunks = slices.Delete(ix.chunks, c+1, c+2)
		}
	}
}

// page returns up to limit keys with prefix that sort after after, and the
// cursor for the next page ("" when there is none). limit <= 0 means no
// limit.
func (ix *index) page(prefix, after string, limit int) ([]string, string) {
	if len(ix.chunks) == 0 {
		return nil, ""
	}
	start := prefix
	if after > start {
		start = after
	}
	c := ix.chunkFor(start)
	i, found := slices.BinarySearch(ix.chunks[c], start)
	if found && start == after {
		i++
	}
	var out []string
	for ; c < len(ix.chunks); c, i = c+1, 0 {
		for _, k := range ix.chunks[c][i:] {
			if !strings.HasPrefix(k, prefix) {
				return out, ""
			}
			if limit > 0 && len(out) == limit {
				return out, out[len(out)-1]
			}
			out = append(out, k)
		}
	}
	return out, ""
}
