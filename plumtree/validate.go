package plumtree

import (
	"fmt"

	"github.com/hearsay-mesh/hearsay/membership"
	"github.com/hearsay-mesh/hearsay/plumtree/pb"
)

// The checked forms of the wire messages: Step validates a whole message
// into one of these before it changes any state.

type gossipIn struct {
	id      MessageID
	hops    int
	payload []byte
}

type announceIn struct {
	id   MessageID
	hops int
}

type graftIn struct {
	ids     []MessageID
	origins []membership.NodeID
	catchUp bool // answer only: the link stays as it is
}

func (c *Core) checkGossip(g *pb.Gossip) (gossipIn, error) {
	id, err := idFromWire(g.GetId())
	if err != nil {
		return gossipIn{}, err
	}
	if g.Hops == 0 || int64(g.Hops) > int64(c.cfg.MaxHops) {
		return gossipIn{}, fmt.Errorf("plumtree: gossip hops %d outside [1,%d]", g.Hops, c.cfg.MaxHops)
	}
	if len(g.Payload) > c.cfg.MaxPayload {
		return gossipIn{}, fmt.Errorf("plumtree: gossip payload of %d bytes exceeds %d", len(g.Payload), c.cfg.MaxPayload)
	}
	return gossipIn{id: id, hops: int(g.Hops), payload: g.Payload}, nil
}

func (c *Core) checkIHave(h *pb.IHave) ([]announceIn, error) {
	n := len(h.GetEntries())
	if n == 0 || n > c.cfg.MaxIHaveBatch {
		return nil, fmt.Errorf("plumtree: ihave with %d entries, want [1,%d]", n, c.cfg.MaxIHaveBatch)
	}
	out := make([]announceIn, n)
	for i, e := range h.Entries {
		id, err := idFromWire(e.GetId())
		if err != nil {
			return nil, err
		}
		if int64(e.Hops) >= int64(c.cfg.MaxHops) {
			return nil, fmt.Errorf("plumtree: ihave hops %d, want < %d", e.Hops, c.cfg.MaxHops)
		}
		out[i] = announceIn{id: id, hops: int(e.Hops)}
	}
	return out, nil
}

func (c *Core) checkOrigins(kind string, raw [][]byte) ([]membership.NodeID, error) {
	if len(raw) > c.cfg.MaxGraftBatch {
		return nil, fmt.Errorf("plumtree: %s with %d origins, want <= %d", kind, len(raw), c.cfg.MaxGraftBatch)
	}
	out := make([]membership.NodeID, len(raw))
	for i, o := range raw {
		if len(o) == 0 {
			return nil, fmt.Errorf("plumtree: %s with an empty origin", kind)
		}
		out[i] = membership.NodeID(o)
	}
	return out, nil
}

func (c *Core) checkGraft(g *pb.Graft) (graftIn, error) {
	if len(g.GetIds()) > c.cfg.MaxGraftBatch {
		return graftIn{}, fmt.Errorf("plumtree: graft with %d ids, want <= %d", len(g.Ids), c.cfg.MaxGraftBatch)
	}
	origins, err := c.checkOrigins("graft", g.GetOrigins())
	if err != nil {
		return graftIn{}, err
	}
	if len(g.GetIds())+len(origins) == 0 {
		return graftIn{}, fmt.Errorf("plumtree: graft with neither ids nor origins")
	}
	if g.GetCatchUp() && (len(origins) > 0 || len(g.GetIds()) == 0) {
		return graftIn{}, fmt.Errorf("plumtree: catch-up graft must name ids and no origins")
	}
	ids := make([]MessageID, len(g.Ids))
	for i, w := range g.Ids {
		if ids[i], err = idFromWire(w); err != nil {
			return graftIn{}, err
		}
	}
	return graftIn{ids: ids, origins: origins, catchUp: g.GetCatchUp()}, nil
}

func (c *Core) checkPrune(p *pb.Prune) ([]membership.NodeID, error) {
	origins, err := c.checkOrigins("prune", p.GetOrigins())
	if err != nil {
		return nil, err
	}
	if len(origins) == 0 {
		return nil, fmt.Errorf("plumtree: prune without origins")
	}
	return origins, nil
}
