package main

import (
	"slices"
	"time"
)

// samples are measured durations.
type samples []time.Duration

// pct is the p-th percentile (0 < p ≤ 100), nearest rank: the smallest
// sample at or above p% of them. Zero for no samples.
func (s samples) pct(p float64) time.Duration {
	if len(s) == 0 {
		return 0
	}
	sorted := slices.Clone(s)
	slices.Sort(sorted)
	rank := int(float64(len(sorted))*p/100+0.999999) - 1
	return sorted[max(0, min(rank, len(sorted)-1))]
}

func (s samples) median() time.Duration { return s.pct(50) }

// timeEach runs f n times and returns each run's duration.
func timeEach(n int, f func(i int) error) (samples, error) {
	out := make(samples, 0, n)
	for i := range n {
		start := time.Now()
		if err := f(i); err != nil {
			return nil, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}
