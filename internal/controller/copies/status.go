package copies

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// maxConflicts is how many conflicts the status lists (the API's bound).
const maxConflicts = 32

// HeldByTenant is CopyConflict.HeldBy for an object of the namespace's own.
const HeldByTenant = "tenant"

// Outcome is what one reconcile found and did, for the status.
type Outcome struct {
	Selection Selection
	Plan      Plan
	// InPlace is how many wanted copies are in the cluster as wanted.
	InPlace int
	// Conflicts are names held by objects that are not this
	// TenantResource's copies.
	Conflicts []tenancyv1alpha1.CopyConflict
	// Failures are writes the API server refused, one line each.
	Failures []string
}

// Status is tr's status after a reconcile that ended in o. Ready's reason
// is the first that applies of: a source problem (the first resource's),
// a name conflict, a refused write, no namespace selected; else Copied.
// Its message lists every problem, so that one look says all there is
// to fix.
func Status(tr *tenancyv1alpha1.TenantResource, o Outcome) tenancyv1alpha1.TenantResourceStatus {
	conflicts := slices.Clone(o.Conflicts)
	slices.SortFunc(conflicts, func(a, b tenancyv1alpha1.CopyConflict) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Name, b.Name))
	})
	st := tenancyv1alpha1.TenantResourceStatus{
		Conditions:         slices.Clone(tr.Status.Conditions),
		ObservedGeneration: tr.Generation,
		Tenants:            int32(o.Selection.Tenants),         //nolint:gosec // bounded by the Tenants in the cluster
		Namespaces:         int32(len(o.Selection.Namespaces)), //nolint:gosec // bounded by the namespaces in the cluster
		Copies:             int32(o.InPlace),                   //nolint:gosec // at most 32 resources per namespace
		Conflicts:          conflicts[:min(len(conflicts), maxConflicts)],
	}
	meta.SetStatusCondition(&st.Conditions, Ready(tr.Generation, o, conflicts))
	return st
}

// Ready is the Ready condition for an outcome; conflicts are sorted.
func Ready(generation int64, o Outcome, conflicts []tenancyv1alpha1.CopyConflict) metav1.Condition {
	c := metav1.Condition{Type: tenancyv1alpha1.ConditionReady, ObservedGeneration: generation, Status: metav1.ConditionFalse}
	var lines []string
	for _, p := range o.Plan.Problems {
		lines = append(lines, p.Message)
	}
	if len(conflicts) > 0 {
		lines = append(lines, conflictMessage(conflicts))
	}
	lines = append(lines, o.Failures...)
	switch {
	case len(o.Plan.Problems) > 0:
		c.Reason = o.Plan.Problems[0].Reason
	case len(conflicts) > 0:
		c.Reason = tenancyv1alpha1.ReasonNameConflict
	case len(o.Failures) > 0:
		c.Reason = tenancyv1alpha1.ReasonApplyFailed
	case len(o.Selection.Namespaces) == 0:
		c.Status, c.Reason = metav1.ConditionTrue, tenancyv1alpha1.ReasonNothingSelected
		c.Message = fmt.Sprintf("%d tenants selected, none of their namespaces: nothing to copy", o.Selection.Tenants)
		return c
	default:
		c.Status, c.Reason = metav1.ConditionTrue, tenancyv1alpha1.ReasonCopied
		c.Message = fmt.Sprintf("%d copies in place in %d namespaces", o.InPlace, len(o.Selection.Namespaces))
		return c
	}
	c.Message = strings.Join(lines, "; ")
	// A condition's message is at most 32768 bytes.
	if len(c.Message) > 32000 {
		c.Message = c.Message[:32000] + "..."
	}
	return c
}

// conflictMessage names the first few conflicts and says how to resolve them.
func conflictMessage(conflicts []tenancyv1alpha1.CopyConflict) string {
	const shown = 5
	var names []string
	for _, c := range conflicts[:min(len(conflicts), shown)] {
		holder := "the tenant's own"
		if c.HeldBy != HeldByTenant {
			holder = "a copy for TenantResource " + c.HeldBy
		}
		names = append(names, fmt.Sprintf("%s %s/%s (%s)", c.Kind, c.Namespace, c.Name, holder))
	}
	more := ""
	if len(conflicts) > shown {
		more = fmt.Sprintf(" and %d more", len(conflicts)-shown)
	}
	return fmt.Sprintf("%d names are taken by objects Bulkhead did not copy here, which it leaves alone: %s%s. Rename the resource (spec.resources[].name), or have the object deleted",
		len(conflicts), strings.Join(names, ", "), more)
}
