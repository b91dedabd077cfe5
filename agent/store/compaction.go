package store

import (
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// compactionScheduler is pebble's default compaction scheduler
// (ConcurrencyLimitScheduler: as many compactions at once as the DB
// allows without permission) without its 100-ms sampling ticker. That
// ticker woke every agent ten times a second with nothing to compact:
// with SWIM on its deadlines, removing it took an idle agent from 133 to
// 79 wake-ups a second and a quarter off its CPU (docs/agent-resources.md). An agent's store is small
// and written a little at a time, so a compaction waiting for a slot may
// wait for the next event instead: a TrySchedule, a compaction's Done, a
// flush (UpdateGetAllowedWithoutPermission), or a slow safety sweep every
// compactionSweep.
//
// Lock order as pebble requires: the DB's mutexes before mu. Only the
// sweeper goroutine grants (calls GetWaitingCompaction and Schedule, which
// take the DB's mutex): Done and UpdateGetAllowedWithoutPermission, which
// pebble may call with its mutex held, only poke it. Unregister waits for
// the sweeper to return, so no call into the DB outlives it.
type compactionScheduler struct {
	db   pebble.DBForCompaction
	stop chan struct{}
	poke chan struct{}
	done chan struct{} // closed when the sweeper has returned

	mu          sync.Mutex
	running     int  // compactions granted and not Done
	closed      bool // Unregister was called
	lastAllowed int
}

// compactionSweep bounds how long a compaction can wait for a slot that
// opened without an event the scheduler sees.
const compactionSweep = 5 * time.Second

var _ pebble.CompactionScheduler = (*compactionScheduler)(nil)

func newCompactionScheduler() *compactionScheduler {
	return &compactionScheduler{
		stop: make(chan struct{}),
		poke: make(chan struct{}, 1),
		done: make(chan struct{}),
	}
}

// Register starts the sweeper; pebble calls it once, when the DB opens.
func (s *compactionScheduler) Register(_ int, db pebble.DBForCompaction) {
	s.db = db
	go s.sweep()
}

// Unregister stops granting and waits for a grant in progress to end.
func (s *compactionScheduler) Unregister() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
}

// TrySchedule grants a compaction if fewer than the allowed number run.
func (s *compactionScheduler) TrySchedule() (bool, pebble.CompactionGrantHandle) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false, nil
	}
	s.lastAllowed = s.db.GetAllowedWithoutPermission()
	if s.lastAllowed > s.running {
		s.running++
		return true, compactionGrant{s}
	}
	return false, nil
}

// UpdateGetAllowedWithoutPermission wakes the sweeper when the allowed
// concurrency went up (after a flush).
func (s *compactionScheduler) UpdateGetAllowedWithoutPermission() {
	s.mu.Lock()
	allowed := s.db.GetAllowedWithoutPermission()
	up := allowed > s.lastAllowed
	s.lastAllowed = allowed
	s.mu.Unlock()
	if up {
		s.wake()
	}
}

func (s *compactionScheduler) wake() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

func (s *compactionScheduler) sweep() {
	defer close(s.done)
	t := time.NewTicker(compactionSweep)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-s.poke:
		case <-t.C:
		}
		s.grant()
	}
}

// grant hands free slots to the DB's waiting compactions (sweeper only).
func (s *compactionScheduler) grant() {
	s.mu.Lock()
	s.lastAllowed = s.db.GetAllowedWithoutPermission()
	free := s.lastAllowed - s.running
	s.mu.Unlock()
	// Without mu: GetWaitingCompaction and Schedule take the DB's mutex,
	// which comes before mu.
	for ; free > 0; free-- {
		if waiting, _ := s.db.GetWaitingCompaction(); !waiting {
			break
		}
		s.mu.Lock()
		s.running++ // before Schedule: the compaction may be Done at once
		s.mu.Unlock()
		if !s.db.Schedule(compactionGrant{s}) {
			s.mu.Lock()
			s.running--
			s.mu.Unlock()
			break
		}
	}
}

// compactionGrant is the handle of one granted compaction.
type compactionGrant struct{ s *compactionScheduler }

func (compactionGrant) Started()                                          {}
func (compactionGrant) MeasureCPU(pebble.CompactionGoroutineKind)         {}
func (compactionGrant) CumulativeStats(pebble.CompactionGrantHandleStats) {}

// Done frees the slot and offers it to a waiting compaction.
func (g compactionGrant) Done() {
	g.s.mu.Lock()
	g.s.running--
	g.s.mu.Unlock()
	g.s.wake()
}
