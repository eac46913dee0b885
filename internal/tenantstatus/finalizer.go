package tenantstatus

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/controllerutil"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// AddFinalizer adds finalizer to t with server-side apply, as a field
// manager named after the finalizer. Finalizers are a set in server-side
// apply, so controllers adding theirs at the same moment never drop each
// other's, as a merge patch of the whole list from a stale cache would.
func AddFinalizer(ctx context.Context, c client.Client, t *tenancyv1alpha1.Tenant, finalizer string) error {
	if controllerutil.ContainsFinalizer(t, finalizer) {
		return nil
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": tenancyv1alpha1.GroupVersion.String(),
		"kind":       "Tenant",
		"metadata":   map[string]any{"name": t.Name, "uid": string(t.UID), "finalizers": []any{finalizer}},
	}}
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(finalizer), client.ForceOwnership); err != nil {
		return fmt.Errorf("adding finalizer %s: %w", finalizer, err)
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
