package tenantstatus

import (
	"context"
	"fmt"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// FinalizersManager is the field manager that adds Bulkhead's finalizers.
const FinalizersManager = "bulkhead-finalizers"

// AddFinalizers makes sure t carries own, the calling controller's
// finalizer; when it does not, it adds every finalizer of
// tenancyv1alpha1.Finalizers with it, in one server-side apply, so that
// the controllers that see a new Tenant after the first write nothing.
// Finalizers are a set in server-side apply: Bulkhead's never drop
// another controller's or a user's, as a merge patch of the whole list
// from a stale cache would. A finalizer once removed (by a controller done
// with a deleting Tenant) is never added back: a deleting Tenant is never
// applied to, and the API server refuses new finalizers on it anyway.
func AddFinalizers(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant, own string) error {
	if controllerutil.ContainsFinalizer(t, own) {
		return nil
	}
	all := []any{}
	for _, f := range tenancyv1alpha1.Finalizers {
		all = append(all, f)
	}
	if !slices.Contains(tenancyv1alpha1.Finalizers, own) {
		all = append(all, own)
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenancyv1alpha1.GroupVersion.String(),
		"kind":       "Tenant",
		"metadata":   map[string]any{"name": t.Name, "uid": string(t.UID), "finalizers": all},
	}}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FinalizersManager), client.ForceOwnership); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", own, err)
	}
	return nil
}

// RemoveFinalizer removes finalizer from t, failing on a concurrent change
// rather than overwriting it; the retry reads the fresh list.
func RemoveFinalizer(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant, finalizer string) error {
	if !controllerutil.ContainsFinalizer(t, finalizer) {
		return nil
	}
	patch := client.MergeFromWithOptions(t.DeepCopy(), client.MergeFromWithOptimisticLock{})
	controllerutil.RemoveFinalizer(t, finalizer)
	if err := c.Patch(ctx, t, patch); err != nil {
		return fmt.Errorf("removing finalizer %s: %w", finalizer, err)
	}
	return nil
}
