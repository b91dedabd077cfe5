package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// Latency is a distribution of one-way message delays. from and to are
// node indexes, so a distribution can model per-link distances.
type Latency interface {
	Sample(r *rand.Rand, from, to int) time.Duration
}

// Fixed is a constant delay.
type Fixed time.Duration

// Sample returns the constant.
func (f Fixed) Sample(*rand.Rand, int, int) time.Duration { return time.Duration(f) }

// Uniform draws uniformly from [Min, Max].
type Uniform struct{ Min, Max time.Duration }

// Sample draws a delay.
func (u Uniform) Sample(r *rand.Rand, _, _ int) time.Duration {
	if u.Max <= u.Min {
		return u.Min
	}
	return u.Min + time.Duration(r.Int64N(int64(u.Max-u.Min)+1))
}

// String is "uniform MIN-MAX".
func (u Uniform) String() string { return fmt.Sprintf("uniform %v-%v", u.Min, u.Max) }

// LogNormal draws a heavy-tailed delay: Min plus a log-normal with the
// given median and shape Sigma (0.5 is a typical WAN tail).
type LogNormal struct {
	Min, Median time.Duration
	Sigma       float64
}

// Sample draws a delay.
func (l LogNormal) Sample(r *rand.Rand, _, _ int) time.Duration {
	v := float64(l.Median) * math.Exp(l.Sigma*r.NormFloat64())
	return l.Min + time.Duration(v)
}
