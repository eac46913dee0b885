package tenantview

import (
	"slices"
	"sort"
	"strings"

	tenancyv1alpha1 "github.com/bulkhead-dev/bulkhead/api/v1alpha1"
	"github.com/bulkhead-dev/bulkhead/internal/render"
)

// Index maps identities to the tenants that name them. It is immutable once
// built: a change to any Tenant builds a new one.
type Index struct {
	users, groups map[string][]string
	// serviceAccounts maps "namespace/name" (name "*": all of the
	// namespace) to tenants, from subjects and from tenant namespaces.
	serviceAccounts map[string][]string
	// nodePools are the tenants' nodes.selector, by tenant.
	nodePools map[string]map[string]string
	// namespaces are the tenants' namespaces, by tenant.
	namespaces map[string][]string
	// classes are, by tenant and Class kind ("group/resource"), the
	// classes it may use; absent: any.
	classes map[string]map[string][]string
}

// Class is a cluster-scoped kind of class a tenant's objects name.
type Class struct{ Group, Resource string }

// Classes are the kinds of class a tenant sees only those it may use of.
var Classes = []Class{
	{"storage.k8s.io", "storageclasses"},
	{"networking.k8s.io", "ingressclasses"},
	{"scheduling.k8s.io", "priorityclasses"},
	{"node.k8s.io", "runtimeclasses"},
}

// IsClass reports whether group and resource are one of Classes.
func IsClass(group, resource string) bool {
	return slices.Contains(Classes, Class{group, resource})
}

// usable are the classes of each kind spec allows; a kind it does not
// restrict is absent.
func usable(spec tenancyv1alpha1.TenantSpec) map[string][]string {
	out := map[string][]string{}
	set := func(c Class, names []string) {
		if len(names) > 0 {
			out[c.Group+"/"+c.Resource] = names
		}
	}
	policy := func(p *tenancyv1alpha1.ClassPolicy) []string {
		if p == nil || len(p.Allowed) == 0 {
			return nil
		}
		names := slices.Clone(p.Allowed)
		if p.Default != "" && !slices.Contains(names, p.Default) {
			names = append(names, p.Default)
		}
		return names
	}
	set(Classes[0], spec.Storage.Classes)
	set(Classes[1], spec.Ingress.Classes)
	set(Classes[2], policy(spec.Pods.PriorityClasses))
	set(Classes[3], policy(spec.Pods.RuntimeClass))
	return out
}

// Build indexes tenants, whose profiles are completed with s (the Hard
// profile's runtime class is the cluster's sandbox class). Tenants being
// deleted still count until they are gone: their namespaces are too.
func Build(tenants []tenancyv1alpha1.Tenant, s render.Settings) *Index {
	ix := &Index{users: map[string][]string{}, groups: map[string][]string{}, serviceAccounts: map[string][]string{},
		nodePools: map[string]map[string]string{}, namespaces: map[string][]string{}, classes: map[string]map[string][]string{}}
	for i := range tenants {
		t := &tenants[i]
		for _, list := range [][]tenancyv1alpha1.Subject{t.Spec.Owners, t.Spec.Members, t.Spec.Viewers} {
			for _, s := range list {
				switch s.Kind {
				case tenancyv1alpha1.SubjectUser:
					add(ix.users, s.Name, t.Name)
				case tenancyv1alpha1.SubjectGroup:
					add(ix.groups, s.Name, t.Name)
				case tenancyv1alpha1.SubjectServiceAccount:
					add(ix.serviceAccounts, s.Namespace+"/"+s.Name, t.Name)
				}
			}
		}
		for _, ns := range t.Status.Namespaces {
			add(ix.serviceAccounts, ns+"/*", t.Name)
		}
		ix.namespaces[t.Name] = t.Status.Namespaces
		ix.classes[t.Name] = usable(render.Effective(t, s))
		if t.Spec.Nodes != nil && len(t.Spec.Nodes.Selector) > 0 {
			ix.nodePools[t.Name] = t.Spec.Nodes.Selector
		}
	}
	return ix
}

func add(m map[string][]string, key, tenant string) {
	if !slices.Contains(m[key], tenant) {
		m[key] = append(m[key], tenant)
	}
}

// TenantsOf are the tenants that name user, one of groups, or (for a
// service account) it or its namespace, sorted.
func (ix *Index) TenantsOf(user string, groups []string) []string {
	var out []string
	out = append(out, ix.users[user]...)
	for _, g := range groups {
		out = append(out, ix.groups[g]...)
	}
	if rest, ok := strings.CutPrefix(user, "system:serviceaccount:"); ok {
		if ns, name, ok := strings.Cut(rest, ":"); ok && ns != "" && name != "" {
			out = append(out, ix.serviceAccounts[ns+"/"+name]...)
			out = append(out, ix.serviceAccounts[ns+"/*"]...)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// NodePool is tenant's nodes.selector; nil when it has no pool.
func (ix *Index) NodePool(tenant string) map[string]string { return ix.nodePools[tenant] }

// Namespaces are tenant's namespaces, as its status lists them.
func (ix *Index) Namespaces(tenant string) []string { return ix.namespaces[tenant] }

// ClassesOf are the classes of kind group/resource that any of tenants may
// use: any is true when one of them is not restricted; otherwise names.
func (ix *Index) ClassesOf(tenants []string, group, resource string) (names []string, any bool) {
	for _, t := range tenants {
		allowed, restricted := ix.classes[t][group+"/"+resource]
		if !restricted {
			return nil, true
		}
		for _, n := range allowed {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
	}
	slices.Sort(names)
	return names, false
}
