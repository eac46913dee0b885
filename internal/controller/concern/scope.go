package concern

import (
	"context"
	"fmt"
	"sort"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// LoadScope computes the Scope of t: its effective spec and its namespaces,
// read through r.
func LoadScope(ctx context.Context, r client.Reader, t *tenancyv1alpha1.Tenant, s render.Settings) (*render.Scope, error) {
	namespaces, err := TenantNamespaces(ctx, r, t.Name)
	if err != nil {
		return nil, err
	}
	return render.NewScope(t, namespaces, s), nil
}

// TenantNamespaces lists the live namespaces labelled for tenant, sorted,
// through NamespaceTenantIndex. Terminating namespaces are left out: nothing
// can be written into them.
func TenantNamespaces(ctx context.Context, r client.Reader, tenant string) ([]string, error) {
	return tenantNamespaces(ctx, r, tenant, false)
}

// AllTenantNamespaces lists every namespace labelled for tenant, sorted,
// terminating ones included: what they still hold is the tenant's until it
// is gone (an object a finalizer keeps can outlive its namespace's
// deletion for as long as the tenant likes), so whatever counts the
// tenant's objects must count theirs.
func AllTenantNamespaces(ctx context.Context, r client.Reader, tenant string) ([]string, error) {
	return tenantNamespaces(ctx, r, tenant, true)
}

func tenantNamespaces(ctx context.Context, r client.Reader, tenant string, terminating bool) ([]string, error) {
	list := &corev1.NamespaceList{}
	if err := r.List(ctx, list, client.MatchingFields{NamespaceTenantIndex: tenant}); err != nil {
		return nil, fmt.Errorf("listing namespaces of tenant %s: %w", tenant, err)
	}
	var out []string
	for _, ns := range list.Items {
		if terminating || ns.DeletionTimestamp.IsZero() {
			out = append(out, ns.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}
