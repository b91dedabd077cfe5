package membership

import "slices"

// IDSet is a sorted set of node IDs, for the small sets a core keeps of
// what its driver reports (the open links of swim and antientropy).
// The zero value is empty; Add and Remove keep it sorted.
type IDSet []NodeID

// Add inserts id if it is not there yet.
func (s *IDSet) Add(id NodeID) {
	if i, ok := slices.BinarySearch(*s, id); !ok {
		*s = slices.Insert(*s, i, id)
	}
}

// Remove deletes id if it is there.
func (s *IDSet) Remove(id NodeID) {
	if i, ok := slices.BinarySearch(*s, id); ok {
		*s = slices.Delete(*s, i, i+1)
	}
}

// Has reports whether id is in the set.
func (s IDSet) Has(id NodeID) bool {
	_, ok := slices.BinarySearch(s, id)
	return ok
}
