package plumtree

import (
	"math"
	"time"
)

// rtt estimates one peer's round-trip time the way TCP does (RFC 6298):
// a smoothed mean and a mean deviation, from GRAFT-to-GOSSIP round trips.
type rtt struct {
	srtt, rttvar time.Duration
	samples      int
}

func (r *rtt) sample(d time.Duration) {
	if d <= 0 {
		d = time.Microsecond
	}
	if r.samples == 0 {
		r.srtt, r.rttvar = d, d/2
	} else {
		dev := r.srtt - d
		if dev < 0 {
			dev = -dev
		}
		r.rttvar = (3*r.rttvar + dev) / 4
		r.srtt = (7*r.srtt + d) / 8
	}
	r.samples++
}

// decay scales the estimate by 1/2 per halfLife of elapsed time d, so
// that old samples stop counting when no new ones come.
func (r *rtt) decay(d, halfLife time.Duration) {
	if r.samples == 0 || d <= 0 {
		return
	}
	f := math.Exp2(-float64(d) / float64(halfLife))
	r.srtt = time.Duration(float64(r.srtt) * f)
	r.rttvar = time.Duration(float64(r.rttvar) * f)
}

// rto is the retransmission timeout: smoothed RTT plus four deviations.
// Before any sample it is what one sample of initial would give (3x).
func (r *rtt) rto(initial time.Duration) time.Duration {
	if r == nil || r.samples == 0 {
		return 3 * initial
	}
	return r.srtt + 4*r.rttvar
}

func clamp(d, lo, hi time.Duration) time.Duration {
	return min(max(d, lo), hi)
}
