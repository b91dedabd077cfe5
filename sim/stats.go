package sim

import "github.com/hearsay-mesh/hearsay/membership"

// ProtocolStats counts one protocol's messages.
type ProtocolStats struct {
	Protocol    membership.ProtocolID
	Sent        uint64 // handed to the network by a core
	Bytes       uint64 // encoded size of Sent (only with Config.CountBytes)
	Delivered   uint64 // fed to the target core
	Lost        uint64 // dropped by random loss
	Duplicated  uint64 // delivered twice
	Unreachable uint64 // target crashed or across a partition
	NoRoute     uint64 // unknown target, or the sender itself
	NoHandler   uint64 // target runs no core for the protocol
	Rejected    uint64 // the target core's Step returned an error

	EncodeFailed uint64 // with Config.Wire: proto.Marshal failed (message dropped)
	DecodeFailed uint64 // with Config.Wire: the receiver could not decode it
}

// Stats are the network's counters since the start.
type Stats struct {
	PerProtocol []ProtocolStats
	// Connections counts connections set up (Config.Connect).
	Connections uint64
}

func (st *Stats) grow(n int) {
	for len(st.PerProtocol) < n {
		st.PerProtocol = append(st.PerProtocol, ProtocolStats{})
	}
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats {
	out := Stats{PerProtocol: append([]ProtocolStats(nil), s.stats.PerProtocol...), Connections: s.stats.Connections}
	for i := range out.PerProtocol {
		out.PerProtocol[i].Protocol = s.protocols[i]
	}
	return out
}

// Protocol returns one protocol's counters (zero if never seen).
func (st Stats) Protocol(p membership.ProtocolID) ProtocolStats {
	for _, ps := range st.PerProtocol {
		if ps.Protocol == p {
			return ps
		}
	}
	return ProtocolStats{Protocol: p}
}

// InFlight is how many message deliveries are scheduled but not yet done.
func (s *Sim) InFlight() int {
	n := 0
	for i := range s.q.h {
		if s.q.h[i].kind == evDeliver {
			n++
		}
	}
	return n
}
