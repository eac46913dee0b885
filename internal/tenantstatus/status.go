package tenantstatus

import (
	"context"
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Manager is the field manager with which the controller named controller
// writes its part of a Tenant's status: "bulkhead-<controller>". The names
// show in managedFields, and a renamed manager would leave its old fields
// owned by a manager nobody writes as any more.
func Manager(controller string) string { return "bulkhead-" + controller }

// ApplyCondition writes one condition of t's status as manager, which owns
// that condition alone. It writes nothing when t already holds the
// condition with the same status, reason, message and observedGeneration.
func ApplyCondition(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant, manager string, cond metav1.Condition) error {
	status, changed := conditionPatch(t, cond)
	if !changed {
		return nil
	}
	return apply(ctx, c, t.Name, manager, status)
}

// Summary is what the status controller owns of a Tenant's status, besides
// observedGeneration, which is always the Tenant's generation.
type Summary struct {
	// Namespaces are the tenant's live namespaces, sorted.
	Namespaces []string
	// NamespaceMax is the effective namespaces.max.
	NamespaceMax int32
	// Ready is the summary condition.
	Ready metav1.Condition
	// Frozen says whether the tenant is frozen, and by whom; nil leaves
	// it out.
	Frozen *metav1.Condition
}

// ApplySummary writes s, with t's generation as observedGeneration, as
// manager. It writes nothing when t's status already says all of it.
func ApplySummary(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant, manager string, s Summary) error {
	status, changed := summaryPatch(t, s)
	if !changed {
		return nil
	}
	return apply(ctx, c, t.Name, manager, status)
}

// conditionPatch is the status a manager applies to own cond alone, and
// whether it changes what t holds.
func conditionPatch(t *tenancyv1alpha1.Tenant, cond metav1.Condition) (map[string]any, bool) {
	set, changed := settle(t.Status.Conditions, cond)
	return map[string]any{"conditions": []any{conditionFields(set)}}, changed
}

// summaryPatch is the status the status controller applies for s, and
// whether it changes what t holds.
func summaryPatch(t *tenancyv1alpha1.Tenant, s Summary) (map[string]any, bool) {
	ready, readyChanged := settle(t.Status.Conditions, s.Ready)
	conditions := []any{conditionFields(ready)}
	if s.Frozen != nil {
		frozen, frozenChanged := settle(t.Status.Conditions, *s.Frozen)
		readyChanged = readyChanged || frozenChanged
		conditions = append(conditions, conditionFields(frozen))
	}
	unchanged := !readyChanged && t.Status.ObservedGeneration == t.Generation &&
		equality.Semantic.DeepEqual(t.Status.Namespaces, s.Namespaces) &&
		int(t.Status.NamespaceCount) == len(s.Namespaces) && t.Status.NamespaceMax == s.NamespaceMax
	// Always a list, empty included: the status controller owns the field
	// whether or not the tenant has namespaces.
	namespaces := make([]any, 0, len(s.Namespaces))
	for _, n := range s.Namespaces {
		namespaces = append(namespaces, n)
	}
	return map[string]any{
		"observedGeneration": t.Generation,
		"namespaces":         namespaces,
		"namespaceCount":     int64(len(s.Namespaces)),
		"namespaceMax":       int64(s.NamespaceMax),
		"conditions":         conditions,
	}, !unchanged
}

// settle returns cond as it stands once set among conds (its
// lastTransitionTime kept unless its status changes), and whether setting it
// changes anything.
func settle(conds []metav1.Condition, cond metav1.Condition) (metav1.Condition, bool) {
	merged := append([]metav1.Condition(nil), conds...)
	changed := meta.SetStatusCondition(&merged, cond)
	return *meta.FindStatusCondition(merged, cond.Type), changed
}

// conditionFields is the one serialisation of a condition that Bulkhead
// applies: every field, the time in UTC to the second as the API server
// stores it.
func conditionFields(c metav1.Condition) map[string]any {
	return map[string]any{
		"type": c.Type, "status": string(c.Status), "reason": c.Reason, "message": c.Message,
		"observedGeneration": c.ObservedGeneration,
		"lastTransitionTime": c.LastTransitionTime.UTC().Format("2006-01-02T15:04:05Z"),
	}
}

// apply server-side applies the given status fields of Tenant name as manager.
func apply(ctx context.Context, c client.Client, name, manager string, status map[string]any) error {
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenancyv1alpha1.GroupVersion.String(),
		"kind":       "Tenant",
		"metadata":   map[string]any{"name": name},
		"status":     status,
	}}
	if err := c.Status().Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(manager), client.ForceOwnership); err != nil {
		return fmt.Errorf("writing status of tenant %s: %w", name, err)
	}
	return nil
}

// Newborn is how long after its creation a Tenant's first conditions may
// wait to be written until they are settled. A new Tenant's concerns wait
// on each other for a moment (a namespace's bindings wait for its
// TenantPolicy, which waits for its NetworkPolicies); writing each wait,
// then its end, would cost a status write apiece, and every status write
// wakes every controller watching Tenants.
const Newborn = 10 * time.Second

// HoldFirstWrite reports how long to wait before writing cond, a condition
// that only says something is under way (a wait, progress), on t: while t
// is Newborn and holds no condition of that type for its generation yet,
// the time left; otherwise 0, write now. An absent condition already says
// "not yet", and a condition once written is never left stale: only the
// first is held.
func HoldFirstWrite(t *tenancyv1alpha1.Tenant, condType string, now time.Time) time.Duration {
	if c := meta.FindStatusCondition(t.Status.Conditions, condType); c != nil && c.ObservedGeneration == t.Generation {
		return 0
	}
	left := t.CreationTimestamp.Add(Newborn).Sub(now)
	if left <= 0 {
		return 0
	}
	return left
}
