package render

import tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"

// Scope is one Tenant as Bulkhead renders it: the Tenant, its effective
// spec, its namespaces and the cluster's settings. A reconcile computes it
// once (NewScope) and hands it to every render function of the Tenant, so
// that the profile is applied in one place.
type Scope struct {
	// Tenant as read at the start of the reconcile.
	Tenant *tenancyv1alpha1.Tenant
	// Spec is the Tenant's effective spec: its own, with every field it
	// leaves unset taken from its profile (Effective).
	Spec tenancyv1alpha1.TenantSpec
	// Namespaces are the tenant's live namespaces.
	Namespaces []string
	// Settings are the cluster's settings the Tenant is rendered with.
	Settings Settings
}

// NewScope is the Scope of t in namespaces under s.
func NewScope(t *tenancyv1alpha1.Tenant, namespaces []string, s Settings) *Scope {
	return &Scope{Tenant: t, Spec: Effective(t, s), Namespaces: namespaces, Settings: s}
}
