package concern

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// NamespaceTenantIndex indexes cached namespaces by their tenant label, so
// that finding a tenant's namespaces costs its own namespaces, not a scan of
// every namespace in the cluster on every reconcile.
const NamespaceTenantIndex = "metadata.labels.tenant"

// IndexNamespaces registers NamespaceTenantIndex with the manager's cache.
func IndexNamespaces(ctx context.Context, indexer client.FieldIndexer) error {
	return indexer.IndexField(ctx, &corev1.Namespace{}, NamespaceTenantIndex, func(obj client.Object) []string {
		if t := obj.GetLabels()[tenancyv1alpha1.TenantLabel]; t != "" {
			return []string{t}
		}
		return nil
	})
}
