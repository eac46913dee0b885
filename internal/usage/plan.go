package usage

import (
	"fmt"
	"math"
	"regexp"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Workload names a pod's workload as Kind/name: its controller, except
// that a ReplicaSet's pods count under the Deployment whose pod template
// hash the ReplicaSet's name ends in; Pod/name for a pod of its own.
//
// An owner reference is whatever the pod's creator wrote: a kind that is
// not a plain identifier of at most 63 characters, or a name that is not a
// DNS subdomain, is named by its UID instead (Owner/<uid>), so that no
// tenant can make a series key, or a TenantUsage row, as long or as odd
// as it likes.
func Workload(pod *corev1.Pod) string {
	ref := metav1.GetControllerOf(pod)
	if ref == nil {
		return "Pod/" + pod.Name
	}
	if !kindPattern.MatchString(ref.Kind) || len(validation.IsDNS1123Subdomain(ref.Name)) > 0 {
		return "Owner/" + shortUID(ref.UID)
	}
	if hash := pod.Labels["pod-template-hash"]; ref.Kind == "ReplicaSet" && hash != "" {
		if name, ok := strings.CutSuffix(ref.Name, "-"+hash); ok && name != "" {
			return "Deployment/" + name
		}
	}
	return ref.Kind + "/" + ref.Name
}

var kindPattern = regexp.MustCompile(`^[A-Z][A-Za-z0-9]{0,62}$`)

// shortUID keeps a UID to the 36 characters of a real one.
func shortUID(uid types.UID) string {
	s := strings.Map(func(r rune) rune {
		if r == '-' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, string(uid))
	if len(s) > 36 {
		s = s[:36]
	}
	return s
}

// Recommend is the request recommended for a series: its p95 plus
// headroom percent, never below its peak; CPU in whole millicores, memory
// rounded up to whole MiB.
func Recommend(st Stats, headroomPercent int32) Amount {
	return Amount{
		CPUMilli:    max(withHeadroom(st.P95.CPUMilli, headroomPercent), st.Peak.CPUMilli, 1),
		MemoryBytes: roundMiB(max(withHeadroom(st.P95.MemoryBytes, headroomPercent), st.Peak.MemoryBytes, 1)),
	}
}

// floor is the least a resize may leave: the peak plus headroom.
func floor(st Stats, headroomPercent int32) Amount {
	return Amount{
		CPUMilli:    max(withHeadroom(st.Peak.CPUMilli, headroomPercent), 1),
		MemoryBytes: roundMiB(max(withHeadroom(st.Peak.MemoryBytes, headroomPercent), 1)),
	}
}

func withHeadroom(v int64, percent int32) int64 {
	return int64(math.Ceil(float64(v) * (1 + float64(percent)/100)))
}

const mib = 1 << 20

func roundMiB(v int64) int64 { return (v + mib - 1) / mib * mib }

// QoS is a pod's QoS class, computed from its spec as the API server does:
// Guaranteed when every container limits CPU and memory and requests
// exactly that, BestEffort when none requests or limits either, Burstable
// otherwise.
func QoS(spec *corev1.PodSpec) corev1.PodQOSClass {
	guaranteed, some := true, false
	all := append(append([]corev1.Container{}, spec.InitContainers...), spec.Containers...)
	for _, c := range all {
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := c.Resources.Requests[r]
			lim, hasLim := c.Resources.Limits[r]
			if (hasReq && !req.IsZero()) || (hasLim && !lim.IsZero()) {
				some = true
			}
			if !hasLim || lim.IsZero() {
				guaranteed = false
			} else if hasReq && req.Cmp(lim) != 0 {
				guaranteed = false
			}
		}
	}
	switch {
	case !some:
		return corev1.PodQOSBestEffort
	case guaranteed:
		return corev1.PodQOSGuaranteed
	}
	return corev1.PodQOSBurstable
}

// Bounds are what a namespace allows a pod's requests.
type Bounds struct {
	// LimitRanges are the namespace's.
	LimitRanges []corev1.LimitRange
	// QuotaRoom is how much more CPU and memory the namespace's quotas
	// let its pods request; a resource not in it is not limited.
	QuotaRoom map[corev1.ResourceName]resource.Quantity
}

// Take removes from the quota room what changes grow: what one pod's
// resize takes is no longer room for the next pod's.
func (b *Bounds) Take(changes []Change) {
	for _, ch := range changes {
		if room, limited := b.QuotaRoom[ch.Resource]; limited && ch.To.Cmp(ch.From) > 0 {
			room.Sub(ch.To)
			room.Add(ch.From)
			b.QuotaRoom[ch.Resource] = room
		}
	}
}

// Change is one container's new request for one resource.
type Change struct {
	Container string
	Resource  corev1.ResourceName
	From, To  resource.Quantity
}

// PodPlan is what to do with one pod.
type PodPlan struct {
	// Changes are the requests to set, through the pod's resize subresource.
	Changes []Change
	// Held says, per container, why it is left as it is.
	Held map[string]string
}

func (p *PodPlan) hold(container, why string) {
	if p.Held == nil {
		p.Held = map[string]string{}
	}
	if prev, ok := p.Held[container]; ok {
		why = prev + "; " + why
	}
	p.Held[container] = why
}

// minChange is the smallest change worth a resize: a tenth of the request.
const minChange = 10

// Plan decides how to resize pod toward its containers' figures. stats
// returns a container's figures; those with fewer than minSamples samples
// are left alone.
func Plan(pod *corev1.Pod, stats func(container string) (Stats, bool), headroomPercent int32, minSamples int, b Bounds) PodPlan {
	var p PodPlan
	if why := untouchable(pod); why != "" {
		for _, c := range pod.Spec.Containers {
			p.hold(c.Name, why)
		}
		return p
	}
	if qos := QoS(&pod.Spec); qos != corev1.PodQOSBurstable {
		why := "Guaranteed: its requests cannot move without its limits, which would take a new pod"
		if qos == corev1.PodQOSBestEffort {
			why = "BestEffort: it requests nothing to resize"
		}
		for _, c := range pod.Spec.Containers {
			p.hold(c.Name, why)
		}
		return p
	}
	for _, c := range pod.Spec.Containers {
		st, ok := stats(c.Name)
		if !ok || st.Passes < minSamples {
			// The count is left out: a note that changed at every pass
			// would have TenantUsage rewritten at every pass.
			p.hold(c.Name, fmt.Sprintf("not yet sampled the %d times a resize needs", minSamples))
			continue
		}
		if restarts(c) {
			p.hold(c.Name, "its resizePolicy restarts it on a resize")
			continue
		}
		rec, fl := Recommend(st, headroomPercent), floor(st, headroomPercent)
		for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			if ch, why := planResource(pod, c, r, pick(r, rec, fl), b); why != "" {
				p.hold(c.Name, why)
			} else {
				p.Changes = append(p.Changes, ch)
			}
		}
	}
	p.applyQuota(b)
	p.applyPodBounds(pod, b)
	p.keepQoS(pod)
	return p
}

// untouchable says why a pod is not resized at all, or "".
func untouchable(pod *corev1.Pod) string {
	switch {
	case pod.Spec.Resources != nil:
		return "its pod-level resources (spec.resources) bound its containers: resize those by a rollout"
	case pod.Spec.OS != nil && pod.Spec.OS.Name == corev1.Windows:
		return "Windows pods cannot be resized in place"
	case pod.Status.QOSClass != "" && pod.Status.QOSClass != QoS(&pod.Spec):
		return fmt.Sprintf("its QoS class is %s, not what its containers say (%s)", pod.Status.QOSClass, QoS(&pod.Spec))
	}
	for _, c := range pod.Status.Conditions {
		if (c.Type == corev1.PodResizePending || c.Type == corev1.PodResizeInProgress) && c.Status == corev1.ConditionTrue {
			return "a resize is already " + strings.TrimPrefix(string(c.Type), "PodResize")
		}
	}
	return ""
}

// restarts says whether resizing c's CPU or memory restarts it.
func restarts(c corev1.Container) bool {
	for _, rp := range c.ResizePolicy {
		if rp.RestartPolicy == corev1.RestartContainer {
			return true
		}
	}
	return false
}

// pick is the target of resource r: the recommendation, raised to the floor.
func pick(r corev1.ResourceName, rec, fl Amount) int64 {
	if r == corev1.ResourceCPU {
		return max(rec.CPUMilli, fl.CPUMilli)
	}
	return max(rec.MemoryBytes, fl.MemoryBytes)
}

func value(r corev1.ResourceName, q resource.Quantity) int64 {
	if r == corev1.ResourceCPU {
		return q.MilliValue()
	}
	return q.Value()
}

func quantity(r corev1.ResourceName, v int64) resource.Quantity {
	if r == corev1.ResourceCPU {
		return *resource.NewMilliQuantity(v, resource.DecimalSI)
	}
	return *resource.NewQuantity(v, resource.BinarySI)
}

// planResource bounds the target of one container's resource and says
// why it stays when it does.
func planResource(pod *corev1.Pod, c corev1.Container, r corev1.ResourceName, target int64, b Bounds) (Change, string) {
	cur, ok := c.Resources.Requests[r]
	if !ok || cur.IsZero() {
		return Change{}, fmt.Sprintf("%s: no request to resize", r)
	}
	from := value(r, cur)
	lo, hi := int64(1), int64(math.MaxInt64)
	loBy, hiBy := "", ""
	raise := func(v int64, by string) {
		if v > lo {
			lo, loBy = v, by
		}
	}
	lower := func(v int64, by string) {
		if v < hi {
			hi, hiBy = v, by
		}
	}
	lim, hasLim := c.Resources.Limits[r]
	if hasLim && !lim.IsZero() {
		lower(value(r, lim), "its limit")
	}
	for _, lr := range b.LimitRanges {
		for _, item := range lr.Spec.Limits {
			if item.Type != corev1.LimitTypeContainer {
				continue
			}
			name := "LimitRange " + lr.Name
			if q, ok := item.Min[r]; ok {
				raise(value(r, q), name+" min")
			}
			if q, ok := item.Max[r]; ok {
				lower(value(r, q), name+" max")
			}
			if q, ok := item.MaxLimitRequestRatio[r]; ok && hasLim && q.MilliValue() > 0 {
				// limit/request <= ratio, so request >= limit/ratio.
				raise(int64(math.Ceil(float64(value(r, lim))*1000/float64(q.MilliValue()))), name+" maxLimitRequestRatio")
			}
		}
	}
	if lo > hi {
		return Change{}, fmt.Sprintf("%s: %s (%s) and %s (%s) leave no request", r, loBy, show(r, lo), hiBy, show(r, hi))
	}
	to, by := target, ""
	if to < lo {
		to, by = lo, loBy
	}
	if to > hi {
		to, by = hi, hiBy
	}
	if abs(to-from)*100 < from*minChange {
		if by != "" {
			return Change{}, fmt.Sprintf("%s: held at %s by %s (usage alone would give %s)", r, show(r, from), by, show(r, target))
		}
		return Change{}, fmt.Sprintf("%s: request %s is within a tenth of %s", r, show(r, from), show(r, to))
	}
	return Change{Container: c.Name, Resource: r, From: cur, To: quantity(r, to)}, ""
}

// applyPodBounds drops the changes of a resource whose pod-wide sum would
// leave a LimitRange's Pod min or max.
func (p *PodPlan) applyPodBounds(pod *corev1.Pod, b Bounds) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		sum := int64(0)
		for _, c := range pod.Spec.Containers {
			sum += p.request(c, r)
		}
		for _, lr := range b.LimitRanges {
			for _, item := range lr.Spec.Limits {
				if item.Type != corev1.LimitTypePod {
					continue
				}
				if q, ok := item.Min[r]; ok && sum < value(r, q) {
					p.drop(r, fmt.Sprintf("%s: the pod's requests would fall below LimitRange %s pod min %s", r, lr.Name, q.String()))
				}
				if q, ok := item.Max[r]; ok && sum > value(r, q) {
					p.drop(r, fmt.Sprintf("%s: the pod's requests would exceed LimitRange %s pod max %s", r, lr.Name, q.String()))
				}
			}
		}
	}
}

// request is container c's request for r once the plan is applied.
func (p *PodPlan) request(c corev1.Container, r corev1.ResourceName) int64 {
	for _, ch := range p.Changes {
		if ch.Container == c.Name && ch.Resource == r {
			return value(r, ch.To)
		}
	}
	q := c.Resources.Requests[r]
	return value(r, q)
}

// applyQuota drops the increases of a resource whose sum exceeds the
// quota left.
func (p *PodPlan) applyQuota(b Bounds) {
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		room, limited := b.QuotaRoom[r]
		if !limited {
			continue
		}
		growth := int64(0)
		for _, ch := range p.Changes {
			if ch.Resource == r && ch.To.Cmp(ch.From) > 0 {
				growth += value(r, ch.To) - value(r, ch.From)
			}
		}
		if growth > value(r, room) {
			p.dropIf(func(ch Change) bool { return ch.Resource == r && ch.To.Cmp(ch.From) > 0 },
				fmt.Sprintf("%s: growing by %s exceeds the %s the namespace's quota leaves", r, show(r, growth), show(r, value(r, room))))
		}
	}
}

// keepQoS drops every change when the pod would change QoS class.
func (p *PodPlan) keepQoS(pod *corev1.Pod) {
	if len(p.Changes) == 0 {
		return
	}
	after := pod.Spec.DeepCopy()
	for _, ch := range p.Changes {
		for i := range after.Containers {
			if after.Containers[i].Name == ch.Container {
				after.Containers[i].Resources.Requests[ch.Resource] = ch.To
			}
		}
	}
	if q := QoS(after); q != QoS(&pod.Spec) {
		p.dropIf(func(Change) bool { return true }, fmt.Sprintf("the resize would make the pod %s", q))
	}
}

func (p *PodPlan) drop(r corev1.ResourceName, why string) {
	p.dropIf(func(ch Change) bool { return ch.Resource == r }, why)
}

func (p *PodPlan) dropIf(match func(Change) bool, why string) {
	kept := p.Changes[:0]
	for _, ch := range p.Changes {
		if match(ch) {
			p.hold(ch.Container, why)
			continue
		}
		kept = append(kept, ch)
	}
	p.Changes = kept
}

func show(r corev1.ResourceName, v int64) string {
	q := quantity(r, v)
	return q.String()
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
