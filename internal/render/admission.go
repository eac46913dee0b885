package render

import (
	nodev1 "k8s.io/api/node/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
)

// This file assembles the per-namespace half of admission: the TenantPolicy
// Bulkhead writes into each tenant namespace, which the shared policies (see
// Policies) read as their params. Each rule family flattens its own part of
// it, next to its rules, in policies_<family>.go.

// PolicyInputs are what a TenantPolicy needs beyond the Tenant: facts of
// the cluster the controller looks up.
type PolicyInputs struct {
	// PriorityValue and PreemptionPolicy are those of the default
	// PriorityClass, if any.
	PriorityValue    int32
	PreemptionPolicy string
	// GlobalDefaultPriorityClass names the cluster's PriorityClass with
	// globalDefault set, if any.
	GlobalDefaultPriorityClass string
	// RuntimeClasses are the RuntimeClasses the tenant's pods may name
	// (the default among them), by name.
	RuntimeClasses map[string]*nodev1.RuntimeClass
	// DeviceExtendedResources are the extended resource names the
	// cluster's DeviceClasses declare, each with the classes declaring it.
	DeviceExtendedResources map[string][]string
	// Protected are the namespaces whose NetworkPolicies exist: only they
	// admit pods.
	Protected map[string]bool
}

// TenantPolicies renders the TenantPolicy of each of t's namespaces: the
// admission parameters the shared policies (see Policies) read.
func TenantPolicies(sc *Scope, in PolicyInputs) []client.Object {
	t, namespaces := sc.Tenant, sc.Namespaces
	spec := TenantPolicySpec(sc, in)
	var out []client.Object
	for _, ns := range sortedCopy(namespaces) {
		p := &tenancyv1alpha1.TenantPolicy{
			ObjectMeta: objectMeta(t, ConcernAdmission, ns, tenancyv1alpha1.TenantPolicyName),
			Spec:       *spec.DeepCopy(),
		}
		p.Spec.Protected = in.Protected[ns]
		out = append(out, p)
	}
	return out
}

// TenantPolicySpec flattens t's effective spec into admission parameters,
// one rule family at a time. Every list and map is non-nil: the policies
// never test for presence.
func TenantPolicySpec(sc *Scope, in PolicyInputs) tenancyv1alpha1.TenantPolicySpec {
	t, spec := sc.Tenant, sc.Spec
	p := tenancyv1alpha1.TenantPolicySpec{Tenant: t.Name, Isolation: spec.Isolation}
	freezeParams(&p, t, &spec)
	podsParams(&p.Pods, &spec, in)
	servicesParams(&p.Network, &spec)
	ingressParams(&p.Network, &spec)
	gatewayParams(&p.Network, &spec)
	networkParams(&p.Network, &spec)
	storageParams(&p.Storage, &spec)
	devicesParams(&p.Devices, &spec, in.DeviceExtendedResources)
	rbacParams(&p.RBAC, sc)
	return p
}

// nonNil is a copy of in that is never nil, so that it is written as [] and
// not left out.
func nonNil(in []string) []string {
	return append([]string{}, in...)
}
