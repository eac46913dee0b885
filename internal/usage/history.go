package usage

import (
	"math"
	"slices"
	"time"

	"k8s.io/apimachinery/pkg/types"
)

// Key names a workload container: the figures of every pod of a workload
// are one series per container.
type Key struct {
	Namespace string
	// Workload is Kind/name of the pods' owner (see Workload).
	Workload  string
	Container string
}

// Amount is an amount of CPU (millicores) and memory (bytes).
type Amount struct {
	CPUMilli    int64
	MemoryBytes int64
}

// Stats are a series' figures over the window.
type Stats struct {
	// Samples is how many samples they rest on: one per pod per refresh
	// of the metrics.
	Samples int
	// Passes is how many of the sampler's passes brought new samples: a
	// workload of thirty pods has thirty samples after one pass, but one
	// moment's usage is not a history, so decisions wait on Passes.
	Passes int
	// Since is the time of the oldest of them.
	Since time.Time
	P95   Amount
	Peak  Amount
}

// exact is the value below which each value has a bucket of its own (CPU
// in millicores mostly lives there); growth is the ratio of one bucket's
// bound to the previous one's above it.
const (
	exact  = 128
	growth = 1.05
)

var logGrowth = math.Log(growth)

// bucket is the histogram bucket of v: v itself below exact, above it the
// smallest b with exact*growth^(b-exact) >= v.
func bucket(v int64) int32 {
	if v < exact {
		return int32(max(v, 0))
	}
	return exact + int32(math.Ceil(math.Log(float64(v)/exact)/logGrowth-1e-9))
}

// bound is bucket b's upper bound.
func bound(b int32) int64 {
	if b < exact {
		return int64(b)
	}
	return int64(math.Ceil(exact*math.Pow(growth, float64(b-exact)) - 1e-9))
}

// hist is a histogram of one resource's samples over half a window.
type hist struct {
	counts map[int32]uint32
	n      int
	peak   int64
}

func (h *hist) add(v int64) {
	if h.counts == nil {
		h.counts = map[int32]uint32{}
	}
	h.counts[bucket(v)]++
	h.n++
	h.peak = max(h.peak, v)
}

// half is a series' samples over half a window.
type half struct {
	start       time.Time // when the half began
	first       time.Time // its oldest sample; zero when it has none
	cpu, memory hist
	passes      int       // the passes that brought samples
	lastPass    time.Time // the latest of them
}

func (h *half) add(t, now time.Time, a Amount) {
	if h.first.IsZero() || t.Before(h.first) {
		h.first = t
	}
	if !now.Equal(h.lastPass) {
		h.passes++
		h.lastPass = now
	}
	h.cpu.add(a.CPUMilli)
	h.memory.add(a.MemoryBytes)
}

type series struct {
	cur, prev half
	last      time.Time // the newest sample
}

// History keeps samples of usage per workload container over a window.
// It is not safe for concurrent use.
type History struct {
	// Window is how far back the figures reach; samples leave it between
	// Window/2 and Window after they were taken.
	Window time.Duration
	// MaxSeries bounds how many series are kept (0: no bound); past it,
	// Observe drops the least recently sampled, so that pods churned by
	// the thousand cannot grow the leader's memory without end.
	MaxSeries int

	series map[Key]*series
	// seen is the newest sample time recorded per pod, so that a pod's
	// metrics read twice (the metrics pipeline refreshes them more slowly
	// than they may be read) count once.
	seen map[types.UID]time.Time
}

// Observe records a pod's usage per container, measured at t. It returns
// false, recording nothing, when a sample of the pod at t or later is
// already recorded. now rotates the window.
func (h *History) Observe(pod types.UID, t, now time.Time, containers map[Key]Amount) bool {
	if h.series == nil {
		h.series, h.seen = map[Key]*series{}, map[types.UID]time.Time{}
	}
	if last, ok := h.seen[pod]; ok && !t.After(last) {
		return false
	}
	h.seen[pod] = t
	for k, a := range containers {
		s := h.series[k]
		if s == nil {
			if h.MaxSeries > 0 && len(h.series) >= h.MaxSeries {
				h.evictOldest()
			}
			s = &series{cur: half{start: now}}
			h.series[k] = s
		}
		h.rotate(s, now)
		s.cur.add(t, now, a)
		if t.After(s.last) {
			s.last = t
		}
	}
	return true
}

// rotate starts a new half every Window/2 from the series' first: a
// sample stays in the window for between Window/2 and Window.
func (h *History) rotate(s *series, now time.Time) {
	halfWindow := h.Window / 2
	if now.Sub(s.cur.start) < halfWindow {
		return
	}
	if now.Sub(s.cur.start) >= h.Window {
		// Both halves are out of the window.
		s.prev = half{}
		s.cur = half{start: now}
		return
	}
	s.prev = s.cur
	s.cur = half{start: s.prev.start.Add(halfWindow)}
}

// Stats returns the figures of k as of now; false when it has no sample
// in the window.
func (h *History) Stats(k Key, now time.Time) (Stats, bool) {
	s := h.series[k]
	if s == nil {
		return Stats{}, false
	}
	h.rotate(s, now)
	n := s.cur.cpu.n + s.prev.cpu.n
	if n == 0 {
		return Stats{}, false
	}
	st := Stats{
		Samples: n,
		Passes:  s.cur.passes + s.prev.passes,
		Since:   s.cur.first,
		Peak: Amount{
			CPUMilli:    max(s.cur.cpu.peak, s.prev.cpu.peak),
			MemoryBytes: max(s.cur.memory.peak, s.prev.memory.peak),
		},
	}
	if !s.prev.first.IsZero() {
		st.Since = s.prev.first
	}
	st.P95 = Amount{
		CPUMilli:    percentile(0.95, st.Peak.CPUMilli, &s.cur.cpu, &s.prev.cpu),
		MemoryBytes: percentile(0.95, st.Peak.MemoryBytes, &s.cur.memory, &s.prev.memory),
	}
	return st, true
}

// percentile is the q-quantile of the histograms together: the bound of
// the first bucket holding it, but never above the peak.
func percentile(q float64, peak int64, hs ...*hist) int64 {
	total := 0
	buckets := map[int32]uint32{}
	for _, h := range hs {
		total += h.n
		for b, c := range h.counts {
			buckets[b] += c
		}
	}
	if total == 0 {
		return 0
	}
	keys := make([]int32, 0, len(buckets))
	for b := range buckets {
		keys = append(keys, b)
	}
	slices.Sort(keys)
	rank := int(math.Ceil(q * float64(total)))
	seen := 0
	for _, b := range keys {
		seen += int(buckets[b])
		if seen >= rank {
			return min(bound(b), peak)
		}
	}
	return peak
}

// Forget drops the series with no sample in the window and the pods not
// sampled within it.
func (h *History) Forget(now time.Time) {
	for k, s := range h.series {
		if now.Sub(s.last) >= h.Window {
			delete(h.series, k)
		}
	}
	for pod, t := range h.seen {
		if now.Sub(t) >= h.Window {
			delete(h.seen, pod)
		}
	}
}

// evictOldest drops the hundredth of the series sampled least recently
// (at least one), so that a full History sorts once per hundredth of its
// size, not once per new series.
func (h *History) evictOldest() {
	keys := make([]Key, 0, len(h.series))
	for k := range h.series {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b Key) int { return h.series[a].last.Compare(h.series[b].last) })
	for _, k := range keys[:max(1, len(keys)/100)] {
		delete(h.series, k)
	}
}

// ForgetIf drops the series that drop returns true for.
func (h *History) ForgetIf(drop func(Key) bool) {
	for k := range h.series {
		if drop(k) {
			delete(h.series, k)
		}
	}
}

// ForgetPods drops what History remembers of the pods gone returns true
// for (when each was last sampled), so that pod churn does not grow it
// for a whole window.
func (h *History) ForgetPods(gone func(types.UID) bool) {
	for pod := range h.seen {
		if gone(pod) {
			delete(h.seen, pod)
		}
	}
}

// Len is how many series History holds.
func (h *History) Len() int { return len(h.series) }
