package tenantquota

import (
	"fmt"
	"sort"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	resourcehelper "k8s.io/component-helpers/resource"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// ReservationTTL is how long a charge waits for its object to be counted.
// Admission of one request completes well within it (the API server times
// requests out after a minute).
const ReservationTTL = 2 * time.Minute

// Kinds of objects that use tenant quota.
const (
	KindPod   = tenancyv1alpha1.QuotaObjectPod
	KindClaim = tenancyv1alpha1.QuotaObjectClaim
)

// Limits are a tenant's spec.quota.tenant.hard.
type Limits = map[corev1.ResourceName]resource.Quantity

// aliases are the quota names that mean another: cpu is requests.cpu (and
// count/pods is pods: see countAliases).
var aliases = map[corev1.ResourceName]corev1.ResourceName{
	corev1.ResourceCPU:    corev1.ResourceRequestsCPU,
	corev1.ResourceMemory: corev1.ResourceRequestsMemory,
}

func canonical(name corev1.ResourceName) corev1.ResourceName {
	if a, ok := aliases[name]; ok {
		return a
	}
	if a, ok := countAliases[name]; ok {
		return a
	}
	return name
}

// podResourcesOptions are the options Kubernetes' own ResourceQuota pod
// evaluator passes at 1.36, so that a pod costs the tenant exactly what it
// costs a namespace's ResourceQuota:
//   - UseStatusResources: InPlacePodVerticalScaling is GA (locked on since
//     1.35), so a pod being resized is charged the larger of what its spec
//     asks and what its status says is allocated or in use;
//   - SkipPodLevelResources false: PodLevelResources is beta and on by
//     default since 1.34, so spec.resources replaces the containers' sum for
//     cpu and memory. Where an admin turns the gate off, the API server drops
//     spec.resources from new pods, so honouring it here costs nothing.
//
// Overhead is included (ExcludeOverhead false), as in the evaluator.
var podResourcesOptions = resourcehelper.PodResourcesOptions{
	UseStatusResources:    true,
	SkipPodLevelResources: false,
}

// podResources are the compute resources tenant quota limits, each charged
// as requests.<name> and limits.<name>.
var podResources = []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory, corev1.ResourceEphemeralStorage}

// PodUsage is what a pod uses of tenant quota: one pod, and for each of cpu,
// memory and ephemeral storage its effective request and limit as the
// scheduler and ResourceQuota compute them (k8s.io/component-helpers): app
// containers and sidecars (init containers that keep running) add up, a
// regular init container counts when it needs more than what runs beside
// it, pod-level spec.resources win over the containers' sum, and the
// RuntimeClass overhead is added. A terminated pod (Succeeded or Failed)
// uses nothing.
func PodUsage(p *corev1.Pod) corev1.ResourceList {
	if p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed {
		return corev1.ResourceList{}
	}
	out := corev1.ResourceList{corev1.ResourcePods: resource.MustParse("1")}
	requests := resourcehelper.PodRequests(p, podResourcesOptions)
	limits := resourcehelper.PodLimits(p, podResourcesOptions)
	for _, r := range podResources {
		if q, ok := requests[r]; ok {
			out[corev1.ResourceName(corev1.DefaultResourceRequestsPrefix+string(r))] = q.DeepCopy()
		}
		if q, ok := limits[r]; ok {
			out[corev1.ResourceName(limitsPrefix+string(r))] = q.DeepCopy()
		}
	}
	return out
}

const limitsPrefix = "limits."

// ClaimUsage is what a PersistentVolumeClaim uses: one claim and its request.
func ClaimUsage(c *corev1.PersistentVolumeClaim) corev1.ResourceList {
	out := corev1.ResourceList{corev1.ResourcePersistentVolumeClaims: resource.MustParse("1")}
	if q, ok := c.Spec.Resources.Requests[corev1.ResourceStorage]; ok {
		out[corev1.ResourceRequestsStorage] = q.DeepCopy()
	}
	return out
}

// Growth is what after uses beyond before: for each resource, the increase,
// if any. Shrinking one resource never pays for growing another.
func Growth(before, after corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range after {
		grow := q.DeepCopy()
		grow.Sub(before[name])
		if grow.Sign() > 0 {
			out[name] = grow
		}
	}
	return out
}

// Relevant keeps of amount only what hard limits.
func Relevant(hard Limits, amount corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name := range hard {
		if q, ok := amount[canonical(name)]; ok {
			out[canonical(name)] = q.DeepCopy()
		}
	}
	return out
}

// Exceeds lists, sorted, the limits of hard that used plus add would pass.
func Exceeds(hard Limits, used, add corev1.ResourceList) []string {
	var out []string
	for name, limit := range hard {
		q, ok := add[canonical(name)]
		if !ok || q.IsZero() {
			continue
		}
		u := used[canonical(name)]
		total := u.DeepCopy()
		total.Add(q)
		if total.Cmp(limit) > 0 {
			out = append(out, fmt.Sprintf("%s: %s used + %s requested > %s", name, u.String(), q.String(), limit.String()))
		}
	}
	sort.Strings(out)
	return out
}

// Add returns a + b, never below zero: a negative quantity in either counts
// as zero. Usage grows only by what objects use, and shrinks only when a
// recount finds objects gone, never because an amount was negative.
func Add(a, b corev1.ResourceList) corev1.ResourceList {
	out := corev1.ResourceList{}
	for name, q := range a {
		if q.Sign() < 0 {
			q = resource.Quantity{Format: q.Format}
		}
		out[name] = q.DeepCopy()
	}
	for name, q := range b {
		if q.Sign() <= 0 {
			if _, ok := out[name]; !ok {
				out[name] = resource.Quantity{Format: q.Format}
			}
			continue
		}
		sum := out[name].DeepCopy()
		sum.Add(q)
		out[name] = sum
	}
	return out
}

// Charge records amount for the object kind namespace/name at now in a
// ledger's account, and returns the new usage and reservations.
// Reservations past ReservationTTL are dropped here too (their amount stays
// in the usage until the next recount), so that the list stays short even
// when recounts are slow to get through.
func Charge(status tenancyv1alpha1.TenantQuotaLedgerStatus, kind tenancyv1alpha1.QuotaObjectKind, namespace, name string, amount corev1.ResourceList, now time.Time) (corev1.ResourceList, []tenancyv1alpha1.QuotaReservation) {
	var res []tenancyv1alpha1.QuotaReservation
	for _, r := range status.Reservations {
		if now.Sub(r.AdmissionTime.Time) <= ReservationTTL {
			res = append(res, r)
		}
	}
	res = append(res, tenancyv1alpha1.QuotaReservation{
		Kind: kind, Namespace: namespace, Name: name, AdmissionTime: metav1.NewTime(now), Amount: amount,
	})
	return Add(status.Usage, amount), res
}

// Counted reports whether usage has been counted for every limit of hard:
// the recount writes each, zero included. Until then nothing is admitted, or
// what the namespaces already hold would be ignored.
func Counted(hard Limits, usage corev1.ResourceList) bool {
	for name := range hard {
		if _, ok := usage[canonical(name)]; !ok {
			return false
		}
	}
	return true
}

// Resized is the name a claim's expansion, or a pod's in-place resize, is
// reserved under: the recount never sees an object by that name, so the
// reservation lasts its full TTL and the growth is counted twice meanwhile,
// never not at all.
func Resized(name string) string { return name + resizeSuffix }

const resizeSuffix = "@resize"

// ObjectKey names an object in Recount's present set.
func ObjectKey(kind tenancyv1alpha1.QuotaObjectKind, namespace, name string) string {
	return string(kind) + " " + namespace + "/" + name
}

// Recount computes a tenant's usage from what its namespaces hold (counted)
// and the reservations still pending: a reservation whose object exists
// (its ObjectKey is in present) is dropped, being counted; one older than
// ReservationTTL is dropped, its object never made. Every limited resource
// appears in the usage, zero if unused.
func Recount(hard Limits, counted corev1.ResourceList, present map[string]bool, reservations []tenancyv1alpha1.QuotaReservation, now time.Time) (corev1.ResourceList, []tenancyv1alpha1.QuotaReservation) {
	usage := Add(nil, Relevant(hard, counted))
	for name := range hard {
		if _, ok := usage[canonical(name)]; !ok {
			usage[canonical(name)] = resource.MustParse("0")
		}
	}
	var keep []tenancyv1alpha1.QuotaReservation
	for _, r := range reservations {
		if present[ObjectKey(r.Kind, r.Namespace, r.Name)] || now.Sub(r.AdmissionTime.Time) > ReservationTTL {
			continue
		}
		keep = append(keep, r)
		usage = Add(usage, Relevant(hard, r.Amount))
	}
	return usage, keep
}

// Object is what one admission request would add to its tenant's quota.
type Object struct {
	// Kind is what the reservation is recorded under: Pod,
	// PersistentVolumeClaim, or the count/ limit that counts the object.
	Kind tenancyv1alpha1.QuotaObjectKind
	// Display is the object's kind as messages name it, Kind when empty.
	Display         string
	Namespace, Name string
	Amount          corev1.ResourceList
	// Negative lists the paths of quantities below zero in the request's
	// objects (NegativeQuantities); such a request is refused.
	Negative []string
}

func (o Object) display() string {
	if o.Display != "" {
		return o.Display
	}
	return string(o.Kind)
}

// Decision is the outcome of charging an Object to a Tenant.
type Decision struct {
	// Allowed, else Message says why not (tenant, rule and fix).
	Allowed bool
	Message string
	// Charge is set when the ledger's status must be written, with the
	// resourceVersion it was read at, for the admission to hold.
	Charge *tenancyv1alpha1.TenantQuotaLedgerStatus
}

// Admit decides whether obj fits t's tenant-wide quota, as accounted in
// ledger (nil when there is none yet), and, if it does and the request is
// real (not a dry run), returns the ledger status that charges it.
func Admit(t *tenancyv1alpha1.Tenant, ledger *tenancyv1alpha1.TenantQuotaLedger, obj Object, dryRun bool, now time.Time) Decision {
	// Checked first, whatever the tenant's limits: the API server never
	// sends such an object, so the request did not come from it.
	negative := append(append([]string(nil), obj.Negative...), prefixed("amount", NegativeNames(obj.Amount))...)
	if len(negative) > 0 {
		return Decision{Message: fmt.Sprintf("tenant %s: %s %s has quantities below zero (%s) [rule quota.tenant]. "+
			"Requests, limits, overhead and sizes are never negative: correct them",
			t.Name, obj.display(), strings.TrimSuffix(obj.Name, resizeSuffix), strings.Join(negative, ", "))}
	}
	if t.Spec.Quota.Tenant == nil || len(t.Spec.Quota.Tenant.Hard) == 0 {
		return Decision{Allowed: true}
	}
	hard := t.Spec.Quota.Tenant.Hard
	add := Relevant(hard, obj.Amount)
	if len(add) == 0 {
		return Decision{Allowed: true}
	}
	if ledger == nil || !Owned(t, ledger) || !Counted(hard, ledger.Status.Usage) {
		return Decision{Message: fmt.Sprintf("tenant %s: the tenant-wide quota has not been counted yet [rule quota.tenant]. Retry in a few seconds", t.Name)}
	}
	// A usage below zero was never counted: it would let through as much
	// again as it is negative. Wait for the recount, which writes the truth.
	if negative := NegativeNames(Relevant(hard, ledger.Status.Usage)); len(negative) > 0 {
		return Decision{Message: fmt.Sprintf("tenant %s: the tenant-wide usage on record is below zero (%s) and is being recounted [rule quota.tenant]. Retry in a few seconds",
			t.Name, strings.Join(negative, ", "))}
	}
	if over := Exceeds(hard, ledger.Status.Usage, add); len(over) > 0 {
		return Decision{Message: fmt.Sprintf("tenant %s: %s %s would exceed the tenant-wide quota (%s) [rule quota.tenant]. "+
			"Free some of the tenant's resources in any of its namespaces, or ask a cluster admin to raise spec.quota.tenant.hard",
			t.Name, obj.display(), strings.TrimSuffix(obj.Name, resizeSuffix), strings.Join(over, "; "))}
	}
	if dryRun {
		return Decision{Allowed: true}
	}
	status := ledger.Status.DeepCopy()
	status.Usage, status.Reservations = Charge(ledger.Status, obj.Kind, obj.Namespace, obj.Name, add, now)
	return Decision{Allowed: true, Charge: status}
}

func prefixed(prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = prefix + "[" + n + "]"
	}
	return out
}
