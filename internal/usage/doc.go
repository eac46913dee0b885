// Package usage turns samples of pods' measured usage (metrics.k8s.io)
// into figures per workload container, a recommended request for each, and
// plans for resizing running pods in place toward it.
//
// Everything here is pure: History keeps the samples, Recommend and Plan
// decide. The leader's sampling loop (internal/controller/usage) feeds
// History, writes TenantUsage and applies the plans through the pods'
// resize subresource.
//
// History keeps, per workload container and resource, two histograms of
// half the window each, with a bucket per value below 128 (CPU under 128m
// is counted to the millicore) and buckets 5% apart above, and the exact
// peak of each half: memory stays bounded however many pods a workload runs or however
// long it lives, the 95th percentile is read to within one bucket (rounded
// up, so a recommendation errs on the generous side), and a sample falls
// out of the window between one half and one whole window after it was
// taken.
//
// A recommendation is the p95 plus the tenant's headroom, never below the
// peak. A resize goes to the recommendation, raised to the peak plus
// headroom where that is higher, and only within the namespace's
// LimitRange (min, max, maxLimitRequestRatio), the container's limit and
// the quota left; it leaves a pod alone when the change is under a tenth,
// when the pod is not Burstable (a Guaranteed pod's requests cannot move
// without its limits, a BestEffort pod has none) or when the result would
// change its QoS class.
package usage
