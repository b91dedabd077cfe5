package swim

import (
	"math"
	"time"
)

// rttHistory keeps the last probe round trips for the phi-accrual
// detector (Hayashibara et al., 2004): the direct ping is judged failed
// once phi(t) = -log10(1 - F(t)) passes a threshold, F being the normal
// distribution fitted to the history.
type rttHistory struct {
	buf  []time.Duration
	next int
	full bool
}

const phiMinSamples = 8

func newRTTHistory(n int) rttHistory { return rttHistory{buf: make([]time.Duration, n)} }

func (h *rttHistory) add(d time.Duration) {
	h.buf[h.next] = d
	h.next++
	if h.next == len(h.buf) {
		h.next, h.full = 0, true
	}
}

func (h *rttHistory) samples() []time.Duration {
	if h.full {
		return h.buf
	}
	return h.buf[:h.next]
}

// stats returns the mean and standard deviation in seconds.
func (h *rttHistory) stats() (mean, std float64, ok bool) {
	s := h.samples()
	if len(s) < phiMinSamples {
		return 0, 0, false
	}
	for _, d := range s {
		mean += d.Seconds()
	}
	mean /= float64(len(s))
	for _, d := range s {
		x := d.Seconds() - mean
		std += x * x
	}
	std = math.Sqrt(std / float64(len(s)))
	// A floor keeps a too-regular history from making phi explode.
	if floor := mean / 10; std < floor {
		std = floor
	}
	if std < 1e-4 {
		std = 1e-4
	}
	return mean, std, true
}

// Phi is the suspicion level after waiting elapsed for an ack whose round
// trips have the given mean and standard deviation.
func Phi(elapsed, mean, std time.Duration) float64 {
	if std <= 0 {
		std = time.Microsecond
	}
	z := (elapsed - mean).Seconds() / std.Seconds()
	p := 0.5 * math.Erfc(z/math.Sqrt2) // 1 - F(elapsed)
	if p < 1e-300 {
		p = 1e-300
	}
	return -math.Log10(p)
}

// timeout is the wait after which phi passes threshold.
func (h *rttHistory) timeout(threshold float64) (time.Duration, bool) {
	mean, std, ok := h.stats()
	if !ok {
		return 0, false
	}
	// 1 - F(t) = 10^-threshold  =>  t = mean + std * sqrt2 * erfcinv(2*10^-threshold)
	z := math.Sqrt2 * math.Erfcinv(2*math.Pow(10, -threshold))
	return time.Duration((mean + std*z) * float64(time.Second)), true
}
