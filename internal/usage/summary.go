package usage

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
)

// Sampled is a running pod and its containers' latest usage, by name.
type Sampled struct {
	Pod    *corev1.Pod
	Latest map[string]Amount
}

// Row is one workload container's figures.
type Row struct {
	Key
	// Pods is how many of the workload's sampled pods run it.
	Pods int
	// Request is its current request (cpu, memory), as the last of those
	// pods has it.
	Request corev1.ResourceList
	Stats   Stats
	// Recommendation is nil until the series has MinPasses passes.
	Recommendation *Amount
}

// Waste is how far the row's pods request above the recommendation
// (zero without one).
func (r *Row) Waste() Amount {
	if r.Recommendation == nil {
		return Amount{}
	}
	req := AmountOf(r.Request)
	return Amount{
		CPUMilli:    int64(r.Pods) * (req.CPUMilli - r.Recommendation.CPUMilli),
		MemoryBytes: int64(r.Pods) * (req.MemoryBytes - r.Recommendation.MemoryBytes),
	}
}

// Summary is a tenant's figures.
type Summary struct {
	// Rows are the workload containers with samples, the most
	// over-requested first (CPU, then memory).
	Rows []*Row
	// Requests and Used are summed over the sampled pods; Recommended is
	// what they would request at the recommendations (their request where
	// a container has none yet).
	Requests, Used, Recommended Amount
	// Since is the oldest sample the rows rest on.
	Since time.Time
}

// Row returns the row of k, or nil.
func (s *Summary) Row(k Key) *Row {
	for _, r := range s.Rows {
		if r.Key == k {
			return r
		}
	}
	return nil
}

// Summarize gathers a tenant's sampled pods into rows per workload
// container, from the figures stats returns.
func Summarize(pods []Sampled, stats func(Key) (Stats, bool), headroomPercent int32, minPasses int) Summary {
	var s Summary
	rows := map[Key]*Row{}
	// In a fixed order, so that a row's request is always the same pod's.
	pods = slices.Clone(pods)
	slices.SortFunc(pods, func(a, b Sampled) int {
		return cmp.Or(strings.Compare(a.Pod.Namespace, b.Pod.Namespace), strings.Compare(a.Pod.Name, b.Pod.Name))
	})
	for _, sp := range pods {
		p := sp.Pod
		workload := Workload(p)
		for _, c := range p.Spec.Containers {
			k := Key{Namespace: p.Namespace, Workload: workload, Container: c.Name}
			r := rows[k]
			if r == nil {
				st, ok := stats(k)
				if !ok {
					continue
				}
				r = &Row{Key: k, Stats: st}
				if st.Passes >= minPasses {
					rec := Recommend(st, headroomPercent)
					r.Recommendation = &rec
				}
				rows[k] = r
				s.Rows = append(s.Rows, r)
				if s.Since.IsZero() || st.Since.Before(s.Since) {
					s.Since = st.Since
				}
			}
			r.Pods++
			r.Request = RequestOf(c)
			req := AmountOf(r.Request)
			s.Requests = s.Requests.Plus(req)
			s.Used = s.Used.Plus(sp.Latest[c.Name])
			if r.Recommendation != nil {
				s.Recommended = s.Recommended.Plus(*r.Recommendation)
			} else {
				s.Recommended = s.Recommended.Plus(req)
			}
		}
	}
	slices.SortStableFunc(s.Rows, func(a, b *Row) int {
		wa, wb := a.Waste(), b.Waste()
		return cmp.Or(cmp.Compare(wb.CPUMilli, wa.CPUMilli), cmp.Compare(wb.MemoryBytes, wa.MemoryBytes))
	})
	return s
}

// RequestOf is c's CPU and memory requests.
func RequestOf(c corev1.Container) corev1.ResourceList {
	out := corev1.ResourceList{}
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if q, ok := c.Resources.Requests[r]; ok {
			out[r] = q
		}
	}
	return out
}

// AmountOf is the CPU and memory of l.
func AmountOf(l corev1.ResourceList) Amount {
	return Amount{CPUMilli: l.Cpu().MilliValue(), MemoryBytes: l.Memory().Value()}
}

// Plus is a and b together.
func (a Amount) Plus(b Amount) Amount {
	return Amount{CPUMilli: a.CPUMilli + b.CPUMilli, MemoryBytes: a.MemoryBytes + b.MemoryBytes}
}

// List is a as a ResourceList, memory rounded up to whole MiB so that it
// reads as 300Mi, not 314572801.
func (a Amount) List() corev1.ResourceList {
	return corev1.ResourceList{
		corev1.ResourceCPU:    *resource.NewMilliQuantity(a.CPUMilli, resource.DecimalSI),
		corev1.ResourceMemory: *resource.NewQuantity(roundMiB(a.MemoryBytes), resource.BinarySI),
	}
}

// DescribeChange says what a resize changed: "cpu 500m -> 60m, memory
// 512Mi -> 120Mi".
func DescribeChange(from, to corev1.ResourceList) string {
	var parts []string
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if t, ok := to[r]; ok {
			f := from[r]
			parts = append(parts, fmt.Sprintf("%s %s -> %s", r, f.String(), t.String()))
		}
	}
	return strings.Join(parts, ", ")
}
