package agent

import (
	"fmt"
	"time"

	"github.com/hearsay-mesh/hearsay/agent/store"
	"github.com/hearsay-mesh/hearsay/antientropy"
	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/libp2p/go-libp2p/core/peer"
)

// clockMeta is the store metadata entry that holds anti-entropy's node
// clock, so a restarted node neither reuses its own dots nor forgets what
// it has.
const clockMeta = "antientropy.clock"

// aeStore adapts the keyspace to anti-entropy's Store interface, and
// tells watchers about what a sync merged.
type aeStore struct{ a *Agent }

func (s aeStore) Get(key string) ([]byte, bool) { return s.a.st.State(key) }

func (s aeStore) Merge(key string, state []byte) (bool, error) {
	before := s.a.st.Digest(key)
	changes, err := s.a.st.MergeState(key, state) // MergeState keeps no reference to state
	if err != nil {
		return false, err
	}
	s.a.notify(changes)
	return s.a.st.Digest(key) != before, nil
}

// MergeBatch merges all the objects of one anti-entropy message in one
// store batch: one datastore commit (one synced write) per message.
func (s aeStore) MergeBatch(objs []antientropy.Object) ([]bool, error) {
	states := make([]store.KeyState, len(objs))
	for i, o := range objs {
		states[i] = store.KeyState{Key: o.Key, State: o.State}
	}
	changes, changed, err := s.a.st.MergeStates(states)
	if err != nil {
		return nil, err
	}
	s.a.notify(changes)
	return changed, nil
}

func (s aeStore) Digest(key string) [16]byte { return s.a.st.Digest(key) }

func (s aeStore) Range(fn func(string, [16]byte) bool) { s.a.st.Range(fn) }

// startAntiEntropy builds the core over the keyspace and restores its clock.
func (a *Agent) startAntiEntropy() error {
	ae, err := antientropy.New(a.cfg.AntiEntropy, nodeID(a.host.ID()), aeStore{a}, newRand())
	if err != nil {
		return err
	}
	raw, ok, err := a.st.LoadMeta(clockMeta)
	if err != nil {
		return fmt.Errorf("agent: load the anti-entropy clock: %w", err)
	}
	if ok {
		k, err := antientropy.DecodeClock(raw)
		if err != nil {
			return fmt.Errorf("agent: the anti-entropy clock in the datastore is corrupt: %w", err)
		}
		ae.Restore(0, k)
	}
	a.ae = ae
	a.addCore(ae)
	return nil
}

// saveClock persists the node clock (synced) so dots survive a restart.
// A failed save leaves the clock dirty, so the next tick tries again.
func (a *Agent) saveClock() error {
	if err := a.st.SaveMeta(clockMeta, a.ae.Clock().Encode()); err != nil {
		a.clockDirty = true
		return err
	}
	a.clockDirty = false
	return nil
}

// routeSync handles anti-entropy's events and feeds it the membership's.
func (a *Agent) routeSync(now time.Duration, ev membership.Event) {
	switch e := ev.(type) {
	case membership.NeighborUp:
		a.ae.LinkUp(e.Node.ID)
		a.ae.NeighborUp(now, e.Node.ID)
	case membership.NeighborDown:
		a.ae.LinkDown(e.Node.ID)
	case membership.MemberEvent:
		a.ae.SetMember(e.Node.ID, memberLive(e.Change))
	case antientropy.Merged:
		a.clockDirty = true
	case antientropy.SessionDone:
		a.syncs++
		if e.Pulled > 0 {
			a.clockDirty = true
		}
	}
}

// memberLive says whether a member is one anti-entropy may sync with
// after the change: SWIM holds it alive or suspect.
func memberLive(c membership.MemberChange) bool {
	switch c {
	case membership.MemberJoined, membership.MemberSuspect, membership.MemberAlive, membership.MemberUpdated:
		return true
	}
	return false
}

// applyRemoteDelta merges a broadcast keyspace delta and records its dot.
// origin is the broadcast's origin, the writer unless the payload names
// one; the node's own deltas, delivered back to it, are skipped.
func (a *Agent) applyRemoteDelta(origin peer.ID, p []byte) {
	d, err := decodeDelta(p)
	if err != nil {
		a.log.Warn("rejected delta payload", "origin", origin.String(), "err", err)
		return
	}
	writer := d.writer
	if writer == "" {
		writer = nodeID(origin)
	}
	if writer == nodeID(a.host.ID()) {
		return
	}
	changes, err := a.st.ApplyKeyDelta(d.key, d.delta, physNow())
	if err != nil {
		a.log.Warn("rejected delta", "writer", string(writer), "key", d.key, "err", err)
		return
	}
	a.notify(changes)
	if err := a.ae.Applied(a.now(), d.key, []antientropy.Dot{{Node: writer, Counter: d.dot}}); err != nil {
		a.log.Warn("anti-entropy refused a delta's dot", "writer", string(writer), "key", d.key, "err", err)
	}
	a.clockDirty = true
}

var _ antientropy.BatchStore = aeStore{}
