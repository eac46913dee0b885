package namespace

import (
	"fmt"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Caller is the identity behind an admission request.
type Caller struct {
	User   string
	Groups []string
}

// Decision is the answer to one namespace request.
type Decision struct {
	Allowed bool
	// Message says, when denied, which tenant, which rule and how to fix it.
	Message string
	// Labels and Annotations are set on an admitted new namespace.
	Labels      map[string]string
	Annotations map[string]string
}

func deny(format string, args ...any) Decision {
	return Decision{Message: fmt.Sprintf(format, args...)}
}

// IsOwner reports whether the caller is an owner of t.
func IsOwner(c Caller, t *tenancyv1alpha1.Tenant) bool {
	for _, s := range t.Spec.Owners {
		switch s.Kind {
		case tenancyv1alpha1.SubjectUser:
			if c.User == s.Name {
				return true
			}
		case tenancyv1alpha1.SubjectGroup:
			for _, g := range c.Groups {
				if g == s.Name {
					return true
				}
			}
		case tenancyv1alpha1.SubjectServiceAccount:
			if c.User == "system:serviceaccount:"+s.Namespace+":"+s.Name {
				return true
			}
		}
	}
	return false
}

// DecideCreate decides a new namespace ns created by caller, given every
// Tenant and how many namespaces each already has.
func DecideCreate(ns *corev1.Namespace, caller Caller, tenants []tenancyv1alpha1.Tenant, inUse map[string]int, s render.Settings) Decision {
	var owned []*tenancyv1alpha1.Tenant
	byName := map[string]*tenancyv1alpha1.Tenant{}
	for i := range tenants {
		t := &tenants[i]
		byName[t.Name] = t
		if IsOwner(caller, t) && t.DeletionTimestamp.IsZero() {
			owned = append(owned, t)
		}
	}
	sort.Slice(owned, func(i, j int) bool { return owned[i].Name < owned[j].Name })

	var t *tenancyv1alpha1.Tenant
	switch named := ns.Labels[tenancyv1alpha1.TenantLabel]; {
	case named != "":
		t = byName[named]
		if t == nil || !IsOwner(caller, t) {
			return deny("namespace %q: you are not an owner of tenant %q (label %s); use a tenant you own%s",
				ns.Name, named, tenancyv1alpha1.TenantLabel, ownedHint(owned))
		}
		if !t.DeletionTimestamp.IsZero() {
			return deny("tenant %q is being deleted: it takes no new namespaces", named)
		}
	case len(owned) == 0:
		return deny("namespace %q: you are not an owner of any tenant, so you cannot create namespaces; ask a cluster admin", ns.Name)
	case len(owned) > 1:
		return deny("namespace %q: you own several tenants%s; say which with the label %s=<tenant>",
			ns.Name, ownedHint(owned), tenancyv1alpha1.TenantLabel)
	default:
		t = owned[0]
	}

	spec := render.Effective(t, s)
	if prefix := render.NamespacePrefix(t.Name); *spec.Namespaces.RequirePrefix && !strings.HasPrefix(ns.Name, prefix) {
		return deny("tenant %q: namespace names must start with %q (namespaces.requirePrefix); try %q",
			t.Name, prefix, prefix+ns.Name)
	}
	if max := int(*spec.Namespaces.Max); inUse[t.Name] >= max {
		return deny("tenant %q: namespace limit reached (namespaces.max is %d, %d in use); delete a namespace or ask a cluster admin to raise spec.namespaces.max",
			t.Name, max, inUse[t.Name])
	}
	meta := render.Namespace(t, s)
	return Decision{Allowed: true, Labels: meta.Labels, Annotations: meta.Annotations}
}

// DecideUpdate refuses any change, by anyone the webhook sees (never a cluster
// admin), to what ties a namespace to its tenant: the tenant label, the Pod
// Security labels and the tenant's locked labels and annotations.
func DecideUpdate(old, ns *corev1.Namespace, tenants []tenancyv1alpha1.Tenant, s render.Settings) Decision {
	oldTenant, newTenant := old.Labels[tenancyv1alpha1.TenantLabel], ns.Labels[tenancyv1alpha1.TenantLabel]
	if oldTenant != newTenant {
		switch {
		case oldTenant == "":
			return deny("namespace %q: only a cluster admin can adopt a namespace into tenant %q (label %s)", ns.Name, newTenant, tenancyv1alpha1.TenantLabel)
		default:
			return deny("tenant %q: the label %s on namespace %q is managed by Bulkhead; put it back to %q",
				oldTenant, tenancyv1alpha1.TenantLabel, ns.Name, oldTenant)
		}
	}
	if oldTenant == "" {
		return Decision{Allowed: true}
	}
	var t *tenancyv1alpha1.Tenant
	for i := range tenants {
		if tenants[i].Name == oldTenant {
			t = &tenants[i]
		}
	}
	locked := map[string]bool{}
	lockedAnn := map[string]bool{}
	if t != nil {
		spec := render.Effective(t, s)
		for k := range spec.Namespaces.Labels {
			locked[k] = true
		}
		for k := range spec.Namespaces.Annotations {
			lockedAnn[k] = true
		}
	}
	for _, k := range changedKeys(old.Labels, ns.Labels) {
		if render.IsPodSecurityLabel(k) {
			return deny("tenant %q: Pod Security label %s on namespace %q is set by the tenant's pods.securityLevel; remove your change to it", oldTenant, k, ns.Name)
		}
		if strings.HasPrefix(k, bulkheadLabelPrefix) {
			return deny("tenant %q: label %s on namespace %q is managed by Bulkhead; remove your change to it", oldTenant, k, ns.Name)
		}
		if locked[k] {
			return deny("tenant %q: label %s on namespace %q is locked by the tenant's namespaces.labels; remove your change to it", oldTenant, k, ns.Name)
		}
	}
	for _, k := range changedKeys(old.Annotations, ns.Annotations) {
		if lockedAnn[k] {
			return deny("tenant %q: annotation %s on namespace %q is locked by the tenant's namespaces.annotations; remove your change to it", oldTenant, k, ns.Name)
		}
	}
	return Decision{Allowed: true}
}

// bulkheadLabelPrefix marks labels only Bulkhead sets.
const bulkheadLabelPrefix = "tenancy.bulkhead.dev/"

func changedKeys(a, b map[string]string) []string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func ownedHint(owned []*tenancyv1alpha1.Tenant) string {
	if len(owned) == 0 {
		return ""
	}
	names := make([]string, 0, len(owned))
	for _, t := range owned {
		names = append(names, fmt.Sprintf("%q", t.Name))
	}
	return " (" + strings.Join(names, ", ") + ")"
}
