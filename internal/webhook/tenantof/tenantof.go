// Package tenantof tells the webhooks which tenant a namespace belongs to.
package tenantof

import (
	"context"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// Namespace returns the tenant named by namespace's tenant label: "" for a
// namespace outside any tenant, or one that does not exist.
func Namespace(ctx context.Context, r client.Reader, namespace string) (string, error) {
	ns := &corev1.Namespace{}
	if err := r.Get(ctx, client.ObjectKey{Name: namespace}, ns); err != nil {
		return "", client.IgnoreNotFound(err)
	}
	return ns.Labels[tenancyv1alpha1.TenantLabel], nil
}
