package main

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Capsule's names, as its chart and its CRDs define them.
const (
	// capsuleTenantLabel is the label Capsule's namespace webhook stamps on
	// a namespace, naming its tenant.
	capsuleTenantLabel = "capsule.clastix.io/tenant"
	// capsuleObjectLabel is the label on every object Capsule's tenant
	// controller creates in a namespace, naming its tenant.
	capsuleObjectLabel = "projectcapsule.dev/tenant"
	// capsuleUsersGroup is the group the chart's CapsuleConfiguration lists
	// as Capsule's users: Capsule ignores anyone outside it.
	capsuleUsersGroup = "projectcapsule.dev"
)

// capsuleTenantKind is Capsule's Tenant at its storage version.
var capsuleTenantKind = schema.GroupVersionKind{Group: "capsule.clastix.io", Version: "v1beta2", Kind: "Tenant"}

// capsuleTuning is how hard Capsule is allowed to work: its chart's
// manager.options.workers (MaxConcurrentReconciles of every controller)
// and clientConnectionQPS and clientConnectionBurst (its client's rate
// limit). The zero value keeps the chart's defaults.
type capsuleTuning struct {
	workers int
	qps     float64
	burst   int
}

// capsuleSystem is Capsule's manager, built from the module
// bench/peers/capsule requires, installed from its own chart and run as a
// process with the chart's arguments.
type capsuleSystem struct {
	name    string
	version string
	tuning  capsuleTuning
	// binary is Capsule's manager, chartRenderer the command that renders
	// its chart, chartDir the chart.
	binary, chartRenderer, chartDir string
	// extraArgs are appended to the manager's flags.
	extraArgs []string
	// hard is what Bulkhead renders for a Hard tenant, which Capsule's
	// Tenants declare.
	hard hardSpecs
}

// hardSpecs are the specs of the objects Bulkhead renders in each
// namespace of a Hard tenant, and the Pod Security labels it stamps on the
// namespace.
type hardSpecs struct {
	quota       corev1.ResourceQuotaSpec
	limits      corev1.LimitRangeSpec
	policies    []networkingv1.NetworkPolicySpec
	podSecurity map[string]string
}

// renderHard renders a sample Hard tenant with Bulkhead's own code and keeps
// the specs: both systems then create objects with the same contents.
func renderHard() (hardSpecs, error) {
	sample := benchTenant{name: "sample", owner: "sample-owner", namespaces: []string{"sample-ns0"}, maxNamespaces: defaultMaxNamespaces}
	sc := render.NewScope(hardTenant(sample), sample.namespaces, render.DefaultSettings())
	var h hardSpecs
	for _, o := range append(render.Quota(sc), render.Network(sc, nil)...) {
		switch o := o.(type) {
		case *corev1.ResourceQuota:
			h.quota = o.Spec
		case *corev1.LimitRange:
			h.limits = o.Spec
		case *networkingv1.NetworkPolicy:
			h.policies = append(h.policies, o.Spec)
		default:
			return hardSpecs{}, fmt.Errorf("unexpected %T in a Hard tenant's namespace", o)
		}
	}
	h.podSecurity = map[string]string{}
	for k, v := range render.Namespace(sc).Labels {
		if render.IsPodSecurityLabel(k) {
			h.podSecurity[k] = v
		}
	}
	return h, nil
}

// Name is capsule or capsule-tuned.
func (c *capsuleSystem) Name() string { return c.name }

// Describe names Capsule's version and tuning.
func (c *capsuleSystem) Describe() string {
	t := "the chart's defaults (workers 1, clientConnectionQPS 20, clientConnectionBurst 30)"
	if c.tuning != (capsuleTuning{}) {
		t = fmt.Sprintf("workers %d, clientConnectionQPS %g, clientConnectionBurst %d", c.tuning.workers, c.tuning.qps, c.tuning.burst)
	}
	if len(c.extraArgs) > 0 {
		t += ", and " + strings.Join(c.extraArgs, " ")
	}
	return fmt.Sprintf("Capsule %s from its chart with %s; leader election off", c.version, t)
}

// Tenant declares t to Capsule with what Bulkhead renders for a Hard
// tenant: one User owner (Capsule's default owner roles, admin and
// capsule-namespace-deleter), the tenant's name required as namespace
// prefix, at most t.maxNamespaces namespaces, Pod Security labels on them,
// and in each a ResourceQuota (scope Namespace: per namespace, as
// Bulkhead's namespace quota), a LimitRange and the two NetworkPolicies.
// resourceQuotas, limitRanges and networkPolicies are deprecated in
// Capsule v0.14 in favour of rules and replications, but still reconciled
// by the Tenant controller; they are the closest equivalent.
func (c *capsuleSystem) Tenant(t benchTenant) (client.Object, error) {
	quota, err := toMap(&c.hard.quota)
	if err != nil {
		return nil, err
	}
	limits, err := toMap(&c.hard.limits)
	if err != nil {
		return nil, err
	}
	policies := make([]any, 0, len(c.hard.policies))
	for i := range c.hard.policies {
		p, err := toMap(&c.hard.policies[i])
		if err != nil {
			return nil, err
		}
		policies = append(policies, p)
	}
	labels := map[string]any{}
	for k, v := range c.hard.podSecurity {
		labels[k] = v
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"metadata": map[string]any{"name": t.name},
		"spec": map[string]any{
			"owners":            []any{map[string]any{"kind": "User", "name": t.owner}},
			"forceTenantPrefix": true,
			"namespaceOptions": map[string]any{
				"quota":              int64(t.maxNamespaces),
				"additionalMetadata": map[string]any{"labels": labels},
			},
			"resourceQuotas":  map[string]any{"scope": "Namespace", "items": []any{quota}},
			"limitRanges":     map[string]any{"items": []any{limits}},
			"networkPolicies": map[string]any{"items": policies},
		},
	}}
	u.SetGroupVersionKind(capsuleTenantKind)
	return u, nil
}

// toMap converts a typed spec to the unstructured form.
func toMap(obj any) (map[string]any, error) {
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("converting %T: %w", obj, err)
	}
	return m, nil
}

// OwnerGroups is the chart's users group, without which Capsule ignores
// the owner.
func (c *capsuleSystem) OwnerGroups() []string { return []string{capsuleUsersGroup} }

// NamespaceLabel is Capsule's tenant label on namespaces.
func (c *capsuleSystem) NamespaceLabel() string { return capsuleTenantLabel }

// OwnerMayCreate reports whether t's owner may create namespaces: Capsule's
// namespace webhook finds an owner's tenants by the owners in the Tenants'
// status, which its controller writes; until then it refuses the owner's
// namespaces.
func (c *capsuleSystem) OwnerMayCreate(ctx context.Context, admin client.Client, t benchTenant) (bool, error) {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(capsuleTenantKind)
	if err := admin.Get(ctx, client.ObjectKey{Name: t.name}, u); err != nil {
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return false, fmt.Errorf("reading Capsule Tenant %s: %w", t.name, err)
	}
	owners, _, err := unstructured.NestedSlice(u.Object, "status", "owners")
	if err != nil {
		return false, fmt.Errorf("reading status.owners of Capsule Tenant %s: %w", t.name, err)
	}
	for _, o := range owners {
		if m, ok := o.(map[string]any); ok && m["kind"] == "User" && m["name"] == t.owner {
			return true, nil
		}
	}
	return false, nil
}

// Expected is what Capsule creates for a tenant: in each namespace the two
// RoleBindings of the owner's default roles (admin and
// capsule-namespace-deleter), the ResourceQuota, the LimitRange and one
// NetworkPolicy per item. Capsule binds its users' group to
// capsule-namespace-provisioner once, at start, not per tenant.
func (c *capsuleSystem) Expected() expectation {
	return expectation{
		label: capsuleObjectLabel,
		perNamespace: map[schema.GroupVersionKind]int{
			roleBindingKind:   2,
			resourceQuotaKind: 1,
			limitRangeKind:    1,
			networkPolicyKind: len(c.hard.policies),
		},
	}
}
